"""The objects the backrefs/referrers/referents/objects tests ask about.

Imported (as the module `backrefs_heap`) by workloads/backrefs.py, which
calls build() and then records the in-process truth. The structures live in
this module, not in __main__, on purpose: __main__'s globals dict is also
the f_globals (and, for the module-level frame, the f_locals) of frames that
are running, which are roots of their own; no frame runs with this module's
globals, so the only way to its globals is sys.modules['backrefs_heap'], and
each target below has exactly one shortest chain.

Every target is held by exactly one structure of its case (the multi case:
by four), never by anything else, so that the in-process referrers are
known. Keep the syntax 3.8-compatible.
"""

import functools
import json
import weakref


class Target(object):
    """What the chains lead to: no dict, no weakref slot."""
    __slots__ = ('tag',)

    def __init__(self, tag):
        self.tag = tag


class Plain(object):
    """Instances whose __dict__ is materialised on every version."""

    def __init__(self, payload):
        self.payload = payload
        self.other = 1


class Inline(object):
    """Attributes in managed (3.11, 3.12) or inline (3.13) values: the
    __dict__ is never touched, so there is no dict object on 3.11+."""

    def __init__(self, payload):
        self.payload = payload
        self.other = 2


class Slotted(object):
    __slots__ = ('payload', 'extra')

    def __init__(self, payload):
        self.payload = payload
        self.extra = None


class CycleNode(object):
    def __init__(self, name):
        self.name = name
        self.next = None


class WeakTarget(object):
    def __init__(self):
        self.me = self


class GarbageNode(object):
    def __init__(self, tag):
        self.tag = tag
        self.partner = None


class LruResult(object):
    __slots__ = ('k',)

    def __init__(self, k):
        self.k = k


class ThreadPrivate(object):
    __slots__ = ('n',)

    def __init__(self, n):
        self.n = n


class Node(object):
    """The objects test: N_NODES instances, all the same size."""
    __slots__ = ('value', 'next')

    def __init__(self, value, next):
        self.value = value
        self.next = next


class RcsMarker(object):
    """Each instance referenced only by the RcsBag: rcs class "backrefs_heap.RcsBag"."""
    __slots__ = ('i',)

    def __init__(self, i):
        self.i = i


class RcsBag(list):
    pass


class Rcs2Marker(object):
    """Each instance referenced by one list and by one RcsOwner (its dict,
    or the instance itself where attributes live in managed/inline values)."""
    __slots__ = ('i',)

    def __init__(self, i):
        self.i = i


class RcsOwner(object):
    def __init__(self, item):
        self.item = item


class ViaMarker(object):
    """Each instance referenced only through the slot .via_slot: via ".via_slot"."""
    __slots__ = ('i',)

    def __init__(self, i):
        self.i = i


class ViaHolder(object):
    __slots__ = ('via_slot',)

    def __init__(self, m):
        self.via_slot = m


class ViaKeyMarker(object):
    """Each instance referenced only as the value of key 'via_key' of a dict."""
    __slots__ = ('i',)

    def __init__(self, i):
        self.i = i


class PreviewClass(object):
    pass


PREVIEW_ATTRS = ('label', 'count', 'flag', 'extra')


class PreviewInstance(object):
    """An instance whose preview shows its first three attributes, then ..."""

    def __init__(self):
        self.label = 'widget'
        self.count = 3
        self.flag = None
        self.extra = [1, 2]


def make_closure(secret):
    def reveal():
        return secret
    return reveal


def preview_fn(a, b=1):
    return a + b


PREVIEW_FN_LINE = preview_fn.__code__.co_firstlineno


@functools.lru_cache(maxsize=32)
def compute(k):
    """A C type (functools._lru_cache_wrapper) holding its results in
    _lru_list_elem objects (bounded cache): the results are found only by
    the conservative scan."""
    return LruResult(k)


N_NODES = 250
N_PLAIN_EXTRA = 11
N_RCS = 37
N_RCS2 = 23
N_VIA = 29
N_VIA_KEY = 31
LONG_STR_LEN = 200

registry = None
table = None
plain = None
plain_extra = None
inline = None
slotted = None
closure_fn = None
ring = None
ring_weak = None
weak_ref = None
multi_list = None
multi_dict = None
multi_tuple = None
multi_slot = None
nodes = None
previews = None
big = None
rcs_bag = None
rcs_owners = None
rcs_list2 = None
via_holders = None
via_dicts = None


def _build_garbage():
    # unreachable cycles, left for the (disabled) collector
    w = WeakTarget()
    wr = weakref.ref(w)
    g1 = GarbageNode('g1')
    g2 = GarbageNode('g2')
    g1.partner = g2
    g2.partner = g1
    return wr


def build():
    global registry, table, plain, plain_extra, inline, slotted, closure_fn, ring, ring_weak
    global weak_ref, multi_list, multi_dict, multi_tuple, multi_slot, nodes, previews, big
    global rcs_bag, rcs_owners, rcs_list2, via_holders, via_dicts

    registry = {'alpha': {'beta': [None, 'filler', Target('dict')]}, 'gamma': 3}
    table = ('a', ('b', [Target('tuple')]))
    plain = Plain(Target('plain'))
    plain.__dict__      # a real dict on 3.11+ too
    plain_extra = [Plain(i) for i in range(N_PLAIN_EXTRA)]
    for p in plain_extra:
        p.__dict__
    inline = Inline(Target('inline'))
    slotted = Slotted(Target('slots'))
    closure_fn = make_closure(Target('closure'))
    compute(7)
    compute(8)

    a = CycleNode('ring-a')
    b = CycleNode('ring-b')
    a.next = b
    b.next = a
    ring = a
    ring_weak = weakref.ref(b)      # reachable strongly and weakly

    weak_ref = _build_garbage()

    shared = Target('multi')
    multi_list = [shared]
    multi_dict = {'k': shared}
    multi_tuple = (shared,)
    multi_slot = Slotted(shared)

    node = None
    out = []
    for i in range(N_NODES):
        node = Node(i * 1000003 + 10 ** 9, node)
        out.append(node)
    nodes = out

    long_str = 'preview-long-' + ''.join(chr(97 + i % 26) for i in range(LONG_STR_LEN))
    previews = ['short-preview', long_str, 12345678901, 3.25,
                b'PREVIEWBYTES' + bytes(5000), [1, 2, 3, 4, 5, 6, 7],
                {'a': 1, 'b': 2, 'c': 3}, (1, 'two'), preview_fn, PreviewClass, json,
                {10, 20, 30, 40}, PreviewInstance()]
    n = 300000
    big = {'str': 'BIGSTR-' + 'z' * n,
           'bytes1': b'BIGBYTES-1-' + bytes(n - 50000),
           'bytes2': b'BIGBYTES-2-' + bytes(n - 150000)}

    rcs_bag = RcsBag(RcsMarker(i) for i in range(N_RCS))
    rcs_owners = [RcsOwner(Rcs2Marker(i)) for i in range(N_RCS2)]
    rcs_list2 = [o.item for o in rcs_owners]
    via_holders = [ViaHolder(ViaMarker(i)) for i in range(N_VIA)]
    via_dicts = [{'via_key': ViaKeyMarker(i)} for i in range(N_VIA_KEY)]
