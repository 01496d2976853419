"""The retained size of an object computed in process, as workloads/sizes.py
does it (the closure through gc.get_referents, minus what sys.getrefcount
says is held from outside), for the workloads that need it.  Neither uses
the roots nor anything probe-heap computes.  Keep the syntax 3.8-compatible."""

import gc
import sys


def refs(o):
    out = gc.get_referents(o)
    if type(o) is dict:
        out.extend(o.keys())   # str-keyed dicts do not traverse their keys
    return out


def closure(x, enter):
    seen = {id(x): x}
    stack = [x]
    while stack:
        o = stack.pop()
        for r in refs(o):
            if id(r) not in seen and enter(r):
                seen[id(r)] = r
                stack.append(r)
    return seen


def type_name(t):
    """A type's name as probe-heap writes it: module.qualname, builtins left off."""
    return t.__qualname__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__qualname__)


def retained(x, by_type=None):
    """(bytes, count) of what x retains; by_type, a dict, gets {type name:
    [count, bytes]} of it."""
    c = closure(x, lambda r: True)
    internal = dict.fromkeys(c, 0)
    o = r = None
    for o in c.values():
        for r in refs(o):
            if id(r) in internal:
                internal[id(r)] += 1
    o = r = None  # the loop variables would hold the last objects they saw
    # The references this code holds itself (c's value, the loop variable,
    # getrefcount's argument), measured on an object nothing else holds.
    cal = {0: object()}
    base = [sys.getrefcount(o) for i, o in cal.items()][0]
    held = [o for i, o in c.items() if i != id(x) and sys.getrefcount(o) - base > internal[i]]
    alive = {}
    for o in held:  # what is held from outside keeps what it reaches, except through X
        if id(o) not in alive:
            alive.update(closure(o, lambda r: id(r) in c and r is not x and id(r) not in alive))
    gone = [o for i, o in c.items() if i not in alive]
    if by_type is not None:
        for o in gone:
            e = by_type.setdefault(type_name(type(o)), [0, 0])
            e[0] += 1
            e[1] += sys.getsizeof(o)
    return sum(map(sys.getsizeof, gone)), len(gone)
