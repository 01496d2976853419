"""The Debian package, built with Debian's tooling inside a Debian trixie
root (gdb 16 embedding Python 3.13, the ecosystem of current distributions),
installed there with dpkg, and used on a core of trixie's own stripped
python3.13: partition, sizeof and backrefs answer with no -x and no path,
and gdb alone loads the plugin.  The numbers are checked against what the
workload measured in its own process (tests/integration/trixie/workload.py).

The root is made once per machine by tools/trixie-root (cached outside the
checkout); without it (no debootstrap, not root, no Debian archive) the test
is skipped, and under CI=true it fails."""

import json
import os
import shutil
import subprocess

import pytest

import harness

REPO = harness.REPO
TIMEOUT = 1800


def _skip_or_fail(why):
    if harness.in_ci():
        pytest.fail("CI=true and the trixie root is missing: " + why)
    pytest.skip(why)


def _run(args, **kw):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT, **kw)


@pytest.fixture(scope="module")
def trixie_root():
    if os.geteuid() != 0:
        _skip_or_fail("making and using the trixie root needs root")
    r = _run([os.path.join(REPO, "tools", "trixie-root")])
    if r.returncode != 0:
        _skip_or_fail("tools/trixie-root failed: " + r.stderr.strip())
    return r.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def installed(trixie_root):
    """Builds the package inside the root and installs it there; removes it after."""
    proc = harness.trixie_proc(trixie_root)   # shared with test_exact's, under xdist
    proc.__enter__()
    try:
        r = _run([os.path.join(REPO, "tools", "build-deb"), trixie_root], cwd=REPO)
        assert r.returncode == 0, "the package did not build:\n" + r.stderr + _log()
        deb = os.path.join(REPO, r.stdout.strip().splitlines()[-1])
        inside = os.path.join(trixie_root, "tmp", os.path.basename(deb))
        shutil.copy(deb, inside)
        r = _run(["chroot", trixie_root, "dpkg", "-i", "/tmp/" + os.path.basename(deb)])
        assert r.returncode == 0, "dpkg -i failed:\n" + r.stdout + r.stderr
        yield trixie_root
    finally:
        _run(["chroot", trixie_root, "dpkg", "-r", "probe-heap"])
        proc.__exit__(None, None, None)


def _log():
    try:
        with open(os.path.join(REPO, "build", "deb", "trixie-root", "build.log")) as f:
            return "\n" + f.read()[-3000:]
    except OSError:
        return ""


@pytest.fixture(scope="module")
def answers(installed):
    root = installed
    work = os.path.join(root, "tmp", "probe-heap-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for name in ("workload.py", "inside.py"):
        shutil.copy(os.path.join(REPO, "tests", "integration", "trixie", name), work)
    try:
        with harness.trixie_proc(root):
            r = _run(["chroot", root, "python3", "/tmp/probe-heap-test/inside.py",
                      "/tmp/probe-heap-test"])
    finally:
        for f in os.listdir(work):
            if f.startswith("core"):
                os.unlink(os.path.join(work, f))
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def _json(answer):
    assert answer["rc"] == 0, answer["stderr"]
    return json.loads(answer["stdout"])


def test_installed_version(answers):
    v = answers["version"]
    assert v["rc"] == 0, v["stderr"]
    with open(os.path.join(REPO, "VERSION")) as f:
        assert v["stdout"].strip() == "probe-heap " + f.read().strip()


def test_partition_on_trixies_python(answers):
    t = answers["truth"]
    assert t["version"].startswith("3.13.")
    p = _json(answers["partition"])
    assert p["python"]["version"] == t["version"]
    rows = {r["type"]: r for r in p["rows"]}
    # the workload made exactly this many instances of its class
    assert rows["__main__.Marker"]["count"] == t["markers"]
    assert p.get("skipped", 0) == 0


def test_sizeof_on_trixies_python(answers):
    t = answers["truth"]
    s = _json(answers["sizeof"])
    # sys.getsizeof(markers) in the target
    assert s["flat"] == t["markers_flat"]
    assert s["deep_count"] > t["markers"]


def test_backrefs_on_trixies_python(answers):
    t = answers["truth"]
    b = _json(answers["backrefs"])
    chain = b["chains"][0]
    assert chain[-1]["address"] == t["one_marker"]
    # markers[123], a list held by the module __main__
    assert any(link.get("edge") == "[123]" for link in chain), chain


def test_gdb_alone_loads_the_plugin(answers):
    g = answers["gdb"]
    assert g["rc"] == 0, g["stdout"] + g["stderr"]
    assert "3.13" in g["stdout"], g["stdout"]
