"""suspects (issue 14) against workloads/suspects.py, a core per heap, on
every CPython:

  * big: BIG, a list under __main__ retaining most of the heap, is suspect
    1; its retained size and count are the in-process ones (within 1%), its
    percentage is its retained size over the heap's bytes (partition's
    total), its path is __main__:BIG, its accumulation point is itself with
    one child per item (the workload's N_BIG);
  * many: 100,000 Small objects under 50 owners: the kind __main__.Small
    is a suspect of 100,000 objects and the sys.getsizeof sum of the
    workload, held by 50 owners, the top ones named __main__:pool_NN.items
    with their counts and sizes (the workload's);
  * healthy: 16 trees, each about 5% of the heap: no suspect;
  * --min, --limit, the text, and bad options (one sentence, status 2).
"""

import json
import os
import re

import pytest

import harness

TARGETS = harness.all_targets()
MODES = ('big', 'many', 'healthy')


class Heaps(object):
    """One target's three workloads, their cores and the tool's answers."""

    def __init__(self, target, workdir):
        self.target, self.workdir = target, workdir
        self.census, self.res = {}, {}
        self.error = None

    def run(self):
        for mode in MODES:
            d = os.path.join(self.workdir, mode)
            os.makedirs(d, exist_ok=True)
            w = harness.Workload(self.target, d, 'suspects.py', [mode])
            w.start()
            try:
                w.wait_stopped()
                self.census[mode] = w.census()
                core = harness.take_gcore(w.pid, os.path.join(d, 'core'))
            finally:
                w.kill()
            args = ['--core', core, '--exe', self.target.python] + self.target.cli_args
            try:
                self.res[mode] = harness.run_probe(args + ['--json', 'suspects'])
                self.res[mode + '-text'] = harness.run_probe(args + ['suspects'])
                self.res[mode + '-partition'] = harness.run_probe(args + ['--json', 'partition'])
                if mode == 'big' and self.target.label == GDB:
                    self.gdb = gdb_run(self.target, core, 'probe-heap suspects --min 5%',
                                       'python import probeheap, json; '
                                       'print("JSON" + json.dumps(probeheap.Heap().suspects(min=5)))')
                    self.res['min5'] = harness.run_probe(args + ['suspects', '--min', '5'])
                    self.res['min5-json'] = harness.run_probe(args + ['--json', 'suspects', '--min', '5'])
                if mode == 'big':
                    self.res['min'] = harness.run_probe(args + ['suspects', '--min', '0.5%',
                                                                '--limit', '2', '--json'])
                    self.res['bad-min'] = harness.run_probe(args + ['suspects', '--min', 'lots'])
                    self.res['zero-min'] = harness.run_probe(args + ['suspects', '--min', '0'])
                    self.res['bad-limit'] = harness.run_probe(args + ['suspects', '--limit', '0'])
            finally:
                os.unlink(core)

    def doc(self, key):
        return self.res[key].json()


def gdb_run(target, core, *commands):
    """(stdout, stderr) of gdb with the plugin on core, running commands."""
    import subprocess
    args = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
            '-iex', 'set auto-load python-scripts off', '-x', os.path.join(harness.REPO, 'gdbinit'),
            target.python, core]
    for c in commands:
        args += ['-ex', c]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=harness.PROBE_TIMEOUT)
    return r.stdout, r.stderr


_runs = harness.Runs(lambda target, workdir: Heaps(target, workdir), 'suspects', 2)


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def hx(request, tmp_path_factory):
    labels = set()
    for item in request.session.items:
        cs = getattr(item, 'callspec', None)
        if item.module is request.module and cs is not None and 'hx' in cs.params:
            labels.add(cs.params['hx'].label)
    harness.require(request.param)
    return _runs.get(request.param, [t for t in TARGETS if t.label in labels and t.available],
                     tmp_path_factory)


def within(a, b, rel):
    return abs(a - b) <= rel * max(abs(b), 1)


def test_big_object_is_suspect_one(hx):
    doc = hx.doc('big')
    truth = hx.census['big']['big']
    part = hx.doc('big-partition')
    # the heap's bytes: the partition's total
    assert doc['total'] == part['size']
    assert doc['threshold'] == int(0.10 * part['size'] + 0.5)
    s = doc['suspects'][0]
    assert s['what'] == 'object'
    assert s['address'] == truth['address'], 'suspect 1 is not BIG'
    assert s['kind'] == 'list'
    assert s['path'] == '__main__:BIG'
    # retained: the in-process reachability measure (workloads/retained.py)
    assert within(s['retained'], truth['retained'], 0.01), (s['retained'], truth['retained'])
    assert within(s['retained_count'], truth['retained_count'], 0.01)
    assert s['percent'] == pytest.approx(100.0 * s['retained'] / part['size'])
    assert s['percent'] > 50
    p = s['point']
    assert p['address'] == truth['address'], 'the accumulation point is the list itself'
    assert p['children'] == truth['items']   # each Item is the list's alone
    assert p['path'] == '__main__:BIG'
    # each child retains an Item, its payload and (mostly) an int of its own
    assert p['average'] == (p['retained'] - p['flat']) // p['children']
    held = {x['kind']: x for x in s['held']}
    assert held['__main__.Item']['count'] == truth['items']
    assert held['bytes']['count'] == truth['items']
    assert held['list']['count'] >= 1
    # what it holds by kind: the in-process retained set by type (dicts' kinds differ: left out)
    for kind, x in held.items():
        if not kind.startswith('dict'):
            n, size = truth['kinds'][kind]
            assert within(x['count'], n, 0.01) and within(x['size'], size, 0.01), (kind, x, n, size)
    # no second suspect made of the same memory (its Items are not a kind suspect)
    assert all(x['kind'] != '__main__.Item' for x in doc['suspects'])


def test_big_text(hx):
    doc = hx.doc('big')
    s = doc['suspects'][0]
    text = hx.res['big-text'].expect_ok().stdout
    assert ('Suspect 1: %d bytes (%.0f%% of the heap) retained by one object:'
            % (s['retained'], s['percent'])) in text
    assert '  list 0x%x  len %d' % (s['address'], hx.census['big']['big']['items']) in text
    assert '  path: __main__:BIG' in text
    assert ('accumulation point: the list itself: %d children in the dominator tree retaining %d '
            'bytes, %d bytes each on average' % (s['point']['children'],
                                                 s['point']['retained'] - s['point']['flat'],
                                                 s['point']['average'])) in text
    assert '__main__.Item (%d bytes, %d)' % (
        [x['size'] for x in s['held'] if x['kind'] == '__main__.Item'][0],
        hx.census['big']['big']['items']) in text


def test_many_small_objects_are_a_kind_suspect(hx):
    doc = hx.doc('many')
    census = hx.census['many']
    part = hx.doc('many-partition')
    small = [s for s in doc['suspects'] if s['what'] == 'kind' and s['kind'] == '__main__.Small']
    assert small, 'the kind __main__.Small is not a suspect: %r' % doc['suspects']
    s = small[0]
    # each Small retains itself alone: the workload's count and getsizeof sum
    assert s['objects'] == census['small']['count']
    assert s['retained'] == census['small']['size']
    assert s['percent'] == pytest.approx(100.0 * census['small']['size'] / part['size'])
    assert 15 < s['percent'] < 45
    assert s['all_owners'] == 50
    assert len(s['owners']) == 8
    pools = census['pools']
    for o in s['owners']:
        m = re.match(r'^__main__:(pool_\d\d)\.items$', o['path'])
        assert m, o['path']
        pool = pools[m.group(1)]
        assert o['address'] == pool['address']
        assert o['kind'] == 'list' and o['owners'] == 1
        assert (o['count'], o['size']) == (pool['items'], pool['size'])
    # no object suspect: every owner is small
    assert all(x['what'] == 'kind' for x in doc['suspects'])


def test_many_text(hx):
    s = [s for s in hx.doc('many')['suspects'] if s['kind'] == '__main__.Small'][0]
    text = hx.res['many-text'].expect_ok().stdout
    assert ('%d bytes (%.0f%% of the heap) in 100000 objects of __main__.Small (none over the '
            'threshold), held by 50 owners:' % (s['retained'], s['percent'])) in text
    o = s['owners'][0]
    assert '%10d bytes in %6d objects under %s (list 0x%x)' % (o['size'], o['count'], o['path'],
                                                              o['address']) in text
    assert '(84000 more objects under other owners)' in text


def test_healthy_heap_has_no_suspect(hx):
    doc = hx.doc('healthy')
    assert doc['suspects'] == [], doc['suspects']
    text = hx.res['healthy-text'].expect_ok().stdout
    assert text.startswith('No leak suspect: no object retains 10%% of the heap (%d of %d bytes)'
                           % (doc['threshold'], doc['total']))


def test_min_and_limit(hx):
    doc = hx.doc('min')
    assert doc['min'] == 0.5
    assert doc['threshold'] == int(0.005 * doc['total'] + 0.5)
    assert len(doc['suspects']) <= 2
    assert all(s['retained'] >= doc['threshold'] for s in doc['suspects'])
    assert doc['suspects'][0]['path'] == '__main__:BIG'


@pytest.mark.parametrize('key,msg', [
    ('bad-min', 'probe-heap: --min takes a percentage of the heap, like 10 or 5%\n'),
    ('zero-min', 'probe-heap: --min must be above 0 and at most 100 (a percentage of the heap)\n'),
    ('bad-limit', 'probe-heap: --limit must be at least 1\n')])
def test_bad_options(hx, key, msg):
    r = hx.res[key]
    assert (r.returncode, r.stdout, r.stderr) == (2, '', msg)


# --------------------------------------------------------------------------
# diff --by owner: two cores of one run of workloads/owners.py

OWNERS = {   # the workload's name -> the retainer path, a pattern
    'CACHE': r'__main__:CACHE',
    'Registry.store': r'__main__:Registry\.store',
    'remember': r'__main__:remember\.__closure__\[0\]\.cell_contents',
    # 3.11+: the local is a root; 3.8-3.10: the frame object is, the local its slot
    'local_cache': r"<thread 0x[0-9a-f]+: (worker \(.*owners\.py:\d+\), local 'local_cache'>|"
                   r"frame of worker \(.*owners\.py:\d+\)> <local 'local_cache'>)",
    'Bag': r'<held from outside Python: __main__\.Bag>',   # only C holds it
}
LIVE = 'pyenv-3.12.1'       # diff --by owner live too
GDB = 'pyenv-3.12.1'        # suspects in gdb, and Heap.suspects
GREW = {'Bag': 'bytes', 'CACHE': 'bytes', 'Registry.store': 'bytes', 'remember': 'bytearray', 'local_cache': 'bytes'}


class Grown(object):
    def __init__(self, target, workdir):
        self.target, self.workdir = target, workdir
        self.census, self.res, self.error = {}, {}, None
        self.snap = os.path.join(workdir, 'core1.phsnap')
        self.old_snap = os.path.join(workdir, 'old.phsnap')
        self.live_snap = os.path.join(workdir, 'live1.phsnap')

    def run(self):
        import json
        import signal
        import time
        w = harness.Workload(self.target, self.workdir, 'owners.py')
        w.start()
        cores = []
        try:
            w.wait_stopped()
            self.census[1] = w.census()
            cores.append(harness.take_gcore(w.pid, os.path.join(self.workdir, 'core1')))
            if self.target.label == LIVE:   # a snapshot of the live process at the first stop
                harness.run_probe(['--pid', str(w.pid)] + self.target.cli_args +
                                  ['snapshot', self.live_snap]).expect_ok()
            os.kill(w.pid, signal.SIGCONT)
            deadline = time.time() + harness.WORKLOAD_START_TIMEOUT
            path2 = w.census_path + '.2'
            while not (os.path.exists(path2) and harness.proc_state(w.pid) in ('T', 't')):
                if w.popen.poll() is not None or time.time() > deadline:
                    raise harness.WorkloadDied('owners.py did not stop again:\n' + w.stderr())
                time.sleep(0.05)
            with open(path2) as f:
                self.census[2] = json.load(f)
            cores.append(harness.take_gcore(w.pid, os.path.join(self.workdir, 'core2')))
            if self.target.label == LIVE:   # the live process against its own earlier snapshot
                self.res['live'] = harness.run_probe(['--pid', str(w.pid)] + self.target.cli_args +
                                                     ['--json', 'diff', self.live_snap, '--by', 'owner'])
        finally:
            w.kill()
        args = [['--core', c, '--exe', self.target.python] + self.target.cli_args for c in cores]
        try:
            harness.run_probe(args[0] + ['snapshot', self.snap]).expect_ok()
            with open(self.snap) as f:
                doc = json.load(f)
            del doc['owners']
            with open(self.old_snap, 'w') as f:
                json.dump(doc, f)
            self.res['diff'] = harness.run_probe(args[1] + ['--json', 'diff', self.snap, '--by', 'owner'])
            self.res['text'] = harness.run_probe(args[1] + ['diff', self.snap, '--by', 'owner'])
            self.res['same'] = harness.run_probe(args[0] + ['--json', 'diff', self.snap, '--by', 'owner'])
            self.res['old'] = harness.run_probe(args[1] + ['diff', self.old_snap, '--by', 'owner'])
            self.res['core'] = harness.run_probe(args[1] + ['--json', 'diff', cores[0], '--by', 'owner'])
            self.res['core-kind'] = harness.run_probe(args[1] + ['--json', 'diff', cores[0]])
            self.res['kind'] = harness.run_probe(args[1] + ['--json', 'diff', self.snap])
            self.log = os.path.join(self.workdir, 'core1.gcore.log')   # a file, not JSON
            self.res['not-core'] = harness.run_probe(args[1] + ['diff', self.log])
            self.res['bad-by'] = harness.run_probe(args[1] + ['diff', self.snap, '--by', 'colour'])
            self.cores = cores
        finally:
            for c in cores:
                os.unlink(c)


_grown = harness.Runs(lambda target, workdir: Grown(target, workdir), 'owners', 2)


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def gx(request, tmp_path_factory):
    labels = set()
    for item in request.session.items:
        cs = getattr(item, 'callspec', None)
        if item.module is request.module and cs is not None and 'gx' in cs.params:
            labels.add(cs.params['gx'].label)
    harness.require(request.param)
    return _grown.get(request.param, [t for t in TARGETS if t.label in labels and t.available],
                      tmp_path_factory)


def _row(doc, name):
    rows = [r for r in doc['owners'] if re.match('^%s$' % OWNERS[name], r['path'])]
    assert len(rows) == 1, '%s: %d rows match %s: %r' % (name, len(rows), OWNERS[name],
                                                         [r['path'] for r in doc['owners']][:30])
    return rows[0]


@pytest.mark.parametrize('name', sorted(OWNERS))
def test_diff_by_owner_names_growth(gx, name):
    doc = gx.res['diff'].json()
    assert doc['by'] == 'owner'
    r = _row(doc, name)
    # the in-process truth: reachability in the target (workloads/retained.py) at each stop
    t1, t2 = gx.census[1]['owners'][name], gx.census[2]['owners'][name]
    assert r['status'] == ''
    assert within(r['retained_before'], t1['retained'], 0.01), (r, t1)
    assert within(r['retained'], t2['retained'], 0.01), (r, t2)
    assert within(r['size_delta'], t2['retained'] - t1['retained'], 0.01), (r, t1, t2)
    assert within(r['count_delta'], t2['retained_count'] - t1['retained_count'], 0.01), (r, t1, t2)
    # the kind that grew most under it: what the workload adds there
    assert r['kinds'][0]['kind'] == GREW[name], r['kinds']
    # each kind's growth: the in-process retained set by type at each stop (dicts' kinds differ)
    for k in r['kinds']:
        if k['kind'].startswith('dict'):
            continue
        n1, s1 = t1['kinds'].get(k['kind'], (0, 0))
        n2, s2 = t2['kinds'].get(k['kind'], (0, 0))
        assert within(k['size_delta'], s2 - s1, 0.01) and within(k['count_delta'], n2 - n1, 0.01), \
            (k, n1, s1, n2, s2)
    assert r['same_as'] is None
    text = gx.res['text'].expect_ok().stdout
    assert '%11d %+11d %9d %+9d  %s\n' % (r['retained'], r['size_delta'], r['retained_count'],
                                          r['count_delta'], r['path']) in text


def test_diff_by_owner_unchanged(gx):
    doc = gx.res['diff'].json()
    steady = [r for r in doc['owners'] if r['path'] == '__main__:STEADY']
    assert steady == [], 'STEADY did not change, yet: %r' % steady
    # the largest growth first
    deltas = [r['size_delta'] for r in doc['owners']]
    assert deltas == sorted(deltas, reverse=True)
    same = gx.res['same'].json()
    assert same['owners'] == [], 'a core against its own snapshot: %r' % same['owners'][:5]


def test_diff_by_owner_errors(gx):
    r = gx.res['old']
    assert (r.returncode, r.stdout) == (1, '')
    assert r.stderr == ('probe-heap: %s has no retainer paths (it was written before they were kept): '
                        'diff --by owner needs a snapshot taken by this probe-heap\n' % gx.old_snap)
    r = gx.res['not-core']
    assert (r.returncode, r.stdout) == (1, '')
    assert r.stderr == 'probe-heap: %s is not a probe-heap snapshot (not JSON)\n' % gx.log
    r = gx.res['bad-by']
    assert (r.returncode, r.stdout, r.stderr) == (2, '', 'probe-heap: diff --by takes kind (the default) or owner\n')


def test_diff_against_a_core(gx):
    """diff CORE1 on core 2: core 1 walked by a second probe-heap, the same
    answer as against core 1's snapshot, by owner and by kind."""
    by_core, by_snap = gx.res['core'].json(), gx.res['diff'].json()
    assert by_core['owners'] == by_snap['owners']
    assert by_core['snapshot']['source']['core'] == os.path.abspath(gx.cores[0])
    k_core, k_snap = gx.res['core-kind'].json(), gx.res['kind'].json()
    assert (k_core['rows'], k_core['growth']) == (k_snap['rows'], k_snap['growth'])


def test_in_gdb_and_scripting_api(hx):
    """(gdb) probe-heap suspects --min 5% prints what the command line does;
    probeheap.Heap().suspects(min=5) is suspects --json's document."""
    if hx.target.label != GDB:
        pytest.skip('gdb is tried on %s' % GDB)
    out, err = hx.gdb
    assert 'Traceback' not in out + err, out + err
    text, _, api = out.partition('JSON')
    text = text[text.index('Leak suspects: '):]   # after gdb's own lines on loading the core
    assert text == hx.res['min5'].expect_ok().stdout
    doc = hx.res['min5-json'].json()
    for k in ('python', 'skipped', 'partial'):
        del doc[k]
    assert json.loads(api) == doc


def test_diff_by_owner_live(gx):
    """A live process against a snapshot of itself taken at the first stop:
    the same rows as the two cores give."""
    if gx.target.label != LIVE:
        pytest.skip('live on %s' % LIVE)
    live, cores = gx.res['live'].json(), gx.res['diff'].json()
    assert live['snapshot']['source']['pid'] is not None
    for name in OWNERS:
        a, b = _row(live, name), _row(cores, name)
        assert (a['path'], a['retained'], a['size_delta'], a['count_delta']) == \
            (b['path'], b['retained'], b['size_delta'], b['count_delta'])


def test_snapshot_paths_bounded(gx):
    """Each retainer path in the file is bounded: under 1 kB, at most 8 kinds,
    at most 10,000 paths."""
    with open(gx.snap) as f:
        doc = json.load(f)
    o = doc['owners']
    assert 0 < len(o['paths']) <= 10000
    assert o['min_retained'] == max(1024, min(65536, doc['size'] // 1000))
    for path, retained, count, nodes, held in o['paths']:
        assert len(path) < 1024 and len(held) <= 8 and retained >= o['min_retained'] and nodes >= 1
