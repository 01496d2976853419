"""Ctrl-C during a walk returns to the gdb prompt within a second and keeps
no half-built index: the next command walks again and answers in full.
gdb runs on a pseudo-terminal, as a user's would."""

import os
import pty
import re
import select
import time

import pytest

import harness

SIZE = "12000000"  # a walk of about a second on this machine (about 10 M objects/s)


def read_until(fd, pattern, timeout):
    """Reads the terminal until pattern appears; returns (text, seconds)."""
    buf, t0 = b"", time.monotonic()
    while time.monotonic() - t0 < timeout:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            buf += chunk
            if re.search(pattern, buf):
                return buf.decode("utf-8", "replace"), time.monotonic() - t0
    raise AssertionError("no %r within %ss; got:\n%s" % (pattern, timeout, buf.decode("utf-8", "replace")[-2000:]))


def test_ctrl_c_stops_a_walk(tmp_path):
    target = harness.target_by_label("pyenv-3.12.1")
    harness.require(target)
    w = harness.Workload(target, str(tmp_path), "big.py", [SIZE])
    w.start()
    try:
        w.wait_stopped(240)
        core = w.gcore()
    finally:
        w.kill()
    pid, fd = pty.fork()
    if pid == 0:
        # The progress line from the walk's first poll on, not after a second:
        # the walk of 12 million objects can be over in less (about 10 M objects/s).
        os.environ["PROBE_HEAP_PROGRESS_AFTER"] = "0"
        os.execvp("gdb", ["gdb", "-nx", "-q", "-iex", "set pagination off",
                          "-iex", "set debuginfod enabled off", "-iex", "set auto-load python-scripts off",
                          "-x", os.path.join(harness.REPO, "gdbinit"), target.python, core])
    try:
        read_until(fd, rb"\(gdb\) $", 60)
        os.write(fd, b"probe-heap info\n")
        read_until(fd, rb"objects, \d+ MB read", 30)   # the progress line: the walk is under way
        os.write(fd, b"\x03")
        text, secs = read_until(fd, rb"interrupted[^\n]*\n.*\(gdb\) $", 10)
        assert "probe-heap: interrupted; nothing was kept" in text
        assert secs < 1.0, "Ctrl-C took %.2f s to return to the prompt" % secs
        os.write(fd, b"probe-heap info\n")
        text, _ = read_until(fd, rb"Walk: .*\n.*\(gdb\) $", 120)
        m = re.search(r"Objects:\s+(\d+) objects", text)
        assert m and int(m.group(1)) > int(SIZE) * 0.9, text
    finally:
        os.write(fd, b"quit\n")
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        w.discard_core()
