"""C types that keep their items outside their struct (issue 13), against
the in-process truth of workloads/services.py, on every target CPython,
live and from a core: a deque of 10,000 items, a queue.Queue of 6,000
dicts, an asyncio.Queue, an array.array, io.BytesIO and io.StringIO.

- the referents of each deque are its items, each labelled [i] in order
  (the ids recorded in process); a functools.partial's are .func, .args
  and .keywords, a defaultdict's .default_factory, none found by a scan;
- their flat sizes are sys.getsizeof in the target, not estimates;
- partition --by type agrees with the census (census.py follows deque
  items through gc.get_referents, and BytesIO's and StringIO's buffers);
- leaks lists none of the queue's dicts nor the deque's items, and backrefs
  of a queued dict goes through the Queue's deque, at its index;
- deep size of a function and of a generator equals asizeof's rule in
  process: their module's namespace and the builtins are not entered;
- the walk of this healthy heap skips nothing, nor that of a process
  stopped inside list.sort (workloads/sorting.py)."""

import pytest

import harness
from test_partition import compare_with_census

MODES = ["live", "core"]
TARGETS = harness.all_targets()
EXACT = ("deque", "queue deque", "asyncio queue deque", "array", "bytesio", "stringio", "partial",
         "defaultdict")


class Probed(object):
    def __init__(self, target, workdir):
        self.target, self.workdir, self.error = target, workdir, None
        self.answers = {}

    def run(self):
        import os
        for mode in MODES:
            d = os.path.join(self.workdir, mode)
            os.makedirs(d)
            self.answers[mode] = harness.ask_in_gdb(self.target, mode, "services.py",
                                                    "ask_services.py", d, timeout=600)


_runs = harness.Runs(lambda target, workdir: Probed(target, workdir), "services")


@pytest.fixture
def answer(request, tmp_path_factory):
    target, mode = request.param
    job = _runs.get(target, [t for t in TARGETS if t.available], tmp_path_factory)
    return job.answers[mode]


PARAMS = [pytest.param((t, m), id="%s-%s" % (t.label, m)) for t in TARGETS for m in MODES]


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_deque_referents_are_its_items(answer):
    doc, got = answer
    want = doc["workload"]["deque_items"]
    links = [l for l in got["referents"]["deque"] if l["edge_kind"] == "index"]
    items = {}
    for l in links:
        items[l["edge"]] = hex(l["address"])
    missing = [i for i, a in enumerate(want) if items.get("[%d]" % i) != a]
    assert not missing, "%d of %d items missing or misplaced, first: [%d] %s, tool %s" % (
        len(missing), len(want), missing[0], want[missing[0]], items.get("[%d]" % missing[0]))
    assert len(links) == len(want)
    assert not any(l["conservative"] for l in got["referents"]["deque"])
    for label in ("queue deque", "asyncio queue deque"):
        n = len([l for l in got["referents"][label] if l["edge_kind"] == "index"])
        assert n == {"queue deque": 6000, "asyncio queue deque": 500}[label], label


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_fields_of_partial_and_defaultdict(answer):
    doc, got = answer
    wrong = []
    for label, fields in sorted(doc["workload"]["fields"].items()):
        links = got["referents"][label]
        have = dict((l["edge"], hex(l["address"])) for l in links)
        for edge, addr in sorted(fields.items()):
            if have.get(edge) != addr:
                wrong.append("%s: %s is %s, tool %s" % (label, edge, addr, have.get(edge)))
        wrong += ["%s: conservative link %s" % (label, l["edge"]) for l in links if l["conservative"]]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_flat_sizes_are_getsizeof(answer):
    doc, got = answer
    wrong = []
    for label in EXACT:
        size, o = doc["workload"]["getsizeof"][label], got["objects"][label]
        if o is None or o["estimate"] or o["flat"] != size:
            wrong.append("%-20s getsizeof %d, tool %r" % (label, size, o))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_partition_agrees_with_census(answer):
    doc, got = answer
    problems, table = compare_with_census(doc, got["partition"])
    assert not problems, "\n".join(problems) + "\n\n" + table


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_leaks_lists_no_queued_item(answer):
    doc, got = answer
    leaked = set()
    for row in got["leaks"]["leaked"]["rows"]:
        leaked.update(hex(a) for a in row["addresses"])
    for key in ("queue_dicts", "deque_items"):
        wrong = leaked & set(doc["workload"][key])
        assert not wrong, "%d of %s called leaked" % (len(wrong), key)


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_backrefs_of_a_queued_dict(answer):
    doc, got = answer
    b = got["backrefs"]
    assert b["paths"] and b["paths"][0].endswith("WORK.queue[3000]"), b["paths"]
    chain = b["chains"][0]
    assert hex(chain[-1]["address"]) == doc["workload"]["queue_dicts"][3000]
    assert chain[-2]["type"] == "collections.deque" and chain[-1]["edge"] == "[3000]", chain[-2:]
    assert not any(l["conservative"] for l in chain)


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_deep_size_stops_at_globals(answer):
    doc, got = answer
    wrong = []
    for label, (size, count) in doc["workload"]["deep"].items():
        s = got["sizes"][label]
        # as test_sizes: 1% for deep sizes
        if abs(s["deep"] - size) > max(1, size // 100) or abs(s["deep_count"] - count) > max(1, count // 100):
            wrong.append("%s: in process deep %d (%d objects), probe-heap %d (%d)" % (
                label, size, count, s["deep"], s["deep_count"]))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_healthy_heap_skips_nothing(answer):
    doc, got = answer
    assert got["info"]["skipped"] == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.label)
def test_list_being_sorted_is_not_damage(target, mode, tmp_path):
    """A process stopped inside list.sort (workloads/sorting.py) is healthy:
    the list's items are out of it meanwhile, and nothing is skipped."""
    harness.require(target)
    doc, info = harness.ask_in_gdb(target, mode, "sorting.py", "ask_info.py", str(tmp_path))
    assert info["skipped"] == 0, info


@pytest.mark.parametrize("answer", PARAMS, indirect=True)
def test_healthy_heap_leaks_nothing(answer):
    """services.py leaks nothing: every object whose reference count the heap
    does not explain is held by C (a global, an interpreter's or a thread's
    state, a thread's C stack, the parser's arena of __main__), not leaked.
    CPython 3.8 leaks one thing itself: the first _warnings module
    (_PyWarnings_Init's, made before sys.modules, its reference dropped
    nowhere; 3.9 fixed it), with its name, which its dict keeps."""
    doc, got = answer
    rows = got["leaks"]["leaked"]["rows"]
    previews = got["leaked_previews"]
    if doc["version"].startswith("3.8."):
        rows = [r for r in rows
                if not (r["kind"] in ("module", "str") and r["count"] == 1 and
                        previews[hex(r["addresses"][0])] in ("_warnings", "'_warnings'"))]
    assert not rows, "\n".join("%d %s e.g. %s %s" % (r["count"], r["kind"], hex(r["addresses"][0]),
                                                     previews.get(hex(r["addresses"][0])))
                               for r in rows)
