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
    loads = 0
    for i in range(phnum):
        fields = struct.unpack_from(order + pfmt, table, i * phentsize)
        if cls == 2:
            p_type, _pf, p_offset, _va, _pa, p_filesz, _memsz, _align = fields
        else:
            p_type, p_offset, _va, _pa, p_filesz, _memsz, _pf, _align = fields
        if p_type in (_PT_LOAD, _PT_DYNAMIC) and p_offset + p_filesz > size:
            return "ffi.library.damaged", (f"truncated: segment {i} needs bytes up to {p_offset + p_filesz}, "
                                           f"the file has {size}")
        loads += p_type == _PT_LOAD
    if not loads:
        return "ffi.library.damaged", "no loadable segment"
    return None
