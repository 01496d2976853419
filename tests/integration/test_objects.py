"""objects KIND (counts, sizes, listings, previews, --limit, --min-size) and
partition --by rcs / --by via (issue 4), against the in-process truth of
workloads/backrefs.py (the same workload and the same tool runs as
test_backrefs.py: backrefs_common.probed), on every CPython, core and live.

Exact for the workload's own classes and kinds (their instances are known
in process: count and sys.getsizeof sums); for builtin types, exactly the
tool's own partition row of the same type and within 1% of the census
(census.py, as test_partition.py allows for whole-heap types).
"""

import pytest

import backrefs_common as common
import harness

TARGETS = harness.all_targets()
MODES = common.MODES
MODULE = common.MODULE
CENSUS_TOLERANCE = 0.01


@pytest.fixture(scope='module', params=TARGETS, ids=lambda t: t.label)
def bx(request, tmp_path_factory):
    return common.probed(request.param, tmp_path_factory)


def objects_doc(bx, mode, key):
    """The document of an objects command, and the problems with its form:
    keys, listing order (largest first, then by address), every listed
    object a live object of the type the tool says (checked in process)."""
    doc = bx.result(mode, key)
    probs = []
    for k in ('python', 'kind', 'count', 'size', 'objects'):
        if k not in doc:
            probs.append('no %r in the JSON' % k)
    if probs:
        common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)
    objs = doc['objects']
    for i, o in enumerate(objs):
        for k, typ in (('address', int), ('type', str), ('kind', str), ('size', int),
                       ('preview', str)):
            if not isinstance(o.get(k), typ):
                probs.append('object %d: %r is %r' % (i, k, o.get(k)))
    order = [(-o.get('size', 0), o.get('address', 0)) for o in objs]
    if order != sorted(order):
        probs.append('the objects are not largest first, then by address')
    if len(objs) > doc['count']:
        probs.append('%d objects listed, count %d' % (len(objs), doc['count']))
    for i in range(len(objs)):
        v = bx.verdict('%s|%s|o%d' % (mode, key, i))
        probs += ['object %d (0x%x): %s' % (i, objs[i].get('address') or 0, s)
                  for s in (v if v is not None else ['not checked in process'])]
    return doc, probs


def row(doc, kind):
    for r in doc.get('rows', []):
        if r.get('kind') == kind:
            return r
    return None


def listing_problems(doc, want, what):
    """objects' count, size and addresses against the oracle's."""
    probs = []
    if (doc['count'], doc['size']) != (want['count'], want['size']):
        probs.append('count %d, size %d; in process %d, %d'
                     % (doc['count'], doc['size'], want['count'], want['size']))
    if sorted(o.get('address') for o in doc['objects']) != want['addresses']:
        probs.append('the listed addresses are not those of the %s' % what)
    return probs


@pytest.mark.parametrize('mode', MODES)
def test_objects_of_a_class(bx, mode):
    key = 'objects:node_all'
    doc, probs = objects_doc(bx, mode, key)
    want = bx.oracle['objects'][MODULE + '.Node']
    probs += listing_problems(doc, want, '%d instances' % want['count'])
    objs = doc['objects']
    for o in objs:
        if (o.get('type'), o.get('kind'), o.get('size')) != (MODULE + '.Node', MODULE + '.Node',
                                                            want['each']):
            probs.append('object 0x%x: type %r, kind %r, size %r; expected %s, %s, %d'
                         % (o.get('address') or 0, o.get('type'), o.get('kind'), o.get('size'),
                            MODULE + '.Node', MODULE + '.Node', want['each']))
            break
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


@pytest.mark.parametrize('mode', MODES)
def test_objects_limit(bx, mode):
    key = 'objects:node_limit5'
    doc, probs = objects_doc(bx, mode, key)
    want = bx.oracle['objects'][MODULE + '.Node']
    if (doc['count'], doc['size']) != (want['count'], want['size']):
        probs.append('count %d, size %d with --limit 5; all the instances: %d, %d'
                     % (doc['count'], doc['size'], want['count'], want['size']))
    got = [o.get('address') for o in doc['objects']]
    if got != want['addresses'][:5]:
        probs.append('listed %s; expected the 5 lowest addresses (all the same size) %s'
                     % (['0x%x' % (a or 0) for a in got], ['0x%x' % a for a in want['addresses'][:5]]))
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


@pytest.mark.parametrize('mode', MODES)
def test_objects_min_size(bx, mode):
    probs = []
    doc, p = objects_doc(bx, mode, 'objects:node_min_size')
    probs += p
    if doc['objects']:
        probs.append('Node instances of %d bytes listed with --min-size 100000'
                     % doc['objects'][0].get('size'))
    key = 'objects:bytes_min_size'
    doc, p = objects_doc(bx, mode, key)
    probs += p
    small = [o for o in doc['objects'] if o.get('size', 0) < 100000]
    if small:
        probs.append('%d objects under 100000 bytes listed with --min-size 100000' % len(small))
    by_addr = dict((o.get('address'), o) for o in doc['objects'])
    for name in ('bytes1', 'bytes2'):
        b = bx.oracle['big'][name]
        o = by_addr.get(b['address'])
        if o is None:
            probs.append('the %d-byte bytes object 0x%x is not listed' % (b['size'], b['address']))
            continue
        if o.get('size') != b['size']:
            probs.append('bytes 0x%x: size %r, sys.getsizeof %d' % (b['address'], o.get('size'), b['size']))
        pv = o.get('preview', '')
        head = b['head'][:11]           # 'BIGBYTES-1-'
        if head not in pv or str(b['len']) not in pv:
            probs.append('bytes preview %r: expected its prefix %r and its length %d' % (pv, head, b['len']))
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


@pytest.mark.parametrize('mode', MODES)
def test_objects_of_a_dict_kind(bx, mode):
    """KIND "dict of backrefs_heap.Plain": the __dict__s of the Plain
    instances (made on every version), exactly, and as partition's row."""
    key = 'objects:plain_dicts'
    kind = 'dict of %s.Plain' % MODULE
    doc, probs = objects_doc(bx, mode, key)
    want = bx.oracle['objects'][kind]
    probs += listing_problems(doc, want, 'instance dicts')
    for o in doc['objects']:
        if (o.get('type'), o.get('kind')) != ('dict', kind):
            probs.append('object 0x%x: type %r kind %r' % (o.get('address') or 0, o.get('type'),
                                                          o.get('kind')))
            break
    part = bx.result(mode, 'partition:kind')
    r = row(part, kind)
    if r is None or (r['count'], r['size']) != (doc['count'], doc['size']):
        probs.append('partition --by kind row %r: %r; objects gives %d, %d'
                     % (kind, r and (r['count'], r['size']), doc['count'], doc['size']))
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


@pytest.mark.parametrize('mode', MODES)
def test_objects_of_a_class_with_dicts(bx, mode):
    key = 'objects:plain'
    doc, probs = objects_doc(bx, mode, key)
    want = bx.oracle['objects'][MODULE + '.Plain']
    probs += listing_problems(doc, want, 'instances')
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


def off_by(got, want):
    return abs(got - want) / float(want) if want else float(got != 0)


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('type_name,key', [('str', 'objects:str'), ('module', 'objects:module')])
def test_objects_of_a_builtin_type(bx, mode, type_name, key):
    """count and size: exactly the tool's own partition row, and the
    census's within 1%."""
    doc, probs = objects_doc(bx, mode, key)
    part = bx.result(mode, 'partition:type')
    r = [x for x in part.get('rows', []) if x.get('type') == type_name]
    pc = (sum(x['count'] for x in r), sum(x['size'] for x in r))
    if pc != (doc['count'], doc['size']):
        probs.append('count %d, size %d; partition --by type says %d, %d'
                     % (doc['count'], doc['size'], pc[0], pc[1]))
    cc, cs = bx.census['types'].get(type_name, [0, 0])
    if off_by(doc['count'], cc) > CENSUS_TOLERANCE or off_by(doc['size'], cs) > CENSUS_TOLERANCE:
        probs.append('count %d, size %d; the census %d, %d (more than %d%% off)'
                     % (doc['count'], doc['size'], cc, cs, 100 * CENSUS_TOLERANCE))
    for o in doc['objects']:
        if o.get('type') != type_name:
            probs.append('object 0x%x of type %r listed' % (o.get('address') or 0, o.get('type')))
            break
    if type_name == 'str':
        big = bx.oracle['big']['str']
        if not doc['objects'] or doc['objects'][0].get('address') != big['address']:
            probs.append('the largest str is the %d-character one at 0x%x, listed first %r'
                         % (big['len'], big['address'], doc['objects'][:1]))
        else:
            probs += str_preview_problems(doc['objects'][0].get('preview'), 'BIGSTR-' + 'z' * 100,
                                          big['len'])
    else:
        mod = bx.target_info('module')['address']
        o = [x for x in doc['objects'] if x.get('address') == mod]
        if not o:
            probs.append('the module backrefs_heap (0x%x) is not listed (--limit 1000)' % mod)
        elif MODULE not in o[0].get('preview', ''):
            probs.append('module preview %r does not name it' % o[0].get('preview'))
    common.report(bx, mode, '`%s`' % bx.command(mode, key), probs)


def str_preview_problems(pv, text, length):
    """A long str: quoted, cut to 60 characters, with "..."."""
    probs = []
    if not isinstance(pv, str) or not pv.startswith("'") or '...' not in pv:
        return ['str preview %r: expected the quoted text, cut, with "..."' % (pv,)]
    shown = pv[1:pv.index('...')].rstrip("'")
    if not text.startswith(shown) or not 50 <= len(shown) <= 60:
        probs.append('str preview %r: expected the first (up to) 60 characters of %r...'
                     % (pv, text[:20]))
    if len(pv) > 70:
        probs.append('str preview of %d characters: %r' % (len(pv), pv))
    return probs


@pytest.mark.parametrize('mode', MODES)
def test_previews(bx, mode):
    """Previews of known objects (the referents of backrefs_heap.previews):
    str quoted (cut to 60 with "..."), int and float values, bytes prefix and
    length, "len N" for containers, a function's qualname and file:line, a
    class's and a module's name, an instance's first attributes."""
    key = 'referents:previews'
    doc = bx.result(mode, key)
    links = dict((l.get('address'), l) for l in doc.get('referents', []) if isinstance(l, dict))
    probs = []
    for p in bx.oracle['previews']:
        link = links.get(p['address'])
        if link is None:
            probs.append('the %s 0x%x is not among the referents' % (p['type'], p['address']))
            continue
        pv = link.get('preview')
        if not isinstance(pv, str):
            probs.append('%s: preview %r' % (p['type'], pv))
            continue
        t = p['type']
        if t == 'str' and len(eval(p['repr'])) > 60:
            probs += str_preview_problems(pv, eval(p['repr']), None)
        elif t in ('str', 'int', 'float'):
            if pv != p['repr']:
                probs.append('%s preview %r, expected %r' % (t, pv, p['repr']))
        elif t == 'bytes':
            head = p['repr'][:-1]           # b'PREVIEWBYTES
            if head not in pv or str(p['len']) not in pv:
                probs.append('bytes preview %r: expected the prefix %s and the length %d'
                             % (pv, head, p['len']))
        elif 'len' in p:
            if 'len %d' % p['len'] not in pv:
                probs.append('%s preview %r: expected "len %d"' % (t, pv, p['len']))
        elif 'qualname' in p:
            where = '%s:%d' % (p['file'], p['line'])
            if p['qualname'] not in pv or where not in pv:
                probs.append('function preview %r: expected %r and %r' % (pv, p['qualname'], where))
        elif 'name' in p:
            if p['name'] not in pv:
                probs.append('%s preview %r: expected the name %r' % (t, pv, p['name']))
        elif 'attrs' in p:
            want = ' '.join(p['attrs']) + (' ...' if p['more'] else '')
            if pv != want:
                probs.append('instance preview %r, expected %r' % (pv, want))
    common.report(bx, mode, 'previews (`%s`)' % bx.command(mode, key), probs)


def test_objects_kind_with_spaces_on_the_command_line(bx):
    res = bx.cli_result('objects_kind')
    doc = res.json()
    kind = 'dict of %s.Plain' % MODULE
    want = bx.oracle['objects'][kind]
    probs = []
    if doc.get('kind') != kind:
        probs.append('kind %r' % doc.get('kind'))
    if (doc.get('count'), doc.get('size')) != (want['count'], want['size']):
        probs.append('count %r, size %r; in process %d, %d'
                     % (doc.get('count'), doc.get('size'), want['count'], want['size']))
    if len(doc.get('objects') or []) != 2:
        probs.append('%d objects listed with --limit 2' % len(doc.get('objects') or []))
    if probs:
        pytest.fail('%s:\n  %s\n%s' % (bx.target.label, '\n  '.join(probs), res.describe()),
                    pytrace=False)


# --------------------------------------------------------------------------
# partition --by rcs / via

def _unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in '\'"':
        return s[1:-1]
    return s


def label_set(kind):
    return frozenset(_unquote(x) for x in kind.split(', '))


def partition_problems(bx, mode, by):
    doc = bx.result(mode, 'partition:' + by)
    probs = []
    for k in ('python', 'count', 'size', 'by', 'rows'):
        if k not in doc:
            probs.append('no %r in the JSON' % k)
    if probs:
        return doc, probs
    if doc['by'] != by:
        probs.append('"by" is %r' % doc['by'])
    if sum(r.get('count', 0) for r in doc['rows']) != doc['count']:
        probs.append('the rows\' counts add up to %d, not to the total %d'
                     % (sum(r.get('count', 0) for r in doc['rows']), doc['count']))
    if sum(r.get('size', 0) for r in doc['rows']) != doc['size']:
        probs.append('the rows\' sizes add up to %d, not to the total %d'
                     % (sum(r.get('size', 0) for r in doc['rows']), doc['size']))
    base = bx.result(mode, 'partition:type')
    if (doc['count'], doc['size']) != (base.get('count'), base.get('size')):
        probs.append('total %d objects, %d bytes; partition --by type: %d, %d'
                     % (doc['count'], doc['size'], base.get('count'), base.get('size')))
    return doc, probs


def marker_problems(doc, markers, by, names):
    probs = []
    sets = {}
    for r in doc.get('rows', []):
        sets.setdefault(label_set(r.get('kind', '')), []).append(r)
    for name in names:
        m = markers[name]
        want = frozenset(m[by])
        rows = sets.get(want, [])
        c = sum(r['count'] for r in rows)
        s = sum(r['size'] for r in rows)
        if c < m['count'] or s < m['size']:
            near = [r.get('kind') for r in doc.get('rows', [])
                    if any(x.split('.')[-1] in r.get('kind', '') for x in m[by])][:8]
            probs.append('%s: the row of %s holds %d objects, %d bytes; at least %d objects, %d '
                         'bytes are classed so in process (rows naming them: %s)'
                         % (name, sorted(want), c, s, m['count'], m['size'], near))
    return probs


@pytest.mark.parametrize('mode', MODES)
def test_partition_by_rcs(bx, mode):
    """37 RcsMarker instances referenced only by one RcsBag (a list
    subclass): class "backrefs_heap.RcsBag"; 23 Rcs2Marker instances each
    referenced by one list and by an RcsOwner (by its __dict__ where it has
    one): class "dict of backrefs_heap.RcsOwner, list" (or
    "backrefs_heap.RcsOwner, list")."""
    doc, probs = partition_problems(bx, mode, 'rcs')
    probs += marker_problems(doc, bx.oracle['markers'], 'rcs', ('rcs_bag', 'rcs_list2'))
    if not any('<root>' in label_set(r.get('kind', '')) for r in doc.get('rows', [])):
        probs.append('no row names "<root>" among the referrers (the objects the roots refer '
                     'to, such as sys.modules, have it)')
    common.report(bx, mode, 'partition --by rcs', probs)


@pytest.mark.parametrize('mode', MODES)
def test_partition_by_via(bx, mode):
    """29 ViaMarker instances referenced only through the slot .via_slot;
    31 ViaKeyMarker instances only as the value of key 'via_key'."""
    doc, probs = partition_problems(bx, mode, 'via')
    probs += marker_problems(doc, bx.oracle['markers'], 'via', ('via_slot', 'via_key'))
    common.report(bx, mode, 'partition --by via', probs)
