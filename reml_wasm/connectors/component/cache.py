"""Compiled wasm, cached on disk: compile once, load in milliseconds afterwards.

wasmtime can serialize what it compiled (a component or a core module) and load it back
without compiling.  Entries live under `<cache root>/compiled/` (the cache root of
reml_wasm.paths), one file per key; the key is a hash of the wasm bytes, wasmtime's
version and the engine configuration, so a change of any of them is a different entry.

An entry is `MAGIC`, the SHA-256 of the payload, then wasmtime's serialized bytes.  It is
written to a temporary file and renamed into place; on a hit the digest is checked before
wasmtime sees the bytes, and an entry that does not check out (truncated, corrupt, written
by another wasmtime) is a miss: the wasm is compiled again and the entry rewritten.
Loading serialized code trusts the cache directory: it must be writable only by its owner
(as `~/.cache` is).

A compile that takes longer than a second shows a progress line on stderr (rich).  The
fast path compiles a component's core modules together, one thread per core
(`modules`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

import wasmtime

from ...audit import write_atomic
from ...paths import cache_root

if TYPE_CHECKING:
    import wasmtime.component as wc

MAGIC = b"reml-wasm compiled v1\n"
PROGRESS_AFTER_SECONDS = 1.0
_ENV_DISABLE = "REML_WASM_NO_COMPILE_CACHE"

Compiled = TypeVar("Compiled", wasmtime.Module, "wc.Component")


def cache_dir() -> Path:
    """Where compiled entries live: `<cache root>/compiled` (`reml_wasm.paths`)."""
    return cache_root() / "compiled"


_version: str | None = None


def wasmtime_version() -> str:
    """The installed wasmtime package's version (part of every key): the one the fast
    path's binding recorded (found again without reading package metadata), else the
    package metadata's."""
    global _version
    if _version is None:
        from .capi import load
        capi, _ = load()
        if capi is not None:
            _version = capi.version
        else:
            from importlib import metadata  # only when a key is made: start-up does not pay for it
            try:
                _version = metadata.version("wasmtime")
            except metadata.PackageNotFoundError:  # pragma: no cover - wasmtime is a dependency
                _version = "unknown"
    return _version


def entry_key(kind: str, data: bytes, engine_config: str) -> str:
    """The entry name for `data` compiled as `kind` (component / module) by this wasmtime
    with an engine configured as `engine_config`."""
    h = hashlib.sha256()
    for part in (kind.encode(), wasmtime_version().encode(), engine_config.encode()):
        h.update(len(part).to_bytes(4, "little") + part)
    h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:40]


def entry_path(kind: str, data: bytes, engine_config: str) -> Path:
    """The file of the entry for `data` compiled as `kind`."""
    return cache_dir() / f"{entry_key(kind, data, engine_config)}.{kind}.cwasm"


def read_entry(path: Path) -> bytes | None:
    """The serialized payload of a cache entry, or None (absent, or failing its check)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC)
    if len(raw) < head + 32 or raw[:head] != MAGIC:
        return None
    digest, payload = raw[head:head + 32], raw[head + 32:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    return payload


def write_entry(path: Path, payload: bytes) -> None:
    """Store `payload` under `path` (temporary file + rename; a failure to write only
    costs the next run a compile)."""
    try:
        write_atomic(path, MAGIC + hashlib.sha256(payload).digest() + payload)
    except OSError:
        pass


def enabled() -> bool:
    """False when `REML_WASM_NO_COMPILE_CACHE` is set (to a non-empty value)."""
    return not os.environ.get(_ENV_DISABLE)


@contextmanager
def progress(what: str, size: int) -> Iterator[None]:
    """A progress line on stderr while the body runs, shown only once it has taken longer
    than `PROGRESS_AFTER_SECONDS` (quick compiles print nothing)."""
    state: dict[str, object] = {}
    lock = threading.Lock()

    def show() -> None:
        from rich.console import Console

        with lock:
            if state.get("done"):
                return
            status = Console(stderr=True).status(f"compiling {what} ({size / 1e6:.1f} MB) with wasmtime…")
            status.start()
            state["status"] = status

    timer = threading.Timer(PROGRESS_AFTER_SECONDS, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            status = state.get("status")
        if status is not None:
            status.stop()  # type: ignore[attr-defined]
            kept = "; cached for the next run" if enabled() else ""
            print(f"compiled {what} ({size / 1e6:.1f} MB){kept}", file=sys.stderr)


def _load(kind: str, engine: wasmtime.Engine, data: bytes, engine_config: str, what: str,
          compile_: Callable[[], Compiled], deserialize: Callable[[bytes], Compiled]) -> Compiled:
    if not enabled():
        with progress(what, len(data)):
            return compile_()
    path = entry_path(kind, data, engine_config)
    payload = read_entry(path)
    if payload is not None:
        try:
            return deserialize(payload)
        except wasmtime.WasmtimeError:
            pass  # another wasmtime build, or bytes wasmtime refuses: compile again
    with progress(what, len(data)):
        compiled = compile_()
    write_entry(path, bytes(compiled.serialize()))
    return compiled


def component(engine: wasmtime.Engine, data: bytes, engine_config: str, what: str = "component") -> "wc.Component":
    """`wasmtime.component.Component(engine, data)`, from the cache when it holds it.
    Raises wasmtime.WasmtimeError for a component wasmtime rejects."""
    import wasmtime.component as wc  # the reference path's import, not the fast path's
    return _load("component", engine, data, engine_config, what,
                 lambda: wc.Component(engine, data),
                 lambda payload: wc.Component.deserialize(engine, payload))


def module(engine: wasmtime.Engine, data: bytes, engine_config: str, what: str = "core module") -> wasmtime.Module:
    """`wasmtime.Module(engine, data)`, from the cache when it holds it.  Raises
    wasmtime.WasmtimeError for a module wasmtime rejects."""
    result = modules(engine, {0: data}, engine_config, what)[0]
    if isinstance(result, wasmtime.WasmtimeError):
        raise result
    return result

def modules(engine: wasmtime.Engine, items: dict[int, bytes], engine_config: str,
            what: str = "core modules") -> dict[int, "wasmtime.Module | wasmtime.WasmtimeError"]:
    """Every module of `items` (key -> wasm bytes) compiled or loaded, the compiles on
    one thread per core (wasmtime compiles without holding the GIL) under one progress
    line.  A module wasmtime rejects maps to its WasmtimeError."""
    out: dict[int, "wasmtime.Module | wasmtime.WasmtimeError"] = {}
    missing: dict[int, bytes] = {}
    for key, data in items.items():
        payload = read_entry(entry_path("module", data, engine_config)) if enabled() else None
        if payload is not None:
            try:
                out[key] = wasmtime.Module.deserialize(engine, payload)
                continue
            except wasmtime.WasmtimeError:
                pass
        missing[key] = data

    def compile_one(data: bytes) -> "wasmtime.Module | wasmtime.WasmtimeError":
        try:
            compiled = wasmtime.Module(engine, data)
        except wasmtime.WasmtimeError as exc:
            return exc
        if enabled():
            write_entry(entry_path("module", data, engine_config), bytes(compiled.serialize()))
        return compiled

    if missing:
        from concurrent.futures import ThreadPoolExecutor
        with progress(what, sum(len(d) for d in missing.values())):
            with ThreadPoolExecutor(max_workers=max(1, min(len(missing), os.cpu_count() or 1))) as pool:
                for key, result in zip(missing, pool.map(compile_one, missing.values())):
                    out[key] = result
    return out
