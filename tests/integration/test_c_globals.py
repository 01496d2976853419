"""Roots held from C (issue 13): objects C globals hold are roots named by
the global, and leaks does not call them leaked; against workloads/c_globals
(a tiny extension, workloads/c_globals.c, built and stripped here).

The truth, independent of the tool:
  * the extension says where each of its four globals is (the address of
    the C variable) and the workload which object each holds (id());
  * nm on the unstripped build gives each global's symbol value, so the
    name each must have: 'FILE: ph_cg_named', 'FILE: ph_cg_data+0x8' for
    the exported ones, 'FILE+0x<value>' for the statics, whose symbols the
    stripped build loaded by the workload no longer has;
  * the two objects the workload leaked with Py_IncRef;
  * every writable PT_LOAD segment (readelf) of every file the stopped
    process maps, read from /proc/PID/mem at the file's load address: no
    object leaks calls leaked is pointed to from there.

What must hold, core and live, on every target: the four objects are in
the held_by_c section with those names, none of them (nor what they hold)
is leaked, kept or garbage; the two leaked objects are leaked; backrefs of
each of the four (live: of the static in .bss) starts at its global
("root": "static", the same name).
"""

import json
import os
import struct
import subprocess

import pytest

import harness

TARGETS = harness.all_targets()
MODES = ['core', 'live']


def _build(target, workdir):
    """workloads/c_globals.c built against the target's headers, as
    phcglobals (stripped: .dynsym only) beside an unstripped copy; the nm
    values of the four globals in the unstripped one."""
    include, suffix = subprocess.run(
        [target.python, '-c', 'import sysconfig; print(sysconfig.get_paths()["include"]); '
         'print(sysconfig.get_config_var("EXT_SUFFIX"))'],
        capture_output=True, text=True, check=True, env=harness.clean_env()).stdout.split()
    full = os.path.join(workdir, 'unstripped.so')
    subprocess.run(['cc', '-shared', '-fPIC', '-O1', '-I', include, '-o', full,
                    os.path.join(harness.WORKLOADS, 'c_globals.c')],
                   check=True, capture_output=True, text=True)
    lib = os.path.join(workdir, 'phcglobals' + suffix)
    subprocess.run(['strip', '--strip-unneeded', '-o', lib, full], check=True)
    nm = subprocess.run(['nm', full], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith('ph_cg_'):
            values[parts[2]] = int(parts[0], 16)
    dyn = subprocess.run(['nm', '-D', lib], capture_output=True, text=True, check=True).stdout
    assert 'ph_cg_named' in dyn and 'ph_cg_hidden' not in dyn, dyn
    return os.path.basename(lib), values


def _expected_names(oracle, file, values):
    """The name of each global, from nm and the globals' addresses."""
    words = [g['word'] for g in oracle['globals']]
    bias = words[0] - values['ph_cg_named']
    assert words[1] - bias == values['ph_cg_hidden']
    assert words[2] - bias == values['ph_cg_data'] + 8
    assert words[3] - bias == values['ph_cg_data_hidden'] + 8
    return ['%s: ph_cg_named' % file, '%s+0x%x' % (file, values['ph_cg_hidden']),
            '%s: ph_cg_data+0x8' % file, '%s+0x%x' % (file, values['ph_cg_data_hidden'] + 8)]


def _writable_loads(path):
    """[(vaddr, memsz)] of the file's writable PT_LOAD segments, as readelf says."""
    out = subprocess.run(['readelf', '-lW', path], capture_output=True, text=True).stdout
    loads = []
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == 'LOAD' and 'W' in ''.join(parts[7:-1]):
            loads.append((int(parts[2], 16), int(parts[5], 16)))
    return loads


def _static_words(pid):
    """Every aligned word of the static data of every file mapped into the
    process: its writable PT_LOAD segments (readelf), .bss included, placed
    at the file's load address (its mapping at offset 0), read from
    /proc/PID/mem."""
    bases = {}
    with open('/proc/%d/maps' % pid) as maps:
        for line in maps:
            parts = line.split()
            if len(parts) > 5 and parts[5].startswith('/') and int(parts[2], 16) == 0:
                bases.setdefault(parts[5], int(parts[0].split('-')[0], 16))
    words = set()
    with open('/proc/%d/mem' % pid, 'rb', 0) as mem:
        for path, base in bases.items():
            for vaddr, memsz in _writable_loads(path):
                lo = base + vaddr
                if memsz > 64 << 20:
                    continue
                try:
                    mem.seek(lo & ~7)
                    data = mem.read(memsz)
                except OSError:
                    continue
                words.update(struct.unpack('<%dQ' % (len(data) // 8), data[:len(data) // 8 * 8]))
    return words


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def probed(request, tmp_path_factory):
    target = request.param
    harness.require(target)
    workdir = str(tmp_path_factory.mktemp(target.label))
    file, values = _build(target, workdir)
    w = harness.start_workload(target, workdir, 'c_globals.py', args=[workdir])
    try:
        oracle = w.census()
        assert oracle['file'] == file
        names = _expected_names(oracle, file, values)
        answers = {'names': names, 'oracle': oracle}
        for mode in MODES:
            src = harness.source_args(w, mode) + target.cli_args
            r = harness.run_probe(src + ['--json', 'leaks'])
            assert r.returncode == 0, r.stderr
            answers[mode] = {'leaks': json.loads(r.stdout), 'backrefs': []}
            # live, one global (the static in .bss) is enough: the names are the same,
            # and each backrefs is a gdb of its own (the test's time)
            for g in oracle['globals'] if mode == 'core' else oracle['globals'][1:2]:
                r = harness.run_probe(src + ['--json', 'backrefs', '0x%x' % g['address']])
                assert r.returncode == 0, r.stderr
                answers[mode]['backrefs'].append(json.loads(r.stdout))
            if mode == 'core':
                w.discard_core()
        answers['static_words'] = _static_words(w.pid)
        yield answers
    finally:
        w.discard_core()
        w.kill()


@pytest.mark.parametrize('mode', MODES)
def test_held_by_c_named(probed, mode):
    held = {o['address']: o for o in probed[mode]['leaks']['held_by_c']}
    for g, name in zip(probed['oracle']['globals'], probed['names']):
        assert g['address'] in held, (name, g)
        assert held[g['address']]['where'] == name
        assert held[g['address']]['global'] == g['word']
        assert held[g['address']]['type'].rsplit('.', 1)[-1] == g['type']


@pytest.mark.parametrize('mode', MODES)
def test_only_true_leaks_leaked(probed, mode):
    l = probed[mode]['leaks']
    from_c = {g['address'] for g in probed['oracle']['globals']} | set(probed['oracle']['tags'])
    grouped = {}
    for key in ('leaked', 'kept', 'garbage'):
        for r in l[key]['rows']:
            for a in r['samples']:
                grouped[a] = key
    for a in from_c:
        assert a not in grouped, (hex(a), grouped[a])
    leaked_kinds = {r['kind'] for r in l['leaked']['rows']}
    assert '__main__.PhCLeak' in leaked_kinds and 'bytes' in leaked_kinds, leaked_kinds
    row = [r for r in l['leaked']['rows'] if r['kind'] == '__main__.PhCLeak'][0]
    assert row['count'] == 1 and row['samples'][0] == probed['oracle']['leaked'][0]['address']
    # nothing called leaked is held by static data (the process's own words, read here)
    statics = probed['static_words']
    held_static = [(r['kind'], hex(a)) for r in l['leaked']['rows'] for a in r['samples']
                   if a and a in statics]
    assert not held_static, held_static


@pytest.mark.parametrize('mode', MODES)
def test_backrefs_starts_at_the_global(probed, mode):
    pairs = list(zip(probed['oracle']['globals'], probed['names']))
    if mode == 'live':
        pairs = pairs[1:2]
    assert len(pairs) == len(probed[mode]['backrefs'])
    for (g, name), b in zip(pairs, probed[mode]['backrefs']):
        assert b['reachable'] and b['chains'], b
        first = b['chains'][0][-1]
        assert first.get('root') == 'static', first
        assert first['edge'] == 'C global ' + name
        assert b['paths'][0] == '<C global %s>' % name
