"""OBJ, as every command takes it: a hex address, a Python path from a module
(__main__:cache._store['key'][3].body), or a gdb expression yielding a
PyObject *."""

import re

import gdb

HEX = re.compile(r"0[xX][0-9a-fA-F]+$")
PATH = re.compile(r"[A-Za-z_][\w.]*:[^:]")


class ObjError(Exception):
    """An OBJ that does not name an object, said in one sentence."""


def address_of(heap, text):
    text = text.strip()
    if not text:
        raise ObjError("which object? give an address, a path like __main__:cache, or a gdb expression")
    if HEX.match(text):
        return int(text, 16)
    if text.isdigit():
        return int(text)
    if PATH.match(text):
        return heap.resolve(text)
    try:
        value = gdb.parse_and_eval(text)
        return int(value.cast(gdb.lookup_type("unsigned long")) if value.type.code == gdb.TYPE_CODE_PTR else value)
    except (gdb.error, gdb.MemoryError, ValueError, OverflowError) as e:
        raise ObjError("%s is not an address, a Python path (module:name...) or a gdb expression "
                       "that gdb understands (%s)" % (text, str(e).strip().rstrip(".")))
