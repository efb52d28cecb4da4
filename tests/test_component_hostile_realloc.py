"""A guest whose realloc answers with blocks outside its memory or misaligned: the fast
path's one-crossing realloc + copy (`reml_put`) checks the block before copying and
traps like the reference path; nothing is written outside guest memory."""

import subprocess

import pytest

from reml_wasm import cabi, toolchain
from reml_wasm.connectors.component import Component

# realloc returns the address stored at offset 0 of memory (set by `aim`); `count` reports
# the length it was given; lists of u32 need 4-aligned blocks
WAT = """
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.load (i32.const 0)))
    (func (export "aim") (param i32) (i32.store (i32.const 0) (local.get 0)))
    (func (export "count") (param i32 i32) (result i32) (local.get 1)))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "aim" (core func $aim))
  (alias core export $i "count" (core func $count))
  (func $aim_f (param "p" u32) (canon lift (core func $aim)))
  (func $str_f (param "s" string) (result u32) (canon lift (core func $count) (memory $mem) (realloc $realloc)))
  (func $list_f (param "v" (list u32)) (result u32) (canon lift (core func $count) (memory $mem) (realloc $realloc)))
  (export "aim" (func $aim_f))
  (export "str-len" (func $str_f))
  (export "list-len" (func $list_f))
)
"""


@pytest.fixture(scope="module")
def comp(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    (d / "c.wat").write_text(WAT)
    subprocess.run([toolchain.wasm_tools_path(), "parse", str(d / "c.wat"), "-o", str(d / "c.wasm")], check=True)
    return Component.from_file(d / "c.wasm")


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_good_blocks_work(comp, path):
    inst = comp.instantiate(path=path)
    assert inst.path == path
    inst.call("aim", 1024)
    assert inst.call("str-len", "hello") == 5
    assert inst.call("list-len", [1, 2, 3]) == 3


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
@pytest.mark.parametrize("export, aim, value", [
    ("str-len", 65536 - 4, "0123456789"),         # runs past the end of memory
    ("str-len", 0xFFFFFFF0, "abc"),                # far outside
    ("list-len", 1026, [1, 2]),                    # not 4-aligned
    ("list-len", 65536 - 4, list(range(64))),      # past the end
])
def test_bad_blocks_trap(comp, path, export, aim, value):
    inst = comp.instantiate(path=path)
    inst.call("aim", aim)
    with pytest.raises(cabi.Trap):
        inst.call(export, value)
