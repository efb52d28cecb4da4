"""Test helpers: a bump allocator standing in for a guest's realloc; the oracle guest's
generator."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

from reml_wasm.cabi import BytesMemory, CanonicalOptions, ResourceTables

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def oracle_generator() -> ModuleType:
    """native/cabi_oracle/generate.py (a script, not a package) loaded as a module: the
    oracle guest's function list, C_PATH (one source for both pointer widths), WIT_PATH."""
    spec = importlib.util.spec_from_file_location("cabi_oracle_generate", ROOT / "native/cabi_oracle/generate.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Bump:
    """realloc(0, 0, align, size) over a BytesMemory, growing it when full (like a guest's
    allocator calling memory.grow) and recording every call."""

    def __init__(self, mem: BytesMemory, start: int = 8, grow: bool = True) -> None:
        self.mem = mem
        self.top = start
        self.grow = grow
        self.calls: list[tuple[int, int, int, int]] = []

    def __call__(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        self.calls.append((old_ptr, old_size, align, new_size))
        ptr = -(-self.top // align) * align
        self.top = ptr + new_size
        if self.grow and self.top > len(self.mem.data):
            self.mem.grow(self.top - len(self.mem.data) + 64)
        return ptr


def options(size: int = 256, *, encoding: str = "utf8", ptr_size: int = 4, grow: bool = True,
            resources: ResourceTables | None = None) -> CanonicalOptions:
    mem = BytesMemory(size, ptr_size=ptr_size)
    return CanonicalOptions(memory=mem, realloc=Bump(mem, grow=grow), string_encoding=encoding,
                            ptr_size=ptr_size, resources=resources)


def python_callers(comp, switch="REML_WASM_GLUE"):
    """A fast-path instance of `comp` whose export callers are the generated Python ones
    (the per-signature C glue switched off by REML_WASM_GLUE=0 while it is made); with
    switch="REML_WASM_FRONT", the glue's own Python half without the C front."""
    import os
    saved = os.environ.get(switch)
    os.environ[switch] = "0"
    try:
        return comp.instantiate(path="fast")
    finally:
        if saved is None:
            del os.environ[switch]
        else:
            os.environ[switch] = saved


def glue_without_front(comp):
    """A fast-path instance of `comp` whose glued exports keep the glue's Python half (no C
    front), so its conversions stay tested beside the front's."""
    return python_callers(comp, "REML_WASM_FRONT")


def component_from_wat(directory: Path, wat: str):
    """The Component that `wasm-tools parse` makes of WAT text (written into `directory`)."""
    import subprocess
    from reml_wasm import toolchain
    from reml_wasm.connectors.component import Component
    (directory / "c.wat").write_text(wat)
    subprocess.run([toolchain.wasm_tools_path(), "parse", str(directory / "c.wat"), "-o",
                    str(directory / "c.wasm")], check=True)
    return Component.from_file(directory / "c.wasm")


def area_guest(lifts: str, data: str = "") -> str:
    """A component's WAT whose core function `id32` returns its argument and whose export
    `poke(at, v)` stores a word in its memory (holding `data`, a WAT data string, at 16):
    `lifts` adds types and exports lifting `id32` at other types with `(memory $mem)`, so
    a test writes any bytes first and then has them lifted from any address."""
    segment = f' (data (i32.const 16) "{data}")' if data else ""
    return f"""
(component
  (core module $m
    (memory (export "mem") 1){segment}
    (func (export "id32") (param i32) (result i32) (local.get 0))
    (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "id32" (core func $id32))
  (alias core export $i "poke" (core func $poke))
  (func $poke_f (param "at" u32) (param "v" u32) (canon lift (core func $poke)))
  (export "poke" (func $poke_f))
{lifts})
"""
