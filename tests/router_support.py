"""Shared by the router, bindings and PoC tests: the PoC world, its committed component
and its native build (the real system compiler), and a routing helper."""

from __future__ import annotations

from pathlib import Path

from reml_wasm import toolchain, wit
from reml_wasm.poc import COMPONENT, SOURCE, WIT_DIR
from reml_wasm.router import Router

API = "reml:poc/api@0.1.0"
WORLD = wit.load(WIT_DIR).world("poc")


def native_library() -> Path:
    """The PoC's native library, built (cached) from native/poc/poc.c."""
    return toolchain.build_native([SOURCE], name="poc")


def router(prefer: str, audit=None, **route) -> Router:
    """A router of the PoC world preferring `prefer` (component: the committed .wasm;
    native: the built library); `route` overrides routing keys."""
    config = {"component": str(COMPONENT), "native": str(native_library()), "prefer": prefer, "fallback": False}
    config.update(route)
    return Router(WORLD, config, audit=audit, on_diagnostic=lambda d: None)
