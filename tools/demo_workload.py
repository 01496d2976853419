"""A small service-like heap for `make demo`: a cache of sessions holding
requests, some instances with a __dict__, some with __slots__, and a worker
thread parked with locals.  It prints its pid and stops itself (SIGSTOP) so
that a core can be taken of a quiet process."""

import os
import signal
import sys
import threading


class Request:
    def __init__(self, i):
        self.path = "/api/item/%d" % i
        self.headers = {"user-agent": "demo", "x-id": str(i)}
        self.body = b"x" * (64 + i % 512)


class Session:
    __slots__ = ("user", "history")

    def __init__(self, user):
        self.user = user
        self.history = []


class Cache:
    def __init__(self):
        self._store = {}


cache = Cache()
for u in range(2000):
    s = Session("user%d" % u)
    s.history.extend(Request(u * 10 + k) for k in range(10))
    cache._store["user%d" % u] = s

ready = threading.Event()


def worker():
    backlog = ["job-%d" % i for i in range(5000)]  # held only by this frame
    ready.set()
    threading.Event().wait()


threading.Thread(target=worker, daemon=True, name="worker").start()
ready.wait()
sys.stdout.write("%d\n" % os.getpid())
sys.stdout.flush()
os.kill(os.getpid(), signal.SIGSTOP)
