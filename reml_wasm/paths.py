"""Where reml_wasm keeps its caches (a module of its own: the paths are wanted at the start
of a process that never builds anything, so they import nothing heavy)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """`$REML_WASM_CACHE`, else `$XDG_CACHE_HOME/reml_wasm`, else `~/.cache/reml_wasm`."""
    env = os.environ.get("REML_WASM_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reml_wasm"
