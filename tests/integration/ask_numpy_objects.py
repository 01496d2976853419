"""Run inside gdb (-x): the referents of the arrays of
workloads/numpy_objects.py and the leaked addresses, written to PH_OUT."""

import json
import os

import probeheap

doc = json.load(open(os.environ["PH_SAMPLES"]))
h = probeheap.Heap()
out = {"referents": {k: h.referents(int(a, 16)) for k, a in doc["arrays"].items()},
       "leaks": h.leaks(addresses=True), "info": h.info()}
with open(os.environ["PH_OUT"], "w") as f:
    json.dump(out, f, default=str)
