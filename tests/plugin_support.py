"""Shared helpers for the plugin tests: sample plugins built by the real C compiler and a
nyash.toml written into a temporary directory."""

from pathlib import Path

from reml_wasm import plugin_samples
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import PluginHost

ALL = ("filebox", "counterbox", "probebox")


def make_config(directory: Path, samples=ALL, **kwargs) -> Path:
    return plugin_samples.write_config(directory, samples, **kwargs)


def open_host(directory: Path, samples=ALL, *, mode: str | None = None, **kwargs) -> PluginHost:
    """A host over the sample plugins; `mode` picks the call mode (None: the default)."""
    return PluginHost(nyash_toml.load(make_config(directory, samples, **kwargs)), mode=mode)
