"""The component connector: WebAssembly components through wasmtime.

`Component.from_file(path)` parses and compiles a component once; `instantiate()` makes an
`Instance` on the fast path (wasmtime's core API through cffi) or the reference path
(`wasmtime.component`); `pool(n)` an `InstancePool` for many threads.  `Sandbox` sets
fuel, timeout, memory limit, host copy budget and WASI grants (`WasiConfig`).
"""

from __future__ import annotations

from .instance import PATHS, Component, Imports, Instance, InstancePool
from .sandbox import Preopen, Sandbox, WasiConfig
from .connector import ComponentConnector

__all__ = ["ComponentConnector", "PATHS", "Component", "Imports", "Instance", "InstancePool", "Preopen", "Sandbox",
           "WasiConfig"]
