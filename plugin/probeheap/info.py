"""info: what probe-heap found in the target, and how long the walk took."""

import json

from . import options, state


def cmd_info(argv, as_json):
    """What probe-heap found in the target, and how long the walk took.

    Usage: probe-heap info [--skipped] [--json]

    CPython version and build, where the layout came from, interpreters,
    threads, objects and bytes, references skipped as corrupt, cyclic garbage
    awaiting collection, and the walk time.  --skipped lists what was
    skipped (the first 64): the address, the object whose references were
    being followed, and why, so that you can judge the damage."""
    opts, rest, as_json = options.parse(argv, {"--skipped"}, set(), as_json)
    if rest:
        raise options.UsageError("info takes no arguments")
    ft = state.free_threaded_version()
    if ft is not None:
        return _info_free_threaded(ft, as_json)
    h = state.heap(quiet=as_json)
    i = h.info()
    if as_json:
        out = dict(i)
        out["python"] = dict(i["python"], layout=i["layout"])
        out["free_threaded"] = bool(i["python"]["free_threaded"])
        return json.dumps(out)
    py = i["python"]
    build = "free-threaded" if py["free_threaded"] else "debug" if py["debug"] else "release"
    lines = [
        ("Python", "CPython %s, %s build (version from %s)" % (py["version"], build, py["found_by"])),
        ("Layout", "%s (CPython %d.%d)%s" % (i["layout"], py["major"], py["minor"],
                   ", checked against the target's _Py_DebugOffsets" if i["layout_checked"] else "")),
    ]
    lines += [("  from", part) for part in i.get("layout_origin", "").splitlines()]
    lines += [("  probe", "%s: %s (%s)" % (p["name"], p["checked"], p["source"]))
              for p in i.get("probes", ())]
    gc = _gc_line(i)
    lines += [gc] if gc else []
    lines += [
    ] + ([("Allocator", "mimalloc: %d blocks, %d bytes allocated in all heaps (what "
                        "sys.getallocatedblocks() counts)" % (i["mimalloc"]["blocks"],
                                                              i["mimalloc"]["bytes"]))]
         if "mimalloc" in i else []) + [
        ("Interpreters", "%d" % i["interpreters"]),
        ("Threads", "%d" % i["threads"]),
        ("Objects", "%d objects, %d bytes" % (i["objects"], i["bytes"])),
        ("Estimated sizes", "%d objects of extension types sized from their basicsize" %
         i["estimated_objects"]),
        ("Skipped", "%d references skipped as corrupt" % i["skipped"]),
        ("Cyclic garbage", "%d objects, %d bytes awaiting collection" %
         (i["garbage_objects"], i["garbage_bytes"])),
        ("Walk", "%.3f s, %.1f MB read" % (i["walk_seconds"], i["bytes_read"] / 1e6)),
    ]
    if i.get("warning"):
        lines.append(("Warning", i["warning"]))
    if i["gc_collecting"]:
        lines.append(("Warning", "stopped during a garbage collection: the walk may be partial"))
    width = max(len(k) for k, _ in lines) + 2
    text = "".join("%-*s%s\n" % (width, k + ":", v) for k, v in lines)
    if "--skipped" in opts:
        text += _skipped_text(h, i)
    return text


def _gc_line(i):
    """Where the GC's objects were found when the layout's origin lines do
    not say it all: every thread's GC heaps of mimalloc (a free-threaded
    build), or lists probed away from the table's offset; else None."""
    mi = i.get("mimalloc")
    if mi is not None:
        return ("GC objects", "from mimalloc's GC heaps: %d blocks in %d pages of %d threads, "
                "%d abandoned segments of exited threads%s" % (
                    mi["gc_blocks"], mi["pages"], mi["threads"], mi["abandoned_segments"],
                    ", %d damaged pages skipped" % mi["bad_pages"] if mi["bad_pages"] else ""))
    if i["gc_generations_shift"]:
        return ("GC lists", "probed: %+d bytes from the table's offset (this build aligns "
                "PyGC_Head differently)" % i["gc_generations_shift"])
    return None


def _info_free_threaded(py, as_json):
    """info on a free-threaded build: what it is, and that nothing else
    works on it yet (its objects are in mimalloc's heaps, not walked)."""
    why = py.pop("unsupported")
    if as_json:
        return json.dumps({"python": dict(py, layout=None), "free_threaded": True,
                           "supported": False, "error": why})
    lines = [
        ("Python", "CPython %s, free-threaded build (version from %s)" % (py["version"], py["found_by"])),
        ("Supported", "no: " + why),
    ]
    width = max(len(k) for k, _ in lines) + 2
    return "".join("%-*s%s\n" % (width, k + ":", v) for k, v in lines)


def _skipped_text(h, i):
    """The skipped references, one a line: what, where it was met, why."""
    recs = i["skipped_refs"]
    if not recs:
        return "\nNothing was skipped.\n"
    out = ["", "Skipped (the first %d of %d):" % (len(recs), i["skipped"])]
    for r in recs:
        where = "a root or a GC list"
        if r["from"]:
            o = h.object(r["from"])
            where = "%s at 0x%x" % (o["type"] if o else "an object", r["from"])
        out.append("  0x%x  from %s: %s" % (r["address"], where, r["why"]))
    return "\n".join(out) + "\n"
