"""A guest whose realloc answers with blocks outside its memory or misaligned: the fast
path's one-crossing realloc + copy (`reml_put`) checks the block before copying and
traps like the reference path; nothing is written outside guest memory."""

import pytest

from reml_wasm import cabi

from cabi_helpers import component_from_wat

# realloc: when an address is stored at offset 0 of memory (by `aim`) it returns that
# address whatever was asked (the hostile mode); otherwise a bump allocator that counts
# its calls (offset 4) and folds the (align, size) of each call into a hash (offset 12),
# so two hosts' realloc sequences can be compared.  `count` reports the length it got.
WAT = """
(component
  (core module $m
    (memory (export "mem") 1)
    (global $top (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (if (i32.ne (i32.load (i32.const 0)) (i32.const 0)) (then (return (i32.load (i32.const 0)))))
      (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))
      (i32.store (i32.const 12) (i32.add (i32.mul (i32.load (i32.const 12)) (i32.const 31))
                                        (i32.add (i32.mul (local.get 3) (i32.const 7)) (local.get 2))))
      (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $top (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "aim") (param i32) (i32.store (i32.const 0) (local.get 0)))
    (func (export "calls") (result i32) (i32.load (i32.const 4)))
    (func (export "seq") (result i32) (i32.load (i32.const 12)))
    (func (export "count") (param i32 i32) (result i32) (local.get 1)))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "aim" (core func $aim))
  (alias core export $i "calls" (core func $calls))
  (alias core export $i "seq" (core func $seq))
  (alias core export $i "count" (core func $count))
  (func $aim_f (param "p" u32) (canon lift (core func $aim)))
  (func $calls_f (result u32) (canon lift (core func $calls)))
  (func $seq_f (result u32) (canon lift (core func $seq)))
  (func $str_f (param "s" string) (result u32) (canon lift (core func $count) (memory $mem) (realloc $realloc)))
  (func $list_f (param "v" (list u32)) (result u32) (canon lift (core func $count) (memory $mem) (realloc $realloc)))
  (func $strs_f (param "v" (list string)) (result u32)
    (canon lift (core func $count) (memory $mem) (realloc $realloc)))
  (export "aim" (func $aim_f))
  (export "calls" (func $calls_f))
  (export "seq" (func $seq_f))
  (export "str-len" (func $str_f))
  (export "list-len" (func $list_f))
  (export "strs-len" (func $strs_f))
)
"""


@pytest.fixture(scope="module")
def comp(tmp_path_factory):
    return component_from_wat(tmp_path_factory.mktemp("hostile"), WAT)


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
    ("strs-len", 65536 - 4, ["ab", "cd"]),         # the list's block past the end
    ("strs-len", 0xFFFFFFF0, ["x"]),               # far outside
])
def test_bad_blocks_trap(comp, path, export, aim, value):
    inst = comp.instantiate(path=path)
    inst.call("aim", aim)
    with pytest.raises(cabi.Trap):
        inst.call(export, value)


def test_realloc_sequence_is_the_reference_paths(comp):
    """Strings, lists and lists of strings make the same realloc calls (count, order,
    alignments, sizes) on the fast path, where C makes them, as on wasmtime's own host."""
    seen = []
    for path in ("fast", "wasmtime"):
        inst = comp.instantiate(path=path)
        out = [inst.call("strs-len", ["a", "", "héllo", "x" * 300]), inst.call("str-len", "ab"),
               inst.call("list-len", [1, 2, 3]), inst.call("strs-len", [])]
        seen.append((out, inst.call("calls"), inst.call("seq")))
    assert seen[0] == seen[1]
    assert seen[0][0] == [4, 2, 3, 0] and seen[0][1] == 8
