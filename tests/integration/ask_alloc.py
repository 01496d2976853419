"""Run inside gdb (-x): the allocator walk through the scripting API
(Heap.alloc()), the alloc command's JSON and text, the heap's info, and what
gdb's symbols (when there are any) say about obmalloc's file statics on
3.8-3.11: &arenas, and the count of object blocks that came from malloc
(raw_allocated_blocks, or 3.8's _Py_AllocatedBlocks, the total).  With LTO
(Debian) the statics are named NAME.lto_priv.0.  Written to PH_OUT."""

import json
import os

import gdb

from probeheap import alloc, state


def symbol(name, deref=False):
    for spelling in (name, "'%s.lto_priv.0'" % name):
        expr = ("*(long *)&%s" if deref else "(unsigned long)&%s") % spelling
        try:
            return int(gdb.parse_and_eval(expr))
        except (gdb.error, gdb.MemoryError):
            continue
    return None


h = state.heap(quiet=True)
out = {
    "alloc": h.alloc(),
    "info": h.info(),
    "json": json.loads(alloc.cmd_alloc(["--json"], False)),
    "text": alloc.cmd_alloc([], False),
    "symbols": {
        "arenas": symbol("arenas"),
        "raw_allocated_blocks": symbol("raw_allocated_blocks", deref=True),
        "_Py_AllocatedBlocks": symbol("_Py_AllocatedBlocks", deref=True),
    },
}
with open(os.environ["PH_OUT"], "w") as f:
    json.dump(out, f)
