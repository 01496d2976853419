"""Free-threaded CPython (3.14.7t), live and from cores, with and without
symbols: eight threads allocate at once in their own mimalloc heaps, objects
cross threads, and a thread that has exited leaves its segments to the
interpreter's abandoned pool with unreachable cycles in them
(workloads/free_threaded.py).

Oracles, in the target itself: sysconfig's Py_GIL_DISABLED and the version
(asked of the interpreter before), the in-process census (gc.get_objects()
and its closure, census.py) for every type with 100 objects or more, and the
workload's own counts (threads, objects per class, the objects a refcount
bug leaked), sys.getallocatedblocks() as the process stopped, and mimalloc's
pages counted in process by workloads/mi_pages.c (built here against the
target's own internal headers) for alloc.  The rest of the suite
(test_partition, test_flat_sizes, test_sizes, test_backrefs...) runs on the
same targets through harness.all_targets()."""

import ast
import json
import os
import re
import subprocess

import pytest

import harness

TARGETS = harness.free_threaded_targets()
MODES = ['live', 'core']
MIN_COUNT = 100
# The leaver's exit, after the census, frees its frame's few objects (the
# arguments tuple, a dict, an int...): at most this many of one type.
EXIT_SLACK = 3


def build_mi_pages(target, workdir):
    """workloads/mi_pages.c, the in-process oracle of alloc, compiled against
    the target's own internal headers (sysconfig's include directory, asked
    of the interpreter); the directory that holds it."""
    paths = subprocess.run(
        [target.python, '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["include"]); print(sysconfig.get_config_var("EXT_SUFFIX"))'],
        capture_output=True, text=True, check=True, env=harness.clean_env()).stdout.split()
    include, suffix = paths
    out = os.path.join(workdir, 'mi_pages' + suffix)
    subprocess.run(['cc', '-shared', '-fPIC', '-O1', '-I', include,
                    '-I', os.path.join(include, 'internal'), '-o', out,
                    os.path.join(harness.WORKLOADS, 'mi_pages.c')],
                   check=True, capture_output=True, text=True)
    return workdir


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def workload(request, tmp_path_factory):
    target = request.param
    harness.require(target)
    truth = subprocess.run(
        [target.python, '-c', 'import sys, sysconfig; '
         'print(sysconfig.get_config_var("Py_GIL_DISABLED"), sys.version.split()[0])'],
        capture_output=True, text=True, check=True, env=harness.clean_env()).stdout.split()
    assert truth[0] == '1', 'the oracle says %s is not free-threaded: %s' % (target.python, truth)
    workdir = str(tmp_path_factory.mktemp(target.label))
    w = harness.start_workload(target, workdir, script='free_threaded.py',
                               args=[build_mi_pages(target, workdir)])
    w.version = truth[1]
    try:
        yield w
    finally:
        w.kill()


def args(w, mode):
    if mode == 'core':
        if w.core is None:
            w.gcore()
        return ['--core', w.core, '--exe', w.target.python] + w.target.cli_args
    return ['--pid', str(w.pid)] + w.target.cli_args


def probe_json(w, mode, *command):
    """`probe-heap --json COMMAND` on the workload, run once per mode and
    command for the tests of this file (the workload does not change)."""
    cache = w.__dict__.setdefault('answers', {})
    key = (mode,) + command
    if key not in cache:
        cache[key] = harness.run_probe(args(w, mode) + ['--json'] + list(command)).json()
    return cache[key]


@pytest.mark.parametrize('mode', MODES)
def test_info(workload, mode):
    res = harness.run_probe(args(workload, mode) + ['info']).expect_ok()
    assert 'CPython %s, free-threaded build' % workload.version in res.stdout, res.describe()
    assert "mimalloc's GC heaps" in res.stdout, res.describe()
    doc = probe_json(workload, mode, 'info')
    info = workload.census()['workload']
    assert doc['free_threaded'] is True and doc['python']['free_threaded'] is True, doc
    assert doc['python']['version'] == workload.version, doc
    assert doc['layout_checked'] is True, doc        # the table agreed with _Py_DebugOffsets
    assert doc['skipped'] == 0, doc['skipped_refs']
    mi = doc['mimalloc']
    # the main thread and the parked workers; the leaver has exited
    assert doc['threads'] == info['workers'] + 1, doc
    assert mi['threads'] == info['workers'] + 1, mi
    assert mi['abandoned_segments'] >= 1, 'the leaver left no abandoned segment: %s' % mi
    assert mi['bad_pages'] == 0, mi
    assert mi['gc_blocks'] >= doc['objects'] // 10, mi


@pytest.mark.parametrize('mode', MODES)
def test_index_finds_objects_by_their_page(workload, mode):
    """Objects in mimalloc's small pages are found by their block, as pymalloc's
    are by their pool: the hash table of addresses holds only the rest (static
    types and objects of the binary, blocks over 8 KiB), not every object as it
    did before the index knew mimalloc's pages (the walk's time doubled)."""
    doc = probe_json(workload, mode, 'info')
    assert 0 < doc['index_hashed'] <= doc['objects'] // 10, doc
    # the found objects are the census's (test_partition_matches_census), so
    # a wrong block grid would show there, not only here


@pytest.mark.parametrize('mode', MODES)
def test_blocks_match_getallocatedblocks(workload, mode):
    """Every heap's allocated blocks (MEM, OBJECT, GC, GC_PRE of each thread,
    and the abandoned segments) against sys.getallocatedblocks(), which
    counts the same from inside (Objects/obmalloc.c
    get_mimalloc_allocated_blocks), as the workload stopped: read back from
    the target (__main__:ALLOCATED[0]).  The int that holds it is made
    after the count: one block of slack, and one for the int it replaced."""
    doc = probe_json(workload, mode, 'info')
    ref = probe_json(workload, mode, 'backrefs', '__main__:ALLOCATED[0]')
    oracle = int(ref['target']['preview'])
    got = doc['mimalloc']['blocks']
    assert oracle > 1000, ref['target']
    assert abs(got - oracle) <= 2, 'mimalloc blocks %d, sys.getallocatedblocks() %d' % (got, oracle)
    assert doc['mimalloc']['bytes'] >= got * 16, doc['mimalloc']


@pytest.mark.parametrize('mode', MODES)
def test_partition_matches_census(workload, mode):
    census = workload.census()
    doc = harness.run_probe(args(workload, mode) + ['--json', 'partition', '--by', 'type']).json()
    tool = {r['type']: (r['count'], r['size']) for r in doc['rows']}
    problems = []
    for name, (n, size) in sorted(census['types'].items()):
        if n < MIN_COUNT:
            continue
        tn, ts = tool.get(name, (0, 0))
        if abs(tn - n) > EXIT_SLACK or abs(ts - size) > EXIT_SLACK * max(1, size // n) * 2:
            problems.append('%-28s census %6d objects %9d bytes, tool %6d %9d' % (name, n, size, tn, ts))
    # the workload's own classes exactly: made by 8 threads at once, shared
    # between threads, kept by a thread that exited, or unreachable cycles
    # in the exited thread's abandoned segments
    for name, n in sorted(census['workload']['counts'].items()):
        assert census['types'].get(name, [0])[0] == n, 'census: %s %r' % (name, census['types'].get(name))
        if tool.get(name, (0, 0))[0] != n:
            problems.append('%-28s made %d, tool %r' % (name, n, tool.get(name)))
    assert not problems, '%s (%s): partition --by type differs from the census:\n  %s' % (
        workload.target.label, mode, '\n  '.join(problems))


@pytest.mark.parametrize('mode', MODES)
def test_leaks_finds_the_exited_threads_cycles(workload, mode):
    """The leaver's unreachable cycles, in its abandoned segments, are
    cyclic garbage to leaks (not leaked: no reference is unexplained), and
    the workload's live objects are neither."""
    doc = probe_json(workload, mode, 'leaks')
    counts = workload.census()['workload']['counts']

    def by_kind(group):
        return {r['kind']: r['count'] for r in doc[group]['rows']}
    garbage, leaked = by_kind('garbage'), by_kind('leaked')
    assert garbage.get('__main__.LeftCycle') == counts['__main__.LeftCycle'], garbage
    assert garbage.get('__main__.LeftCycleDict') == counts['__main__.LeftCycleDict'], garbage
    for name in counts:
        if name not in census_leaked(workload):
            assert name not in leaked, (name, leaked)


def census_leaked(w):
    return w.census()['workload']['leaked']


@pytest.mark.parametrize('mode', MODES)
def test_leaks_finds_exactly_the_refcount_leak(workload, mode):
    """What the refcount bug leaked (Py_IncRef and every reference dropped),
    by eight workers and by the thread that exited: leaked, each class
    exactly as many as were made, and nothing else of the workload's.  A
    word of a live thread's C stack that still points to the last one it
    leaked (a dead local of the loop that made it) is a root that cannot be
    told stale: such an object is held by that stack, one per thread at
    most, and every leaked object is in one or the other."""
    doc = probe_json(workload, mode, 'leaks')
    counts = workload.census()['workload']['counts']
    leaked = {r['kind']: r['count'] for r in doc['leaked']['rows']}
    on_stacks = {}
    for o in harness.held_on_c_stacks(doc):
        on_stacks[o['type']] = on_stacks.get(o['type'], 0) + 1
    for name in census_leaked(workload):
        stale = on_stacks.get(name, 0) + on_stacks.get(name.split('.', 1)[1], 0)
        assert stale <= 9, (name, stale)
        assert leaked.get(name, 0) + stale == counts[name], (name, counts[name], leaked, stale)
        assert leaked.get(name, 0) >= counts[name] - 9, (name, counts[name], leaked)
    ours = sorted(k for k in leaked if k.startswith('__main__.'))
    assert ours == sorted(census_leaked(workload)), ours
    assert doc['allocator'] is True, doc.get('allocator_note')


def mi_oracle(w):
    with open(w.census_path + '.mimalloc') as f:
        return ast.literal_eval(f.read())


@pytest.mark.parametrize('mode', MODES)
def test_alloc_matches_mimalloc_in_process(workload, mode):
    """alloc's segments, pages and blocks by block size against mi_pages.c,
    which counts them in the workload as it stopped (the target's own
    headers lay its structs out; it counts the blocks as page->used less
    the blocks freed by other threads not yet collected, where probe-heap
    counts capacity less every free list)."""
    truth = mi_oracle(workload)
    doc = probe_json(workload, mode, 'alloc')
    assert doc['allocator'] == 'mimalloc', doc.get('allocator')
    m = doc['mimalloc']
    assert m['bad_pages'] == 0 and not doc['partial'], m
    problems = ['%s: alloc %d, in process %d' % (key, m[key], truth[key])
                for key in ('threads', 'segments', 'abandoned_segments', 'pages',
                            'abandoned_pages', 'page_bytes', 'used_blocks')
                if m[key] != truth[key]]
    heaps = [m['heaps'][k]['count'] for k in ('mem', 'object', 'gc', 'gc_pre')]
    if heaps != truth['heaps']:
        problems.append('blocks by heap: alloc %r, in process %r' % (heaps, truth['heaps']))
    got = {c['size']: [c['pages'], c['blocks_used'], c['blocks_free']] for c in doc['classes']}
    want = {int(k): v for k, v in truth['classes'].items()}
    problems += ['block size %d (pages, used, free): alloc %r, in process %r'
                 % (k, got.get(k), want.get(k)) for k in sorted(set(got) | set(want))
                 if got.get(k) != want.get(k)]
    assert not problems, '\n'.join(problems)
    assert truth['abandoned_segments'] >= 1 and truth['abandoned_pages'] >= 1, truth
    assert doc['blocks_used'] == sum(heaps), doc['blocks_used']
    # and against sys.getallocatedblocks(), counted just before mi_pages (it
    # sums page->used; the int that holds it is made after: a block of slack)
    ref = probe_json(workload, mode, 'backrefs', '__main__:ALLOCATED[0]')
    allocated = int(ref['target']['preview'])
    assert abs(m['used_blocks'] - allocated) <= 2, (m['used_blocks'], allocated)
    # every object of the walk lives in a block of a page, or is static
    o = doc['objects']
    info = probe_json(workload, mode, 'info')
    assert o['in_arenas']['count'] + o['static']['count'] == info['objects'], (o, info['objects'])
    assert o['stray']['count'] == 0 and o['malloc']['count'] == 0, o
    assert sum(c['objects'] for c in doc['classes']) == o['in_arenas']['count']


@pytest.mark.parametrize('mode', ['core'])
def test_alloc_text(workload, mode):
    """The table speaks of pages and segments, not pools and arenas."""
    truth = mi_oracle(workload)
    res = harness.run_probe(args(workload, mode) + ['alloc']).expect_ok()
    out = res.stdout
    assert 'mimalloc (free-threaded build): %d segments' % truth['segments'] in out, out
    assert '(%d abandoned by exited threads), %d pages in use' % (
        truth['abandoned_segments'], truth['pages']) in out, out
    assert ' Pages ' in out.splitlines()[1] and 'Pools' not in out and 'arena' not in out, out
    assert 'Allocated blocks: %d,' % sum(truth['heaps']) in out, out


def test_report_memory_bar_from_mimalloc(workload, tmp_path):
    """The report's memory bar on a free-threaded build comes from mimalloc's
    pages (alloc's numbers, themselves tested against mi_pages above)."""
    path = str(tmp_path / 'heap.html')
    harness.run_probe(args(workload, 'core') + ['report', path]).expect_ok()
    with open(path, encoding='utf-8') as f:
        m = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', f.read(), re.S)
    memory = json.loads(m.group(1))['memory']
    assert memory is not None, 'no memory bar'
    a = probe_json(workload, 'core', 'alloc')
    segs = {k: n for k, n, _text in memory['segments']}
    o = a['objects']
    assert segs['objects'] == o['in_arenas']['bytes'] + o['static']['bytes'], (segs, o)
    assert segs['allocator'] == a['mimalloc']['page_bytes'] - o['in_arenas']['bytes'], segs
    assert sum(segs.values()) == memory['total'] == a['memory']['writable_bytes'], memory
    assert [w[0] for w in memory['where']] == ['pages', 'static_objects', 'not_explained'], memory
