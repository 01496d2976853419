"""probe-heap: where the memory of a CPython process went, from outside it.

Scripting API (inside gdb):

    import probeheap
    h = probeheap.Heap()                 # the selected inferior or core
    p = h.partition(by="type")
    print(p.count, p.size, p.rows[0])    # Row(kind, type, count, size, estimate)
    print(h.info()["walk_seconds"])
    print(h.object(0x7f3a12c4b0))        # {'type': ..., 'kind': ..., 'flat': ...}
"""

import collections

Row = collections.namedtuple("Row", "kind type count size estimate")


class Partition:
    def __init__(self, part, by):
        from .commands import HEADERS
        self._part, self.by, self._header = part, by, HEADERS[by]
        self.count, self.size = part.count, part.size
        self.rows = [Row(*r) for r in part.rows()]

    def text(self, first=0, n=10):
        """heapy's table text for rows [first, first + n)."""
        return self._part.text(self._header, first, n)

    def __str__(self):
        return self.text()


class Heap:
    """The heap of gdb's selected inferior (process or core), indexed once per stop."""

    def __init__(self):
        from . import state
        self._heap = state.heap(quiet=True)

    def info(self):
        return self._heap.info()

    def partition(self, by="kind"):
        return Partition(self._heap.partition(by), by)

    def object(self, address):
        """The object at address as the walk found it: a dict with address,
        type, kind, flat (sys.getsizeof), estimate and reachable; or None."""
        return self._heap.object(int(address))
