"""Run inside gdb (-x): the walk's info (Heap.info()), written to PH_OUT."""

import json
import os

import probeheap

with open(os.environ["PH_OUT"], "w") as f:
    json.dump(probeheap.Heap().info(), f, default=str)
