"""Flat size of one object is exactly sys.getsizeof in the target's CPython:
samples of every builtin type, per version, live and from a core.

The expected number is sys.getsizeof measured in the target process itself
(tests/integration/workloads/samples.py); the tool's number comes from its
own walk, looked up by address through the scripting API."""

import re
import subprocess

import pytest

import harness

# Extension types whose own __sizeof__ cannot be reproduced from outside:
# the tool must flag them as estimates rather than print a wrong exact size.
ESTIMATED_OK = set()


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", harness.all_targets(), ids=lambda t: t.label)
def test_flat_size_is_getsizeof(target, mode, tmp_path):
    check_samples(target, mode, tmp_path, "samples.py")


def check_samples(target, mode, tmp_path, workload):
    harness.require(target)
    doc, answer = harness.ask_in_gdb(target, mode, workload, "ask_objects.py", str(tmp_path))
    samples = doc["samples"]
    wrong = []
    for label, addr, tname, size in samples:
        # A name that is not valid UTF-8 (a lone surrogate) is shown with U+FFFD.
        tname = re.sub("[\ud800-\udfff]", "\ufffd", tname)
        got = answer.get(addr)
        if got is None:
            wrong.append("%-28s %s not found by the walk" % (label, tname))
        elif got["type"] != tname:
            wrong.append("%-28s type %s, tool says %s" % (label, tname, got["type"]))
        elif got["estimate"]:
            if tname not in ESTIMATED_OK:
                wrong.append("%-28s %s flagged as an estimate" % (label, tname))
        elif got["flat"] != size:
            wrong.append("%-28s %-20s getsizeof %6d, tool %6d" % (label, tname, size, got["flat"]))
    assert not wrong, "\n".join(wrong)


NUMPY_TARGETS = [t for t in harness.all_targets() if t.label.startswith("debian-")]


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", NUMPY_TARGETS, ids=lambda t: t.label)
def test_numpy_ndarray_sizes(target, mode, tmp_path):
    """numpy.ndarray's own __sizeof__ (data buffer counted when owned), on
    Debian's python3.11 with Debian's numpy (python3-numpy)."""
    if target.available and subprocess.run([target.python, "-c", "import numpy"]).returncode:
        if harness.in_ci():
            pytest.fail("CI=true and numpy is missing for %s (python3-numpy)" % target.python)
        pytest.skip("numpy is not installed for %s" % target.python)
    check_samples(target, mode, tmp_path, "numpy_samples.py")
