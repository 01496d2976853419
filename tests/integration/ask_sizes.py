"""Run inside gdb (-x): the sizes of each sampled address through the
scripting API (Heap.obj), and of some paths; written to PH_OUT."""

import json
import os

import probeheap

samples = json.load(open(os.environ["PH_SAMPLES"]))["samples"]
h = probeheap.Heap()
out = {}
for label, s in samples.items():
    o = h.obj(s["address"])
    out[label] = {k: getattr(o, k) for k in ("flat", "deep", "deep_count", "retained", "retained_count")}
paths = {"cache": "__main__:cache", "one request": "__main__:cache['k523645']",
         "rows": "__main__:holder.rows", "shared": "__main__:cache['k0'].meta['shared']"}
out["paths"] = {label: h.obj(path).address for label, path in paths.items()}
with open(os.environ["PH_OUT"], "w") as f:
    json.dump(out, f)
