"""A healthy process stopped inside list.sort: the key function stops it
(SIGSTOP) halfway, while list.sort has taken the items out of the list
(ob_item NULL, allocated -1: CPython's own mark of a list being sorted).

usage: sorting.py OUT.json -> {"python": "3.x.y", "pid": ...}, written first."""

import json
import os
import signal
import sys

PID = os.getpid()
DATA = ["item-%d" % (i * 7919 % 1000) for i in range(1000)]


def key(x):
    if x == "item-500":
        with open(sys.argv[1] + ".tmp", "w") as f:
            json.dump({"python": "%d.%d.%d" % sys.version_info[:3], "pid": PID}, f)
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        while True:
            os.kill(PID, signal.SIGSTOP)
    return x


DATA.sort(key=key)
