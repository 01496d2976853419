"""Deep and retained sizes equal the same quantities computed in the target
process at the same moment (tests/integration/workloads/sizes.py: deep by
asizeof's rule over gc.get_referents; retained by the target's own
refcounts, what its collector would free), on every CPython, live and from
a core; Python paths name the same objects as their addresses."""

import pytest

import harness


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", harness.all_targets(), ids=lambda t: t.label)
def test_deep_and_retained_match_in_process(target, mode, tmp_path):
    harness.require(target)
    doc, got = harness.ask_in_gdb(target, mode, "sizes.py", "ask_sizes.py", str(tmp_path))
    samples = doc["samples"]
    wrong = []
    for label, want in samples.items():
        for k in ("flat", "deep", "deep_count", "retained", "retained_count"):
            a, b = want[k], got[label][k]
            # the issue allows 1% for deep and retained; flat is exact
            tol = 0 if k == "flat" else max(1, a // 100)
            if abs(a - b) > tol:
                wrong.append("%-12s %-15s in process %8d, probe-heap %8d" % (label, k, a, b))
    for label, addr in got["paths"].items():
        if hex(addr) != samples[label]["address"]:
            wrong.append("path for %s names 0x%x, not %s" % (label, addr, samples[label]["address"]))
    assert not wrong, "\n".join(wrong)
