"""Threads blocked at known places, each stack recorded in process; then SIGSTOP.

Threads wait in Event.wait, in Lock.acquire called directly, in time.sleep,
inside a generator, inside a coroutine driven by send(), in a closure, in a
method, in a comprehension, at the bottom of a recursion, in an asyncio
loop's select, under sys.settrace, and in a thread started with _thread
(no threading frames).
The main thread waits too.  Once every thread is blocked, a last thread
(the stopper) records every thread's stack with sys._current_frames(): for
each frame, innermost first, its function (co_qualname on 3.11+, co_name
before, as CPython's own tracebacks name them), file and f_lineno (CPython's
PyFrame_GetLineNumber).  Its own stack it records as it will be when it
stops: in stop(), at the pthread_kill line, called from the line marked
CALL_STOP.  Then it stops the process.

usage: threads.py OUT.json -> {"version", "pid", "main": ident,
    "threads": {ident: {"name", "native_id", "frames": [[function, file, line]]}}}"""

import _thread
import asyncio
import json
import os
import signal
import sys
import threading
import time

never = threading.Event()          # never set: waiting on it blocks for good
held = threading.Lock()
held.acquire()                     # held for good: acquiring it blocks
native_ids = {}                    # ident -> threading.get_native_id(), by each thread
ready = {}                         # ident -> set just before the thread blocks


def about_to_block():
    ident = threading.get_ident()
    native_ids[ident] = threading.get_native_id()
    ready[ident] = True


def event_waiter():
    payload = bytearray(123457)    # only this frame holds it: retained = sys.getsizeof(payload)
    count = 4242
    about_to_block()
    never.wait()
    return payload, count


def lock_waiter():
    about_to_block()
    held.acquire()


def sleeper():
    about_to_block()
    time.sleep(100000)


def generator_body():
    yield 1
    about_to_block()
    never.wait()
    yield 2


def generator_driver():
    for _ in generator_body():
        pass


async def coroutine_body(n):
    about_to_block()
    held.acquire()
    return n


def coroutine_driver():
    coroutine_body(7).send(None)


def make_closure():
    delay = 100000

    def closure():
        about_to_block()
        time.sleep(delay)
    return closure


class Worker:
    def method(self, depth):
        if depth:
            return self.method(depth - 1)
        about_to_block()
        return never.wait()


def comprehension():
    about_to_block()
    return [held.acquire() for _ in range(1)]


def recurse(n):
    if n == 0:
        about_to_block()
        held.acquire()
    return recurse(n - 1) + 1


async def async_main():
    about_to_block()
    await asyncio.sleep(100000)


def loop_runner():
    asyncio.run(async_main())


def raw_thread():
    about_to_block()
    held.acquire()


def traced_body():
    about_to_block()
    held.acquire(
        True)


def tracer(frame, event, arg):
    return tracer


def traced():
    # While a thread is traced, frame.f_lineno is the line the tracer saw last.
    sys.settrace(tracer)
    traced_body()


def function_name(code):
    return getattr(code, "co_qualname", code.co_name)


def stack_of(frame):
    out = []
    while frame is not None:
        out.append([function_name(frame.f_code), frame.f_code.co_filename, frame.f_lineno])
        frame = frame.f_back
    return out


def marked_line(marker):
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith("# " + marker):
                return n
    raise RuntimeError("no line marked " + marker)


def wait_until_blocked(idents):
    """Until every thread has said it blocks and three snapshots of the
    stacks 100 ms apart agree."""
    deadline = time.time() + 60
    last, same = None, 0
    while time.time() < deadline:
        if all(ready.get(i) for i in idents):
            frames = sys._current_frames()
            snap = {i: stack_of(frames.get(i)) for i in idents}
            same = same + 1 if snap == last else 0
            last = snap
            if same >= 2:
                return
        time.sleep(0.1)
    raise RuntimeError("the threads did not block: %r" % {i: ready.get(i) for i in idents})


def stop():
    # SIGSTOP sent to this thread, not to the process: a signal sent with
    # kill() goes to whichever thread the kernel picks (the main thread,
    # asleep here), and this one could run on, out of stop(), before the
    # group stop reached it; sent to itself, it stops on leaving the call.
    signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)  # STOP


def type_name(v):
    """probe-heap's name of a type: tp_name, module.qualname for classes."""
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__qualname__)


def details_of(frame):
    """Per frame, innermost first: its source line's text and its locals
    (name -> type, id) from f_locals; cell and free variables apart (the
    frame's slot holds the cell, f_locals its contents)."""
    import linecache
    out = []
    while frame is not None:
        co = frame.f_code
        hidden = set(co.co_cellvars) | set(co.co_freevars)
        # a module's or class body's locals are a dict, not the frame's slots
        values = dict(frame.f_locals) if co.co_flags & 1 else {}
        out.append({"source": linecache.getline(co.co_filename, frame.f_lineno).strip() or None,
                    "cells": sorted(hidden & set(values)),
                    "locals": {k: {"type": type_name(v), "id": id(v),
                                   "size": sys.getsizeof(v) if isinstance(v, bytearray) else None}
                               for k, v in values.items() if k not in hidden}})
        frame = frame.f_back
    return out


def stopper(out_path, idents, names):
    wait_until_blocked(idents)
    frames = sys._current_frames()
    me = threading.get_ident()
    doc = {"version": sys.version.split()[0], "pid": os.getpid(), "main": threading.main_thread().ident,
           "threads": {}}
    for ident in idents:
        doc["threads"][str(ident)] = {"name": names[ident], "native_id": native_ids[ident],
                                      "frames": stack_of(frames[ident])}
        t = threading._active.get(ident)
        doc.setdefault("details", {})[str(ident)] = {"threading_name": t.name if t else None,
                                                      "frames": details_of(frames[ident])}
    here = sys._getframe()
    mine = [[function_name(stop.__code__), stop.__code__.co_filename, marked_line("STOP")],
            [function_name(here.f_code), here.f_code.co_filename, marked_line("CALL_STOP")]]
    doc["threads"][str(me)] = {"name": "stopper", "native_id": threading.get_native_id(),
                               "frames": mine + stack_of(here.f_back)}
    with open(out_path, "w") as f:
        json.dump(doc, f)
    stop()  # CALL_STOP


def main(out_path):
    targets = [("event", event_waiter), ("lock", lock_waiter), ("sleep", sleeper),
               ("generator", generator_driver), ("coroutine", coroutine_driver),
               ("closure", make_closure()), ("method", lambda: Worker().method(3)),
               ("comprehension", comprehension), ("recursion", lambda: recurse(25)),
               ("asyncio", loop_runner), ("traced", traced)]
    names = {}
    for name, fn in targets:
        t = threading.Thread(target=fn, name=name, daemon=True)
        t.start()
        names[t.ident] = name
    names[_thread.start_new_thread(raw_thread, ())] = "_thread"
    me = threading.get_ident()
    names[me] = "main"
    idents = list(names)
    threading.Thread(target=stopper, args=(out_path, idents, names), name="stopper",
                     daemon=True).start()
    about_to_block()
    never.wait()


if __name__ == "__main__":
    main(sys.argv[1])
