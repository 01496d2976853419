"""numpy arrays (owning their data or not, of several dtypes and shapes, a
subclass) with sys.getsizeof of each, as samples.py writes them; then SIGSTOP."""

import json
import os
import signal
import sys

import numpy


def type_name(t):
    """tp_name for static types, module.qualname for heap types (as samples.py)."""
    if t.__flags__ & (1 << 9):
        return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
    return t.__name__ if t.__module__ == "builtins" else t.__module__ + "." + t.__name__


class Sub(numpy.ndarray):
    pass


base = numpy.zeros(1000)
KEEP = [
    ("float64 owning", base),
    ("view", base[10:20]),
    ("int32 2-d", numpy.ones((30, 40), dtype=numpy.int32)),
    ("one element", numpy.array([1.5])),
    ("0-d", numpy.array(3)),
    ("subclass view", numpy.zeros(7).view(Sub)),
    ("reshaped copy", numpy.arange(100).reshape(10, 10).copy()),
    ("empty", numpy.empty((0, 5))),
]
samples = [[label, hex(id(o)), type_name(type(o)), sys.getsizeof(o)] for label, o in KEEP]
with open(sys.argv[1], "w") as f:
    json.dump({"version": sys.version.split()[0], "samples": samples}, f)
del samples
os.kill(os.getpid(), signal.SIGSTOP)
