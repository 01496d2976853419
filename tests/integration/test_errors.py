"""Bad input: every case ends with a non-zero exit, exactly one non-empty line
on stderr, no Python traceback anywhere, within 60 seconds."""

import os
import shutil
import subprocess
import sys
import time

import pytest

import harness

TIME_LIMIT = 60
SUBCOMMAND = ['partition']


def assert_clean_error(res):
    where = '\n' + res.describe()
    assert not res.timed_out, 'no answer within %ss' % TIME_LIMIT + where
    assert res.seconds < TIME_LIMIT, where
    assert res.returncode != 0, 'exit status 0 on bad input' + where
    assert 'Traceback' not in res.stdout and 'Traceback' not in res.stderr, where
    message = res.stderr.rstrip('\n')
    assert message.strip(), 'nothing on stderr' + where
    assert '\n' not in message, 'stderr is not one line' + where
    return message


def probe(args):
    return harness.run_probe(list(args) + SUBCOMMAND, timeout=TIME_LIMIT)


def first_available(labels):
    for label in labels:
        t = harness.target_by_label(label)
        if t.available:
            return t
    return None


# --------------------------------------------------------------------------
# cores to feed the tool (module scope: each is taken once)

@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('errors'))


def stopped_core(python, workdir, name):
    p = harness.start_stopped_python(python, workdir, name=name)
    try:
        return p.gcore(os.path.join(workdir, 'core-' + name))
    finally:
        p.kill()


@pytest.fixture(scope='module')
def python_core(workdir):
    """(python, core) of a small supported CPython."""
    t = first_available(['pyenv-3.12.1', 'pyenv-3.11.7', 'pyenv-3.13.0', 'debian-3.11-nosym'])
    if t is None:
        harness.require(harness.target_by_label('pyenv-3.12.1'))
    return t.python, stopped_core(t.python, workdir, 'python')


@pytest.fixture(scope='module')
def py38_core(workdir):
    t = harness.target_by_label('pyenv-3.8.18')
    harness.require(t)
    return t.python, stopped_core(t.python, workdir, 'py38')


@pytest.fixture(scope='module')
def sleeper():
    p = subprocess.Popen([shutil.which('sleep') or '/bin/sleep', '1000'],
                         stdin=subprocess.DEVNULL)
    try:
        yield p
    finally:
        p.kill()
        p.wait()


@pytest.fixture(scope='module')
def sleep_core(sleeper, workdir):
    return harness.take_gcore(sleeper.pid, os.path.join(workdir, 'core-sleep'))


# --------------------------------------------------------------------------
# cores

def test_no_such_core(workdir):
    assert_clean_error(probe(['--core', os.path.join(workdir, 'no-such-core.123')]))


def test_core_is_not_a_core(workdir):
    path = os.path.join(workdir, 'not-a-core.txt')
    with open(path, 'w') as f:
        f.write('this is not an ELF core file\n' * 100)
    assert_clean_error(probe(['--core', path]))


def test_truncated_core(python_core, workdir):
    python, core = python_core
    path = os.path.join(workdir, 'truncated.core')
    with open(core, 'rb') as src, open(path, 'wb') as dst:
        dst.write(src.read(64 * 1024))
    assert_clean_error(probe(['--core', path, '--exe', python]))


def test_core_of_a_program_that_is_not_python(sleep_core):
    sleep = shutil.which('sleep') or '/bin/sleep'
    message = assert_clean_error(probe(['--core', sleep_core, '--exe', os.path.realpath(sleep)]))
    assert 'python' in message.lower(), message


def test_core_whose_executable_cannot_be_found(python_core):
    """The executable the core names is not where it says (a container's
    root not passed, say): the sentence tells how to pass it."""
    python, core = python_core
    message = assert_clean_error(probe(['--core', core, '--sysroot', '/nonexistent-root']))
    assert '--exe' in message and '--sysroot' in message, message


def test_core_with_wrong_executable(python_core):
    python, core = python_core
    assert_clean_error(probe(['--core', core, '--exe', '/bin/ls']))


def test_core_with_executable_of_another_python(py38_core):
    t = harness.target_by_label('pyenv-3.12.1')
    harness.require(t)
    _, core = py38_core
    assert_clean_error(probe(['--core', core, '--exe', t.python]))


@pytest.mark.parametrize('version', harness.UNSUPPORTED_VERSIONS)
def test_core_of_unsupported_python(version, workdir):
    major_minor = '.'.join(version.split('.')[:2])
    python = os.path.join(harness.PYENV, 'versions', version, 'bin', 'python' + major_minor)
    if not os.access(python, os.X_OK):
        pytest.skip('%s not found' % python)
    core = stopped_core(python, workdir, 'py' + major_minor)
    message = assert_clean_error(probe(['--core', core, '--exe', python]))
    assert '3.8' in message and '3.14' in message, \
        'the message should name the supported versions (3.8 to 3.14): %r' % message


# --------------------------------------------------------------------------
# live processes

HOLDER = r'''
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) != 0:          # PTRACE_ATTACH
    sys.stderr.write('PTRACE_ATTACH: %s\n' % os.strerror(ctypes.get_errno()))
    sys.exit(1)
os.waitpid(pid, 0)
sys.stdout.write('attached\n')
sys.stdout.flush()
time.sleep(600)
'''


def tracer_pid(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('TracerPid:'):
                return int(line.split()[1])
    return 0


def test_ptrace_refused(tmp_path):
    """A process we may not attach to: as root, one another tracer already
    holds; otherwise pid 1."""
    if os.geteuid() != 0:
        assert_clean_error(probe(['--pid', '1']))
        return
    sleeper = subprocess.Popen(['sleep', '1000'], stdin=subprocess.DEVNULL)
    holder = None
    try:
        holder = subprocess.Popen([sys.executable, '-c', HOLDER, str(sleeper.pid)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        line = holder.stdout.readline()
        if line.strip() != b'attached':
            pytest.fail('could not set up a traced process: %s'
                        % holder.stderr.read().decode('utf-8', 'replace'))
        deadline = time.time() + 10
        while tracer_pid(sleeper.pid) != holder.pid and time.time() < deadline:
            time.sleep(0.05)
        assert tracer_pid(sleeper.pid) == holder.pid
        assert_clean_error(probe(['--pid', str(sleeper.pid)]))
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        sleeper.kill()
        sleeper.wait()


def unused_pid():
    with open('/proc/sys/kernel/pid_max') as f:
        pid = int(f.read()) - 1
    while os.path.exists('/proc/%d' % pid):
        pid -= 1
    return pid


def test_no_such_process():
    assert_clean_error(probe(['--pid', str(unused_pid())]))


def test_live_process_that_is_not_python(sleeper):
    message = assert_clean_error(probe(['--pid', str(sleeper.pid)]))
    assert 'python' in message.lower(), message
    assert sleeper.poll() is None, 'probe-heap killed the process it looked at'


# --------------------------------------------------------------------------
# bad numbers for the options that take one: usage errors (exit 2), one
# sentence naming the option, before any walk

BAD_NUMBERS = [
    (['objects', 'str', '--limit', 'many'], '--limit takes a number'),
    (['objects', 'str', '--min-size', '-1'], '--min-size must be at least 0'),
    (['dominators', '--depth', '0'], '--depth must be at least 1'),
    (['dominators', '--limit', 'x'], '--limit takes a number'),
    (['backrefs', '0x1000', '--all', 'two'], '--all takes a number of chains'),
    (['backrefs', '0x1000', '--all', '0'], '--all must be at least 1'),
    (['referrers', '0x1000', '--limit', '-3'], '--limit must be at least 0'),
    (['referents', '0x1000', '--limit', '1.5'], '--limit takes a number'),
    (['diff', '/nonexistent.phsnap', '--limit', '0'], '--limit must be at least 1'),
]


@pytest.mark.parametrize('args,says', BAD_NUMBERS, ids=lambda v: ' '.join(v) if isinstance(v, list) else None)
def test_bad_number_option(python_core, args, says):
    python, core = python_core
    res = harness.run_probe(['--core', core, '--exe', python] + args, timeout=TIME_LIMIT)
    message = assert_clean_error(res)
    assert res.returncode == 2, res.describe()
    assert says in message, res.describe()
