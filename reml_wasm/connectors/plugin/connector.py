"""`PluginConnector`: Nyash BID-1 plugin boxes behind the `Connector` protocol.

Keys name a box of the nyash.toml and one of its methods, spelled as resource functions
are in WIT: `Box#[constructor]Box` births a box (a `PluginBox`), `Box#[method]Box.m` (or
`Box#m`) calls method `m` with the box as first argument, `Box#[resource-drop]Box`
finalises it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ...audit import DiagnosticError, error
from .. import Availability
from .host import PluginBox, PluginHost


class PluginConnector:
    """Calls boxes of the plugin libraries one nyash.toml lists (loaded on first use)."""

    name = "plugin"

    def __init__(self, config: Any, *, mode: str | None = None) -> None:
        """`config`: a nyash.toml path or a loaded `NyashConfig`; `mode` as for `PluginHost`."""
        self._config_path = str(config) if isinstance(config, (str, os.PathLike)) else None
        self._config: Any = None if self._config_path is not None else config
        self.library = Path(self._config_path).name if self._config_path else "nyash.toml"
        self._mode = mode
        self._host: PluginHost | None = None

    @property
    def host(self) -> PluginHost:
        """The plugin host (every library loaded on first use)."""
        if self._host is None:
            if self._config is None:
                from ...bid import nyash_toml
                self._config = nyash_toml.load(self._config_path)  # type: ignore[arg-type]
            self._host = PluginHost(self._config, mode=self._mode)
        return self._host

    def available(self) -> Availability:
        """Whether the configuration loads and every library opens."""
        try:
            self.host
        except DiagnosticError as exc:
            return Availability(False, f"plugins cannot be loaded: {exc.diagnostic.message}")
        return Availability(True)

    def boxes(self) -> list[str]:
        """The box names this connector serves."""
        return self.host.box_names()

    def bind(self, key: str) -> Callable[..., Any]:
        """`Box#[constructor]Box`, `Box#[method]Box.m` / `Box#m`, `Box#[resource-drop]Box`."""
        box, sep, member = key.partition("#")
        host = self.host
        if not sep or not host.has_box(box):
            raise error("ffi.plugin.unknown_box", f"no plugin box for {key!r} (boxes: {', '.join(host.box_names())})",
                        key=key)
        if member in (f"[constructor]{box}", "[constructor]", "birth"):
            return lambda: host.create(box)
        if member in (f"[resource-drop]{box}", "[resource-drop]", "fini"):
            return PluginBox.finalise
        method = member.removeprefix(f"[method]{box}.")
        _, cfg = self._config.box(box)
        if method not in cfg.methods:
            raise error("ffi.symbol.not_found", f"plugin box {box} has no method {method!r}",
                        box=box, symbol=method)

        def call(target: PluginBox, *args: Any) -> Any:
            return target.call(method, *args)

        return call

    def symbol(self, key: str) -> str:
        """The name the audit records for `key`: `Box.method`."""
        box, _, member = key.partition("#")
        return f"{box}.{member.rpartition('.')[2] if '.' in member else member}"

    def close(self) -> None:
        """Finalise every live box and unload the libraries."""
        if self._host is not None:
            self._host.close()
            self._host = None
