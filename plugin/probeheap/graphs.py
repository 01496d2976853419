"""objgraph's show_refs and show_backrefs: the objects around one object,
several levels deep, as a graphviz graph (referents --depth N --dot FILE,
backrefs --graph --depth N --dot FILE).

Like objgraph, a breadth-first walk from the object: what it refers to (or
what refers to it), then what those refer to, up to depth levels; at most
too_many edges from one node (the rest become one "N more" node) and at most
max_nodes objects in all."""

TOO_MANY = 10      # objgraph's too_many
MAX_NODES = 200


def dot_quote(s):
    """s as a graphviz string, quoted."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _node_text(link):
    text = link["kind"]
    if link.get("preview"):
        text += "\n" + link["preview"][:64]
    if link.get("size") is not None:
        text += "\n%d bytes" % link["size"]
    return text


def walk(h, address, depth, backwards, too_many=TOO_MANY, max_nodes=MAX_NODES):
    """The graph around address: (nodes {address: link}, roots {name: text},
    edges [(from, to, label, dashed)], cut {node: number of edges left out}).
    Edges point the way references do (referrer -> referent) both ways."""
    obj = h.object(address)
    if obj:
        start = {"address": address, "kind": obj["kind"], "preview": obj["preview"], "size": obj["flat"]}
    else:
        t = h.backrefs(address)["target"]
        start = {k: t.get(k) for k in ("address", "kind", "preview", "size")}
    nodes, roots, edges, cut = {address: start}, {}, [], {}
    level = [address]
    for _ in range(depth):
        nxt = []
        for a in level:
            links = h.referrers(a) if backwards else h.referents(a)
            if len(links) > too_many:
                cut[a] = len(links) - too_many
                links = links[:too_many]
            for l in links:
                dashed = bool(l.get("weak") or l.get("conservative"))
                if l["edge_kind"] == "root":
                    name = "root:%s" % l["edge"]
                    roots.setdefault(name, "root: " + l["edge"])
                    edges.append((name, a, "", dashed))
                    continue
                b = l["address"]
                if b not in nodes:
                    if len(nodes) >= max_nodes:
                        cut[a] = cut.get(a, 0) + 1
                        continue
                    nodes[b] = l
                    nxt.append(b)
                edges.append((b, a, l["edge"], dashed) if backwards else (a, b, l["edge"], dashed))
        level = nxt
    return nodes, roots, edges, cut


def to_dot(h, address, depth, backwards):
    """objgraph's look, as backrefs --dot draws chains: a box per object
    (kind, preview, size), the object itself highlighted, roots as
    ellipses, labelled edges (dashed when weak or guessed by a scan)."""
    nodes, roots, edges, cut = walk(h, address, depth, backwards)
    q = dot_quote
    out = ["digraph ObjectGraph {", "  node[shape=box, style=filled, fillcolor=white, fontsize=10];",
           "  edge[fontsize=9];"]
    for a, link in nodes.items():
        color = ', fillcolor="#ff9999", penwidth=2' if a == address else ""
        out.append("  o%x [label=%s%s];" % (a, q(_node_text(link)), color))
    ids = {}
    for name, text in roots.items():
        ids[name] = "r%d" % len(ids)
        out.append('  %s [label=%s, shape=ellipse, fillcolor="#ccccff"];' % (ids[name], q(text)))
    for a, n in cut.items():
        out.append('  more%x [label=%s, shape=plaintext, fillcolor=none];' % (a, q("%d more" % n)))
        out.append("  %s -> o%x [style=dotted];" % ("more%x" % a, a) if backwards
                   else "  o%x -> more%x [style=dotted];" % (a, a))
    seen = set()
    for src, dst, label, dashed in edges:
        if (src, dst, label) in seen:
            continue
        seen.add((src, dst, label))
        s = ids[src] if isinstance(src, str) else "o%x" % src
        out.append("  %s -> o%x [label=%s%s];" % (s, dst, q(label), ", style=dashed" if dashed else ""))
    out.append("}")
    return "\n".join(out) + "\n", len(nodes), len(edges)
