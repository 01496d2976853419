"""The static data of the target: each loaded file's .data and .bss (gdb's
`info files` says where they are in the target), with the data symbols of
the file (read from its ELF symbol tables, .symtab and .dynsym) that name
them.  The core reads these words for the objects C globals hold."""

import os
import re
import struct

import gdb

_SECTION = re.compile(r"^\s*0x([0-9a-f]+) - 0x([0-9a-f]+) is (\.data|\.bss)(?: in (.*))?$")
_SHT_SYMTAB, _SHT_DYNSYM = 2, 11
_STT_OBJECT = 1
_MAX_SYMBOLS = 200000      # per file: more is not a file's static data


def _elf_sections(path):
    """{name: (addr, size)} and the OBJECT symbols [(value, size, name)] of
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
            sections.setdefault(name, (sh[3], sh[5]))
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
    file's .data and .bss."""
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
