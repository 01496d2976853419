"""What test_backrefs.py and test_objects.py share: one run of
workloads/backrefs.py per target, every probe-heap question asked of it up
front, then the in-process answers, kept for the tests of both files.

For each target (probed()):
  1. the workload builds its heap, records the in-process truth (the
     oracle, see workloads/backrefs.py) and stops; gcore takes its core;
  2. the commands of COMMANDS run in one gdb session on the core and in one
     on the live process (probe-heap SUBCOMMAND ... --json, as a user types
     them in gdb), while the command-line runs of CLI_CORE run on the core;
     then the command-line run of CLI_LIVE on the live process;
  3. only then (answering allocates in the target) the workload is asked
     whether the chains, paths, referrers, referents and objects the tool
     gave are real (the workload's "checks");
  4. the workload is killed and the core deleted; the tests only read.

Nothing here asserts: the tests do, with the helpers at the end.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time

import pytest

import harness

MODES = ['core', 'live']
ROOTS = ('sys.modules', 'sys', 'builtins', 'interpreter', 'interned', 'type_dict', 'thread',
         'frame', 'local', 'held', 'permanent')
EDGE_KINDS = ('root', 'attribute', 'key', 'dict_key', 'index', 'member', 'field', 'local',
              'stack', 'offset', 'weak', 'class')
THREAD_ROOTS = ('thread', 'frame', 'local')
OFFSET_EDGE = re.compile(r'^->\+0x[0-9a-f]+$')
MODULE = 'backrefs_heap'
MODULE_PATH = "sys.modules['%s']" % MODULE

# module-global targets: label -> (what the test calls it)
GLOBAL_TARGETS = ('dict', 'tuple', 'plain', 'inline', 'slots', 'closure', 'ring', 'multi', 'lru')
BACKREFS = GLOBAL_TARGETS + ('thread', 'weak', 'garbage')
REFERRERS = ('multi', 'dict', 'thread', 'garbage', 'weak', 'ring', 'lru', 'module')
REFERENTS = ('registry', 'alpha', 'beta', 'plain_holder', 'plain_dict', 'inline_holder',
             'slot_holder', 'closure_fn', 'closure_tuple', 'cell', 'table', 'previews',
             'multi_dict', 'multi_tuple', 'ring_a', 'weak', 'garbage')

_cache = {}
_lock = threading.Lock()


def commands(oracle):
    """[key, gdb command] for every question asked in the gdb sessions."""
    t = oracle['targets']
    out = []
    for label in BACKREFS:
        out.append(('backrefs:' + label, 'probe-heap backrefs 0x%x --json' % t[label]['address']))
    out.append(('backrefs:dict_by_path', 'probe-heap backrefs %s --json'
                % shlex.quote("%s:registry['alpha']['beta'][2]" % MODULE)))
    for n in (3, 10):
        out.append(('backrefs:multi_all%d' % n, 'probe-heap backrefs 0x%x --all %d --json'
                    % (t['multi']['address'], n)))
    for label in REFERRERS:
        out.append(('referrers:' + label, 'probe-heap referrers 0x%x --json' % t[label]['address']))
    for label in REFERENTS:
        out.append(('referents:' + label, 'probe-heap referents 0x%x --json' % t[label]['address']))
    objects = [
        ('objects:node_all', [MODULE + '.Node', '--limit', '1000']),
        ('objects:node_limit5', [MODULE + '.Node', '--limit', '5']),
        ('objects:node_min_size', [MODULE + '.Node', '--min-size', '100000', '--limit', '10']),
        ('objects:plain', [MODULE + '.Plain', '--limit', '100']),
        ('objects:plain_dicts', ['dict of %s.Plain' % MODULE, '--limit', '100']),
        ('objects:str', ['str', '--limit', '3']),
        ('objects:bytes_min_size', ['bytes', '--min-size', '100000', '--limit', '50']),
        ('objects:module', ['module', '--limit', '1000']),
    ]
    for key, args in objects:
        out.append((key, 'probe-heap objects %s --json' % ' '.join(map(shlex.quote, args))))
    for by in ('type', 'kind', 'rcs', 'via'):
        out.append(('partition:' + by, 'probe-heap partition --by %s --json' % by))
    return out


class Probed(object):
    """One target's workload, the tool's answers, and the in-process checks."""

    def __init__(self, target, workdir):
        self.target = target
        self.workdir = workdir
        self.oracle = None
        self.census = None
        self.gdb = {}           # mode -> {key: {"ok", "text"|"error", ...}}
        self.gdb_log = {}       # mode -> gdb's own output
        self.cli = {}           # key -> harness.ProbeResult
        self.files = {}         # name -> path (--dot, --svg, --png outputs)
        self.checks = {}        # check id -> list of problems
        self.check_error = None
        self.timings = {}

    # -- running ----------------------------------------------------------

    def run(self):
        t0 = time.time()
        w = harness.start_workload(self.target, self.workdir, 'backrefs.py')
        self.w = w
        try:
            self.census = w.census()
            with open(w.census_path + '.oracle.json') as f:
                self.oracle = json.load(f)
            self.timings['start'] = time.time() - t0
            w.gcore()
            self.timings['gcore'] = time.time() - t0
            self._ask_tool()
            self.timings['tool'] = time.time() - t0
            self._ask_process()
            self.timings['checks'] = time.time() - t0
        finally:
            w.discard_core()
            w.kill()

    def _gdb_session(self, mode):
        w = self.w
        cmd_path = os.path.join(self.workdir, 'commands.json')
        out_path = os.path.join(self.workdir, 'answers-%s.json' % mode)
        with open(cmd_path, 'w') as f:
            json.dump(commands(self.oracle), f)
        argv = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
                '-iex', 'set auto-load python-scripts off'] + harness.gdb_args(self.target)
        argv += [self.target.python, w.core] if mode == 'core' else ['-p', str(w.pid)]
        argv += ['-x', os.path.join(harness.REPO, 'gdbinit'),
                 '-x', os.path.join(harness.HERE, 'backrefs_ask.py')]
        env = dict(os.environ, PH_COMMANDS=cmd_path, PH_OUT=out_path)
        try:
            r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600,
                               stdin=subprocess.DEVNULL)
            self.gdb_log[mode] = r.stdout[-3000:] + r.stderr[-3000:]
        except subprocess.TimeoutExpired:
            self.gdb_log[mode] = 'gdb timed out after 600s'
        answers = {}
        if os.path.exists(out_path):
            with open(out_path) as f:
                answers = json.load(f)
        self.gdb[mode] = answers

    def cli_core_runs(self):
        t = self.oracle['targets']
        f = self.files
        for name in ('dot', 'svg', 'png'):
            f[name] = os.path.join(self.workdir, 'chain.' + name)
        return {
            'dot': ['--json', 'backrefs', '0x%x' % t['dict']['address'], '--dot', f['dot'],
                    '--svg', f['svg'], '--png', f['png']],
            'text_plain': ['backrefs', '0x%x' % t['plain']['address']],
            'text_garbage': ['backrefs', '0x%x' % t['garbage']['address']],
            'text_weak': ['backrefs', '0x%x' % t['weak']['address']],
            'objects_kind': ['--json', 'objects', 'dict of %s.Plain' % MODULE, '--limit', '2'],
            'backrefs_core': ['--json', 'backrefs', '0x%x' % t['dict']['address']],
        }

    def _ask_tool(self):
        w = self.w
        core_src = harness.source_args(w, 'core') + self.target.cli_args
        results = {}

        def cli(key, args):
            results[key] = harness.run_probe(core_src + args)
        threads = [threading.Thread(target=self._gdb_session, args=(m,)) for m in MODES]
        threads += [threading.Thread(target=cli, args=(k, a))
                    for k, a in self.cli_core_runs().items()]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        # after the live gdb session: one tracer at a time
        live_src = harness.source_args(w, 'live') + self.target.cli_args
        results['backrefs_live'] = harness.run_probe(
            live_src + ['--json', 'backrefs', '0x%x' % self.oracle['targets']['dict']['address']])
        self.cli = results

    # -- the in-process checks ---------------------------------------------

    def _check_requests(self):
        checks = []
        for mode in MODES:
            for key, res in self.gdb.get(mode, {}).items():
                doc = _parse(res)
                if doc is None:
                    continue
                cmd = key.split(':')[0]
                base = '%s|%s' % (mode, key)
                if cmd == 'backrefs':
                    _backrefs_checks(checks, base, doc)
                elif cmd == 'referrers':
                    target = (doc.get('target') or {}).get('address')
                    for i, link in enumerate(doc.get('referrers') or []):
                        if isinstance(link, dict) and link.get('edge_kind') != 'root':
                            checks.append({'id': '%s|r%d' % (base, i), 'kind': 'referrer',
                                           'link': link, 'target': target})
                elif cmd == 'referents':
                    source = (doc.get('target') or {}).get('address')
                    for i, link in enumerate(doc.get('referents') or []):
                        if isinstance(link, dict) and link.get('edge_kind') != 'root':
                            checks.append({'id': '%s|e%d' % (base, i), 'kind': 'edge',
                                           'source': source, 'link': link})
                elif cmd == 'objects':
                    for i, o in enumerate(doc.get('objects') or []):
                        if isinstance(o, dict):
                            checks.append({'id': '%s|o%d' % (base, i), 'kind': 'object',
                                           'address': o.get('address'), 'type': o.get('type')})
        for key in ('backrefs_live', 'backrefs_core', 'dot'):
            res = self.cli.get(key)
            if res is not None and res.returncode == 0:
                try:
                    doc = json.loads(res.stdout)
                except ValueError:
                    continue
                _backrefs_checks(checks, 'cli|' + key, doc)
        return checks

    def _ask_process(self):
        checks = self._check_requests()
        if not checks:
            return
        w = self.w
        req = w.census_path + '.req'
        ans = w.census_path + '.ans'
        with open(req + '.tmp', 'w') as f:
            json.dump({'checks': checks}, f)
        os.rename(req + '.tmp', req)
        if harness.proc_state(w.pid) not in ('T', 't'):
            self.check_error = 'the workload is not stopped before the checks (%s)' % \
                harness.proc_state(w.pid)
            return
        os.kill(w.pid, signal.SIGCONT)
        deadline = time.time() + 300
        while not os.path.exists(ans):
            if w.popen.poll() is not None:
                self.check_error = 'the workload died answering the checks:\n' + w.stderr()
                return
            if time.time() > deadline:
                self.check_error = 'the workload did not answer the checks within 300s'
                return
            time.sleep(0.05)
        with open(ans) as f:
            self.checks = json.load(f)

    # -- reading the results (for the tests) ---------------------------------

    def result(self, mode, key):
        """The JSON document of one gdb-session command; fails the test if
        the command failed or printed something else."""
        res = self.gdb.get(mode, {}).get(key)
        where = '%s (%s)' % (self.target.label, mode)
        if res is None:
            pytest.fail('%s: %s was not run: gdb session output:\n%s'
                        % (where, key, self.gdb_log.get(mode, '')), pytrace=False)
        if not res['ok']:
            pytest.fail('%s: `%s` failed: %s' % (where, res['command'], res['error']),
                        pytrace=False)
        doc = _parse(res)
        if doc is None:
            pytest.fail('%s: `%s` did not print one JSON document:\n%s'
                        % (where, res['command'], res['text'][:3000]), pytrace=False)
        return doc

    def command(self, mode, key):
        return self.gdb.get(mode, {}).get(key, {}).get('command', key)

    def cli_result(self, key):
        return self.cli[key].expect_ok()

    def verdict(self, check_id):
        """The workload's problems for one check (None: not checked)."""
        if self.check_error:
            return ['in-process checks not made: ' + self.check_error]
        return self.checks.get(check_id)

    def target_info(self, label):
        return self.oracle['targets'][label]


def _parse(res):
    if not res or not res.get('ok'):
        return None
    try:
        return json.loads(res['text'])
    except ValueError:
        return None


PYTHON_EDGES = ('attribute', 'key', 'index', 'field', 'class')


def is_python_path(doc, i):
    """Path i is a Python expression to evaluate: it starts at sys or
    builtins and every step of its chain is an attribute, key or index (an
    offset found by a scan, a local or a set member has no spelling)."""
    paths, chains = doc.get('paths') or [], doc.get('chains') or []
    if i >= len(paths) or i >= len(chains) or not isinstance(paths[i], str):
        return False
    if not (paths[i].startswith('sys.') or paths[i].startswith('builtins.')):
        return False
    return all(isinstance(l, dict) and l.get('edge_kind') in PYTHON_EDGES for l in chains[i][1:])


def _backrefs_checks(checks, base, doc):
    target = (doc.get('target') or {}).get('address')
    for i, chain in enumerate(doc.get('chains') or []):
        if isinstance(chain, list):
            checks.append({'id': '%s|chain%d' % (base, i), 'kind': 'chain', 'links': chain})
    for i, path in enumerate(doc.get('paths') or []):
        if is_python_path(doc, i):
            checks.append({'id': '%s|path%d' % (base, i), 'kind': 'path', 'path': path,
                           'target': target})
    for i, link in enumerate(doc.get('referrers') or []):
        if isinstance(link, dict) and link.get('edge_kind') != 'root':
            checks.append({'id': '%s|r%d' % (base, i), 'kind': 'referrer', 'link': link,
                           'target': target})


def probed(target, tmp_path_factory):
    """The Probed of a target, made once per test session."""
    harness.require(target)
    with _lock:
        p = _cache.get(target.label)
        if p is None:
            p = Probed(target, str(tmp_path_factory.mktemp('backrefs-' + target.label)))
            _cache[target.label] = p
            try:
                p.run()
            except Exception as e:
                p.failed = '%s: %s' % (type(e).__name__, e)
        if getattr(p, 'failed', None):
            pytest.fail('%s: the backrefs workload could not be probed: %s'
                        % (target.label, p.failed), pytrace=False)
        return p


# --------------------------------------------------------------------------
# checks shared by the tests: each returns a list of problems (strings)

def link_problems(link, where, first=False, root_ok=False):
    """A link's keys and their types; the first link of a chain (first) or
    a link in a referrers/referents list (root_ok) may be a root."""
    out = []
    if not isinstance(link, dict):
        return ['%s: a link is not an object: %r' % (where, link)]
    for key, typ in (('address', int), ('type', str), ('kind', str), ('preview', str),
                     ('size', int), ('edge', str), ('edge_kind', str), ('conservative', bool),
                     ('weak', bool)):
        if key not in link:
            out.append('%s: no %r in %s' % (where, key, _short(link)))
        elif not isinstance(link[key], typ) or (typ is int and isinstance(link[key], bool)):
            out.append('%s: %r is %r, not a %s' % (where, key, link[key], typ.__name__))
    if out:
        return out
    if link['edge_kind'] not in EDGE_KINDS:
        out.append('%s: edge_kind %r is none of %s' % (where, link['edge_kind'], EDGE_KINDS))
    if root_ok and link['edge_kind'] == 'root':
        first = True
    if first:
        if link['edge_kind'] != 'root':
            out.append('%s: the first link has edge_kind %r, not "root"' % (where, link['edge_kind']))
        if link.get('root') not in ROOTS:
            out.append('%s: the first link has root %r, none of %s' % (where, link.get('root'), ROOTS))
    elif link['edge_kind'] == 'root':
        out.append('%s: edge_kind "root" on a link that is not the first' % where)
    is_offset = bool(OFFSET_EDGE.match(link['edge']))
    if not first and (is_offset != link['conservative'] or is_offset != (link['edge_kind'] == 'offset')):
        out.append('%s: edge %r with conservative %r and edge_kind %r (an offset edge "->+0xN" '
                   'is conservative with edge_kind "offset", and only it)'
                   % (where, link['edge'], link['conservative'], link['edge_kind']))
    if not first and link['weak'] != (link['edge_kind'] == 'weak'):
        out.append('%s: weak %r with edge_kind %r' % (where, link['weak'], link['edge_kind']))
    return out


def _short(link):
    s = json.dumps(link)
    return s if len(s) < 300 else s[:300] + '...'


def describe_chain(chain):
    out = []
    for link in chain:
        if isinstance(link, dict):
            out.append('    %-28s %-14s %-32s 0x%x %s' % (
                str(link.get('edge'))[:28], link.get('edge_kind'), str(link.get('type'))[:32],
                link.get('address') or 0,
                ('root=%s' % link.get('root')) if link.get('edge_kind') == 'root' else ''))
    return '\n'.join(out)


def backrefs_doc_problems(p, mode, doc, label):
    """The keys and the target block of a backrefs document."""
    t = p.target_info(label)
    out = []
    for key in ('python', 'target', 'reachable', 'garbage', 'held_weakly', 'chains', 'paths',
                'referrers', 'skipped', 'partial'):
        if key not in doc:
            out.append('no %r in the backrefs JSON' % key)
    if out:
        return out
    tb = doc['target']
    for key in ('address', 'type', 'kind', 'size', 'preview'):
        if key not in tb:
            out.append('no %r in "target"' % key)
    if tb.get('address') != t['address']:
        out.append('target address %r, asked 0x%x' % (tb.get('address'), t['address']))
    if tb.get('type') != t['type']:
        out.append('target type %r, in process %r' % (tb.get('type'), t['type']))
    if tb.get('size') != t['size']:
        out.append('target size %r, sys.getsizeof %r' % (tb.get('size'), t['size']))
    if doc['skipped'] != 0 or doc['partial']:
        out.append('skipped %r, partial %r on a healthy heap' % (doc['skipped'], doc['partial']))
    if len(doc['paths']) != len(doc['chains']):
        out.append('%d paths for %d chains' % (len(doc['paths']), len(doc['chains'])))
    for i, chain in enumerate(doc['chains']):
        if not isinstance(chain, list) or not chain:
            out.append('chain %d is %r' % (i, chain))
            continue
        for j, link in enumerate(chain):
            out += link_problems(link, 'chain %d link %d' % (i, j), first=(j == 0))
        if isinstance(chain[-1], dict) and chain[-1].get('address') != t['address']:
            out.append('chain %d ends at %r, not at the target 0x%x'
                       % (i, chain[-1].get('address'), t['address']))
    return out


def verdict_problems(p, mode, key, doc, what=('chain', 'path')):
    """The workload's verdicts on the chains (and paths) of one answer."""
    out = []
    base = '%s|%s' % (mode, key)
    for i in range(len(doc.get('chains') or [])):
        for kind in what:
            if kind == 'path' and not is_python_path(doc, i):
                continue
            v = p.verdict('%s|%s%d' % (base, kind, i))
            if v is None:
                out.append('%s %d was not checked in process' % (kind, i))
            else:
                out += ['%s %d: %s' % (kind, i, s) for s in v]
    return out


def shortest_problems(p, chain, label, via=None):
    """len(chain)-1 equals the in-process BFS distance of the target less
    that of the chain's root object (so that where the tool's root is the
    module, or sys.modules, or the module's dict, the chain is a shortest
    one through it from the same roots as the oracle's)."""
    t = p.target_info(label)
    root = chain[0].get('address')
    d_root = p.oracle['dist'].get('%d' % root) if isinstance(root, int) else None
    if d_root is None:
        return ['the root object %r (%s) is not within distance 3 of the oracle\'s roots'
                % (root, chain[0].get('type'))]
    if t['dist'] is None:
        return ['the oracle did not reach the target from its roots']
    want = t['dist'] - d_root
    got = len(chain) - 1
    if got != want:
        return ['the chain has %d edges from its root (a %s at BFS distance %d); the target '
                'is at BFS distance %d, so a shortest chain through that root has %d'
                % (got, chain[0].get('type'), d_root, t['dist'], want)]
    return []


def report(p, mode, title, problems, doc=None):
    """Fail with every problem, naming the target, the mode and the chains."""
    if not problems:
        return
    text = '%s (%s): %s:\n  %s' % (p.target.label, mode, title, '\n  '.join(problems))
    if doc is not None and isinstance(doc, dict):
        for i, chain in enumerate(doc.get('chains') or []):
            if isinstance(chain, list):
                text += '\n  chain %d:\n%s' % (i, describe_chain(chain))
        if doc.get('paths'):
            text += '\n  paths: %s' % doc['paths']
    pytest.fail(text, pytrace=False)
