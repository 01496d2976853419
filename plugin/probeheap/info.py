"""info: what probe-heap found in the target, and how long the walk took."""

import json

from . import commands, state


def cmd_info(argv, as_json):
    """What probe-heap found in the target, and how long the walk took.

    Usage: probe-heap info [--json]

    CPython version and build, where the layout came from, interpreters,
    threads, objects and bytes, references skipped as corrupt, cyclic garbage
    awaiting collection, and the walk time."""
    opts, rest, as_json = commands._options(argv, set(), set(), as_json)
    if rest:
        raise commands.UsageError("info takes no arguments")
    h = state.heap(quiet=as_json)
    i = h.info()
    if as_json:
        out = dict(i)
        out["python"] = dict(i["python"], layout=i["layout"])
        return json.dumps(out)
    py = i["python"]
    build = "free-threaded" if py["free_threaded"] else "debug" if py["debug"] else "release"
    lines = [
        ("Python", "CPython %s, %s build (version from %s)" % (py["version"], build, py["found_by"])),
        ("Layout", "%s (CPython %d.%d)%s" % (i["layout"], py["major"], py["minor"],
                   ", checked against the target's _Py_DebugOffsets" if i["layout_checked"] else "")),
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
    if i["gc_collecting"]:
        lines.append(("Warning", "stopped during a garbage collection: the walk may be partial"))
    width = max(len(k) for k, _ in lines) + 2
    return "".join("%-*s%s\n" % (width, k + ":", v) for k, v in lines)
