"""Host functions the guest calls, reached from C with the raw value slots.

Every host function of the fast path (a lowered import, `resource.new/rep/drop`) is a
wasmtime function made by `CApi.new_host_func` over one C entry point.  Its `env` is an
integer key into `REGISTRY`, whose value is a generated Python function `entry(raw)`:
`raw` is the `int64_t *` view of the call's value slots (slot k is `raw[2 * k]`), the
function reads its arguments from it, writes its results back and returns 0.  A host
function made with `scalar=True` (integers only, API mode) has an entry
`entry(a0, a1, a2) -> result`: the first three slots as ints in, slot 0's int out.

Lifetime: wasmtime calls the finalizer (`release`) when the store is deleted, which
removes the key; an entry holds only what its calls need (plans, handle tables, the
host callable) and never the store, so an instance whose store nobody uses any more is
freed with its host functions.  `release_keys` removes them earlier (an instance closed
by its owner); a call that reaches a removed key traps.

A Python exception from an entry becomes a trap of the guest's call; the exception is
kept per thread (`take_exception`) so the caller that entered the store re-raises it.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable, Iterable

REGISTRY: dict[int, Callable[..., int]] = {}
_keys = itertools.count(1)
_pending = threading.local()


def register(entry: Callable[..., int]) -> int:
    """A fresh key for `entry` (an `entry(raw) -> 0` function, or a scalar entry)."""
    key = next(_keys)
    REGISTRY[key] = entry
    return key


def release_keys(keys: Iterable[int]) -> None:
    """Forget entries now (their store may live on: later calls to them trap)."""
    for key in keys:
        REGISTRY.pop(key, None)


def take_exception() -> BaseException | None:
    """The exception the last failed host entry of this thread raised (once)."""
    exc = getattr(_pending, "exc", None)
    if exc is not None:
        _pending.exc = None
    return exc


def attach(capi: Any) -> None:
    """Give `capi` its C entry points (`host_entry`, `host_release`): the module's
    `extern "Python"` functions in API mode, cffi callbacks in ABI mode.  Idempotent."""
    if capi.host_entry is not None:
        return
    registry = REGISTRY
    new_trap = capi.new_trap
    pending = _pending

    def entry(env: int, caller: Any, raw: Any, n: int) -> int:
        try:
            return registry[env](raw)
        except BaseException as exc:  # noqa: BLE001 - becomes the guest's trap; re-raised by the caller
            if env not in registry:
                exc = RuntimeError("a host function of a released instance was called")
            pending.exc = exc
            return new_trap("host function raised an exception")

    def release(env: int) -> None:
        try:
            registry.pop(env, None)
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to release
            pass

    from .capi import CALLBACK, FINALIZER
    ffi = capi.ffi
    if capi.mode == "api":
        set_trap = capi.lib.reml_host_set_trap

        def scalar_entry(env: int, a0: int, a1: int, a2: int) -> int:
            try:
                return registry[env](a0, a1, a2)
            except BaseException as exc:  # noqa: BLE001 - as `entry`
                if env not in registry:
                    exc = RuntimeError("a host function of a released instance was called")
                pending.exc = exc
                set_trap(new_trap("host function raised an exception"))
                return 0

        ffi.def_extern(name="reml_host_entry")(entry)
        ffi.def_extern(name="reml_host_release")(release)
        ffi.def_extern(name="reml_host_scalar_entry")(scalar_entry)
        capi.host_entry, capi.host_release = capi.lib.reml_host_entry, capi.lib.reml_host_release
        capi.host_scalar = capi.lib.reml_host_scalar
    else:
        capi.host_entry = ffi.callback(CALLBACK, entry)
        capi.host_release = ffi.callback(FINALIZER, release)
