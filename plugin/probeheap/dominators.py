"""dominators: the dominator tree, largest retained size first."""

import json
import re

from . import objects, options, state, tables


def _module_of_dict(h, addr):
    """The name of the module whose __dict__ the dict at addr is, or None."""
    for l in h.referrers(addr):
        if l["type"] == "module" and l["edge"] == ".__dict__":
            return l["preview"] or None
    return None


def _edge(h, parent, addr, cache):
    """The label of the reference from parent (0: the roots) to addr, as
    backrefs and referents label it; '' when the dominator does not refer to
    it directly (it dominates through others)."""
    if parent:
        if parent not in cache:
            cache[parent] = {}
            for l in h.referents(parent):
                cache[parent].setdefault(l["address"], l["edge"])
        return cache[parent].get(addr, "")
    for l in h.referrers(addr):
        if l["edge_kind"] == "root":  # the thread's id and the frame's file and line: see threads, backrefs
            return re.sub(r"^thread 0x[0-9a-f]+:", "thread:", re.sub(r" \([^()]*:\d+\)", "", l["edge"]))
    return ""


def annotate(h, addr, children):
    """Adds to each child its edge label from its parent in the tree and, for
    a module's dict, the module's name (module; the text shows the kind as
    'dict of module NAME', the JSON keeps the partition's kind)."""
    parents, cache = {0: addr}, {}
    for c in children:
        parent = parents.get(c["depth"] - 1, 0)
        parents[c["depth"]] = c["address"]
        c["edge"] = _edge(h, parent, c["address"], cache)
    return name_module_dicts(h, children)


def name_module_dicts(h, children):
    """Sets module: a module's dict's module name (None for the others);
    the text shows such a dict as 'dict of module NAME'."""
    for c in children:
        c["module"] = _module_of_dict(h, c["address"]) if c["kind"] == "dict of module" else None
    return children


EDGE_MAX = 44   # the longest edge label shown; a longer one loses its middle


def _row(prefix, c):
    """prefix, the edge from the parent, kind and address, then the preview
    in what is left of 100 columns (a long edge or preview cut in the middle)."""
    kind = "%s 0x%x" % (c["kind"] + (" " + c["module"] if c.get("module") else ""), c["address"])
    edge = c["edge"]
    if edge:
        room = max(12, min(EDGE_MAX, tables.LINE_WIDTH - len(prefix) - len(kind) - 1))
        edge = tables.cut_middle(edge, room) + " "
    row = prefix + edge + kind
    room = tables.LINE_WIDTH - len(row) - 2
    if c["preview"] and room >= 5:
        row += "  " + tables.cut_middle(c["preview"], room)
    return row


def cmd_dominators(argv, as_json):
    """The biggest retainers: the dominator tree, largest retained size first.

    Usage: probe-heap dominators [OBJ] [--depth N] [--limit N] [--human] [--json]

    Without OBJ, the objects the roots keep alive that nothing else shares;
    with OBJ, those it alone keeps alive.  --depth N shows N levels as a tree,
    --limit N at most N children of each (default 10; a line '<N more
    children; ...>' says how many of an object's are not shown).  Each row names the
    reference from its parent ('.attr', "['key']", or a root), when the parent
    refers to it directly, and a module's dict by its module.  --human shows
    sizes in KiB, MiB, GiB."""
    opts, rest, as_json = options.parse(argv, {"--human"}, {"--depth", "--limit"}, as_json)
    depth = options.number(opts, "--depth", 1, 1)
    limit = options.number(opts, "--limit", options.PAGE, 1)
    human = bool(opts.get("--human"))
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, " ".join(rest)) if rest else 0
    d = h.dominators(addr, depth, limit)
    annotate(h, addr, d["children"])
    if as_json:
        d["address"] = addr or None
        return json.dumps(options.with_partial(d, h.info()))
    what = "0x%x" % addr if addr else "The roots"
    total = d["retained"] or 1
    lines = ["%s keep%s %s, %s alive; what they dominate, largest first:"
             % (what, "s" if addr else "", options.plural(d["retained_count"], "object"),
                tables.total_text(d["retained"], human))]
    cells = [[tables.size(c["retained"], human), "%3.0f" % (c["retained"] * 100.0 / total),
              "%d" % c["retained_count"], tables.size(c["flat"], human)] for c in d["children"]]
    minimums = [10, 3, 8, 9]
    ws = tables.widths(cells, minimums)
    lines.append(tables.header(["  Retained", "   %", "  Objects", "      Flat"], minimums, ws) + " Kind")
    pad = " " * (len(tables.row(cells[0], ws)) + 1) if cells else ""
    # the nodes whose children are listed, innermost last: [depth, children, shown]
    open_ = [[0, d["child_count"], 0]]

    def close(to_depth):
        while open_ and open_[-1][0] >= to_depth:
            node_depth, count, shown = open_.pop()
            if count > shown:
                lines.append(pad + "  " * node_depth + options.more_footer(
                    count - shown, "child", "--limit N shows more", nouns="children"))
    for c, cell in zip(d["children"], cells):
        close(c["depth"])
        open_[-1][2] += 1
        lines.append(_row(tables.row(cell, ws) + " " + "  " * (c["depth"] - 1), c))
        if c["depth"] < depth:
            open_.append([c["depth"], c["child_count"], 0])
    close(0)
    if not d["children"]:
        lines.append("  (it dominates nothing else)")
    return "\n".join(lines) + "\n" + options.partial_line(h.info())
