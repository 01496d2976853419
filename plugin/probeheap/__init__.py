"""probe-heap: where the memory of a CPython process went, from outside it.

Scripting API (inside gdb):

    import probeheap
    h = probeheap.Heap()                 # the selected inferior or core
    p = h.partition(by="type")
    s = h.partition(by="rcs", kind="str")  # what refers to the str objects
    print(p.count, p.size, p.rows[0])    # Row(kind, type, count, size, estimate)
    print(h.info()["walk_seconds"])
    print(h.object(0x7f3a12c4b0))        # {'type': ..., 'kind': ..., 'flat': ...}
    b = h.backrefs("__main__:cache", all=3)   # chains from the roots
    print(b["paths"])
    print(h.objects("__main__.Session", limit=5)["count"])

Errors: every method raises probeheap.Error, whose str() is one sentence
and whose .code is the core's error code (0 when raised by the package).
A method given an address that holds no object the walk found raises it
(object, obj, backrefs, referrers, referents, dominators alike); a query by
kind that matches nothing returns an empty answer (objects: count 0;
partition(kind=...): no rows).  Nothing returns None for "not found".
"""

import collections
import functools

try:
    from _probeheap import Error
except ImportError:  # outside gdb (documentation tools): a stand-in of the same shape
    class Error(Exception):
        code = 0

Row = collections.namedtuple("Row", "kind type count size estimate")


class Partition:
    def __init__(self, part, by):
        from .tables import HEADERS
        self._part, self.by, self._header = part, by, HEADERS[by]
        self.count, self.size = part.count, part.size
        self.rows = [Row(*r) for r in part.rows()]

    def text(self, first=0, n=10):
        """heapy's table text for rows [first, first + n)."""
        from .tables import partition_text
        return partition_text(self.count, self.size, self.rows, self._header, first, n)

    def __str__(self):
        return self.text()


class Obj:
    """An object's sizes: flat (sys.getsizeof), deep (asizeof), retained."""

    def __init__(self, sizes):
        self.address, self.type, self.kind = sizes["address"], sizes["type"], sizes["kind"]
        self.flat, self.deep, self.retained = sizes["flat"], sizes["deep"], sizes["retained"]
        self.deep_count, self.retained_count = sizes["deep_count"], sizes["retained_count"]
        self.kinds = sizes["kinds"]

    def __repr__(self):
        return "<%s at 0x%x: flat %d, deep %d, retained %d>" % (
            self.kind, self.address, self.flat, self.deep, self.retained)


def _errors(method):
    """A Heap method whose argument errors (ValueError from the bridge: a bad
    'by', a limit under 1) are probeheap.Error too."""
    @functools.wraps(method)
    def wrapper(*args, **kw):
        try:
            return method(*args, **kw)
        except Error:
            raise
        except (ValueError, TypeError, OverflowError) as e:
            raise Error(str(e)) from None
    return wrapper


class Heap:
    """The heap of gdb's selected inferior (process or core), indexed once per stop."""

    def __init__(self):
        from . import state
        self._heap = state.heap(quiet=True)

    @_errors
    def info(self):
        return self._heap.info()

    @_errors
    def partition(self, by="kind", kind=None):
        """The partition by kind, type, size, module, rcs or via; with kind,
        of that kind's objects only (heapy's drill-down, h[0].byrcs)."""
        return Partition(self._heap.partition(by, kind), by)

    @_errors
    def obj(self, obj):
        """One object, named as the commands take OBJ (address, path, gdb
        expression), with .address .type .kind .flat .deep .retained."""
        from . import objects
        return Obj(self._heap.sizes(objects.address_of(self._heap, str(obj))
                                    if not isinstance(obj, int) else obj))

    @_errors
    def dominators(self, obj=None, depth=1, limit=10):
        """The dominator tree below obj (default: the roots) as a dict."""
        from . import objects
        addr = 0 if obj is None else obj if isinstance(obj, int) else objects.address_of(self._heap, obj)
        return self._heap.dominators(addr, depth, limit)

    def _addr(self, obj):
        from . import objects
        return obj if isinstance(obj, int) else objects.address_of(self._heap, str(obj))

    @_errors
    def backrefs(self, obj, all=1):
        """Shortest chains from a root to obj: a dict with target, reachable,
        garbage, held_weakly, chains (lists of links: address, type, kind,
        preview, size, edge, edge_kind, conservative, weak; the first is the
        root), paths and, when unreachable, referrers."""
        from . import backrefs
        b = self._heap.backrefs(self._addr(obj), all=all)
        b["paths"] = [backrefs.path_of(c) for c in b["chains"]]
        return b

    @_errors
    def referrers(self, obj):
        """The links (objects and roots) referring to obj, labelled."""
        return self._heap.referrers(self._addr(obj))

    @_errors
    def referents(self, obj):
        """The links obj refers to, labelled."""
        return self._heap.referents(self._addr(obj))

    @_errors
    def referents_bulk(self, addresses):
        """For each address, the objects it refers to as (address,
        conservative) pairs, unlabelled, as referents() lists them; None
        where the walk found no object.  One call for a whole heap."""
        return self._heap.referents_plain(list(addresses))

    @_errors
    def objects(self, kind, limit=0, min_size=0):
        """The objects of a kind or type, largest first: a dict with count,
        size and objects (at most limit; 0: all)."""
        return self._heap.objects(kind, limit=limit, min_size=min_size)

    @_errors
    def leaks(self, addresses=False):
        """The objects no root reaches: a dict with leaked, kept and garbage
        (each count, size, rows of kind, count, size, samples; with
        addresses, every object's address too), as 'probe-heap leaks --json'."""
        return self._heap.leaks(addresses)

    @_errors
    def alloc(self):
        """pymalloc's arenas, pools and blocks by size class, as a dict."""
        return self._heap.alloc()

    @_errors
    def threads(self):
        """Every Python thread with its frames, innermost first, as dicts."""
        from . import threads
        return threads.threads(self._heap)

    @_errors
    def addresses(self):
        """Every object of the index as (address, type, flags): flags 1 from
        the roots, 2 on a GC list, 4 held from outside Python, 8 found only
        by a conservative scan of a C object."""
        return self._heap.addresses()

    @_errors
    def report(self, path, against=None):
        """Writes the HTML report (as 'probe-heap report') to path; returns its size in bytes."""
        from . import report
        return report.write(self, path, against)[1]

    @_errors
    def object(self, address):
        """The object at address as the walk found it: a dict with address,
        type, kind, flat (sys.getsizeof), estimate, reachable, preview and
        conservative (found only by a conservative scan of a C object).
        Raises probeheap.Error when the walk found no object there."""
        o = self._heap.object(int(address))
        if o is None:
            err = Error("0x%x is not an object the walk found (not a Python object, or freed memory)"
                        % int(address))
            err.code = 9  # PH_ERR_ARGUMENT, as the other methods' answer
            raise err
        return o

    def suspects(self, min=10, limit=0):
        """MAT's leak suspects: a dict (total, threshold, min, suspects), as
        'probe-heap suspects --json' without python/skipped/partial; see
        probeheap.suspects.get."""
        from . import suspects
        return suspects.get(self._heap, min, limit)

    def owners(self, min_retained=None, max_nodes=10000):
        """Retainer paths of the dominator tree's big nodes: a dict (total,
        min_retained, candidates, paths: [{path, address, retained,
        retained_count, nodes, held}]), largest first."""
        from . import snapshot
        return snapshot.owners(self._heap, min_retained, max_nodes)
