"""report FILE (issue 15): the HTML report of a core, loaded in a real
browser (Debian's chromium, headless, driven through the DevTools protocol
by cdp.py).

For a core of workloads/basic.py on three targets, what must hold:

  * the page loads with no console error, no uncaught exception, no error
    in the log, and requests nothing but its own file (it is self-contained);
  * its partition tables hold, row for row, the kinds, counts and sizes of
    `--json partition` (by kind, by type) of the same core;
  * the icicle has a box for each of the roots' biggest dominated objects
    (`--json dominators`), with the retained size that command gives;
  * typing a kind in the search box highlights the boxes of that kind;
  * hovering such a box shows its address, retained and flat size and
    count; a click on it zooms in on it (the page's focus changes);
  * the threads section lists each thread's frames (as `--json threads`),
    and under basic.py's park() frame what its local 'private' keeps
    alive, the retained size `--json sizeof` gives;
  * in gdb, `probe-heap report` and the scripting API's Heap().report()
    write the same data as the command line;
  * the Suspects section is there only when probe-heap finds suspects
    (Heap.suspects), with the suspects of `--json suspects`;
  * with --against a snapshot whose rows were changed, the growth table
    shows exactly those changes;
  * with --against, two cores of workloads/owners.py (caches that grow
    between two stops): the growth by owner rows are those of `diff --by
    owner --json`, the growth by kind rows those of `diff --json`, for a
    snapshot and for the core itself; the grown owners' boxes are red, the
    steady one's grey; a click on a box and on an owner row zooms; a
    screenshot in build/test-artifacts/report-growth.png;
  * a file that cannot be written: one sentence, status 1;
  * a linked list 20000 links long: the tree stops at 100 levels with a
    "(N deeper)" box holding the rest, the numbers still adding up.

A screenshot of the first target's page is written to
build/test-artifacts/report.png (docs/examples/report.png is one).
"""

import json
import os
import re
import subprocess

import pytest

import cdp
import harness

# 3.8: frames are objects (the locals hang under them); 3.11+: they are not
TARGETS = [harness.target_by_label(label) for label in ('pyenv-3.12.1', 'debian-3.11-nosym',
                                                         'pyenv-3.8.18')]
SCREENSHOT_TARGET = 'pyenv-3.12.1'
ARTIFACTS = os.path.join(harness.REPO, 'build', 'test-artifacts')
BIGGEST = 5        # the roots' biggest dominated objects looked for in the icicle


def need_browser():
    why = cdp.available()
    if why is None:
        return
    if harness.in_ci():
        pytest.fail('CI=true and the report cannot be tested in a browser: ' + why)
    pytest.skip(why)


class Reported(object):
    """One target's core, its report, the JSON answers for the same core,
    and a browser with the report loaded."""

    def __init__(self, target, workdir):
        self.target = target
        self.workdir = str(workdir)
        self.workload = harness.start_workload(target, self.workdir)
        self.browser = None
        try:
            self.args = (['--core', self.workload.gcore(), '--exe', target.python]
                         + target.cli_args)
            self.html = os.path.join(self.workdir, 'report.html')
            self.result = harness.run_probe(self.args + ['--json', 'report', self.html])
            self.made = self.result.json()
            self.by_kind = harness.run_probe(self.args + ['--json', 'partition']).json()
            self.by_type = harness.run_probe(self.args + ['--json', 'partition', '--by', 'type']).json()
            self.dominators = harness.run_probe(self.args + ['--json', 'dominators', '--limit',
                                                             str(BIGGEST)]).json()
            self.threads = harness.run_probe(self.args + ['--json', 'threads']).json()
        finally:
            self.workload.kill()

    def open(self):
        if self.browser is None:
            self.browser = cdp.Browser()
            self.browser.open('file://' + self.html)
        return self.browser

    def close(self):
        if self.browser is not None:
            self.browser.close()
        self.workload.discard_core()


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def reported(request, tmp_path_factory):
    harness.require(request.param)
    need_browser()
    r = Reported(request.param, tmp_path_factory.mktemp('report-' + request.param.label))
    yield r
    r.close()


def test_report_is_one_file_that_loads_cleanly(reported):
    made = reported.made
    assert made['file'] == reported.html
    assert made['bytes'] == os.path.getsize(reported.html)
    assert made['objects'] == reported.by_kind['count']   # info's objects: the partition's count
    b = reported.open()
    assert b.errors() == []
    assert b.requests() == ['file://' + reported.html]
    html = open(reported.html, encoding='utf-8').read()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', html), 'the page loads a file'


def table_rows(b, table_id):
    return b.evaluate("""Array.from(document.querySelectorAll('#%s tbody tr')).map(tr => {
        const td = tr.querySelectorAll('td');
        return [tr.dataset.kind, Number(td[1].dataset.value), Number(td[3].dataset.value),
                td[1].textContent, td[3].textContent];
    })""" % table_id)


@pytest.mark.parametrize('by', ['kind', 'type'])
def test_partition_rows_are_the_json_ones(reported, by):
    want = reported.by_kind if by == 'kind' else reported.by_type
    b = reported.open()
    got = table_rows(b, 'by-' + by)
    # every row of `--json partition --by X`, in its order (the report keeps up to 5000)
    assert len(want['rows']) < 5000
    assert [r[:3] for r in got] == [[r['kind'], r['count'], r['size']] for r in want['rows']]
    # the first 30 show; the button under the table shows them all
    visible = "Array.from(document.querySelectorAll('#by-%s tbody tr')).filter(tr => !tr.hidden).length" % by
    assert b.evaluate(visible) == (30 if len(got) > 35 else len(got))
    if len(got) > 35:
        b.evaluate("document.querySelector('#by-%s + button.more').click()" % by)
        assert b.evaluate(visible) == len(got)
    # and the text shown is the same number, grouped by thousands
    for kind, count, size, count_text, size_text in got:
        assert count_text.replace(',', '') == str(count), kind
        assert re.sub(r'[^0-9]', '', size_text) == str(size), kind


def test_icicle_has_the_biggest_owners_with_their_retained_sizes(reported):
    b = reported.open()
    threshold = b.evaluate('window.probeReport.data.threshold')
    total = b.evaluate('window.probeReport.data.tree.r')
    assert total == reported.dominators['retained']
    wanted = [c for c in reported.dominators['children'] if c['retained'] >= threshold]
    assert wanted, 'no object of the roots keeps more than the fold threshold'
    for c in wanted:
        box = b.evaluate("""(() => { const g = document.querySelector('g.node[data-address="0x%x"]');
            return g && [Number(g.dataset.retained), g.dataset.kind,
                         g.querySelector('rect').getBoundingClientRect().width]; })()""" % c['address'])
        assert box is not None, 'no box for 0x%x (%s)' % (c['address'], c['kind'])
        assert box[0] == c['retained'] and box[1] == c['kind']
        assert box[2] > 0


def test_search_highlights_a_kind(reported):
    b = reported.open()
    kind = reported.dominators['children'][0]['kind']
    b.send('Runtime.evaluate', expression="document.getElementById('search').focus()")
    b.send('Input.insertText', text=kind)
    boxes = b.evaluate("""Array.from(document.querySelectorAll('g.node')).map(g =>
        [g.dataset.kind, g.classList.contains('hit'), g.classList.contains('dim')])""")
    # every box of the kind is highlighted (others may be too: their label or preview says it)
    assert any(k == kind for k, hit, dim in boxes)
    assert all(hit and not dim for k, hit, dim in boxes if k == kind)
    assert all(dim for k, hit, dim in boxes if not hit)
    assert b.evaluate("document.getElementById('search-result').textContent").startswith(
        '%d boxes match' % b.evaluate(
            "window.probeReport.root.descendants().filter(d => [d.data.k, d.data.t, d.data.e, d.data.p, "
            "d.data.a].some(s => s && s.toLowerCase().includes(%s))).length" % json.dumps(kind.lower())))
    b.evaluate("(() => { const s = document.getElementById('search'); s.value = '';"
               " s.dispatchEvent(new Event('input')); })()")
    assert b.evaluate("document.querySelectorAll('g.node.hit, g.node.dim').length") == 0


def test_click_on_a_box_zooms_in(reported):
    b = reported.open()
    biggest = reported.dominators['children'][0]
    addr = '0x%x' % biggest['address']
    assert b.evaluate('window.probeReport.focus()') == ''
    if reported.target.label == SCREENSHOT_TARGET:
        b.screenshot(os.path.join(ARTIFACTS, 'report.png'))
    rect = b.evaluate("""(() => { const r = document.querySelector('g.node[data-address="%s"] rect');
        r.scrollIntoView({block: 'center'}); const b = r.getBoundingClientRect();
        return [b.x + Math.min(b.width / 2, 40), b.y + b.height / 2,
                document.querySelector('#icicle-svg').getBoundingClientRect().width]; })()""" % addr)
    # hover: the tooltip gives its address, retained and flat size, count
    b.send('Input.dispatchMouseEvent', type='mouseMoved', x=rect[0], y=rect[1])
    tip = b.evaluate("document.getElementById('tooltip').hidden ? null : document.getElementById('tooltip').textContent")
    assert tip is not None
    for text in (addr, 'retained {:,} bytes'.format(biggest['retained']),
                 'in {:,} objects'.format(biggest['retained_count']), 'flat {:,} bytes'.format(biggest['flat'])):
        assert text in tip, (text, tip)
    b.click(rect[0], rect[1])
    assert b.evaluate('window.probeReport.focus()') == addr
    assert b.evaluate("document.querySelector('#icicle-svg').dataset.focus") == addr
    # zoomed, the box spans the whole width
    width = b.evaluate("""document.querySelector('g.node[data-address="%s"] rect')
        .getBoundingClientRect().width""" % addr)
    assert width >= rect[2] - 2
    if reported.target.label == SCREENSHOT_TARGET:
        b.screenshot(os.path.join(ARTIFACTS, 'report-zoomed.png'))
    b.evaluate("document.getElementById('reset').click()")
    assert b.evaluate('window.probeReport.focus()') == ''
    assert b.errors() == []


def test_threads_with_what_their_frames_keep_alive(reported):
    b = reported.open()
    shown = b.evaluate("""Array.from(document.querySelectorAll('#thread-list .thread')).map(t =>
        [t.dataset.thread, Array.from(t.querySelectorAll('ol > li')).map(li => li.firstChild.textContent)])""")
    want = [['0x%x' % t['thread_id'], ['%s  %s:%s' % (f['function'], f['file'],
                                                       '?' if f['line'] is None else f['line'])
                                        for f in t['frames']]] for t in reported.threads['threads']]
    assert shown == want
    held = b.evaluate("""Array.from(document.querySelectorAll('#thread-list ol > li')).filter(li =>
        li.firstChild.textContent.startsWith('park ')).map(li =>
        Array.from(li.querySelectorAll('ul.holds > li')).map(h =>
            [h.textContent.split(' keeps ')[0], h.dataset.address, Number(h.dataset.retained)]))""")
    assert len(held) == 1, held
    private = [h for h in held[0] if h[0] == "local 'private'"]
    assert len(private) == 1, held
    sizes = harness.run_probe(reported.args + ['--json', 'sizeof', private[0][1]]).json()
    assert sizes['kind'] == 'list' and sizes['retained'] == private[0][2]


def test_suspects_section_only_with_suspects(reported):
    b = reported.open()
    shown = b.evaluate("""Array.from(document.querySelectorAll('#suspect-list .suspect')).map(d =>
        [Number(d.dataset.retained), d.dataset.address || null])""")
    if reported.made['suspects'] is None:
        # this probe-heap has no Heap.suspects: no section at all, not a placeholder
        assert b.evaluate("document.getElementById('suspects').hidden") is True
        assert shown == []
        return
    want = harness.run_probe(reported.args + ['--json', 'suspects', '--limit', '100000']).json()
    assert b.evaluate("document.getElementById('suspects').hidden") is False
    assert shown == [[s['retained'], '0x%x' % s['address'] if s['what'] == 'object' else None]
                     for s in want['suspects']]
    assert reported.made['suspects'] == len(want['suspects'])


def test_against_a_snapshot_shows_the_growth(reported):
    snap = os.path.join(reported.workdir, 'before.phsnap')
    harness.run_probe(reported.args + ['snapshot', snap]).expect_ok()
    with open(snap) as f:
        doc = json.load(f)
    # make the snapshot say the biggest kind had 10 objects and 1000 bytes fewer
    kind, count, size = doc['by_kind'][0]
    doc['by_kind'][0] = [kind, count - 10, size - 1000]
    doc['count'] -= 10
    doc['size'] -= 1000
    with open(snap, 'w') as f:
        json.dump(doc, f)
    html = os.path.join(reported.workdir, 'against.html')
    harness.run_probe(reported.args + ['report', html, '--against', snap]).expect_ok()
    with cdp.Browser() as b:
        b.open('file://' + html)
        assert b.errors() == []
        rows = b.evaluate("""Array.from(document.querySelectorAll('#growth-table tbody tr')).map(tr =>
            [tr.dataset.kind].concat(Array.from(tr.querySelectorAll('td[data-value]'))
                                     .map(td => Number(td.dataset.value))))""")
        # kind, count, count change, size, size change: diff's numbers
        assert rows == [[kind, count, 10, size, 1000]]
        assert b.evaluate("document.getElementById('growth').hidden") is False
        # the same core: no retainer path changed, and the icicle is coloured by owner
        assert b.evaluate("document.querySelectorAll('#growth-owner-table tbody tr').length") == 0
        assert b.evaluate("document.getElementById('colour-owner').checked") is True


def test_report_to_a_file_that_cannot_be_written(reported):
    r = harness.run_probe(reported.args + ['report', '/nonexistent-dir/heap.html'])
    assert r.returncode == 1, r.describe()
    assert r.stdout == ''
    assert r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.describe()
    assert r.stderr.startswith('probe-heap: cannot write the report /nonexistent-dir/heap.html')


def page_data(path):
    """The data a report carries (its JSON), without the time it took."""
    with open(path, encoding='utf-8') as f:
        m = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', f.read(), re.S)
    doc = json.loads(m.group(1))
    del doc['seconds']
    return doc


def test_gdb_command_and_scripting_api_write_the_same_report(reported):
    by_command = os.path.join(reported.workdir, 'gdb-command.html')
    by_api = os.path.join(reported.workdir, 'gdb-api.html')
    gdb = (['gdb', '-nx', '-q', '-batch', '-iex', 'set debuginfod enabled off',
            '-iex', 'set auto-load python-scripts off'] + harness.gdb_args(reported.target)
           + ['-x', os.path.join(harness.REPO, 'gdbinit'), reported.target.python,
              reported.workload.gcore(), '-ex', 'probe-heap report ' + by_command,
              '-ex', 'python import probeheap; print("api wrote", probeheap.Heap().report(%r))' % by_api])
    r = subprocess.run(gdb, capture_output=True, text=True, timeout=harness.PROBE_TIMEOUT)
    assert 'wrote %s (' % by_command in r.stdout, r.stdout + r.stderr
    assert 'api wrote %d' % os.path.getsize(by_api) in r.stdout, r.stdout + r.stderr
    cli = page_data(reported.html)
    assert page_data(by_command) == cli
    assert page_data(by_api) == cli


def test_report_against_a_file_that_is_no_snapshot(reported):
    bad = os.path.join(reported.workdir, 'not-a-snapshot.json')
    with open(bad, 'w') as f:
        f.write('{"hello": 1}')
    out = os.path.join(reported.workdir, 'never.html')
    for against, says in ((bad, '%s is not a probe-heap snapshot' % bad),
                          (bad + '.missing', 'cannot read the snapshot %s.missing' % bad)):
        r = harness.run_probe(reported.args + ['report', out, '--against', against])
        assert r.returncode == 1, r.describe()
        assert r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.describe()
        assert r.stderr.startswith('probe-heap: ' + says), r.describe()
        assert not os.path.exists(out)


LINKED_LIST = """
import os, signal
class Link:
    def __init__(self, nxt):
        self.nxt = nxt
        self.pad = bytearray(200)
head = None
for i in range(20000):
    head = Link(head)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def test_a_long_chain_is_cut_at_100_levels(tmp_path):
    target = TARGETS[0]
    harness.require(target)
    p = harness.start_stopped_python(target.python, str(tmp_path), 'chain', LINKED_LIST)
    try:
        args = ['--core', p.gcore(), '--exe', target.python] + target.cli_args
    finally:
        p.kill()
    try:
        html = str(tmp_path / 'chain.html')
        harness.run_probe(args + ['report', html]).expect_ok()
        doc = page_data(html)
        deepest = None
        stack = [(doc['tree'], 0)]
        while stack:
            node, depth = stack.pop()
            # every box's retained size is its own part and its children's
            assert node['r'] == node['s'] + sum(c['r'] for c in node['c'])
            if node.get('why') == 'deeper':
                deepest = (node, depth)
            stack.extend((c, depth + 1) for c in node['c'])
        assert deepest is not None, 'no "(N deeper)" box'
        assert deepest[1] == 101      # under the 100th level
        assert deepest[0]['n'] > 19000 * 2   # the rest of the chain: links and their bytearrays
    finally:
        p.discard_core()


# --against: two cores of one run of workloads/owners.py (test_suspects.py's
# diff --by owner workload: caches under owners of every sort grow between
# its two stops; STEADY does not)

GROWN = ('__main__:CACHE', '__main__:Registry.store', '<held from outside Python: __main__.Bag>')


class TwoCores(object):
    """The two cores, a snapshot of the first, the reports of the second
    against the snapshot and against the first core, and diff's answers
    for the same pair."""

    def __init__(self, target, workdir):
        import signal
        import time
        self.target, self.workdir = target, workdir
        w = harness.Workload(target, workdir, 'owners.py')
        w.start()
        self.cores = []
        try:
            w.wait_stopped()
            self.cores.append(harness.take_gcore(w.pid, os.path.join(workdir, 'core1')))
            os.kill(w.pid, signal.SIGCONT)
            deadline = time.time() + harness.WORKLOAD_START_TIMEOUT
            while not (os.path.exists(w.census_path + '.2') and harness.proc_state(w.pid) in ('T', 't')):
                if w.popen.poll() is not None or time.time() > deadline:
                    raise harness.WorkloadDied('owners.py did not stop again:\n' + w.stderr())
                time.sleep(0.05)
            self.cores.append(harness.take_gcore(w.pid, os.path.join(workdir, 'core2')))
        finally:
            w.kill()
        try:
            first = ['--core', self.cores[0], '--exe', target.python] + target.cli_args
            self.args = ['--core', self.cores[1], '--exe', target.python] + target.cli_args
            self.snap = os.path.join(workdir, 'core1.phsnap')
            harness.run_probe(first + ['snapshot', self.snap]).expect_ok()
            self.html = os.path.join(workdir, 'growth.html')
            self.html_core = os.path.join(workdir, 'growth-core.html')
            self.made = harness.run_probe(self.args + ['--json', 'report', self.html, '--against', self.snap]).json()
            self.text = harness.run_probe(self.args + ['report', self.html_core, '--against', self.cores[0]])
            # a snapshot written before retainer paths were kept: growth by kind only
            with open(self.snap) as f:
                doc = json.load(f)
            del doc['owners']
            self.old_snap = os.path.join(workdir, 'old.phsnap')
            with open(self.old_snap, 'w') as f:
                json.dump(doc, f)
            self.html_old = os.path.join(workdir, 'growth-old.html')
            harness.run_probe(self.args + ['report', self.html_old, '--against', self.old_snap]).expect_ok()
            self.by_owner = harness.run_probe(self.args + ['--json', 'diff', self.snap, '--by', 'owner']).json()
            self.by_kind = harness.run_probe(self.args + ['--json', 'diff', self.snap]).json()
        except Exception:
            self.close()
            raise

    def close(self):
        for c in self.cores:
            if os.path.exists(c):
                os.unlink(c)


@pytest.fixture(scope='module')
def two_cores(tmp_path_factory):
    target = TARGETS[0]
    harness.require(target)
    need_browser()
    t = TwoCores(target, str(tmp_path_factory.mktemp('report-growth')))
    yield t
    t.close()


def test_against_two_cores_shows_growth_by_owner_and_kind(two_cores):
    t = two_cores
    want_owners = [[r['path'], r['status'], r['retained'], r['size_delta'], r['retained_count'],
                    r['count_delta'], r['same_as']] for r in t.by_owner['owners']]
    want_kinds = [[r['kind'], r['count'], r['count_delta'], r['size'], r['size_delta']] for r in t.by_kind['rows']]
    paths = [r[0] for r in want_owners]
    for p in GROWN:
        assert p in paths, (p, paths)
    assert '__main__:STEADY' not in paths
    # the command's line: diff's growth of the partition
    assert t.made['size_delta'] == t.by_kind['size_delta']
    assert t.text.expect_ok().stdout.endswith('; %+.1f MB since %s\n' % (t.by_kind['size_delta'] / 1e6, t.cores[0]))
    # a report against the core itself carries the same growth as against its snapshot
    a, c = page_data(t.html)['against'], page_data(t.html_core)['against']
    assert c['file'] == t.cores[0] and a['file'] == t.snap
    assert (c['owners'], c['rows'], c['count'], c['size']) == (a['owners'], a['rows'], a['count'], a['size'])
    with cdp.Browser() as b:
        b.open('file://' + t.html)
        assert b.errors() == []
        assert b.requests() == ['file://' + t.html]
        owners = b.evaluate("""Array.from(document.querySelectorAll('#growth-owner-table tbody tr')).map(tr =>
            [tr.dataset.path, tr.dataset.status].concat(Array.from(tr.querySelectorAll('td[data-value]'))
                .map(td => Number(td.dataset.value))).concat([tr.dataset.sameAs || null]))""")
        # path, status, retained, its change, objects, their change, same_as: diff --by owner's
        assert owners == want_owners
        kinds = b.evaluate("""Array.from(document.querySelectorAll('#growth-table tbody tr')).map(tr =>
            [tr.dataset.kind].concat(Array.from(tr.querySelectorAll('td[data-value]'))
                                     .map(td => Number(td.dataset.value))))""")
        assert kinds == want_kinds
        assert b.evaluate("document.getElementById('colour-owner').checked") is True
        # coloured by growth: the grown owners' boxes red, the steady one's grey
        fills = b.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll(
            '#growth-owner-table tbody tr[data-address]')).map(tr => [tr.dataset.path,
            getComputedStyle(document.querySelector('g.node[data-address="' + tr.dataset.address + '"] rect')).fill]))""")
        for p in GROWN:
            r, g, bl = map(int, re.findall(r'\d+', fills[p])[:3])
            assert r > g + 40 and r > bl + 40, (p, fills[p])      # red
        steady = b.evaluate("""(() => { const d = window.probeReport.root.descendants().find(d =>
            d.data.e === "['STEADY']" || d.data.e.endsWith('.STEADY'));
            return d ? getComputedStyle(document.querySelector('g.node[data-id="' + d.id + '"] rect')).fill : null; })()""")
        assert steady == 'rgb(224, 224, 224)', steady
        b.evaluate("document.getElementById('icicle-section').scrollIntoView()")
        b.screenshot(os.path.join(ARTIFACTS, 'report-growth.png'))
        # a click on the CACHE box zooms in on it
        cache = [r for r in owners if r[0] == '__main__:CACHE'][0]
        addr = b.evaluate("""document.querySelector('#growth-owner-table tr[data-path="__main__:CACHE"]')
            .dataset.address""")
        rect = b.evaluate("""(() => { const r = document.querySelector('g.node[data-address="%s"] rect');
            r.scrollIntoView({block: 'center'}); const b = r.getBoundingClientRect();
            return [b.x + Math.min(b.width / 2, 40), b.y + b.height / 2]; })()""" % addr)
        b.click(rect[0], rect[1])
        assert b.evaluate('window.probeReport.focus()') == addr
        assert b.evaluate("Number(document.querySelector('g.node[data-address=\"%s\"]').dataset.retained)"
                          % addr) == cache[2]
        b.evaluate("document.getElementById('reset').click()")
        # a click on an owner row zooms the icicle on its object
        b.evaluate("""document.querySelector('#growth-owner-table tr[data-path="__main__:Registry.store"] td')
            .click()""")
        store = b.evaluate("""document.querySelector('#growth-owner-table tr[data-path="__main__:Registry.store"]')
            .dataset.address""")
        assert b.evaluate('window.probeReport.focus()') == store
        assert b.errors() == []
    # against a snapshot without retainer paths: the kinds' growth, a sentence for the owners'
    old = page_data(t.html_old)['against']
    assert old['owners'] is None and old['rows'] == a['rows']
    with cdp.Browser() as b:
        b.open('file://' + t.html_old)
        assert b.errors() == []
        assert b.evaluate("document.querySelectorAll('#growth-owner-table tbody tr').length") == 0
        assert b.evaluate("document.getElementById('growth-owner-what').textContent").startswith(
            'The snapshot has no retainer paths')
        assert b.evaluate("document.getElementById('colour-growth').checked") is True
        assert b.evaluate("document.getElementById('colour-owner')") is None
