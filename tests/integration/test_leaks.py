"""leaks (issue 5) against the in-process truth of workloads/leaks.py, on
every CPython, from a core and live.

The workload leaks instances (PhLeakMarker5, each holding a PhLeakPayload5
and, on 3.8-3.10, a __dict__), bytes objects and complex numbers through
ctypes.pythonapi.Py_IncRef, beside identical objects kept from a module
global, and records the addresses and sys.getsizeof of all of them.

What must hold, on every target, core and live:

  * the allocator walk ran ("allocator": true) and found non-GC objects;
  * "leaked" has exactly the leaked instances (count, size, samples = the
    first three leaked addresses), none of the kept ones; what they alone
    hold (payloads, 3.8-3.10 dicts) is "kept", exactly;
  * the leaked complex numbers (non-GC: only the allocator walk finds them,
    and nothing else in the process makes complex numbers) are exactly the
    "leaked" complex row; the leaked bytes are in the "leaked" bytes row,
    exactly on 3.12+; on 3.8-3.11 it also holds bytes the interpreter keeps
    from C (the cached one-byte bytes...), so there it is at least as big,
    and no kept bytes is among its samples;
  * what a leaked list keeps through a C field (an operator.itemgetter's
    item, a bytearray) is "kept", not "leaked";
  * backrefs agrees object by object: each leaked instance is held from
    outside Python (its chain is its own "held" root), its payload and dict
    hang from it; each kept object's chain starts at sys.modules;
  * backrefs says something about each leaked bytes and complex (the text
    of leaks tells users to run it on the sample addresses);
  * the command line gives the same JSON as gdb, and a text matching it.

Each target's workload runs once (module-scoped); every question to the
tool is asked in one gdb session per mode (the index is built once); all
targets are probed in the background, two at a time, as soon as the first
test asks for one.
"""

import json
import os
import re
import subprocess
import threading
import time

import pytest

import harness

TARGETS = harness.all_targets()
MODES = ['core', 'live']
N_LEAK, N_KEPT, N_LEAK_BYTES, N_KEPT_BYTES = 40, 25, 30, 20
WORKERS = 2
GDB_TIMEOUT = 300

# Run in gdb after the plugin's gdbinit: each [key, command] of PH_COMMANDS
# in this one session; {key: {"ok", "text" | "error"}} is written to PH_OUT.
GDB_SCRIPT = r'''
import json, os
import gdb
out = {}
for key, cmd in json.load(open(os.environ["PH_COMMANDS"])):
    try:
        out[key] = {"ok": True, "text": gdb.execute(cmd, to_string=True), "command": cmd}
    except Exception as e:
        out[key] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e), "command": cmd}
with open(os.environ["PH_OUT"] + ".tmp", "w") as f:
    json.dump(out, f)
os.rename(os.environ["PH_OUT"] + ".tmp", os.environ["PH_OUT"])
'''


def _objects(oracle):
    """(label, address, expectation) of every object backrefs is asked about."""
    out = []
    for i, m in enumerate(oracle['leaked']):
        out.append(('leaked-marker-%d' % i, m['address'], ('held', m['address'])))
        out.append(('leaked-payload-%d' % i, m['payload']['address'], ('held', m['address'])))
        if 'dict' in m:
            out.append(('leaked-dict-%d' % i, m['dict']['address'], ('held', m['address'])))
    for i, m in enumerate(oracle['kept']):
        out.append(('kept-marker-%d' % i, m['address'], ('module', None)))
        out.append(('kept-payload-%d' % i, m['payload']['address'], ('module', None)))
        if 'dict' in m:
            out.append(('kept-dict-%d' % i, m['dict']['address'], ('module', None)))
    h = oracle['holder']
    for key in ('list', 'getter', 'held'):
        out.append(('holder-' + key, h[key]['address'], ('held-c', h['list']['address'])))
    for what in ('bytes', 'complex'):
        for i, o in enumerate(oracle['leaked_' + what]):
            out.append(('leaked-%s-%d' % (what, i), o['address'], ('leaked-non-gc', None)))
        for i, o in enumerate(oracle['kept_' + what]):
            out.append(('kept-%s-%d' % (what, i), o['address'], ('module', None)))
    return out


class Probed(object):
    """One target's workload and every answer of the tool about it."""

    def __init__(self, target, workdir):
        self.target = target
        self.workdir = workdir
        self.oracle = None
        self.gdb = {}          # mode -> {key: {"ok", "text"|"error", "command"}}
        self.gdb_log = {}
        self.cli = {}          # key -> harness.ProbeResult
        self.error = None
        self.seconds = None

    def run(self):
        t0 = time.time()
        w = harness.start_workload(self.target, self.workdir, 'leaks.py',
                                   args=[str(n) for n in (N_LEAK, N_KEPT, N_LEAK_BYTES, N_KEPT_BYTES)])
        try:
            self.oracle = w.census()
            self.w = w
            w.gcore()
            src = harness.source_args(w, 'core') + self.target.cli_args
            threads = [threading.Thread(target=self._gdb_session, args=('core',))]
            for key, args in (('json', ['--json', 'leaks']), ('text', ['leaks']),
                              ('text_all', ['leaks', '--all']), ('usage', ['leaks', 'extra'])):
                threads.append(threading.Thread(target=self._cli, args=(key, src + args)))
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            self._gdb_session('live')      # one tracer at a time
        finally:
            w.discard_core()
            w.kill()
        self.seconds = time.time() - t0

    def _cli(self, key, argv):
        self.cli[key] = harness.run_probe(argv)

    def _gdb_session(self, mode):
        cmds = [['leaks', 'probe-heap leaks --json']]
        cmds += [['backrefs:' + label, 'probe-heap backrefs 0x%x --json' % addr]
                 for label, addr, _ in _objects(self.oracle)]
        cmd_path = os.path.join(self.workdir, 'commands-%s.json' % mode)
        out_path = os.path.join(self.workdir, 'answers-%s.json' % mode)
        script = os.path.join(self.workdir, 'ask.py')
        with open(cmd_path, 'w') as f:
            json.dump(cmds, f)
        with open(script, 'w') as f:
            f.write(GDB_SCRIPT)
        argv = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
                '-iex', 'set auto-load python-scripts off'] + harness.gdb_args(self.target)
        argv += [self.target.python, self.w.core] if mode == 'core' else ['-p', str(self.w.pid)]
        argv += ['-x', os.path.join(harness.REPO, 'gdbinit'), '-x', script]
        env = dict(os.environ, PH_COMMANDS=cmd_path, PH_OUT=out_path)
        try:
            r = subprocess.run(argv, env=env, capture_output=True, text=True,
                               timeout=GDB_TIMEOUT, stdin=subprocess.DEVNULL)
            self.gdb_log[mode] = r.stdout[-3000:] + r.stderr[-3000:]
        except subprocess.TimeoutExpired:
            self.gdb_log[mode] = 'gdb timed out after %ss' % GDB_TIMEOUT
        answers = {}
        if os.path.exists(out_path):
            with open(out_path) as f:
                answers = json.load(f)
        self.gdb[mode] = answers

    # -- for the tests -------------------------------------------------------

    def where(self, mode):
        return '%s (%s)' % (self.target.label, mode)

    def answer(self, mode, key):
        """(doc, None) for a command that printed one JSON document, else
        (None, the reason)."""
        res = self.gdb.get(mode, {}).get(key)
        if res is None:
            return None, 'not run; gdb said:\n' + self.gdb_log.get(mode, '')
        if not res['ok']:
            return None, '`%s` failed: %s' % (res['command'], res['error'])
        try:
            return json.loads(res['text']), None
        except ValueError:
            return None, '`%s` did not print one JSON document:\n%s' % (res['command'],
                                                                      res['text'][:2000])

    def leaks(self, mode):
        doc, why = self.answer(mode, 'leaks')
        if doc is None:
            pytest.fail('%s: %s' % (self.where(mode), why), pytrace=False)
        return doc


_runs = harness.Runs(lambda target, workdir: Probed(target, workdir), 'leaks', WORKERS)

def selected_targets(request, fixture):
    """The targets of the tests pytest is about to run that use fixture."""
    labels = set()
    for item in request.session.items:
        cs = getattr(item, 'callspec', None)
        if cs is not None and fixture in cs.params and item.module is request.module:
            labels.add(cs.params[fixture].label)
    return [t for t in TARGETS if t.label in labels and t.available]


def probed(request, tmp_path_factory):
    """The Probed of a target; the first call starts every target the
    selected tests need in the background, WORKERS at a time."""
    return _runs.get(request.param, selected_targets(request, 'px'), tmp_path_factory)


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def px(request, tmp_path_factory):
    return probed(request, tmp_path_factory)


# --------------------------------------------------------------------------
# helpers

def rows(group):
    return {r['kind']: r for r in group['rows']}


def total(objs):
    return sum(o['size'] for o in objs)


def first3(objs):
    return sorted(o['address'] for o in objs)[:3]


def group_problems(name, g):
    probs = []
    for key in ('count', 'size', 'rows'):
        if key not in g:
            probs.append('%s has no "%s"' % (name, key))
    if probs:
        return probs
    if sum(r['count'] for r in g['rows']) != g['count']:
        probs.append('%s: rows add up to %d objects, not %d' % (
            name, sum(r['count'] for r in g['rows']), g['count']))
    if sum(r['size'] for r in g['rows']) != g['size']:
        probs.append('%s: rows add up to %d bytes, not %d' % (
            name, sum(r['size'] for r in g['rows']), g['size']))
    for r in g['rows']:
        s = r.get('samples')
        if not isinstance(s, list) or not 1 <= len(s) <= min(3, r['count']):
            probs.append('%s row %r: samples %r (1 to 3 addresses expected)' % (name, r['kind'], s))
        elif s != sorted(s):
            probs.append('%s row %r: samples not in address order: %r' % (name, r['kind'], s))
    kinds = [r['kind'] for r in g['rows']]
    if len(set(kinds)) != len(kinds):
        probs.append('%s: a kind has several rows: %r' % (name, kinds))
    return probs


def row_problems(group_name, group, kind, want_objs, exact=True):
    """The row of `kind` in a group against the objects the workload made."""
    r = rows(group).get(kind)
    n, size = len(want_objs), total(want_objs)
    if r is None:
        return ['%s has no %r row (%d objects, %d bytes expected)' % (group_name, kind, n, size)]
    probs = []
    if exact:
        if (r['count'], r['size']) != (n, size):
            probs.append('%s %r: %d objects, %d bytes; in process %d objects, %d bytes' % (
                group_name, kind, r['count'], r['size'], n, size))
        if r['samples'] != first3(want_objs):
            probs.append('%s %r: samples %s, expected the first three by address %s' % (
                group_name, kind, ['0x%x' % a for a in r['samples']],
                ['0x%x' % a for a in first3(want_objs)]))
    else:
        if r['count'] < n or r['size'] < size:
            probs.append('%s %r: %d objects, %d bytes; the workload alone leaked %d objects, '
                         '%d bytes' % (group_name, kind, r['count'], r['size'], n, size))
    return probs


def fail(px, mode, probs, doc=None):
    if probs:
        msg = '%s:\n  %s' % (px.where(mode), '\n  '.join(probs))
        if doc is not None:
            msg += '\n\nleaks --json (rows of our kinds):\n' + summary(doc)
        pytest.fail(msg, pytrace=False)


def summary(doc):
    lines = []
    for g in ('leaked', 'kept', 'garbage'):
        lines.append('%s: %d objects, %d bytes' % (g, doc[g]['count'], doc[g]['size']))
        for r in doc[g]['rows'][:15]:
            lines.append('   %-36s %6d %8d  %s' % (r['kind'], r['count'], r['size'],
                                                  ' '.join('0x%x' % a for a in r['samples'])))
    lines.append(json.dumps({k: v for k, v in doc.items() if k not in ('leaked', 'kept', 'garbage')}))
    return '\n'.join(lines)


def marker_kinds(o):
    return [o['marker'], o['payload'], 'dict of ' + o['marker']]


# --------------------------------------------------------------------------
# the JSON of leaks

@pytest.mark.parametrize('mode', MODES)
def test_leaks_document(px, mode):
    """Every key of the contract; groups add up; the allocator walk ran."""
    doc = px.leaks(mode)
    o = px.oracle
    probs = []
    for key in ('leaked', 'kept', 'garbage', 'allocator', 'allocator_note', 'blocks',
                'found_outside', 'leaked_outside', 'python', 'skipped', 'partial'):
        if key not in doc:
            probs.append('no "%s" key' % key)
    fail(px, mode, probs)
    for g in ('leaked', 'kept', 'garbage'):
        probs += group_problems(g, doc[g])
    if doc['python'].get('version') != o['python']:
        probs.append('python %r, the workload runs %s' % (doc['python'], o['python']))
    if doc['allocator'] is not True:
        probs.append('"allocator": %r (only GC objects searched): %s' % (doc['allocator'],
                                                                        doc['allocator_note']))
    elif doc['allocator_note']:
        probs.append('"allocator" is true, yet a note says %r' % doc['allocator_note'])
    non_gc = N_LEAK_BYTES * 2           # bytes and complex, leaked from C
    if not doc['blocks'] > 0:
        probs.append('"blocks": %r allocated pymalloc blocks searched' % doc['blocks'])
    if not doc['found_outside'] >= doc['leaked_outside'] >= non_gc:
        probs.append('found_outside %r >= leaked_outside %r >= %d (leaked bytes and complex) '
                     'does not hold' % (doc['found_outside'], doc['leaked_outside'], non_gc))
    if doc['skipped'] != 0 or doc['partial'] is not False:
        probs.append('skipped %r, partial %r on an intact heap' % (doc['skipped'], doc['partial']))
    fail(px, mode, probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_leaked_instances_exactly(px, mode):
    """The leaked instances and nothing else of their kind are "leaked";
    what only they hold is "kept"; nothing of ours is cyclic garbage."""
    doc = px.leaks(mode)
    o = px.oracle
    marker, payload, dict_kind = marker_kinds(o)
    probs = row_problems('leaked', doc['leaked'], marker, o['leaked'])
    probs += row_problems('kept', doc['kept'], payload, [m['payload'] for m in o['leaked']])
    if o['dicts']:
        probs += row_problems('kept', doc['kept'], dict_kind, [m['dict'] for m in o['leaked']])
    for g in ('leaked', 'kept', 'garbage'):
        for kind in marker_kinds(o):
            if kind in rows(doc[g]) and not (
                    (g, kind) in (('leaked', marker), ('kept', payload)) or
                    (o['dicts'] and (g, kind) == ('kept', dict_kind))):
                probs.append('%s has a %r row (%d objects): expected none there' % (
                    g, kind, rows(doc[g])[kind]['count']))
    fail(px, mode, probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_leaked_non_gc_objects(px, mode):
    """complex: exactly the leaked ones; bytes: all the leaked ones, none of
    the kept ones among the samples, nothing of ours kept or garbage."""
    doc = px.leaks(mode)
    o = px.oracle
    probs = row_problems('leaked', doc['leaked'], 'complex', o['leaked_complex'])
    # 3.8-3.11 hold some bytes from C (cached one-byte bytes, ...); 3.12+
    # make those static: there, the leaked bytes are exactly ours
    static = tuple(int(x) for x in o['python'].split('.')[:2]) >= (3, 12)
    probs += row_problems('leaked', doc['leaked'], 'bytes', o['leaked_bytes'], exact=static)
    r = rows(doc['leaked']).get('bytes')
    kept_ids = set(b['address'] for b in o['kept_bytes'])
    if r and kept_ids & set(r['samples']):
        probs.append('kept bytes %s are samples of the leaked bytes' % [
            '0x%x' % a for a in sorted(kept_ids & set(r['samples']))])
    for g in ('kept', 'garbage'):
        if 'complex' in rows(doc[g]):
            probs.append('%s has %d complex objects; the workload leaked all of its '
                         'unreachable ones' % (g, rows(doc[g])['complex']['count']))
        r = rows(doc[g]).get('bytes')
        ours = set(b['address'] for b in o['leaked_bytes']) | kept_ids
        if r and ours & set(r['samples']):
            probs.append('%s has bytes of the workload among its samples: %s' % (
                g, ['0x%x' % a for a in sorted(ours & set(r['samples']))]))
    fail(px, mode, probs, doc)


@pytest.mark.parametrize('mode', MODES)
def test_kept_through_a_c_field(px, mode):
    """A leaked list holds an operator.itemgetter that holds a bytearray (in
    a C field: tp_traverse visits it, the tool reads it by name,
    ctypes_operator.c).  The
    bytearray is kept by the leaked list, like the itemgetter: "kept", not
    "leaked" (its one reference is explained)."""
    doc = px.leaks(mode)
    h = px.oracle['holder']
    probs = row_problems('kept', doc['kept'], 'bytearray', [h['held']])
    if 'bytearray' in rows(doc['leaked']):
        r = rows(doc['leaked'])['bytearray']
        probs.append('leaked has a bytearray row (%d objects, e.g. %s): the bytearray 0x%x held '
                     'by the itemgetter 0x%x is%s among them' % (
                         r['count'], ['0x%x' % a for a in r['samples']], h['held']['address'],
                         h['getter']['address'],
                         '' if h['held']['address'] in r['samples'] else ' perhaps'))
    r = rows(doc['kept']).get('operator.itemgetter')
    if not r or r['count'] < 1:
        probs.append('kept has no operator.itemgetter row (the itemgetter 0x%x)'
                     % h['getter']['address'])
    lst = rows(doc['leaked']).get('list')
    if not lst or lst['count'] < 1:
        probs.append('leaked has no list row (the leaked list 0x%x)' % h['list']['address'])
    probs += backrefs_problems(px, mode, ('held-c',))
    fail(px, mode, probs, doc)


# --------------------------------------------------------------------------
# object by object, with backrefs

def backrefs_problems(px, mode, kinds):
    """Problems of backrefs on each object whose expectation is in kinds."""
    probs = []
    for label, addr, (want, holder) in _objects(px.oracle):
        if want not in kinds:
            continue
        doc, why = px.answer(mode, 'backrefs:' + label)
        what = '%s 0x%x' % (label, addr)
        if doc is None:
            probs.append('%s: %s' % (what, why.splitlines()[0] if why else why))
            continue
        chains = doc.get('chains') or []
        first = chains[0] if chains else []
        if want == 'module':
            if doc.get('reachable') is not True or not first or first[0].get('root') != 'sys.modules':
                probs.append('%s (kept from a module global): reachable %r, root %r' % (
                    what, doc.get('reachable'), first[0].get('root') if first else None))
        elif want in ('held', 'held-c'):
            # held from outside Python: the leaked instance is a root of its own
            ok = (first and first[0].get('root') == 'held' and first[0].get('address') == holder
                  and first[-1].get('address') == addr and doc.get('garbage') is False)
            if not ok:
                probs.append('%s: expected a chain from the leaked object 0x%x as a "held" root; '
                             'reachable %r, garbage %r, chain %s' % (
                                 what, holder, doc.get('reachable'), doc.get('garbage'),
                                 [(l.get('root'), '0x%x' % l.get('address', 0)) for l in first]))
        elif want == 'leaked-non-gc':
            held = first and first[0].get('root') == 'held' and first[0].get('address') == addr
            if not (held or doc.get('reachable') is False):
                probs.append('%s (leaked, no referrer): reachable %r, chain %s' % (
                    what, doc.get('reachable'),
                    [(l.get('root'), '0x%x' % l.get('address', 0)) for l in first]))
    return probs


@pytest.mark.parametrize('mode', MODES)
def test_backrefs_of_leaked_and_kept_instances(px, mode):
    """Each leaked instance is held from outside Python (a "held" root:
    backrefs' own account of a refcount no reference explains), its payload
    and dict hang from it; each kept object is reached from sys.modules."""
    probs = backrefs_problems(px, mode, ('held', 'module'))
    if probs:
        fail(px, mode, ['%d of the backrefs answers are wrong:' % len(probs)] + probs[:40])


@pytest.mark.parametrize('mode', MODES)
def test_backrefs_of_leaked_non_gc_objects(px, mode):
    """leaks lists leaked bytes and complex with their addresses and says
    "'probe-heap backrefs ADDR' says what refers to one of them": backrefs
    must then know them (held from outside, or not reachable)."""
    probs = backrefs_problems(px, mode, ('leaked-non-gc',))
    if probs:
        fail(px, mode, ['%d of the %d leaked bytes and complex objects are not known to backrefs:'
                        % (len(probs), 2 * N_LEAK_BYTES)] + probs[:10])


# --------------------------------------------------------------------------
# the command line

def test_cli_json_and_text(px):
    """bin/probe-heap --core ... leaks [--json] [--all]: the JSON is gdb's;
    the text shows the same tables and the allocator's line."""
    res = px.cli['json'].expect_ok()
    doc = res.json()
    in_gdb = px.leaks('core')
    if doc != in_gdb:
        diffs = [k for k in set(doc) | set(in_gdb) if doc.get(k) != in_gdb.get(k)]
        pytest.fail('%s: the command line and gdb disagree on %s\n%s' % (
            px.target.label, diffs, res.describe()), pytrace=False)
    for key in ('text', 'text_all'):
        res = px.cli[key].expect_ok()
        text = res.stdout
        probs = []
        titles = [l for l in text.splitlines() if re.match(r'^(Leaked|Kept|Cyclic garbage)\b', l)]
        if len(titles) != 3 or not titles[0].startswith('Leaked: ') or \
                not titles[1].startswith('Kept ') or not titles[2].startswith('Cyclic garbage'):
            probs.append('the three group titles, in order, expected; got %r' % titles)
        for g in ('leaked', 'kept', 'garbage'):
            if doc[g]['count'] and ('Partition of a set of %d objects. Total size = %d bytes.'
                                    % (doc[g]['count'], doc[g]['size'])) not in text:
                probs.append('no headline for the %s group (%d objects, %d bytes)' % (
                    g, doc[g]['count'], doc[g]['size']))
        marker = px.oracle['marker']
        r = rows(doc['leaked'])[marker] if marker in rows(doc['leaked']) else None
        if r:
            pat = re.compile(r'^\s*\d+\s+%d\s+\d+\s+%d\s+\d+\s+\d+\s+\d+ %s  \(e\.g\. %s\)$' % (
                r['count'], r['size'], re.escape(marker),
                re.escape(', '.join('0x%x' % a for a in r['samples']))), re.M)
            if not pat.search(text):
                probs.append('no table row for %s with %d objects, %d bytes and its samples'
                             % (marker, r['count'], r['size']))
        m = re.search(r'Searched (\d+) allocated pymalloc blocks .*: (\d+) found, (\d+) of them '
                      r'leaked', text)
        if not m or tuple(int(x) for x in m.groups()) != (
                doc['blocks'], doc['found_outside'], doc['leaked_outside']):
            probs.append('the allocator line does not say %d blocks, %d found, %d leaked' % (
                doc['blocks'], doc['found_outside'], doc['leaked_outside']))
        if key == 'text_all':
            if '--all shows them' in text:
                probs.append('--all still cuts a table')
            for g in ('leaked', 'kept', 'garbage'):
                for r in doc[g]['rows']:
                    if not re.search(r' %s  \(e\.g\. ' % re.escape(r['kind']), text):
                        probs.append('--all: no row for %s %r' % (g, r['kind']))
                        break
        else:
            # each group of more than ten rows is cut at ten, its footer counting the rest
            # ("<1 more row; ...", singular, since the footers were worded once)
            for g in ('leaked', 'kept', 'garbage'):
                left = len(doc[g]['rows']) - 10
                footer = '<%d more row%s; --all shows them, --json lists them all>' % (
                    left, '' if left == 1 else 's')
                if left > 0 and footer not in text:
                    probs.append('a group of more than ten rows is not cut at ten (no %r)' % footer)
        if probs:
            pytest.fail('%s: `%s`:\n  %s\n\n%s' % (px.target.label, ' '.join(res.argv[1:]),
                                                 '\n  '.join(probs), text[:4000]), pytrace=False)


def test_leaks_usage_error(px):
    """An argument leaks does not take: one sentence, status 2."""
    res = px.cli['usage']
    assert res.returncode == 2, res.describe()
    assert 'Traceback' not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.describe()
