"""Front end: run the system C preprocessor (`cc -E -dD`) over the target headers.

Headers are searched for on the `-I` directories, then on the compiler's own include
directories (as `cc -E -v` lists them).  GNU extensions pycparser cannot read are
defined away in a prelude placed before the headers (`__extension__`, the
`__restrict`/`__inline` spellings, `_FloatN` types); `__asm__` labels and statements and
`__attribute__`s are blanked out of the output (attributes.py), the labels kept as the
symbol a function links to.  `-dD` keeps every `#define` in the output next to the line
markers, so each macro is attributed to the file that defined it; the macro lines are
taken out (blanked, so line numbers stay right) and returned apart.  The line markers
also give the include graph, from which selection.py finds the target headers.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..audit import Location, error
from .attributes import AttributeTable, build_table, strip_asm, strip_attributes
from .selection import library_headers, real_path

# What the compiler knows but pycparser does not.  Each line is one `#define`.
GNU_PRELUDE = """\
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
#define __int128 long long long
#define _Noreturn
#define __builtin_offsetof offsetof
#define __alignof__ _Alignof
#define __alignof _Alignof
#define __builtin_va_list __reml_va_list
"""

# Put in front of the preprocessed text for pycparser: the x86_64 System V va_list.
BUILTIN_TYPES = """\
# 1 "<reml-builtin>"
typedef struct __va_list_tag { unsigned int gp_offset; unsigned int fp_offset; void *overflow_arg_area; void *reg_save_area; } __reml_va_list[1];
typedef long long long __int128_t;
typedef unsigned long long long __uint128_t;
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
    target_files: frozenset[str]   # real paths of the target headers (selection.py)
    attributes: AttributeTable = field(default_factory=AttributeTable)
    named_files: frozenset[str] = frozenset()  # real paths of the headers as given

    def is_target(self, file: str | None) -> bool:
        return file is not None and real_path(file) in self.target_files

    def is_named(self, file: str | None) -> bool:
        return file is not None and real_path(file) in self.named_files


def find_cc() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise error("ffi.bindgen.parse_failed", "no C compiler (cc) found for preprocessing")
    return cc


_SEARCH_START = "#include <...> search starts here:"


@functools.lru_cache(maxsize=8)
def _compiler_dirs(cc: str) -> tuple[Path, ...]:
    try:
        proc = subprocess.run([cc, "-E", "-v", "-x", "c", "-o", os.devnull, os.devnull],
                              capture_output=True, text=True, timeout=60, env=C_LOCALE_ENV)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    lines = proc.stderr.splitlines()
    if _SEARCH_START not in lines:
        return ()
    dirs = []
    for line in lines[lines.index(_SEARCH_START) + 1:]:
        if not line.startswith(" "):
            break
        d = line.strip().removesuffix(" (framework directory)")
        if os.path.isdir(d):
            dirs.append(Path(os.path.realpath(d)))
    return tuple(dirs)


def compiler_include_dirs(cc: str | None = None) -> tuple[Path, ...]:
    """The system compiler's own `#include <…>` directories, in its search order."""
    return _compiler_dirs(cc or find_cc())


def resolve_header(spelled: str, direct: Path, include_paths: Sequence[Path]) -> Path:
    """A header as given in a config: the path itself (`direct`, already joined to its
    base directory), else looked up on the include path the way `#include "…"` would,
    then on the compiler's include directories."""
    search = list(include_paths) + [d for d in compiler_include_dirs() if d not in include_paths]
    candidates = [direct] + ([] if Path(spelled).is_absolute() else
                             [Path(d) / spelled for d in search])
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
        # bytes both ways: header names may not be UTF-8, and neither may their contents
        proc = subprocess.run(cmd, input=source.encode("utf-8", "surrogateescape"), capture_output=True,
                              timeout=60, env=C_LOCALE_ENV)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise error("ffi.bindgen.parse_failed", f"preprocessor failed to run: {exc}") from None
    if proc.returncode != 0:
        raise _cpp_error(proc.stderr.decode("utf-8", "backslashreplace"))
    try:
        output = proc.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(proc.stdout, exc) from None
    system = [str(p) for p in compiler_include_dirs(cc)]
    roots = [str(p.resolve()) for p in include_paths] + system
    return split_macros(output, [real_path(str(h)) for h in headers], roots, system)


def _not_utf8(output: bytes, exc: UnicodeDecodeError):  # -> DiagnosticError
    """`ffi.bindgen.parse_failed` at the header line and column of the first byte of
    the preprocessed text that is not UTF-8 (found through cpp's line markers)."""
    file, line = "<stdin>", 1
    start = 0
    for raw in output[:exc.start].split(b"\n")[:-1]:
        start += len(raw) + 1
        m = _MARKER.match(raw.decode("utf-8", "replace"))
        if m is not None:
            file, line = m.group(2), int(m.group(1))
        else:
            line += 1
    column = len(output[start:exc.start].decode("utf-8", "replace")) + 1
    byte = output[exc.start:exc.start + 1]
    return error("ffi.bindgen.parse_failed", f"the header is not UTF-8 text (byte 0x{byte.hex()})",
                 location=Location(file, line, column))


_CC_ERR = re.compile(r"^(.*?):(\d+):(\d+): (?:fatal )?error: (.*)$", re.M)


def _cpp_error(stderr: str):  # -> DiagnosticError
    m = _CC_ERR.search(stderr)
    if m is None:
        return error("ffi.bindgen.parse_failed", f"preprocessor failed: {stderr.strip()[:500]}")
    return error("ffi.bindgen.parse_failed", f"preprocessor: {m.group(4)}",
                 location=Location(m.group(1), int(m.group(2)), int(m.group(3))))


def split_macros(output: str, named: Sequence[str], roots: Sequence[str] = (),
                 system_roots: Sequence[str] = ()) -> PreprocessedUnit:
    """Take `#define`/`#undef` lines out of `cc -E -dD` output, attributing each macro
    to the file named by the last line marker; the targets are the `named` headers
    (real paths) and the headers of their libraries (`roots`: the include directories)."""
    lines = output.split("\n")
    macros: dict[str, MacroDef] = {}
    includes: dict[str, list[str]] = {}
    own_text: set[str] = set()  # files with declarations or valued macros of their own
    cur_file, cur_line = "<stdin>", 1
    for i, line in enumerate(lines):
        if line.startswith("#"):
            m = _MARKER.match(line)
            if m is not None:
                new_file, cur_line = m.group(2), int(m.group(1))
                if "1" in line[m.end():].split() and new_file != cur_file:  # flag 1: entering
                    includes.setdefault(real_path(cur_file), []).append(real_path(new_file))
                cur_file = new_file
                continue
            d = _DEFINE.match(line)
            if d is not None:
                params = None
                if d.group(2) is not None:
                    params = tuple(p.strip() for p in d.group(2)[1:-1].split(",") if p.strip())
                macros[d.group(1)] = MacroDef(d.group(1), params, d.group(3).strip(),
                                              Location(cur_file, cur_line, 1))
                if d.group(3).strip():
                    own_text.add(cur_file)  # a constant of its own: not a mere umbrella
                lines[i] = ""
            else:
                u = _UNDEF.match(line)
                if u is not None:
                    macros.pop(u.group(1), None)
                    lines[i] = ""
        elif line and not line.isspace():
            own_text.add(cur_file)
        cur_line += 1
    text, found = strip_attributes(BUILTIN_TYPES + '# 1 "<stdin>"\n' + "\n".join(lines))
    text, labels = strip_asm(text)
    if labels:
        found = sorted(found + labels, key=lambda f: f[0])
    table = build_table(text, found) if found else AttributeTable()
    targets = library_headers(named, includes, {real_path(f) for f in own_text}, roots, system_roots)
    return PreprocessedUnit(text, macros, targets, table, frozenset(named))
