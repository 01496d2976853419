"""suspects: Eclipse MAT's leak suspects from the dominator tree: objects
retaining a large share of the heap (with the point where their memory
accumulates and the path from a root), and kinds of many small objects
that together do (with the owners holding them, by retainer path)."""

import json

from . import options, state

DEFAULT_MIN = 10.0          # MAT's rule: 10% of the heap
DEFAULT_LIMIT = 10


def parse_min(text):
    """--min PCT: '5', '5%' or '2.5'; above 0 and at most 100."""
    t = str(text).strip()
    if t.endswith("%"):
        t = t[:-1]
    try:
        v = float(t)
    except ValueError:
        raise options.UsageError("--min takes a percentage of the heap, like 10 or 5%")
    if not 0 < v <= 100:
        raise options.UsageError("--min must be above 0 and at most 100 (a percentage of the heap)")
    return v


def get(h, min=DEFAULT_MIN, limit=0):
    """The suspects of heap h (a _probeheap.Heap): a dict with total (bytes
    of the heap), threshold (bytes), min (percent) and suspects, each a dict
    with what ("object" or "kind"), kind, retained, retained_count, percent,
    held ([{kind, count, size}], what it retains by kind, largest first) and
    for an object: address, preview, path, point (the accumulation point:
    address, kind, preview, retained, retained_count, children, path, flat,
    average: bytes per child); for a kind: objects, all_owners and owners
    ([{path, kind, address, owners, count, size}], largest first)."""
    d = h.suspects(min=float(min), limit=int(limit))
    total = d["total"] or 1
    for s in d["suspects"]:
        s["percent"] = 100.0 * s["retained"] / total
        if s["what"] == "object":
            p = s["point"]
            o = h.object(p["address"])
            p["flat"] = o["flat"] if o else 0
            p["average"] = (p["retained"] - p["flat"]) // p["children"] if p["children"] else 0
    return d


def _held_text(held):
    return ", ".join("%s (%d bytes, %d)" % (x["kind"], x["size"], x["count"]) for x in held)


def _object_text(i, s):
    p = s["point"]
    lines = ["Suspect %d: %d bytes (%.0f%% of the heap) retained by one object:" % (i, s["retained"], s["percent"]),
             "  %s 0x%x%s" % (s["kind"], s["address"], ("  " + s["preview"]) if s["preview"] else ""),
             "  path: %s" % s["path"],
             "  holding %d objects, mostly: %s" % (s["retained_count"], _held_text(s["held"]))]
    if p["address"] == s["address"]:
        where = "the %s itself" % s["kind"]
    else:
        where = "%s 0x%x at %s" % (p["kind"], p["address"], p["path"])
    if not p["children"]:
        lines.append("  accumulation point: %s, one big object (it keeps nothing else alive alone)" % where)
        return lines
    lines.append("  accumulation point: %s: %d children in the dominator tree retaining %d bytes, "
                 "%d bytes each on average" % (where, p["children"], p["retained"] - p["flat"], p["average"]))
    return lines


def _kind_text(i, s):
    lines = ["Suspect %d: %d bytes (%.0f%% of the heap) in %d objects of %s (none over the threshold), "
             "held by %d owners:" % (i, s["retained"], s["percent"], s["objects"], s["kind"], s["all_owners"]),
             "  holding %d objects, mostly: %s" % (s["retained_count"], _held_text(s["held"]))]
    for o in s["owners"]:
        lines.append("  %10d bytes in %6d objects under %s%s" % (
            o["size"], o["count"], o["path"],
            " (%d owners)" % o["owners"] if o["owners"] > 1 else " (%s 0x%x)" % (o["kind"], o["address"])))
    named = sum(o["count"] for o in s["owners"])
    if named < s["objects"]:
        lines.append("  (%d more objects under other owners)" % (s["objects"] - named))
    return lines


def text(d):
    if not d["suspects"]:
        return ("No leak suspect: no object retains %g%% of the heap (%d of %d bytes), and no kind of "
                "small objects held by a few owners does. 'probe-heap suspects --min 5' lowers the "
                "threshold; 'probe-heap dominators' lists the biggest retainers.\n"
                % (d["min"], d["threshold"], d["total"]))
    lines = ["Leak suspects: %d; each retains at least %g%% of the heap (%d of %d bytes)."
             % (len(d["suspects"]), d["min"], d["threshold"], d["total"])]
    for i, s in enumerate(d["suspects"]):
        lines.append("")
        lines += _object_text(i + 1, s) if s["what"] == "object" else _kind_text(i + 1, s)
    return "\n".join(lines) + "\n"


def cmd_suspects(argv, as_json):
    """Leak suspects, as Eclipse MAT finds them, from the dominator tree.

    Usage: probe-heap suspects [--min PCT] [--limit N] [--json]

    Objects retaining at least PCT of the heap (default 10; 5 or 5%), each
    with its path from a root, what it holds by kind and its accumulation
    point (where its memory spreads over many children); and kinds of small
    objects that a few owners hold and that together retain PCT, with the
    owners by retainer path.  --limit N shows the N largest (default 10)."""
    opts, rest, as_json = options.parse(argv, set(), {"--min", "--limit"}, as_json)
    if rest:
        raise options.UsageError("suspects takes no arguments, only --min PCT and --limit N")
    pct = parse_min(opts.get("--min", DEFAULT_MIN))
    limit = options.number(opts, "--limit", DEFAULT_LIMIT, 1)
    h = state.heap(quiet=as_json)
    d = get(h, pct, limit)
    info = h.info()
    if as_json:
        d["python"] = options.python_of(info)
        return json.dumps(options.with_partial(d, info))
    return text(d) + options.partial_line(info)
