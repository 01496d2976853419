"""A heap built by many threads at once, for free-threaded CPython (3.14t).

    python3.Xt -B free_threaded.py CENSUS.json [MI_PAGES_DIR]

Eight worker threads start together (a barrier) and allocate concurrently,
each in its own mimalloc heaps: instances of a class of its own
(Work0..Work7), instances of a class they share (Shared), dicts, lists and
strings; they put what they make in one dict that every thread writes to
(SHARED) and in lists of their own, then park on an Event, keeping private
locals.  Objects also cross threads: every worker keeps a reference to the
items of the worker before it.  A ninth thread (the leaver) allocates
Orphan instances, kept in a global, and unreachable self-cycles (LeftCycle,
LeftCycleDict: gc is disabled), and is parked too while the census runs.

A refcount bug, as C code makes it: every worker leaks LEAKS instances of
Leaked (an extra reference with ctypes.pythonapi.Py_IncRef, then every
Python reference dropped), and the leaver leaks LeakedByLeaver instances,
which end up in its abandoned segments.  Nothing else refers to them.

Then the census (census.py: gc.get_objects() and its closure) is written to
CENSUS.json, the leaver is let go and joined: when its thread state is
deleted, mimalloc abandons its segments, whose live blocks (the Orphans)
go to the interpreter's abandoned pool (pystate.c tstate_mimalloc_clear:
_mi_thread_abandon), where only a walk of the abandoned segments finds
them.  Nothing of size is allocated after that (no thread reclaims the
segments), and the process stops itself with SIGSTOP, again if continued.
What the leaver's exit frees (its frame, its thread state) is a handful of
objects of types with fewer than 100 instances.

With MI_PAGES_DIR (where the test built mi_pages.c for this Python), the
last thing before the stop is mimalloc's pages counted in process
(mi_pages.take), written to CENSUS.json.mimalloc (a Python literal), and taken again until
writing it changed nothing: the process stops with the heap it describes.
"""

import gc
gc.disable()

import os
import sys
import signal
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import census   # noqa: E402

import ctypes   # noqa: E402

incref = ctypes.pythonapi.Py_IncRef
incref.argtypes = [ctypes.py_object]
incref.restype = None

NWORKERS = 8
LEAKS = 7           # leaked by each worker, and by the leaver
PER_THREAD = 300
ORPHANS = 500
CYCLES = 200

SHARED = {}         # written by every thread
KEEP = []           # what each worker made, by worker
ORPHAN_KEEP = []    # the leaver's objects, alive after it exits
# sys.getallocatedblocks() as the process stops: every allocated block of
# every thread's mimalloc heaps and of the abandoned pool (an int made after
# the count, and the one it replaces: a block or two off)
ALLOCATED = [0]


class Shared(object):
    def __init__(self, owner, i):
        self.owner = owner
        self.i = i


class LeftCycle(object):
    """Unreachable self-cycles the leaver makes: only a walk of the
    abandoned segments (a GC heap: no pre-header with __slots__) finds them."""
    __slots__ = ('ref',)


class LeftCycleDict(object):
    """The same with a managed dict: in the GC heap with the pre-header."""

    def __init__(self):
        self.ref = self


class Leaked(object):
    """Leaked by a refcount bug in a worker: unreachable, refcount 1."""
    __slots__ = ('owner', 'i')

    def __init__(self, owner, i):
        self.owner = owner
        self.i = i


class LeakedByLeaver(object):
    """The same, by the thread that exits: in an abandoned segment."""

    def __init__(self, i):
        self.i = i


class Orphan(object):
    def __init__(self, i):
        self.i = i
        self.tag = 'orphan-%d' % i


WORK_CLASSES = [type('Work%d' % k, (object,), {'__init__': (lambda self, i: setattr(self, 'i', i))})
                for k in range(NWORKERS)]
for _c in WORK_CLASSES:
    _c.__module__ = __name__
    globals()[_c.__name__] = _c


def worker(k, barrier, made, park):
    barrier.wait()
    cls = WORK_CLASSES[k]
    mine = [cls(i) for i in range(PER_THREAD)]
    shared = [Shared(k, i) for i in range(PER_THREAD)]
    d = {'w%d-%d' % (k, i): [i, str(i) * 3] for i in range(PER_THREAD)}
    for i in range(PER_THREAD):
        SHARED['t%d-%d' % (k, i)] = shared[i]
    KEEP[k] = (mine, shared, d)
    for i in range(LEAKS):
        incref(Leaked(k, i))
    made.release()
    private = [('private', k, i) for i in range(100)]   # this frame's alone
    park.wait()
    return private


def leaver(ready, go):
    for i in range(ORPHANS):
        ORPHAN_KEEP.append(Orphan(i))
    for i in range(CYCLES):
        c = LeftCycle()
        c.ref = c
        LeftCycleDict()
    for i in range(LEAKS):
        incref(LeakedByLeaver(i))
    c = None
    ready.set()
    go.wait()


def mimalloc_oracle(mi, path, count):
    """Writes mi_pages' count of the pages to path; True once writing it
    changed nothing in mimalloc's heaps (ALLOCATED is counted first, so
    that its ints are in the pages counted)."""
    # written with os.write and repr: json's encoder makes reference cycles,
    # which stay (gc is off) and would change the heaps after the count
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    tries = 10
    while tries:   # no iterator to free after the last count
        tries -= 1
        ALLOCATED[0] = count()
        ALLOCATED[0] = count()
        mi.take()
        fd = os.open(path, flags, 0o644)
        os.write(fd, repr(mi.result()).encode())
        os.close(fd)
        if mi.same():
            return True
    return False


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write('usage: free_threaded.py CENSUS.json [MI_PAGES_DIR]\n')
        return 2
    path = sys.argv[1]
    mi = None
    if len(sys.argv) == 3:
        sys.path.insert(0, sys.argv[2])
        import mi_pages as mi
    if not census.FT:
        sys.stderr.write('not a free-threaded build\n')
        return 2
    KEEP.extend([None] * NWORKERS)
    barrier = threading.Barrier(NWORKERS)
    made = threading.Semaphore(0)
    park = threading.Event()
    threads = [threading.Thread(target=worker, args=(k, barrier, made, park), daemon=True)
               for k in range(NWORKERS)]
    for t in threads:
        t.start()
    for _ in range(NWORKERS):
        if not made.acquire(timeout=120):
            sys.stderr.write('a worker did not finish\n')
            return 1
    # objects shared between threads: each worker's list holds the next one's items
    for k in range(NWORKERS):
        KEEP[k][0].append(KEEP[(k + 1) % NWORKERS][1][0])
    ready, go = threading.Event(), threading.Event()
    lv = threading.Thread(target=leaver, args=(ready, go), daemon=True)
    lv.start()
    if not ready.wait(120):
        sys.stderr.write('the leaver did not start\n')
        return 1
    info = {'workers': NWORKERS, 'per_thread': PER_THREAD, 'orphans': ORPHANS,
            'leaked': ['__main__.Leaked', '__main__.LeakedByLeaver'],
            'counts': dict([('__main__.Work%d' % k, PER_THREAD) for k in range(NWORKERS)] +
                           [('__main__.Shared', NWORKERS * PER_THREAD),
                            ('__main__.Orphan', ORPHANS),
                            ('__main__.Leaked', NWORKERS * LEAKS),
                            ('__main__.LeakedByLeaver', LEAKS),
                            ('__main__.LeftCycle', CYCLES),
                            ('__main__.LeftCycleDict', CYCLES)])}
    kill = os.kill
    pid = os.getpid()
    sig = signal.SIGSTOP
    census.take_census(path, workload=info)
    go.set()
    lv.join()
    count = sys.getallocatedblocks
    mi_path = path + '.mimalloc'   # made before: nothing may be freed after the count
    if mi is not None:
        if not mimalloc_oracle(mi, mi_path, count):
            sys.stderr.write('mimalloc\'s heaps kept changing\n')
            return 1
    else:
        ALLOCATED[0] = count()
        ALLOCATED[0] = count()
    while True:
        kill(pid, sig)


if __name__ == '__main__':
    sys.exit(main())
