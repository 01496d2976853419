"""Run inside gdb (-x): the leaks document with every address (the
scripting API's Heap.leaks(addresses=True)), written to PH_OUT."""

import json
import os

import probeheap

with open(os.environ["PH_OUT"], "w") as f:
    json.dump(probeheap.Heap().leaks(addresses=True), f)
