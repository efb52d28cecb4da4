"""Shared libraries checked before the dynamic loader maps them.

`dlopen` maps a library's segments straight from the file: a file cut short (an
interrupted copy, a full disk, a damaged cache entry) makes the loader touch pages past
the end of the file, and the process dies of SIGBUS instead of getting an error.
`check_shared_library` reads the ELF header and the program headers first and raises
`ffi.library.damaged` unless every header and every segment's file bytes lie inside the
file.  Files that are not ELF shared objects at all get `ffi.library.load_failed`.
Mach-O and PE files (other platforms) are left to their loaders.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

from .audit import error

_MAGIC = b"\x7fELF"
_ET_DYN = 3
_PT_LOAD, _PT_DYNAMIC = 1, 2
_HEADER = {1: (52, "HHIIIIIHHHHHH"), 2: (64, "HHIQQQIHHHHHH")}  # after e_ident (16 bytes)
_PHDR = {1: (32, "IIIIIIII"), 2: (56, "IIQQQQQQ")}
_SHDR_SIZE = {1: 40, 2: 64}
# dynamic-section tags whose values the loader follows: tables read from the file (with the
# tag of their size), code addresses, and offsets into the string table
_DT_NULL, _DT_STRTAB, _DT_SYMTAB, _DT_STRSZ, _DT_FLAGS_1 = 0, 5, 6, 10, 0x6ffffffb
_DF_1_PIE = 0x08000000
_DT_TABLES = {5: 10, 7: 8, 17: 18, 23: 2, 25: 27, 26: 28, 32: 33,  # STRTAB, RELA, REL, JMPREL, (PRE)INIT/FINI_ARRAY
              4: None, 6: None, 0x6ffffef5: None, 0x6ffffff0: None, 0x6ffffffc: None, 0x6ffffffe: None}
_DT_CODE = (12, 13)                      # DT_INIT, DT_FINI
_DT_STRINGS = (1, 14, 15, 29)            # DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH


def is_elf_platform() -> bool:
    """True where shared libraries are ELF files (Linux and the BSDs)."""
    return sys.platform.startswith(("linux", "freebsd", "netbsd", "openbsd"))


def check_shared_library(path: str | os.PathLike[str], prefix: str = "ffi.library") -> None:
    """Raise a coded error unless `path` is an ELF shared object whose headers and
    loadable segments lie inside the file (no-op on non-ELF platforms).  `prefix` is the
    caller's code family (`ffi.library`, `ffi.plugin`): `<prefix>.damaged`,
    `<prefix>.load_failed`, `<prefix>.io`."""
    if not is_elf_platform():
        return
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(64)
            problem = _header_problem(head, size)
            if problem is None:
                problem = _segments_problem(fh, head, size)
    except OSError as exc:
        raise error(f"{prefix}.io", f"cannot read library {p}: {exc.strerror or exc}", path=str(p)) from None
    if problem is not None:
        code, message = problem
        raise error(prefix + code[len("ffi.library"):], f"{p}: {message}", path=str(p))


def _header_problem(head: bytes, size: int) -> tuple[str, str] | None:
    if len(head) < 4 or head[:4] != _MAGIC:
        return "ffi.library.load_failed", "not an ELF shared library"
    if len(head) < 16 or head[4] not in _HEADER or head[5] not in (1, 2) or head[6] != 1:
        return "ffi.library.damaged", "damaged ELF identification bytes"
    hsize, _ = _HEADER[head[4]]
    if size < hsize or len(head) < hsize:
        return "ffi.library.damaged", f"the file ({size} bytes) is shorter than an ELF header"
    return None


def _segments_problem(fh: "object", head: bytes, size: int) -> tuple[str, str] | None:
    cls, order = head[4], "<" if head[5] == 1 else ">"
    hsize, fmt = _HEADER[cls]
    (e_type, _machine, _version, _entry, phoff, shoff, _flags, ehsize, phentsize, phnum,
     shentsize, shnum, _shstrndx) = struct.unpack(order + fmt, head[16:hsize])
    if e_type != _ET_DYN:
        return "ffi.library.load_failed", f"an ELF file of type {e_type}, not a shared object"
    pe_size, pfmt = _PHDR[cls]
    if phnum == 0 or phentsize != pe_size or ehsize != hsize:
        return "ffi.library.damaged", "damaged ELF header (program header table)"
    if phoff + phnum * phentsize > size:
        return "ffi.library.damaged", f"truncated: the program headers end past the file's {size} bytes"
    if shnum and (shentsize != _SHDR_SIZE[cls] or shoff + shnum * shentsize > size):
        return "ffi.library.damaged", f"truncated: the section headers end past the file's {size} bytes"
    fh.seek(phoff)  # type: ignore[attr-defined]
    table = fh.read(phnum * phentsize)  # type: ignore[attr-defined]
    loads: list[tuple[int, int, int]] = []  # (address, bytes from the file, bytes in memory)
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        fields = struct.unpack_from(order + pfmt, table, i * phentsize)
        if cls == 2:
            p_type, _pf, p_offset, p_vaddr, _pa, p_filesz, p_memsz, _align = fields
        else:
            p_type, p_offset, p_vaddr, _pa, p_filesz, p_memsz, _pf, _align = fields
        if p_type in (_PT_LOAD, _PT_DYNAMIC) and p_offset + p_filesz > size:
            return "ffi.library.damaged", (f"truncated: segment {i} needs bytes up to {p_offset + p_filesz}, "
                                           f"the file has {size}")
        if p_type == _PT_LOAD:
            loads.append((p_vaddr, p_filesz, p_memsz))
        elif p_type == _PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if not loads:
        return "ffi.library.damaged", "no loadable segment"
    if dynamic is None:
        return "ffi.library.damaged", "no dynamic segment (the loader needs one in a shared library)"
    fh.seek(dynamic[0])  # type: ignore[attr-defined]
    entries = fh.read(dynamic[1])  # type: ignore[attr-defined]
    return _dynamic_problem(entries, order + ("qQ" if cls == 2 else "iI"), loads)


def _dynamic_problem(data: bytes, fmt: str, loads: list[tuple[int, int, int]]) -> tuple[str, str] | None:
    """The dynamic section's entries must end with DT_NULL, and every table, code address
    and string offset the loader follows must lie inside the library: the loader trusts
    them (a shifted or overwritten section crashes it instead of failing)."""
    step = struct.calcsize(fmt)
    entries: list[tuple[int, int]] = []
    for at in range(0, len(data) - step + 1, step):
        tag, value = struct.unpack_from(fmt, data, at)
        if tag == _DT_NULL:
            break
        entries.append((tag, value))
    else:
        return "ffi.library.damaged", "damaged dynamic section (no terminating entry)"
    values = dict(entries)
    if _DT_STRTAB not in values or _DT_SYMTAB not in values:
        return "ffi.library.damaged", "damaged dynamic section (no string or symbol table)"

    def inside(address: int, length: int, in_file: bool) -> bool:
        return any(start <= address and address + length <= start + (filesz if in_file else memsz)
                   for start, filesz, memsz in loads)
    for tag, value in entries:
        if tag in _DT_TABLES:
            size_tag = _DT_TABLES[tag]
            length = values.get(size_tag, 0) if size_tag is not None else 1
            if not inside(value, max(length, 1), True):
                return "ffi.library.damaged", f"damaged dynamic section (tag {tag:#x} points outside the file)"
        elif tag in _DT_CODE and not inside(value, 1, False):
            return "ffi.library.damaged", f"damaged dynamic section (tag {tag:#x} points outside the library)"
        elif tag in _DT_STRINGS and (_DT_STRTAB not in values or value >= values.get(_DT_STRSZ, 0)):
            return "ffi.library.damaged", f"damaged dynamic section (tag {tag:#x}: no such string)"
    if values.get(_DT_FLAGS_1, 0) & _DF_1_PIE:
        return "ffi.library.load_failed", "a position-independent executable, not a shared library"
    return None
