"""numpy arrays of dtype=object holding the only references to their
elements (strs, dicts, instances): a 1-d array, a 2-d one, and a view of
the first (which owns nothing); the id() of every element in buffer order,
written to OUT.json; then SIGSTOP.

usage: numpy_objects.py OUT.json"""

import json
import os
import signal
import sys

import numpy


class Elem(object):
    def __init__(self, i):
        self.i = i


def fill(n, start):
    out = numpy.empty(n, dtype=object)
    for i in range(n):
        k = start + i
        out[i] = ("elem-%d" % k) if k % 3 == 0 else {"k": k} if k % 3 == 1 else Elem(k)
    return out


ONE = fill(3000, 0)
TWO = fill(600, 10000).reshape(20, 30).copy()  # owns its data (reshape alone is a view)
VIEW = ONE[100:200]
doc = {"version": sys.version.split()[0],
       "arrays": {"one": hex(id(ONE)), "two": hex(id(TWO)), "view": hex(id(VIEW))},
       "elements": {"one": [hex(id(o)) for o in ONE], "two": [hex(id(o)) for o in TWO.ravel()]}}
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(doc, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
del doc
os.kill(os.getpid(), signal.SIGSTOP)
