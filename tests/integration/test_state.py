"""The target's state: probe-heap never writes to a process and never lets it
run; its index follows the target (another core, a process that ran, one
that exited); and the launcher says clearly when gdb is missing or has no
Python."""

import hashlib
import json
import os
import subprocess
import time

import pytest

import harness

PYTHON = harness.DEBIAN_PYTHON
GDBINIT = os.path.join(harness.REPO, 'gdbinit')
NO_TARGET = 'probe-heap: there is no process or core file to analyse'


def first_available(labels):
    for label in labels:
        t = harness.target_by_label(label)
        if t.available:
            return t
    harness.require(harness.target_by_label(labels[0]))


def small_target():
    return first_available(['debian-3.11-nosym', 'pyenv-3.12.1'])


# the targets the state tests run on (each cheap: a small workload)
STATE_TARGETS = ['debian-3.11-nosym', 'pyenv-3.8.18', 'pyenv-3.13.0', 'cpython-3.14.7',
                 'cpython-3.14.7t']


def by_label(label):
    t = harness.target_by_label(label)
    harness.require(t)
    return t


each_target = pytest.mark.parametrize('label', STATE_TARGETS)


def gdb(target, *commands, exe_core=(), pid=None, timeout=120):
    args = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
            '-iex', 'set auto-load python-scripts off', '-iex', 'set pagination off',
            '-iex', 'set confirm off'] + harness.gdb_args(target)
    args += ['-x', GDBINIT] + list(exe_core)
    if pid is not None:
        args += ['-p', str(pid)]
    for c in commands:
        args += ['-ex', c]
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return r


def info_docs(stdout):
    """The JSON documents `probe-heap info --json` printed, in order."""
    return [json.loads(l) for l in stdout.splitlines() if l.startswith('{"')]


# --------------------------------------------------------------------------
# a. never writes, never resumes

def writable_memory_hash(pid):
    h = hashlib.sha256()
    regions = 0
    with open('/proc/%d/maps' % pid) as maps, open('/proc/%d/mem' % pid, 'rb', 0) as mem:
        for line in maps:
            fields = line.split()
            if fields[1] != 'rw-p':
                continue
            lo, hi = (int(x, 16) for x in fields[0].split('-'))
            h.update(fields[0].encode())
            try:
                mem.seek(lo)
                h.update(mem.read(hi - lo))
                regions += 1
            except OSError as e:
                h.update(('unreadable %s' % e.errno).encode())
    assert regions > 0
    return h.hexdigest()


@pytest.mark.skipif(os.geteuid() != 0, reason='reading /proc/PID/mem of a stopped child needs root')
@each_target
def test_never_writes_never_resumes(label, tmp_path):
    target = by_label(label)
    w = harness.start_workload(target, str(tmp_path), 'samples.py')
    try:
        before = writable_memory_hash(w.pid)
        for cmd in (['info'], ['partition'], ['sizeof', '__main__:KEEP'], ['dominators']):
            res = harness.run_probe(['--pid', w.pid] + target.cli_args + cmd, timeout=60)
            res.expect_ok()
            state = harness.proc_state(w.pid)
            assert state == 'T', 'after %s the process is in state %r, not T (stopped)\n%s' % (
                ' '.join(cmd), state, res.describe())
            assert writable_memory_hash(w.pid) == before, \
                'after %s the writable memory of the process changed' % ' '.join(cmd)
    finally:
        w.kill()


# --------------------------------------------------------------------------
# b. the index follows the target

@each_target
def test_index_follows_core_file(label, tmp_path):
    target = by_label(label)
    a = harness.start_workload(target, _mk(tmp_path, 'a'), 'samples.py')
    b = None
    try:
        core_a = a.gcore()
        a.kill()
        b = harness.start_workload(target, _mk(tmp_path, 'b'), 'basic.py', ['--size', '120000'])
        core_b = b.gcore()
        b.kill()
        r = gdb(target, 'probe-heap info --json', 'core-file ' + core_b, 'probe-heap info --json',
                exe_core=[target.python, core_a])
        docs = info_docs(r.stdout)
        assert len(docs) == 2, r.stdout + r.stderr
        fresh_a = info_docs(gdb(target, 'probe-heap info --json',
                                exe_core=[target.python, core_a]).stdout)[0]
        fresh_b = info_docs(gdb(target, 'probe-heap info --json',
                                exe_core=[target.python, core_b]).stdout)[0]
        print('core-file %s: A %d objects, then B %d; fresh B %d' % (
            label, docs[0]['objects'], docs[1]['objects'], fresh_b['objects']))
        assert docs[0]['objects'] == fresh_a['objects']
        assert fresh_b['objects'] > fresh_a['objects'] + 10000
        assert docs[1]['objects'] == fresh_b['objects'], \
            'after core-file the index still describes the first core: %d objects, ' \
            'a fresh session says %d' % (docs[1]['objects'], fresh_b['objects'])
        assert docs[1]['bytes'] == fresh_b['bytes']
    finally:
        a.kill()
        if b is not None:
            b.discard_core()
            b.kill()
        a.discard_core()


def _mk(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    return str(d)


GROWER = r'''
import sys, time
sys.stdout.write('ready\n'); sys.stdout.flush()
keep = []
i = 0
while True:
    keep.append(('item %d ' % i) * 10)
    keep.append([i] * 10)
    i += 1
    time.sleep(0.2)
'''


@each_target
def test_index_rebuilt_after_the_process_runs(label, tmp_path):
    """gdb attaches to a running (sleeping) process; info; the process runs
    about 1.5 s (stopped again by a SIGUSR1 that gdb does not pass on); info
    again must describe the new heap: the same as a fresh session on the
    process in that state (it is left SIGSTOPped for that)."""
    target = by_label(label)
    p = subprocess.Popen([target.python, '-c', GROWER], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=harness.clean_env())
    try:
        assert p.stdout.readline().strip() == b'ready'
        time.sleep(0.5)
        pid = p.pid
        r = gdb(target,
                'handle SIGUSR1 stop print nopass',
                'probe-heap info --json',
                'python import os, signal, threading; '
                'threading.Timer(1.5, os.kill, (%d, signal.SIGUSR1)).start()' % pid,
                'continue',
                'probe-heap info --json',
                # stay stopped after gdb detaches, for the fresh session below
                'python import os, signal; os.kill(%d, signal.SIGSTOP)' % pid,
                pid=pid)
        docs = info_docs(r.stdout)
        assert len(docs) == 2, r.stdout + r.stderr
        assert 'SIGUSR1' in r.stdout + r.stderr, r.stdout + r.stderr
        first, second = docs
        assert second['objects'] != first['objects'], \
            'info after continue still reports %d objects (stale index?)' % first['objects']
        assert second['objects'] > first['objects']
        deadline = time.time() + 10
        while harness.proc_state(pid) != 'T' and time.time() < deadline:
            time.sleep(0.05)
        assert harness.proc_state(pid) == 'T', 'the process was not left stopped'
        fresh = harness.run_probe(['--pid', pid, '--json'] + target.cli_args + ['info'], timeout=60).json()
        print('live %s: first %d objects, after continue %d, fresh session %d' % (
            label, first['objects'], second['objects'], fresh['objects']))
        assert (second['objects'], second['bytes']) == (fresh['objects'], fresh['bytes']), \
            'after continue the session reports %d objects, %d bytes; a fresh session %d, %d' % (
                second['objects'], second['bytes'], fresh['objects'], fresh['bytes'])
    finally:
        p.kill()
        p.wait()


# --------------------------------------------------------------------------
# c. a process that goes away while attached

def assert_no_target_error(r):
    assert NO_TARGET in r.stderr, r.stdout + r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith('probe-heap:')]
    assert len(lines) == 1 and lines[0].startswith(NO_TARGET), r.stderr
    assert 'probe-heap' not in r.stdout, r.stdout


def test_process_killed_while_attached(tmp_path):
    target = small_target()
    w = harness.start_workload(target, str(tmp_path), 'samples.py')
    try:
        r = gdb(target, 'probe-heap info', 'kill', 'probe-heap info', pid=w.pid)
        assert 'Objects:' in r.stdout, r.stdout + r.stderr      # the first one worked
        assert_no_target_error(r)
    finally:
        w.kill()


def test_process_exits_while_attached():
    target = small_target()
    p = subprocess.Popen([target.python, '-c',
                          'import sys, time; print("ready", flush=True); time.sleep(1.5)'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=harness.clean_env())
    try:
        assert p.stdout.readline().strip() == b'ready'
        r = gdb(target, 'probe-heap info', 'continue', 'probe-heap info', pid=p.pid)
        assert 'Objects:' in r.stdout, r.stdout + r.stderr
        assert 'exited normally' in r.stdout + r.stderr, r.stdout + r.stderr
        assert_no_target_error(r)
    finally:
        p.kill()
        p.wait()


# --------------------------------------------------------------------------
# d. the launcher and its gdb

def run_with_gdb(gdb_path, tmp_path):
    env = dict(os.environ, PROBE_HEAP_GDB=gdb_path)
    return subprocess.run([harness.PROBE_HEAP, '--pid', '1', 'info'], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                          cwd=str(tmp_path))


def one_line(r):
    err = r.stderr.rstrip('\n')
    assert r.returncode != 0, r
    assert err and '\n' not in err, repr(r.stderr)
    assert err.startswith('probe-heap: '), repr(r.stderr)
    assert 'Traceback' not in r.stdout + r.stderr
    assert r.stdout == '', repr(r.stdout)
    return err


def test_gdb_not_found(tmp_path):
    err = one_line(run_with_gdb('/nonexistent', tmp_path))
    assert 'gdb was not found' in err, err


def test_gdb_without_python(tmp_path):
    fake = tmp_path / 'fake-gdb'
    fake.write_text('#!/bin/sh\necho "Python scripting is not supported in this copy of GDB."\n'
                    'exit 1\n')
    fake.chmod(0o755)
    err = one_line(run_with_gdb(str(fake), tmp_path))
    assert 'without Python support' in err, err
