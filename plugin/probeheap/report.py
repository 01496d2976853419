"""probe-heap report FILE: one self-contained HTML page of the heap (summary,
where the writable memory goes, the dominator tree as a zoomable icicle,
the partition tables, the threads; with --against, growth since a
snapshot or a core: by owner and by kind).  Scripts, styles and data are
inline: the page loads nothing and opens from a file:// URL.  d3 (vendored under report/vendor/, ISC
licence) lays out and draws the icicle.

The dominator tree is cut to a bounded size: a node is expanded only when
one of its children keeps at least THRESHOLD of the heap alive, and the
children below the threshold are folded into one "(N smaller)" box (past
the NODES budget "(N more)", past DEPTH levels "(N deeper)"), so the page
stays a few MB for any heap."""

import heapq
import json
import os
import re
import time

import gdb

from . import alloc, options, snapshot, state

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report")

THRESHOLD = 1.0 / 20000     # of the retained total: smaller subtrees are folded
NODES = 6000                # at most this many boxes (objects) in the icicle
DEPTH = 100                 # levels of the tree at most (the page nests them; JSON too)
CHILDREN = 40               # children asked for per object (the rest are folded)
TABLE_ROWS = 5000           # partition rows kept per table (the rest summed in one row)
D3_VERSION = "7.9.2"         # report/vendor/VENDORED.md
LABEL = 80                  # characters of an edge label or preview kept
ROOT_LABEL = 300            # of a path from a root (a frame's names its file)


def _cut(text, n=LABEL):
    text = text or ""
    return text if len(text) <= n else text[:n - 1] + "\u2026"


def _path(chain, start):
    """The references of a backrefs chain after its link start, as a path."""
    out = ""
    for link in chain[start + 1:]:
        e = link["edge"]
        out += e if e.startswith((".", "[", "(")) or not out else " " + e
    return out


def _labels(heap, parent, kids):
    """{address: label of the reference that holds it} for the children of
    parent in the dominator tree: the reference from parent (its referents,
    read once), or the path from parent when it holds the child through
    objects it also dominates; at the top (parent None), the shortest path
    from a root."""
    out = {}
    direct = {}
    if parent is not None and kids:
        for r in heap.referents(parent):
            direct.setdefault(r["address"], r["edge"])
    for c in kids:
        a = c["address"]
        if a in direct:
            out[a] = _cut(direct[a])
            continue
        try:
            b = heap.backrefs(a)
        except Exception:  # an unlabelled box is better than no report
            out[a] = ""
            continue
        chain = b["chains"][0] if b.get("chains") else []
        if parent is None:
            out[a] = _cut(b["paths"][0], ROOT_LABEL) if b.get("paths") else ""
        else:
            at = next((i for i, k in enumerate(chain) if k["address"] == parent), None)
            out[a] = _cut(_path(chain, at)) if at is not None else ""
    return out


def _node(c, label):
    return {"a": "0x%x" % c["address"], "k": c["kind"], "t": c["type"],
            "p": _cut(c["preview"]), "e": label, "f": c["flat"], "r": c["retained"],
            "n": c["retained_count"], "c": []}


def dominator_tree(heap, threshold=THRESHOLD, nodes=NODES, children=CHILDREN):
    """The dominator tree from the roots, largest subtrees expanded first,
    as nested dicts: a address, k kind, t type, p preview, e edge label,
    f flat, r retained, n retained count, s the box's own part (r less its
    children's), c children; a folded box has fold, the number of objects
    it stands for, and why ("smaller", "more", "deeper": see _fold).
    Returns (tree, objects shown)."""
    top = heap.dominators(None, 1, children)
    root = {"a": "", "k": "(roots)", "t": "", "p": "", "e": "everything the roots keep alive",
            "f": 0, "r": top["retained"], "n": top["retained_count"], "c": []}
    cut = max(1, int(top["retained"] * threshold))
    count = 0
    todo = [(-root["r"], 0, root, None, 0)]     # best first: the largest subtree next
    tie = 1
    while todo:
        _, _, node, addr, depth = heapq.heappop(todo)
        over = count >= nodes      # the budget is spent: what is left is folded, big or not
        deep = depth >= DEPTH      # a long chain (a linked list) stops here
        if not over and not deep:
            kids = _children(heap, addr, top["children"] if addr is None else None, children, cut)
            kept = [c for c in kids if c["retained"] >= cut]
            over = len(kept) > nodes - count
            kept = kept[:nodes - count]
            labels = _labels(heap, addr, kept)
            for c in kept:
                child = _node(c, labels[c["address"]])
                node["c"].append(child)
                count += 1
                if c["retained"] - c["flat"] >= cut:
                    heapq.heappush(todo, (-c["retained"], tie, child, c["address"], depth + 1))
                    tie += 1
        _fold(node, "deeper" if deep else "more" if over else "smaller")
    _own(root)
    return root, count


def _children(heap, addr, first, limit, cut):
    """addr's children in the dominator tree, largest first: all those of at
    least cut bytes (asking again for more while the last one is), then
    one or more below it."""
    kids = first if first is not None else heap.dominators(addr, 1, limit)["children"]
    while len(kids) == limit and kids[-1]["retained"] >= cut and limit < 100000:
        limit = min(100000, limit * 4)
        kids = heap.dominators(addr or None, 1, limit)["children"]
    return kids


def _own(node):
    """Sets s, the part of a box its children do not cover, everywhere."""
    stack = [node]
    while stack:
        n = stack.pop()
        n["s"] = max(0, n["r"] - sum(c["r"] for c in n["c"]))
        stack.extend(n["c"])


def _fold(node, why):
    """Adds the "(N smaller)" box for what the kept children leave out:
    why is "smaller" (subtrees under the threshold), "more" (the budget of
    boxes is spent) or "deeper" (the tree is cut at DEPTH levels)."""
    rest = node["r"] - node["f"] - sum(c["r"] for c in node["c"])
    rest_n = node["n"] - (1 if node["a"] else 0) - sum(c["n"] for c in node["c"])
    if rest > 0 and rest_n > 0:
        node["c"].append({"a": "", "k": "(smaller)", "t": "", "p": "", "e": "(%d %s)" % (rest_n, why),
                          "f": 0, "r": rest, "n": rest_n, "c": [], "fold": rest_n, "why": why})


def _rows(part):
    """A partition's rows as [kind, type, count, size, estimate], at most
    TABLE_ROWS, the rest summed in one last row."""
    rows = [[r.kind, r.type, r.count, r.size, bool(r.estimate)] for r in part.rows]
    if len(rows) > TABLE_ROWS:
        rest = rows[TABLE_ROWS:]
        rows = rows[:TABLE_ROWS] + [["(%d more rows)" % len(rest), "", sum(r[2] for r in rest),
                                     sum(r[3] for r in rest), False]]
    return rows


def _memory(heap):
    """Where the writable memory goes, as bar segments [key, bytes, text];
    None when pymalloc's state cannot be read."""
    try:
        a = heap.alloc()
    except Exception:  # alloc is a bonus: the report stands without it
        return None
    mem = alloc.writable_memory()
    if a.get("allocator") == "mimalloc":
        segs = _mimalloc_segments(a)
    else:
        segs = _pymalloc_segments(a)
    if mem:
        segs.append(["other", mem["writable_bytes"] - sum(s[1] for s in segs),
                     "other malloc memory, malloc's free space, thread stacks, libraries' data"])
    return {"total": mem["writable_bytes"] if mem else sum(s[1] for s in segs),
            "source": mem["source"] if mem else None, "segments": segs,
            "where": [[k, n, text] for k, n, text in alloc.where(a, mem)]}


def _mimalloc_segments(a):
    """A free-threaded build: mimalloc's pages in use, told into objects and the rest."""
    o = a["objects"]
    return [
        ["objects", o["in_arenas"]["bytes"] + o["static"]["bytes"],
         "Python objects (in mimalloc blocks, static)"],
        ["allocator", a["mimalloc"]["page_bytes"] - o["in_arenas"]["bytes"],
         "mimalloc's pages in use, less the objects: PyMem blocks (list items, dict and set "
         "tables...), free blocks, page tails"],
    ]


def _pymalloc_segments(a):
    o = a["objects"]
    return [
        ["objects", a["bytes_used"] + o["malloc"]["bytes"] + o["static"]["bytes"],
         "Python objects (in pymalloc blocks, from malloc, static)"],
        ["buffers", o["buffer_bytes"],
         "objects' storage from malloc (list items, dict and set tables; estimate)"],
        ["allocator", a["arena_bytes"] - a["bytes_used"] + a["map_bytes"] + a["arena_objects_bytes"],
         "pymalloc's free space and overhead (free blocks, unused pools, headers, bookkeeping)"],
    ]


def _threads(heap):
    out = []
    for t in heap.threads():
        out.append({"id": "0x%x" % t["thread_id"], "native": t["native_id"] or None,
                    "truncated": bool(t["truncated"]),
                    "frames": [[f["function"], f["file"], f["line"] if f["line"] >= 0 else None]
                               for f in t["frames"]]})
    return out


# A root that is a frame's local or value stack: "<thread 0x7f..: park (app.py:176), local 'x'>"
FRAME_ROOT = re.compile(r"^<thread (0x[0-9a-f]+): (.*) \((.*):(\d+|\?)\),? (local '.*'|value stack \[\d+\]|\.\w+)>")

FRAME_OBJECT = re.compile(r"^<thread (0x[0-9a-f]+): frame of (.*) \((.*):(\d+|\?)\)>$")


def _frame_holdings(tree, threads_):
    """Puts on each thread's frames what their locals keep alive: the
    boxes under the roots whose root is that frame ("h": [[what, address,
    retained, count, kind], ...] beside each frame, by falling retained)."""
    frames = {}
    for t in threads_:
        for f in t["frames"]:
            f_key = (t["id"], f[0], f[1], str(f[2]) if f[2] is not None else "?")
            frames.setdefault(f_key, f)
    def hold(m, what, c):
        f = frames.get((m.group(1), m.group(2), m.group(3), m.group(4)))
        if f is not None:
            if len(f) < 4:
                f.append([])
            f[3].append([what, c["a"], c["r"], c["n"], c["k"]])

    for c in tree["c"]:
        m = FRAME_ROOT.match(c["e"])
        if m:
            hold(m, m.group(5), c)
            continue
        m = FRAME_OBJECT.match(c["e"])      # 3.8-3.10: a frame object holds the locals
        if m:
            for k in c["c"]:
                if not k.get("fold"):
                    hold(m, k["e"][1:-1] if k["e"].startswith("<") else k["e"], k)
    for t in threads_:
        for f in t["frames"]:
            if len(f) > 3:
                f[3].sort(key=lambda h: -h[2])


def _boxes(tree):
    """The addresses of the icicle's boxes."""
    out, stack = set(), [tree]
    while stack:
        n = stack.pop()
        if n["a"]:
            out.add(n["a"])
        stack.extend(n["c"])
    return out


def _owner_growth(api, old, tree):
    """diff --by owner against the snapshot old, for the page: its rows
    (at most TABLE_ROWS) as [path, status, retained, size_delta,
    retained_count, count_delta, same_as, [[kind, size_delta, count_delta]
    x3], address of the path's node now or None], and {address: [path,
    size_delta]} for every retainer path now (changed or not) whose node is
    a box of the icicle, which colours the boxes by their owner's growth.
    None when the snapshot has no owners (written before issue 14)."""
    if "owners" not in old:
        return None
    rows, now = snapshot.owner_growth(old, api)
    where = {p["path"]: "0x%x" % p["address"] for p in now["paths"]}
    delta = {r["path"]: r["size_delta"] for r in rows}
    boxes = _boxes(tree)
    out = [[r["path"], r["status"], r["retained"], r["size_delta"], r["retained_count"],
            r["count_delta"], r["same_as"],
            [[k["kind"], k["size_delta"], k["count_delta"]] for k in r["kinds"][:3]],
            where.get(r["path"]) if r["status"] != "gone" else None] for r in rows[:TABLE_ROWS]]
    return {"min_retained": old["owners"]["min_retained"], "rows": out, "more": max(0, len(rows) - TABLE_ROWS),
            "boxes": {a: [p, delta.get(p, 0)] for p, a in where.items() if a in boxes}}


def _against(path, old, now, api, tree):
    """Growth since the snapshot old (read from path: a snapshot or a core)
    to the partition now: by kind (the rows of diff --json) and by owner
    (those of diff --by owner --json)."""
    rows = snapshot._diff_rows(old["by_kind"], [(r.kind, r.count, r.size) for r in now.rows])
    src = old.get("source") or {}
    return {"file": path, "python": (old.get("python") or {}).get("version"),
            "source": src.get("core") or ("pid %s" % src.get("pid")), "taken": src.get("taken"),
            "count": old["count"], "size": old["size"],
            "rows": [[k, c2, s2, c2 - c1, s2 - s1] for k, c2, s2, c1, s1 in rows],
            "owners": _owner_growth(api, old, tree)}


def _suspects(api):
    """The leak suspects (as 'suspects --json': total, threshold, min,
    suspects), when this probe-heap has them (Heap.suspects); else None."""
    if not hasattr(api, "suspects"):
        return None
    try:
        got = api.suspects()
    except Exception as e:  # the rest of the report still stands: say why there are none
        return {"error": "the suspects could not be found: %s" % options.error_sentence(e),
                "suspects": []}
    if not isinstance(got, dict):
        got = {"suspects": list(got)}
    return json.loads(json.dumps(got, default=str))


def collect(api, against=None):
    """The report's data, from the scripting API's Heap."""
    t0 = time.monotonic()
    # a bad file is said before the long part (a core is walked first, by a second probe-heap)
    old = snapshot.read(against) if against else None
    info = api.info()
    py = info["python"]
    by_kind, by_type = api.partition("kind"), api.partition("type")
    tree, shown = dominator_tree(api)
    threads_ = _threads(api)
    _frame_holdings(tree, threads_)
    data = {
        "title": "probe-heap report",
        "source": snapshot._source(), "executable": gdb.current_progspace().filename,
        "python": {"version": py["version"], "build": "free-threaded" if py["free_threaded"]
                   else "debug" if py["debug"] else "release", "layout": info["layout"]},
        "objects": info["objects"], "bytes": info["bytes"], "threads_count": info["threads"],
        "garbage": [info["garbage_objects"], info["garbage_bytes"]],
        "skipped": info["skipped"], "partial": bool(info["skipped"] or info["gc_collecting"]),
        "count": by_kind.count, "size": by_kind.size,
        "by_kind": _rows(by_kind), "by_type": _rows(by_type),
        "memory": _memory(api),
        "tree": tree, "tree_objects": shown,
        "threshold": max(1, int(tree["r"] * THRESHOLD)), "max_boxes": NODES,
        "max_depth": DEPTH,
        "threads": threads_,
        "suspects": _suspects(api),
        "against": _against(against, old, by_kind, api, tree) if against else None,
    }
    data["seconds"] = round(time.monotonic() - t0 + info["walk_seconds"], 3)
    return data


def _asset(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


def _script_safe(text):
    """JSON safe inside a <script> element: '</' and '<!--' (which only
    strings can hold) escaped, so nothing in the data can close it."""
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def _script(name):
    """A script file, checked to hold nothing that would end its element."""
    text = _asset(name)
    if "</script" in text.lower() or "<!--" in text:
        raise ValueError("%s cannot be inlined: it holds '</script' or '<!--'" % name)
    return text


def render(data):
    """The page: the template with d3, its licence, the styles, the script
    and the data put inline."""
    page = _asset("report.html")
    parts = {
        "/*@CSS@*/": _asset("report.css"),
        "/*@D3_LICENSE@*/": "/* d3 %s, https://d3js.org, its licence:\n\n%s*/" % (
            D3_VERSION, _asset(os.path.join("vendor", "LICENSE.d3")).replace("*/", "* /")),
        "/*@D3@*/": _script(os.path.join("vendor", "d3.min.js")),
        "/*@JS@*/": _script("report.js"),
        "/*@DATA@*/": _script_safe(json.dumps(data, separators=(",", ":"))),
    }
    for k, v in parts.items():
        page = page.replace(k, v, 1)
    return page


def write(api, path, against=None):
    """Writes the report to path; returns (data, bytes written)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        # said before the walk, not after it
        raise options.CommandError("cannot write the report %s: %s" % (
            path, "No such directory" if not os.path.isdir(folder) else "Permission denied"))
    data = collect(api, against)
    page = render(data).encode("utf-8")
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(page)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise options.CommandError("cannot write the report %s: %s" % (path, e.strerror or e))
    return data, len(page)


def cmd_report(argv, as_json):
    """One self-contained HTML page of the heap, to look at in a browser.

    Usage: probe-heap report FILE [--against SNAPSHOT|CORE] [--json]

    The page holds a summary (source, Python, objects, bytes, where the writable
    memory goes), the dominator tree as a zoomable icicle by retained size (a
    click zooms; the search box highlights a kind, type, name or address), the
    partition by kind and by type, and every thread's stack with what its
    frames' locals keep alive.  Subtrees under 1/20000 of the heap are folded
    into "(N smaller)" boxes, and at most 6000 objects get a box, so the page
    stays a few MB.  A Suspects section lists the leak suspects, when this
    probe-heap finds them.  --against a snapshot (probe-heap snapshot), or a
    core of the same program (walked first by a second probe-heap), adds the
    growth by owner and by kind (the rows of diff --by owner and diff) and
    colours the icicle by the growth of each box's owner.  Scripts, styles
    and data are inline: it loads nothing and opens from a file:// URL."""
    opts, rest, as_json = options.parse(argv, set(), {"--against"}, as_json)
    if len(rest) != 1:
        raise options.UsageError("report takes the HTML file to write, e.g. report /tmp/heap.html")
    from . import Heap
    state.heap(quiet=as_json)
    api = Heap()
    data, size = write(api, rest[0], opts.get("--against"))
    nsus = None if data["suspects"] is None else len(data["suspects"]["suspects"])
    a = data["against"]
    # the partition's growth since the snapshot (diff's size_delta)
    grew = data["size"] - a["size"] if a else None
    if as_json:
        return json.dumps({"file": rest[0], "bytes": size, "objects": data["objects"],
                           "size": data["bytes"], "boxes": data["tree_objects"],
                           "suspects": nsus, "seconds": data["seconds"], "size_delta": grew})
    tail = "; %d suspect%s" % (nsus, "" if nsus == 1 else "s") if nsus is not None else ""
    if a:
        tail += "; %+.1f MB since %s" % (grew / 1e6, a["file"])
    return "wrote %s (%.1f MB): %s objects, %.0f MB%s\n" % (
        rest[0], size / 1e6, "{:,}".format(data["objects"]), data["bytes"] / 1e6, tail)

