"""Connectors: the ways a call can run, behind one small protocol.

Each connector lives in its own package and exposes one `Connector` implementation:

* `component/` runs WebAssembly components through wasmtime (a fast path on wasmtime's
  core API and a reference path on `wasmtime.component`);
* `native/` calls C shared libraries through cffi, directly or through the Canonical ABI
  engine at pointer width 8 (a library built from the same C source as a component);
* `plugin/` loads Nyash BID-1 plugins and calls them with TLV-encoded arguments.

A connector is opened once, binds functions by their interface key and is closed when
the caller is done.  An interface key names a function as a component does:
`ns:pkg/iface@1.0.0#func` for a function of an interface, `func` for a function of the
world itself, with resource functions spelled `[constructor]r`, `[method]r.m` and
`[static]r.f`, and `…#[resource-drop]r` binds the drop of an owned handle (the destructor
runs exactly once).  A connector may also offer `symbol(key)`, the name an audit record
gives the callee (export name, C symbol, `Box.method`), and a `library` attribute.
Bound functions take and return values in the reml_wasm.values
convention, whichever connector serves them, so a caller (the router, typed bindings)
never needs to know which one it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

__all__ = ["Availability", "Connector"]


@dataclass(frozen=True)
class Availability:
    """Whether a connector can serve, and if not, why (a sentence a user can act on)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@runtime_checkable
class Connector(Protocol):
    """One way to run calls: open it, bind functions by interface key, call, close.

    `name` is the transport ("component", "native" or "plugin").  `available()` answers
    without side effects that last (it may look at files and tools); `bind` raises a coded
    `DiagnosticError` when the connector cannot serve that function (`ffi.symbol.not_found`,
    `ffi.component.no_export`, ...).  `close()` releases what `open` and `bind` acquired and
    may be called more than once.
    """

    name: str

    def available(self) -> Availability:
        """Whether this connector can serve at all, with the reason when it cannot."""
        ...

    def bind(self, key: str) -> Callable[..., Any]:
        """The function named by `key`, as a callable taking and returning reml values."""
        ...

    def close(self) -> None:
        """Release the instance, library or plugin behind this connector."""
        ...
