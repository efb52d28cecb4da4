"""cffi API mode: an out-of-line extension module compiled once and cached by content hash.

cffi writes the C source of the module (`emit_c_code`); we compile it ourselves with the
system C compiler so that its messages can be read: a header that disagrees with the
declaration ("conflicting types for ...") becomes `ffi.signature.mismatch`.  The module
links the library by its path (with an rpath) or its soname.  The cache key covers the
declarations, the C source, the link arguments, the library's bytes, the compiler, the
Python ABI and the cffi version; the finished module is renamed into place, so a crash
never leaves half a module.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Sequence

import cffi

from . import toolchain
from .audit import Location, error
from .libraries import ResolvedLibrary

_loaded: dict[str, ModuleType] = {}
_lock = threading.Lock()


def c_compiler() -> str | None:
    """The system C compiler, or None when there is none (API mode is then unavailable)."""
    try:
        return shutil.which(toolchain.c_compiler())
    except toolchain.ToolchainError:
        return None


@dataclass(frozen=True)
class ApiModule:
    ffi: cffi.FFI
    lib: object
    path: Path


def _library_digest(lib: ResolvedLibrary | None) -> str:
    if lib is None:
        return "unlinked"
    if lib.path is None:
        return f"soname:{lib.soname}"
    return f"{lib.path}:{toolchain.file_sha256(lib.path)}"


def _link_args(lib: ResolvedLibrary | None) -> list[str]:
    if lib is None:
        return []
    if lib.path is None:
        return [f"-l:{lib.soname}"]
    return [str(lib.path), f"-Wl,-rpath,{lib.path.parent}"]


_CONFLICT = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>(conflicting types for|"
                       r"incompatible|too (few|many) arguments)[^\n]*)", re.M)
_PREVIOUS = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): note: previous (declaration|definition)", re.M)
_ANY_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>[^\n]*)", re.M)


def build_api_module(cdef: str, source: str, lib: ResolvedLibrary | None, *,
                     include_dirs: Sequence[str] = (), limited_api: bool = True) -> ApiModule:
    """Compile (or reuse) the API-mode module for `cdef`, whose C source is `source`.
    `lib=None` links no library (a module that calls only through function pointers).
    `limited_api=False` compiles against the full CPython API (for a source that reads
    Python objects' insides; the module is built per Python version either way)."""
    cc = c_compiler()
    if cc is None:
        raise error("ffi.api.unavailable", "API mode needs a C compiler and none was found")
    link = _link_args(lib)
    key_parts = ["entry-format 2", cdef, source, "\0".join(link), "\0".join(include_dirs), _library_digest(lib), cc,
                 sys.version, cffi.__version__, sysconfig.get_config_var("EXT_SUFFIX") or ""]
    if not limited_api:
        key_parts.append("-D_CFFI_NO_LIMITED_API")
    digest = hashlib.sha256("\x1f".join(key_parts).encode()).hexdigest()[:20]
    modname = f"_reml_api_{digest}"
    with _lock:
        if digest in _loaded:
            mod = _loaded[digest]
            return ApiModule(mod.ffi, mod.lib, Path(mod.__file__ or ""))
        outdir = toolchain.cache_root() / "native-api"
        target = outdir / f"{modname}{sysconfig.get_config_var('EXT_SUFFIX') or '.so'}"
        if target.exists() and not toolchain.file_intact(target):
            toolchain.discard(target)  # damaged (truncated, overwritten): built again
        if not target.is_file():
            outdir.mkdir(parents=True, exist_ok=True)
            toolchain.clean_orphans(outdir)
            _compile(cc, modname, cdef, source, link, include_dirs, outdir, target, limited_api)
        spec = importlib.util.spec_from_file_location(modname, target)
        if spec is None or spec.loader is None:  # pragma: no cover - the file was just written
            raise error("ffi.api.build_failed", f"cannot load compiled module {target}")
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except ImportError as exc:
            raise error("ffi.api.build_failed", f"compiled module {target} does not load: {exc}") from None
        _loaded[digest] = mod
        return ApiModule(mod.ffi, mod.lib, target)


def _compile(cc: str, modname: str, cdef: str, source: str, link: list[str],
             include_dirs: Sequence[str], outdir: Path, target: Path, limited_api: bool = True) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    builder = cffi.FFI()
    builder.cdef(cdef)
    builder.set_source(modname, source)
    with tempfile.TemporaryDirectory(dir=outdir, prefix=".build-") as tmp:
        c_file = Path(tmp) / f"{modname}.c"
        with contextlib.redirect_stdout(io.StringIO()):  # cffi announces "generating ..."
            builder.emit_c_code(str(c_file))
        so_tmp = Path(tmp) / target.name
        cmd = [cc, "-shared", "-fPIC", "-O2", "-w", "-Werror=implicit-function-declaration",
               *([] if limited_api else ["-D_CFFI_NO_LIMITED_API"]),  # cffi's switch off Py_LIMITED_API
               f"-I{sysconfig.get_paths()['include']}", *[f"-I{d}" for d in include_dirs],
               str(c_file), "-o", str(so_tmp), *link]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
        if proc.returncode != 0:
            raise _compile_error(proc.stderr, c_file)
        toolchain.seal_file(so_tmp)
        os.replace(so_tmp.with_name(so_tmp.name + ".sha256"), target.with_name(target.name + ".sha256"))
        os.replace(so_tmp, target)


def _compile_error(stderr: str, c_file: Path) -> Exception:
    m = _CONFLICT.search(stderr)
    if m:
        prev = _PREVIOUS.search(stderr)  # where the header declares it
        loc = Location(prev["file"], int(prev["line"]), int(prev["col"])) if prev else Location("<cdecl>", 1, 1)
        return error("ffi.signature.mismatch",
                     f"the declaration disagrees with the library's header: {m['msg']}",
                     location=loc, compiler_output=stderr[-2000:])
    m = _ANY_ERROR.search(stderr)
    detail = m["msg"] if m else stderr.strip().splitlines()[-1:] or ["unknown error"]
    return error("ffi.api.build_failed", f"compiling the API-mode module failed: {detail}",
                 compiler_output=stderr[-2000:])
