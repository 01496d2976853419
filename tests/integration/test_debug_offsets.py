"""The positions in _Py_DebugOffsets that the core checks its 3.13 and 3.14
tables against (core/src/cpython/debug_offsets.c) are those of the DWARF of CPython
3.13 and 3.14, and name the members that mean the same field."""

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


def test_positions_match_dwarf():
    target = harness.target_by_label("pyenv-3.13.0")
    harness.require(target)
    lib = os.path.join(os.path.dirname(os.path.dirname(target.python)), "lib", "libpython3.13.so.1.0")
    subprocess.run(["make", "-s", "build/ph-dump-debug-offsets"], cwd=harness.REPO, check=True)
    lines = subprocess.run([os.path.join(harness.REPO, "build", "ph-dump-debug-offsets")],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    checks = dict(l.split() for l in lines if l)
    assert set(checks) == set(MEMBERS)
    expr = "; ".join("print(%r, int(gdb.parse_and_eval('(long)&((struct _Py_DebugOffsets *)0)->%s')))"
                     % (f, MEMBERS[f]) for f in sorted(checks))
    out = subprocess.run(["gdb", "-nx", "-batch", lib, "-ex", "python " + expr],
                         check=True, capture_output=True, text=True).stdout
    dwarf = dict(l.split() for l in out.splitlines() if l.split()[0] in checks)
    wrong = ["%s: core %s, DWARF %s" % (f, checks[f], dwarf.get(f)) for f in checks if checks[f] != dwarf.get(f)]
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
    checks = dict(l.split() for l in lines if l)
    assert set(checks) == set(MEMBERS_3_14)
    expr = "; ".join("print(%r, int(gdb.parse_and_eval('(long)&((struct _Py_DebugOffsets *)0)->%s')))"
                     % (f, MEMBERS_3_14[f]) for f in sorted(checks))
    expr += "; print('SIZE', gdb.lookup_type('struct _Py_DebugOffsets').sizeof)"
    out = subprocess.run(["gdb", "-nx", "-batch", target.python, "-ex", "python " + expr],
                         check=True, capture_output=True, text=True).stdout
    dwarf = dict(l.split() for l in out.splitlines() if l.split() and l.split()[0] in checks)
    wrong = ["%s: core %s, DWARF %s" % (f, checks[f], dwarf.get(f)) for f in checks if checks[f] != dwarf.get(f)]
    assert not wrong, "\n".join(wrong)
    # the size the core reads (DEBUG_OFFSETS_3_14_SIZE in core/src/debug_offsets.c)
    size = [l.split()[1] for l in out.splitlines() if l.startswith("SIZE ")]
    assert size == ["760"], size
