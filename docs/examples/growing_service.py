"""A service whose cache grows: the workload of the snapshot and diff
example in docs/post-mortem-leaks.md.

It keeps a cache of sessions, each holding requests with headers and a
body, and a log of the events it has seen.  At start it serves 1000
sessions; each SIGUSR1 serves 500 more, and nothing is ever evicted.
After each step it prints its census (counted in the process, with
sys.getsizeof), then waits for the next signal, idle, so that a core
can be taken between two steps:

    $ python3 docs/examples/growing_service.py &
    pid 4242: 1000 sessions, 10000 requests, 10000 bodies of 10375000 bytes, 1000 log lines
    $ gcore -o /tmp/before 4242
    $ kill -USR1 4242
    pid 4242: 1500 sessions, ...
    $ gcore -o /tmp/after 4242
    $ kill 4242
"""

import os
import signal
import sys
import time


class Session:
    def __init__(self, user):
        self.user = user
        self.requests = []


class Request:
    def __init__(self, path, body):
        self.path = path
        self.headers = {"content-type": "application/json", "content-length": str(len(body))}
        self.body = body


CACHE = {}          # user -> Session: never evicted
LOG = []            # one line per session served


def serve(n):
    start = len(CACHE)
    for i in range(start, start + n):
        user = "user%06d" % i
        s = Session(user)
        for k in range(10):
            s.requests.append(Request("/api/v1/items/%d/%d" % (i, k), os.urandom(1000 + k)))
        CACHE[user] = s
        LOG.append("served %s with %d requests" % (user, len(s.requests)))


def census():
    reqs = [r for s in CACHE.values() for r in s.requests]
    return "pid %d: %d sessions, %d requests, %d bodies of %d bytes, %d log lines" % (
        os.getpid(), len(CACHE), len(reqs), len(reqs),
        sum(sys.getsizeof(r.body) for r in reqs), len(LOG))


def main():
    pending = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: pending.append(500))
    serve(1000)
    print(census(), flush=True)
    while True:
        # not signal.pause(): a signal handled between the print and the
        # pause would be lost, and the service would wait forever
        while not pending:
            time.sleep(0.05)
        while pending:
            serve(pending.pop())
            print(census(), flush=True)


if __name__ == "__main__":
    main()
