"""The positions in _Py_DebugOffsets that the core takes its 3.13 and 3.14
layouts from (core/src/cpython/debug_offsets.c) are those of the DWARF of CPython
3.13 and 3.14, name the members that mean the same field, and each is bounded
by the size field of its own section."""

import os
import subprocess

import pytest

import harness

# ph_layout field -> member of struct _Py_DebugOffsets
MEMBERS = {
    "runtime_interpreters_head": "runtime_state.interpreters_head",
    "interp_id": "interpreter_state.id", "interp_next": "interpreter_state.next",
    "interp_threads_head": "interpreter_state.threads_head", "interp_gc": "interpreter_state.gc",
    "interp_modules": "interpreter_state.imports_modules",
    "interp_sysdict": "interpreter_state.sysdict", "interp_builtins": "interpreter_state.builtins",
    "tstate_next": "thread_state.next", "tstate_interp": "thread_state.interp",
    "tstate_current_frame": "thread_state.current_frame", "tstate_thread_id": "thread_state.thread_id",
    "tstate_native_thread_id": "thread_state.native_thread_id",
    "iframe_previous": "interpreter_frame.previous", "iframe_code": "interpreter_frame.executable",
    "iframe_instr": "interpreter_frame.instr_ptr", "iframe_localsplus": "interpreter_frame.localsplus",
    "iframe_owner": "interpreter_frame.owner",
    "code_filename": "code_object.filename", "code_name": "code_object.name",
    "code_qualname": "code_object.qualname", "code_linetable": "code_object.linetable",
    "code_firstlineno": "code_object.firstlineno", "code_argcount": "code_object.argcount",
    "code_localsplusnames": "code_object.localsplusnames",
    "code_localspluskinds": "code_object.localspluskinds",
    "code_code_adaptive": "code_object.co_code_adaptive",
    "type_sizeof": "type_object.size", "tp_name": "type_object.tp_name", "tp_flags": "type_object.tp_flags",
    "tuple_ob_item": "tuple_object.ob_item", "list_sizeof": "list_object.size",
    "list_ob_item": "list_object.ob_item", "dict_sizeof": "dict_object.size",
    "dict_ma_keys": "dict_object.ma_keys", "dict_ma_values": "dict_object.ma_values",
    "long_lv_tag": "long_object.lv_tag", "long_digits": "long_object.ob_digit",
    "bytes_sval": "bytes_object.ob_sval", "str_state": "unicode_object.state",
    "str_length": "unicode_object.length", "str_ascii_sizeof": "unicode_object.asciiobject_size",
    "gc_collecting": "gc.collecting",
}


def _parse(lines):
    """{field: position}, {field: its section's size position} from the dump."""
    checks, sections = {}, {}
    for l in lines:
        if l:
            f, at, sect = l.split()
            checks[f], sections[f] = at, sect
    return checks, sections


def _section_expr(members, checks):
    """gdb Python printing 'SECT field position' of each field's section size."""
    return "; ".join(
        "print('SECT', %r, int(gdb.parse_and_eval('(long)&((struct _Py_DebugOffsets *)0)->%s.size')))"
        % (f, members[f].split(".")[0]) for f in sorted(checks))


def _wrong_sections(out, sections):
    dwarf = {}
    for l in out.splitlines():
        w = l.split()
        if len(w) == 3 and w[0] == "SECT":
            dwarf[w[1]] = w[2]
    return ["%s: core bounds it by the size at %s, DWARF's section size is at %s"
            % (f, sections[f], dwarf.get(f)) for f in sections if sections[f] != dwarf.get(f)]


def test_positions_match_dwarf():
    target = harness.target_by_label("pyenv-3.13.0")
    harness.require(target)
    lib = os.path.join(os.path.dirname(os.path.dirname(target.python)), "lib", "libpython3.13.so.1.0")
    subprocess.run(["make", "-s", "build/ph-dump-debug-offsets"], cwd=harness.REPO, check=True)
    lines = subprocess.run([os.path.join(harness.REPO, "build", "ph-dump-debug-offsets")],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    checks, sections = _parse(lines)
    assert set(checks) == set(MEMBERS)
    expr = "; ".join("print(%r, int(gdb.parse_and_eval('(long)&((struct _Py_DebugOffsets *)0)->%s')))"
                     % (f, MEMBERS[f]) for f in sorted(checks))
    expr += "; " + _section_expr(MEMBERS, checks)
    out = subprocess.run(["gdb", "-nx", "-batch", lib, "-ex", "python " + expr],
                         check=True, capture_output=True, text=True).stdout
    dwarf = dict(l.split() for l in out.splitlines() if l.split() and l.split()[0] in checks)
    wrong = ["%s: core %s, DWARF %s" % (f, checks[f], dwarf.get(f)) for f in checks if checks[f] != dwarf.get(f)]
    wrong += _wrong_sections(out, sections)
    assert not wrong, "\n".join(wrong)


# 3.14 checks these too (its _Py_DebugOffsets grew set, generator and frame
# stackpointer entries).
MEMBERS_3_14 = dict(MEMBERS, **{
    "iframe_stackpointer": "interpreter_frame.stackpointer",
    "set_sizeof": "set_object.size", "set_used": "set_object.used",
    "set_table": "set_object.table", "set_mask": "set_object.mask",
    "gen_frame_state": "gen_object.gi_frame_state",
})


def test_positions_match_dwarf_3_14():
    target = harness.target_by_label("cpython-3.14.7")
    harness.require(target)
    subprocess.run(["make", "-s", "build/ph-dump-debug-offsets"], cwd=harness.REPO, check=True)
    lines = subprocess.run([os.path.join(harness.REPO, "build", "ph-dump-debug-offsets"), "14"],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    checks, sections = _parse(lines)
    assert set(checks) == set(MEMBERS_3_14)
    expr = "; ".join("print(%r, int(gdb.parse_and_eval('(long)&((struct _Py_DebugOffsets *)0)->%s')))"
                     % (f, MEMBERS_3_14[f]) for f in sorted(checks))
    expr += "; print('SIZE', gdb.lookup_type('struct _Py_DebugOffsets').sizeof)"
    expr += "; " + _section_expr(MEMBERS_3_14, checks)
    out = subprocess.run(["gdb", "-nx", "-batch", target.python, "-ex", "python " + expr],
                         check=True, capture_output=True, text=True).stdout
    dwarf = dict(l.split() for l in out.splitlines() if l.split() and l.split()[0] in checks)
    wrong = ["%s: core %s, DWARF %s" % (f, checks[f], dwarf.get(f)) for f in checks if checks[f] != dwarf.get(f)]
    wrong += _wrong_sections(out, sections)
    assert not wrong, "\n".join(wrong)
    # the size the core reads (DEBUG_OFFSETS_3_14_SIZE in core/src/debug_offsets.c)
    size = [l.split()[1] for l in out.splitlines() if l.startswith("SIZE ")]
    assert size == ["760"], size


# info says where every part of the layout came from: on the real 3.13.0 and
# 3.14.7 the fields their _Py_DebugOffsets describe are taken from them (and
# agree with the tables), the rest from the table; nothing is assumed.
@pytest.mark.parametrize("label,fields,table", [
    ("pyenv-3.13.0", 43, "the table of CPython 3.13"),
    ("cpython-3.14.7", 49, "the table of CPython 3.14.7"),
])
def test_info_says_where_the_layout_came_from(label, fields, table, tmp_path):
    target = harness.target_by_label(label)
    harness.require(target)
    p = harness.start_stopped_python(target.python, str(tmp_path))
    try:
        doc = harness.run_probe(["--pid", p.pid, "--json", "info"]).json()
        text = harness.run_probe(["--pid", p.pid, "info"]).expect_ok().stdout
    finally:
        p.kill()
    origin = doc["layout_origin"]
    assert doc["python"]["layout"] == "debug_offsets", doc
    assert doc["layout_checked"] is True, origin
    assert doc["warning"] is None, doc["warning"]
    assert "_Py_DebugOffsets (%d fields" % fields in origin, origin
    assert "0 differ from the table" in origin, origin
    assert table in origin, origin
    assert "GC lists: generational" in origin, origin
    for line in origin.splitlines():
        assert line in text, (line, text)


def _relabel(src, dst, hex_version):
    """A copy of the static interpreter src whose Py_Version and
    _Py_DebugOffsets.version say hex_version (nothing else changes: CPython
    reads neither itself)."""
    import struct
    nm = subprocess.run(["nm", src], check=True, capture_output=True, text=True).stdout
    py_version = [int(l.split()[0], 16) for l in nm.splitlines()
                  if l.split()[-1:] == ["Py_Version"]]
    sections = subprocess.run(["readelf", "-SW", src], check=True, capture_output=True,
                              text=True).stdout
    data = bytearray(open(src, "rb").read())
    offsets = []
    for line in sections.splitlines():
        w = line.replace("[ ", "[").split()
        if len(w) > 5 and w[1] in (".rodata", ".PyRuntime"):
            addr, off = int(w[3], 16), int(w[4], 16)
            if w[1] == ".PyRuntime":
                assert data[off:off + 8] == b"xdebugpy"
                offsets.append(off + 8)
            elif py_version:
                offsets.append(py_version[0] - addr + off)
    assert len(offsets) == 2, (py_version, offsets)
    for off in offsets:
        assert struct.unpack_from("<Q", data, off)[0] == 0x030E07F0
        struct.pack_into("<Q", data, off, hex_version)
    open(dst, "wb").write(data)
    os.chmod(dst, 0o755)


# A CPython newer than every table is read from its _Py_DebugOffsets as
# 3.15's struct, and checked: the real 3.14.7, relabelled 3.16.0 (its 760-byte
# _Py_DebugOffsets then read where 3.15's 888-byte one has its fields), is
# refused in one sentence, exit status 1, nothing walked.
def test_newer_release_with_another_layout_refused(tmp_path):
    target = harness.target_by_label("cpython-3.14.7")
    harness.require(target)
    python = str(tmp_path / "python3.16")
    _relabel(target.python, python, 0x031000F0)
    p = harness.start_stopped_python(python, str(tmp_path))
    try:
        r = harness.run_probe(["--pid", p.pid, "info"])
    finally:
        p.kill()
    assert r.returncode == 1, r.describe()
    message = r.stderr.strip()
    assert "\n" not in message and "3.16.0" in message and "_Py_DebugOffsets" in message, \
        r.describe()


# The micro version decides the collector, and the target's _Py_DebugOffsets
# must agree: the real 3.14.7 relabelled 3.14.5 (the same generational GC
# state, 264 bytes) is walked as before; relabelled 3.14.3 (whose incremental
# state is 240 bytes) it is refused in one sentence naming the disagreement.
def test_micro_version_decides_the_gc_state(tmp_path):
    target = harness.target_by_label("cpython-3.14.7")
    harness.require(target)
    results = {}
    for hexv, name in ((0x030E05F0, "3.14.5"), (0x030E03F0, "3.14.3")):
        python = str(tmp_path / ("python" + name))
        _relabel(target.python, python, hexv)
        p = harness.start_stopped_python(python, str(tmp_path), name=name)
        try:
            results[name] = harness.run_probe(["--pid", p.pid, "--json", "info"])
        finally:
            p.kill()
    doc = results["3.14.5"].json()
    assert doc["python"]["version"] == "3.14.5"
    assert "generational (3.14.5+)" in doc["layout_origin"], doc["layout_origin"]
    assert doc["objects"] > 1000 and doc["skipped"] == 0, doc
    r = results["3.14.3"]
    assert r.returncode == 1, r.describe()
    message = r.stderr.strip()
    assert "\n" not in message and "GC state of 264 bytes" in message and "240" in message, \
        r.describe()
