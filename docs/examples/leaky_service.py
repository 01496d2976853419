"""A small service that leaks: the workload of docs/leak-hunt.md.

An event bus keeps a module-level registry of handlers.  Every session
subscribes to 'tick' and nobody ever unsubscribes, so the registry keeps
every session alive, with the requests in its history and their payloads.
Around it, the usual suspects: an lru_cache, a closure, a worker thread
with a thread-local buffer and a big local, and a garbage cycle (the
collector is disabled) that a weak reference still points at.

Run it, and it prints its pid and stops itself (SIGSTOP) so that a core
can be taken:

    $ python3 docs/examples/leaky_service.py &
    $ gcore -o /tmp/leaky PID
    $ kill -9 PID
"""

import functools
import gc
import os
import signal
import threading
import weakref

SESSIONS = 300
REQUESTS = 10
PAYLOAD = 10_000            # bytes of each request's body


class Request:
    def __init__(self, n, size):
        self.path = "/api/items/%d" % n
        self.headers = {"user-agent": "demo/1.0", "blob": bytearray(size)}


class Session:
    def __init__(self, user):
        self.user = user
        self.history = []


class Subscription:
    __slots__ = ("topic", "callback", "context")

    def __init__(self, topic, callback, context):
        self.topic, self.callback, self.context = topic, callback, context


_handlers = {}              # topic -> [Subscription]: the leak


def subscribe(topic, session):
    def on_event(event):    # a closure over session
        session.history.append(event)
    sub = Subscription(topic, on_event, {"s": session})
    _handlers.setdefault(topic, []).append(sub)
    return sub


@functools.lru_cache(maxsize=None)
def render(page):
    return ("<li>item %d</li>" % page) * 40


def serve(user, requests, size):
    session = Session(user)
    subscribe("tick", session)
    for n in range(requests):
        session.history.append(Request(n, size))
        render(n % 50)
    return session


class Node:
    def __init__(self, name):
        self.name = name
        self.peer = None


tls = threading.local()
ready = threading.Event()
stop = threading.Event()


def worker():
    tls.scratch = bytearray(2_000_000)            # a thread-local buffer
    backlog = ["job-%d" % i for i in range(1000)]  # a local of a parked thread
    ready.set()
    stop.wait()
    return backlog


def main():
    gc.disable()
    for i in range(SESSIONS):
        serve("user%d" % i, REQUESTS, PAYLOAD)
    # one request much bigger than the others: the one the hunt finds
    _handlers["tick"][123].context["s"].history[7].headers["blob"] = bytearray(3_000_000)
    # a garbage cycle, only weakly referred to: gc.collect() would free it
    a, b = Node("a"), Node("b")
    a.peer, b.peer = b, a
    a.payload = bytearray(1_000_000)
    global last_node
    last_node = weakref.ref(a)
    del a, b
    t = threading.Thread(target=worker, name="worker", daemon=True)
    t.start()
    ready.wait()
    print(os.getpid(), flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
    stop.set()
    t.join()


if __name__ == "__main__":
    main()
