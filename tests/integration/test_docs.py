"""The docs' examples, re-run: every `$ bin/probe-heap ...` line of a code
block in README.md and docs/*.md that shows its output, and every `(gdb)`
line of a gdb session that does, is run again on a core of the same
workload, and what it prints now must have the structure the docs show,
so that the docs cannot go stale again.

The docs name their cores demo-out/NAME.core: `make example-cores` makes
them there (tools/example_cores.py, which this test uses to make the same
cores in a temporary directory; `make demo` makes demo.core).  A file the
examples write or read under /tmp/ is one of a temporary directory here.
A gdb session is a code block of `(gdb) ` lines, after a `$ gdb ... CORE`
line in the same block or an earlier one of the document: its commands run
in order in one gdb.

What is volatile is normalised on both sides: addresses and every number
(counts, sizes, pids, timings, line numbers) become N, runs of blanks one
blank (columns widen with their numbers), the checkout's path ROOT.  Lines
are compared as a multiset: rows of a table may trade places when two sizes
are close, but a line the docs show that the tool no longer prints (a
renamed column, a reworded sentence, a kind that is gone), or a line the
tool prints that the docs do not show, fails the test (unless the docs
left rows out with a line "...").  `python3 tests/integration/test_docs.py
--update` rewrites the stale examples with the tool's output.

Examples that cannot be re-run here are listed in SKIPPED with the reason;
test_cores_are_named checks that every core the docs name is one that
make example-cores makes."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import harness

REPO = harness.REPO
DOCS = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
sys.path.insert(0, os.path.join(REPO, "tools"))
import example_cores  # noqa: E402

CORE = re.compile(r"demo-out/([\w-]+)\.core")
GDB_SESSION = re.compile(r"^\$ gdb .*?(demo-out/[\w-]+\.core)\s*$")
GDB_TIME_LIMIT = 300

SKIPPED = {
    "--pid": "a live process of the reader's own",
}


def examples(path):
    """(line number, command, shown output lines, session) of each example
    with output, and of every gdb command; session is 'CORE@BLOCK' for a
    '(gdb) ' command (its gdb's core, the line of its code block), '' when
    no gdb session names a core, None for a shell command.  A shell variable set to the
    command's start ($ P="bin/probe-heap --core ...") is expanded in the
    lines that use it ($ $P backrefs ...)."""
    out = []
    with open(path) as f:
        lines = f.read().splitlines()
    in_block, cur, var, gdb_core = False, None, {}, None
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            if cur and (cur[2] or cur[3] is not None):
                out.append(cur)
            in_block, cur, block = not in_block, None, n
            continue
        if not in_block:
            continue
        if line.startswith("$ ") or line.startswith("(gdb) "):
            if cur and (cur[2] or cur[3] is not None):
                out.append(cur)
            cur = None
            m = GDB_SESSION.match(line)
            if m:
                gdb_core = m.group(1)
                continue
            if line.startswith("(gdb) "):
                # a gdb command: kept with or without output (the session runs them all)
                cur = (n, line.split("  #")[0].strip(), [], "%s@%d" % (gdb_core, block) if gdb_core else "")
                continue
            m = re.match(r'^\$ (\w+)="(bin/probe-heap [^"]*)"$', line)
            if m:
                var[m.group(1)] = m.group(2)
                continue
            m = re.match(r"^\$ \$(\w+) ", line)
            if m and m.group(1) in var:
                line = "$ " + var[m.group(1)] + line[m.end() - 1:]
            if line.startswith("$ bin/probe-heap "):
                cmd = line[2:].split("  #")[0].strip()
                cur = (n, cmd, [], None)
        elif cur is not None:
            cur[2].append(line)
    return out


ALL_DOCS = [(os.path.relpath(p, REPO), n, cmd, shown, g) for p in DOCS for n, cmd, shown, g in examples(p) if shown]
# the two long guides' examples run in test_docs_guides.py: a file of their
# own, so that pytest-xdist (--dist loadfile) runs them beside these
GUIDES = ("docs/leak-hunt.md", "docs/post-mortem-leaks.md")
ALL = [e for e in ALL_DOCS if e[0] not in GUIDES]


def workload_of(cmd, gdb_core=None):
    """The name of the core an example runs on (example_cores.CORES), or None."""
    m = CORE.search(gdb_core or cmd)
    return m.group(1) if m and m.group(1) in example_cores.CORES else None


def skip_reason(cmd, gdb_core=None):
    if gdb_core == "":
        return "a gdb command of no session on a named core"
    if workload_of(cmd, gdb_core):
        return None
    if "/tmp/nope" in cmd:  # no core needed
        return None
    for key, why in SKIPPED.items():
        if key in cmd:
            return why
    return "no workload is known for its core"


ADDR = re.compile(r"0x[0-9a-f]+")
CHECKOUT = re.compile(r"/work/(?:main|wt-[\w-]+)(?=/)")  # the checkouts the docs were written in
NUM = re.compile(r"\d+(?:[.,]\d+)*")
# A path cut in the middle to fit a column ('/wor...rvice.py') depends on
# where the checkout is: only that a cut was made is compared.
CUT = re.compile(r"\S*[^\s.]\.\.\.[^\s.]\S*")


def normalise(text):
    out = []
    for line in text.splitlines():
        line = CHECKOUT.sub("ROOT", line.replace(REPO, "ROOT"))
        line = ADDR.sub("ADDR", line)
        line = NUM.sub("N", line)
        line = CUT.sub("CUT", line)
        line = " ".join(line.split())
        if line:
            out.append(line)
    return out


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    yield from _cores(tmp_path_factory)


def _cores(tmp_path_factory):
    """get(name) -> (the core NAME.core, its python), made when first needed
    (by tools/example_cores.py, as make example-cores makes it)."""
    made = {}
    d = tmp_path_factory.mktemp("docs-cores")

    def get(name):
        if name not in made:
            try:
                made[name] = (example_cores.make(name, str(d)), example_cores.CORES[name]["python"])
            except example_cores.NotMade as e:
                if "is not installed" in str(e) and not harness.in_ci():
                    pytest.skip(str(e))
                raise
        return made[name]
    get.dir = str(d)
    yield get
    if not os.environ.get("PROBE_HEAP_KEEP_CORES"):
        shutil.rmtree(str(d), ignore_errors=True)


class Result:
    """What one gdb command of a session printed (stdout and stderr merged)."""

    def __init__(self, argv, text, returncode):
        self.argv, self.stdout, self.stderr, self.returncode = argv, text, "", returncode


class DocRun:
    """The examples of one document run in order on one core per workload.
    The addresses the docs show are paired with this core's, line by line
    (docs -> now), so that an example whose argument is an address an
    earlier example showed runs on the same object here.  Files under /tmp/
    are in a directory of the run's own."""

    def __init__(self, path, get_core, files):
        self.path, self.get_core, self.files = path, get_core, files
        self.examples = examples(path)
        self.to_now, self.to_docs, self.results = {}, {}, {}

    def result(self, n):
        """(the run, the arguments, the problems, mapped) of the example at line n;
        mapped is False when an address argument has no counterpart here."""
        for i, (m, cmd, shown, session) in enumerate(self.examples):
            if m > n:
                break
            if m in self.results or skip_reason(cmd, session):
                continue
            if session:
                self._run_session(i)
            else:
                self.results[m] = self._run(cmd, shown)
        return self.results[n]

    def _address(self, a, args, shown):
        if a in self.to_now:
            return self.to_now[a]
        return _same_object(a, args, shown)

    def _back(self, text):
        """The output as the docs would show it: the cores and files by the docs' names."""
        return text.replace(self.get_core.dir + "/", "demo-out/").replace(self.files + "/", "/tmp/")

    def _file(self, a):
        return os.path.join(self.files, a[len("/tmp/"):]) if a.startswith("/tmp/") and a != "/tmp/nope" else a

    def _run(self, cmd, shown):
        args = [self._file(a.strip('"')) for a in cmd.split()[1:]]
        name = workload_of(cmd)
        core = given = None
        if name:
            core, python = self.get_core(name)
            given = CORE.search(cmd).group(0)
            # every core it names, not only the first (report's --against names a second one)
            args = [self.get_core(CORE.fullmatch(a).group(1))[0]
                    if CORE.fullmatch(a) and CORE.fullmatch(a).group(1) in example_cores.CORES else a
                    for a in args]
            exe = args.index("--exe") + 1 if "--exe" in args else None
            if exe and (args[exe] == "..." or os.path.basename(args[exe]).startswith("python")):
                args[exe] = python
        args = [self._address(a, args, shown) if ADDR.fullmatch(a) and name else a for a in args]
        mapped = not any(ADDR.fullmatch(a) and a in args for a in cmd.split()[1:]) if name else True
        for old, new in zip(cmd.split()[1:], args):  # the argument's address, as the docs name it
            if ADDR.fullmatch(old) and ADDR.fullmatch(new):
                self.to_docs[new] = old  # over an older pairing: the command names it so
        res = harness.run_probe(args)
        res.stdout, res.stderr = (self._back(x) for x in (res.stdout, res.stderr))
        text = (res.stdout + res.stderr).rstrip("\n").split("\n")
        if mapped:
            _pair_addresses(shown, text, self.to_now, self.to_docs)
        return res, args, compare(cmd, shown, res, given, given), mapped  # the output names the docs' core

    def _run_session(self, i):
        """Runs the gdb session the example at index i belongs to: its
        commands in one gdb, on its core, each one's output cut out between
        markers."""
        session = self.examples[i][3]
        todo = []
        for m, cmd, shown, s in self.examples[i:]:
            if s != session:
                break
            todo.append((m, cmd, shown))
        name = workload_of("", session)
        core, python = self.get_core(name)
        given = CORE.search(session).group(0)
        argv = ["gdb", "-nx", "-q", "-batch", "-iex", "set debuginfod enabled off",
                "-iex", "set auto-load python-scripts off", "-x", os.path.join(REPO, "gdbinit"), python, core]
        mapped = {}
        for m, cmd, shown in todo:
            line = re.sub(r"/tmp/(?!nope)", self.files + "/", cmd[len("(gdb) "):])
            addrs = ADDR.findall(line)
            mapped[m] = all(a in self.to_now for a in addrs)
            line = ADDR.sub(lambda x: self.to_now.get(x.group(0), x.group(0)), line)
            argv += ["-ex", "echo \\n@@docs %d@@\\n" % m, "-ex", line]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=GDB_TIME_LIMIT, cwd=REPO)
        parts = re.split(r"^@@docs (\d+)@@\n", self._back(r.stdout), flags=re.M)
        out = {int(parts[k]): parts[k + 1] for k in range(1, len(parts) - 1, 2)}
        for m, cmd, shown in todo:
            text = out.get(m, "").rstrip("\n")
            if text.endswith("\n"):
                text = text[:-1]
            res = Result(argv, text + "\n" if text else "", r.returncode)
            if mapped[m]:
                _pair_addresses(shown, text.split("\n"), self.to_now, self.to_docs)
            self.results[m] = (res, [cmd], compare(cmd, shown, res, given, given), mapped[m])


def compare(cmd, shown, res, core, given):
    """The problems of an example's output now against the one shown."""
    if shown and shown[0].lstrip().startswith("{") and not cmd.startswith("(gdb) python"):
        # JSON, abbreviated in the docs: the keys it shows are all there
        try:
            json.loads(res.stdout)
        except ValueError:
            return ["not one JSON document: %r" % res.stdout[:200]]
        keys = set(re.findall(r'"(\w+)":', "\n".join(shown)))
        missing = keys - set(re.findall(r'"(\w+)":', res.stdout))
        return ["the key %r is not printed" % k for k in sorted(missing)]
    now = normalise(res.stdout + res.stderr)
    want = normalise("\n".join(shown))
    if core:  # the core's own name, in messages that name it
        now = [l.replace(normalise(core)[0], "CORE") for l in now]
        want = [l.replace(normalise(given)[0], "CORE") for l in want]
    elided = "..." in want  # the docs left rows out: what they show must be there
    want = [l for l in want if l != "..."]
    return (["shown, not printed now: " + l for l in _minus(want, now)] +
            ([] if elided else ["printed now, not shown: " + l for l in _minus(now, want)]))


_RUNS = {}


def doc_run(path, get_core, files):
    if path not in _RUNS:
        _RUNS[path] = DocRun(path, get_core, files)
    return _RUNS[path]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Where the examples' /tmp/ files go."""
    return str(tmp_path_factory.mktemp("docs-files"))


@pytest.mark.parametrize("doc,line,cmd,shown,session", ALL, ids=["%s:%d" % (d, n) for d, n, _c, _s, _g in ALL])
def test_doc_example(doc, line, cmd, shown, session, cores, files):
    check_example(doc, line, cmd, shown, session, cores, files)


def check_example(doc, line, cmd, shown, session, cores, files):
    why = skip_reason(cmd, session)
    if why:
        pytest.skip(why)
    res, args, problems, mapped = doc_run(os.path.join(REPO, doc), cores, files).result(line)
    if not mapped:
        pytest.skip("an address of the docs' own run that no earlier example pairs with an object here")
    assert not problems, "%s:%d `%s` no longer prints what the docs show (python3 %s --update rewrites " \
        "the stale examples):\n  %s\n--- now:\n%s" % (doc, line, cmd, os.path.relpath(__file__, REPO),
                                                    "\n  ".join(problems), res.stdout + res.stderr)


def update():
    """Rewrites the stale examples with what the tool prints now: the core
    named as the docs name it, and the addresses the docs showed kept
    wherever a line of an example's old output pairs with one of the new
    (so that the prose and the next examples still name them).  Examples whose
    address argument has no counterpart in a new core, and examples with
    rows left out ("..."), are left alone."""
    import pathlib
    import tempfile

    class Factory:
        def mktemp(self, name):
            return pathlib.Path(tempfile.mkdtemp(prefix=name))
    gen = _cores(Factory())
    get_core = next(gen)
    files = tempfile.mkdtemp(prefix="docs-files")
    try:
        for path in DOCS:
            rel = os.path.relpath(path, REPO)
            run = DocRun(path, get_core, files)
            todo = [(n, cmd, shown, g) for n, cmd, shown, g in run.examples if shown and not skip_reason(cmd, g)]
            results = {n: run.result(n) for n, _c, _s, _g in todo}
            stale = {workload_of(cmd, g) for n, cmd, _s, g in todo if results[n][2] and results[n][3]}
            if not stale:
                continue
            with open(path) as f:
                lines = f.read().split("\n")
            for n, cmd, shown, g in reversed(todo):
                res, args, problems, mapped = results[n]
                name = workload_of(cmd, g)
                failed_now = res.returncode != 0 and not (shown and shown[0].startswith("probe-heap:")) and not g
                if not problems or not mapped or failed_now or any(l.strip() == "..." for l in shown) \
                        or (shown and shown[0].lstrip().startswith("{") and not cmd.startswith("(gdb) python")):
                    continue
                text = res.stdout + res.stderr
                if name:
                    text = text.replace(get_core(name)[0], CORE.search(g or cmd).group(0))
                was = next((CHECKOUT.search(l).group(0) for l in shown if CHECKOUT.search(l)), None)
                if was:  # the checkout the docs were written in
                    text = text.replace(REPO + "/", was + "/")
                out = [ADDR.sub(lambda m: run.to_docs.get(m.group(0), m.group(0)), l)
                       for l in text.rstrip("\n").split("\n")]
                lines[n:n + len(shown)] = out
                print("%s:%d rewritten" % (rel, n))
            with open(path, "w") as f:
                f.write("\n".join(lines))
    finally:
        shutil.rmtree(files, ignore_errors=True)
        for _ in gen:
            pass


def _pair_addresses(shown, now, to_now, to_docs):
    """Pairs the addresses of the docs' lines with those of the tool's lines
    now: a line shown with the line printed now that reads the same once
    normalised (the same row, wherever it moved), in order within a line (a
    cut preview may drop the later ones)."""
    left = [(l, normalise(l)) for l in now]
    for o in shown:
        key = normalise(o)
        if not key or not ADDR.search(o):
            continue
        for i, (n, k) in enumerate(left):
            if k == key:
                for x, y in zip(ADDR.findall(o), ADDR.findall(n)):
                    to_now.setdefault(x, y)
                    to_docs.setdefault(y, x)
                del left[i]
                break


def _same_object(addr, args, shown):
    """The object of this core that the docs' address stood for: the one at
    the end of the path the docs show (backrefs), else the first object of
    the kind the docs' heading names (referrers, referents)."""
    for l in shown:
        if l.startswith("path: sys.modules['__main__']") and " " not in l[6:]:
            return "__main__:" + l[len("path: sys.modules['__main__']"):].lstrip(".")
    m = re.match(r"^\w+ of 0x[0-9a-f]+ \(([^,)]+)", shown[0]) if shown else None
    if m:
        src = args[:args.index(addr) - 1]
        found = harness.run_probe(src + ["--json", "objects", m.group(1), "--limit", "1"]).json()
        if found["objects"]:
            return "0x%x" % found["objects"][0]["address"]
    return addr


def _minus(a, b):
    left = list(b)
    out = []
    for x in a:
        if x in left:
            left.remove(x)
        else:
            out.append(x)
    return out


def test_examples_found():
    """The parser finds the examples (README's demo partition among them, and
    the user guide's gdb session)."""
    assert any(d == "README.md" and "partition" in c for d, _n, c, _s, _g in ALL)
    assert sum(1 for d, _n, c, _s, g in ALL_DOCS if workload_of(c, g)) >= 10
    assert any(d == "docs/user-guide.md" and c == "(gdb) probe-heap more" and workload_of(c, g) == "demo"
               for d, _n, c, _s, g in ALL)
    assert {d for d, _n, _c, _s, _g in ALL_DOCS} >= set(GUIDES)


def test_docs_cite_only_the_repository():
    """The docs cite nothing a reader of the repository cannot open: no
    issue numbers of the tracker the project was built with, no design
    notes kept outside the repository."""
    bad = []
    for path in DOCS + [os.path.join(REPO, "CHANGELOG.md"), os.path.join(REPO, "docs", "probe-heap.1")]:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if re.search(r"(?i)\bissues? ?#?\d+|DESIGN\.md|ARCHITECTURE-REVIEW|CPYTHON-FACTS|/work/shared", line):
                    bad.append("%s:%d %s" % (os.path.relpath(path, REPO), n, line.strip()))
    assert not bad, "\n".join(bad)


# A core the docs name that is not one of make example-cores': only these
NOT_CORES = {"CORE", "/tmp/nope"}


def test_cores_are_named():
    """Every core a command of the docs names (--core, a gdb session's) is
    demo-out/NAME.core with NAME one that make example-cores makes, so that
    every example pastes after make example-cores."""
    bad = []
    for path in DOCS:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                for core in re.findall(r"--core[ =]([^\s`\"]+)", line) + \
                        [m.group(1) for m in [re.match(r"^\s*\$ gdb .* (\S+)\s*$", line)] if m and "-p" not in line]:
                    m = CORE.fullmatch(core)
                    if core not in NOT_CORES and not (m and m.group(1) in example_cores.CORES):
                        bad.append("%s:%d %s" % (os.path.relpath(path, REPO), n, core))
    assert not bad, "cores make example-cores does not make (tools/example_cores.py):\n" + "\n".join(bad)


def test_make_example_cores(tmp_path):
    """make example-cores (DEMO_OUT elsewhere) makes every named core, each a
    core of its workload's python (the version info reads from it is the one
    that python says it is); an unknown name is a usage error."""
    r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "example-cores", "DEMO_OUT=%s" % tmp_path],
                       capture_output=True, text=True, timeout=900)
    missing = [n for n, c in example_cores.CORES.items() if os.access(c["python"], os.X_OK)
               and not os.path.exists(str(tmp_path / (n + ".core")))]
    assert r.returncode == 0 and not missing, (missing, r.stdout[-2000:] + r.stderr[-2000:])
    assert sorted(f for f in os.listdir(str(tmp_path))) == sorted(n + ".core" for n in example_cores.CORES)
    for name in ("demo", "leaky38", "refleak311"):
        python = example_cores.CORES[name]["python"]
        if not os.access(python, os.X_OK):
            continue
        doc = harness.run_probe(["--core", str(tmp_path / (name + ".core")), "--json", "info"]).json()
        want = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                              capture_output=True, text=True).stdout.strip()
        assert doc["python"]["version"] == want, (name, doc["python"], want)
    r = subprocess.run([os.path.join(REPO, "tools", "example-cores"), "nosuch"], capture_output=True, text=True)
    assert r.returncode == 2 and "no core named nosuch" in r.stderr, r.stderr


def test_make_demo(tmp_path):
    """make demo (DEMO_OUT elsewhere): it leaves demo.core under its stable
    name, and every command it shows ran without an error; its partition
    table's totals are those of --json partition of that core."""
    r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "demo", "DEMO_OUT=%s" % tmp_path],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    core = str(tmp_path / "demo.core")
    assert os.path.exists(core) and [f for f in os.listdir(str(tmp_path)) if f.endswith(".core")] == ["demo.core"]
    assert "Traceback" not in r.stdout + r.stderr and "probe-heap:" not in r.stdout + r.stderr, r.stdout + r.stderr
    shown = re.findall(r"^\$ bin/probe-heap --core (\S+) (\w+)", r.stdout, re.M)
    assert {c for c, _sub in shown} == {core} and len(shown) >= 8, shown
    doc = harness.run_probe(["--core", core, "--json", "partition"]).json()
    assert "Partition of a set of %d objects. Total size = %d bytes." % (doc["count"], doc["size"]) in r.stdout
    assert os.path.getsize(str(tmp_path / "report.html")) > 100000


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--update"]:
        update()
    else:
        print("usage: python3 tests/integration/test_docs.py --update")
