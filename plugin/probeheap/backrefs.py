"""Why is it alive: backrefs (shortest chains from a root), referrers,
referents and objects, as text, JSON and graphviz."""

import json
import os
import re
import shutil
import subprocess
import tempfile

from . import graphs, objects, options, state, tables

LIST_LIMIT = 100            # referrers/referents rows shown by default
IDENT = re.compile(r"^\['([A-Za-z_][A-Za-z0-9_]*)'\]$")

# What a chain's path starts with, by root.
PATH_PREFIX = {"sys.modules": "sys.modules", "sys": "sys.__dict__", "builtins": "builtins.__dict__"}


def _merged(chain):
    """The chain's rows as shown: a hop into an object's __dict__ and the key
    looked up there become one attribute row (.name)."""
    rows = []
    i = 0
    while i < len(chain):
        link = dict(chain[i])
        nxt = chain[i + 1] if i + 1 < len(chain) else None
        m = nxt and link["edge"] == ".__dict__" and nxt["edge_kind"] == "key" and IDENT.match(nxt["edge"])
        if m:
            link = dict(nxt, edge="." + m.group(1))
            i += 1
        rows.append(link)
        i += 1
    return rows


def path_of(chain):
    """A Python-like expression for the chain: evaluable (with sys imported)
    when it starts at sys.modules, sys or builtins and every step is an
    attribute, index or key."""
    first = chain[0]
    prefix = PATH_PREFIX.get(first.get("root"))
    path = prefix if prefix else "<%s>" % first["edge"]
    for link in chain[1:]:
        edge = link["edge"]
        m = IDENT.match(edge) if link["edge_kind"] == "key" else None
        if m and path.endswith(".__dict__"):
            path = path[:-len(".__dict__")] + "." + m.group(1)
        elif edge.startswith((".", "[", "(")):
            path += edge
        else:
            path += " " + edge + " "
    if path.startswith("sys.__dict__"):
        path = "sys" + path[len("sys.__dict__"):] if path != "sys.__dict__" else path
    return path.strip()


WIDTH = 100                 # a row's budget, as heapy's tables
EDGE_MAX, KIND_MAX = 28, 24  # the widest the edge and kind columns grow


def _link_rows(links):
    """One row per link: edge label, kind, address, size, preview, flags, in
    columns as wide as the links need (edge at most 28, kind 24), each row at
    most 100 columns: the preview, then a long edge, then a long kind are cut
    in the middle with '...' to fit."""
    # the widest that fits the cap: a longer edge or kind overflows its own row only
    ew = max([0] + [len(l["edge"]) for l in links if len(l["edge"]) <= EDGE_MAX])
    kw = max([0] + [len(l["kind"]) for l in links if len(l["kind"]) <= KIND_MAX])
    return [_link_row(l, ew, kw) for l in links]


def _link_row(link, ew=EDGE_MAX, kw=KIND_MAX):
    flags = " (guessed by a scan)" if link["conservative"] else ""
    flags += " (weak)" if link["weak"] else ""
    edge, kind = link["edge"], link["kind"]
    tail = " 0x%x %7d B" % (link["address"], link["size"])

    def fixed():
        return "  %-*s %-*s%s" % (ew, edge, kw, kind, tail)

    over = len(fixed()) + len(flags) - WIDTH
    if over > 0 and len(edge) > ew:
        edge = tables.cut_middle(edge, max(ew, len(edge) - over))
        over = len(fixed()) + len(flags) - WIDTH
    if over > 0 and len(edge) > 5:
        edge = tables.cut_middle(edge, max(5, len(edge) - over))
        over = len(fixed()) + len(flags) - WIDTH
    if over > 0 and len(kind) > kw:
        kind = tables.cut_middle(kind, max(kw, len(kind) - over))
    row = fixed()
    room = WIDTH - len(row) - len(flags) - 2
    preview = link["preview"]
    if preview and room >= 5:
        row += "  " + tables.cut_middle(preview, room)
    return (row + flags).rstrip()


def _target_text(t):
    preview = (", " + t["preview"]) if t["preview"] else ""
    return "0x%x (%s%s)" % (t["address"], t["kind"], preview)


def _chain_text(chain):
    """The root, then a row per reference; a module found in sys.modules is
    the root itself ("root: module app.events")."""
    first = chain[0]
    if first.get("root") == "sys.modules" and len(chain) > 1 and chain[1]["type"] == "module":
        root = "module %s" % (chain[1]["preview"] or chain[1]["edge"])
        chain = chain[1:]
    else:
        root = first["edge"]
    rows = _merged(chain)
    return [tables.cut_middle("root: %s" % root, WIDTH)] + _link_rows([dict(rows[0], edge="")] + rows[1:])


def _unreachable_text(b):
    t = b["target"]
    if b.get("unwalked"):
        why = ("no root and no GC list leads to it: only objects the walk does not see either "
               "or C code hold it; 'probe-heap leaks' sorts such objects")
    elif b["garbage"]:
        why = "it is cyclic garbage awaiting collection (the next gc.collect() frees it)"
    else:
        why = "nothing reaches it through strong references"
    lines = ["%s is not reachable from any root: %s." % (_target_text(t), why)]
    if b["held_weakly"]:
        lines.append("It is held only weakly: weak references do not keep it alive.")
    if b["referrers"]:
        lines.append("Its referrers:")
        lines += _link_rows(b["referrers"])
    elif not b.get("unwalked"):
        lines.append("Nothing in the heap refers to it.")
    return lines


def to_dot(b):
    """objgraph's look: a box per object with type, preview and size,
    labelled edges, the target highlighted, each root as an ellipse."""
    out = ["digraph ObjectGraph {", "  node[shape=box, style=filled, fillcolor=white, fontsize=10];",
           "  edge[fontsize=9];"]
    seen, edges = set(), set()
    target = b["target"]["address"]

    def node(link):
        name = "o%x" % link["address"]
        if name not in seen:
            seen.add(name)
            text = link["kind"]
            if link["preview"]:
                text += "\n" + link["preview"][:64]
            text += "\n%d bytes" % link["size"]
            color = ', fillcolor="#ff9999", penwidth=2' if link["address"] == target else ""
            out.append("  %s [label=%s%s];" % (name, graphs.dot_quote(text), color))
        return name

    def edge(a, b_, label, style=""):
        key = (a, b_, label)
        if key not in edges:
            edges.add(key)
            out.append("  %s -> %s [label=%s%s];" % (a, b_, graphs.dot_quote(label), style))

    roots = set()
    for chain in b["chains"]:
        root = "r%x" % chain[0]["address"]
        if root not in roots:
            roots.add(root)
            out.append("  %s [label=%s, shape=ellipse, fillcolor=\"#ccccff\"];"
                       % (root, graphs.dot_quote("root: " + chain[0]["edge"])))
        prev = node(chain[0])
        edge(root, prev, "")
        for link in chain[1:]:
            cur = node(link)
            edge(prev, cur, link["edge"], ", style=dashed" if link["weak"] or link["conservative"] else "")
            prev = cur
    if not b["chains"]:
        tnode = node(b["target"])
        for r in b["referrers"]:
            edge(node(r), tnode, r["edge"], ", style=dashed" if r["weak"] else "")
    out.append("}")
    return "\n".join(out) + "\n"


def _write_graph(b, opts, dot=None):
    """--dot FILE, --svg FILE, --png FILE; returns the lines saying what was written."""
    said = []
    dot = dot if dot is not None else to_dot(b)
    if opts.get("--dot"):
        try:
            with open(opts["--dot"], "w") as f:
                f.write(dot)
        except OSError as e:
            raise options.CommandError("cannot write %s: %s" % (opts["--dot"], e.strerror or e))
        said.append("graph written to %s" % opts["--dot"])
    for fmt in ("svg", "png"):
        path = opts.get("--" + fmt)
        if not path:
            continue
        exe = shutil.which("dot")
        if not exe:
            raise options.CommandError("--%s needs graphviz's dot, which is not installed "
                                      "(apt-get install graphviz); --dot FILE writes the graph for it" % fmt)
        with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as f:
            f.write(dot)
        try:
            r = subprocess.run([exe, "-T" + fmt, "-o", path, f.name], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
        finally:
            os.unlink(f.name)
        if r.returncode != 0:
            why = (r.stderr.strip().splitlines() or ["it failed"])[-1]
            raise options.CommandError("graphviz's dot could not write %s: %s" % (path, why))
        said.append("graph written to %s" % path)
    return said


def cmd_backrefs(argv, as_json):
    """Why is it alive: a shortest chain of references from a root to OBJ.

    Usage: probe-heap backrefs OBJ [--all N] [--graph [--depth N]] [--dot FILE] [--svg FILE] [--png FILE] [--json]

    Roots are the modules (sys.modules), sys, builtins, each thread's frames and
    their locals, the dicts of builtin types, the permanent generation, and
    objects held from outside Python (a refcount the heap does not explain).
    Each row is one reference: its label (.attr, ['key'], [3], ->+0x38 for a
    pointer found by scanning a C object), the kind and address it leads to.
    The last line is a Python-like path.  --all N shows up to N chains through
    distinct referrers.  Weak references are not followed: an object held only
    weakly, or cyclic garbage, is reported unreachable with its referrers.
    --dot writes the chains for graphviz; --svg and --png run graphviz's dot.
    --graph draws objgraph's show_backrefs instead: every referrer, and
    theirs, --depth N levels up (default 3), at most 10 per object."""
    opts, rest, as_json = options.parse(argv, {"--graph"}, {"--all", "--dot", "--svg", "--png", "--depth"},
                                            as_json)
    n = options.number(opts, "--all", 1, 1, "a number of chains")
    if opts.get("--depth") and not opts.get("--graph"):
        raise options.UsageError("--depth is for --graph: backrefs OBJ --graph --depth N --svg FILE")
    if opts.get("--graph"):
        return _graph_cmd(opts, rest, as_json, "backrefs", True)
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, options.one_obj(rest, "backrefs"))
    b = h.backrefs(addr, all=n)
    b["paths"] = [path_of(c) for c in b["chains"]]
    said = _write_graph(b, opts)
    info = h.info()
    if as_json:
        b["python"] = options.python_of(info)
        return json.dumps(options.with_partial(b, info))
    if not b["reachable"]:
        lines = _unreachable_text(b)
    else:
        lines = []
        for i, chain in enumerate(b["chains"]):
            if len(b["chains"]) > 1:
                lines.append("%sChain %d of %d:" % ("\n" if i else "", i + 1, len(b["chains"])))
            lines += _chain_text(chain)
            lines.append("path: %s" % b["paths"][i])
        if b["held_weakly"]:
            lines.append("(weak references point at it too)")
        if n > 1 and len(b["chains"]) < n:
            lines.append("(%d chain%s through distinct referrers: there are no more)"
                         % (len(b["chains"]), "" if len(b["chains"]) == 1 else "s"))
    lines += said
    return "\n".join(lines) + "\n" + options.partial_line(info)


def _graph_cmd(opts, rest, as_json, what, backwards):
    """objgraph's show_backrefs (backwards) or show_refs, --depth N levels,
    written to --dot/--svg/--png."""
    if not any(opts.get(o) for o in ("--dot", "--svg", "--png")):
        raise options.UsageError("%s draws a graph into a file: add --dot FILE, --svg FILE or --png FILE"
                                  % ("--graph" if what == "backrefs" else "--depth"))
    depth = options.number(opts, "--depth", 3, 1, "a number of levels")
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, options.one_obj(rest, what))
    dot, nodes, edges = graphs.to_dot(h, addr, depth, backwards)
    said = _write_graph(None, opts, dot)
    if as_json:
        info = h.info()
        return json.dumps(options.with_partial({"python": options.python_of(info), "address": addr,
                                                  "depth": depth, "nodes": nodes, "edges": edges,
                                                  "written": [opts[o] for o in ("--dot", "--svg", "--png")
                                                              if opts.get(o)]}, info))
    return ("%s of 0x%x, %d level%s: %s, %s\n" % (
        "Referrers" if backwards else "Referents", addr, depth, "" if depth == 1 else "s",
        options.plural(nodes, "object"), options.plural(edges, "reference"))
        + "\n".join(said) + "\n" + options.partial_line(h.info()))


def _edges_cmd(argv, as_json, what):
    opts, rest, as_json = options.parse(argv, set(), {"--limit", "--depth", "--dot", "--svg", "--png"},
                                            as_json)
    if opts.get("--depth") or any(opts.get(o) for o in ("--dot", "--svg", "--png")):
        return _graph_cmd(opts, rest, as_json, what, what == "referrers")
    limit = options.number(opts, "--limit", LIST_LIMIT, 0)
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, options.one_obj(rest, what))
    links = h.referrers(addr) if what == "referrers" else h.referents(addr)
    obj = h.object(addr)
    if obj:
        target = {"address": addr, "type": obj["type"], "kind": obj["kind"], "size": obj["flat"],
                  "preview": obj["preview"]}
    else:  # an object the walk did not find (see leaks)
        t = h.backrefs(addr)["target"]
        target = {k: t[k] for k in ("address", "type", "kind", "size", "preview")}
    info = h.info()
    if as_json:
        return json.dumps(options.with_partial({"python": options.python_of(info), "target": target,
                                                  what: links}, info))
    head = "%s of 0x%x (%s): %d" % (what.capitalize(), addr, target.get("kind", "?"), len(links))
    if target.get("preview"):
        room = WIDTH - len(head) - 2
        if room >= 5:
            head = head.replace(" (%s)" % target.get("kind", "?"), " (%s, %s)" % (
                target.get("kind", "?"), tables.cut_middle(target["preview"], room)), 1)
    lines = [head]
    shown = links[:limit] if limit > 0 else links
    rows = iter(_link_rows([l for l in shown if l["edge_kind"] != "root"]))
    for link in shown:
        if link["edge_kind"] == "root":
            lines.append(tables.cut_middle("  root: %s" % link["edge"], WIDTH))
        else:
            lines.append(next(rows))
    if 0 < limit < len(links):
        lines.append(options.more_footer(len(links) - limit, what[:-1], "--limit N shows more, --json lists them all"))
    return "\n".join(lines) + "\n" + options.partial_line(info)


def cmd_referrers(argv, as_json):
    """The objects and roots that refer to OBJ, each reference labelled.

    Usage: probe-heap referrers OBJ [--limit N] [--depth N --dot FILE|--svg FILE|--png FILE] [--json]

    With --depth N and a file, the graph of the referrers, theirs, and so on
    N levels (default 3), as backrefs --graph draws it."""
    return _edges_cmd(argv, as_json, "referrers")


def cmd_referents(argv, as_json):
    """The objects OBJ refers to, each reference labelled.

    Usage: probe-heap referents OBJ [--limit N] [--depth N --dot FILE|--svg FILE|--png FILE] [--json]

    With --depth N and a file, objgraph's show_refs: what OBJ refers to, what
    those refer to, and so on N levels (default 3), at most 10 per object."""
    return _edges_cmd(argv, as_json, "referents")


def cmd_objects(argv, as_json):
    """The objects of one kind or type, largest first, with a preview of each.

    Usage: probe-heap objects KIND [--limit N] [--min-size B] [--human] [--json]

    KIND is a kind from the partition table (__main__.Session, 'dict of
    __main__.Session', str) or a type name.  --limit N shows N (default 20,
    0 for all); --min-size B only objects of at least B bytes; --human shows
    sizes in KiB, MiB, GiB."""
    opts, rest, as_json = options.parse(argv, {"--human"}, {"--limit", "--min-size"}, as_json)
    if len(rest) != 1:
        raise options.UsageError("objects takes one kind or type, like __main__.Session, "
                                  "'dict of __main__.Session' or str")
    limit = options.number(opts, "--limit", options.PAGE * 2, 0)
    min_size = options.number(opts, "--min-size", 0, 0)
    h = state.heap(quiet=as_json)
    kind = rest[0]
    o = h.objects(kind, limit=limit, min_size=min_size)
    info = h.info()
    if as_json:
        items = [{k: x[k] for k in ("address", "type", "kind", "size", "preview")} for x in o["objects"]]
        return json.dumps(options.with_partial({"python": options.python_of(info), "kind": kind,
                                                  "count": o["count"], "size": o["size"],
                                                  "objects": items}, info))
    if not o["count"]:
        known = {r[0] for r in h.partition("kind").rows()} | {r[1] for r in h.partition("type").rows()}
        guess = "" if kind in known else options.did_you_mean(kind, known)
        return ("No objects of kind or type %r%s%s 'probe-heap partition' lists the kinds, "
                "'--by type' the types.\n" % (kind, " of %d bytes or more" % min_size if min_size else "",
                                              guess or "."))
    shown = len(o["objects"])
    human = bool(opts.get("--human"))
    lines = ["%s of %s, %s%s; %s:" % (
        options.plural(o["count"], "object"), kind, tables.total_text(o["size"], human),
        " (%d bytes or more each)" % min_size if min_size else "",
        "the largest %d" % shown if shown < o["count"] else "largest first")]
    sizes = [tables.size(x["size"], human) for x in o["objects"]]
    w = max([9] + [len(z) for z in sizes])
    lines.append("  %-18s %*s  %-32s %s" % ("Address", w, "Size", "Kind", "Preview"))
    for x, z in zip(o["objects"], sizes):
        lines.append(("  0x%-16x %*s  %-32s %s" % (x["address"], w, z, x["kind"], x["preview"])).rstrip())
    if shown < o["count"]:
        lines.append(options.more_footer(o["count"] - shown, "object",
                                          "--limit N shows more (0: all), --min-size B only the big ones"))
    return "\n".join(lines) + "\n" + options.partial_line(info)
