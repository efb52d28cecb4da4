"""`ComponentConnector`: the component connector behind the `Connector` protocol.

It loads one component file (or takes a loaded `Component`), instantiates it on first use,
and binds exports by their full name (`ns:pkg/iface@1.0.0#func`, `func`) or short name
(`iface#func`).  The key `…#[resource-drop]r` binds the host-side drop of an owned handle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ...audit import DiagnosticError
from .. import Availability
from .instance import Component, Imports, Instance
from .sandbox import Sandbox

DROP = "[resource-drop]"


class ComponentConnector:
    """Calls into one WebAssembly component (one instance, made on first use)."""

    name = "component"

    def __init__(self, component: str | os.PathLike[str] | Component, *, imports: Imports | None = None,
                 sandbox: Sandbox = Sandbox(), path: str = "fast") -> None:
        """`component`: a .wasm path or a loaded `Component`; `imports`, `sandbox`, `path`
        as for `Component.instantiate`."""
        if isinstance(component, Component):
            self._component: Component | None = component
            self.source = component.source
        else:
            self._component = None
            self.source = str(component)
        self.library = Path(self.source).name
        self._imports = imports
        self._sandbox = sandbox
        self._path = path
        self._instance: Instance | None = None

    @property
    def component(self) -> Component:
        """The loaded component (read and parsed on first use)."""
        if self._component is None:
            self._component = Component.from_file(self.source)
        return self._component

    @property
    def instance(self) -> Instance:
        """The instance calls run in (instantiated on first use)."""
        if self._instance is None:
            self._instance = self.component.instantiate(self._imports, sandbox=self._sandbox, path=self._path)
        return self._instance

    def available(self) -> Availability:
        """Whether the component file exists and loads."""
        if self._component is None and not Path(self.source).is_file():
            return Availability(False, f"component {self.source} does not exist")
        try:
            self.instance
        except DiagnosticError as exc:
            return Availability(False, f"component {self.source} cannot be loaded: {exc.diagnostic.message}")
        return Availability(True)

    def bind(self, key: str) -> Callable[..., Any]:
        """The export named `key` as a callable over reml values; `…#[resource-drop]r`
        drops an owned handle."""
        inst = self.instance
        if key.rpartition("#")[2].startswith(DROP) or key.startswith(DROP):
            return inst.drop
        return inst.func(key)

    def symbol(self, key: str) -> str:
        """The name the audit records for `key`: the component export name."""
        try:
            return self.component.resolve(key)[0]
        except DiagnosticError:
            return key

    def close(self) -> None:
        """Forget the instance (its store and memory go with it)."""
        self._instance = None

    def __repr__(self) -> str:
        return f"ComponentConnector({self.source!r})"

