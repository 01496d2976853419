"""Run inside gdb (-x) by test_exact.py: every object of probe-heap's index,
compared with the oracle's file (PH_SAMPLES), and for the first objects only
probe-heap has, who refers to them.  Writes PH_OUT (JSON)."""

import json
import os

import probeheap

N_EXPLAIN = 1000

oracle = set()
with open(os.environ["PH_SAMPLES"]) as f:
    for line in f:
        if not line.startswith("#"):
            oracle.add(int(line.split(" ", 1)[0], 16))
h = probeheap.Heap()
info = h.info()
objs = h.addresses()
probe_only = [o for o in objs if o[0] not in oracle]
explained = []
for addr, tp, flags in probe_only[:N_EXPLAIN]:
    try:
        refs = [{"address": r.get("address"), "type": r.get("type"), "edge": r.get("edge"),
                 "conservative": r.get("conservative"), "root": r.get("root"),
                 "weak": r.get("weak")}
                for r in h.referrers(addr)[:4]]
    except Exception as e:          # an answer, not the end of the run
        refs = [{"error": str(e)}]
    explained.append(refs)
samples = {}
with open(os.environ["PH_CENSUS"]) as f:
    for label, (addr, _size) in json.load(f).get("samples", {}).items():
        samples[label] = h.object(int(addr, 16))
with open(os.environ["PH_OUT"], "w") as f:
    json.dump({"info": {k: v for k, v in info.items() if isinstance(v, (int, str, float, bool))},
               "skipped": info.get("skipped"), "skips": info.get("skipped_refs"),
               "probes": info.get("probes"),
               "objects": objs, "referrers": explained, "samples": samples}, f)
