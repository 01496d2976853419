"""snapshot FILE and diff FILE (issue 5) against the in-process census of
workloads/growth.py, two cores of one process before and after it grows,
on every CPython; live on one target.

The workload builds a base heap, records the count and sys.getsizeof sums
of its marker kinds (GrowA, GrowB, their dicts on 3.8-3.10, their str
attributes) and stops: core 1, `snapshot` of it.  Continued, it adds K GrowA
and L GrowB, records the census again and stops: core 2, `diff` of it
against the snapshot of core 1.  What must hold:

  * the grown kinds' rows: count, size, count_before, size_before and the
    deltas are the in-process numbers (str: the deltas, as the process has
    other strs); the growth lines (objgraph's show_growth) list the marker
    types with their counts and deltas;
  * the rows add up to the totals' deltas, go by falling size growth;
  * `diff` of core 1 against its own snapshot: no change at all;
  * live (--pid) the snapshot equals the core's and the diff the core's;
  * across versions (snapshot of a 3.12 core, diff on a 3.11 core) a note
    says that the versions differ;
  * a bad snapshot file (missing, not JSON, JSON of something else, of
    another format version, damaged) or a bad argument: one sentence,
    status 2, no traceback.
"""

import json
import os
import re
import signal
import threading
import time

import pytest

import harness

TARGETS = harness.all_targets()
A0, B0, K, L = 2000, 1000, 3000, 1500
LIVE = ('pyenv-3.12.1', 'cpython-3.14.7')        # also run live
CROSS = ('pyenv-3.12.1', 'pyenv-3.11.7')         # snapshot of the first, diff on the second
KEEP = set(CROSS)                                # targets whose cores stay for the module
WORKERS = 2
GROWA, GROWB = '__main__.GrowA', '__main__.GrowB'


def run_parallel(jobs):
    """{key: ProbeResult} of {key: argv}, run at the same time."""
    out = {}
    threads = [threading.Thread(target=lambda k=k, a=a: out.__setitem__(k, harness.run_probe(a)))
               for k, a in jobs.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


class Grown(object):
    """One target's workload, its two cores, and the tool's answers."""

    def __init__(self, target, workdir):
        self.target = target
        self.workdir = workdir
        self.live = target.label in LIVE
        self.census = {}            # 1, 2 -> the workload's document
        self.cores = {}             # 1, 2 -> path
        self.snap = {1: os.path.join(workdir, 'core1.phsnap'),
                     'text': os.path.join(workdir, 'core1-text.phsnap'),
                     'live': os.path.join(workdir, 'live1.phsnap')}
        self.res = {}               # key -> harness.ProbeResult
        self.error = None
        self.w = None

    def core_args(self, n):
        return ['--core', self.cores[n], '--exe', self.target.python] + self.target.cli_args

    def live_args(self):
        return ['--pid', str(self.w.pid)] + self.target.cli_args

    def run(self):
        w = self.w = harness.Workload(self.target, self.workdir, 'growth.py',
                                      [str(n) for n in (A0, B0, K, L)])
        w.start()
        try:
            w.wait_stopped()
            self.census[1] = w.census()
            self.cores[1] = harness.take_gcore(w.pid, os.path.join(self.workdir, 'core1'))
            self.res['snapshot'] = harness.run_probe(
                self.core_args(1) + ['snapshot', self.snap[1], '--json'])
            jobs = {'same': self.core_args(1) + ['--json', 'diff', self.snap[1]],
                    'snapshot_text': self.core_args(1) + ['snapshot', self.snap['text']]}
            if self.live:
                jobs['snapshot_live'] = self.live_args() + ['snapshot', self.snap['live']]
            self.res.update(run_parallel(jobs))
            self._grow()
            self.cores[2] = harness.take_gcore(w.pid, os.path.join(self.workdir, 'core2'))
            jobs = {'diff': self.core_args(2) + ['--json', 'diff', self.snap[1]],
                    'diff_text': self.core_args(2) + ['diff', self.snap[1]],
                    'diff_all': self.core_args(2) + ['diff', self.snap[1], '--all', '--json'],
                    'diff_limit': self.core_args(2) + ['diff', self.snap[1], '--limit', '2',
                                                       '--json']}
            if self.live:
                jobs['diff_live'] = self.live_args() + ['--json', 'diff', self.snap[1]]
            self.res.update(run_parallel(jobs))
            if self.live:   # one tracer at a time
                self.res['diff_live_snap'] = harness.run_probe(
                    self.live_args() + ['--json', 'diff', self.snap['live']])
        finally:
            w.kill()
            if self.target.label not in KEEP:
                self.discard()

    def _grow(self):
        w = self.w
        path2 = w.census_path + '.2'
        if harness.proc_state(w.pid) not in ('T', 't'):
            raise RuntimeError('the workload is not stopped before growing')
        os.kill(w.pid, signal.SIGCONT)
        deadline = time.time() + harness.WORKLOAD_START_TIMEOUT
        while not (os.path.exists(path2) and harness.proc_state(w.pid) in ('T', 't')):
            if w.popen.poll() is not None:
                raise harness.WorkloadDied('growth.py died growing:\n' + w.stderr())
            if time.time() > deadline:
                raise harness.WorkloadDied('growth.py did not stop again:\n' + w.stderr())
            time.sleep(0.05)
        with open(path2) as f:
            self.census[2] = json.load(f)

    def discard(self):
        if os.environ.get('PROBE_HEAP_KEEP_CORES'):
            return
        for path in self.cores.values():
            if os.path.exists(path):
                os.unlink(path)

    def result(self, key):
        if key not in self.res:
            pytest.fail('%s: %s was not run' % (self.target.label, key), pytrace=False)
        return self.res[key].expect_ok()

    def doc(self, key):
        return self.result(key).json()


_runs = harness.Runs(lambda target, workdir: Grown(target, workdir), 'growth', WORKERS)

def selected_labels(request):
    labels = set()
    for item in request.session.items:
        if item.module is not request.module:
            continue
        cs = getattr(item, 'callspec', None)
        if cs is not None and 'gx' in cs.params:
            labels.add(cs.params['gx'].label)
        elif item.name.startswith(('test_diff_across_versions', 'test_bad_')):
            labels.update(CROSS)
    return labels


def grown(target, request, tmp_path_factory):
    """The Grown of a target; the first call starts every target the selected
    tests need in the background, WORKERS at a time."""
    labels = selected_labels(request)
    return _runs.get(target, [t for t in TARGETS if t.label in labels and t.available],
                     tmp_path_factory)


@pytest.fixture(scope='module', autouse=True)
def _cleanup():
    """The cores kept for the tests across targets go at the module's end."""
    yield
    for g in _runs.jobs():
        g.discard()


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def gx(request, tmp_path_factory):
    return grown(request.param, request, tmp_path_factory)


# --------------------------------------------------------------------------
# helpers

DIFF_KEYS = ('python', 'snapshot', 'count', 'size', 'count_delta', 'size_delta', 'rows',
             'growth', 'notes')
ROW_KEYS = ('kind', 'count', 'size', 'count_before', 'size_before', 'count_delta', 'size_delta')


def shape_problems(doc):
    probs = ['no "%s" key' % k for k in DIFF_KEYS if k not in doc]
    if probs:
        return probs
    for r in doc['rows']:
        missing = [k for k in ROW_KEYS if k not in r]
        if missing:
            probs.append('row %r has no %s' % (r.get('kind'), missing))
        elif (r['count_delta'], r['size_delta']) != (r['count'] - r['count_before'],
                                                     r['size'] - r['size_before']):
            probs.append('row %r: deltas %+d %+d do not match %d-%d, %d-%d' % (
                r['kind'], r['count_delta'], r['size_delta'], r['count'], r['count_before'],
                r['size'], r['size_before']))
        elif r['count_delta'] == 0 and r['size_delta'] == 0:
            probs.append('row %r did not change, yet is listed' % r['kind'])
    if probs:
        return probs
    if doc['count_delta'] != doc['count'] - doc['snapshot']['count'] or \
            doc['size_delta'] != doc['size'] - doc['snapshot']['size']:
        probs.append('totals: %d objects %d bytes now, %d %d in the snapshot, deltas %+d %+d' % (
            doc['count'], doc['size'], doc['snapshot']['count'], doc['snapshot']['size'],
            doc['count_delta'], doc['size_delta']))
    if sum(r['count_delta'] for r in doc['rows']) != doc['count_delta'] or \
            sum(r['size_delta'] for r in doc['rows']) != doc['size_delta']:
        probs.append('the rows\' deltas add up to %+d objects %+d bytes, the totals\' are %+d %+d'
                     % (sum(r['count_delta'] for r in doc['rows']),
                        sum(r['size_delta'] for r in doc['rows']),
                        doc['count_delta'], doc['size_delta']))
    order = [(-r['size_delta'], r['kind']) for r in doc['rows']]
    if order != sorted(order):
        probs.append('rows are not by falling size growth, then kind')
    order = [(-g['delta'], g['type']) for g in doc['growth']]
    if order != sorted(order):
        probs.append('growth lines are not by falling count growth, then type')
    if any(g['delta'] <= 0 for g in doc['growth']):
        probs.append('a growth line with no growth: %r' % doc['growth'])
    return probs


def expected_changes(gx):
    """{kind: (count, size, count_before, size_before) or None (deltas only)}"""
    c1, c2 = gx.census[1]['census'], gx.census[2]['census']
    out = {}
    for kind in (GROWA, GROWB, 'dict of ' + GROWA, 'dict of ' + GROWB, 'str'):
        out[kind] = (c2[kind][0], c2[kind][1], c1[kind][0], c1[kind][1])
    return out


def fail(gx, what, probs, doc=None):
    if probs:
        msg = '%s: %s:\n  %s' % (gx.target.label, what, '\n  '.join(probs))
        if doc is not None:
            msg += '\n\n' + json.dumps({k: doc.get(k) for k in ('count_delta', 'size_delta', 'notes')})
            for r in doc.get('rows', [])[:15]:
                msg += '\n  %r' % r
            msg += '\n  growth: %r' % doc.get('growth')
        pytest.fail(msg, pytrace=False)


def grown_kind_problems(gx, doc):
    probs = []
    rows = {r['kind']: r for r in doc['rows']}
    dicts = gx.census[1]['dicts']
    for kind, (n2, s2, n1, s1) in sorted(expected_changes(gx).items()):
        r = rows.get(kind)
        if kind.startswith('dict of ') and not dicts:
            if r is not None:
                probs.append('%r row on %s, whose instances have no dict objects' % (
                    kind, gx.census[1]['python']))
            continue
        if r is None:
            probs.append('no row for %r (in process %+d objects, %+d bytes)' % (
                kind, n2 - n1, s2 - s1))
            continue
        got = (r['count_delta'], r['size_delta'])
        if got != (n2 - n1, s2 - s1):
            probs.append('%r: %+d objects, %+d bytes; in process %+d objects, %+d bytes' % (
                kind, got[0], got[1], n2 - n1, s2 - s1))
        if kind != 'str':
            got = (r['count'], r['size'], r['count_before'], r['size_before'])
            if got != (n2, s2, n1, s1):
                probs.append('%r: now %d objects %d bytes, before %d %d; in process now %d %d, '
                             'before %d %d' % ((kind,) + got + (n2, s2, n1, s1)))
    return probs


def growth_problems(gx, doc, limit=10):
    probs = []
    c1, c2 = gx.census[1]['census'], gx.census[2]['census']
    dicts = gx.census[1]['dicts']
    growth = {g['type']: g for g in doc['growth']}
    want = {GROWA: (c2[GROWA][0], K), GROWB: (c2[GROWB][0], L),
            'str': (None, c2['str'][0] - c1['str'][0])}
    if dicts:
        want['dict'] = (None, K + L)
    for t, (count, delta) in sorted(want.items()):
        g = growth.get(t)
        if g is None:
            probs.append('no growth line for %s (%+d in process)' % (t, delta))
        elif g['delta'] != delta or (count is not None and g['count'] != count):
            probs.append('growth line %s: %d %+d; in process %s %+d' % (
                t, g['count'], g['delta'], count if count is not None else '?', delta))
    if limit and len(doc['growth']) > limit:
        probs.append('%d growth lines, more than the limit %d' % (len(doc['growth']), limit))
    return probs


# --------------------------------------------------------------------------
# the tests

def test_snapshot_written(gx):
    """snapshot FILE --json says what it wrote; the file says where it comes from."""
    doc = gx.doc('snapshot')
    with open(gx.snap[1]) as f:
        snap = json.load(f)
    probs = []
    if doc.get('file') != gx.snap[1]:
        probs.append('"file": %r, not %r' % (doc.get('file'), gx.snap[1]))
    if (doc.get('count'), doc.get('size')) != (snap.get('count'), snap.get('size')):
        probs.append('the answer says %r objects %r bytes, the file %r %r' % (
            doc.get('count'), doc.get('size'), snap.get('count'), snap.get('size')))
    if doc.get('rows') != len(snap.get('by_kind') or []):
        probs.append('"rows": %r, the file has %d kinds' % (doc.get('rows'),
                                                             len(snap.get('by_kind') or [])))
    if (snap.get('python') or {}).get('version') != gx.census[1]['python']:
        probs.append('the file\'s python is %r, the workload runs %s' % (
            snap.get('python'), gx.census[1]['python']))
    src = snap.get('source') or {}
    if src.get('core') != os.path.abspath(gx.cores[1]) or not src.get('taken'):
        probs.append('the file\'s source %r does not name the core %s and its time' % (
            src, gx.cores[1]))
    if not snap.get('executable') or os.path.realpath(snap['executable']) != \
            os.path.realpath(gx.target.python):
        probs.append('the file\'s executable %r is not %s' % (snap.get('executable'),
                                                              gx.target.python))
    for key in ('by_kind', 'by_type'):
        rows = snap.get(key) or []
        if sum(r[1] for r in rows) != snap.get('count') or sum(r[2] for r in rows) != snap.get('size'):
            probs.append('the file\'s %s rows do not add up to its totals' % key)
    by_kind = dict((r[0], (r[1], r[2])) for r in snap.get('by_kind') or [])
    for kind, (n2, s2, n1, s1) in expected_changes(gx).items():
        if kind == 'str' or (kind.startswith('dict of ') and not gx.census[1]['dicts']):
            continue
        if by_kind.get(kind) != (n1, s1):
            probs.append('the file has %r for %r; in process %d objects %d bytes' % (
                by_kind.get(kind), kind, n1, s1))
    fail(gx, '`%s`' % ' '.join(gx.res['snapshot'].argv[1:]), probs)


def test_diff_shows_growth(gx):
    """diff core 2 against the snapshot of core 1: the in-process deltas."""
    doc = gx.doc('diff')
    probs = shape_problems(doc)
    fail(gx, 'diff --json: malformed', probs, doc)
    probs = grown_kind_problems(gx, doc) + growth_problems(gx, doc)
    if doc['notes']:
        probs.append('notes for two cores of one process: %r' % doc['notes'])
    if doc['python'].get('version') != gx.census[2]['python'] or \
            doc['snapshot']['python'].get('version') != gx.census[1]['python']:
        probs.append('python %r, snapshot python %r' % (doc['python'],
                                                        doc['snapshot']['python']))
    if doc['snapshot'].get('source', {}).get('core') != os.path.abspath(gx.cores[1]):
        probs.append('the snapshot\'s source %r is not core 1' % doc['snapshot'].get('source'))
    fail(gx, 'diff core 2 against core 1', probs, doc)


def test_diff_all(gx):
    """--all: every growth line (not ten); the same rows."""
    doc, full = gx.doc('diff'), gx.doc('diff_all')
    probs = shape_problems(full) + growth_problems(gx, full, limit=0)
    if full['rows'] != doc['rows']:
        probs.append('--all changes the rows (JSON lists them all either way)')
    if full['growth'][:len(doc['growth'])] != doc['growth']:
        probs.append('the first growth lines with --all are not the ten without it')
    if len(doc['growth']) == 10 and len(full['growth']) < 10:
        probs.append('--all lists fewer growth lines')
    fail(gx, 'diff --all --json', probs, full)


def test_snapshot_text(gx):
    """snapshot FILE without --json: one line; the file is the same."""
    res = gx.result('snapshot_text')
    with open(gx.snap[1]) as f:
        first = json.load(f)
    with open(gx.snap['text']) as f:
        second = json.load(f)
    want = 'Snapshot of %d objects, %d bytes (%d kinds) written to %s' % (
        first['count'], first['size'], len(first['by_kind']), gx.snap['text'])
    assert res.stdout.strip() == want, res.describe()
    assert second == first, 'two snapshots of one core differ'


def test_diff_limit(gx):
    """--limit shortens the text only: the JSON keeps every row and every
    growth line (checked in the text by test_diff_text)."""
    doc, lim = gx.doc('diff'), gx.doc('diff_limit')
    probs = shape_problems(lim)
    if lim['growth'] != doc['growth']:
        probs.append('--limit changes the JSON growth: %r; without: %r' % (lim['growth'], doc['growth']))
    if lim['rows'] != doc['rows']:
        probs.append('--limit changes the JSON rows')
    fail(gx, 'diff --limit 2 --json', probs, lim)


def test_diff_same_core_shows_no_change(gx):
    doc = gx.doc('same')
    probs = shape_problems(doc)
    if probs:
        fail(gx, 'diff --json on the snapshot\'s own core: malformed', probs, doc)
    if doc['rows'] or doc['growth'] or doc['count_delta'] or doc['size_delta'] or doc['notes']:
        probs.append('changes between a core and its own snapshot: %d rows (%s), %d growth '
                     'lines, %+d objects, %+d bytes, notes %r' % (
                         len(doc['rows']), [r['kind'] for r in doc['rows']][:10],
                         len(doc['growth']), doc['count_delta'], doc['size_delta'],
                         doc['notes']))
    fail(gx, 'diff on the snapshot\'s own core', probs, doc)


def test_diff_text(gx):
    """heapy's table of differences and objgraph's growth lines."""
    res = gx.result('diff_text')
    doc = gx.doc('diff')
    text = res.stdout
    lines = text.splitlines()
    probs = []
    v = gx.census[1]['python']
    if not lines or not lines[0].startswith('Difference from the snapshot %s (CPython %s, %s, '
                                            % (gx.snap[1], v, os.path.abspath(gx.cores[1]))):
        probs.append('first line %r' % (lines[0] if lines else None))
    want = 'Objects: %d -> %d (%+d); bytes: %d -> %d (%+d).' % (
        doc['snapshot']['count'], doc['count'], doc['count_delta'], doc['snapshot']['size'],
        doc['size'], doc['size_delta'])
    if want not in lines:
        probs.append('no line %r' % want)
    if ' Index  Count   %      Size   % Cumulative  % Kind (class / dict of class)' not in lines:
        probs.append('no table header')
    table = [l for l in lines if re.match(r'^\s*\d+\s+[+-]\d+\s', l)]
    if len(table) != min(10, len(doc['rows'])):
        probs.append('%d table rows, expected %d' % (len(table), min(10, len(doc['rows']))))
    for i, r in enumerate(doc['rows'][:10]):
        if i < len(table):
            t = table[i].split()
            if int(t[0]) != i or int(t[1]) != r['count_delta'] or int(t[3]) != r['size_delta'] \
                    or not table[i].endswith(' ' + r['kind']):
                probs.append('table row %d %r is not %r' % (i, table[i], r))
    if len(doc['rows']) > 10 and ('<%d more kinds changed; --all shows them, --json lists them all>'
                                  % (len(doc['rows']) - 10)) not in lines:
        probs.append('no "more kinds changed" line for %d rows' % len(doc['rows']))
    if 'Growth by type (objgraph.show_growth):' not in lines:
        probs.append('no growth header')
    else:
        glines = lines[lines.index('Growth by type (objgraph.show_growth):') + 1:]
        for g in doc['growth']:
            if not any(re.match(r'^%s\s+%d\s+\+%d$' % (re.escape(g['type']), g['count'],
                                                       g['delta']), l) for l in glines):
                probs.append('no growth line for %r' % g)
    fail(gx, '`%s`' % ' '.join(res.argv[1:]), probs)
    assert 'Traceback' not in res.stderr, res.describe()


def test_live(gx):
    """--pid: the snapshot of the stopped process is the core's; diff on the
    grown process against either snapshot is the diff of core 2."""
    if not gx.live:
        pytest.skip('live on %s only' % ' and '.join(LIVE))
    gx.result('snapshot_live')
    with open(gx.snap[1]) as f:
        core_snap = json.load(f)
    with open(gx.snap['live']) as f:
        live_snap = json.load(f)
    probs = []
    for key in ('by_kind', 'by_type', 'count', 'size', 'python'):
        if live_snap.get(key) != core_snap.get(key):
            probs.append('live snapshot and core snapshot differ in %s' % key)
    src = live_snap.get('source') or {}
    if src.get('pid') != gx.w.pid or src.get('core') is not None:
        probs.append('the live snapshot\'s source %r does not name pid %d' % (src, gx.w.pid))
    core_diff = gx.doc('diff')
    for key in ('diff_live', 'diff_live_snap'):
        doc = gx.doc(key)
        probs += ['%s: %s' % (key, p) for p in shape_problems(doc)]
        for k in ('rows', 'growth', 'count', 'size', 'count_delta', 'size_delta', 'notes'):
            if doc.get(k) != core_diff.get(k):
                probs.append('%s: %s differs from the diff of core 2' % (key, k))
        probs += ['%s: %s' % (key, p) for p in grown_kind_problems(gx, doc)]
    fail(gx, 'live', probs)


# --------------------------------------------------------------------------
# across versions, and bad input (on the cores kept for them)

def kept_grown(label, request, tmp_path_factory):
    t = harness.target_by_label(label)
    return grown(t, request, tmp_path_factory)


def test_diff_across_versions(request, tmp_path_factory):
    """A snapshot of a 3.12 core, diff on a 3.11 core: a note says the
    versions differ (and the executables)."""
    new, old = [kept_grown(l, request, tmp_path_factory) for l in CROSS]
    res = harness.run_probe(old.core_args(2) + ['--json', 'diff', new.snap[1]])
    doc = res.json()
    v_snap, v_now = new.census[1]['python'], old.census[2]['python']
    probs = shape_problems(doc)
    notes = doc.get('notes') or []
    if not any(v_snap in n and v_now in n for n in notes):
        probs.append('no note names both versions %s and %s: %r' % (v_snap, v_now, notes))
    if not any(os.path.basename(new.target.python) in n for n in notes):
        probs.append('no note says the executables differ: %r' % notes)
    if (doc.get('python') or {}).get('version') != v_now or \
            ((doc.get('snapshot') or {}).get('python') or {}).get('version') != v_snap:
        probs.append('python %r, snapshot %r' % (doc.get('python'), doc.get('snapshot')))
    text = harness.run_probe(old.core_args(2) + ['diff', new.snap[1]]).expect_ok().stdout
    if not any(v_snap in l and v_now in l for l in text.splitlines()[1:4]):
        probs.append('the text does not say the versions differ near its top:\n' + text[:800])
    if probs:
        pytest.fail('`%s`:\n  %s' % (' '.join(res.argv[1:]), '\n  '.join(probs)), pytrace=False)


def bad_files(d):
    """{label: path} of files that are no snapshot."""
    files = {'missing': os.path.join(d, 'no-such.phsnap')}

    def put(label, text):
        files[label] = os.path.join(d, label + '.phsnap')
        with open(files[label], 'w') as f:
            f.write(text)
    put('not_json', 'Partition of a set of 3 objects.\n')
    put('empty', '')
    put('json_list', '[1, 2, 3]\n')
    put('json_other', json.dumps({'count': 3, 'rows': [['str', 3, 150]]}))
    put('other_version', json.dumps({'format': 'probe-heap snapshot', 'format_version': 99,
                                     'count': 0, 'size': 0, 'by_kind': [], 'by_type': []}))
    put('damaged', json.dumps({'format': 'probe-heap snapshot', 'format_version': 1,
                               'count': 3, 'size': 'x', 'by_kind': 7, 'by_type': []}))
    return files


def test_bad_snapshot_files(request, tmp_path_factory):
    """One sentence on stderr, nothing on stdout, no traceback: exit status
    1 for a file that is no snapshot (docs/commands.md: an error; a file
    that cannot be read is one), 2 for a usage error."""
    g = kept_grown(CROSS[0], request, tmp_path_factory)
    d = str(tmp_path_factory.mktemp('bad-snapshots'))
    files = bad_files(d)
    jobs = {label: (1, g.core_args(2) + ['diff', path]) for label, path in files.items()}
    jobs['json_missing'] = (1, g.core_args(2) + ['--json', 'diff', files['missing']])
    jobs['no_file'] = (2, g.core_args(2) + ['diff'])
    jobs['two_files'] = (2, g.core_args(2) + ['diff', files['missing'], files['empty']])
    jobs['bad_limit'] = (2, g.core_args(2) + ['diff', g.snap[1], '--limit', 'ten'])
    jobs['snapshot_no_file'] = (2, g.core_args(2) + ['snapshot'])
    jobs['snapshot_unwritable'] = (1, g.core_args(2) + ['snapshot', '/nonexistent/dir/x.phsnap'])
    results = run_parallel(dict((k, a) for k, (_, a) in jobs.items()))
    probs = []
    for label, res in sorted(results.items()):
        err = res.stderr.strip().splitlines()
        ok = (res.returncode == jobs[label][0] and len(err) == 1 and err[0].startswith('probe-heap: ')
              and 'Traceback' not in res.stderr and 'internal error' not in res.stderr
              and not res.stdout.strip())
        if not ok:
            probs.append('%s (exit %d expected): %s' % (label, jobs[label][0], res.describe()))
    if os.path.exists('/nonexistent/dir/x.phsnap'):
        probs.append('a snapshot was written to /nonexistent/dir/x.phsnap')
    if probs:
        pytest.fail('%d bad inputs not refused as they should be:\n\n%s'
                    % (len(probs), '\n\n'.join(probs)), pytrace=False)
