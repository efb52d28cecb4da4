"""Library resolution: a library name to the file (or loader name) `dlopen` gets.

`m` becomes `libm.so` on Linux, `libm.dylib` on macOS and `m.dll` / `libm.dll` on
Windows; explicit search paths are tried first, then the system loader's own lookup
(`ctypes.util.find_library`, which yields a soname such as `libm.so.6`).  A name with a
directory part, or one that already ends in a platform suffix, is taken as a path.
A library found as a file is checked before anyone opens it (`elf.check_shared_library`):
a truncated file is a coded error, not a crash in the loader.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .audit import error
from .elf import check_shared_library

_SUFFIXES = {"linux": (".so",), "darwin": (".dylib", ".so"), "win32": (".dll",)}


def platform_key(platform: str | None = None) -> str:
    plat = platform or sys.platform
    if plat.startswith("linux") or plat.startswith("freebsd"):
        return "linux"
    if plat == "darwin":
        return "darwin"
    if plat in ("win32", "cygwin"):
        return "win32"
    return "linux"


def library_file_names(name: str, platform: str | None = None) -> list[str]:
    """The file names a library called `name` may have on `platform` (sys.platform form)."""
    key = platform_key(platform)
    stem = name[3:] if name.startswith("lib") and key != "win32" else name
    if key == "win32":
        return [f"{name}.dll"] if name.startswith("lib") else [f"{name}.dll", f"lib{name}.dll"]
    return [f"lib{stem}{suffix}" for suffix in _SUFFIXES[key]]


@dataclass(frozen=True)
class ResolvedLibrary:
    """Where a library was found.  `path` is a file; `soname` a name for the system loader."""

    name: str
    path: Path | None = None
    soname: str | None = None

    @property
    def target(self) -> str:
        """What to hand to dlopen."""
        return str(self.path) if self.path is not None else str(self.soname)


def _looks_like_path(name: str) -> bool:
    return (os.sep in name or "/" in name
            or any(name.endswith(s) for suffixes in _SUFFIXES.values() for s in suffixes)
            or ".so." in name)


def resolve_library(name: str, search_paths: Iterable[str | os.PathLike[str]] = (),
                    platform: str | None = None) -> ResolvedLibrary:
    """Find library `name`; raise `ffi.library.not_found` listing what was tried."""
    if not name:
        raise error("ffi.library.not_found", "empty library name", library=name, searched=[])
    searched: list[str] = []
    if _looks_like_path(name):
        path = Path(name)
        candidates: Sequence[Path] = [path] if path.is_absolute() else \
            [Path(d) / name for d in search_paths] + [path]
        for cand in candidates:
            searched.append(str(cand))
            if cand.is_file():
                check_shared_library(cand)
                return ResolvedLibrary(name, path=cand.resolve())
        raise error("ffi.library.not_found", f"library {name!r} not found (tried {', '.join(searched)})",
                    library=name, searched=searched)
    files = library_file_names(name, platform)
    for directory in search_paths:
        for fname in files:
            cand = Path(directory) / fname
            searched.append(str(cand))
            if cand.is_file():
                check_shared_library(cand)
                return ResolvedLibrary(name, path=cand.resolve())
    if platform is None or platform_key(platform) == platform_key():
        soname = ctypes.util.find_library(name[3:] if name.startswith("lib") else name)
        searched.append(f"system loader ({', '.join(files)})")
        if soname:
            return ResolvedLibrary(name, soname=soname)
    raise error("ffi.library.not_found",
                f"library {name!r} not found (tried {', '.join(searched) or 'nothing'})",
                library=name, searched=searched)
