"""The index is built once per stop and reused until the target changes:
the inferior runs, exits, or another inferior or core is selected."""

import os
import sys
import time

import gdb

import _probeheap

from . import statics, target

_cache = {"key": None, "heap": None, "last": None}


def invalidate(*_args):
    _cache["key"] = None
    _cache["heap"] = None
    _cache["last"] = None


for _ev in ("cont", "exited", "new_objfile", "clear_objfiles", "inferior_call",
            "memory_changed", "new_inferior"):
    _reg = getattr(gdb.events, _ev, None)
    if _reg is not None:
        _reg.connect(invalidate)


class _Progress:
    """A progress line on a terminal for walks over a second; silent otherwise."""

    def __init__(self, quiet):
        self.start = time.monotonic()
        self.shown = False
        # PROBE_HEAP_PROGRESS_AFTER=SECONDS: show it sooner (tests) or later.
        try:
            self.after = float(os.environ.get("PROBE_HEAP_PROGRESS_AFTER", "1"))
        except ValueError:
            self.after = 1.0
        # The CLI hands us the user's stderr as PROBE_HEAP_ERR_FD; in gdb it is fd 2.
        self.fd = int(os.environ.get("PROBE_HEAP_ERR_FD", "2"))
        self.enabled = not quiet and os.isatty(self.fd)

    def __call__(self, objects, bytes_read):
        if self.enabled and time.monotonic() - self.start >= self.after:
            os.write(self.fd, b"\rprobe-heap: %d objects, %.0f MB read..." %
                     (objects, bytes_read / 1e6))
            self.shown = True
        return False

    def done(self):
        if self.shown:
            os.write(self.fd, b"\r\033[K")


def heap(quiet=False):
    """The index of the selected inferior's heap, built on first use."""
    if not target.has_target():
        raise target.TargetError(
            "there is no process or core file to analyse: attach to a process or load a core first")
    key = target.identity()
    if _cache["key"] == key and _cache["heap"] is not None:
        return _cache["heap"]
    invalidate()
    reader = target.make_reader()
    progress = _Progress(quiet)
    try:
        h = _probeheap.build(reader, target.symbols(), progress, statics.regions() + statics.stacks())
    finally:
        progress.done()
    _cache["key"] = key
    _cache["heap"] = h
    warning = h.info().get("warning")
    if warning:  # a CPython newer than every table: one line, once per walk
        sys.stderr.write("probe-heap: warning: %s\n" % warning)
    return h


def cached():
    """The index of the selected inferior's heap if one is built, else None
    (for completion, which must not start a walk)."""
    try:
        if _cache["heap"] is not None and target.has_target() and _cache["key"] == target.identity():
            return _cache["heap"]
    except Exception:  # completion never fails loudly
        pass
    return None


def free_threaded_version():
    """The version dict of a free-threaded target (with "unsupported": why
    no heap can be built), or None for any other target."""
    if not target.has_target():
        return None
    try:
        v = _probeheap.detect_version(target.make_reader(), target.symbols())
    except _probeheap.Error:
        return None     # the heap build reports it
    return v if "unsupported" in v else None


def remember_table(table):
    _cache["last"] = table


def last_table():
    return _cache["last"]
