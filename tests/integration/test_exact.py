"""Object for object (issue 18): the set of objects the target's interpreter
itself reaches against the set probe-heap indexes, address for address.

The oracle (oracle/phoracle.c) is a C extension module compiled here against
each target interpreter's own headers (its sysconfig include directory; the
.so is cached per target under build/oracle/).  workloads/exact.py builds a
heap with numpy and pandas (where the interpreter has them), asyncio, ssl,
sqlite3, datetime, decimal, re and a worker thread, then calls
phoracle.run(): from the GC lists (gc.get_objects(), every generation),
sys.modules, the builtins, the interpreter dict, every thread's state and
frames, the interned strings' dict and (3.12+) the static builtin types, it
follows every object's tp_traverse plus the struct fields tp_traverse leaves
out (dict keys, code objects' fields and caches, types' dicts, bases, mro and
names, descriptors' and modules' names, datetime's tzinfo, numpy arrays'
base and dtype, running 3.11+ frames' locals, ...), writes one line per
object (address, referrer, how, type) and stops the process from inside the
call.  A core is taken; gdb with the plugin lists every object of the index
(Heap.addresses()) and the referrers of the first objects only it has.

Both ways, every difference must be explained: either it is fixed in
probe-heap, or it is a true blind spot of one side, named in BLIND_SPOTS with
its reason (never silently filtered); what only such objects refer to is
counted as "held only by the above".  test_exact_trixie does the same in
the Debian trixie root on trixie's own python3.13, with and without numpy
and pandas.  The first 20 unexplained differences
each way are printed with their types and how the interpreter (oracle-only)
or probe-heap (probe-heap-only) reached them.  `skipped` must be 0.
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

import harness

TARGETS = harness.all_targets()
HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE_SRC = os.path.join(HERE, 'oracle', 'phoracle.c')
ORACLE_CACHE = os.path.join(harness.REPO, 'build', 'oracle')
GDB_TIMEOUT = 600
SHOW = 20


# The true blind spots.  Each: (name, side, test(obj) -> bool, reason).
# side 'oracle' = objects only the oracle has; 'probe' = objects only
# probe-heap has.  obj: {"address", "type", "how", "parent_type", "flags",
# "referrers", "version"}.
def _probe_referrer_types(o):
    return {r.get('type') for r in o.get('referrers') or ()}


def _trampoline(o):
    return o.get('trampoline', False)


def _only_conservative(o, test):
    """Every referrer probe-heap knows is a conservative scan's word that
    passes test(referrer type, edge)."""
    refs = [r for r in o.get('referrers') or () if not r.get('weak')]
    return bool(refs) and all(r.get('conservative') and test(r.get('type'), r.get('edge') or '')
                              for r in refs)


# C fields that the referrer type's tp_traverse leaves out (or a type with
# no tp_traverse at all), by referrer type: (versions, edge, why).  The
# interpreter never reports them; probe-heap's scan of the C object finds
# them, and they pass its full check.
UNTRAVERSED_FIELDS = {
    'cython_function_or_method': (None, '->+0xb0', "Cython 0.29's CyFunction func_annotations "
                                  '(pandas): __Pyx_CyFunction_traverse does not visit it'),
    'fused_cython_function': (None, '->+0xb0', 'the same field of a fused CyFunction'),
    '_cython_3_0_11.cython_function_or_method': (None, '->+0xb0', "Cython 3.0's func_annotations "
                                                 '(trixie pandas): not traversed either'),
    '_cython_3_0_11.fused_cython_function': (None, '->+0xb0', 'the same field of a fused one'),
    'numpy._ArrayFunctionDispatcher': (None, '->+0x38', "numpy 2's dispatcher name and public "
                                       'name (strs): dispatcher_traverse leaves them out'),
    'numpy.dtypes.VoidDType': (None, '->+0x60', "a structured dtype's fields dict: numpy's "
                               'descriptors are not GC objects, nothing traverses them'),
    'sqlite3.Connection': (('3.8', '3.9'), None, 'not a GC type before 3.10: its statement cache '
                           '(sqlite3.Cache) and its statements dict'),
    'sqlite3Node': (('3.8', '3.9'), None, "the statement cache's nodes: no tp_traverse before 3.10"),
    '_json.Scanner': (('3.8',), '->+0x40', "the scanner's memo dict, left out of its traverse on 3.8"),
    'Struct': (('3.8',), '.format', '_struct.Struct s_format: not a GC type on 3.8'),
    '_struct.Struct': (('3.9',), '.format', '_struct.Struct s_format: not a GC type on 3.9'),
}


def _untraversed(o):
    major_minor = '.'.join(o['version'].split('.')[:2])

    def test(r):
        f = UNTRAVERSED_FIELDS.get(r.get('type'))
        edge = r.get('edge') or ''
        # a field named exactly (a C type known exactly, ctypes.h), or a scan's word
        return f is not None and (f[0] is None or major_minor in f[0]) and \
            (edge == f[1] if f[1] and not f[1].startswith('->') else
             r.get('conservative') and (f[1] is None or edge == f[1]))
    refs = [r for r in o.get('referrers') or () if not r.get('weak')]
    return bool(refs) and all(test(r) for r in refs)


def _module_state(o):
    return _only_conservative(o, lambda rtype, edge: rtype == 'module' and
                              edge.startswith('<module state>'))


def _running_value_stack(o):
    """Only a running frame's value stack refers to it, on 3.8-3.13: what
    that frame passes to the call it is making, whose depth the interpreter
    does not save (3.8/3.9 f_stacktop NULL, 3.10 f_stackdepth -1, 3.11-3.13
    stacktop -1) and probe-heap reads from the C stack; the oracle, like the
    collector, stops at the saved depth."""
    if '.'.join(o['version'].split('.')[:2]) not in ('3.8', '3.9', '3.10', '3.11', '3.12', '3.13'):
        return False
    refs = [r for r in o.get('referrers') or () if not r.get('weak')]
    return bool(refs) and all(r.get('root') == 'local' and ', value stack [' in (r.get('edge') or '')
                              for r in refs)


BLIND_SPOTS = [
    ('3.12+ interpreter trampoline', 'probe', _trampoline,
     'the code object of the entry frame C pushes under every thread\'s first Python frame '
     '(interp->interpreter_trampoline, "<shim>") and what it holds: the interpreter keeps it '
     'in its own state, which no API exposes, and the oracle skips frames C owns'),
    ('dead object on a free list', 'oracle', lambda o: o['refcnt'] == 0,
     "refcount 0: an object freed onto a module's free list (3.12 _asyncio's FutureIter), which "
     "the module's m_traverse still visits; not alive, so not in the heap"),
    ('running frame value stack', 'probe', _running_value_stack,
     "what a running frame passes to the call it is making (3.8-3.13 save no stack depth "
     "then): held, but below no depth the interpreter exposes"),
    ('C field tp_traverse leaves out', 'probe', _untraversed,
     'a C object refers to it through a field its type does not traverse (UNTRAVERSED_FIELDS)'),
    ('module state m_traverse leaves out', 'probe', _module_state,
     "a module's state holds it, and the module's m_traverse visits only what can form cycles "
     "(3.13+ _datetime: us_per_* ints and the epoch datetime)"),
]


def build_oracle(target):
    """phoracle.so for target's interpreter, built against its own headers
    (cached by interpreter path and source time)."""
    q = subprocess.run([target.python, '-c',
                        'import sysconfig, sys; print(sysconfig.get_paths()["include"]); '
                        'print(sysconfig.get_config_var("EXT_SUFFIX") or ".so")'],
                       capture_output=True, text=True, timeout=60, env=harness.clean_env())
    if q.returncode != 0:
        raise RuntimeError('cannot ask %s for its include directory: %s' % (target.python, q.stderr))
    include, suffix = q.stdout.split()
    if not os.path.exists(os.path.join(include, 'Python.h')):
        raise RuntimeError('%s has no headers at %s' % (target.python, include))
    d = os.path.join(ORACLE_CACHE, target.label)
    so = os.path.join(d, 'phoracle' + suffix)
    if os.path.exists(so) and os.path.getmtime(so) >= os.path.getmtime(ORACLE_SRC):
        return d
    os.makedirs(d, exist_ok=True)
    cc = os.environ.get('CC') or 'cc'
    r = subprocess.run([cc, '-shared', '-fPIC', '-O1', '-Wall', '-I' + include, ORACLE_SRC,
                        '-o', so + '.tmp'], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError('building the oracle for %s failed:\n%s' % (target.label, r.stderr))
    os.rename(so + '.tmp', so)
    return d


def read_oracle(path):
    objs = {}
    complete = False
    with open(path) as f:
        for line in f:
            if line.startswith('# end'):
                complete = 'OOM' not in line
                continue
            addr, parent, rc, rest = line.rstrip('\n').split(' ', 3)
            how, tp = rest.rsplit('|', 1)
            objs[int(addr, 16)] = (int(parent, 16), how, tp, int(rc))
    return objs, complete


class Job(object):
    """mode 'core': gdb reads a core of the stopped workload; 'live': gdb
    attaches to it."""

    def __init__(self, target, workdir, mode='core'):
        self.target, self.workdir, self.mode = target, workdir, mode
        self.error = None
        self.oracle = self.probe = self.census = None

    def run(self):
        t = self.target
        odir = build_oracle(t)
        out = os.path.join(self.workdir, 'oracle.txt')
        w = harness.Workload(t, self.workdir, 'exact.py', args=[odir, out])
        w.start()
        try:
            w.wait_stopped()
            self.census = w.census()
            self.oracle, complete = read_oracle(out)
            if not complete:
                raise RuntimeError('the oracle ran out of memory')
            answer = os.path.join(self.workdir, 'answer.json')
            gdb = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
                   '-iex', 'set auto-load python-scripts off'] + harness.gdb_args(t)
            gdb += [t.python, w.gcore()] if self.mode == 'core' else ['-p', str(w.pid)]
            env = dict(os.environ, PH_SAMPLES=out, PH_OUT=answer, PH_CENSUS=w.census_path)
            r = subprocess.run(gdb + ['-x', os.path.join(harness.REPO, 'gdbinit'),
                                      '-x', os.path.join(HERE, 'ask_exact.py')],
                               env=env, capture_output=True, text=True, timeout=GDB_TIMEOUT)
            if not os.path.exists(answer):
                raise RuntimeError('ask_exact.py wrote nothing:\n%s%s' % (r.stdout[-3000:], r.stderr[-3000:]))
            with open(answer) as f:
                self.probe = json.load(f)
        finally:
            w.discard_core()
            w.kill()


class TrixieJob(Job):
    """The same test on Debian trixie's own python3.13 (3.13.5: 4-aligned
    PyGC_Head), in the trixie root tools/trixie-root makes: the oracle built
    there against trixie's headers with trixie's cc, the workload run there
    (chroot), the core read from here with the root as sysroot."""

    def __init__(self, target, workdir, root, numpy):
        Job.__init__(self, target, workdir)
        self.root, self.numpy = root, numpy

    def run(self):
        root = self.root
        # its own directory in the root: other checkouts run this test too
        inside = '/tmp/probe-heap-exact-%s-%d' % ('numpy' if self.numpy else 'plain', os.getpid())
        work = root + inside
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        for f in (ORACLE_SRC, os.path.join(harness.WORKLOADS, 'exact.py'),
                  os.path.join(harness.WORKLOADS, 'census.py')):
            shutil.copy(f, work)
        with harness.trixie_proc(root):
            self._run_inside(root, inside, work)

    def _run_inside(self, root, inside, work):
        try:
            q = subprocess.run(
                ['chroot', root, 'sh', '-c',
                 'cd %s && cc -shared -fPIC -O1 -I"$(python3.13 -c \'import sysconfig; '
                 'print(sysconfig.get_paths()["include"])\')" phoracle.c -o "phoracle$(python3.13 -c '
                 '\'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))\')"' % inside],
                capture_output=True, text=True, timeout=300)
            if q.returncode != 0:
                raise RuntimeError('building the oracle in the trixie root failed:\n' + q.stderr)
            env = harness.clean_env()
            if not self.numpy:
                env['EXACT_NO_NUMPY'] = '1'
            argv = ['chroot', root, '/usr/bin/python3.13', '-B', inside + '/exact.py',
                    inside + '/census.json', inside, inside + '/oracle.txt']
            w = harness.Process(argv, self.workdir, name='exact')
            w.start(env=env)
            try:
                w.wait_stopped()
                with open(work + '/census.json') as f:
                    self.census = json.load(f)
                self.oracle, complete = read_oracle(work + '/oracle.txt')
                if not complete:
                    raise RuntimeError('the oracle ran out of memory')
                answer = os.path.join(self.workdir, 'answer.json')
                gdb = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
                       '-iex', 'set auto-load python-scripts off', '-iex', 'set sysroot ' + root,
                       root + '/usr/bin/python3.13', w.gcore()]
                env = dict(os.environ, PH_SAMPLES=work + '/oracle.txt', PH_OUT=answer,
                           PH_CENSUS=work + '/census.json')
                r = subprocess.run(gdb + ['-x', os.path.join(harness.REPO, 'gdbinit'),
                                          '-x', os.path.join(HERE, 'ask_exact.py')],
                                   env=env, capture_output=True, text=True, timeout=GDB_TIMEOUT)
                if not os.path.exists(answer):
                    raise RuntimeError('ask_exact.py wrote nothing:\n%s%s'
                                       % (r.stdout[-3000:], r.stderr[-3000:]))
                with open(answer) as f:
                    self.probe = json.load(f)
            finally:
                w.discard_core()
                w.kill()
        finally:
            shutil.rmtree(work, ignore_errors=True)


RUNS = harness.Runs(Job, 'exact', workers=2)
LIVE_RUNS = harness.Runs(lambda t, d: Job(t, d, mode='live'), 'exact-live', workers=1)
# live as well as from a core: the free-threaded build (whose mimalloc pages
# a live read sees as they are) and the default build of the same version
LIVE_TARGETS = [t for t in TARGETS if t.label in ('cpython-3.14.7', 'cpython-3.14.7t')]


def oracle_chain(oracle, addr, n=6):
    """How the interpreter reached addr: the oracle's referrers, nearest first."""
    out = []
    for _ in range(n):
        e = oracle.get(addr)
        if e is None:
            break
        parent, how, tp, _rc = e
        out.append('%s 0x%x (%s)' % (tp, addr, how))
        if not parent:
            break
        addr = parent
    return ' <- '.join(out)


def compare(job):
    """(oracle-only, probe-only) as lists of dicts, and the explained ones
    by blind spot name."""
    oracle = job.oracle
    version = job.census['python']
    probe = {a: (tp, flags) for a, tp, flags in job.probe['objects']}
    referrers = {}
    probe_only_list = [o for o in job.probe['objects'] if o[0] not in oracle]
    for (a, _tp, _f), refs in zip(probe_only_list, job.probe['referrers']):
        referrers[a] = refs
    oracle_only = []
    for a, (parent, how, tp, rc) in oracle.items():
        if a in probe:
            continue
        ptype = oracle[parent][2] if parent in oracle else None
        oracle_only.append({'address': a, 'type': tp, 'how': how, 'parent_type': ptype, 'refcnt': rc,
                            'version': version, 'chain': oracle_chain(oracle, a)})
    probe_only = [{'address': a, 'type': tp, 'flags': f, 'version': version,
                   'referrers': referrers.get(a)} for a, tp, f in probe_only_list]
    # the trampoline's code object (a root of the thread it runs in) and
    # what only it refers to
    tramp = {o['address'] for o in probe_only
             if any('interpreter trampoline' in (r.get('edge') or '') for r in o['referrers'] or ())}
    for o in probe_only:
        refs = o['referrers'] or ()
        o['trampoline'] = o['address'] in tramp or bool(refs) and all(
            r.get('address') in tramp for r in refs)
    explained = {}
    left = {'oracle': [], 'probe': []}
    for side, objs in (('oracle', oracle_only), ('probe', probe_only)):
        for o in objs:
            for name, s, test, _why in BLIND_SPOTS:
                if s == side and test(o):
                    explained[name] = explained.get(name, 0) + 1
                    o['explained'] = name
                    break
            else:
                left[side].append(o)
    # what only an object of a blind spot refers to (an annotations dict's
    # strs) is out of the oracle's sight for the same reason
    blind = {o['address'] for o in probe_only if o.get('explained')}
    changed = True
    while changed:
        changed = False
        for o in list(left['probe']):
            refs = [r for r in o['referrers'] or () if not r.get('weak')]
            if refs and all(r.get('address') in blind for r in refs):
                left['probe'].remove(o)
                blind.add(o['address'])
                name = 'held only by the above'
                explained[name] = explained.get(name, 0) + 1
                changed = True
    return oracle_only, probe_only, left, explained


def describe(job, left, explained, n_oracle_only, n_probe_only):
    lines = ['%s (%s): oracle %d objects, probe-heap %d; oracle-only %d, probe-heap-only %d'
             % (job.target.label, job.census['python'], len(job.oracle), len(job.probe['objects']),
                n_oracle_only, n_probe_only)]
    for name, count in sorted(explained.items()):
        lines.append('  explained: %-28s %d' % (name, count))
    lines.append('  unexplained oracle-only: %d' % len(left['oracle']))
    for o in left['oracle'][:SHOW]:
        lines.append('    0x%x %s refcnt %d  via %s' % (o['address'], o['type'], o['refcnt'], o['chain']))
    groups = collections.Counter(
        (o['type'], (o['referrers'] or [{}])[0].get('type') if o['referrers'] is not None else '?',
         (o['referrers'] or [{}])[0].get('edge') if o['referrers'] else '')
        for o in left['probe'])
    lines.append('  unexplained probe-heap-only: %d' % len(left['probe']))
    for (tp, rtp, edge), n in groups.most_common(12):
        lines.append('    %5d %s from %s %s' % (n, tp, rtp, edge or ''))
    for o in left['probe'][:SHOW]:
        refs = o['referrers']
        how = ('referrers unknown (beyond the first %d)' % len(job.probe['referrers'])
               if refs is None else
               '; '.join('%s 0x%x %s%s' % (r.get('type'), r.get('address') or 0, r.get('edge') or '',
                                            ' (conservative)' if r.get('conservative') else '')
                         for r in refs) or 'no referrer (root)')
        lines.append('    0x%x %s flags %d  from %s' % (o['address'], o['type'], o['flags'], how))
    return '\n'.join(lines)


@pytest.mark.parametrize('target', TARGETS, ids=[t.label for t in TARGETS])
def test_exact(target, tmp_path_factory):
    check_exact(RUNS.get(target, [], tmp_path_factory))


@pytest.mark.parametrize('target', LIVE_TARGETS, ids=[t.label for t in LIVE_TARGETS])
def test_exact_live(target, tmp_path_factory):
    """The same comparison with gdb attached to the stopped process."""
    check_exact(LIVE_RUNS.get(target, [], tmp_path_factory))


def check_probes(job):
    """info's structural probes: every one passed and said, and each number
    it says is the interpreter's own (workloads/exact.py: type.__basicsize__,
    id(type), dict's, str's and tuple's basic sizes, sys.version, the thread
    states, the GC generations)."""
    import re
    facts = job.census['probe_facts']
    probes = {p['name']: p for p in job.probe['probes']}
    assert sorted(probes) == sorted(['type', 'interpreter', 'builtin types', 'sys.version',
                                     'threads', 'GC']), probes
    for p in probes.values():
        assert p['checked'] and p['source'], p

    def num(name, pattern):
        m = re.search(pattern, probes[name]['checked'])
        assert m, (name, pattern, probes[name])
        return m.group(1)
    assert int(num('type', r'\((0x[0-9a-f]+)\) is `type`'), 16) == int(facts['type'][0], 16)
    assert int(num('type', r'basic size (\d+)')) == facts['type'][1]
    assert int(num('interpreter', r'basic size (\d+)')) == facts['dict']
    assert int(num('builtin types', r'`str` of basic size (\d+)')) == facts['str']
    assert int(num('builtin types', r'`tuple` of basic size (\d+)')) == facts['tuple']
    assert num('sys.version', r'"([^"]+)"') == facts['version']
    assert int(num('threads', r'(\d+) thread state')) == facts['threads']
    if facts['free_threaded']:
        assert 'mimalloc' in probes['GC']['checked'], probes['GC']
    else:
        assert int(num('GC', r'(\d+) generations')) == facts['generations']


def check_exact(job):
    target = job.target
    check_probes(job)
    oracle_only, probe_only, left, explained = compare(job)
    text = describe(job, left, explained, len(oracle_only), len(probe_only))
    print(text)
    if job.census['python'].startswith('3.8.'):
        # the heap has instances of a static type never made ready
        assert job.census['lru_elem_ready'] is False, 'functools._lru_list_elem was made ready'
        assert any(tp == 'functools._lru_list_elem' for _a, tp, _f in job.probe['objects'])
    assert job.probe['skipped'] == 0, '%s: skipped %s on a healthy core (%s)\n%s' % (
        target.label, job.probe['skipped'], job.probe.get('skips'), text)
    assert not left['oracle'] and not left['probe'], text
    # what only a conservative scan found is labelled so (Heap.addresses()
    # flag 8, Heap.object()['conservative'])
    # (a field of a C type known exactly is no guess: not flagged)
    for o in probe_only:
        if (_untraversed(o) or _module_state(o)) and \
                all(r.get('conservative') for r in o.get('referrers') or () if not r.get('weak')):
            assert o['flags'] & 8, '%s: 0x%x (%s) found only by a scan, not labelled so\n%s' % (
                target.label, o['address'], o['type'], text)


@pytest.mark.parametrize('target', TARGETS, ids=[t.label for t in TARGETS])
def test_code_flat_size(target, tmp_path_factory):
    """A code object's flat size is sys.getsizeof's, opcode cache included
    (3.8-3.10 make one for a function that ran 1024 times: hot() ran 2000)."""
    job = RUNS.get(target, [], tmp_path_factory)
    for label, (addr, size) in sorted(job.census['samples'].items()):
        got = job.probe['samples'].get(label)
        assert got is not None, '%s: %s (%s) is not in the index' % (target.label, label, addr)
        assert got['flat'] == size, '%s: %s at %s: flat %s, sys.getsizeof %s' % (
            target.label, label, addr, got['flat'], size)


@pytest.fixture(scope='module')
def trixie_root():
    """tools/trixie-root's root (made once per machine), or a skip (under
    CI=true, a failure), as test_package.py."""
    def missing(why):
        if harness.in_ci():
            pytest.fail('CI=true and the trixie root is missing: ' + why)
        pytest.skip(why)
    if os.geteuid() != 0:
        missing('using the trixie root needs root (chroot)')
    r = subprocess.run([os.path.join(harness.REPO, 'tools', 'trixie-root')], capture_output=True,
                       text=True, timeout=3600)
    if r.returncode != 0:
        missing('tools/trixie-root failed: ' + r.stderr.strip())
    return r.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize('numpy', [True, False], ids=['numpy', 'plain'])
def test_exact_trixie(trixie_root, numpy, tmp_path):
    """Debian trixie's own python3.13, with and without numpy and pandas."""
    target = harness.Target('trixie-3.13', '/usr/bin/python3.13', (), None)
    job = TrixieJob(target, str(tmp_path), trixie_root, numpy)
    job.run()
    assert job.census['python'].startswith('3.13.')
    assert (job.census['numpy'] is not None) == numpy
    check_probes(job)
    oracle_only, probe_only, left, explained = compare(job)
    text = describe(job, left, explained, len(oracle_only), len(probe_only))
    print(text)
    assert job.probe['skipped'] == 0, 'trixie: skipped %s on a healthy core\n%s' % (
        job.probe['skipped'], text)
    assert not left['oracle'] and not left['probe'], text
