"""probe-heap alloc: pymalloc's arenas, pools and blocks by size class (on
free-threaded builds mimalloc's segments and pages), the objects outside
them, and how much of the target's writable memory the Python heap
explains."""

import json
import os
import struct

import gdb

# commands imports this module to register the command: take its helpers at
# call time, not at import time.
from . import options, state, tables, target

PAGE = 10

PT_LOAD = 1
PF_W = 2


def _core_writable(path):
    """Writable PT_LOAD segments of a core file: (bytes, segments)."""
    with open(path, "rb") as f:
        eh = f.read(64)
        if len(eh) < 64 or eh[:4] != b"\x7fELF" or eh[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        if phentsize != 56 or phnum == 0:
            return None
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    total = count = 0
    for i in range(len(ph) // phentsize):
        p_type, p_flags, _off, _vaddr, _paddr, _filesz, memsz, _align = \
            struct.unpack_from("<IIQQQQQQ", ph, i * phentsize)
        if p_type == PT_LOAD and p_flags & PF_W:
            total += memsz
            count += 1
    return total, count


def _process_writable(pid):
    """Writable mappings of a live process: (bytes, resident bytes, mappings)."""
    total = rss = count = 0
    writable = False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split(None, 2)
            if "-" in head[0] and len(head) > 1 and len(head[1]) == 4:
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                writable = head[1][1] == "w"
                if writable:
                    total += hi - lo
                    count += 1
            elif writable and head[0] == "Rss:":
                rss += int(head[1]) * 1024
    return total, rss, count


def writable_memory():
    """{"source", "writable_bytes", "resident_bytes", "segments"} of the
    selected core or process, or None when neither can be read (a remote
    target)."""
    core = target.core_file()
    try:
        if core:
            got = _core_writable(core)
            if got:
                return {"source": "core", "writable_bytes": got[0], "resident_bytes": None,
                        "segments": got[1]}
            return None
        pid = gdb.selected_inferior().pid
        if pid > 0 and os.path.exists("/proc/%d/smaps" % pid):
            total, rss, n = _process_writable(pid)
            return {"source": "process", "writable_bytes": total, "resident_bytes": rss,
                    "segments": n}
    except (OSError, ValueError, IndexError, struct.error):
        return None
    return None


def where(a, mem):
    """The writable memory, explained piece by piece: [(key, bytes, what)]."""
    o = a["objects"]
    if a.get("allocator") == "mimalloc":
        rows = [
            ("pages", a["mimalloc"]["page_bytes"],
             "mimalloc pages in use (%d bytes of it in allocated blocks)" % a["bytes_used"]),
            ("static_objects", o["static"]["bytes"], "static objects (builtin types and the like)"),
        ]
    else:
        rows = _pymalloc_where(a)
    if mem:
        explained = sum(r[1] for r in rows)
        rows.append(("not_explained", mem["writable_bytes"] - explained,
                     "not explained: the interpreter's and extensions' own malloc memory, "
                     "malloc's free space, thread stacks, libraries' data" +
                     (", mimalloc's reserved but unused segment space"
                      if a.get("allocator") == "mimalloc" else "")))
    return rows


def _pymalloc_where(a):
    o = a["objects"]
    return [
        ("arenas", a["arena_bytes"], "pymalloc arenas (%d bytes of it in allocated blocks)"
         % a["bytes_used"]),
        ("malloc_objects", o["malloc"]["bytes"],
         "objects from malloc (over %d bytes)" % a["small_request_threshold"] if a["arenas"]
         else "objects from malloc"),
        ("malloc_buffers", o["buffer_bytes"],
         "storage of objects in blocks that is too big for pymalloc (list items, dict and "
         "set tables; estimate)"),
        ("static_objects", o["static"]["bytes"], "static objects (builtin types and the like)"),
        ("bookkeeping", a["map_bytes"] + a["arena_objects_bytes"],
         "pymalloc's bookkeeping (arena objects, arena map)"),
    ]


def _frag(c):
    total = c["bytes_used"] + c["bytes_free"]
    return "%5.0f%%" % (c["bytes_free"] * 100.0 / total) if total else "     -"


def _pct(n, total):
    return "%3.0f" % (n * 100.0 / total) if total else "  -"


HEAPS = (("mem", "PyMem_Malloc"), ("object", "objects"), ("gc", "GC objects"),
         ("gc_pre", "GC objects with a pre-header"))


def _classes(a, as_human, unit):
    """The size classes' table: pools (pymalloc) or pages (mimalloc) by block size."""
    tot = {unit: 0, "blocks_used": 0, "blocks_free": 0, "bytes_used": 0, "bytes_free": 0,
           "objects": 0}
    cells = []
    for c in a["classes"]:
        if not c[unit] and not c["objects"]:
            continue
        for k in tot:
            tot[k] += c[k]
        cells.append(["%d" % c["size"], "%d" % c[unit], "%d" % c["blocks_used"], "%d" % c["blocks_free"],
                      tables.size(c["bytes_used"], as_human), tables.size(c["bytes_free"], as_human),
                      _frag(c), "%d" % c["objects"]])
    cells.append(["Total", "%d" % tot[unit], "%d" % tot["blocks_used"], "%d" % tot["blocks_free"],
                  tables.size(tot["bytes_used"], as_human), tables.size(tot["bytes_free"], as_human),
                  _frag(tot), "%d" % tot["objects"]])
    minimums = [5, 6, 11, 11, 12, 12, 6, 8]
    ws = tables.widths(cells, minimums)
    lines = [tables.header([" Size", "  " + unit.capitalize(), " Blocks used", " Blocks free",
                            "   Bytes used", "   Bytes free", "  Frag", "  Objects"], minimums, ws)]
    return lines + [tables.row(c, ws) for c in cells]


def _where_lines(a, mem, as_human):
    lines = []
    if mem:
        what = "the core file" if mem["source"] == "core" else "the process"
        extra = (", %d resident" % mem["resident_bytes"]) if mem["resident_bytes"] else ""
        lines.append("Where the writable memory goes (%s: %d bytes writable in %d mappings%s):"
                     % (what, mem["writable_bytes"], mem["segments"], extra))
        total = mem["writable_bytes"]
    else:
        lines.append("What the Python heap holds (the target's mappings cannot be read):")
        total = 0
    rows = where(a, mem)
    width = max([14] + [len(tables.size(n, as_human)) for _key, n, _text in rows])
    for _key, n, text in rows:
        lines.append("%*s %s%% %s" % (width, tables.size(n, as_human), _pct(n, total), text))
    return lines


def _text_mimalloc(a, mem, info, as_human=False):
    """A free-threaded build: mimalloc's segments and pages, by block size."""
    m = a["mimalloc"]
    lines = ["mimalloc (free-threaded build): %d segments of %d bytes (%d abandoned by exited "
             "threads), %d pages in use, in the heaps of %d threads (%.3f s)"
             % (m["segments"], m["segment_size"], m["abandoned_segments"], m["pages"],
                m["threads"], a["seconds"])]
    lines += _classes(a, as_human, "pages")
    lines.append("")
    lines.append("Pages: %d bytes = %d in allocated blocks + %d in free blocks + %d tails"
                 % (m["page_bytes"], a["bytes_used"], a["bytes_free"],
                    m["page_bytes"] - a["bytes_used"] - a["bytes_free"]))
    lines.append("Heaps: " + ", ".join("%s %d blocks (%d bytes)" % (
        what, m["heaps"][k]["count"], m["heaps"][k]["bytes"]) for k, what in HEAPS))
    lines.append("Allocated blocks: %d, as sys.getallocatedblocks() counts them (the pages' own "
                 "count: %d)" % (a["blocks_used"], m["used_blocks"]))
    o = a["objects"]
    lines.append("Objects: %d in mimalloc blocks (%d bytes), %d static (%d bytes)" % (
        o["in_arenas"]["count"], o["in_arenas"]["bytes"], o["static"]["count"],
        o["static"]["bytes"]))
    if o["stray"]["count"]:
        lines.append("         %d outside mimalloc's pages and not static (%d bytes)"
                     % (o["stray"]["count"], o["stray"]["bytes"]))
    lines.append("")
    lines += _where_lines(a, mem, as_human)
    notes = []
    if m["bad_pages"]:
        notes.append("%d pages skipped as damaged" % m["bad_pages"])
    if info["skipped"]:
        notes.append("%s skipped as corrupt by the walk" % options.plural(info["skipped"], "object"))
    if notes:
        lines.append("(partial: %s)" % "; ".join(notes))
    return "\n".join(lines) + "\n"


def _text(a, mem, info, as_human=False):
    if a.get("allocator") == "mimalloc":
        return _text_mimalloc(a, mem, info, as_human)
    lines = []
    if a["found_by"] == "none":
        lines.append("pymalloc's state was not found (PYTHONMALLOC=malloc, or damaged memory): "
                     "every object is counted outside the arenas.")
    lines.append("pymalloc: %d arenas of %d bytes, pools of %d bytes (state found by %s, %.3f s)"
                 % (a["arenas"], a["arena_size"], a["pool_size"], a["found_by"], a["seconds"]))
    lines += _classes(a, as_human, "pools")
    lines.append("")
    lines.append("Arenas: %d bytes = %d in allocated blocks + %d free in pools in use + %d in "
                 "%d unused pools + %d pool headers + %d quantization + %d alignment" % (
                     a["arena_bytes"], a["bytes_used"], a["bytes_free"], a["unused_pool_bytes"],
                     a["pools_unused"], a["pool_header_bytes"], a["quantization_bytes"],
                     a["alignment_bytes"]))
    if a["raw_allocated_blocks"] is not None:
        lines.append("Object blocks from malloc (PyObject_Malloc over %d bytes): %d; with the "
                     "pymalloc blocks, sys.getallocatedblocks() = %d" % (
                         a["small_request_threshold"], a["raw_allocated_blocks"],
                         a["raw_allocated_blocks"] + a["blocks_used"]))
    o = a["objects"]
    lines.append("Objects: %d in pymalloc blocks (%d bytes), %d from malloc (%d bytes), "
                 "%d static (%d bytes)" % (
                     o["in_arenas"]["count"], o["in_arenas"]["bytes"], o["malloc"]["count"],
                     o["malloc"]["bytes"], o["static"]["count"], o["static"]["bytes"]))
    if o["stray"]["count"]:
        lines.append("         %d in an arena but not in an allocated block (%d bytes)"
                     % (o["stray"]["count"], o["stray"]["bytes"]))
    if a["malloc_types"]:
        lines.append("")
        lines.append("Objects from malloc by type:")
        lines.append("   Count       Size Type")
        # like heapy, one row more rather than "<1 more>"
        shown = a["malloc_types"] if len(a["malloc_types"]) <= PAGE + 1 else a["malloc_types"][:PAGE]
        for t in shown:
            lines.append("%8d %10d %s" % (t["count"], t["size"], t["type"]))
        if len(a["malloc_types"]) > len(shown):
            lines.append(options.more_footer(len(a["malloc_types"]) - len(shown), "type",
                                              "--json lists them all"))
    lines.append("")
    lines += _where_lines(a, mem, as_human)
    notes = []
    if a["corrupt_pools"] or a["corrupt_arenas"]:
        notes.append("%d pools and %d arenas skipped as corrupt"
                     % (a["corrupt_pools"], a["corrupt_arenas"]))
    if info["skipped"]:
        notes.append("%s skipped as corrupt by the walk" % options.plural(info["skipped"], "object"))
    if notes:
        lines.append("(partial: %s)" % "; ".join(notes))
    return "\n".join(lines) + "\n"


def cmd_alloc(argv, as_json):
    """pymalloc's footprint: arenas, pools and blocks by size class, and where the memory goes.

    Usage: probe-heap alloc [--human] [--json]

    Every arena, pool and block of pymalloc (256 KiB arenas and 4 KiB pools
    before 3.10, 1 MiB and 16 KiB since), allocated blocks told from free ones,
    by size class: the numbers of sys._debugmallocstats().  Then the objects
    too big for pymalloc (from malloc) by type, and how much of the writable
    memory of the core or process the Python heap explains.  On 3.8-3.11 without
    symbols the arenas are found by searching from known objects' pools.
    On a free-threaded build it shows mimalloc instead: segments, and pages
    by block size, of every thread's heaps and of exited threads' segments.
    --human shows sizes in KiB, MiB, GiB."""
    opts, rest, as_json = options.parse(argv, {"--human"}, set(), as_json)
    if rest:
        raise options.UsageError("alloc takes no arguments")
    h = state.heap(quiet=as_json)
    a = h.alloc()
    info = h.info()
    mem = writable_memory()
    if as_json:
        doc = dict(a)
        doc["python"] = options.python_of(info)
        doc["memory"] = mem
        doc["where"] = [{"what": k, "bytes": n} for k, n, _ in where(a, mem)]
        doc["skipped"] = info["skipped"]
        doc["partial"] = bool(info["skipped"] or a["corrupt_pools"] or a["corrupt_arenas"]
                              or a["found_by"] == "none"
                              or a.get("mimalloc", {}).get("bad_pages"))
        return json.dumps(doc)
    return _text(a, mem, info, bool(opts.get("--human")))
