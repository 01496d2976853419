"""A heap of about N objects (argv[2]), then SIGSTOP: for tests that need a
walk of more than a second.  usage: big.py OUT.json N"""

import json
import os
import signal
import sys


class Item:
    def __init__(self, i):
        self.key = "item-%d" % i
        self.tags = [i]


items = [Item(i) for i in range(int(sys.argv[2]) // 4)]
with open(sys.argv[1], "w") as f:
    json.dump({"items": len(items)}, f)
os.kill(os.getpid(), signal.SIGSTOP)
