"""The value of a layout spec expression (tools/layout_spec.py) in the DWARF of a
CPython build, through gdb's type API: used inside gdb by tools/gen_layout.py
(the tables) and tests/tools/layout_fields.py (the DWARF test)."""

import re

from layout_spec import FIELD_NAMES, is_dwarf, parse_expr, spec_for


def _member(gdb, t, name):
    """(offset in bytes, gdb.Type) of member `name` in struct/union type t,
    looking through anonymous struct/union members."""
    for f in t.fields():
        if f.name == name:
            if f.bitpos % 8:
                raise ValueError("%s is a bit-field" % name)
            return f.bitpos // 8, f.type
    for f in t.fields():
        if f.name is None or f.name == "":
            ft = f.type.strip_typedefs()
            if ft.code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
                try:
                    off, mt = _member(gdb, ft, name)
                    return f.bitpos // 8 + off, mt
                except KeyError:
                    pass
    raise KeyError(name)


def _lookup(gdb, tname):
    t = gdb.lookup_type(tname)
    return t.strip_typedefs()


def _walk(gdb, tname, path):
    t = _lookup(gdb, tname)
    off = 0
    for part in path.split("."):
        m = re.match(r"^(\w+)((?:\[\d+\])*)$", part)
        if not m:
            raise ValueError("bad member path %r" % path)
        st = t.strip_typedefs()
        if st.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            raise ValueError("%s: %s is not a struct" % (path, st))
        if not st.fields():
            raise ValueError("%s: %s has no fields (incomplete type?)" % (path, st))
        try:
            moff, t = _member(gdb, st, m.group(1))
        except KeyError:
            raise ValueError("no member %r in %s" % (m.group(1), st))
        off += moff
        for idx in re.findall(r"\[(\d+)\]", m.group(2)):
            at = t.strip_typedefs()
            if at.code != gdb.TYPE_CODE_ARRAY:
                raise ValueError("%s is not an array" % part)
            t = at.target()
            off += int(idx) * t.sizeof
    return off, t


def evaluate(gdb, expr):
    """Evaluate one DWARF expression against the loaded objfile."""
    op, tname, path = parse_expr(expr)
    if op == "sizeof":
        return int(_lookup(gdb, tname).sizeof)
    off, t = _walk(gdb, tname, path)
    if op == "offsetof":
        return int(off)
    at = t.strip_typedefs()
    if at.code != gdb.TYPE_CODE_ARRAY:
        raise ValueError("%s is not an array" % path)
    lo, hi = at.range()
    return int(hi - lo + 1)


def evaluate_version(gdb, version):
    """{field: int} for every DWARF field; {field: {"error": msg}} on failure."""
    out = {}
    for name in FIELD_NAMES:
        spec = spec_for(name, version)
        if not is_dwarf(spec):
            continue
        try:
            out[name] = evaluate(gdb, spec)
        except Exception as e:  # report, do not stop: the test names the field
            out[name] = {"error": "%s: %s" % (spec, e)}
    return out


def has_debug_info(gdb):
    try:
        return _lookup(gdb, "PyInterpreterState").sizeof > 0 and \
            bool(_lookup(gdb, "PyInterpreterState").fields())
    except Exception:
        return False
