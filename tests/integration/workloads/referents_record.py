"""The in-process half of the referents oracle (issue 13): at the stop,
every GC-tracked object's gc.get_referents(), written to a file, then
SIGSTOP.  Imported by the referents workloads (referents_zoo.py).

record_and_stop(path, info) writes

    path + ".refs"   one line per object of gc.get_objects():
                     "ADDR TYPE REF REF ..." (hex ids; TYPE: module.qualname)
    path             {"python": version, "objects": N, "workload": info}

and stops itself.  The collector is off from the first import (nothing it
recorded is freed before the stop); what is made while recording (the
list of objects, the lines) is made after gc.get_objects() and is not in
the record.  Whatever calls it must not return before the stop: its frame
and the caller's stay as they were recorded."""

import gc
gc.disable()

import json
import os
import signal
import sys


def _type_name(t):
    m = t.__dict__.get("__module__")
    if not isinstance(m, str):      # a static type's: type's own descriptor
        m = getattr(t, "__module__", None)
    q = getattr(t, "__qualname__", t.__name__)
    return q if m in (None, "builtins") else "%s.%s" % (m, q)


def record_and_stop(path, info=None):
    me = sys._getframe()        # its locals change after the record: left out
    objs = gc.get_objects()
    names = {}
    n = 0
    with open(path + ".refs", "w") as f:
        for o in objs:
            if o is me:
                continue
            t = type(o)
            name = names.get(t)
            if name is None:
                try:
                    name = _type_name(t).replace(" ", "_")
                except Exception:
                    name = "?"
                names[t] = name
            f.write("%x %s %s\n" % (id(o), name,
                                    " ".join("%x" % id(r) for r in gc.get_referents(o))))
            n += 1
        del objs, o
    with open(path + ".tmp", "w") as f:
        json.dump({"python": sys.version.split()[0], "objects": n, "workload": info or {}}, f)
    os.rename(path + ".tmp", path)
    kill, pid, sig = os.kill, os.getpid(), signal.SIGSTOP
    while True:
        kill(pid, sig)
