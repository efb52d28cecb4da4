"""Front end: run the system C preprocessor (`cc -E -dD`) over the target headers.

GNU extensions pycparser cannot read are defined away in a prelude placed before the
headers (asm labels, `__extension__`, the `__restrict`/`__inline`
spellings, `_FloatN` types, `__int128`).  `-dD` keeps every `#define` in the output
next to the line markers, so each macro is attributed to the file that defined it; the
macro lines are taken out (blanked, so line numbers stay right) and returned apart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..audit import Location, error
from .attributes import AttributeTable, build_table, strip_attributes

# What the compiler knows but pycparser does not.  Each line is one `#define`.
GNU_PRELUDE = """\
#define __asm__(x)
#define __asm(x)
#define __extension__
#define __inline inline
#define __inline__ inline
#define __restrict restrict
#define __restrict__ restrict
#define __const const
#define __volatile__ volatile
#define __signed__ signed
#define __thread _Thread_local
#define _Float128 long double
#define _Float64x long double
#define _Float64 double
#define _Float32x double
#define _Float32 float
#define __float128 long double
#define __int128 long long
#define _Noreturn
#define __builtin_va_list __reml_va_list
"""

# Put in front of the preprocessed text for pycparser: the x86_64 System V va_list.
BUILTIN_TYPES = """\
# 1 "<reml-builtin>"
typedef struct __va_list_tag { unsigned int gp_offset; unsigned int fp_offset; void *overflow_arg_area; void *reg_save_area; } __reml_va_list[1];
"""
BUILTIN_FILE = "<reml-builtin>"
VA_LIST_TAG = "__va_list_tag"

# compiler messages in plain ASCII English, whatever the user's locale
C_LOCALE_ENV = {**os.environ, "LC_ALL": "C", "LANG": "C"}

_MARKER = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"')
_DEFINE = re.compile(r"^#\s*define\s+([A-Za-z_$][A-Za-z0-9_$]*)(\([^)]*\))?\s*(.*)$")
_UNDEF = re.compile(r"^#\s*undef\s+([A-Za-z_$][A-Za-z0-9_$]*)")


@dataclass(frozen=True)
class MacroDef:
    name: str
    params: tuple[str, ...] | None  # None: object-like
    body: str
    location: Location


@dataclass
class PreprocessedUnit:
    text: str                      # C text for pycparser, macro lines blanked
    macros: dict[str, MacroDef]    # the definition in force at the end, by name
    target_files: frozenset[str]   # real paths of the target headers
    attributes: AttributeTable = field(default_factory=AttributeTable)

    def is_target(self, file: str | None) -> bool:
        return file is not None and _real(file) in self.target_files


_REAL_CACHE: dict[str, str] = {}


def _real(path: str) -> str:
    r = _REAL_CACHE.get(path)
    if r is None:
        r = os.path.realpath(path) if not path.startswith("<") else path
        _REAL_CACHE[path] = r
    return r


def find_cc() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise error("ffi.bindgen.parse_failed", "no C compiler (cc) found for preprocessing")
    return cc


def resolve_header(spelled: str, direct: Path, include_paths: Sequence[Path]) -> Path:
    """A header as given in a config: the path itself (`direct`, already joined to its
    base directory), else looked up on the include path the way `#include "…"` would."""
    candidates = [direct] + ([] if Path(spelled).is_absolute() else
                             [Path(d) / spelled for d in include_paths])
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise error("ffi.bindgen.parse_failed", f"header {spelled} not found",
                header=spelled, searched=[str(c) for c in candidates])


def cc_flags(include_paths: Sequence[Path], defines: Sequence[str],
             extra: Sequence[str] = ()) -> list[str]:
    flags = [f"-I{p}" for p in include_paths]
    flags += [f"-D{d}" for d in defines]
    return flags + list(extra)


def preprocess(headers: Sequence[Path], include_paths: Sequence[Path], defines: Sequence[str],
               extra_flags: Sequence[str] = (), cc: str | None = None) -> PreprocessedUnit:
    """Preprocess the headers together (one translation unit, in the given order)."""
    cc = cc or find_cc()
    source = GNU_PRELUDE + "".join(f'#include "{h}"\n' for h in headers)
    cmd = [cc, "-E", "-dD", "-x", "c", *cc_flags(include_paths, defines, extra_flags), "-"]
    try:
        proc = subprocess.run(cmd, input=source, capture_output=True, text=True, timeout=60,
                              env=C_LOCALE_ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error("ffi.bindgen.parse_failed", f"preprocessor failed to run: {exc}") from None
    if proc.returncode != 0:
        raise _cpp_error(proc.stderr)
    return split_macros(proc.stdout, frozenset(_real(str(h)) for h in headers))


_CC_ERR = re.compile(r"^(.*?):(\d+):(\d+): (?:fatal )?error: (.*)$", re.M)


def _cpp_error(stderr: str):  # -> DiagnosticError
    m = _CC_ERR.search(stderr)
    if m is None:
        return error("ffi.bindgen.parse_failed", f"preprocessor failed: {stderr.strip()[:500]}")
    return error("ffi.bindgen.parse_failed", f"preprocessor: {m.group(4)}",
                 location=Location(m.group(1), int(m.group(2)), int(m.group(3))))


def split_macros(output: str, target_files: frozenset[str]) -> PreprocessedUnit:
    """Take `#define`/`#undef` lines out of `cc -E -dD` output, attributing each macro
    to the file named by the last line marker."""
    lines = output.split("\n")
    macros: dict[str, MacroDef] = {}
    cur_file, cur_line = "<stdin>", 1
    for i, line in enumerate(lines):
        if line.startswith("#"):
            m = _MARKER.match(line)
            if m is not None:
                cur_file, cur_line = m.group(2), int(m.group(1))
                continue
            d = _DEFINE.match(line)
            if d is not None:
                params = None
                if d.group(2) is not None:
                    params = tuple(p.strip() for p in d.group(2)[1:-1].split(",") if p.strip())
                macros[d.group(1)] = MacroDef(d.group(1), params, d.group(3).strip(),
                                              Location(cur_file, cur_line, 1))
                lines[i] = ""
            else:
                u = _UNDEF.match(line)
                if u is not None:
                    macros.pop(u.group(1), None)
                    lines[i] = ""
        cur_line += 1
    text, found = strip_attributes(BUILTIN_TYPES + '# 1 "<stdin>"\n' + "\n".join(lines))
    table = build_table(text, found) if found else AttributeTable()
    return PreprocessedUnit(text, macros, target_files, table)
