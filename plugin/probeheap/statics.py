"""The static data of the target: each loaded file's writable sections
(.data, .bss, CPython's .PyRuntime; not those made read-only after
relocation) as gdb's
`info files` places them in the target, with the data symbols of
the file (read from its ELF symbol tables, .symtab and .dynsym) that name
them; and each thread's C stack, from its stack pointer up.  The core reads
these words for the objects C holds."""

import os
import re
import struct

import gdb

_SECTION = re.compile(r"^\s*0x([0-9a-f]+) - 0x([0-9a-f]+) is (\S+)(?: in (.*))?$")
_SHF_WRITE, _SHF_ALLOC, _SHF_TLS = 0x1, 0x2, 0x400
# Writable, but made read-only after relocation (RELRO) or holding no data
# pointers of C code: not searched.
_NOT_STATIC = (".data.rel.ro", ".got", ".got.plt", ".dynamic", ".init_array", ".fini_array",
               ".preinit_array", ".tm_clone_table")
# Searched when the file cannot be read (its sections' flags unknown).
_STATIC = (".data", ".bss", ".PyRuntime")
_SHT_SYMTAB, _SHT_DYNSYM = 2, 11
_STT_OBJECT = 1
_MAX_SYMBOLS = 200000      # per file: more is not a file's static data


def _elf_sections(path):
    """{name: (addr, size, flags)} and the OBJECT symbols [(value, size, name)] of
    an ELF file; ({}, []) when it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}, []
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return {}, []                      # 64-bit little-endian only
    try:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        shdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                 for i in range(shnum)]
        stro = shdrs[shstrndx][4]

        def cstr(off):
            return data[off:data.index(b"\0", off)].decode("utf-8", "replace")

        sections = {}
        syms = []
        for sh in shdrs:
            name = cstr(stro + sh[0])
            sections.setdefault(name, (sh[3], sh[5], sh[2]))
            if sh[1] in (_SHT_SYMTAB, _SHT_DYNSYM) and sh[9]:
                strtab = shdrs[sh[6]][4]
                for j in range(min(sh[5] // sh[9], _MAX_SYMBOLS)):
                    st_name, st_info, _, st_shndx, st_value, st_size = struct.unpack_from(
                        "<IBBHQQ", data, sh[4] + j * sh[9])
                    if st_info & 0xF == _STT_OBJECT and st_value and st_name:
                        syms.append((st_value, st_size, cstr(strtab + st_name)))
        return sections, syms
    except (struct.error, ValueError, IndexError):
        return {}, []


def regions():
    """[(start, end, bias, file name, [(addr, size, name)])] of every loaded
    file's static data."""
    try:
        text = gdb.execute("info files", to_string=True)
    except (gdb.error, UnicodeDecodeError):
        return []
    exe = gdb.current_progspace().filename
    found = {}
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            path = m.group(4) or exe
            if path:
                found.setdefault(path, []).append((int(m.group(1), 16), int(m.group(2), 16),
                                                   m.group(3)))
    out = []
    for path, secs in found.items():
        sections, syms = _elf_sections(path)

        def searched(name):
            if name not in sections:
                return not sections and name in _STATIC
            flags = sections[name][2]
            return (flags & (_SHF_WRITE | _SHF_ALLOC) == _SHF_WRITE | _SHF_ALLOC and
                    not flags & _SHF_TLS and not name.startswith(_NOT_STATIC))

        secs = [s for s in secs if searched(s[2])]
        bias = 0
        for start, _, name in secs:
            if name in sections:
                bias = start - sections[name][0]
                break
        name = os.path.basename(path)
        for start, end, _ in secs:
            inside = sorted({(v + bias, size, s) for v, size, s in syms
                             if start <= v + bias < end})
            out.append((start, end, bias, name, inside))
    return out


def stacks():
    """[(sp, 0, sp, "thread N (LWP x) C stack at sp", [])] of every thread of
    the selected inferior: the core reads each from its stack pointer to the
    end of its mapping (end 0), for the objects C callers hold there (the
    arguments of a call in progress, what a C function keeps in locals)."""
    out = []
    try:
        inferior = gdb.selected_inferior()
        threads = inferior.threads()
        selected = gdb.selected_thread()
    except gdb.error:
        return out
    frame = None
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        pass
    try:
        for t in sorted(threads, key=lambda t: t.num):
            try:
                t.switch()
                sp = int(gdb.newest_frame().read_register("sp")) & 0xFFFFFFFFFFFFFFFF
            except (gdb.error, ValueError, OverflowError):
                continue
            if sp:
                out.append((sp, 0, sp, "thread %d (LWP %d) C stack at sp" % (t.num, t.ptid[1]), []))
    finally:
        try:
            if selected is not None and selected.is_valid():
                selected.switch()
            if frame is not None and frame.is_valid():
                frame.select()
        except gdb.error:
            pass
    return out
