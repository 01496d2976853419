"""A small service-like heap for the packaged probe-heap in a trixie root:
it records the in-process truth, then stops itself (SIGSTOP)."""
import gc
import json
import os
import signal
import sys


class Marker:
    def __init__(self, i):
        self.i = i
        self.payload = b"x" * (i % 50)


markers = [Marker(i) for i in range(20000)]
cache = {"k%d" % i: [i, str(i)] for i in range(3000)}
gc.collect()
truth = {
    "version": "%d.%d.%d" % sys.version_info[:3],
    "markers": len(markers),
    "markers_flat": sys.getsizeof(markers),
    "one_marker": id(markers[123]),
    "cache_flat": sys.getsizeof(cache),
    "pid": os.getpid(),
}
with open(sys.argv[1], "w") as f:
    json.dump(truth, f)
os.kill(os.getpid(), signal.SIGSTOP)
