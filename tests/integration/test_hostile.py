"""Hostile input: cores whose writable memory has been scribbled over.

For every target, a core of the small samples.py workload is copied K times;
in each copy about 2000 random 8-byte aligned words inside the writable
PT_LOAD segments are overwritten (seeded, so every run corrupts the same
words) with random 64-bit values, small ints, pointers into the same segment,
0 and 0xffffffffffffffff. Every command must then end by itself with exit 0
or 1 (never a signal, never 3, the internal-error status), print nothing or
valid output (JSON that parses for --json) and at most one stderr line, which
starts with "probe-heap: ", and never a traceback.

A corrupted core that fails is kept under /tmp/hostile-failures/ (with a
.txt beside it saying what failed). The skipped counts `info` reports are
printed (pytest -s) and written to /tmp/hostile-failures/skipped-<target>.json.
"""

import json
import os
import random
import re
import shutil
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness

K = 3                   # corrupted copies per target
WORDS = 2000            # words overwritten per copy
TIME_LIMIT = 60         # seconds per run
FAILURES = '/tmp/hostile-failures'

COMMANDS = [
    ['info'],
    ['--json', 'partition', '--by', 'type'],
    ['partition'],
    ['sizeof', '__main__:KEEP'],
    ['dominators', '--limit', '3'],
    ['backrefs', '__main__:KEEP', '--all', '3'],
    ['partition', '--by', 'via'],
    ['leaks'],
    ['--json', 'alloc'],
]

PT_LOAD = 1
PF_W = 2


def writable_segments(path):
    """[(file offset, filesz, vaddr, memsz)] of the core's writable PT_LOADs
    with file contents."""
    with open(path, 'rb') as f:
        ehdr = f.read(64)
        assert ehdr[:4] == b'\x7fELF' and ehdr[4] == 2 and ehdr[5] == 1, path
        phoff, = struct.unpack_from('<Q', ehdr, 0x20)
        phentsize, phnum = struct.unpack_from('<HH', ehdr, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    segs = []
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = struct.unpack_from(
            '<IIQQQQQQ', table, i * phentsize)
        if p_type == PT_LOAD and p_flags & PF_W and p_filesz >= 8:
            segs.append((p_offset, p_filesz, p_vaddr, p_memsz))
    return segs


def corrupt(src, dst, seed, words=WORDS):
    """Copy src to dst and overwrite `words` aligned words in writable
    segments (segments picked by size). Returns the list of (offset, value)."""
    rng = random.Random(seed)
    segs = writable_segments(src)
    assert segs, 'no writable PT_LOAD segments in ' + src
    shutil.copyfile(src, dst)
    weights = [s[1] for s in segs]
    changes = []
    with open(dst, 'r+b') as f:
        for _ in range(words):
            off, filesz, vaddr, memsz = rng.choices(segs, weights)[0]
            word = rng.randrange(filesz // 8) * 8
            kind = rng.randrange(5)
            if kind == 0:
                value = rng.getrandbits(64)
            elif kind == 1:
                value = rng.randrange(-16, 257) & 0xffffffffffffffff
            elif kind == 2:
                value = vaddr + rng.randrange(memsz // 8) * 8 + rng.choice((0, 0, 0, 1, 4))
            elif kind == 3:
                value = 0
            else:
                value = 0xffffffffffffffff
            f.seek(off + word)
            f.write(struct.pack('<Q', value))
            changes.append((off + word, value))
    return changes


def check(res, command):
    """The problems with one run (an empty list when it behaved)."""
    problems = []
    if res.timed_out:
        return ['no answer within %ss' % TIME_LIMIT]
    rc = res.returncode
    if rc < 0:
        problems.append('killed by signal %d' % -rc)
    elif rc == 3:
        problems.append('internal error (exit 3)')
    elif rc not in (0, 1):
        problems.append('exit status %d' % rc)
    if 'Traceback' in res.stdout or 'Traceback' in res.stderr:
        problems.append('a traceback')
    err = res.stderr.rstrip('\n')
    if err:
        if '\n' in err:
            problems.append('more than one stderr line')
        if not err.startswith('probe-heap: '):
            problems.append('stderr does not start with "probe-heap: "')
    if rc == 1 and not err:
        problems.append('exit 1 with nothing on stderr')
    if rc == 0 and '--json' in command:
        try:
            doc = json.loads(res.stdout)
        except ValueError as e:
            problems.append('stdout is not JSON (%s)' % e)
        else:
            # answers on a damaged heap say they are partial, and how much was skipped
            if 'skipped' not in doc or 'partial' not in doc:
                problems.append('JSON without "skipped" and "partial"')
            elif doc['partial'] != bool(doc['skipped']) and not doc['partial']:
                problems.append('skipped %d but not marked partial' % doc['skipped'])
    if rc == 0 and '--json' not in command and not res.stdout.strip():
        problems.append('exit 0 with nothing on stdout')
    return problems


SKIPPED = re.compile(r'^Skipped:\s+(\d+)', re.M)
OBJECTS = re.compile(r'^Objects:\s+(\d+) objects', re.M)


@pytest.mark.parametrize('target', harness.all_targets(), ids=lambda t: t.label)
def test_corrupted_cores(target, tmp_path):
    harness.require(target)
    workdir = str(tmp_path)
    w = harness.start_workload(target, workdir, 'samples.py')
    try:
        core = w.gcore()
    finally:
        w.kill()
    cores = []
    for k in range(K):
        dst = os.path.join(workdir, 'corrupt-%s-%d.core' % (target.label, k))
        corrupt(core, dst, seed='%s/%d' % (target.label, k))
        cores.append(dst)

    jobs = [(c, cmd) for c in cores for cmd in COMMANDS]

    def run(job):
        c, cmd = job
        args = ['--core', c, '--exe', target.python] + target.cli_args + cmd
        return job, harness.run_probe(args, timeout=TIME_LIMIT)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, jobs))

    failures = []
    skipped = {}
    for (c, cmd), res in results:
        problems = check(res, cmd)
        if cmd == ['info'] and res.returncode == 0:
            m, o = SKIPPED.search(res.stdout), OBJECTS.search(res.stdout)
            skipped[os.path.basename(c)] = {
                'skipped': int(m.group(1)) if m else None,
                'objects': int(o.group(1)) if o else None}
            print('%s: info: skipped %s, objects %s' % (
                os.path.basename(c), m.group(1) if m else '(no Skipped line)',
                o.group(1) if o else '?'))
            if not m:
                problems.append('info does not say how much was skipped')
        elif cmd == ['info']:
            skipped[os.path.basename(c)] = {'error': res.stderr.strip()}
            print('%s: info failed: %s' % (os.path.basename(c), res.stderr.strip()))
        if problems:
            failures.append((c, cmd, problems, res))

    os.makedirs(FAILURES, exist_ok=True)
    with open(os.path.join(FAILURES, 'skipped-%s.json' % target.label), 'w') as f:
        json.dump(skipped, f, indent=1, sort_keys=True)
    if failures:
        report = []
        for c, cmd, problems, res in failures:
            kept = os.path.join(FAILURES, os.path.basename(c))
            if not os.path.exists(kept):
                shutil.copyfile(c, kept)
            text = '%s: %s\n%s\n' % (' '.join(cmd), '; '.join(problems),
                                     res.describe().replace(c, kept))
            with open(kept + '.txt', 'a') as f:
                f.write(text + '\n')
            report.append(text)
        pytest.fail('%d of %d runs misbehaved on corrupted cores of %s:\n\n%s'
                    % (len(failures), len(jobs), target.label, '\n'.join(report)))


def test_library_name_that_is_not_utf8(tmp_path):
    """A core whose link map names a shared library with bytes that are not
    UTF-8 (every copy of libc's path in writable memory gets a 0xff): gdb
    only warns that it cannot load that library's symbols, the heap is
    intact, so probe-heap must analyse it (or, at worst, refuse in a sentence
    of its own, not a raw Python codec error)."""
    target = next((t for t in harness.all_targets() if t.available), None)
    if target is None:
        harness.require(harness.all_targets()[0])
    w = harness.start_workload(target, str(tmp_path), 'samples.py')
    try:
        core = w.gcore()
    finally:
        w.kill()
    dst = os.path.join(str(tmp_path), 'libname.core')
    shutil.copyfile(core, dst)
    needle = b'libc.so.6\0'
    hits = 0
    with open(dst, 'r+b') as f:
        for off, filesz, _vaddr, _memsz in writable_segments(dst):
            f.seek(off)
            data = f.read(filesz)
            pos = data.find(needle)
            while pos >= 0:
                f.seek(off + pos + 3)          # "lib\xffc.so.6"
                f.write(b'\xff')
                hits += 1
                pos = data.find(needle, pos + 1)
    assert hits, 'no copy of libc.so.6 in writable memory'
    res = harness.run_probe(['--core', dst, '--exe', target.python] + target.cli_args + ['info'],
                            timeout=TIME_LIMIT)
    problems = check(res, ['info'])
    if "codec can't decode" in res.stderr:
        problems.append('a raw Python UnicodeDecodeError message')
    if problems:
        os.makedirs(FAILURES, exist_ok=True)
        kept = os.path.join(FAILURES, 'libname-%s.core' % target.label)
        shutil.copyfile(dst, kept)
        pytest.fail('%s (core kept as %s)\n%s' % ('; '.join(problems), kept, res.describe()))
    assert res.returncode == 0, res.describe()
