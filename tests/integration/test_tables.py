"""Tables that stay aligned, --human, rows within 100 columns, dominators'
module names and edges, on a core of workloads/graphs.py (three Nodes with
__slots__, their ids recorded in process), on CPython 3.8 (instance dicts,
split keys) and 3.12.

Oracles: the same command's --json (every --human size is the JSON's number
formatted here, independently of the tool: powers of 1024, one decimal);
the workload's id()s for the dominators' rows and edges (top alone holds
its list top.kids, as '.kids', and its name, as '.name'; globals() is the
dict of module __main__)."""

import re

import pytest

import harness

TARGETS = [t for t in harness.all_targets() if t.label in ("pyenv-3.8.18", "pyenv-3.12.1")]


@pytest.fixture(scope="module", params=TARGETS, ids=lambda t: t.label)
def core(request, tmp_path_factory):
    target = request.param
    harness.require(target)
    w = harness.start_workload(target, str(tmp_path_factory.mktemp("tables-" + target.label)), "graphs.py")
    try:
        yield harness.source_args(w, "core") + target.cli_args, w.census()["ids"]
    finally:
        w.discard_core()
        w.kill()


def human(n):
    if n < 1024:
        return "%d B" % n
    units, x = ["KiB", "MiB", "GiB", "TiB"], n / 1024.0
    while x >= 1024 and len(units) > 1:
        x, units = x / 1024.0, units[1:]
    return "%.1f %s" % (x, units[0])


def rows_of(text):
    lines = text.splitlines()
    head = next(i for i, l in enumerate(lines) if l.lstrip().startswith("Index"))
    return lines[head], [l for l in lines[head + 1:] if re.match(r"^\s+\d+ ", l)]


def test_partition_aligned_and_human(core):
    args, _ids = core
    doc = harness.run_probe(args + ["--json", "partition"]).json()
    for flags in ([], ["--human"]):
        text = harness.run_probe(args + ["partition", "--all"] + flags).expect_ok().stdout
        header, rows = rows_of(text)
        assert len(rows) == len(doc["rows"]), text
        kind_at = header.index("Kind")
        cum = 0
        for row, want in zip(rows, doc["rows"]):
            # every row's kind starts under the header's "Kind"
            assert row[kind_at:].startswith(want["kind"]) and row[kind_at - 1] == " ", (row, header)
            cum += want["size"]
            if flags:
                assert " %s " % human(want["size"]) in row and " %s " % human(cum) in row, (row, want)
        if flags:
            assert text.splitlines()[0].endswith("Total size = %s." % human(doc["size"])), text


def test_dominators_name_module_and_edges(core):
    args, ids = core
    d = harness.run_probe(args + ["--json", "dominators", "0x%x" % ids["top"], "--limit", "100"]).json()
    edges = {c["address"]: c["edge"] for c in d["children"]}
    assert edges.get(ids["top.kids"]) == ".kids" and edges.get(ids["top.name"]) == ".name", d["children"]
    assert ids["a"] not in edges  # the module's dict refers to a too: top does not dominate it
    roots = harness.run_probe(args + ["--json", "dominators", "--limit", "1000"]).json()
    main = [c for c in roots["children"] if c["address"] == ids["globals"]]
    assert main and main[0]["kind"] == "dict of module" and main[0]["module"] == "__main__", main
    text = harness.run_probe(args + ["dominators", "--limit", "1000"]).expect_ok().stdout
    assert "dict of module __main__ 0x%x" % ids["globals"] in text, text
    text = harness.run_probe(args + ["dominators", "0x%x" % ids["top"], "--human"]).expect_ok().stdout
    assert re.search(r"\.kids list 0x%x" % ids["top.kids"], text), text
    assert all(len(l) <= 100 for l in text.splitlines()), text


def test_dominators_child_count(core):
    """child_count is every child in the dominator tree, shown or not: the
    list fan alone holds its fan.len strs (the workload's own len), top its
    kids list and its name; a child left out by --limit is counted in the
    line '<N more children; --limit N shows more>', at its parent's depth."""
    args, ids = core
    n = ids["fan.len"]
    d = harness.run_probe(args + ["--json", "dominators", "0x%x" % ids["fan"], "--limit", "10"]).json()
    assert d["child_count"] == n and len(d["children"]) == 10, d
    assert all(c["child_count"] == 0 for c in d["children"]), d["children"]
    text = harness.run_probe(args + ["dominators", "0x%x" % ids["fan"], "--limit", "10"]).expect_ok().stdout
    assert text.splitlines()[-1].strip() == "<%d more children; --limit N shows more>" % (n - 10), text
    text = harness.run_probe(args + ["dominators", "0x%x" % ids["fan"], "--limit", str(n)]).expect_ok().stdout
    assert "more child" not in text, text
    g = harness.run_probe(args + ["--json", "dominators", "0x%x" % ids["globals"], "--limit", "1000"]).json()
    by_addr = {c["address"]: c for c in g["children"]}
    assert by_addr[ids["top"]]["child_count"] == 2 and by_addr[ids["fan"]]["child_count"] == n, \
        (by_addr.get(ids["top"]), by_addr.get(ids["fan"]))
    assert g["child_count"] == len(g["children"]), g
    # nested: --depth 2 --limit 1 under globals: a line for each parent that has more
    text = harness.run_probe(args + ["dominators", "0x%x" % ids["globals"], "--depth", "2",
                                     "--limit", "1"]).expect_ok().stdout
    lines = text.splitlines()
    kind_at = lines[1].index("Kind")
    assert lines[-1].strip() == "<%d more children; --limit N shows more>" % (g["child_count"] - 1), text
    assert lines[-1].index("<") == kind_at, text
    first = g["children"][0]
    if first["child_count"] > 1:
        assert lines[-2].strip() == "<%d more children; --limit N shows more>" % (first["child_count"] - 1), text
        assert lines[-2].index("<") == kind_at + 2, text


def test_rows_fit_100_columns(core):
    args, ids = core
    for cmd in (["backrefs", "0x%x" % ids["b"]], ["referrers", "0x%x" % ids["b"]],
                ["referents", "0x%x" % ids["top"]], ["backrefs", "0x%x" % ids["b"], "--all", "3"]):
        text = harness.run_probe(args + cmd).expect_ok().stdout
        long = [l for l in text.splitlines() if len(l) > 100 and not l.startswith("path: ")]
        assert not long, "\n".join(long)
    text = harness.run_probe(args + ["backrefs", "0x%x" % ids["b"]]).expect_ok().stdout
    assert "0x%x" % ids["b"] in text.splitlines()[-2], text  # the target's row, address whole
