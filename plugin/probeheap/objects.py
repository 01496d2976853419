"""OBJ, as every command takes it: a hex address, a module by name
(__main__), a Python path from a module (__main__:cache._store['key'][3].body),
or a gdb expression yielding a PyObject *."""

import re

import gdb

import _probeheap

HEX = re.compile(r"0[xX][0-9a-fA-F]+$")
PATH = re.compile(r"[A-Za-z_][\w.]*:[^:]")
NAME = re.compile(r"[A-Za-z_][\w.]*$")
NO_MODULE = re.compile(r"there is no module '(.*)' in sys\.modules")
NO_ATTRIBUTE = re.compile(r"step 1, .*: the module (\S+) has no attribute '(.*)'")


class ObjError(_probeheap.Error):
    """An OBJ that does not name an object, said in one sentence."""


def _did_you_mean(word, choices):
    from .commands import did_you_mean  # commands imports this module
    return did_you_mean(word, choices)


def _keys(heap, path):
    """The string keys of the dict a path names, as its references are
    labelled (['name']); [] when the path does not resolve."""
    try:
        links = heap.referents(heap.resolve(path))
    except _probeheap.Error:
        return []
    return [m.group(1) for m in (re.fullmatch(r"\['(.*)'\]", l["edge"]) for l in links) if m]


def _module(heap, name):
    """The module sys.modules holds under name, or None."""
    try:
        return heap.resolve("sys:modules[%r]" % name)
    except _probeheap.Error:
        return None


def _path_guess(heap, message):
    """'; did you mean X?' for a path whose module or first attribute is misspelt."""
    m = NO_MODULE.search(message)
    if m:
        return _did_you_mean(m.group(1), _keys(heap, "sys:modules"))
    m = NO_ATTRIBUTE.search(message)
    if m:
        names = _keys(heap, "sys:modules[%r].__dict__" % m.group(1))
        return _did_you_mean(m.group(2), names)
    return ""


def address_of(heap, text):
    text = text.strip()
    if not text:
        raise ObjError("which object? give an address, a path like __main__:cache, or a gdb expression")
    if HEX.match(text):
        return int(text, 16)
    if text.isdigit():
        return int(text)
    if PATH.match(text):
        try:
            return heap.resolve(text)
        except _probeheap.Error as e:
            guess = _path_guess(heap, str(e))
            if not guess:
                raise
            err = _probeheap.Error(str(e).rstrip(".") + guess)
            err.code = e.code
            raise err from None
    if NAME.match(text):
        addr = _module(heap, text)  # a module by name, before a C symbol of that name
        if addr is not None:
            return addr
    try:
        value = gdb.parse_and_eval(text)
        return int(value.cast(gdb.lookup_type("unsigned long")) if value.type.code == gdb.TYPE_CODE_PTR else value)
    except (gdb.error, gdb.MemoryError, ValueError, OverflowError) as e:
        if NAME.match(text):
            raise ObjError("%s is neither a module in sys.modules nor a symbol gdb knows%s"
                           % (text, _did_you_mean(text, _keys(heap, "sys:modules"))))
        raise ObjError("%s is not an address, a module in sys.modules, a Python path (module:name...) "
                       "or a gdb expression that gdb understands (%s)" % (text, str(e).strip().rstrip(".")))
