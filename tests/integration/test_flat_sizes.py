"""Flat size of one object is exactly sys.getsizeof in the target's CPython:
samples of every builtin type, per version, live and from a core.

The expected number is sys.getsizeof measured in the target process itself
(tests/integration/workloads/samples.py); the tool's number comes from its
own walk, looked up by address through the scripting API."""

import json
import os
import re
import subprocess

import pytest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))

# Extension types whose own __sizeof__ cannot be reproduced from outside:
# the tool must flag them as estimates rather than print a wrong exact size.
ESTIMATED_OK = set()


def gdb_args(target):
    """gdb's own form of the CLI arguments a target is run with."""
    if target.cli_args == harness.NO_SYMBOLS:
        return ["-iex", "set debug-file-directory " + harness.NO_SYMBOLS[1]]
    assert not target.cli_args, target.cli_args
    return []


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", harness.all_targets(), ids=lambda t: t.label)
def test_flat_size_is_getsizeof(target, mode, tmp_path):
    check_samples(target, mode, tmp_path, "samples.py")


def check_samples(target, mode, tmp_path, workload):
    harness.require(target)
    out_path = tmp_path / "answer.json"
    w = harness.start_workload(target, str(tmp_path), workload)
    try:
        gdb = ["gdb", "-nx", "-q", "-batch", "-iex", "set debuginfod enabled off",
               "-iex", "set auto-load python-scripts off"] + gdb_args(target)
        gdb += [target.python, w.gcore()] if mode == "core" else ["-p", str(w.pid)]
        env = dict(os.environ, PH_SAMPLES=w.census_path, PH_OUT=str(out_path))
        r = subprocess.run(gdb + ["-x", os.path.join(harness.REPO, "gdbinit"),
                                  "-x", os.path.join(HERE, "ask_objects.py")],
                           env=env, capture_output=True, text=True, timeout=120)
        assert out_path.exists(), r.stdout + r.stderr
        samples = w.census()["samples"]
    finally:
        w.discard_core()
        w.kill()
    answer = json.load(open(out_path))
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
