"""The structural probes (core/src/cpython/probes.c) on real processes: a
healthy one passes every one, and `info --json` lists them; one patched
(through /proc/PID/mem, while stopped) in one place the layout is checked
at (PyType_Type's basic size, the sys dict's type) is refused in one
sentence, with a non-zero exit and no traceback, never walked in part.  The numbers each probe prints are compared with the
interpreter's own in test_exact.py.

The workload stops itself after writing, from inside: id(type), where
tp_basicsize sits in it (object.__basicsize__ + 16: after the header,
ob_size and tp_name), type.__basicsize__, id(sys.__dict__), where ob_type
sits (object.__basicsize__ - 8) and id(list)."""

import struct

import pytest

import harness

# a default build and the free-threaded one (its 32-byte header moves both offsets)
LABELS = ('cpython-3.14.7', 'cpython-3.14.7t')
TARGETS = [t for t in harness.all_targets() if t.label in LABELS]

CODE = '''
import os, signal, sys
with open(sys.argv[1], 'w') as f:
    f.write('%d %d %d %d %d %d' % (id(type), object.__basicsize__ + 16, type.__basicsize__,
                                   id(sys.__dict__), object.__basicsize__ - 8, id(list)))
while True:                     # stopped again should gdb let it run on
    os.kill(os.getpid(), signal.SIGSTOP)
'''


class patched(object):
    """`with patched(pid, addr, value):` the stopped process holds value at
    addr for the block (written through /proc/PID/mem, put back after)."""

    def __init__(self, pid, addr, value):
        self.mem, self.addr, self.value = '/proc/%d/mem' % pid, addr, value

    def __enter__(self):
        with open(self.mem, 'r+b', buffering=0) as f:
            f.seek(self.addr)
            self.old = f.read(8)
            f.seek(self.addr)
            f.write(struct.pack('<Q', self.value))

    def __exit__(self, *exc):
        with open(self.mem, 'r+b', buffering=0) as f:
            f.seek(self.addr)
            f.write(self.old)
        return False


@pytest.fixture(params=TARGETS, ids=[t.label for t in TARGETS])
def stopped(request, tmp_path):
    target = request.param
    harness.require(target)
    facts = tmp_path / 'facts'
    p = harness.Process([target.python, '-c', CODE, str(facts)], str(tmp_path), name='probes')
    p.start(env=harness.clean_env())
    try:
        p.wait_stopped(60)
        with open(str(facts)) as f:
            yield target, p.pid, [int(x) for x in f.read().split()]
    finally:
        p.kill()


def refused(pid, phrase):
    res = harness.run_probe(['--pid', pid, 'info'])
    assert res.returncode not in (0, None), res.describe()
    err = res.stderr.strip()
    assert 'Traceback' not in res.stderr and '\n' not in err, res.describe()
    assert 'cannot be analysed safely' in err and phrase in err, res.describe()


def test_probes(stopped):
    target, pid, (tt, bs_off, basicsize, sysdict, type_off, list_type) = stopped
    doc = harness.run_probe(['--pid', pid, '--json', 'info']).json()
    probes = {p['name']: p for p in doc['probes']}
    assert sorted(probes) == sorted(['type', 'interpreter', 'builtin types', 'sys.version',
                                     'threads', 'GC']), doc['probes']
    assert '(0x%x)' % tt in probes['type']['checked'], probes['type']
    text = harness.run_probe(['--pid', pid, 'info']).expect_ok().stdout
    assert sum(1 for line in text.splitlines() if line.startswith('  probe:')) == 6, text

    # PyType_Type's basic size, 8 bytes more
    with patched(pid, tt + bs_off, basicsize + 8):
        refused(pid, '`type` does not have the name and size the layout gives it')
    # the sys dict's type: list
    with patched(pid, sysdict + type_off, list_type):
        refused(pid, 'sys dict, builtins or sys.modules is not a `dict`')
