"""dominators: the dominator tree, largest retained size first."""

import json

from . import commands, objects, state


def cmd_dominators(argv, as_json):
    """The biggest retainers: the dominator tree, largest retained size first.

    Usage: probe-heap dominators [OBJ] [--depth N] [--limit N] [--json]

    Without OBJ, the objects the roots keep alive that nothing else shares;
    with OBJ, those it alone keeps alive.  --depth N shows N levels as a tree,
    --limit N at most N children of each (default 10)."""
    opts, rest, as_json = commands._options(argv, set(), {"--depth", "--limit"}, as_json)
    depth = commands._number(opts, "--depth", 1, 1)
    limit = commands._number(opts, "--limit", commands.PAGE, 1)
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, " ".join(rest)) if rest else 0
    d = h.dominators(addr, depth, limit)
    if as_json:
        d["address"] = addr or None
        return json.dumps(commands._with_partial(d, h.info()))
    what = "0x%x" % addr if addr else "The roots"
    total = d["retained"] or 1
    lines = ["%s keep%s %s, %d bytes alive; what they dominate, largest first:"
             % (what, "s" if addr else "", commands.plural(d["retained_count"], "object"), d["retained"]),
             "  Retained   %  Objects      Flat Kind"]
    for c in d["children"]:
        kind = "  " * (c["depth"] - 1) + c["kind"]
        tail = ("  " + c["preview"]) if c["preview"] else ""
        lines.append("%10d %3.0f %8d %9d %s 0x%x%s" % (c["retained"], c["retained"] * 100.0 / total,
                                                      c["retained_count"], c["flat"], kind,
                                                      c["address"], tail))
    if not d["children"]:
        lines.append("  (it dominates nothing else)")
    return "\n".join(lines) + "\n" + commands._partial(h.info())
