"""Run inside gdb (-x): what the tool says of the services workload
(workloads/services.py) through the scripting API, written to PH_OUT:
the partition by type, the referents of the deques, the backrefs of a
queued dict, each sample's object
and sizes, the leaked addresses, and the walk's skipped count."""

import json
import os

import probeheap

doc = json.load(open(os.environ["PH_SAMPLES"]))
samples = doc["samples"]
h = probeheap.Heap()
p = h.partition(by="type")
out = {"partition": {"count": p.count, "size": p.size,
                     "rows": [{"type": r.type, "count": r.count, "size": r.size,
                               "estimate": r.estimate} for r in p.rows]},
       "objects": {}, "sizes": {}, "referents": {}}
for label, s in samples.items():
    addr = int(s["address"], 16)
    try:
        out["objects"][label] = h.object(addr)
    except probeheap.Error:  # the walk found no object there
        out["objects"][label] = None
    o = h.obj(addr)
    out["sizes"][label] = {"flat": o.flat, "deep": o.deep, "deep_count": o.deep_count}
for label in ("deque", "queue deque", "asyncio queue deque", "partial", "defaultdict"):
    out["referents"][label] = h.referents(int(samples[label]["address"], 16))
# a dict in the middle of the queue.Queue's deque (item 3000 of 6000)
queued = int(doc["workload"]["queue_dicts"][3000], 16)
out["backrefs"] = h.backrefs(queued)
leaks = h.leaks(addresses=True)
out["leaks"] = leaks
# what each leaked object is (a healthy heap has none, but CPython 3.8 itself)
out["leaked_previews"] = {}
for row in leaks["leaked"]["rows"]:
    for a in row["addresses"][:20]:
        try:
            out["leaked_previews"][hex(a)] = h.object(a).get("preview")
        except probeheap.Error:
            out["leaked_previews"][hex(a)] = None
out["info"] = h.info()
with open(os.environ["PH_OUT"], "w") as f:
    json.dump(out, f, default=str)
