"""Threads and their frames, against what the process itself said.

workloads/threads.py blocks a dozen threads at known places (Event.wait,
Lock.acquire, sleep, a generator, a coroutine, a closure, a method, a
comprehension, a recursion, an asyncio loop, a traced thread, a _thread
thread, the main thread) and records, in process, every thread's
threading.get_ident(), threading.get_native_id() and stack (function,
file, f_lineno per frame, innermost first, from sys._current_frames()).  probe-heap must list the
same threads with the same stacks, on every target, live and from a core.

The line tables themselves are checked against CPython's own
PyCode_Addr2Line (through ctypes) for every code unit of every code object
of some 300 files of each target's standard library."""

import os
import subprocess
import textwrap

import pytest

import harness

# Run inside gdb (-x) by harness.ask_in_gdb: the threads through the
# scripting API, written to PH_OUT.
ASK = textwrap.dedent("""
    import json, os
    from probeheap import state, threads
    out = threads.threads(state.heap(quiet=True))
    with open(os.environ["PH_OUT"], "w") as f:
        json.dump(out, f)
""")


def ask(target, mode, tmp_path):
    script = tmp_path / "ask_threads.py"
    script.write_text(ASK)
    return harness.ask_in_gdb(target, mode, "threads.py", str(script), str(tmp_path))


def differences(expected, got):
    """What probe-heap's threads (the bridge's dicts) get wrong, one line each."""
    wrong = []
    by_id = {t["thread_id"]: t for t in got}
    want_ids = {int(i) for i in expected["threads"]}
    if set(by_id) != want_ids:
        wrong.append("threads: in process %s, probe-heap %s"
                     % (sorted(map(hex, want_ids)), sorted(map(hex, by_id))))
    for ident, want in sorted(expected["threads"].items()):
        t = by_id.get(int(ident))
        if t is None:
            continue
        label = "%-13s" % want["name"]
        if t["native_id"] != want["native_id"]:
            wrong.append("%s native id %d, probe-heap %d" % (label, want["native_id"], t["native_id"]))
        if t["truncated"]:
            wrong.append("%s stack marked truncated" % label)
        have = [[f["function"], f["file"], f["line"]] for f in t["frames"]]
        if have != want["frames"]:
            wrong.append("%s stack differs:\n    in process %s\n    probe-heap %s"
                         % (label, want["frames"], have))
    return wrong


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", harness.all_targets(), ids=lambda t: t.label)
def test_threads_match_in_process(target, mode, tmp_path):
    harness.require(target)
    expected, got = ask(target, mode, tmp_path)
    assert len(expected["threads"]) == 14  # the workload's own count: 12 blocked, main, stopper
    wrong = differences(expected, got)
    assert not wrong, "\n".join(wrong)


def traceback_lines(frames):
    """A traceback's lines for frames ([function, file, line], innermost
    first), with CPython's rule for repeats (traceback.StackSummary.format):
    a line repeated more than 3 times in a row is shown 3 times, then
    "[Previous line repeated N more times]"."""
    out, run = [], []
    for f in frames + [None]:
        text = None if f is None else '  File "%s", line %d, in %s' % (f[1], f[2], f[0])
        if run and text != run[0]:
            out += run[:3]
            if len(run) > 3:
                n = len(run) - 3
                out.append("  [Previous line repeated %d more time%s]" % (n, "s" if n > 1 else ""))
            run = []
        if text is not None:
            run.append(text)
    return out


def test_threads_command(tmp_path):
    """`probe-heap threads`: the JSON says what the API says; the text is
    py-bt's, a header per thread and one line per frame."""
    target = harness.target_by_label("pyenv-3.12.1")
    harness.require(target)
    w = harness.start_workload(target, str(tmp_path), "threads.py")
    try:
        core = w.gcore()
        args = ["--core", core, "--exe", target.python]
        doc = harness.run_probe(args + ["--json", "threads"]).json()
        expected = w.census()
        assert doc["python"]["version"] == "3.12.1" and doc["partial"] is False
        got = [dict(t, frames=[dict(f, line=-1 if f["line"] is None else f["line"]) for f in t["frames"]])
               for t in doc["threads"]]
        assert not differences(expected, got)
        for t in doc["threads"]:  # addresses are integers, as in every JSON document
            assert isinstance(t["tstate"], int) and isinstance(t["interp"], int)
            for f in t["frames"]:
                assert isinstance(f["address"], int) and isinstance(f["code"], int)
        text = harness.run_probe(args + ["threads"]).expect_ok().stdout
        assert "  [Previous line repeated 22 more times]" in text  # recurse(25): 25 calls from one line
        for ident, want in expected["threads"].items():
            head = "Thread 0x%x (native %d) (most recent call first):" % (int(ident), want["native_id"])
            assert head in text, text
            block = text.split(head, 1)[1].split("\nThread ", 1)[0].strip("\n").splitlines()
            assert block == traceback_lines(want["frames"]), text
        r = harness.run_probe(args + ["threads", "extra"])
        assert r.returncode != 0 and "threads takes no arguments" in r.stderr + r.stdout
    finally:
        w.discard_core()
        w.kill()


def locals_differences(expected, doc):
    """What `threads --locals --json` gets wrong against the workload's own
    record (details_of: sys._current_frames(), f_locals, linecache,
    threading._active): thread names, source lines, each local's name,
    type and address (id()), a cell variable's slot holding a cell, and the
    retained size of a bytearray only its frame holds (sys.getsizeof)."""
    wrong = []
    by_id = {t["thread_id"]: t for t in doc["threads"]}
    for ident, want in sorted(expected["details"].items()):
        t = by_id.get(int(ident))
        label = "%-13s" % expected["threads"][ident]["name"]
        if t is None:
            wrong.append("%s missing" % label)
            continue
        if t.get("name") != want["threading_name"]:
            wrong.append("%s threading's name %r, probe-heap %r" % (label, want["threading_name"], t.get("name")))
        if len(t["frames"]) != len(want["frames"]):
            wrong.append("%s %d frames, probe-heap %d" % (label, len(want["frames"]), len(t["frames"])))
            continue
        for i, (f, w) in enumerate(zip(t["frames"], want["frames"])):
            where = "%s frame %d (%s)" % (label, i, f["function"])
            if f.get("source") != w["source"]:
                wrong.append("%s source %r, probe-heap %r" % (where, w["source"], f.get("source")))
            have = {l["name"]: l for l in f.get("locals", [])}
            for name, v in sorted(w["locals"].items()):
                l = have.get(name)
                if l is None:
                    wrong.append("%s: no local %r (in process a %s)" % (where, name, v["type"]))
                elif (l["address"], l["type"]) != (v["id"], v["type"]):
                    wrong.append("%s: local %r is %s at 0x%x, probe-heap %s at 0x%x"
                                 % (where, name, v["type"], v["id"], l["type"], l["address"]))
                elif v["size"] is not None and l["retained"] != v["size"]:
                    wrong.append("%s: local %r retains %d bytes (sys.getsizeof), probe-heap %s"
                                 % (where, name, v["size"], l["retained"]))
            for name in w["cells"]:
                if name in have and have[name]["type"] != "cell":
                    wrong.append("%s: cell variable %r's slot is a %s" % (where, name, have[name]["type"]))
    return wrong


@pytest.mark.parametrize("target", harness.all_targets(), ids=lambda t: t.label)
def test_threads_locals(target, tmp_path):
    """threads --locals: names, source lines, locals, against the process."""
    harness.require(target)
    w = harness.start_workload(target, str(tmp_path), "threads.py")
    try:
        args = harness.source_args(w, "core") + target.cli_args
        doc = harness.run_probe(args + ["--json", "threads", "--locals"]).json()
        expected = w.census()
        assert len(expected["details"]) == 13  # every thread but the stopper
        wrong = locals_differences(expected, doc)
        assert not wrong, "\n".join(wrong)
        text = harness.run_probe(args + ["threads", "--locals"]).expect_ok().stdout
        ident = next(int(i) for i, t in expected["threads"].items() if t["name"] == "event")
        payload = next(f["locals"]["payload"] for f in expected["details"][str(ident)]["frames"]
                       if "payload" in f["locals"])
        assert "Thread 0x%x 'event'" % ident in text, text
        assert "      payload = bytearray 0x%x" % payload["id"] in text, text
        assert "(retained %d bytes)" % payload["size"] in text, text
        assert all(len(l) <= 100 for l in text.splitlines() if l.startswith("      ")), text
    finally:
        w.discard_core()
        w.kill()


SYSROOT_SCRIPT = textwrap.dedent("""
    import os, signal

    def serve(payload):
        os.kill(os.getpid(), signal.SIGSTOP)  # the line the frame stops on

    serve(bytearray(1000))
""")


def test_locals_source_under_sysroot(tmp_path):
    """The source line of a frame whose file is only under --sysroot (as a
    container's files are): the core is taken, then the script moves into
    the sysroot (whose other directories link to this root's, for the
    executable and libraries).  With --sysroot each frame's "source" is the
    file's own text of that line (read here from the file, not by the tool),
    without it null, and the text table shows the line under the frame."""
    target = harness.target_by_label("pyenv-3.12.1")
    harness.require(target)
    app = tmp_path / "app"
    app.mkdir()
    script = app / "svc.py"
    script.write_text(SYSROOT_SCRIPT)
    p = harness.Process([target.python, str(script)], str(tmp_path), name="sysroot")
    p.start()
    try:
        p.wait_stopped()
        core = p.gcore(str(tmp_path / "core"))
    finally:
        p.kill()
    try:
        root = tmp_path / "root"
        moved = root / str(script).lstrip("/")
        moved.parent.mkdir(parents=True)
        os.rename(str(script), str(moved))
        for d in sorted(set(os.listdir("/")) - {"tmp", "proc", "sys", "dev"}):
            os.symlink("/" + d, str(root / d))
        lines = SYSROOT_SCRIPT.splitlines()
        want = {lines.index(l) + 1: l.strip() for l in lines if "os.kill(" in l or l.startswith("serve(")}

        def frames(args):
            doc = harness.run_probe(["--core", core] + args + ["--json", "threads", "--locals"]).json()
            (main,) = doc["threads"]
            return [f for f in main["frames"] if f["file"] == str(script)]
        got = frames(["--sysroot", str(root)])
        assert [(f["line"], f["source"]) for f in got] == sorted(want.items()), got  # innermost first
        assert [l["name"] for l in got[0]["locals"]] == ["payload"], got[0]
        assert all(f["source"] is None for f in frames([])), "read from where it no longer is"
        text = harness.run_probe(["--core", core, "--sysroot", str(root), "threads", "--locals"]).expect_ok().stdout
        assert want[min(want)] in text and want[max(want)] in text, text
    finally:
        os.unlink(core)


# ---- the line tables -----------------------------------------------------------------

LINES_CHECK = textwrap.dedent("""
    import ctypes, glob, os, sys, types, warnings
    warnings.simplefilter("ignore")
    lib = ctypes.CDLL(sys.argv[1])
    mine = lib.ph_line_for_offset
    mine.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int64]
    mine.restype = ctypes.c_int
    theirs = ctypes.pythonapi.PyCode_Addr2Line
    theirs.argtypes = [ctypes.py_object, ctypes.c_int]
    theirs.restype = ctypes.c_int
    minor = sys.version_info[1]

    def codes(co):
        yield co
        for c in co.co_consts:
            if isinstance(c, types.CodeType):
                yield from codes(c)

    files = sorted(glob.glob(os.path.dirname(os.__file__) + "/**/*.py", recursive=True))
    files = files[::max(1, len(files) // int(sys.argv[2]))]
    n, bad = 0, []
    for path in files:
        try:
            top = compile(open(path, "rb").read(), path, "exec")
        except Exception:
            continue
        for co in codes(top):
            table = co.co_lnotab if minor <= 9 else co.co_linetable
            for off in range(-2, len(co.co_code), 2):
                n += 1
                a, b = theirs(co, off), mine(minor, table, len(table), co.co_firstlineno, off)
                if a != b and len(bad) < 10:
                    bad.append("%s %s offset %d: CPython %d, probe-heap %d" % (path, co.co_name, off, a, b))
    print(n)
    print("\\n".join(bad))
""")


@pytest.fixture(scope="module")
def core_so(tmp_path_factory):
    """The core library as a shared object, to call ph_line_for_offset through ctypes."""
    lib = os.path.join(harness.REPO, "build", "libprobeheap.a")
    if not os.path.exists(lib):
        pytest.fail("build/libprobeheap.a is missing: run make")
    so = str(tmp_path_factory.mktemp("so") / "libprobeheap.so")
    subprocess.run(["cc", "-shared", "-o", so, "-Wl,--whole-archive", lib, "-Wl,--no-whole-archive"],
                   check=True)
    return so


@pytest.mark.parametrize("target", [t for t in harness.all_targets() if t.label != "debian-3.11-nosym"],
                         ids=lambda t: t.label)
def test_line_tables_match_cpython(target, core_so, tmp_path):
    harness.require(target)
    script = tmp_path / "lines.py"
    script.write_text(LINES_CHECK)
    # some 300 files of the standard library, evenly spaced: 0.4 to 1.4 million code units
    r = subprocess.run([target.python, str(script), core_so, "300"], capture_output=True, text=True,
                       timeout=600, env=harness.clean_env())
    assert r.returncode == 0, r.stderr
    count, _, bad = r.stdout.partition("\n")
    assert int(count) > 100000
    assert not bad.strip(), bad
