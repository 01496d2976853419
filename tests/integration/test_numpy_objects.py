"""The elements of numpy arrays of dtype=object are their referents (issue
13), on Debian's python3.11 with Debian's numpy (python3-numpy), live and
from a core (workloads/numpy_objects.py records every element's id()):

- the referents of an array that owns its data are its elements, labelled
  [i] in buffer order; a view's are not (its base holds them);
- leaks lists none of them (held only by the arrays, they are reachable);
- the walk skips nothing."""

import subprocess

import pytest

import harness

NUMPY_TARGETS = [t for t in harness.all_targets() if t.label.startswith("debian-")]


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", NUMPY_TARGETS, ids=lambda t: t.label)
def test_object_array_elements_are_referents(target, mode, tmp_path):
    harness.require(target)
    if subprocess.run([target.python, "-c", "import numpy"]).returncode:
        if harness.in_ci():
            pytest.fail("CI=true and numpy is missing for %s (python3-numpy)" % target.python)
        pytest.skip("numpy is not installed for %s" % target.python)
    doc, got = harness.ask_in_gdb(target, mode, "numpy_objects.py", "ask_numpy_objects.py",
                                  str(tmp_path))
    wrong = []
    for name, want in sorted(doc["elements"].items()):
        links = [l for l in got["referents"][name] if l["edge_kind"] == "index"]
        have = dict((l["edge"], hex(l["address"])) for l in links)
        missing = [i for i, a in enumerate(want) if have.get("[%d]" % i) != a]
        if missing or len(links) != len(want):
            wrong.append("%s: %d of %d elements missing or misplaced, %d index links" % (
                name, len(missing), len(want), len(links)))
    if [l for l in got["referents"]["view"] if l["edge_kind"] == "index"]:
        wrong.append("view: elements listed, though its base holds them")
    leaked = set()
    for row in got["leaks"]["leaked"]["rows"]:
        leaked.update(hex(a) for a in row["addresses"])
    for name, want in sorted(doc["elements"].items()):
        bad = leaked & set(want)
        if bad:
            wrong.append("%s: %d elements called leaked" % (name, len(bad)))
    if got["info"]["skipped"]:
        wrong.append("skipped %d" % got["info"]["skipped"])
    assert not wrong, "\n".join(wrong)
