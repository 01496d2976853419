"""The scripting API's errors: one class, probeheap.Error, with str(e) the one
sentence and e.code the core's code; the same answer (raise) from every
method given an address that holds no object; empty answers for a query by
kind that matches nothing (as docs/commands.md's scripting section says).
On workloads/graphs.py (three Nodes), from a core."""

import pytest

import harness

TARGETS = [t for t in harness.all_targets() if t.label in ("pyenv-3.8.18", "pyenv-3.12.1")]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.label)
def test_api_errors(target, tmp_path):
    harness.require(target)
    doc, out = harness.ask_in_gdb(target, "core", "graphs.py", "ask_api.py", str(tmp_path))
    calls = out["calls"]
    for name in ("object", "obj", "backrefs", "referrers", "referents", "dominators"):
        c = calls[name + "(0x10)"]
        assert c.get("raises") == "probeheap.Error" and c["is_probeheap_error"], (name, c)
        assert c["args"] == [c["str"]] and "0x10" in c["str"] and not c["str"].startswith("("), (name, c)
        assert c["code"] == 9, (name, c)  # PH_ERR_ARGUMENT
    c = calls["obj(path)"]
    assert c["is_probeheap_error"] and c["str"].startswith("__main__:nosuch: ") and c["code"] == 9, c
    c = calls["obj(misspelt)"]
    assert c["is_probeheap_error"] and "did you mean 'top'" in c["str"], c
    for name in ("partition(bogus)", "dominators(limit 0)"):
        assert calls[name]["is_probeheap_error"] and calls[name]["code"] == 0, calls[name]
    assert calls["partition(bogus)"]["str"] == "cannot partition by bogus"
    assert calls["objects(none)"]["returns"] == {"count": 0, "size": 0, "objects": []}
    assert calls["partition(kind none)"]["returns"] == 0
    assert calls["object(top)"]["returns"] == "__main__.Node"
    # the drill-down in the API: three Nodes (the workload's), referred to by
    # the module's dict (top, a, b) and by lists (a, b): rows add up to them
    d = out["drill"]
    assert d["count"] == 3 and sum(r[2] for r in d["rows"]) == 3 and sum(r[3] for r in d["rows"]) == d["size"]
