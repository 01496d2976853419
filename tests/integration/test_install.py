"""make install: the files land where the Makefile's install section says,
the installed bin/probe-heap runs from its own tree (not the checkout), the
gdb snippet gives gdb the probe-heap command with no -x, and the bash
completion completes."""

import os
import re
import subprocess

import pytest

import harness

with open(os.path.join(harness.REPO, 'VERSION')) as _f:
    VERSION = _f.read().strip()

EXPECTED = [
    'usr/bin/probe-heap',
    'usr/lib/probe-heap/bin/probe-heap',
    'usr/lib/probe-heap/gdbinit',
    'usr/lib/probe-heap/VERSION',
    'usr/lib/probe-heap/plugin/probeheap/__init__.py',
    'usr/lib/probe-heap/plugin/probeheap/cli.py',
    'usr/lib/probe-heap/plugin/probeheap/commands.py',
    'usr/share/man/man1/probe-heap.1',
    'usr/share/bash-completion/completions/probe-heap',
    'usr/share/doc/probe-heap/README.md',
    'usr/share/doc/probe-heap/CHANGELOG.md',
    'usr/share/doc/probe-heap/LICENSE',
    'usr/share/doc/probe-heap/commands.md',
    'etc/gdb/gdbinit.d/probe-heap.gdb',
]


def make_install(*args):
    r = subprocess.run(['make', '-C', harness.REPO, 'install'] + list(args),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.fixture(scope='module')
def destdir(tmp_path_factory):
    root = tmp_path_factory.mktemp('destdir')
    make_install('DESTDIR=%s' % root, 'PREFIX=/usr')
    return str(root)


def test_files_installed(destdir):
    missing = [p for p in EXPECTED if not os.path.exists(os.path.join(destdir, p))]
    assert not missing, 'not installed: %s' % missing
    so = os.listdir(os.path.join(destdir, 'usr/lib/probe-heap/build'))
    assert any(f.startswith('_probeheap') and f.endswith('.so') for f in so), so
    link = os.path.join(destdir, 'usr/bin/probe-heap')
    assert os.path.islink(link) and not os.path.isabs(os.readlink(link)), \
        'usr/bin/probe-heap should be a relative link into usr/lib/probe-heap'
    with open(os.path.join(destdir, 'etc/gdb/gdbinit.d/probe-heap.gdb')) as f:
        assert 'source /usr/lib/probe-heap/gdbinit' in f.read()


def run_installed(destdir, *args):
    return subprocess.run([os.path.join(destdir, 'usr/bin/probe-heap')] + list(args),
                          capture_output=True, text=True, timeout=120, cwd='/')


def test_installed_version_and_help(destdir):
    r = run_installed(destdir, '--version')
    assert (r.returncode, r.stdout) == (0, 'probe-heap %s\n' % VERSION), r.stderr
    # --help goes through gdb and the installed plugin
    r = run_installed(destdir, '--help')
    assert r.returncode == 0 and r.stdout.startswith('usage: probe-heap '), r.stdout + r.stderr
    r = run_installed(destdir, 'help', 'partition')
    assert r.returncode == 0 and 'Usage: probe-heap partition' in r.stdout, r.stdout + r.stderr


def test_installed_bin_uses_its_own_tree(destdir):
    """The installed script finds the installed plugin, not the checkout's:
    a usage error comes back from the installed cli.py (exit 2), and the
    checkout's paths appear nowhere in what it runs."""
    r = run_installed(destdir, 'partiton')
    assert r.returncode == 2 and "did you mean 'partition'?" in r.stderr, r.stderr
    with open(os.path.join(destdir, 'usr/lib/probe-heap/bin/probe-heap')) as f:
        assert harness.REPO not in f.read()


def test_installed_report(destdir, tmp_path):
    """The installed tree holds the report's page, style, script and vendored
    d3 (plugin/probeheap/report/): the installed probe-heap writes a report
    of a core, and the page it wrote inlines d3 and the script."""
    for f in ('report.html', 'report.css', 'report.js', 'vendor/d3.min.js'):
        assert os.path.exists(os.path.join(destdir, 'usr/lib/probe-heap/plugin/probeheap/report', f)), f
    target = harness.target_by_label('pyenv-3.12.1')
    harness.require(target)
    p = harness.start_stopped_python(target.python, str(tmp_path), code=(
        'import os, signal; keep = [dict(a=i) for i in range(1000)]; os.kill(os.getpid(), signal.SIGSTOP)'))
    try:
        core = p.gcore(str(tmp_path / 'core'))
        out = tmp_path / 'heap.html'
        r = run_installed(destdir, '--core', core, 'report', str(out))
        assert r.returncode == 0 and 'wrote %s' % out in r.stdout, r.stdout + r.stderr
        with open(str(out)) as f:
            page = f.read()
        with open(os.path.join(harness.REPO, 'plugin/probeheap/report/vendor/d3.min.js')) as f:
            d3 = f.read()
        assert d3[:200] in page and '"partition"' in page, page[:500]
    finally:
        p.discard_core()
        p.kill()


def test_gdb_finds_the_plugin_without_x(tmp_path):
    """With the snippet gdb reads from its system gdbinit directory (here named
    with -ix, as gdb -nx would skip /etc), 'probe-heap' is a gdb command."""
    prefix = tmp_path / 'prefix'
    gdbinitdir = tmp_path / 'gdbinit.d'
    make_install('PREFIX=%s' % prefix, 'GDBINITDIR=%s' % gdbinitdir)
    r = subprocess.run(['gdb', '-nx', '-q', '-batch', '-ix', str(gdbinitdir / 'probe-heap.gdb'),
                        '-ex', 'probe-heap --version', '-ex', 'help probe-heap sizeof'],
                       capture_output=True, text=True, timeout=120, cwd='/')
    assert r.stdout.startswith('probe-heap %s\n' % VERSION), r.stdout + r.stderr
    assert 'Usage: probe-heap sizeof OBJ' in r.stdout, r.stdout + r.stderr


def complete(destdir, *words):
    script = os.path.join(destdir, 'usr/share/bash-completion/completions/probe-heap')
    line = ' '.join("'%s'" % w for w in ('probe-heap',) + words)
    r = subprocess.run(['bash', '-c', 'source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _probe_heap; '
                        'printf "%%s\\n" "${COMPREPLY[@]}"' % (script, line, len(words))],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_bash_completion(destdir, tmp_path):
    assert complete(destdir, '--core', 'c', 'part') == ['partition']
    assert complete(destdir, '--core', 'c', 'partition', '--by', '') == \
        ['kind', 'type', 'size', 'module', 'rcs', 'via']
    assert complete(destdir, '--ve') == ['--version']
    assert complete(destdir, '--core', 'c', 'objects', '--li') == ['--limit']
    (tmp_path / 'core.4242').write_text('')
    assert complete(destdir, '--core', str(tmp_path / 'core.4')) == [str(tmp_path / 'core.4242')]


def subcommands():
    """Every subcommand, as the tool lists them for an unknown one."""
    r = harness.run_probe(['zzzzzzzz'])
    assert r.returncode == 2 and 'choose one of ' in r.stderr, r.stderr
    return r.stderr.strip().split('choose one of ', 1)[1].split(', ') + ['help']


def usage(sub):
    """The Usage paragraph of a subcommand's --help."""
    r = harness.run_probe([sub, '--help'])
    assert r.returncode == 0, r.describe()
    text = r.stdout.split('Usage:', 1)[1]
    return text.split('\n\n', 1)[0]


def test_bash_completion_knows_every_subcommand_and_option(destdir):
    """The completion, against the tool's own help so that it cannot go stale:
    it offers every subcommand there is, and for each the options of its
    Usage lines (with --json and --help) and nothing else; --by's values as
    partition's and diff's Usage list them."""
    subs = subcommands()
    assert sorted(complete(destdir, '--core', 'c', '')) == sorted(subs)
    assert sorted(complete(destdir, 'help', '')) == sorted(subs)
    for sub in subs:
        text = usage(sub)
        want = set(re.findall(r'--[a-z][a-z-]*', text)) | {'--help'}
        if sub not in ('help', 'more'):
            want.add('--json')
        got = set(complete(destdir, '--core', 'c', sub, '--'))
        if sub == 'help':
            continue  # its argument is a subcommand (above)
        assert got == want, '%s: completion offers %s, its --help says %s' % (sub, sorted(got), sorted(want))
        by = re.search(r'--by ([a-z|]+)', text)
        if by:
            assert complete(destdir, '--core', 'c', sub, '--by', '') == by.group(1).split('|'), sub
    assert complete(destdir, '--core', 'c', 'report', '--against', '/et') == ['/etc']


def test_man_page_names_every_subcommand_and_option():
    """probe-heap.1 has an entry for every subcommand whose first line names
    every option of the subcommand's Usage, and every global option of
    --help."""
    with open(os.path.join(harness.REPO, 'docs', 'probe-heap.1')) as f:
        man = f.read()
    plain = re.sub(r'\\f[BIRP]', '', man).replace('\\-', '-')
    entries = {}
    for block in plain.split('\n.TP\n')[1:]:
        head = re.sub(r'^\.B[IR]? ', '', block.split('\n', 1)[0]).replace('"', '')
        entries.setdefault(head.split()[0], head)
    for sub in subcommands():
        assert sub in entries, 'probe-heap.1 has no entry for %s' % sub
        for opt in set(re.findall(r'--[a-z][a-z-]*', usage(sub))) - {'--json'}:
            assert opt in entries[sub], 'probe-heap.1: %s %s is not named in %r' % (sub, opt, entries[sub])
    overview = harness.run_probe(['--help']).stdout.split('Subcommands:')[0]
    heads = set(re.findall(r'--[a-z][a-z-]*', ' '.join(h.split()[0] for h in entries.values()) + ' ' +
                           ' '.join(h for h in entries.values() if h.startswith('-h'))))
    for opt in set(re.findall(r'--[a-z][a-z-]*', overview)):
        assert opt in heads, 'probe-heap.1 has no entry for the option %s' % opt


# --------------------------------------------------------------------------
# make deb: the Debian package, built by Debian's tools, holds what make
# install installs, with the gdb snippet a conffile; unpacked, it runs

@pytest.fixture(scope='module')
def deb():
    if subprocess.run(['sh', '-c', 'command -v dpkg-buildpackage && command -v dh'],
                      capture_output=True).returncode != 0:
        pytest.skip('debhelper is not installed (apt-get install debhelper)')
    r = subprocess.run(['make', '-C', harness.REPO, 'deb'], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    path = os.path.join(harness.REPO, 'build', 'deb', 'probe-heap_%s_amd64.deb' % VERSION)
    assert os.path.exists(path), r.stdout[-2000:]
    return path


def test_deb_contents(deb, tmp_path):
    listing = subprocess.run(['dpkg-deb', '-c', deb], capture_output=True, text=True).stdout
    for p in EXPECTED:
        if p.startswith('usr/share/doc/') or p.startswith('usr/share/man/'):
            continue  # compressed or renamed by dh
        assert './' + p in listing, p
    assert './usr/share/man/man1/probe-heap.1.gz' in listing
    ctl = tmp_path / 'control'
    subprocess.run(['dpkg-deb', '-e', deb, str(ctl)], check=True)
    assert (ctl / 'conffiles').read_text().split() == ['/etc/gdb/gdbinit.d/probe-heap.gdb']
    root = tmp_path / 'root'
    subprocess.run(['dpkg-deb', '-x', deb, str(root)], check=True)
    r = run_installed(str(root), '--version')
    assert (r.returncode, r.stdout) == (0, 'probe-heap %s\n' % VERSION), r.stderr
    r = run_installed(str(root), '--help')
    assert r.returncode == 0 and r.stdout.startswith('usage: probe-heap '), r.stdout + r.stderr
