"""The allocator walk (probe-heap alloc, Heap.alloc()) against the target
allocator's own account of itself at the same moment, on every CPython,
live and from a core.

The workload (workloads/alloc.py) stops itself; probe-heap reads the live
process, gcore takes a core; then the workload is continued and, before
anything else runs, prints sys._debugmallocstats() and
sys.getallocatedblocks().  Those are the oracle:

  * every size class: pools in use, blocks in use, available blocks;
  * arenas, the arena and pool sizes, unused pools, the byte accounts
    (allocated, available, pool headers, quantization, alignment) and on
    3.12+ the arena map's nodes;
  * sys.getallocatedblocks() = pymalloc blocks in use + object blocks that
    came from malloc (raw_allocated_blocks: read by the walk on 3.12+, from
    gdb's symbols on 3.9-3.11; 3.8 keeps the total itself, _Py_AllocatedBlocks);
  * on 3.8-3.11 the walk finds the file static `arenas` by searching; where
    gdb has symbols, it names the same address;
  * the workload's own types on both sides of the 512-byte threshold: the
    big ones are exactly the objects from malloc of their type (count and
    sys.getsizeof in process), the small ones are in blocks;
  * the writable memory of the core (readelf's PT_LOADs) or of the process
    (/proc/PID/maps).
"""

import json
import os
import re
import signal
import subprocess

import pytest

import harness

N = 3000  # instances of each sample type


def parse_debugmallocstats(text):
    """The numbers of sys._debugmallocstats()'s pymalloc part."""
    out = {"classes": {}}
    for m in re.finditer(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", text, re.M):
        out["classes"][int(m.group(1))] = {"size": int(m.group(2)), "pools": int(m.group(3)),
                                           "blocks_used": int(m.group(4)),
                                           "blocks_free": int(m.group(5))}

    def num(label):
        m = re.search(r"^# %s\s*=\s*([\d,]+)$" % re.escape(label), text, re.M)
        return int(m.group(1).replace(",", "")) if m else None

    out["arenas"] = num("arenas allocated current")
    out["bytes_used"] = num("bytes in allocated blocks")
    out["bytes_free"] = num("bytes in available blocks")
    out["pool_header_bytes"] = num("bytes lost to pool headers")
    out["quantization_bytes"] = num("bytes lost to quantization")
    out["alignment_bytes"] = num("bytes lost to arena alignment")
    mid, bot = num("bytes lost to arena map mid"), num("bytes lost to arena map bot")
    out["map_bytes"] = None if mid is None else mid + bot
    m = re.search(r"^(\d+) arenas \* (\d+) bytes/arena", text, re.M)
    out["arena_size"] = int(m.group(2))
    m = re.search(r"^(\d+) unused pools \* (\d+) bytes", text, re.M)
    out["pools_unused"], out["pool_size"] = int(m.group(1)), int(m.group(2))
    return out


def core_writable(path):
    """Sum of the writable PT_LOADs' sizes in memory, as readelf shows them."""
    r = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True)
    total = 0
    for line in r.stdout.splitlines():
        t = line.split()
        if t and t[0] == "LOAD" and "W" in "".join(t[6:-1]):
            total += int(t[5], 16)
    return total


def process_writable(pid):
    total = 0
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            rng, perms = line.split()[:2]
            if perms[1] == "w":
                lo, hi = (int(x, 16) for x in rng.split("-"))
                total += hi - lo
    return total


def run_gdb(target, where, out_path):
    gdb = ["gdb", "-nx", "-q", "-batch", "-iex", "set debuginfod enabled off",
           "-iex", "set auto-load python-scripts off"] + harness.gdb_args(target) + where
    env = dict(os.environ, PH_OUT=out_path)
    r = subprocess.run(gdb + ["-x", os.path.join(harness.REPO, "gdbinit"),
                              "-x", os.path.join(harness.HERE, "ask_alloc.py")],
                       env=env, capture_output=True, text=True, timeout=300)
    if not os.path.exists(out_path):
        raise AssertionError("ask_alloc.py wrote nothing:\n%s%s" % (r.stdout[-3000:], r.stderr[-3000:]))
    with open(out_path) as f:
        return json.load(f)


# pymalloc's arenas: a free-threaded build allocates with mimalloc, whose
# segments and pages test_free_threaded.py checks against an in-process count.
ALLOC_TARGETS = [pytest.param(t, id=t.label, marks=pytest.mark.skip(
                     reason="free-threaded: mimalloc, not pymalloc (test_free_threaded)")
                 if t.free_threaded else ()) for t in harness.all_targets()]


@pytest.fixture(scope="module", params=ALLOC_TARGETS)
def answers(request, tmp_path_factory):
    """One workload per target: the live answer, the core's, and the oracle."""
    target = request.param
    harness.require(target)
    workdir = str(tmp_path_factory.mktemp("alloc-" + target.label))
    w = harness.start_workload(target, workdir, "alloc.py", [str(N)])
    try:
        core = w.gcore()
        got = {"core_writable": core_writable(core)}
        got["live"] = run_gdb(target, ["-p", str(w.pid)], os.path.join(workdir, "live.json"))
        got["live_writable"] = process_writable(w.pid)
        os.kill(w.pid, signal.SIGCONT)
        rc = w.popen.wait(120)
        assert rc == 0, "the workload failed after SIGCONT:\n" + w.stderr()
        got["core"] = run_gdb(target, [target.python, core], os.path.join(workdir, "core.json"))
    finally:
        w.discard_core()
        w.kill()
    with open(w.census_path + ".stats") as f:
        got["stats"] = parse_debugmallocstats(f.read())
    with open(w.census_path + ".blocks") as f:
        got["blocks"] = int(f.read())
    got["workload"] = w.census()
    got["target"] = target
    return got


MODES = ["live", "core"]


@pytest.mark.parametrize("mode", MODES)
def test_size_classes_match_debugmallocstats(answers, mode):
    a, st = answers[mode]["alloc"], answers["stats"]
    assert a["corrupt_pools"] == 0 and a["corrupt_arenas"] == 0
    wrong = []
    for i, c in enumerate(a["classes"]):
        want = st["classes"].get(i, {"size": c["size"], "pools": 0, "blocks_used": 0,
                                     "blocks_free": 0})
        got = {k: c[k] for k in want}
        if got != want:
            wrong.append("class %d: _debugmallocstats %s, probe-heap %s" % (i, want, got))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("mode", MODES)
def test_arenas_and_bytes_match_debugmallocstats(answers, mode):
    a, st = answers[mode]["alloc"], answers["stats"]
    for k in ("arenas", "arena_size", "pool_size", "pools_unused", "bytes_used", "bytes_free",
              "pool_header_bytes", "quantization_bytes", "alignment_bytes"):
        assert a[k] == st[k], "%s: _debugmallocstats %s, probe-heap %s" % (k, st[k], a[k])
    assert a["arena_bytes"] == st["arenas"] * st["arena_size"]
    # the pieces of the arenas add up, as _debugmallocstats's Total does
    assert a["arena_bytes"] == (a["bytes_used"] + a["bytes_free"] + a["unused_pool_bytes"] +
                                a["pool_header_bytes"] + a["quantization_bytes"] +
                                a["alignment_bytes"])
    if st["map_bytes"] is not None and a["map_bytes"]:
        assert a["map_bytes"] == st["map_bytes"]
    minor = int(answers["live"]["info"]["python"]["minor"])
    if minor >= 12:
        assert a["map_bytes"] == st["map_bytes"]


@pytest.mark.parametrize("mode", MODES)
def test_allocated_blocks_match_getallocatedblocks(answers, mode):
    """sys.getallocatedblocks() minus the object blocks from malloc is the
    walk's count of allocated blocks."""
    ans = answers[mode]
    a, syms, blocks = ans["alloc"], ans["symbols"], answers["blocks"]
    assert a["blocks_used"] == sum(c["blocks_used"] for c in answers["stats"]["classes"].values())
    raw = a["raw_allocated_blocks"]
    if raw is None:
        raw = syms["raw_allocated_blocks"]
    elif syms["raw_allocated_blocks"] is not None:
        assert raw == syms["raw_allocated_blocks"]
    if raw is not None:
        assert a["blocks_used"] == blocks - raw, (blocks, raw)
    elif syms["_Py_AllocatedBlocks"] is not None:   # 3.8: the total, counted as it goes
        assert syms["_Py_AllocatedBlocks"] == blocks
        assert a["blocks_used"] <= blocks
    else:                                           # no symbols: nothing names the rest
        assert a["blocks_used"] <= blocks


@pytest.mark.parametrize("mode", MODES)
def test_state_found(answers, mode):
    a, syms = answers[mode]["alloc"], answers[mode]["symbols"]
    minor = int(answers[mode]["info"]["python"]["minor"])
    assert a["found_by"] == ("interpreter state" if minor >= 12 else "search")
    if minor < 12 and syms["arenas"] is not None:
        assert a["arenas_var"] == syms["arenas"], "found 0x%x, gdb says &arenas = 0x%x" % (
            a["arenas_var"], syms["arenas"])


@pytest.mark.parametrize("mode", MODES)
def test_objects_placed(answers, mode):
    ans = answers[mode]
    a, info = ans["alloc"], ans["info"]
    o = a["objects"]
    assert o["stray"]["count"] == 0
    assert (o["in_arenas"]["count"] + o["malloc"]["count"] + o["static"]["count"] ==
            info["objects"])
    assert o["in_arenas"]["count"] == sum(c["objects"] for c in a["classes"])
    by_type = {t["type"]: t for t in a["malloc_types"]}
    assert sum(t["count"] for t in a["malloc_types"]) == o["malloc"]["count"]
    for name, s in answers["workload"]["samples"].items():
        if s["over_threshold"]:
            got = by_type.get(s["type"])
            assert got is not None, "%s is not among the objects from malloc" % s["type"]
            assert (got["count"], got["size"]) == (s["count"], s["size"]), name
        else:
            assert s["under_threshold"] and s["type"] not in by_type, name
    # builtin static types are static data, never malloc's
    assert "int" not in by_type and "NoneType" not in by_type


@pytest.mark.parametrize("mode", MODES)
def test_writable_memory(answers, mode):
    doc = answers[mode]["json"]
    mem = doc["memory"]
    assert mem["source"] == ("process" if mode == "live" else "core")
    assert mem["writable_bytes"] == answers[mode + "_writable"]
    where = {r["what"]: r["bytes"] for r in doc["where"]}
    assert sum(where.values()) == mem["writable_bytes"]
    assert where["arenas"] == doc["arena_bytes"]
    assert where["not_explained"] >= 0


@pytest.mark.parametrize("mode", MODES)
def test_text_and_json_agree(answers, mode):
    ans = answers[mode]
    a, doc, text = ans["alloc"], ans["json"], ans["text"]
    for k in ("arenas", "blocks_used", "bytes_used", "pools_used"):
        assert doc[k] == a[k]
    assert doc["partial"] is False
    total = [ln for ln in text.splitlines() if ln.startswith("Total ")]
    assert len(total) == 1
    nums = [int(x) for x in total[0].split()[1:6]]
    assert nums == [a["pools_used"], a["blocks_used"], a["blocks_free"], a["bytes_used"],
                    a["bytes_free"]]
    assert "pymalloc: %d arenas of %d bytes" % (a["arenas"], a["arena_size"]) in text
