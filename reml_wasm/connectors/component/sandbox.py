"""Sandbox limits of a component instance and the engine configuration they need.

fuel: each call starts with this much fuel (wasmtime's instruction budget); a runaway guest
traps (`kind` fuel).  timeout: a wall-clock deadline per call, by epoch interruption: one
daemon thread per engine advances the engine's epoch every TICK_SECONDS, and each call sets
its store's deadline that many ticks ahead (`kind` timeout).  memory_limit: bytes of linear
memory per store.  wasi: grant WASI preview 2 (reference path only).
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from dataclasses import dataclass

import wasmtime

from ...audit import error

TICK_SECONDS = 0.01


@dataclass(frozen=True)
class Sandbox:
    fuel: int | None = None
    timeout: float | None = None
    memory_limit: int | None = None
    wasi: bool = False

    def __post_init__(self) -> None:
        if self.fuel is not None and (not isinstance(self.fuel, int) or self.fuel <= 0):
            raise error("ffi.component.sandbox", f"fuel must be a positive integer, not {self.fuel!r}")
        if self.timeout is not None and not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise error("ffi.component.sandbox", f"timeout must be positive seconds, not {self.timeout!r}")
        if self.memory_limit is not None and (not isinstance(self.memory_limit, int) or self.memory_limit <= 0):
            raise error("ffi.component.sandbox", f"memory_limit must be positive bytes, not {self.memory_limit!r}")

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
    fuel, epoch = key
    config = wasmtime.Config()
    config.consume_fuel = fuel
    config.epoch_interruption = epoch
    config.memory_reservation = 1 << 32
    config.memory_may_move = False
    engine = wasmtime.Engine(config)
    _FIXED_MEMORY_ENGINES.add(engine)
    _ENGINE_CONFIGS[engine] = f"fuel={fuel};epoch={epoch};memory_reservation={1 << 32};memory_may_move=False"
    if epoch:
        _start_ticker(engine)
    return engine


def engine_config(engine: wasmtime.Engine) -> str:
    """The configuration `engine` was made with, as text (part of compiled-cache keys);
    engines not made by `make_engine` have their own identity as configuration."""
    return _ENGINE_CONFIGS.get(engine, f"foreign engine {id(engine)}")


def memories_stay_put(engine: wasmtime.Engine) -> bool:
    """True when `engine` came from `make_engine`: its linear memories never move."""
    return engine in _FIXED_MEMORY_ENGINES


def _start_ticker(engine: wasmtime.Engine) -> None:
    ref = weakref.ref(engine)

    def tick() -> None:
        while True:
            time.sleep(TICK_SECONDS)
            eng = ref()
            if eng is None:
                return
            eng.increment_epoch()
            del eng

    threading.Thread(target=tick, name="reml-wasm-epoch", daemon=True).start()
