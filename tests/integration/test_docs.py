"""The docs' examples, re-run: every `$ bin/probe-heap ...` line of a code
block in README.md and docs/*.md that shows its output is run again on a
core of the same workload (the demo's, tools/demo_workload.py with Debian's
python3; docs/examples/leaky_service.py with pyenv's 3.12.1), and what it
prints now must have the structure the docs show, so that the docs cannot
go stale again.

What is volatile is normalised on both sides: addresses and every number
(counts, sizes, pids, timings, line numbers) become N, runs of blanks one
blank (columns widen with their numbers), the checkout's path ROOT.  Lines
are compared as a multiset: rows of a table may trade places when two sizes
are close, but a line the docs show that the tool no longer prints (a
renamed column, a reworded sentence, a kind that is gone), or a line the
tool prints that the docs do not show, fails the test (unless the docs
left rows out with a line "...").  `python3 tests/integration/test_docs.py
--update` rewrites the stale examples with the tool's output.

Examples on cores of other workloads (a refcount leak built as a C
extension, two cores of a growing service, a report) are listed in SKIPPED
with the reason."""

import glob
import json
import os
import re
import shutil
import subprocess

import pytest

import harness

REPO = harness.REPO
DOCS = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))

# core names in the docs -> the workload that makes such a core
WORKLOADS = {
    "demo": {"match": re.compile(r"demo-out/core\.\d+"), "python": "/usr/bin/python3",
             "script": os.path.join(REPO, "tools", "demo_workload.py"), "stdout": True},
    "leaky": {"match": re.compile(r"/tmp/leaky\.\d+"), "python": "/root/.pyenv/versions/3.12.1/bin/python3",
              "script": os.path.join(REPO, "docs", "examples", "leaky_service.py"), "stdout": False},
}

SKIPPED = {
    "refleak": "a core of docs/examples/refcount_leak.py, whose leak needs its C extension built",
    "before": "two cores of docs/examples/growing_service.py, taken before and after it grows",
    "after": "two cores of docs/examples/growing_service.py, taken before and after it grows",
    "core.27075": "report writes a file; its content is tested by test_report.py",
    "--pid": "a live process of the reader's own",
}


def examples(path):
    """(line number, command, shown output lines) of each example with output.
    A shell variable set to the command's start ($ P="bin/probe-heap --core
    ...") is expanded in the lines that use it ($ $P backrefs ...)."""
    out = []
    with open(path) as f:
        lines = f.read().splitlines()
    in_block, cur, var = False, None, {}
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            if cur and cur[2]:
                out.append(cur)
            in_block, cur = not in_block, None
            continue
        if not in_block:
            continue
        if line.startswith("$ ") or line.startswith("(gdb) "):
            if cur and cur[2]:
                out.append(cur)
            cur = None
            m = re.match(r'^\$ (\w+)="(bin/probe-heap [^"]*)"$', line)
            if m:
                var[m.group(1)] = m.group(2)
                continue
            m = re.match(r"^\$ \$(\w+) ", line)
            if m and m.group(1) in var:
                line = "$ " + var[m.group(1)] + line[m.end() - 1:]
            if line.startswith("$ bin/probe-heap "):
                cmd = line[2:].split("  #")[0].strip()
                cur = (n, cmd, [])
        elif cur is not None:
            cur[2].append(line)
    return out


ALL = [(os.path.relpath(p, REPO), n, cmd, shown) for p in DOCS for n, cmd, shown in examples(p)]


def workload_of(cmd):
    for name, w in WORKLOADS.items():
        if w["match"].search(cmd):
            return name
    return None


def skip_reason(cmd):
    if workload_of(cmd):
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
    """One core per workload, made when first needed."""
    made, procs = {}, []

    def get(name):
        if name in made:
            return made[name]
        w = WORKLOADS[name]
        if not os.path.exists(w["python"]):
            pytest.skip("%s is not installed" % w["python"])
        d = tmp_path_factory.mktemp("docs-" + name)
        p = harness.Process([w["python"], w["script"]], str(d), name=name)
        p.start()
        procs.append(p)
        p.wait_stopped()
        made[name] = (p.gcore(str(d / "core")), w["python"])
        return made[name]
    yield get
    for p in procs:
        p.discard_core()
        p.kill()


class DocRun:
    """The examples of one document run in order on one core per workload.
    The addresses the docs show are paired with this core's, line by line
    (docs -> now), so that an example whose argument is an address an
    earlier example showed runs on the same object here."""

    def __init__(self, path, get_core):
        self.path, self.get_core = path, get_core
        self.examples = examples(path)
        self.to_now, self.to_docs, self.results = {}, {}, {}

    def result(self, n):
        """(the run, the arguments, the problems, mapped) of the example at line n;
        mapped is False when an address argument has no counterpart here."""
        for m, cmd, shown in self.examples:
            if m > n:
                break
            if m not in self.results and not skip_reason(cmd):
                self.results[m] = self._run(cmd, shown)
        return self.results[n]

    def _address(self, a, args, shown):
        if a in self.to_now:
            return self.to_now[a]
        return _same_object(a, args, shown)

    def _run(self, cmd, shown):
        args = cmd.split()[1:]
        name = workload_of(cmd)
        core = given = None
        if name:
            core, python = self.get_core(name)
            given = WORKLOADS[name]["match"].search(cmd).group(0)
            args = [core if a == given else a for a in args]
            exe = args.index("--exe") + 1 if "--exe" in args else None
            if exe and (args[exe] == "..." or os.path.basename(args[exe]).startswith("python")):
                args[exe] = python
        args = [a.strip('"') for a in args]
        args = [self._address(a, args, shown) if ADDR.fullmatch(a) and name else a for a in args]
        mapped = not any(ADDR.fullmatch(a) and a in args for a in cmd.split()[1:]) if name else True
        res = harness.run_probe(args)
        text = (res.stdout + res.stderr).rstrip("\n").split("\n")
        if mapped:
            _pair_addresses(shown, text, self.to_now, self.to_docs)
        return res, args, compare(cmd, shown, res, core, given), mapped


def compare(cmd, shown, res, core, given):
    """The problems of an example's output now against the one shown."""
    if shown and shown[0].lstrip().startswith("{"):
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


def doc_run(path, get_core):
    if path not in _RUNS:
        _RUNS[path] = DocRun(path, get_core)
    return _RUNS[path]


@pytest.mark.parametrize("doc,line,cmd,shown", ALL, ids=["%s:%d" % (d, n) for d, n, _c, _s in ALL])
def test_doc_example(doc, line, cmd, shown, cores):
    why = skip_reason(cmd)
    if why:
        pytest.skip(why)
    res, args, problems, mapped = doc_run(os.path.join(REPO, doc), cores).result(line)
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
    try:
        for path in DOCS:
            rel = os.path.relpath(path, REPO)
            run = DocRun(path, get_core)
            todo = [(n, cmd, shown) for n, cmd, shown in run.examples if not skip_reason(cmd)]
            results = {n: run.result(n) for n, _c, _s in todo}
            stale = {workload_of(cmd) for n, cmd, _s in todo if results[n][2] and results[n][3]}
            if not stale:
                continue
            with open(path) as f:
                lines = f.read().split("\n")
            for n, cmd, shown in reversed(todo):
                res, args, problems, mapped = results[n]
                name = workload_of(cmd)
                failed_now = res.returncode != 0 and not (shown and shown[0].startswith("probe-heap:"))
                if not problems or not mapped or failed_now or any(l.strip() == "..." for l in shown) \
                        or (shown and shown[0].lstrip().startswith("{")):
                    continue
                text = res.stdout + res.stderr
                if name:
                    text = text.replace(get_core(name)[0], WORKLOADS[name]["match"].search(cmd).group(0))
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
        for _ in gen:
            pass


def _pair_addresses(shown, now, to_now, to_docs):
    """Pairs the addresses of the docs' lines with those of the tool's lines
    now, line by line when both outputs have as many lines, in order within
    a line (a cut preview may drop the later ones)."""
    if len(shown) != len(now):
        return
    for o, n in zip(shown, now):
        for x, y in zip(ADDR.findall(o), ADDR.findall(n)):
            to_now.setdefault(x, y)
            to_docs.setdefault(y, x)


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
    """The parser finds the examples (README's demo partition among them)."""
    assert any(d == "README.md" and "partition" in c for d, _n, c, _s in ALL)
    assert sum(1 for d, _n, c, _s in ALL if workload_of(c)) >= 10


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--update"]:
        update()
    else:
        print("usage: python3 tests/integration/test_docs.py --update")
