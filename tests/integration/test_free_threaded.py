"""Free-threaded CPython (3.14.7t): `info` says what the target is, in text
and in JSON ("free_threaded": true), and every command that needs the heap is
refused with one sentence naming what is missing (a walk of mimalloc's
heaps).  The oracle is the interpreter itself: sys._is_gil_enabled() and
sysconfig's Py_GIL_DISABLED, asked in the workload before it stops."""

import json
import os
import subprocess

import pytest

import harness

TARGETS = harness.free_threaded_targets()
MODES = ['live', 'core']


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def stopped(request, tmp_path_factory):
    target = request.param
    harness.require(target)
    truth = subprocess.run(
        [target.python, '-c', 'import sys, sysconfig; '
         'print(sysconfig.get_config_var("Py_GIL_DISABLED"), sys.version.split()[0])'],
        capture_output=True, text=True, check=True, env=harness.clean_env()).stdout.split()
    assert truth[0] == '1', 'the oracle says %s is not free-threaded: %s' % (target.python, truth)
    workdir = str(tmp_path_factory.mktemp(target.label))
    p = harness.start_stopped_python(target.python, workdir, name='ft')
    try:
        yield target, p, truth[1]
    finally:
        p.kill()


def args(stopped, mode):
    target, p, _ = stopped
    if mode == 'core':
        return ['--core', p.gcore(os.path.join(p.workdir, 'core-ft')), '--exe', target.python]
    return ['--pid', str(p.pid)]


@pytest.mark.parametrize('mode', MODES)
def test_info_says_free_threaded(stopped, mode):
    version = stopped[2]
    res = harness.run_probe(args(stopped, mode) + ['info']).expect_ok()
    assert 'CPython %s, free-threaded build' % version in res.stdout, res.describe()
    assert 'mimalloc' in res.stdout, res.describe()
    doc = harness.run_probe(args(stopped, mode) + ['--json', 'info']).json()
    assert doc['free_threaded'] is True, doc
    assert doc['python']['free_threaded'] is True, doc
    assert doc['python']['version'] == version, doc
    assert doc['supported'] is False, doc


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('command', [['partition'], ['leaks'], ['alloc'], ['threads'],
                                     ['sizeof', '0x1000']])
def test_other_commands_refused(stopped, mode, command):
    res = harness.run_probe(args(stopped, mode) + command)
    message = res.stderr.rstrip('\n')
    assert res.returncode not in (0, None), res.describe()
    assert 'Traceback' not in res.stdout + res.stderr, res.describe()
    assert message and '\n' not in message, 'not one line on stderr\n' + res.describe()
    assert 'free-threaded' in message and 'mimalloc' in message, res.describe()
