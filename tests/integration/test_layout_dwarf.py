"""Compare the layout tables (core/src/cpython/layout_tables.c) with CPython's DWARF,
and the layout files with what tools/gen_layout.py makes of the spec (tools/layout_spec.py).

For each CPython 3.8-3.13 under $PYENV_ROOT/versions (default /root/.pyenv)
and for Debian's /usr/bin/python3.11 when its debug info is installed
(python3.11-dbg), run gdb once on the library/binary with
tests/tools/layout_fields.py (the spec and tools/layout_dwarf.py), which evaluates
every DWARF-checkable field, and
compare each number with what build/ph-dump-layout prints for that version.

A missing pyenv version skips, except with CI=true, where all of 3.8-3.13
must be present.  The same for the CPythons tools/build-pythons builds into
$PROBE_HEAP_CACHE (default /var/cache/probe-heap): 3.14.7, whose executable
links libpython statically (layout_fields.CACHE_BUILDS).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tests" / "tools"
sys.path.insert(0, str(TOOLS))
import layout_fields as L  # noqa: E402

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"))
DEBIAN_PY311 = Path("/usr/bin/python3.11")
IN_CI = os.environ.get("CI", "").lower() == "true"
DUMP = REPO / "build" / "ph-dump-layout"
CC_LINE = ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Icore/src",
           "core/src/cpython/layout_tables.c", "tests/tools/dump_layout.c",
           "-o", "build/ph-dump-layout"]


def _missing(msg):
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


# ------------------------------------------------------------------ helpers

@pytest.fixture(scope="session")
def dump_tool():
    (REPO / "build").mkdir(exist_ok=True)
    if (REPO / "Makefile").exists():
        r = subprocess.run(["make", "-s", "build/ph-dump-layout"], cwd=REPO,
                           capture_output=True, text=True)
        if r.returncode != 0 and "No rule to make target" in r.stderr:
            r = subprocess.run(CC_LINE, cwd=REPO, capture_output=True, text=True)
    else:
        r = subprocess.run(CC_LINE, cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, "building build/ph-dump-layout failed:\n" + r.stdout + r.stderr
    return DUMP


def table(tool, version):
    ft = ["t"] if len(version) > 2 else []
    r = subprocess.run([str(tool), str(version[0]), str(version[1])] + ft,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "ph-dump-layout %s: %s" % (L.vtext(version), r.stderr)
    return json.loads(r.stdout)


def dwarf(binary, version):
    """{field: value} evaluated by gdb on `binary`, or None without DWARF."""
    if shutil.which("gdb") is None:
        _missing("gdb is not installed")
    env = dict(os.environ, PH_LAYOUT_VERSION=L.vtext(version))
    r = subprocess.run(["gdb", "-batch", "-nx", str(binary),
                        "-x", str(TOOLS / "layout_fields.py")],
                       capture_output=True, text=True, env=env, timeout=120)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("PH_LAYOUT_JSON ")]
    assert len(lines) == 1, "gdb on %s printed no result (rc %d):\n%s%s" % (
        binary, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    result = json.loads(lines[0][len("PH_LAYOUT_JSON "):])
    if result.get("_no_debug_info"):
        return None
    return result


def compare(label, binary, version, tbl, got):
    """Every DWARF field must equal the table; returns the mismatch lines."""
    bad = []
    for name in L.FIELD_NAMES:
        spec = L.spec_for(name, version)
        if not L.is_dwarf(spec):
            continue
        want = got.get(name)
        if isinstance(want, dict):
            bad.append("%s: %s: DWARF evaluation failed: %s" % (label, name, want["error"]))
        elif tbl[name] != want:
            bad.append("%s: %s: table has %s, DWARF says %s (%s in %s)" % (
                label, name, tbl[name], want, spec, binary))
    return bad


def check_preheader(label, version, tbl, got):
    """What DWARF cannot show directly: the pre-header constants must fit the
    GC head size DWARF gives."""
    bad = []
    if len(version) > 2:
        gc = 0      # free-threaded: no PyGC_Head in front of an object
        if tbl["gc_head_size"] != 0:
            bad.append("%s: a free-threaded build has no GC head, the table says %s"
                       % (label, tbl["gc_head_size"]))
    else:
        gc = got["gc_head_size"]
    if gc != 16 and len(version) == 2:
        bad.append("%s: sizeof(PyGC_Head) is %s, the pre-header constants assume 16" % (label, gc))
    pre = tbl["preheader_size"]
    slots = [tbl[f] for f in ("managed_dict", "managed_values", "managed_weakref")
             if tbl[f] != L.PH_NONE]
    if version < (3, 11):
        if pre != 0 or slots:
            bad.append("%s: no pre-header before 3.11, table says %s %s" % (label, pre, slots))
        return bad
    if pre != 16 or len(slots) != 2 or len(set(slots)) != 2:
        bad.append("%s: 3.11+ pre-header is two pointers, table says size %s slots %s"
                   % (label, pre, slots))
    for s in slots:
        # In front of the GC head, pointer-aligned, inside the pre-header.
        if not (-(gc + pre) <= s <= -(gc + 8)) or s % 8:
            bad.append("%s: pre-header slot %s is not within [-%d, -%d)" % (
                label, s, gc + pre, gc))
    return bad


def check_headers(label, build, version):
    """The pre-header constants' source text, in the installed headers."""
    bad = []
    inc = build / "include" / ("python" + L.vtext(version))
    for rel, snippet in L.HEADER_EVIDENCE.get(version, []):
        path = inc / rel
        if not path.exists():
            continue
        if snippet not in path.read_text(errors="replace"):
            bad.append("%s: %s no longer contains %r" % (label, path, snippet))
    return bad


def pyenv_builds(minor):
    base = PYENV_ROOT / "versions"
    if not base.is_dir():
        return []
    pat = re.compile(r"^3\.%d\.\d+$" % minor)  # not 3.13.0t (free-threaded) etc.
    return sorted(p for p in base.iterdir() if pat.match(p.name))


def pyenv_binary(build, version):
    lib = build / "lib" / ("libpython%d.%d.so.1.0" % version)
    if lib.exists():
        return lib
    return build / "bin" / ("python%d.%d" % version)


# -------------------------------------------------------------------- tests

def test_generated_files_current():
    """layout.h, layout_fields.h and layout_tables.c are what tools/gen_layout.py
    makes of tools/layout_spec.py (and the DWARF of the builds it names): a field
    changed in one place only is found here (`make layouts` mends it)."""
    if shutil.which("gdb") is None:
        _missing("gdb is not installed")
    r = subprocess.run([sys.executable, str(REPO / "tools" / "gen_layout.py"), "--check"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "gen_layout.py --check:\n" + r.stdout + r.stderr
    unchecked = [ln for ln in r.stdout.splitlines() if ln.startswith("unchecked:")]
    if unchecked:
        _missing("; ".join(unchecked))


def test_field_lists_agree(dump_tool):
    """layout.h, layout_fields.h, layout_fields.py and the dump agree."""
    h_fields = L.layout_h_fields(REPO / "core" / "src" / "cpython" / "layout.h")
    assert h_fields == L.FIELD_NAMES, "layout.h and tools/layout_spec.py list different fields"
    x_text = (REPO / "core" / "src" / "cpython" / "layout_fields.h").read_text()
    x_text = x_text[x_text.index("#define PH_LAYOUT_FIELDS(X)"):]
    x_fields = re.findall(r"\bX\((\w+)\)", x_text.split("(X)", 1)[1])
    assert x_fields == L.FIELD_NAMES, "core/src/cpython/layout_fields.h differs from layout.h"
    for version in L.VERSIONS + L.FT_VERSIONS:
        keys = list(table(dump_tool, version))
        assert keys == ["major", "minor"] + L.FIELD_NAMES


@pytest.mark.parametrize("version", L.VERSIONS + L.FT_VERSIONS, ids=L.vtext)
def test_table_matches_spec(dump_tool, version):
    """Fields that DWARF does not give (PH_NONE and source constants) are in
    the table as tools/layout_spec.py says; every (field, version) has a spec."""
    tbl = table(dump_tool, version)
    assert (tbl["major"], tbl["minor"]) == version[:2]
    assert tbl["free_threaded"] == (1 if len(version) > 2 else 0)
    v = L.vtext(version)
    bad = []
    for name in L.FIELD_NAMES:
        spec = L.spec_for(name, version)
        if spec == L.NONE and tbl[name] != L.PH_NONE:
            bad.append("%s %s: should be PH_NONE, table has %s" % (v, name, tbl[name]))
        elif isinstance(spec, L.Const) and tbl[name] != spec.value:
            bad.append("%s %s: should be %d, table has %s" % (v, name, spec.value, tbl[name]))
        elif L.is_dwarf(spec) and tbl[name] < 0:
            bad.append("%s %s: DWARF field is PH_NONE in the table" % (v, name))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("bad_version", [(3, 7), (3, 15), (2, 7), (4, 0)],
                         ids=lambda v: "%d.%d" % v)
def test_unsupported_version(dump_tool, bad_version):
    r = subprocess.run([str(dump_tool), str(bad_version[0]), str(bad_version[1])],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip() and r.stderr.count("\n") == 1


@pytest.mark.parametrize("minor", range(8, 14), ids=lambda m: "pyenv-3.%d" % m)
def test_pyenv_dwarf(dump_tool, minor):
    version = (3, minor)
    builds = pyenv_builds(minor)
    if not builds:
        _missing("no CPython 3.%d under %s/versions" % (minor, PYENV_ROOT))
    tbl = table(dump_tool, version)
    bad = []
    for build in builds:
        binary = pyenv_binary(build, version)
        label = "CPython %s" % build.name
        got = dwarf(binary, version)
        if got is None:
            bad.append("%s: %s has no DWARF (gdb cannot see PyInterpreterState)" % (label, binary))
            continue
        bad += compare(label, binary, version, tbl, got)
        if not any("gc_head_size" in b for b in bad):
            bad += check_preheader(label, version, tbl, got)
        bad += check_headers(label, build, version)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("version", sorted(L.CACHE_BUILDS), ids=lambda v: "cache-" + L.vtext(v))
def test_cache_build_dwarf(dump_tool, version):
    """The CPythons no pyenv provides, built by tools/build-pythons."""
    cache = Path(os.environ.get("PROBE_HEAP_CACHE", "/var/cache/probe-heap"))
    build = cache / ("python-" + L.CACHE_BUILDS[version])
    binary = build / "bin" / ("python" + L.vtext(version))
    if not (build / ".complete").exists() or not binary.exists():
        _missing("no CPython %s under %s (run tools/build-pythons)" % (L.CACHE_BUILDS[version], cache))
        pytest.skip("%s not built" % binary)
    tbl = table(dump_tool, version)
    label = "CPython %s" % L.CACHE_BUILDS[version]
    got = dwarf(binary, version)
    assert got is not None, "%s: %s has no DWARF" % (label, binary)
    bad = compare(label, binary, version, tbl, got)
    if not any("gc_head_size" in b for b in bad):
        bad += check_preheader(label, version, tbl, got)
    bad += check_headers(label, build, version)
    assert not bad, "\n".join(bad)


def test_debian_python311_dwarf(dump_tool):
    """Debian's statically linked /usr/bin/python3.11, whose DWARF gdb finds
    in /usr/lib/debug/.build-id when python3.11-dbg is installed."""
    if not DEBIAN_PY311.exists():
        pytest.skip("%s is not installed" % DEBIAN_PY311)
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed")
    version = (3, 11)
    got = dwarf(DEBIAN_PY311, version)
    if got is None:
        pytest.skip("no DWARF for %s (install python3.11-dbg)" % DEBIAN_PY311)
    tbl = table(dump_tool, version)
    label = "Debian python3.11"
    bad = compare(label, DEBIAN_PY311, version, tbl, got)
    bad += check_preheader(label, version, tbl, got)
    assert not bad, "\n".join(bad)
