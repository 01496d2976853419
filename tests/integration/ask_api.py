"""Run inside gdb (-x) on workloads/graphs.py: the scripting API's errors
and its None-or-raise rules, written to PH_OUT."""

import json
import os

import probeheap

ids = json.load(open(os.environ["PH_SAMPLES"]))["ids"]
h = probeheap.Heap()
out = {"is_error_class": isinstance(probeheap.Error("x"), Exception), "calls": {}}


def call(name, fn):
    try:
        r = fn()
        out["calls"][name] = {"returns": r if isinstance(r, (dict, list, int, str, type(None))) else repr(r)}
    except Exception as e:
        out["calls"][name] = {"raises": type(e).__module__ + "." + type(e).__qualname__,
                              "is_probeheap_error": isinstance(e, probeheap.Error),
                              "str": str(e), "args": list(map(str, e.args)), "code": getattr(e, "code", None)}


for name in ("object", "obj", "backrefs", "referrers", "referents", "dominators"):
    call(name + "(0x10)", lambda name=name: getattr(h, name)(0x10))
call("obj(path)", lambda: h.obj("__main__:nosuch"))
call("obj(misspelt)", lambda: h.obj("__main__:tpo"))
call("partition(bogus)", lambda: h.partition(by="bogus"))
call("dominators(limit 0)", lambda: h.dominators(None, limit=0))
call("objects(none)", lambda: h.objects("nosuchkind"))
call("partition(kind none)", lambda: h.partition(by="type", kind="nosuchkind").count)
call("object(top)", lambda: h.object(ids["top"])["type"])
p = h.partition(by="rcs", kind="__main__.Node")
out["drill"] = {"count": p.count, "size": p.size, "rows": [list(r) for r in p.rows]}
with open(os.environ["PH_OUT"], "w") as f:
    json.dump(out, f)
