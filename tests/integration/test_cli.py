"""The command line behaves like a Unix tool (docs/commands.md, "Command-line
conventions"): --help with options, subcommands and examples; `help CMD` and
`CMD --help`, in the shell and in gdb; --version from the VERSION file; exit
status 2 for a usage error, 1 for a failure; "did you mean" for misspelt
subcommands and options; tables from the shell end with a footer naming
--all, never gdb's `probe-heap more`; a symlink to bin/probe-heap works."""

import json
import os
import re
import subprocess

import pytest

import harness

TIME_LIMIT = 60

with open(os.path.join(harness.REPO, 'VERSION')) as _f:
    VERSION = _f.read().strip()

SUBCOMMANDS = ['partition', 'more', 'info', 'threads', 'sizeof', 'dominators', 'backrefs',
               'referrers', 'referents', 'objects', 'snapshot', 'diff', 'leaks', 'alloc']


def probe(args):
    return harness.run_probe(list(args), timeout=TIME_LIMIT)


def one_line_error(res):
    """The single stderr line of a failed run (no traceback, nothing on stdout)."""
    where = '\n' + res.describe()
    assert not res.timed_out, where
    assert 'Traceback' not in res.stdout + res.stderr, where
    assert res.stdout == '', 'an error printed on stdout' + where
    message = res.stderr.rstrip('\n')
    assert message.startswith('probe-heap: ') and '\n' not in message, where
    return message


# The paths the did-you-mean and completion tests walk: __main__:cache._store['user1'].history
STRUCTURE = """import os, signal
class Session:
    def __init__(self):
        self.history = [1, 2]
class Cache:
    def __init__(self):
        self._store = {'user1': Session(), 'user2': Session()}
cache = Cache()
os.kill(os.getpid(), signal.SIGSTOP)
"""


@pytest.fixture(scope='module')
def python_core(tmp_path_factory):
    """(python, core) of a small supported CPython stopped at its start."""
    for label in ['pyenv-3.12.1', 'pyenv-3.11.7', 'pyenv-3.13.0', 'debian-3.11-nosym']:
        t = harness.target_by_label(label)
        if t.available:
            break
    else:
        t = harness.target_by_label('pyenv-3.12.1')
        harness.require(t)
    workdir = str(tmp_path_factory.mktemp('cli'))
    p = harness.start_stopped_python(t.python, workdir, name='cli', code=STRUCTURE)
    try:
        core = p.gcore(os.path.join(workdir, 'core-cli'))
    finally:
        p.kill()
    return t.python, core


# --------------------------------------------------------------------------
# --version and --help need no target

def test_version():
    """`probe-heap 0.9.0`, the VERSION file's number, with or without other options."""
    assert re.fullmatch(r'\d+\.\d+\.\d+', VERSION), VERSION
    for args in (['--version'], ['--json', '--version'], ['--core', '/nonexistent', '--version']):
        res = probe(args).expect_ok()
        assert res.stdout == 'probe-heap %s\n' % VERSION, res.describe()


@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_names_options_subcommands_examples(flag):
    res = probe([flag]).expect_ok()
    out = res.stdout
    assert out.startswith('usage: probe-heap '), res.describe()
    for section in ('Options:', 'Subcommands:', 'Examples:', 'Exit status:'):
        assert section in out, section + '\n' + res.describe()
    for option in ('--core', '--exe', '--pid', '--sysroot', '--debug-file-directory', '--json',
                   '--help', '--version'):
        assert option in out, option + '\n' + res.describe()
    for sub in SUBCOMMANDS:
        assert re.search(r'^  %s\b' % sub, out, re.M) or (', %s ' % sub) in out, sub + '\n' + out
    assert max(len(line) for line in out.splitlines()) <= 100, 'a line of --help is over 100 columns'


@pytest.mark.parametrize('sub', SUBCOMMANDS)
def test_help_of_each_subcommand(sub):
    """`help CMD` and `CMD --help` print the same text, its usage line naming CMD."""
    a = probe(['help', sub]).expect_ok()
    b = probe([sub, '--help']).expect_ok()
    assert a.stdout == b.stdout, a.describe() + '\n' + b.describe()
    assert re.search(r'^Usage: probe-heap %s\b' % sub, a.stdout, re.M), a.describe()


def test_help_alone_is_the_overview():
    a = probe(['help']).expect_ok()
    b = probe(['--help']).expect_ok()
    assert a.stdout == b.stdout


# --------------------------------------------------------------------------
# exit statuses: 2 for usage errors (with or without a target), 1 for failures

USAGE_ERRORS = [
    ([], 'which subcommand'),
    (['partition'], 'say which process or core'),
    (['--pid', 'abc', 'partition'], "--pid needs a process id, not 'abc'"),
    (['--pid', '1', '--core', 'CORE', 'partition'], 'give --pid or --core, not both'),
    (['--exe', 'PYTHON', 'partition'], '--exe names the executable of a core'),
    (['--core', 'CORE', 'partiton'], "unknown subcommand 'partiton'; did you mean 'partition'?"),
    (['partiton'], "unknown subcommand 'partiton'; did you mean 'partition'?"),
    (['--core', 'CORE', 'xyzzy'], "unknown subcommand 'xyzzy': choose one of"),
    (['help', 'sizeoff'], "unknown subcommand 'sizeoff'; did you mean 'sizeof'?"),
    (['--jsn', '--core', 'CORE', 'partition'], "unknown option --jsn; did you mean '--json'?"),
    (['--cor', 'CORE', 'partition'], "unknown option --cor; did you mean '--core'?"),
    (['--core'], '--core needs a value'),
    (['--core', 'CORE', 'partition', '--bx', 'type'], "unknown option --bx; did you mean '--by'?"),
    (['--core', 'CORE', 'objects', 'str', '--limt', '3'], "unknown option --limt; did you mean '--limit'?"),
    (['--core', 'CORE', 'partition', '--by', 'kindd'], 'cannot partition by kindd'),
    (['--core', 'CORE', 'more'], "'more' pages a table inside gdb"),
]


@pytest.mark.parametrize('args,says', USAGE_ERRORS, ids=lambda v: ' '.join(v) if isinstance(v, list) else None)
def test_usage_error_exits_2(python_core, args, says):
    python, core = python_core
    args = [core if a == 'CORE' else python if a == 'PYTHON' else a for a in args]
    res = probe(args)
    message = one_line_error(res)
    assert res.returncode == 2, res.describe()
    assert says in message, res.describe()


def test_failure_exits_1(tmp_path):
    res = probe(['--core', str(tmp_path / 'no-such-core'), 'partition'])
    message = one_line_error(res)
    assert res.returncode == 1, res.describe()
    assert 'no such core file' in message


# --------------------------------------------------------------------------
# tables from the shell

def test_partition_footer_names_all_not_more(python_core):
    python, core = python_core
    doc = probe(['--core', core, '--json', 'partition']).json()
    assert len(doc['rows']) > 11, 'the core should have more kinds than a page shows'
    res = probe(['--core', core, 'partition']).expect_ok()
    lines = res.stdout.rstrip('\n').splitlines()
    # ten rows under the two header lines, then the footer for the rows left
    assert lines[-1] == '<%d more rows; --all shows them, --json lists them all>' % (len(doc['rows']) - 10), \
        res.describe()
    assert 'probe-heap more' not in res.stdout
    every = probe(['--core', core, 'partition', '--all']).expect_ok()
    assert '<' not in every.stdout.splitlines()[-1] and 'more rows' not in every.stdout


def test_objects_footer_and_plural(python_core):
    python, core = python_core
    res = probe(['--core', core, 'objects', 'str', '--limit', '1']).expect_ok()
    last = res.stdout.rstrip('\n').splitlines()[-1]
    assert re.fullmatch(r'<\d+ more objects; --limit N shows more \(0: all\), '
                        r'--min-size B only the big ones>', last), res.describe()
    # one object: "1 object", not "1 objects"
    res = probe(['--core', core, 'objects', 'NoneType']).expect_ok()
    assert res.stdout.startswith('1 object of NoneType, '), res.describe()


# --------------------------------------------------------------------------
# a symlink to bin/probe-heap in another directory

def test_symlinked_bin(python_core, tmp_path):
    python, core = python_core
    link = tmp_path / 'bin' / 'probe-heap'
    link.parent.mkdir()
    os.symlink(harness.PROBE_HEAP, str(link))
    env = dict(os.environ, PATH='%s:%s' % (link.parent, os.environ.get('PATH', '')))
    for args, check in ((['--version'], lambda out: out == 'probe-heap %s\n' % VERSION),
                        (['--core', core, '--json', 'partition'], lambda out: json.loads(out)['count'] > 0)):
        r = subprocess.run(['probe-heap'] + args, env=env, cwd=str(tmp_path), capture_output=True,
                           text=True, timeout=TIME_LIMIT)
        assert r.returncode == 0, r.stderr
        assert check(r.stdout), r.stdout


# --------------------------------------------------------------------------
# the same conventions in gdb

def gdb(*commands):
    args = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
            '-x', os.path.join(harness.REPO, 'gdbinit')]
    for c in commands:
        args += ['-ex', c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=TIME_LIMIT)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return r.stdout, r.stderr


def test_gdb_version_and_help():
    out, err = gdb('probe-heap --version', 'echo ====\\n', 'probe-heap help sizeof', 'echo ====\\n',
                   'probe-heap sizeof --help', 'echo ====\\n', 'probe-heap help')
    version, help_cmd, dash_help, overview = out.split('====\n')
    assert version == 'probe-heap %s\n' % VERSION, out + err
    assert help_cmd == dash_help and 'Usage: probe-heap sizeof OBJ' in help_cmd, out + err
    assert 'probe-heap partition' in overview and 'probe-heap more' in overview, out + err


@pytest.mark.parametrize('command,says', [
    ('probe-heap partiton', "probe-heap: unknown subcommand 'partiton'; did you mean 'partition'?"),
    ('probe-heap --verison', "probe-heap: unknown option --verison; did you mean '--version'?"),
    ('probe-heap help partiton', "probe-heap: unknown subcommand 'partiton'; did you mean 'partition'?"),
    ('probe-heap partition --bx', "probe-heap: unknown option --bx; did you mean '--by'?"),
])
def test_gdb_did_you_mean(command, says):
    out, err = gdb(command)
    assert err.strip() == says, out + err


# --------------------------------------------------------------------------
# Ctrl-C: 130 (a gdb slow to start, so that the interrupt comes while it runs)

def test_ctrl_c_exits_130(python_core, tmp_path):
    import signal
    import time
    python, core = python_core
    slow_gdb = tmp_path / 'slow-gdb'
    slow_gdb.write_text('#!/bin/sh\nsleep 30\nexec gdb "$@"\n')
    slow_gdb.chmod(0o755)
    env = dict(os.environ, PROBE_HEAP_GDB=str(slow_gdb))
    p = subprocess.Popen([harness.PROBE_HEAP, '--core', core, 'partition'], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(1)
    os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole foreground group
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail('probe-heap did not stop on SIGINT')
    assert p.returncode == 130, (p.returncode, out, err)
    assert b'Traceback' not in out + err


# --------------------------------------------------------------------------
# OBJ: a module by name; "did you mean" for modules, a module's attributes, kinds

def test_module_by_name_is_an_obj(python_core):
    """`sizeof __main__` is the module sys.modules['__main__'] (not gdb's "No
    symbol table is loaded")."""
    python, core = python_core
    by_name = probe(['--core', core, '--json', 'sizeof', '__main__']).json()
    by_path = probe(['--core', core, '--json', 'sizeof', "sys:modules['__main__']"]).json()
    assert by_name['address'] == by_path['address'] and by_name['type'] == 'module'


@pytest.mark.parametrize('obj,says', [
    ('__mian__', "__mian__ is neither a module in sys.modules nor a symbol gdb knows; "
                 "did you mean '__main__'?"),
    ('sy:path', "there is no module 'sy' in sys.modules; did you mean 'sys'?"),
    ('__main__:__nmae__', "the module __main__ has no attribute '__nmae__'; did you mean '__name__'?"),
    # every later step, among the references of the object before it
    ('__main__:cache._stor', "a __main__.Cache object has no attribute '_stor'; did you mean '._store'?"),
    ("__main__:cache._store['usr1']", """the dict has no key 'usr1'; did you mean "['user1']"?"""),
    ("__main__:cache._store['user1'].histroy",
     "a __main__.Session object has no attribute 'histroy'; did you mean '.history'?"),
    ('__main__:Cache.__innit__', "the type __main__.Cache has no attribute '__innit__'; did you mean '.__init__'?"),
    # a '.' where the path wants ':'
    ('__main__.cahce', "is neither a module in sys.modules nor a symbol gdb knows; did you mean '__main__:cache'?"),
    ('__main__.session', "did you mean '__main__:Session'?"),
    ('__main__.cache._store', "did you mean '__main__:cache._store'?"),
])
def test_obj_did_you_mean(python_core, obj, says):
    python, core = python_core
    res = probe(['--core', core, 'sizeof', obj])
    message = one_line_error(res)
    assert res.returncode == 1, res.describe()
    assert message.endswith(says), res.describe()


def test_objects_kind_did_you_mean(python_core):
    python, core = python_core
    res = probe(['--core', core, 'objects', 'NoneTyp']).expect_ok()
    assert res.stdout.startswith("No objects of kind or type 'NoneTyp'; did you mean 'NoneType'? "), \
        res.describe()
    # a kind that exists, only too small: no guess
    res = probe(['--core', core, 'objects', 'str', '--min-size', '1000000000']).expect_ok()
    assert 'did you mean' not in res.stdout, res.describe()


# --------------------------------------------------------------------------
# gdb: completion of options, --by values, kinds, file names; Enter repeats more

def gdb_on_core(python, core, *commands):
    args = ['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
            '-iex', 'set auto-load python-scripts off', '-x', os.path.join(harness.REPO, 'gdbinit'),
            python, core]
    for c in commands:
        args += ['-ex', c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=TIME_LIMIT)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return [l for l in r.stdout.splitlines() if l.startswith('probe-heap ')]


def test_gdb_completion(python_core, tmp_path):
    python, core = python_core
    (tmp_path / 'monday.phsnap').write_text('{}')
    snap = str(tmp_path / 'mon')
    got = gdb_on_core(python, core,
                      'complete probe-heap partition --b',
                      'complete probe-heap partition --by r',
                      'complete probe-heap objects NoneT',      # no index yet: no kinds
                      'probe-heap info',
                      'complete probe-heap objects NoneT',
                      'complete probe-heap objects dict of mod',
                      'complete probe-heap objects str --min',
                      'complete probe-heap snapshot ' + snap,
                      'complete probe-heap backrefs 0x10 --svg ' + snap,
                      'complete probe-heap help partit',
                      'complete probe-heap dominat')
    assert got == ['probe-heap partition --by',
                   'probe-heap partition --by rcs',
                   'probe-heap objects NoneType',
                   'probe-heap objects dict of module',
                   'probe-heap objects str --min-size',
                   'probe-heap snapshot %s.phsnap' % (snap + 'day'),
                   'probe-heap backrefs 0x10 --svg %s.phsnap' % (snap + 'day'),
                   'probe-heap help partition',
                   'probe-heap dominators'], got


def test_gdb_completes_paths_and_kinds(python_core):
    """OBJ completes as a path, a step at a time (module names, a module's
    names, attributes, keys, items), and partition --kind completes the
    index's kinds, quoted when they have blanks; before the index is built
    (completion never walks) nothing is offered."""
    python, core = python_core
    got = gdb_on_core(python, core,
                      'complete probe-heap sizeof __mai',           # no index yet
                      'probe-heap info',
                      'complete probe-heap sizeof __mai',
                      'complete probe-heap sizeof __main__:ca',
                      'complete probe-heap backrefs __main__:cache._',
                      'complete probe-heap referents __main__:cache._store[',
                      "complete probe-heap sizeof __main__:cache._store['user1'].h",
                      "complete probe-heap sizeof __main__:cache._store['user1'].history[",
                      "complete probe-heap sizeof __main__:cache._store['us",
                      'complete probe-heap sizeof __main__:cache._store["user2',
                      'complete probe-heap dominators --depth 2 __main__:Cac',
                      'complete probe-heap sizeof __main__:cache --js',
                      'complete probe-heap partition --kind __main__.Se',
                      "complete probe-heap partition --kind 'dict of mod",
                      'complete probe-heap partition --kind Non')
    assert got == ['probe-heap sizeof __main__',
                   'probe-heap sizeof __main__:cache',
                   'probe-heap backrefs __main__:cache._store',
                   "probe-heap referents __main__:cache._store['user1']",
                   "probe-heap referents __main__:cache._store['user2']",
                   "probe-heap sizeof __main__:cache._store['user1'].history",
                   "probe-heap sizeof __main__:cache._store['user1'].history[0]",
                   "probe-heap sizeof __main__:cache._store['user1'].history[1]",
                   "probe-heap sizeof __main__:cache._store['user1'",  # gdb closes the quote
                   "probe-heap sizeof __main__:cache._store['user2'",
                   'probe-heap sizeof __main__:cache._store["user2"]',
                   'probe-heap dominators --depth 2 __main__:Cache',
                   'probe-heap sizeof __main__:cache --json',
                   'probe-heap partition --kind __main__.Session',
                   "probe-heap partition --kind 'dict of module'",
                   'probe-heap partition --kind NoneType'], got


def test_gdb_enter_repeats_more(python_core):
    """After 'probe-heap more', Enter shows the next page, as after 'list'."""
    import pty
    import select
    import time
    python, core = python_core

    def read_prompt(fd, timeout=60):
        buf, t0 = b'', time.monotonic()
        while time.monotonic() - t0 < timeout:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    buf += os.read(fd, 65536)
                except OSError:
                    break
                if buf.endswith(b'(gdb) '):
                    return buf.decode('utf-8', 'replace')
        raise AssertionError('no gdb prompt; got:\n' + buf.decode('utf-8', 'replace')[-2000:])

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp('gdb', ['gdb', '-nx', '-q', '-iex', 'set pagination off', '-iex', 'set width 0',
                          '-iex', 'set debuginfod enabled off', '-iex', 'set auto-load python-scripts off',
                          '-x', os.path.join(harness.REPO, 'gdbinit'), python, core])
    try:
        read_prompt(fd)
        pages = []
        for line in (b'probe-heap partition\n', b'probe-heap more\n', b'\n'):
            os.write(fd, line)
            pages.append(read_prompt(fd))
        rows = [[int(m.group(1)) for m in re.finditer(r'^ +(\d+) +\d+ +\d+ +\d+', p, re.M)] for p in pages]
        assert rows[0] == list(range(0, 10)) and rows[1] == list(range(10, 20)), pages
        assert rows[2] == list(range(20, 30)), 'Enter did not repeat more:\n' + pages[2]
    finally:
        os.write(fd, b'quit\n')
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
