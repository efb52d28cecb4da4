"""reml_wasm: one interface definition, run as a WebAssembly component or a native library.

The entry points a user needs are importable from here; each is loaded on first use, so
`import reml_wasm` stays cheap:

* `Component`, `Sandbox` — run WebAssembly components (reml_wasm.connectors.component);
* `NativeLibrary`, `CanonicalNativeLibrary` — call C libraries (reml_wasm.connectors.native);
* `PluginHost` — load Nyash BID-1 plugins (reml_wasm.connectors.plugin);
* `Router` — one call, routed to whichever connector serves it (reml_wasm.router);
* `load_wit` — resolve WIT files (reml_wasm.wit.load);
* `Ok`, `Err`, `Some`, `Variant`, `Record` — the value classes (reml_wasm.values);
* `DiagnosticError` — what every coded failure raises (reml_wasm.audit).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str]] = {
    "Component": ("reml_wasm.connectors.component", "Component"),
    "Sandbox": ("reml_wasm.connectors.component", "Sandbox"),
    "NativeLibrary": ("reml_wasm.connectors.native", "NativeLibrary"),
    "CanonicalNativeLibrary": ("reml_wasm.connectors.native", "CanonicalNativeLibrary"),
    "PluginHost": ("reml_wasm.connectors.plugin", "PluginHost"),
    "Router": ("reml_wasm.router", "Router"),
    "load_wit": ("reml_wasm.wit", "load"),
    "Ok": ("reml_wasm.values", "Ok"),
    "Err": ("reml_wasm.values", "Err"),
    "Some": ("reml_wasm.values", "Some"),
    "Variant": ("reml_wasm.values", "Variant"),
    "Record": ("reml_wasm.values", "Record"),
    "DiagnosticError": ("reml_wasm.audit", "DiagnosticError"),
}

# Spelled out (the keys of `_EXPORTS`), so a type checker sees the re-exports.
__all__ = ["__version__", "Component", "Sandbox", "NativeLibrary", "CanonicalNativeLibrary", "PluginHost", "Router",
           "load_wit", "Ok", "Err", "Some", "Variant", "Record", "DiagnosticError"]

if TYPE_CHECKING:
    from .audit import DiagnosticError
    from .connectors.component import Component, Sandbox
    from .connectors.native import CanonicalNativeLibrary, NativeLibrary
    from .connectors.plugin import PluginHost
    from .router import Router
    from .values import Err, Ok, Record, Some, Variant
    from .wit import load as load_wit


def __getattr__(name: str) -> Any:
    """Load a public entry point on first use."""
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'reml_wasm' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
