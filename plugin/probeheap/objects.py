"""OBJ, as every command takes it: a hex address, a module by name
(__main__), a Python path from a module (__main__:cache._store['key'][3].body),
or a gdb expression yielding a PyObject *."""

import re

import gdb

import _probeheap

from . import options

HEX = re.compile(r"0[xX][0-9a-fA-F]+$")
PATH = re.compile(r"[A-Za-z_][\w.]*:[^:]")
NAME = re.compile(r"[A-Za-z_][\w.]*$")
NO_MODULE = re.compile(r"there is no module '(.*)' in sys\.modules")
NO_ATTRIBUTE = re.compile(r"step 1, .*: the module (\S+) has no attribute '(.*)'")


class ObjError(_probeheap.Error):
    """An OBJ that does not name an object, said in one sentence."""


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


STEP = re.compile(r": step (\d+), (.+?): ")
EDGE_STEP = re.compile(r"\.[A-Za-z_]\w*$|\[.*\]$")   # the references a path can name


def _steps(path, start):
    """The offsets at which path's steps begin, from start (after 'module:'):
    a step is '.name' or '[...]' ('[' inside a quoted key does not count)."""
    out, depth, quote = [start], 0, None
    for i in range(start, len(path)):
        c = path[i]
        if quote:
            if c == quote and path[i - 1] != "\\":
                quote = None
        elif c in "'\"" and depth:
            quote = c
        elif c == "[":
            if depth == 0 and i > start:
                out.append(i)
            depth += 1
        elif c == "]":
            depth = max(0, depth - 1)
        elif c == "." and depth == 0 and i > start:
            out.append(i)
    return out


def step_choices(heap, prefix):
    """The steps that can follow the path prefix, as a path writes them:
    '.name' for an attribute (a type's or an old instance's __dict__ keys
    included), "['key']" or '[3]' for an item; [] when prefix names nothing."""
    try:
        addr = heap.resolve(prefix)
        links = heap.referents(addr)
    except _probeheap.Error:
        return []
    out = [l["edge"] for l in links if EDGE_STEP.fullmatch(l["edge"]) and l["edge"] != ".__class__"]
    d = next((l["address"] for l in links if l["edge"] == ".__dict__"), None)
    if d is not None:
        try:
            out += ["." + k for k in (m.group(1) for m in (re.fullmatch(r"\['([A-Za-z_]\w*)'\]", l["edge"])
                                                          for l in heap.referents(d)) if m)]
        except _probeheap.Error:
            pass
    return sorted(set(out))


def path_candidates(heap, text):
    """Completions of a partly typed OBJ: the module names sys.modules has,
    then, after 'module:', the module's names, then each step's attributes
    and keys (for gdb's complete)."""
    colon = text.find(":")
    if colon < 0:
        return [m for m in _keys(heap, "sys:modules") if m.startswith(text)]
    module = text[:colon]
    at = _steps(text, colon + 1)[-1]
    if at == colon + 1:
        names = _keys(heap, "sys:modules[%r].__dict__" % module)
        return [module + ":" + n for n in names if (module + ":" + n).startswith(text)]
    prefix = text[:at]
    return [prefix + c for c in step_choices(heap, prefix) if (prefix + c).startswith(text)]


def _path_guess(heap, message, text=None):
    """'; did you mean X?' for a path whose module or any step is misspelt:
    the module among sys.modules, the first name among the module's, a later
    step among the references of the object before it."""
    m = NO_MODULE.search(message)
    if m:
        return options.did_you_mean(m.group(1), _keys(heap, "sys:modules"))
    m = NO_ATTRIBUTE.search(message)
    if m:
        names = _keys(heap, "sys:modules[%r].__dict__" % m.group(1))
        return options.did_you_mean(m.group(2), names)
    m = STEP.search(message)
    if m and text and int(m.group(1)) > 1:
        colon = text.find(":")
        steps = _steps(text, colon + 1) + [len(text)]
        n = int(m.group(1))
        if colon > 0 and n < len(steps):
            prefix = text[:steps[n - 1]]
            return options.did_you_mean(text[steps[n - 1]:steps[n]], step_choices(heap, prefix))
    return ""


def _dotted_guess(heap, text):
    """For 'module.name' that is no module (a '.' where the path wants ':'):
    '; did you mean 'module:name'?' when the module has that name, or one
    close to it."""
    parts = text.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        if _module(heap, module) is None:
            continue
        names = _keys(heap, "sys:modules[%r].__dict__" % module)
        close = parts[i] if parts[i] in names else None
        if close is None:
            import difflib
            got = difflib.get_close_matches(parts[i], names, n=1, cutoff=0.6)
            got = got or [n for n in names if n.lower() == parts[i].lower()]
            close = got[0] if got else None
        if close:
            return "; did you mean %r?" % (module + ":" + ".".join([close] + parts[i + 1:]))
        return ""
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
            guess = _path_guess(heap, str(e), text)
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
                           % (text, ("." in text and _dotted_guess(heap, text))
                              or options.did_you_mean(text, _keys(heap, "sys:modules"))))
        raise ObjError("%s is not an address, a module in sys.modules, a Python path (module:name...) "
                       "or a gdb expression that gdb understands (%s)" % (text, str(e).strip().rstrip(".")))
