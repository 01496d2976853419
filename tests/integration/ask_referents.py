"""Run inside gdb (-x) by test_referents_oracle.py: for every object of the
in-process record (PH_SAMPLES + ".refs", workloads/referents_record.py),
probe-heap's referents of that object (Heap.referents_bulk, one call),
compared with the recorded gc.get_referents().  Writes PH_OUT (JSON):

  objects   how many recorded objects
  unknown   [addr, type] of recorded objects the walk did not index
  changed   [addr, recorded type, type now] of objects freed and replaced
            between the record and the stop (not compared)
  missing   {type: [objects with a referent missing, referents missing,
                    up to 3 examples [addr, missing referent, its
                    type, the object's preview, the referent's]]}
  conservative  {type: referents found only by the conservative scan}
  samples   {label: {type, flat, estimate, scanned, referents}} of the
            workload's samples (scanned: referents found by the conservative
            scan; referents: the first 200 referents' addresses)
  skipped, seconds"""

import collections
import json
import os
import time

import probeheap

t0 = time.time()
records = []
with open(os.environ["PH_SAMPLES"] + ".refs") as f:
    for line in f:
        parts = line.split()
        records.append((int(parts[0], 16), parts[1], [int(r, 16) for r in parts[2:]]))
h = probeheap.Heap()
info = h.info()
t1 = time.time()
got = h.referents_bulk([r[0] for r in records])
t2 = time.time()
types = {r[0]: r[1] for r in records}
indexed = {a: t for a, t, _flags in h.addresses()}
unknown = []
changed = []
missing = collections.defaultdict(lambda: [0, 0, []])
conservative = collections.Counter()
for (addr, tp, want), have in zip(records, got):
    if have is None:
        unknown.append([hex(addr), tp])
        continue
    now = indexed.get(addr)
    if now is not None and now.rsplit(".", 1)[-1] != tp.rsplit(".", 1)[-1]:
        changed.append([hex(addr), tp, now])   # freed and reused after the record
        continue
    haveset = set(l[0] for l in have)
    conservative[tp] += sum(1 for l in have if l[1])
    lost = [r for r in want if r not in haveset]
    if lost:
        m = missing[tp]
        m[0] += 1
        m[1] += len(lost)
        for r in lost[:3 - len(m[2])]:
            m[2].append([hex(addr), hex(r), types.get(r, "?")])


def preview(addr):
    try:
        return h.object(int(addr, 16)).get("preview", "")[:60]
    except probeheap.Error:
        return ""


for m in missing.values():
    m[2] = [e + [preview(e[0]), preview(e[1])] for e in m[2]]
objects = {}
samples = json.load(open(os.environ["PH_SAMPLES"]))["workload"]["samples"]
sample_refs = dict(zip(samples, h.referents_bulk([int(a, 16) for a, _tp, _size in samples.values()])))
for label, (addr, _tp, _size) in samples.items():
    try:
        o = h.object(int(addr, 16))
        objects[label] = {k: o.get(k) for k in ("type", "flat", "estimate")}
        # the sample's referents found by the conservative scan (also for
        # objects the GC does not track, which the record does not list)
        objects[label]["scanned"] = sum(1 for l in sample_refs[label] or () if l[1])
        objects[label]["referents"] = [hex(l[0]) for l in sample_refs[label] or ()][:200]
    except probeheap.Error:
        objects[label] = None
with open(os.environ["PH_OUT"], "w") as f:
    json.dump({"samples": objects, "objects": len(records), "unknown": unknown, "changed": changed, "missing": missing,
               "conservative": {k: v for k, v in conservative.items() if v},
               "skipped": info.get("skipped"), "skips": [dict(k, from_type=indexed.get(k["from"]), from_preview=preview(hex(k["from"])))
                         for k in info.get("skipped_refs") or ()], "index_seconds": t1 - t0,
               "referents_seconds": t2 - t1}, f)
