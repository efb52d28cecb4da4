"""The libraries of the `ffi` section: de-duplication, platform file names, link check.

A library is named as C programmers name it to the linker (`m`, `sqlite3`) or by its
file (`libm.so`, `build/libmathx.so`).  `m`, `libm` and `libm.so` are one library and
are kept once, in order of first mention.  Its platform file name gets the prefix and
suffix of the target (`libm.so` on Linux, `libm.dylib` on macOS, `m.dll` on Windows).
The link check really loads each library through the native connector: a library that
cannot be found or loaded is `ffi.build.link_failed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..audit import Diagnostic, DiagnosticError
from ..connectors.native import NativeLibrary, library_file_names
from .config import FfiSection, Locator

LINK_FAILED = "ffi.build.link_failed"
_SUFFIX = re.compile(r"(\.so(\.[0-9.]+)?|\.dylib|\.dll)$")


def is_path(name: str) -> bool:
    """Whether a library is named by its file (a directory part or a platform suffix)."""
    return "/" in name or "\\" in name or bool(_SUFFIX.search(name))


def library_key(name: str) -> str:
    """What makes two spellings the same library: `m`, `libm`, `libm.so` -> `m`."""
    if "/" in name or "\\" in name:
        return str(Path(name))
    stem = _SUFFIX.sub("", name)
    return stem[3:] if stem.startswith("lib") else stem


def unique_libraries(names: Sequence[str]) -> list[tuple[int, str]]:
    """(index in the section, name) of each library, duplicates dropped."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        key = library_key(name)
        if key not in seen:
            seen.add(key)
            out.append((i, name))
    return out


def platform_file_name(name: str, platform: str | None = None) -> str:
    """The file a library name stands for on `platform` (sys.platform spelling)."""
    if is_path(name):
        return Path(name).name
    return library_file_names(name, platform)[0]


@dataclass(frozen=True)
class LinkedLibrary:
    """A library that loaded: its name, platform file name and what dlopen got."""
    name: str
    file_name: str
    loaded_from: str


def link_check(section: FfiSection, locator: Locator) -> tuple[list[LinkedLibrary], list[Diagnostic]]:
    """Load every (de-duplicated) library of the section; one diagnostic per failure."""
    search = [str(section.resolve(p)) for p in section.search_paths]
    linked, problems = [], []
    for index, name in unique_libraries(section.libraries):
        spelled = str(section.resolve(name)) if "/" in name else name
        try:
            lib = NativeLibrary.open(spelled, search, mode="abi")
        except DiagnosticError as exc:
            cause = exc.diagnostic
            problems.append(locator.diagnostic(
                LINK_FAILED, f"library {name!r} cannot be linked: {cause.message}",
                section.field_path("libraries", index), library=name, cause=cause.code))
            continue
        linked.append(LinkedLibrary(name, platform_file_name(name), lib.resolved.target))
    return linked, problems
