"""The plugin connector: Nyash BID-1 plugins (TLV-encoded calls through C entry points).

`PluginHost(config)` loads every library of a nyash.toml configuration; `PluginBox` is the
proxy of one plugin instance; `BoxFactoryRegistry` creates boxes by name.
"""

from __future__ import annotations

from .host import (INITIAL_RESULT_BYTES, MAX_RESULT_BYTES, BoxFactoryRegistry, PluginBox, PluginHost,
                   PluginLibrary, default_mode)
from .connector import PluginConnector

__all__ = ["PluginConnector", "INITIAL_RESULT_BYTES", "MAX_RESULT_BYTES", "BoxFactoryRegistry", "PluginBox", "PluginHost",
           "PluginLibrary", "default_mode"]
