"""Traps of both paths, reported the same way: `cabi.Trap` with the export's name, the
reason (the last line of wasmtime's message, without the backtrace) and a `kind`:
unreachable, fuel, timeout, poisoned, closed, unprovided-import, memory, copy-limit, arithmetic,
or other."""

from __future__ import annotations

from ... import cabi

_KINDS = (("all fuel consumed", "fuel"), ("interrupt", "timeout"), ("cannot enter component instance", "poisoned"),
          ("has not been defined", "unprovided-import"), ("unreachable", "unreachable"),
          ("out of bounds memory access", "memory"), ("is outside memory", "memory"),
          ("out of bounds of memory", "memory"), ("pointer out of bounds", "memory"), ("integer divide by zero", "arithmetic"),
          ("integer overflow", "arithmetic"), ("too much data is being copied", "copy-limit"))


def reason_of(message: str) -> str:
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    last = lines[-1] if lines else "trap"
    while last.startswith("wasm trap: "):
        last = last[len("wasm trap: "):]
    return last


def kind_of(reason: str) -> str:
    for needle, kind in _KINDS:
        if needle in reason:
            return kind
    return "other"


def trap(name: str, message: str) -> cabi.Trap:
    """The trap for a failed call of `name` given wasmtime's error text."""
    reason = reason_of(message)
    return cabi.Trap(f"{name}: wasm trap: {reason}", kind=kind_of(reason))


CLOSED = "the instance is closed"
"""The poison reason `Instance.close()` leaves in a fast-path instance's call state."""


def closed(name: str) -> cabi.Trap:
    """The trap for a call into an instance after `close()`."""
    return cabi.Trap(f"{name}: the instance is closed", kind="closed")


def poisoned(name: str, reason: str | None = None) -> cabi.Trap:
    """The trap for a call into a poisoned instance (`reason`: the state's poison reason)."""
    if reason == CLOSED:
        return closed(name)
    return cabi.Trap(f"{name}: wasm trap: cannot enter component instance (poisoned by an earlier trap; "
                     "instantiate the component again)", kind="poisoned")


def unprovided(import_name: str) -> cabi.Trap:
    return cabi.Trap(f"unknown import: `{import_name}` has not been defined", kind="unprovided-import")


def instantiation_failure(message: str, *, trapped: bool = False) -> Exception:
    """The error for a failed instantiation, the same on both paths: a `cabi.Trap` named
    `instantiation` when wasm trapped (a start function, an initializer), else
    `ffi.component.link` with wasmtime's reason (no backtrace)."""
    from ...audit import error

    reason = reason_of(message)
    if trapped or "wasm backtrace" in message or kind_of(reason) != "other":
        if "`wasi:" in reason and "has not been defined" in reason:
            return cabi.Trap(f"instantiation: wasm trap: {reason} (the component uses WASI while starting: "
                             "grant it with Sandbox(wasi=...) or --allow-wasi)", kind=kind_of(reason))
        return trap("instantiation", message)
    first = next((ln.strip() for ln in message.splitlines() if ln.strip()), reason)
    detail = first if first == reason else f"{first}: {reason}"
    return error("ffi.component.link", f"instantiation failed: {detail}")
