#!/usr/bin/python3
"""The named cores the docs' examples use, made again: `make example-cores`
(tools/example-cores) writes them to demo-out/NAME.core, where every
example in README.md and docs/ names them, so that the examples paste.
tests/integration/test_docs.py makes the same cores (with this module) in a
temporary directory and re-runs the examples on them.

usage: tools/example_cores.py [--out DIR] [NAME ...]   (default: all of them, in demo-out)

Each core is of a workload run by a given CPython; a workload that stops
itself (SIGSTOP) is taken when stopped, growing_service.py after the
census line of each step (before.core after the first, after.core after
one SIGUSR1).  A CPython that is not installed here is said and skipped."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLES = os.path.join(REPO, "docs", "examples")
PY312 = "/root/.pyenv/versions/3.12.1/bin/python3"
PY38 = "/root/.pyenv/versions/3.8.18/bin/python3"
PY311 = "/usr/bin/python3.11"
DEMO_PY = "/usr/bin/python3"

# name -> how it is made: python, script and arguments, environment,
# and for growing_service.py the SIGUSR1s sent before the core
CORES = {
    "demo": {"python": DEMO_PY, "argv": [os.path.join(HERE, "demo_workload.py")],
             "what": "make demo's workload (tools/demo_workload.py), Debian's python3"},
    "leaky": {"python": PY312, "argv": [os.path.join(EXAMPLES, "leaky_service.py")],
              "what": "docs/examples/leaky_service.py on CPython 3.12.1 (leak-hunt.md)"},
    "leaky38": {"python": PY38, "argv": [os.path.join(EXAMPLES, "leaky_service.py")],
                "what": "docs/examples/leaky_service.py on CPython 3.8.18"},
    "refleak": {"python": PY312, "argv": [os.path.join(EXAMPLES, "refcount_leak.py")],
                "what": "docs/examples/refcount_leak.py on CPython 3.12.1 (post-mortem-leaks.md)"},
    "refleak-fixed": {"python": PY312, "argv": [os.path.join(EXAMPLES, "refcount_leak.py"), "--fixed"],
                      "what": "the same with the bug fixed (--fixed)"},
    "refleak-malloc": {"python": PY312, "argv": [os.path.join(EXAMPLES, "refcount_leak.py")],
                       "env": {"PYTHONMALLOC": "malloc"},
                       "what": "the same under PYTHONMALLOC=malloc"},
    "refleak311": {"python": PY311, "argv": [os.path.join(EXAMPLES, "refcount_leak.py")],
                   "what": "docs/examples/refcount_leak.py on Debian's python3.11"},
    "before": {"python": PY312, "argv": [os.path.join(EXAMPLES, "growing_service.py")], "steps": 0,
               "what": "docs/examples/growing_service.py on CPython 3.12.1, at its start"},
    "after": {"python": PY312, "argv": [os.path.join(EXAMPLES, "growing_service.py")], "steps": 1,
              "what": "the same after one SIGUSR1 (500 sessions more)"},
    "before311": {"python": PY311, "argv": [os.path.join(EXAMPLES, "growing_service.py")], "steps": 0,
                  "what": "docs/examples/growing_service.py on Debian's python3.11, at its start"},
}


class NotMade(Exception):
    pass


def _state(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1]
    except OSError:
        return None
    return None


def _gcore(pid, path):
    """gcore of pid, renamed to path."""
    prefix = path + ".tmp"
    r = subprocess.run(["gcore", "-o", prefix, str(pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    made = "%s.%d" % (prefix, pid)
    if r.returncode != 0 or not os.path.exists(made):
        raise NotMade("gcore of pid %d failed: %s" % (pid, r.stderr.strip()[-300:]))
    os.replace(made, path)


def make(name, out, timeout=120):
    """Makes OUT/NAME.core; returns its path.  Raises NotMade with the reason."""
    spec = CORES[name]
    if not os.access(spec["python"], os.X_OK):
        raise NotMade("%s is not installed" % spec["python"])
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name + ".core")
    env = dict(os.environ, **spec.get("env", {}))
    env.pop("PYTHONPATH", None)
    steps = spec.get("steps")
    with tempfile.TemporaryFile("w+") as log:
        p = subprocess.Popen([spec["python"]] + spec["argv"], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, cwd=REPO, start_new_session=True)
        try:
            t0 = time.monotonic()

            def wait(ready, what):
                while not ready():
                    if p.poll() is not None or time.monotonic() - t0 > timeout:
                        log.seek(0)
                        raise NotMade("%s: %s did not %s: %s" % (name, " ".join(spec["argv"]), what,
                                                                  log.read()[-500:]))
                    time.sleep(0.05)

            def census_lines():
                log.seek(0)
                return sum(1 for l in log.read().splitlines() if l.startswith("pid "))
            if steps is None:  # it stops itself
                wait(lambda: _state(p.pid) in ("T", "t"), "stop itself")
            else:
                wait(lambda: census_lines() >= 1, "print its census")
                for i in range(steps):
                    os.kill(p.pid, signal.SIGUSR1)
                    wait(lambda: census_lines() >= i + 2, "grow on SIGUSR1")
            _gcore(p.pid, path)
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
    return path


def main(argv):
    out = os.path.join(REPO, "demo-out")
    while argv[:1] == ["--out"] and len(argv) > 1:  # the last one counts
        out, argv = argv[1], argv[2:]
    if any(a.startswith("-") for a in argv):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    unknown = [a for a in argv if a not in CORES]
    if unknown:
        print("example_cores: no core named %s; the names: %s" % (", ".join(unknown), ", ".join(CORES)),
              file=sys.stderr)
        return 2
    if not shutil.which("gcore"):
        print("example_cores: gcore (gdb's) is not installed", file=sys.stderr)
        return 1
    failed = 0
    for name in argv or list(CORES):
        try:
            path = make(name, out)
        except NotMade as e:
            print("%-15s not made: %s" % (name, e), file=sys.stderr)
            failed += 1
            continue
        rel = os.path.relpath(path)
        print("%-15s %s  (%s)" % (name, path if rel.startswith("..") else rel, CORES[name]["what"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
