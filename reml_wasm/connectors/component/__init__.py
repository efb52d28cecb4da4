"""The component connector: WebAssembly components through wasmtime.

`Component.from_file(path)` parses and compiles a component once; `instantiate()` makes an
`Instance` on the fast path (wasmtime's core API through cffi) or the reference path
(`wasmtime.component`).  `Sandbox` sets fuel, timeout, memory limit and WASI grants (`WasiConfig`).
"""

from __future__ import annotations

from .instance import PATHS, Component, Imports, Instance
from .sandbox import Preopen, Sandbox, WasiConfig

__all__ = ["PATHS", "Component", "Imports", "Instance", "Preopen", "Sandbox", "WasiConfig"]
