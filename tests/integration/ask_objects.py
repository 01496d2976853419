"""Run inside gdb (-x): looks each sampled address up with the scripting API
and writes what the tool says.  PH_SAMPLES names the samples JSON, PH_OUT the
answer file."""

import json
import os

import probeheap

samples = json.load(open(os.environ["PH_SAMPLES"]))["samples"]
h = probeheap.Heap()


def lookup(addr):
    """The tool's object at addr; None when the walk found none (h.object raises)."""
    try:
        return h.object(int(addr, 16))
    except probeheap.Error:
        return None


out = {addr: lookup(addr) for _label, addr, _t, _s in samples}
with open(os.environ["PH_OUT"], "w") as f:
    json.dump(out, f)
