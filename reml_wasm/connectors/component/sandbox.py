"""Sandbox limits of a component instance and the engine configuration they need.

fuel: each call starts with this much fuel (wasmtime's instruction budget); a runaway guest
traps (`kind` fuel).  timeout: a wall-clock deadline per call, by epoch interruption: one
daemon thread per process advances the epoch of the engines that need it every
TICK_SECONDS, and each call sets its store's deadline that many ticks ahead (`kind`
timeout).  The thread runs only while some instance with a timeout is alive
(`EpochTicker.hold`) and stops when the last one is released.  memory_limit: bytes of
linear memory per store.  copy_limit: bytes the host may copy out of guest memory while
lifting the values of one call (a guest whose lists alias one region cannot make the host
build far more data than its memory holds; `kind` copy-limit).  wasi: grant WASI preview 2
— `True` for the interfaces that reach nothing outside the guest (clocks, random, empty
arguments and environment, no files, output discarded), or a `WasiConfig` naming what else
is granted.  Both paths take the same configuration: the fast path runs WASI in Python
(component/wasi/), the reference path runs wasmtime's own WASI configured from it.

Engines are shared per process, one per configuration (`shared_engine`): wasmtime engines
are thread-safe, and every component compiled for one may be instantiated from any thread.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Union

import wasmtime

from ...audit import error

TICK_SECONDS = 0.01
MAX_TIMEOUT = 366 * 24 * 3600.0  # a year: epoch ticks stay far inside 64 bits

# bytes of host data one call may lift out of guest memory unless the sandbox says otherwise
# (the same budget wasmtime's own host gives a call, 128 MiB)
DEFAULT_COPY_LIMIT = 128 << 20


@dataclass(frozen=True)
class Preopen:
    """A host directory granted to the guest as `guest` (its path inside the guest).
    Nothing outside `host` is reachable through it: `..` past its root, absolute paths
    and symbolic links that lead out are refused.  `readonly`: no writes, creations,
    removals or renames."""

    host: str
    guest: str = "."
    readonly: bool = False


Output = Union[None, str, Callable[[bytes], Any], Any]
"""Where a guest's stdout/stderr goes: None (discarded), "inherit" (this process's
stream), a callable taking bytes, or a binary file-like object (its `write`)."""


@dataclass(frozen=True)
class WasiConfig:
    """What a WASI preview 2 guest is granted; nothing beyond it.

    args: the full argument list (`args[0]` is the program name by convention).
    env: environment variables.  dirs: `Preopen`s, or `host` / `(host, guest)` /
    `(host, guest, "ro"|"rw")` shorthands.  stdin: bytes to read, "inherit", or None
    (empty).  stdout / stderr: see `Output`.  Network access is never granted: wasi:sockets
    refuses sockets and name lookups, wasi:http builds requests locally and refuses to send
    them (as wasmtime answers a guest granted no network)."""

    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    dirs: tuple[Preopen, ...] = ()
    stdin: bytes | str | None = None
    stdout: Output = field(default=None, compare=False)
    stderr: Output = field(default=None, compare=False)

    def __post_init__(self) -> None:
        args, env, dirs = self.args, self.env, self.dirs
        if isinstance(args, (str, bytes)) or not isinstance(args, Sequence) or \
                not all(isinstance(a, str) for a in args):
            raise error("ffi.component.sandbox", f"WASI args must be a list of strings, not {args!r}")
        if any("\0" in a for a in args):  # a guest reads C strings: the rest would be lost
            raise error("ffi.component.sandbox", "WASI args may not contain NUL")
        pairs = list(env.items()) if isinstance(env, Mapping) else list(env)
        if not all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs):
            raise error("ffi.component.sandbox", "WASI env must map strings to strings")
        if any("=" in k or "\0" in k + v for k, v in pairs):
            raise error("ffi.component.sandbox", "WASI env names may not contain '=' or NUL")
        # the guest sees strings of Unicode scalar values: a name the system gave as bytes
        # that are not UTF-8 (a lone surrogate in Python) has no such form
        for what, text in [*((f"WASI argument {i}", a) for i, a in enumerate(args)),
                           *((f"WASI environment variable name {k!r}", k) for k, _ in pairs),
                           *((f"WASI environment variable {k!r}", v) for k, v in pairs)]:
            _unicode_text(text, what)
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "env", tuple(pairs))
        object.__setattr__(self, "dirs", tuple(_preopen(d) for d in dirs))
        if self.stdin is not None and not isinstance(self.stdin, (bytes, bytearray)) and self.stdin != "inherit":
            raise error("ffi.component.sandbox", f"WASI stdin must be bytes, \"inherit\" or None, not {self.stdin!r}")
        for name in ("stdout", "stderr"):
            out = getattr(self, name)
            if not (out is None or out == "inherit" or callable(out) or callable(getattr(out, "write", None))):
                raise error("ffi.component.sandbox",
                            f"WASI {name} must be None, \"inherit\", a callable or a writable file, not {out!r}")


def _unicode_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error("ffi.component.sandbox", f"{what} is not Unicode text (character {exc.start}: "
                    "a byte that is not UTF-8)") from None


def _preopen(d: Any) -> Preopen:
    if isinstance(d, Preopen):
        p = d
    elif isinstance(d, (str, os.PathLike)):
        p = Preopen(os.fspath(d), os.fspath(d))
    elif isinstance(d, tuple) and len(d) in (2, 3) and all(isinstance(x, (str, os.PathLike)) for x in d):
        mode = d[2] if len(d) == 3 else "rw"
        if mode not in ("ro", "rw"):
            raise error("ffi.component.sandbox", f"directory mode must be 'ro' or 'rw', not {mode!r}")
        p = Preopen(os.fspath(d[0]), os.fspath(d[1]), readonly=mode == "ro")
    else:
        raise error("ffi.component.sandbox", f"a granted directory is a path, (host, guest) or a Preopen, not {d!r}")
    if not os.path.isdir(p.host):
        raise error("ffi.component.sandbox", f"granted directory {p.host!r} is not a directory", path=p.host)
    _unicode_text(p.guest, f"the guest name of granted directory {p.host!r}")
    return Preopen(os.path.realpath(p.host), p.guest or ".", p.readonly)


@dataclass(frozen=True)
class Sandbox:
    fuel: int | None = None
    timeout: float | None = None
    memory_limit: int | None = None
    wasi: bool | WasiConfig = False
    copy_limit: int = DEFAULT_COPY_LIMIT

    def __post_init__(self) -> None:
        if self.fuel is not None and (not isinstance(self.fuel, int) or self.fuel <= 0):
            raise error("ffi.component.sandbox", f"fuel must be a positive integer, not {self.fuel!r}")
        if self.timeout is not None and not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise error("ffi.component.sandbox", f"timeout must be positive seconds, not {self.timeout!r}")
        if self.memory_limit is not None and (not isinstance(self.memory_limit, int) or self.memory_limit <= 0):
            raise error("ffi.component.sandbox", f"memory_limit must be positive bytes, not {self.memory_limit!r}")
        if self.fuel is not None and self.fuel >= 1 << 64:
            raise error("ffi.component.sandbox", f"fuel must be below 2**64, not {self.fuel!r}")
        if self.memory_limit is not None and self.memory_limit >= 1 << 63:
            raise error("ffi.component.sandbox", f"memory_limit must be below 2**63 bytes, not {self.memory_limit!r}")
        if self.timeout is not None and not (math.isfinite(self.timeout) and self.timeout <= MAX_TIMEOUT):
            raise error("ffi.component.sandbox", f"timeout must be finite seconds at most {MAX_TIMEOUT}, "
                        f"not {self.timeout!r}")
        if isinstance(self.copy_limit, bool) or not isinstance(self.copy_limit, int) or self.copy_limit <= 0:
            raise error("ffi.component.sandbox", f"copy_limit must be positive bytes, not {self.copy_limit!r}")
        if not isinstance(self.wasi, (bool, WasiConfig)):
            raise error("ffi.component.sandbox", f"wasi must be True, False or a WasiConfig, not {self.wasi!r}")

    @property
    def wasi_config(self) -> WasiConfig | None:
        """The WASI grant (None: no WASI; `True` is an empty `WasiConfig`)."""
        if self.wasi is True:
            return WasiConfig()
        return self.wasi or None

    @property
    def engine_key(self) -> tuple[bool, bool]:
        """What the engine must be configured for: (fuel, epoch interruption)."""
        return self.fuel is not None, self.timeout is not None

    @property
    def epoch_ticks(self) -> int | None:
        return None if self.timeout is None else max(1, math.ceil(self.timeout / TICK_SECONDS))


# Engines made here never move a linear memory: a 32-bit memory is reserved whole (4 GiB
# of address space) and grows in place, so the fast path keeps one view of each memory and
# re-reads its size only when an access goes past the size it knows.
_FIXED_MEMORY_ENGINES: "weakref.WeakSet[wasmtime.Engine]" = weakref.WeakSet()


_ENGINE_CONFIGS: "weakref.WeakKeyDictionary[wasmtime.Engine, str]" = weakref.WeakKeyDictionary()


def make_engine(key: tuple[bool, bool]) -> wasmtime.Engine:
    """A new engine configured for `key` (fuel, epoch interruption); its memories never move."""
    fuel, epoch = key
    config = wasmtime.Config()
    config.consume_fuel = fuel
    config.epoch_interruption = epoch
    config.memory_reservation = 1 << 32
    config.memory_may_move = False
    engine = wasmtime.Engine(config)
    _FIXED_MEMORY_ENGINES.add(engine)
    _ENGINE_CONFIGS[engine] = f"fuel={fuel};epoch={epoch};memory_reservation={1 << 32};memory_may_move=False"
    return engine


def engine_config(engine: wasmtime.Engine) -> str:
    """The configuration `engine` was made with, as text (part of compiled-cache keys);
    engines not made by `make_engine` have their own identity as configuration."""
    return _ENGINE_CONFIGS.get(engine, f"foreign engine {id(engine)}")


_SHARED: dict[tuple[bool, bool], wasmtime.Engine] = {}
_SHARED_LOCK = threading.Lock()


def shared_engine(key: tuple[bool, bool]) -> wasmtime.Engine:
    """The process's engine for `key`, made on first use (thread-safe)."""
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is None:
            engine = _SHARED[key] = make_engine(key)
        return engine


def memories_stay_put(engine: wasmtime.Engine) -> bool:
    """True when `engine` came from `make_engine`: its linear memories never move."""
    return engine in _FIXED_MEMORY_ENGINES


class EpochTicker:
    """One daemon thread per process that advances the epoch of engines with epoch
    interruption while at least one holder is alive.  `hold(owner, engine)` counts the
    owner until it is released (`release`) or garbage-collected; the thread exits when the
    count drops to zero and starts again with the next holder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[int, tuple[wasmtime.Engine, int]] = {}
        # releases arrive from garbage-collection finalizers, which may run on any thread
        # at any allocation (even one holding `_lock`): they only append here, and the
        # counts are settled under the lock by `hold` and the ticker thread
        self._released: list[int] = []
        self._thread: threading.Thread | None = None

    def hold(self, owner: object, engine: wasmtime.Engine) -> Callable[[], None]:
        """Tick `engine` while `owner` lives; returns the idempotent release function."""
        with self._lock:
            self._settle()
            eng, count = self._engines.get(id(engine), (engine, 0))
            self._engines[id(engine)] = (eng, count + 1)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="reml-wasm-epoch", daemon=True)
                self._thread.start()
        return weakref.finalize(owner, self._released.append, id(engine))

    def _settle(self) -> None:
        while self._released:
            key = self._released.pop()
            eng, count = self._engines[key]
            if count <= 1:
                del self._engines[key]
            else:
                self._engines[key] = (eng, count - 1)

    @property
    def running(self) -> bool:
        """True while the ticker thread exists."""
        with self._lock:
            return self._thread is not None

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            with self._lock:
                self._settle()
                engines = [eng for eng, _ in self._engines.values()]
                if not engines:
                    self._thread = None
                    return
            for eng in engines:
                eng.increment_epoch()


TICKER = EpochTicker()
