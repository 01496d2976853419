"""Helpers for the integration tests: the CPython targets, workload processes
stopped with SIGSTOP, cores taken with gcore, and runs of bin/probe-heap.

Imported by the tests (conftest.py puts this directory on sys.path) and usable
by hand:

    python3 tests/integration/harness.py            # list the targets
    python3 tests/integration/harness.py census [--size N]   # run basic.py on each, print totals

Environment: PROBE_HEAP (the tool, default bin/probe-heap), PROBE_HEAP_TIMEOUT
(seconds per tool run, default 180), PROBE_HEAP_KEEP_CORES (keep the cores of
the partition tests), CI=true (a missing required target fails instead of
skipping), PYENV_ROOT (default /root/.pyenv), PROBE_HEAP_CACHE (where
tools/build-pythons put the CPython builds no package provides, default
/var/cache/probe-heap). The workloads honour
CENSUS_DIAG and CENSUS_DUMP (see workloads/census.py).
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKLOADS = os.path.join(HERE, 'workloads')
PROBE_HEAP = os.environ.get('PROBE_HEAP') or os.path.join(REPO, 'bin', 'probe-heap')

PYENV = os.environ.get('PYENV_ROOT') or '/root/.pyenv'
PYENV_VERSIONS = ['3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0']
UNSUPPORTED_VERSIONS = ['2.7.18', '3.6.15', '3.7.16']
# Built by tools/build-pythons from ../shared/pythons into the cache (the
# executable links libpython statically).
CACHE = os.environ.get('PROBE_HEAP_CACHE') or '/var/cache/probe-heap'
CACHE_VERSIONS = ['3.14.7']
# Free-threaded builds (--disable-gil) of the same releases, beside them in
# the cache as python-VERSIONt/bin/python3.Xt.
CACHE_FT_VERSIONS = ['3.14.7']
DEBIAN_PYTHON = '/usr/bin/python3.11'
DEBUG_DIR = '/usr/lib/debug'
NO_SYMBOLS = ['--debug-file-directory', '/nonexistent']

# Time limits (seconds)
WORKLOAD_START_TIMEOUT = 180
GCORE_TIMEOUT = 180
PROBE_TIMEOUT = float(os.environ.get('PROBE_HEAP_TIMEOUT', '180'))


class trixie_proc(object):
    """`with trixie_proc(root):` /proc is mounted in the trixie root for the
    block.  The root is shared by the tests of every xdist worker
    (test_exact's, test_package's), and uses nest (test_package's fixture
    holds it while its tests take it again): each use holds a shared lock
    on a "users" file named after the root (in /tmp) while it uses the
    mount; mounting and unmounting happen under an exclusive lock on a
    second, "mutex" file, never held for long; on the way out a use
    unmounts only if its shared lock converts to an exclusive one at once,
    i.e. when no other use, of this process or another, holds it."""

    def __init__(self, root):
        import tempfile
        self.root = root
        self.proc = os.path.join(root, 'proc')
        base = os.path.join(tempfile.gettempdir(),
                            'probe-heap-%s.proc' % root.strip('/').replace('/', '_'))
        self.users_path, self.mutex_path = base + '-users', base + '-mutex'
        self.users = None

    def __enter__(self):
        import fcntl
        with open(self.mutex_path, 'a') as mutex:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            if not os.path.ismount(self.proc):
                subprocess.run(['mount', '-t', 'proc', 'proc', self.proc], check=True)
            self.users = open(self.users_path, 'a')
            fcntl.flock(self.users, fcntl.LOCK_SH)
        return self.root

    def __exit__(self, *exc):
        import fcntl
        with open(self.mutex_path, 'a') as mutex:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            try:
                fcntl.flock(self.users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pass        # another use still has it: the last one unmounts
            else:
                if os.path.ismount(self.proc):
                    subprocess.run(['umount', '-l', self.proc])
            finally:
                self.users.close()
        return False


def in_ci():
    return os.environ.get('CI', '').lower() == 'true'


class Target(object):
    """A CPython to test against: label, interpreter path, extra CLI args."""

    def __init__(self, label, python, cli_args=(), version=None, required=True,
                 why_missing=None, free_threaded=False):
        self.label = label
        self.free_threaded = free_threaded  # a --disable-gil build (mimalloc, 32-byte header)
        self.python = python
        self.cli_args = list(cli_args)
        self.version = version            # "3.11.7", None for Debian's
        self.required = required          # must exist under CI=true
        self.why_missing = why_missing    # None when available

    @property
    def available(self):
        return self.why_missing is None

    def __repr__(self):
        return 'Target(%r, %r, %r)' % (self.label, self.python, self.cli_args)


def pyenv_python(version):
    major_minor = '.'.join(version.split('.')[:2])
    return os.path.join(PYENV, 'versions', version, 'bin', 'python' + major_minor)


def cache_python(version):
    """The cached build of version ("3.14.7", or "3.14.7t" for the
    free-threaded one, whose executable is python3.14t)."""
    ft = 't' if version.endswith('t') else ''
    major_minor = '.'.join(version.rstrip('t').split('.')[:2])
    return os.path.join(CACHE, 'python-' + version, 'bin', 'python' + major_minor + ft)


def stripped_python(version):
    """A copy of the cached CPython's executable without its symbol table
    and DWARF (strip --strip-all keeps .dynsym: _PyRuntime, Py_Version),
    made beside it on first use, as a distribution's stripped binary is.
    (path, why it is missing or None)."""
    py = cache_python(version)
    out = py + '-nosym'
    if os.access(out, os.X_OK) and os.path.getmtime(out) >= os.path.getmtime(py):
        return out, None
    strip = shutil.which('strip')
    if not strip:
        return out, 'strip (binutils) is not installed'
    tmp = '%s.%d.tmp' % (out, os.getpid())
    try:
        subprocess.run([strip, '--strip-all', '-o', tmp, py], check=True,
                       capture_output=True, timeout=120)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except (OSError, subprocess.SubprocessError) as e:
        return out, 'cannot strip %s: %s' % (py, e)
    return out, None


def build_id(path):
    """The GNU build ID of an ELF file, as hex, or None."""
    try:
        with open(path, 'rb') as f:
            data = f.read(64)
            if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
                return None
            phoff, = struct.unpack_from('<Q', data, 0x20)
            phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
            f.seek(phoff)
            phdrs = f.read(phentsize * phnum)
            for i in range(phnum):
                p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
                    '<IIQQQQ', phdrs, i * phentsize)
                if p_type != 4:     # PT_NOTE
                    continue
                f.seek(p_offset)
                notes = f.read(p_filesz)
                pos = 0
                while pos + 12 <= len(notes):
                    namesz, descsz, ntype = struct.unpack_from('<III', notes, pos)
                    pos += 12
                    name = notes[pos:pos + namesz]
                    pos += (namesz + 3) & ~3
                    desc = notes[pos:pos + descsz]
                    pos += (descsz + 3) & ~3
                    if ntype == 3 and name.rstrip(b'\0') == b'GNU':
                        return desc.hex()
    except (OSError, struct.error):
        return None
    return None


def separate_debug_file(path):
    """The /usr/lib/debug/.build-id file for an ELF file, if installed."""
    bid = build_id(path)
    if not bid:
        return None
    p = os.path.join(DEBUG_DIR, '.build-id', bid[:2], bid[2:] + '.debug')
    return p if os.path.exists(p) else None


def all_targets():
    """Every target, available or not: pyenv 3.8-3.13, CPython 3.14.7 from
    tools/build-pythons' cache (as built, and a stripped copy), Debian's python3.11 with its separate debug
    symbols, and Debian's python3.11 with gdb told to look for symbols
    nowhere."""
    out = []
    for v in PYENV_VERSIONS:
        py = pyenv_python(v)
        out.append(Target('pyenv-' + v, py, (), v,
                          why_missing=None if os.access(py, os.X_OK) else py + ' not found'))
    for v in CACHE_VERSIONS:
        py = cache_python(v)
        ok = os.access(py, os.X_OK) and os.path.exists(
            os.path.join(os.path.dirname(os.path.dirname(py)), '.complete'))
        out.append(Target('cpython-' + v, py, (), v,
                          why_missing=None if ok else py + ' not found (run tools/build-pythons)'))
        # the same without symbols: a stripped copy of the executable
        if ok:
            spy, why = stripped_python(v)
        else:
            spy, why = py + '-nosym', py + ' not found (run tools/build-pythons)'
        out.append(Target('cpython-' + v + '-nosym', spy, (), v, why_missing=why))
    for v in CACHE_FT_VERSIONS:
        py = cache_python(v + 't')
        ok = os.access(py, os.X_OK) and os.path.exists(
            os.path.join(os.path.dirname(os.path.dirname(py)), '.complete'))
        why = None if ok else py + ' not found (run tools/build-pythons)'
        out.append(Target('cpython-%st' % v, py, (), v, why_missing=why, free_threaded=True))
        spy, swhy = stripped_python(v + 't') if ok else (py + '-nosym', why)
        out.append(Target('cpython-%st-nosym' % v, spy, (), v, why_missing=swhy,
                          free_threaded=True))
    deb = DEBIAN_PYTHON
    have = os.access(deb, os.X_OK)
    if not have:
        why = deb + ' not found'
    elif separate_debug_file(deb) is None:
        why = 'no debug symbols for %s under %s (python3.11-dbg)' % (deb, DEBUG_DIR)
    else:
        why = None
    # the symbols are optional even under CI: without python3.11-dbg the
    # target is skipped, the stripped run below still covers the binary
    out.append(Target('debian-3.11-dbg', deb, (), None, required=False, why_missing=why))
    out.append(Target('debian-3.11-nosym', deb, NO_SYMBOLS, None,
                      why_missing=None if have else deb + ' not found'))
    return out


def targets():
    """The available targets."""
    return [t for t in all_targets() if t.available]


def free_threaded_targets():
    """The free-threaded CPythons of all_targets() (3.14.7t from
    tools/build-pythons' cache, with and without symbols)."""
    return [t for t in all_targets() if t.free_threaded]


def target_by_label(label):
    for t in all_targets():
        if t.label == label:
            return t
    raise KeyError(label)


def require(target):
    """Skip (or, under CI=true, fail) a test whose target is missing."""
    import pytest
    if target.available:
        return
    if in_ci() and target.required:
        pytest.fail('CI=true and target %s is missing: %s' % (target.label, target.why_missing))
    pytest.skip('%s: %s' % (target.label, target.why_missing))


def clean_env():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith('PYTHON'):
            del env[k]
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env['PYTHONHASHSEED'] = '0'
    return env


# --------------------------------------------------------------------------
# processes

def proc_state(pid):
    """The one-letter state from /proc/PID/stat, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read().decode('ascii', 'replace')
    except OSError:
        return None
    return data[data.rindex(')') + 2:].split()[0]


class WorkloadDied(RuntimeError):
    pass


class Process(object):
    """A child process that stops itself with SIGSTOP."""

    def __init__(self, argv, workdir, name='workload', env=None):
        self.argv = list(argv)
        self.workdir = workdir
        self.name = name
        self.stdout_path = os.path.join(workdir, name + '.stdout')
        self.stderr_path = os.path.join(workdir, name + '.stderr')
        self.popen = None
        self.core = None

    def start(self, env=None):
        with open(self.stdout_path, 'wb') as out, open(self.stderr_path, 'wb') as err:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=err, cwd=self.workdir,
                                          env=env if env is not None else clean_env())
        return self

    @property
    def pid(self):
        return self.popen.pid

    def stderr(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def wait_stopped(self, timeout=WORKLOAD_START_TIMEOUT):
        deadline = time.time() + timeout
        while True:
            rc = self.popen.poll()
            if rc is not None:
                raise WorkloadDied('%s (%s) exited with %s before stopping:\n%s'
                                   % (self.name, ' '.join(self.argv), rc, self.stderr()))
            if proc_state(self.pid) in ('T', 't'):
                return self
            if time.time() > deadline:
                self.kill()
                raise WorkloadDied('%s did not stop within %ss:\n%s'
                                   % (self.name, timeout, self.stderr()))
            time.sleep(0.05)

    def gcore(self, prefix=None):
        """Take a core with gdb's gcore; it stays stopped. Returns the path."""
        if self.core:
            return self.core
        prefix = prefix or os.path.join(self.workdir, 'core')
        path = take_gcore(self.pid, prefix)
        if proc_state(self.pid) not in ('T', 't'):
            # gdb's detach can let a stopped process run on (seen under load);
            # every workload stops itself again at once, in a loop that
            # allocates nothing: wait for that, as the test it serves needs
            # the process stopped (the core itself was taken while stopped).
            try:
                self.wait_stopped(timeout=30)
            except WorkloadDied:
                raise RuntimeError('%s is no longer stopped after gcore' % self.name)
        self.core = path
        return path

    def discard_core(self):
        """Delete the core (about 100 MB for the default basic.py), unless
        PROBE_HEAP_KEEP_CORES is set (to look at a failure afterwards)."""
        if os.environ.get('PROBE_HEAP_KEEP_CORES'):
            return
        if self.core and os.path.exists(self.core):
            os.unlink(self.core)
        self.core = None

    def kill(self):
        if self.popen is None:
            return
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            pass


def take_gcore(pid, prefix):
    gcore = shutil.which('gcore')
    if not gcore:
        raise RuntimeError('gcore (gdb) is not installed')
    log = prefix + '.gcore.log'
    with open(log, 'wb') as out:
        p = subprocess.Popen([gcore, '-o', prefix, str(pid)], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = p.wait(GCORE_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise RuntimeError('gcore of %d timed out after %ss' % (pid, GCORE_TIMEOUT))
    path = '%s.%d' % (prefix, pid)
    if rc != 0 or not os.path.exists(path):
        with open(log, 'rb') as f:
            raise RuntimeError('gcore of %d failed (%s): %s'
                               % (pid, rc, f.read().decode('utf-8', 'replace')))
    return path


class Workload(Process):
    """A workload script (tests/integration/workloads/NAME.py) run by one
    target's interpreter: it writes its census and stops itself."""

    def __init__(self, target, workdir, script='basic.py', args=()):
        self.target = target
        self.census_path = os.path.join(workdir, 'census.json')
        argv = [target.python, '-B', os.path.join(WORKLOADS, script),
                self.census_path] + list(args)
        Process.__init__(self, argv, workdir, name=os.path.splitext(script)[0])
        self._census = None

    def census(self):
        if self._census is None:
            with open(self.census_path) as f:
                self._census = json.load(f)
        return self._census


def start_workload(target, workdir, script='basic.py', args=()):
    w = Workload(target, workdir, script, args)
    w.start()
    try:
        w.wait_stopped()
        w.census()
    except Exception:
        w.kill()
        raise
    return w


def start_stopped_python(python, workdir, name='stopped', code=None):
    """Any interpreter (2.7 included) that stops itself right away."""
    code = code or 'import os, signal; os.kill(os.getpid(), signal.SIGSTOP)'
    p = Process([python, '-c', code], workdir, name=name)
    p.start()
    try:
        p.wait_stopped(60)
    except Exception:
        p.kill()
        raise
    return p


# --------------------------------------------------------------------------
# the tool

class ProbeResult(object):
    """One run of bin/probe-heap."""

    def __init__(self, argv, returncode, stdout, stderr, seconds, timed_out=False):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out

    def json(self):
        self.expect_ok()
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise AssertionError('probe-heap did not print one JSON document (%s)\n%s'
                                 % (e, self.describe()))

    def expect_ok(self):
        """Fail the calling test unless the run exited 0 in time."""
        import pytest
        if self.timed_out:
            pytest.fail('probe-heap timed out\n' + self.describe())
        if self.returncode != 0:
            pytest.fail('probe-heap failed\n' + self.describe())
        return self

    def describe(self):
        def cut(s, n=3000):
            return s if len(s) <= n else s[:n] + '\n...[%d more chars]' % (len(s) - n)
        status = 'timed out' if self.timed_out else 'exit %s' % self.returncode
        return ('$ %s\n%s after %.1fs\n--- stdout\n%s\n--- stderr\n%s'
                % (' '.join(self.argv), status, self.seconds, cut(self.stdout),
                   cut(self.stderr)))


def have_probe_heap():
    return os.access(PROBE_HEAP, os.X_OK)


def run_probe(args, timeout=None):
    """Run bin/probe-heap ARGS and return a ProbeResult (a time-out is
    recorded in it, not raised). Fails the test if the tool does not exist."""
    import pytest
    if not have_probe_heap():
        pytest.fail('%s does not exist (or is not executable)' % PROBE_HEAP)
    argv = [PROBE_HEAP] + [str(a) for a in args]
    t0 = time.time()
    # its own session, so that a time-out ends gdb too, not only the script
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=REPO, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout or PROBE_TIMEOUT)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = p.communicate()
        timed_out = True
    return ProbeResult(argv, None if timed_out else p.returncode,
                       out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'),
                       time.time() - t0, timed_out=timed_out)


def held_on_c_stacks(leaks_doc):
    """The held_by_c entries of a leaks document that a thread's C stack
    holds: a word there may be a stale local of a C function that returned,
    which no scan can tell from a live one (docs/commands.md, leaks)."""
    return [o for o in leaks_doc["held_by_c"] if " C stack at " in o["where"]]


def source_args(workload, mode):
    """The CLI arguments naming a stopped workload: by core or live."""
    if mode == 'core':
        return ['--core', workload.gcore(), '--exe', workload.target.python]
    if mode == 'live':
        return ['--pid', str(workload.pid)]
    raise ValueError(mode)


# --------------------------------------------------------------------------
# by hand

def _main(argv):
    import tempfile
    if len(argv) > 1 and argv[1] == 'census':
        args = argv[2:]
        for t in targets():
            d = tempfile.mkdtemp(prefix='census-%s-' % t.label)
            t0 = time.time()
            w = start_workload(t, d, args=args)
            try:
                c = w.census()
                print('%-20s %-8s count %8d size %10d  gc_objects %7d  census %.2fs '
                      'start %.1fs' % (t.label, c['python'], c['count'], c['size'],
                                       c['census']['gc_objects'], c['census']['seconds'],
                                       time.time() - t0))
            finally:
                w.kill()
                shutil.rmtree(d, ignore_errors=True)
        return 0
    for t in all_targets():
        print('%-20s %-28s %-40s %s' % (t.label, t.python, ' '.join(t.cli_args),
                                        'ok' if t.available else 'MISSING: ' + t.why_missing))
    return 0


if __name__ == '__main__':
    sys.exit(_main(sys.argv))


def gdb_args(target):
    """gdb's own form of the CLI arguments a target is run with."""
    if target.cli_args == NO_SYMBOLS:
        return ['-iex', 'set debug-file-directory ' + NO_SYMBOLS[1]]
    assert not target.cli_args, target.cli_args
    return []


def ask_in_gdb(target, mode, workload, script, workdir, timeout=180):
    """Runs `workload` (it writes its samples and stops itself), then a gdb
    with the plugin and `script` (a file beside this one) on the live process
    (mode 'live') or its core ('core'); the script reads PH_SAMPLES and writes
    PH_OUT.  Returns (the workload's samples document, the script's answer)."""
    out_path = os.path.join(workdir, 'answer.json')
    w = start_workload(target, workdir, workload)
    try:
        gdb = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
               '-iex', 'set auto-load python-scripts off'] + gdb_args(target)
        gdb += [target.python, w.gcore()] if mode == 'core' else ['-p', str(w.pid)]
        env = dict(os.environ, PH_SAMPLES=w.census_path, PH_OUT=out_path)
        r = subprocess.run(gdb + ['-x', os.path.join(REPO, 'gdbinit'), '-x', os.path.join(HERE, script)],
                           env=env, capture_output=True, text=True, timeout=timeout)
        if not os.path.exists(out_path):
            raise AssertionError('%s wrote nothing:\n%s%s' % (script, r.stdout, r.stderr))
        samples = w.census()
    finally:
        w.discard_core()
        w.kill()
    with open(out_path) as f:
        return samples, json.load(f)


class Runs(object):
    """A per-target job (make(target, workdir): an object with run(),
    setting .error on failure) run once per target, in the background,
    `workers` at a time: the first test asking for one target starts every
    target the selected tests will want."""

    def __init__(self, make, name, workers=2):
        import concurrent.futures
        import threading
        self._executor = concurrent.futures.ThreadPoolExecutor
        self.make, self.name, self.workers = make, name, workers
        self.lock = threading.Lock()
        self.pool = None
        self.futures = {}

    def _run(self, target, workdir):
        job = self.make(target, workdir)
        try:
            job.run()
        except Exception as e:
            job.error = '%s: %s' % (type(e).__name__, e)
        return job

    def get(self, target, others, tmp_path_factory):
        """target's job, started now with each of others not started yet."""
        import pytest
        require(target)
        with self.lock:
            if self.pool is None:
                self.pool = self._executor(self.workers)
            for t in [target] + list(others):
                if t.label not in self.futures:
                    d = str(tmp_path_factory.mktemp('%s-%s' % (self.name, t.label)))
                    self.futures[t.label] = self.pool.submit(self._run, t, d)
        job = self.futures[target.label].result()
        if job.error:
            pytest.fail('%s: the %s workload could not be probed: %s'
                        % (target.label, self.name, job.error), pytrace=False)
        return job

    def jobs(self):
        """Every job started so far (waiting for each)."""
        return [f.result() for f in list(self.futures.values())]
