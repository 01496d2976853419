"""The gdb side: probe-heap's commands in a real gdb on a real core.

`more` pages through exactly the rows of `partition --all`, each once, with
indexes and cumulative sizes carrying on; help texts exist; bad arguments
give one gdb error line; the index is built once per stop; the scripting API
agrees with the JSON."""

import json
import os
import re
import subprocess

import pytest

import harness

PYTHON = harness.DEBIAN_PYTHON


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    target = harness.target_by_label("debian-3.11-nosym")
    harness.require(target)
    w = harness.start_workload(target, str(tmp_path_factory.mktemp("gdbcmd")), "samples.py")
    try:
        yield w.gcore()
    finally:
        w.discard_core()
        w.kill()


def gdb(core, *commands):
    args = ["gdb", "-nx", "-q", "-batch", "-iex", "set debuginfod enabled off",
            "-iex", "set auto-load python-scripts off", "-x", os.path.join(harness.REPO, "gdbinit"), PYTHON, core]
    for c in commands:
        args += ["-ex", c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    return r.stdout, r.stderr


ROW = re.compile(r"^ {0,5}(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) (.*)$")


def rows_of(text):
    return [tuple(int(g) for g in m.groups()[:7]) + (m.group(8),)
            for m in map(ROW.match, text.splitlines()) if m]


def test_more_pages_through_every_row_once(core):
    pages = 30
    out, _ = gdb(core, "probe-heap partition --all", "echo ====\\n", "probe-heap partition",
                 *["probe-heap more"] * pages)
    whole, paged = out.split("====\n")
    all_rows = rows_of(whole)
    assert len(all_rows) > 25
    got = rows_of(paged)
    assert got == all_rows  # same rows, same order, indexes and cumulative sizes carried on
    assert [r[0] for r in got] == list(range(len(all_rows)))
    # heapy's paging: ten rows, then the "more" line; a page never ends with one row left
    first_page = paged.split("<")[0]
    assert len(rows_of(first_page)) == 10
    assert re.search(r"<%d more rows\. Type e\.g\. 'probe-heap more' to view\.>" % (len(all_rows) - 10), paged)
    assert "<no more rows>" in paged
    assert paged.count("Partition of a set") == 1
    assert paged.count(" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)") > 1


def test_table_totals_match_json(core):
    out, _ = gdb(core, "probe-heap partition", "echo ====\\n", "probe-heap partition --json")
    text, js = out.split("====\n")
    doc = json.loads(js)
    m = re.search(r"Partition of a set of (\d+) objects\. Total size = (\d+) bytes\.", text)
    assert (int(m.group(1)), int(m.group(2))) == (doc["count"], doc["size"])
    assert sum(r["count"] for r in doc["rows"]) == doc["count"]
    assert sum(r["size"] for r in doc["rows"]) == doc["size"]
    assert [r["size"] for r in doc["rows"]] == sorted((r["size"] for r in doc["rows"]), reverse=True)
    first = rows_of(text)[0]
    assert (first[1], first[3], first[7]) == (doc["rows"][0]["count"], doc["rows"][0]["size"],
                                              doc["rows"][0]["kind"])


def test_index_is_built_once_per_stop(core):
    out, _ = gdb(core, "python import probeheap.state as s, probeheap; a = probeheap.Heap()._heap",
                 "probe-heap partition", "probe-heap info",
                 "python print('same index:', probeheap.Heap()._heap is a)")
    assert "same index: True" in out


def test_api_matches_json(core):
    out, _ = gdb(core, "python import probeheap, json; p = probeheap.Heap().partition(by='type'); "
                       "print('API', json.dumps([p.count, p.size, list(p.rows[0])]))",
                 "probe-heap partition --by type --json")
    api_line = next(l for l in out.splitlines() if l.startswith("API "))
    count, size, row0 = json.loads(api_line[4:])
    doc = json.loads(out.splitlines()[-1])
    assert (count, size) == (doc["count"], doc["size"])
    assert row0[:4] == [doc["rows"][0][k] for k in ("kind", "type", "count", "size")]


def test_names_that_are_not_utf8(core):
    """A class named with a lone surrogate must not break --json (U+FFFD instead)."""
    out, _ = gdb(core, "probe-heap partition --by type --json")
    doc = json.loads(out.splitlines()[-1])
    assert any(r["type"] == "__main__.bad\ufffdname" for r in doc["rows"])


def test_help_and_errors(core):
    out, err = gdb(core, "help probe-heap", "help probe-heap partition", "help probe-heap info",
                   "probe-heap partition --by nonsense", "probe-heap nonsense", "probe-heap more extra")
    assert "probe-heap partition" in out and "Usage: probe-heap partition" in out
    assert "probe-heap: cannot partition by nonsense: choose one of kind, type" in err
    assert "probe-heap: unknown subcommand 'nonsense'" in err
    assert "probe-heap: more takes no arguments" in err


def test_no_target_says_so():
    r = subprocess.run(["gdb", "-nx", "-q", "-batch", "-x", os.path.join(harness.REPO, "gdbinit"),
                        "-ex", "probe-heap partition"], capture_output=True, text=True, timeout=60)
    assert "probe-heap: there is no process or core file to analyse" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
