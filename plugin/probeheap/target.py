"""The target as gdb sees it: which process or core, its symbols, a reader.

Everything gdb-specific about finding the target lives here; the heap walk
itself is in the C core, reached through _probeheap."""

import os
import re

import gdb

import _probeheap

# Symbols the core needs; all are in .dynsym, so no debug info is required.
_SYMBOLS = ("_PyRuntime", "Py_Version", "PyType_Type")


class TargetError(_probeheap.Error):
    """A problem with the target, said in one sentence."""


def symbol_address(name):
    """Address of a (minimal) symbol, or 0 when gdb does not know it."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except gdb.error:
        return 0


def _pointer_value(name):
    try:
        return int(gdb.parse_and_eval("*(unsigned long *)&%s" % name))
    except (gdb.error, gdb.MemoryError):
        return 0


def version_hint():
    """(major, minor) from the name of the executable or libpython, or (0, 0)."""
    names = [o.filename or "" for o in gdb.objfiles()]
    prog = gdb.current_progspace().filename
    if prog:
        names.insert(0, prog)
    for name in names:
        m = re.search(r"(?:^|/)(?:lib)?python(\d)\.(\d+)", name)
        if m:
            return int(m.group(1)), int(m.group(2))
    return 0, 0


def symbols():
    syms = {name: symbol_address(name) for name in _SYMBOLS}
    syms["_PySet_Dummy"] = _pointer_value("_PySet_Dummy")
    # A file static on 3.8-3.11: named only by .symtab or DWARF; else the core searches.
    syms["interned"] = symbol_address("interned")
    syms["hint_major"], syms["hint_minor"] = version_hint()
    return syms


def core_file():
    """The path of the core file gdb has loaded, or None."""
    try:
        text = gdb.execute("info target", to_string=True)
    except gdb.error:
        return None
    except UnicodeDecodeError:
        # A corrupt core's library names can make gdb's text undecodable;
        # gdb keeps the core open: find it among our files.
        return _open_core_file()
    m = re.search(r"Local core dump file:\s*`(.*)', file type", text)
    return m.group(1) if m else None


def _open_core_file():
    for fd in os.listdir("/proc/self/fd"):
        try:
            path = os.readlink("/proc/self/fd/" + fd)
            with open(path, "rb") as f:
                head = f.read(18)
        except OSError:
            continue
        if head[:4] == b"\x7fELF" and head[16:18] == b"\x04\x00":  # ET_CORE
            return path
    return None


def identity():
    """What the cached index belongs to: inferior, process, core."""
    inf = gdb.selected_inferior()
    return (inf.num, inf.pid, core_file(), gdb.current_progspace().filename)


def has_target():
    inf = gdb.selected_inferior()
    return inf.pid > 0 or core_file() is not None


FAILED_PAGES = 1 << 20     # unreadable pages remembered, at most


def make_reader():
    """A reader over the core's segments or the live process's memory, with
    gdb's own memory reads behind it for what neither holds (the read-only
    parts of the executable and libraries, which cores leave out)."""
    inf = gdb.selected_inferior()
    reader = _probeheap.Reader()
    core = core_file()
    if core:
        reader.open_core(core)
    elif inf.pid > 0:
        try:
            reader.open_pid(inf.pid)
        except _probeheap.Error:
            pass  # e.g. a remote target: gdb's reads alone will do

    # A core's pages that gdb could not read never will be: such a read is
    # answered at once the next time (alloc tries tens of thousands of
    # pointers into nowhere, each a slow gdb.MemoryError).  Readability goes
    # by pages, so a read over the same pages fails the same way.
    failed = set()

    def fallback(addr, length):
        key = (addr >> 12, (addr + max(length, 1) - 1) >> 12)
        if key in failed:
            return None
        try:
            return bytes(inf.read_memory(addr, length))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            if core and len(failed) < FAILED_PAGES:
                failed.add(key)
            return None

    reader.set_fallback(fallback)
    return reader
