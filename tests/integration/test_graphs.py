"""objgraph's show_refs and show_backrefs (referents OBJ --depth N, backrefs
OBJ --graph --depth N) on a small known structure (workloads/graphs.py: three
Nodes with __slots__ and their lists, addresses recorded in process with
id()), from a core, on every CPython: the .dot file parses (graphviz's dot
-Tsvg succeeds), and names exactly the nodes and labelled edges the
structure has at each depth."""

import os
import re
import shutil
import subprocess

import pytest

import harness


@pytest.fixture(scope="module", params=harness.all_targets(), ids=lambda t: t.label)
def graph_core(request, tmp_path_factory):
    target = request.param
    harness.require(target)
    d = tmp_path_factory.mktemp("graphs-" + target.label)
    w = harness.start_workload(target, str(d), "graphs.py")
    try:
        args = harness.source_args(w, "core") + target.cli_args
        yield target, args, w.census()["ids"], d
    finally:
        w.discard_core()
        w.kill()


EDGE = re.compile(r'^\s+(o[0-9a-f]+|r\d+) -> (o[0-9a-f]+) \[label="((?:[^"\\]|\\.)*)"')
NODE = re.compile(r'^\s+(o[0-9a-f]+) \[label=')


def parse(path):
    """The nodes ('o<hex address>') and labelled edges of a .dot file we wrote."""
    nodes, edges = set(), set()
    with open(path) as f:
        for line in f:
            m = EDGE.match(line)
            if m:
                edges.add((m.group(1), m.group(2), m.group(3).replace('\\"', '"')))
            m = NODE.match(line)
            if m:
                nodes.add(m.group(1))
    return nodes, edges


def o(addr):
    return "o%x" % addr


def check_dot(path, d):
    assert os.path.getsize(path) > 0
    svg = str(d / (os.path.basename(path) + ".svg"))
    r = subprocess.run([shutil.which("dot") or "dot", "-Tsvg", "-o", svg, path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return parse(path)


def test_show_refs(graph_core):
    """referents top --depth 2: top's slots (.name, .kids) and its type, then
    what top.kids holds ([0] a, [1] b)."""
    target, args, ids, d = graph_core
    path = str(d / "refs.dot")
    res = harness.run_probe(args + ["referents", "0x%x" % ids["top"], "--depth", "2", "--dot", path]).expect_ok()
    assert "graph written to %s" % path in res.stdout
    nodes, edges = check_dot(path, d)
    want = {(o(ids["top"]), o(ids["top.name"]), ".name"), (o(ids["top"]), o(ids["top.kids"]), ".kids"),
            (o(ids["top.kids"]), o(ids["a"]), "[0]"), (o(ids["top.kids"]), o(ids["b"]), "[1]")}
    assert want <= edges, (sorted(want - edges), sorted(edges))
    assert {o(ids[k]) for k in ("top", "top.name", "top.kids", "a", "b", "Node")} <= nodes
    # depth 2 stops at a and b: what they refer to (a.kids, b.kids) is not drawn
    assert o(ids["a.kids"]) not in nodes and o(ids["b.kids"]) not in nodes
    # depth 3 reaches them
    path3 = str(d / "refs3.dot")
    harness.run_probe(args + ["referents", "0x%x" % ids["top"], "--depth", "3", "--dot", path3]).expect_ok()
    nodes3, edges3 = check_dot(path3, d)
    assert (o(ids["a"]), o(ids["a.kids"]), ".kids") in edges3
    assert (o(ids["b"]), o(ids["b.kids"]), ".kids") in edges3


def test_show_backrefs(graph_core):
    """backrefs b --graph --depth 3: b is in top.kids ([1]) and a.kids ([0]);
    those lists are top's and a's .kids; a is top.kids[0]."""
    target, args, ids, d = graph_core
    path = str(d / "back.dot")
    svg = str(d / "back.svg")
    res = harness.run_probe(args + ["backrefs", "0x%x" % ids["b"], "--graph", "--depth", "3",
                                    "--dot", path, "--svg", svg]).expect_ok()
    assert os.path.getsize(svg) > 0 and "<svg" in open(svg).read()
    nodes, edges = check_dot(path, d)
    want = {(o(ids["top.kids"]), o(ids["b"]), "[1]"), (o(ids["a.kids"]), o(ids["b"]), "[0]"),
            (o(ids["top"]), o(ids["top.kids"]), ".kids"), (o(ids["a"]), o(ids["a.kids"]), ".kids"),
            (o(ids["top.kids"]), o(ids["a"]), "[0]")}
    assert want <= edges, (sorted(want - edges), sorted(edges))
    # into b: the two lists and the module's global 'b', nothing else
    assert {e for e in edges if e[1] == o(ids["b"])} == {
        (o(ids["top.kids"]), o(ids["b"]), "[1]"), (o(ids["a.kids"]), o(ids["b"]), "[0]"),
        (o(ids["globals"]), o(ids["b"]), "['b']")}
    doc = harness.run_probe(args + ["--json", "backrefs", "0x%x" % ids["b"], "--graph", "--depth", "1",
                                    "--dot", str(d / "b1.dot")]).json()
    assert doc["nodes"] == 4 and doc["edges"] == 3, doc  # b, the two lists, the module's dict


def test_graph_usage(graph_core):
    target, args, ids, d = graph_core
    if target.label != "pyenv-3.12.1":
        pytest.skip("usage errors are checked on one target")
    r = harness.run_probe(args + ["backrefs", "0x%x" % ids["b"], "--graph"])
    assert r.returncode == 2 and "add --dot FILE" in r.stderr, r.describe()
    r = harness.run_probe(args + ["backrefs", "0x%x" % ids["b"], "--depth", "2"])
    assert r.returncode == 2 and "--depth is for --graph" in r.stderr, r.describe()
