"""backrefs, referrers and referents (issue 4) against the in-process truth
of workloads/backrefs.py, on every CPython, from a core and live.

One workload per target serves both this file and test_objects.py
(backrefs_common.probed): every question is asked of the tool first (one gdb
session on the core, one on the live process, a few command-line runs), and
only then is the workload asked, in process, whether the answers are real:
each link of each chain is an object of the type and size the tool says, and
is among the referents of the link before it (gc.get_referents, plus the
references tp_traverse leaves out as census.py lists them; a weak link: the
link before is a weakref to it; an offset link "->+0xN": the word at that
offset is its address); each path evaluates to the target; each referrer
refers to the target.

Shortest: for targets whose shortest chain goes through module globals,
len(chain) - 1 equals the in-process breadth-first distance of the target
from the roots (sys.modules, sys.__dict__, builtins.__dict__, the threads'
frames: 3.8-3.10 the frame objects, 3.11+ their locals) less the distance of
the chain's root object from the same roots. The tool's root for a module
global is the module (root "sys.modules"), at distance 1 from sys.modules,
or sys.modules itself, or the module's dict: the difference makes the
comparison independent of which of these the tool names. The structures live
in a module of their own (backrefs_heap) that no running frame has as its
globals, so there is one shortest chain to each.
"""

import html
import json
import os
import shutil
import subprocess

import pytest

import backrefs_common as common
import harness

TARGETS = harness.all_targets()
MODES = common.MODES


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def bx(request, tmp_path_factory):
    return common.probed(request.param, tmp_path_factory)


# --------------------------------------------------------------------------
# helpers

def reachable_case(bx, mode, label, key=None, held_weakly=False, shortest=True,
                   evaluable=True):
    """(doc, first chain, problems) for a module-global target."""
    key = key or 'backrefs:' + label
    doc = bx.result(mode, key)
    probs = common.backrefs_doc_problems(bx, mode, doc, label)
    if probs:
        common.report(bx, mode, '`%s`: malformed answer' % bx.command(mode, key), probs, doc)
    if doc['reachable'] is not True:
        probs.append('reachable is %r for an object held from a module global' % doc['reachable'])
    if doc['garbage'] is not False:
        probs.append('garbage is %r for a reachable object' % doc['garbage'])
    if doc['held_weakly'] is not held_weakly:
        probs.append('held_weakly is %r, expected %r' % (doc['held_weakly'], held_weakly))
    if doc['referrers']:
        probs.append('"referrers" is given (%d links) for a reachable object; the contract gives '
                     'it only when unreachable' % len(doc['referrers']))
    if not doc['chains']:
        probs.append('no chain for a reachable object')
        common.report(bx, mode, bx.command(mode, key), probs, doc)
    chain = doc['chains'][0]
    if chain[0].get('root') != 'sys.modules':
        probs.append('the root is %r, expected "sys.modules" (the object hangs off a module '
                     'global and no frame runs with that module\'s globals)' % chain[0].get('root'))
    path = doc['paths'][0] if doc['paths'] else None
    if not (isinstance(path, str) and path.startswith(common.MODULE_PATH)):
        probs.append('path %r does not start with %s' % (path, common.MODULE_PATH))
    for i, c in enumerate(doc['chains']):
        weak = [j for j, l in enumerate(c) if isinstance(l, dict) and l.get('weak')]
        if weak:
            probs.append('chain %d of a strongly reachable object goes through weak links %s'
                         % (i, weak))
    probs += common.verdict_problems(bx, mode, key, doc,
                                     ('chain', 'path') if evaluable else ('chain',))
    if shortest:
        probs += common.shortest_problems(bx, chain, label)
    return doc, chain, probs


def edges_of(chain, n):
    return [(l.get('edge'), l.get('edge_kind')) for l in chain[-n:]]


def attribute_hop(bx, chain, name, holder_label, holder_type):
    """The chain ends with attribute `name` of the holder: ".name" directly
    when the holder itself refers to the value (gc.get_referents() of the
    holder has it: managed values on 3.11/3.12 without a dict, 3.13's inline
    values, even when a __dict__ was made while they stay valid: that dict
    refers to nothing of its own), else through its __dict__ (a ".__dict__"
    link to the dict, then "['name']")."""
    holder = bx.target_info(holder_label)
    has_dict = chain[-1].get('address') not in holder['referents'] and holder.get('has_dict')
    if has_dict:
        want = [(holder_type, None), ('dict', ('.__dict__', None)),
                (None, ("['%s']" % name, 'key'))]
    else:
        want = [(holder_type, None), (None, ('.%s' % name, 'attribute'))]
    got = chain[-len(want):]
    probs = []
    if len(got) < len(want):
        return ['the chain is too short to end with attribute %s of a %s' % (name, holder_type)]
    for (typ, edge), link in zip(want, got):
        if typ is not None and link.get('type') != typ:
            probs.append('expected a %s link, got %s' % (typ, link.get('type')))
        if edge is not None:
            label, kind = edge
            if link.get('edge') != label or (kind and link.get('edge_kind') != kind):
                probs.append('expected edge %r (%s), got %r (%s)%s'
                             % (label, kind, link.get('edge'), link.get('edge_kind'),
                                ' (the %s %s)' % (holder_type, 'holds it through its __dict__'
                                                  if has_dict else 'refers to it itself: '
                                                  'managed/inline values or slots')))
    if got[0].get('address') != bx.target_info(holder_label)['address']:
        probs.append('the link before the attribute is 0x%x, not the holder 0x%x'
                     % (got[0].get('address') or 0, bx.target_info(holder_label)['address']))
    return probs


# --------------------------------------------------------------------------
# chains through each kind of reference

@pytest.mark.parametrize('mode', MODES)
def test_chain_through_dicts_and_lists(bx, mode):
    doc, chain, probs = reachable_case(bx, mode, 'dict')
    want = [("['alpha']", 'key'), ("['beta']", 'key'), ('[2]', 'index')]
    if edges_of(chain, 3) != want:
        probs.append('the chain ends with edges %s, expected %s' % (edges_of(chain, 3), want))
    if doc['paths'] and not doc['paths'][0].endswith(".registry['alpha']['beta'][2]"):
        probs.append("path %r does not end with .registry['alpha']['beta'][2]" % doc['paths'][0])
    common.report(bx, mode, 'backrefs of an object in dicts and a list', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_through_tuples(bx, mode):
    doc, chain, probs = reachable_case(bx, mode, 'tuple')
    want = [('[1]', 'index'), ('[1]', 'index'), ('[0]', 'index')]
    if edges_of(chain, 3) != want:
        probs.append('the chain ends with edges %s, expected %s' % (edges_of(chain, 3), want))
    types = [l.get('type') for l in chain[-4:-1]]
    if types != ['tuple', 'tuple', 'list']:
        probs.append('the links before the target are %s, expected tuple, tuple, list' % types)
    common.report(bx, mode, 'backrefs of an object in tuples', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_through_instance_dict(bx, mode):
    """An instance whose __dict__ exists: ".__dict__" then "['payload']"."""
    doc, chain, probs = reachable_case(bx, mode, 'plain')
    probs += attribute_hop(bx, chain, 'payload', 'plain_holder', 'backrefs_heap.Plain')
    common.report(bx, mode, 'backrefs through an instance __dict__', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_through_inline_values(bx, mode):
    """3.11+: attributes in managed (3.11, 3.12) or inline (3.13) values,
    no dict object: ".payload" directly; 3.8-3.10: through the dict."""
    doc, chain, probs = reachable_case(bx, mode, 'inline')
    probs += attribute_hop(bx, chain, 'payload', 'inline_holder', 'backrefs_heap.Inline')
    common.report(bx, mode, 'backrefs through managed/inline values', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_through_slots(bx, mode):
    doc, chain, probs = reachable_case(bx, mode, 'slots')
    want = [('.payload', 'attribute')]
    if edges_of(chain, 1) != want:
        probs.append('the last edge is %s, expected %s (a __slots__ member)' % (edges_of(chain, 1), want))
    if len(chain) >= 2 and chain[-2].get('address') != bx.target_info('slot_holder')['address']:
        probs.append('the link before the target is not the Slotted holder')
    common.report(bx, mode, 'backrefs through __slots__', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_through_closure_cell(bx, mode):
    doc, chain, probs = reachable_case(bx, mode, 'closure')
    want = ['.__closure__', '[0]', '.cell_contents']
    got = [l.get('edge') for l in chain[-3:]]
    if got != want:
        probs.append('the chain ends with edges %s, expected %s' % (got, want))
    types = [l.get('type') for l in chain[-4:-1]]
    if types != ['function', 'tuple', 'cell']:
        probs.append('the links before the target are %s, expected function, tuple, cell' % types)
    common.report(bx, mode, 'backrefs through a closure cell', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_into_reachable_cycle(bx, mode):
    """b in a cycle a <-> b hanging off a module global; b is also the
    referent of a weakref (held_weakly true, but the chain is strong)."""
    doc, chain, probs = reachable_case(bx, mode, 'ring', held_weakly=True)
    probs += attribute_hop(bx, chain, 'next', 'ring_a', 'backrefs_heap.CycleNode')
    common.report(bx, mode, 'backrefs into a reference cycle', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_through_lru_cache(bx, mode):
    """functools.lru_cache's results sit in its cache, a C type the tool
    knows exactly (ctypes_functools.c): the chain goes through the wrapper
    (the module global "compute") with no conservative link. (No distance
    check: the in-process BFS, over gc.get_referents, cannot see into the
    cache's elements.)"""
    doc, chain, probs = reachable_case(bx, mode, 'lru', shortest=False, evaluable=False)
    conservative = [l.get('edge') for l in chain[1:] if l.get('conservative')]
    if conservative:
        probs.append('conservative links %s in the chain: the lru cache is known exactly'
                     % conservative)
    wrapper = bx.target_info('lru_wrapper')['address']
    if wrapper not in [l.get('address') for l in chain]:
        probs.append('the chain does not go through the lru_cache wrapper 0x%x (module global '
                     '"compute")' % wrapper)
    common.report(bx, mode, 'backrefs of an lru_cache result', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_lru_chain_path_reads(bx, mode):
    """A path is an expression only while every step is an attribute, key or
    index: the step from the lru_cache wrapper to a cached result has no
    Python spelling, so the path names it as it is ("<result>") after the
    part that is Python."""
    doc = bx.result(mode, 'backrefs:lru')
    probs = []
    for i, (path, chain) in enumerate(zip(doc.get('paths') or [], doc.get('chains') or [])):
        if not path.startswith('sys.modules['):
            probs.append('path %d %r does not start at sys.modules' % (i, path))
        last = chain[-1].get('edge') or ''
        if not path.endswith(' ' + last):
            probs.append('path %d %r does not end with the step %r' % (i, path, last))
        if '.compute' not in path:
            probs.append('path %d %r does not go through the wrapper "compute"' % (i, path))
    if not doc.get('paths'):
        probs.append('no path')
    common.report(bx, mode, 'the path of an lru_cache result', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_chain_from_thread_local(bx, mode):
    """An object referenced only by the local `private` of hold_private(),
    blocked in another thread: the root is that thread's frame (named with
    thread id, function, file and line), the path starts with "<"."""
    label = 'thread'
    key = 'backrefs:thread'
    doc = bx.result(mode, key)
    probs = common.backrefs_doc_problems(bx, mode, doc, label)
    if probs:
        common.report(bx, mode, 'malformed answer', probs, doc)
    o = bx.oracle
    if doc['reachable'] is not True or doc['garbage'] is not False:
        probs.append('reachable %r, garbage %r: a local of a running frame is reachable'
                     % (doc['reachable'], doc['garbage']))
    if not doc['chains']:
        probs.append('no chain')
        common.report(bx, mode, 'backrefs of a thread-local object', probs, doc)
    chain = doc['chains'][0]
    path = doc['paths'][0] if doc['paths'] else ''
    if chain[0].get('root') not in common.THREAD_ROOTS:
        probs.append('root %r, expected one of %s' % (chain[0].get('root'), common.THREAD_ROOTS))
    if len(chain) > 2:
        probs.append('%d links: a local of a frame is at most one edge from its root' % len(chain))
    elif len(chain) == 2:
        if chain[1].get('edge_kind') != 'local' or 'private' not in chain[1].get('edge', ''):
            probs.append('the edge into the target is %r (%s), expected the local \'private\''
                         % (chain[1].get('edge'), chain[1].get('edge_kind')))
        if chain[0].get('address') not in (0, None, o['thread_frame']):
            probs.append('the root link 0x%x is neither a non-object root nor the frame of '
                         'hold_private 0x%x' % (chain[0].get('address'), o['thread_frame']))
    text = ' '.join([str(l.get('edge')) for l in chain] + [path])
    for what, forms in (('function', ['hold_private']), ('file', [o['thread_file']]),
                        ('line', [str(o['thread_line'])]), ('local', ['private']),
                        ('thread id', [str(o['thread_ident']), '%x' % o['thread_ident'],
                                       str(o['thread_native_id'])])):
        if not any(f in text for f in forms):
            probs.append('the root does not name the %s (%s) in %r' % (what, ' or '.join(forms), text))
    if not path.startswith('<'):
        probs.append('the path %r of a thread root does not start with "<"' % path)
    probs += common.verdict_problems(bx, mode, key, doc, ('chain',))
    common.report(bx, mode, 'backrefs of a thread-local object', probs, doc)


# --------------------------------------------------------------------------
# unreachable objects

def unreachable_case(bx, mode, label, held_weakly, self_edge_name):
    key = 'backrefs:' + label
    doc = bx.result(mode, key)
    probs = common.backrefs_doc_problems(bx, mode, doc, label)
    if probs:
        common.report(bx, mode, 'malformed answer', probs, doc)
    if doc['reachable'] is not False:
        probs.append('reachable is %r' % doc['reachable'])
    if doc['garbage'] is not True:
        probs.append('garbage is %r for unreachable cyclic garbage' % doc['garbage'])
    if doc['held_weakly'] is not held_weakly:
        probs.append('held_weakly is %r, expected %r' % (doc['held_weakly'], held_weakly))
    if doc['chains'] or doc['paths']:
        probs.append('chains %r / paths %r for an unreachable object' % (doc['chains'], doc['paths']))
    refs = doc['referrers'] or []
    for i, link in enumerate(refs):
        probs += common.link_problems(link, 'referrer %d' % i, root_ok=True)
    probs += referrers_cover_oracle(bx, label, refs, self_edge_name)
    for i, link in enumerate(refs):
        if isinstance(link, dict) and link.get('edge_kind') != 'root':
            v = bx.verdict('%s|%s|r%d' % (mode, key, i))
            probs += ['referrer %d (0x%x %s): %s' % (i, link.get('address') or 0, link.get('edge'), s)
                      for s in (v if v is not None else ['not checked'])]
    return doc, refs, probs


def referrers_cover_oracle(bx, label, refs, attr=None):
    """Every referrer gc.get_referrers() gave in process is among `refs`;
    with attr, the attribute edge from the holder (or its __dict__) is named."""
    probs = []
    by_addr = {}
    for link in refs:
        if isinstance(link, dict):
            by_addr.setdefault(link.get('address'), []).append(link)
    for r in bx.target_info(label)['referrers']:
        got = by_addr.get(r['address'])
        if not got and r['type'] == 'functools._lru_cache_wrapper':
            # Its tp_traverse visits the results of its entries, which are
            # _lru_list_elem objects the collector does not track; the tool
            # reports the entry that holds the result instead (checked below).
            continue
        if not got:
            probs.append('the referrer 0x%x (%s) that gc.get_referrers() gives in process is '
                         'not reported' % (r['address'], r['type']))
            continue
        if attr:
            want = "['%s']" % attr if r['type'] == 'dict' else '.' + attr
            if not any(l.get('edge') == want for l in got):
                probs.append('the referrer 0x%x (%s) is reported with edge %s, expected %r'
                             % (r['address'], r['type'], [l.get('edge') for l in got], want))
    return probs


@pytest.mark.parametrize('mode', MODES)
def test_held_only_weakly(bx, mode):
    """gc disabled; w.me = w; a module-global weakref.ref(w); no strong
    reference from outside the cycle: unreachable, held weakly, and its
    referrers are its own dict (or itself, without a dict) and the weakref."""
    doc, refs, probs = unreachable_case(bx, mode, 'weak', True, 'me')
    wr = bx.target_info('weak_ref')['address']
    weak = [l for l in refs if isinstance(l, dict) and l.get('address') == wr]
    if not weak:
        probs.append('the weakref 0x%x is not among the referrers' % wr)
    elif not all(l.get('weak') is True and l.get('edge') == '()' and l.get('edge_kind') == 'weak'
                 for l in weak):
        probs.append('the weakref is reported as %s, expected weak true, edge "()", edge_kind "weak"'
                     % [(l.get('weak'), l.get('edge'), l.get('edge_kind')) for l in weak])
    common.report(bx, mode, 'backrefs of an object held only weakly', probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_unreachable_garbage(bx, mode):
    """g1 <-> g2, unreachable: garbage, no chain, and the referrers name g2
    (or g2's __dict__) with the edge "partner"."""
    doc, refs, probs = unreachable_case(bx, mode, 'garbage', False, 'partner')
    partner = bx.target_info('garbage_partner')
    want = partner.get('dict_address') if partner.get('has_dict') else partner['address']
    if want not in [l.get('address') for l in refs if isinstance(l, dict)]:
        probs.append('the cycle partner 0x%x (%s) is not among the referrers'
                     % (want, 'its __dict__' if partner.get('has_dict') else 'the instance'))
    common.report(bx, mode, 'backrefs of unreachable cyclic garbage', probs, doc)


# --------------------------------------------------------------------------
# --all, OBJ forms

@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('n', [3, 10])
def test_all_chains_through_distinct_referrers(bx, mode, n):
    """`--all N`: the object is held by a list, a dict, a tuple and a
    __slots__ instance, all module globals: min(N, 4) chains, one through
    each referrer (the second-to-last links differ), each real and shortest
    through its referrer."""
    label = 'multi'
    key = 'backrefs:multi_all%d' % n
    doc = bx.result(mode, key)
    probs = common.backrefs_doc_problems(bx, mode, doc, label)
    holders = {bx.target_info(h)['address']: h for h in
               ('multi_list', 'multi_dict', 'multi_tuple', 'multi_slot')}
    chains = [c for c in doc.get('chains') or [] if isinstance(c, list) and len(c) >= 2]
    want = min(n, len(holders))
    if len(doc.get('chains') or []) != want:
        probs.append('%d chains, expected %d' % (len(doc.get('chains') or []), want))
    pen = [c[-2].get('address') for c in chains]
    if len(set(pen)) != len(pen):
        probs.append('second-to-last links are not distinct: %s' % ['0x%x' % (a or 0) for a in pen])
    for a in pen:
        if a not in holders:
            probs.append('0x%x is not one of the four referrers' % (a or 0))
    if n >= len(holders) and set(pen) != set(holders):
        probs.append('the referrers %s have no chain' % sorted(holders[a] for a in set(holders) - set(pen)))
    for i, c in enumerate(chains):
        if c[0].get('root') != 'sys.modules':
            probs.append('chain %d: root %r, expected sys.modules' % (i, c[0].get('root')))
        h = holders.get(c[-2].get('address'))
        if h:
            probs += ['chain %d: %s' % (i, s) for s in common.shortest_problems(bx, c[:-1], h)]
    probs += common.verdict_problems(bx, mode, key, doc)
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_obj_given_as_a_path(bx, mode):
    doc = bx.result(mode, 'backrefs:dict_by_path')
    by_addr = bx.result(mode, 'backrefs:dict')
    probs = common.backrefs_doc_problems(bx, mode, doc, 'dict')
    if doc.get('chains') != by_addr.get('chains'):
        probs.append('the chains differ from those of the same object given by address')
    common.report(bx, mode, '`%s`' % bx.command(mode, 'backrefs:dict_by_path'), probs, doc)


# --------------------------------------------------------------------------
# referrers, referents

EXPECTED_REFERRER_EDGES = {
    # label: {holder label: (edge, edge_kind)}
    'multi': {'multi_list': ('[0]', 'index'), 'multi_dict': ("['k']", 'key'),
              'multi_tuple': ('[0]', 'index'), 'multi_slot': ('.payload', 'attribute')},
    'dict': {'beta': ('[2]', 'index')},
}


def links_answer(bx, mode, what, label):
    """The answer of `what` ('referrers' or 'referents') about label's
    object: (its key, the object's in-process facts, its links, the
    problems with the document so far: keys missing stop the test)."""
    key = '%s:%s' % (what, label)
    doc = bx.result(mode, key)
    probs = ['no %r in the JSON' % k for k in ('python', 'target', what) if k not in doc]
    if probs:
        common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)
    t = bx.target_info(label)
    if (doc['target'] or {}).get('address') != t['address']:
        probs.append('target address %r, asked 0x%x' % ((doc['target'] or {}).get('address'),
                                                        t['address']))
    return key, t, doc[what], probs


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('label', common.REFERRERS)
def test_referrers_are_real_and_complete(bx, mode, label):
    """Every reported referrer (other than a root) refers to the target in
    process; every referrer gc.get_referrers() knows (without the oracle's
    own temporaries) is reported."""
    key, t, refs, probs = links_answer(bx, mode, 'referrers', label)
    for i, link in enumerate(refs):
        probs += common.link_problems(link, 'referrer %d' % i, root_ok=True)
    probs += referrers_cover_oracle(bx, label, refs,
                                    {'garbage': 'partner', 'weak': 'me'}.get(label))
    for i, link in enumerate(refs):
        if isinstance(link, dict) and link.get('edge_kind') != 'root':
            v = bx.verdict('%s|%s|r%d' % (mode, key, i))
            probs += ['referrer %d (0x%x, edge %r): %s' % (i, link.get('address') or 0,
                                                          link.get('edge'), s)
                      for s in (v if v is not None else ['not checked in process'])]
    by_addr = {}
    for link in refs:
        if isinstance(link, dict):
            by_addr.setdefault(link.get('address'), []).append(link)
    for holder, (edge, kind) in EXPECTED_REFERRER_EDGES.get(label, {}).items():
        got = by_addr.get(bx.target_info(holder)['address'], [])
        if not any(l.get('edge') == edge and l.get('edge_kind') == kind for l in got):
            probs.append('the referrer %s is reported with %s, expected edge %r (%s)'
                         % (holder, [(l.get('edge'), l.get('edge_kind')) for l in got], edge, kind))
    if label == 'thread':
        o = bx.oracle
        if not any(isinstance(l, dict) and (
                (l.get('edge_kind') == 'root' and l.get('root') in common.THREAD_ROOTS)
                or (o['thread_frame'] and l.get('address') == o['thread_frame']))
                for l in refs):
            probs.append('neither a thread/frame/local root link nor the frame of hold_private '
                         'is among the referrers of a local of that frame')
    if label == 'weak':
        wr = bx.target_info('weak_ref')['address']
        if not any(isinstance(l, dict) and l.get('address') == wr and l.get('weak') is True
                   for l in refs):
            probs.append('the weakref 0x%x is not among the referrers as a weak link' % wr)
    if label == 'lru':
        if not refs:
            probs.append('no referrer for an lru_cache result')
        elif not any(isinstance(l, dict) and l.get('conservative') for l in refs):
            probs.append('no conservative referrer (the _lru_list_elem holding the result)')
    if label == 'module':
        if not any(isinstance(l, dict) and (l.get('address') == bx.oracle.get('sys_modules')
                                            or l.get('root') == 'sys.modules') for l in refs):
            probs.append('neither sys.modules nor a "sys.modules" root refers to the module')
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


EXPECTED_REFERENT_EDGES = {
    # object label: [(referent label, edge, edge_kind)]; None: depends on the version
    'registry': [('alpha', "['alpha']", 'key')],
    'alpha': [('beta', "['beta']", 'key')],
    'beta': [('dict', '[2]', 'index')],
    'table': [('table_inner', '[1]', 'index')],
    'slot_holder': [('slots', '.payload', 'attribute')],
    'closure_fn': [('closure_tuple', '.__closure__', None)],
    'closure_tuple': [('cell', '[0]', 'index')],
    'cell': [('closure', '.cell_contents', None)],
    'plain_holder': [('plain_dict', '.__dict__', None)],
    'plain_dict': [('plain', "['payload']", 'key')],
    'multi_dict': [('multi', "['k']", 'key')],
    'multi_tuple': [('multi', '[0]', 'index')],
}


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('label', common.REFERENTS)
def test_referents_include_gc_referents(bx, mode, label):
    """referents ⊇ gc.get_referents() of the object in process; every
    referent is real; labels as the contract names them."""
    key, t, refs, probs = links_answer(bx, mode, 'referents', label)
    for i, link in enumerate(refs):
        probs += common.link_problems(link, 'referent %d' % i)
    got = set(l.get('address') for l in refs if isinstance(l, dict))
    missing = [a for a in t['referents'] if a not in got]
    if missing:
        probs.append('%d of the %d gc.get_referents() are not reported: %s'
                     % (len(missing), len(t['referents']), ['0x%x' % a for a in missing[:10]]))
    for i, link in enumerate(refs):
        v = bx.verdict('%s|%s|e%d' % (mode, key, i))
        probs += ['referent %d (0x%x, edge %r): %s' % (i, link.get('address') or 0, link.get('edge'), s)
                  for s in (v if v is not None else ['not checked in process'])]
    expected = list(EXPECTED_REFERENT_EDGES.get(label, []))
    if label == 'plain_dict' and bx.target_info('plain')['address'] not in t['referents']:
        # 3.13: a __dict__ made while the inline values stay valid refers to
        # nothing itself (its values are the instance's): no ['payload'] edge
        expected = []
    if label == 'inline_holder':
        if bx.target_info('inline_holder').get('has_dict'):
            pass        # 3.8-3.10: the dict, checked through the superset
        else:
            expected.append(('inline', '.payload', 'attribute'))
    if label == 'ring_a' and not bx.target_info('ring_a').get('has_dict'):
        expected.append(('ring', '.next', 'attribute'))
    for ref_label, edge, kind in expected:
        a = bx.target_info(ref_label)['address']
        links = [l for l in refs if isinstance(l, dict) and l.get('address') == a]
        if not any(l.get('edge') == edge and (kind is None or l.get('edge_kind') == kind)
                   for l in links):
            probs.append('the referent %s (0x%x) is reported with %s, expected edge %r%s'
                         % (ref_label, a, [(l.get('edge'), l.get('edge_kind')) for l in links],
                            edge, ' (%s)' % kind if kind else ''))
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


# --------------------------------------------------------------------------
# the command line: text, --dot/--svg/--png, live

def test_text_output(bx):
    """root line, one row per link (edge label, kind, address; the
    instance's ".__dict__" hop merged into ".payload"), path line."""
    res = bx.cli_result('text_plain')
    doc = bx.result('core', 'backrefs:plain')
    lines = [l for l in res.stdout.splitlines() if l.strip()]
    probs = []
    where = '\n' + res.describe()
    if not lines or not lines[0].startswith('root: '):
        probs.append('the first line is not "root: ...": %r' % (lines[:1],))
    if not lines or lines[-1].strip() != 'path: ' + (doc['paths'] or ['?'])[0]:
        probs.append('the last line is %r, expected %r' % (lines[-1:] or None,
                                                           'path: ' + (doc['paths'] or ['?'])[0]))
    rows = lines[1:-1]
    chain = doc['chains'][0] if doc.get('chains') else []
    t = bx.target_info('plain')
    if not rows:
        probs.append('no rows')
    else:
        last = rows[-1].split()
        if not last or last[0] != '.payload':
            probs.append('the last row is %r: expected it to start with the merged label ".payload"'
                         % rows[-1])
        if '0x%x' % t['address'] not in rows[-1]:
            probs.append('the last row does not give the target address 0x%x' % t['address'])
        if doc['target'].get('kind') and doc['target']['kind'] not in rows[-1]:
            probs.append('the last row does not give the kind %r' % doc['target']['kind'])
        if any(r.split() and r.split()[0] == "['payload']" for r in rows):
            probs.append('a row is labelled "[\'payload\']": the dict-of hop is not merged')
    for link in chain[1:]:
        if str(link.get('kind', '')).startswith('dict of '):
            continue
        if not any('0x%x' % link['address'] in r for r in rows):
            probs.append('no row gives the address 0x%x of the %s link %r'
                         % (link['address'], link.get('type'), link.get('edge')))
    if probs:
        pytest.fail('%s: backrefs text:\n  %s%s' % (bx.target.label, '\n  '.join(probs), where),
                    pytrace=False)


@pytest.mark.parametrize('label', ['garbage', 'weak'])
def test_text_of_unreachable_object(bx, label):
    res = bx.cli_result('text_' + label)
    text = res.stdout
    low = text.lower()
    probs = []
    if 'unreachable' not in low and 'not reachable' not in low:
        probs.append('the text does not say it is unreachable')
    if label == 'garbage' and 'garbage' not in low:
        probs.append('the text does not say it is garbage awaiting collection')
    if label == 'weak':
        if 'weak' not in low:
            probs.append('the text does not say it is held weakly')
        wr = bx.target_info('weak_ref')['address']
        if '0x%x' % wr not in text:
            probs.append('the weakref referrer 0x%x is not listed' % wr)
    for r in bx.target_info(label)['referrers']:
        if '0x%x' % r['address'] not in text:
            probs.append('the referrer 0x%x (%s) is not listed' % (r['address'], r['type']))
    if probs:
        pytest.fail('%s: backrefs text of an unreachable object:\n  %s\n%s'
                    % (bx.target.label, '\n  '.join(probs), res.describe()), pytrace=False)


def _unescape(s):
    s = html.unescape(s or '')
    for a, b in (('\\"', '"'), ('\\l', '\n'), ('\\n', '\n'), ('\\r', '\n'), ('\\\\', '\\')):
        s = s.replace(a, b)
    return s


HIGHLIGHT_ATTRS = ('color', 'fillcolor', 'style', 'penwidth', 'peripheries', 'fontcolor',
                   'shape', 'fontname')


def test_dot_svg_png(bx):
    """--dot: valid for graphviz, a node per chain link with type, preview
    and size in its label, labelled edges, the target highlighted; --svg and
    --png written through dot."""
    res = bx.cli_result('dot')
    doc = res.json()
    f = bx.files
    probs = []
    if not os.path.exists(f['dot']):
        pytest.fail('%s: --dot wrote no file\n%s' % (bx.target.label, res.describe()), pytrace=False)
    if not shutil.which('dot'):
        pytest.skip('graphviz is not installed')
    r = subprocess.run(['dot', '-Tjson', f['dot']], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.fail('%s: dot rejects the --dot file: %s\n%s' % (bx.target.label, r.stderr,
                                                                open(f['dot']).read()[:3000]),
                    pytrace=False)
    g = json.loads(r.stdout)
    nodes = [o for o in g.get('objects', []) if 'nodes' not in o]
    edges = g.get('edges', [])
    labels = {n['_gvid']: _unescape(n.get('label', '')) for n in nodes}
    chain = doc['chains'][0]

    def matches(link):
        short = link['type'].rsplit('.', 1)[-1]
        prev = link.get('preview') or ''
        return [gid for gid, lab in labels.items()
                if (link['type'] in lab or short in lab) and str(link['size']) in lab
                and prev[:20] in lab]
    cands = []
    for i, link in enumerate(chain):
        c = matches(link)
        if not c:
            probs.append('no node for link %d (%s, size %d, preview %r) among the labels %s'
                         % (i, link['type'], link['size'], link.get('preview'),
                            sorted(labels.values())))
        cands.append(set(c))
    if len(nodes) < len(set(l['address'] for l in chain)):
        probs.append('%d nodes for %d chain links' % (len(nodes), len(chain)))
    for i in range(1, len(chain)):
        ok = any(e.get('tail') in cands[i - 1] and e.get('head') in cands[i]
                 and chain[i]['edge'] in _unescape(e.get('label', '')) for e in edges)
        if not ok:
            probs.append('no edge labelled %r from the node of link %d to that of link %d'
                         % (chain[i]['edge'], i - 1, i))
    if cands and len(cands[-1]) == 1:
        tgt = next(iter(cands[-1]))
        others = [n for n in nodes if n['_gvid'] != tgt]
        tn = [n for n in nodes if n['_gvid'] == tgt][0]
        if not any(all(o.get(k) != tn.get(k) for o in others) and tn.get(k) is not None
                   for k in HIGHLIGHT_ATTRS):
            probs.append('the target node is not highlighted: none of %s sets it apart (%s)'
                         % (HIGHLIGHT_ATTRS, {k: tn.get(k) for k in HIGHLIGHT_ATTRS}))
    elif cands:
        probs.append('the target is not one node (%d candidates)' % len(cands[-1]))
    if not os.path.exists(f['svg']) or b'<svg' not in open(f['svg'], 'rb').read():
        probs.append('--svg wrote no SVG')
    if not os.path.exists(f['png']) or open(f['png'], 'rb').read(8) != b'\x89PNG\r\n\x1a\n':
        probs.append('--png wrote no PNG')
    if probs:
        pytest.fail('%s: --dot:\n  %s\n--- dot file\n%s' % (bx.target.label, '\n  '.join(probs),
                                                           open(f['dot']).read()[:4000]),
                    pytrace=False)


@pytest.mark.parametrize('key,mode', [('backrefs_core', 'core'), ('backrefs_live', 'live'),
                                      ('dot', 'core')])
def test_command_line_json_matches_gdb(bx, key, mode):
    """bin/probe-heap --json backrefs (on the core; with --pid) gives the
    chains of the gdb command, and they are real."""
    cli = bx.cli_result(key).json()
    gdb_doc = bx.result(mode, 'backrefs:dict')
    probs = common.backrefs_doc_problems(bx, mode, cli, 'dict')
    if cli.get('chains') != gdb_doc.get('chains') or cli.get('paths') != gdb_doc.get('paths'):
        probs.append('the command line and gdb give different chains or paths')
    probs += common.verdict_problems(bx, 'cli', key, cli)
    common.report(bx, mode, 'bin/probe-heap %s' % ' '.join(map(str, bx.cli[key].argv[1:])), probs, cli)
