"""sizeof: flat, deep and retained size of one object."""

import json

from . import objects, options, state, tables


def cmd_sizeof(argv, as_json):
    """Flat, deep and retained size of one object.

    Usage: probe-heap sizeof OBJ [--json]

    OBJ: a hex address, a Python path from a module such as
    __main__:cache._store['key'][3].body, or a gdb expression yielding a PyObject *.
    Flat is sys.getsizeof.  Deep is asizeof's: the object and everything it
    reaches, each once, not entering types, modules, functions, code, frames or
    methods; its objects are listed by kind.  Retained is what would be freed if
    the object went away: the objects it dominates in the graph from the roots."""
    opts, rest, as_json = options.parse(argv, set(), set(), as_json)
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, options.one_obj(rest, "sizeof"))
    s = h.sizes(addr)
    if as_json:
        out = {k: s[k] for k in ("address", "type", "kind", "flat", "deep", "deep_count",
                                  "retained", "retained_count", "reachable", "estimate", "kinds")}
        return json.dumps(options.with_partial(out, h.info()))
    est = " (some sizes estimated)" if s["estimate"] else ""
    lines = ["0x%x %s%s" % (s["address"], s["kind"], ("  " + s["preview"]) if s["preview"] else ""),
             "Flat:     %d bytes (sys.getsizeof)" % s["flat"],
             "Deep:     %d bytes in %s%s (asizeof: types, modules, functions, code, "
             "frames and methods are not entered)" % (s["deep"], options.plural(s["deep_count"], "object"), est)]
    if s["reachable"]:
        lines.append("Retained: %d bytes in %s (what would be freed if it went away)"
                     % (s["retained"], options.plural(s["retained_count"], "object")))
    else:
        lines.append("Retained: not reachable from the roots (cyclic garbage, or held only from C)")
    kinds = [(k["kind"], k["kind"], k["count"], k["size"], False) for k in s["kinds"]]
    table = tables.partition_text(s["deep_count"], s["deep"], kinds, "Kind (class / dict of class)",
                                  0, len(kinds)).splitlines()
    shown = table[:2 + options.PAGE]
    lines += ["", "The deep size by kind:"] + shown
    if len(table) > len(shown):
        lines.append(options.more_footer(len(table) - len(shown), "kind", "--json lists them all"))
    return "\n".join(lines) + "\n" + options.partial_line(h.info())
