"""Host imports of integers and bools only, which the fast path reaches through the scalar
C entry (`reml_host_scalar`: slots handed over as C integers, the result stored by C):
every argument and every answer of the host, valid or not, gives the same outcome on
the fast path as on the reference path (wasmtime's own component host)."""

import enum
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reml_wasm import toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.component import Component

# Each export passes its parameters straight to the import of the same name and returns
# its answer: what the guest sees is what the host answered, after the Canonical ABI.
WAT = """
(component
  (import "reml:test/h" (instance $h
    (export "mix" (func (param "a" s8) (param "b" u64) (param "c" bool) (result s64)))
    (export "pick" (func (param "a" s16) (param "b" u16) (result bool)))
    (export "big" (func (param "a" s64) (result u64)))
    (export "small" (func (param "a" u32) (result s8)))
    (export "sink" (func (param "a" u8)))
    (export "four" (func (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (result u32)))))
  (alias export $h "mix" (func $mix))
  (alias export $h "pick" (func $pick))
  (alias export $h "big" (func $big))
  (alias export $h "small" (func $small))
  (alias export $h "sink" (func $sink))
  (alias export $h "four" (func $four))
  (core func $mix_c (canon lower (func $mix)))
  (core func $pick_c (canon lower (func $pick)))
  (core func $big_c (canon lower (func $big)))
  (core func $small_c (canon lower (func $small)))
  (core func $sink_c (canon lower (func $sink)))
  (core func $four_c (canon lower (func $four)))
  (core module $m
    (import "h" "mix" (func $mix (param i32 i64 i32) (result i64)))
    (import "h" "pick" (func $pick (param i32 i32) (result i32)))
    (import "h" "big" (func $big (param i64) (result i64)))
    (import "h" "small" (func $small (param i32) (result i32)))
    (import "h" "sink" (func $sink (param i32)))
    (import "h" "four" (func $four (param i32 i32 i32 i32) (result i32)))
    (func (export "mix") (param i32 i64 i32) (result i64) local.get 0 local.get 1 local.get 2 call $mix)
    (func (export "pick") (param i32 i32) (result i32) local.get 0 local.get 1 call $pick)
    (func (export "big") (param i64) (result i64) local.get 0 call $big)
    (func (export "small") (param i32) (result i32) local.get 0 call $small)
    (func (export "sink") (param i32) local.get 0 call $sink)
    (func (export "four") (param i32 i32 i32 i32) (result i32)
      local.get 0 local.get 1 local.get 2 local.get 3 call $four))
  (core instance $hi (export "mix" (func $mix_c)) (export "pick" (func $pick_c)) (export "big" (func $big_c))
    (export "small" (func $small_c)) (export "sink" (func $sink_c)) (export "four" (func $four_c)))
  (core instance $i (instantiate $m (with "h" (instance $hi))))
  (func $mix_f (param "a" s8) (param "b" u64) (param "c" bool) (result s64) (canon lift (core func $i "mix")))
  (func $pick_f (param "a" s16) (param "b" u16) (result bool) (canon lift (core func $i "pick")))
  (func $big_f (param "a" s64) (result u64) (canon lift (core func $i "big")))
  (func $small_f (param "a" u32) (result s8) (canon lift (core func $i "small")))
  (func $sink_f (param "a" u8) (canon lift (core func $i "sink")))
  (func $four_f (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (result u32)
    (canon lift (core func $i "four")))
  (export "mix" (func $mix_f))
  (export "pick" (func $pick_f))
  (export "big" (func $big_f))
  (export "small" (func $small_f))
  (export "sink" (func $sink_f))
  (export "four" (func $four_f))
)
"""
H = "reml:test/h"


@pytest.fixture(scope="module")
def comp(tmp_path_factory):
    d = tmp_path_factory.mktemp("scalarhost")
    (d / "c.wat").write_text(WAT)
    subprocess.run([toolchain.wasm_tools_path(), "parse", str(d / "c.wat"), "-o", str(d / "c.wasm")], check=True)
    return Component.from_file(d / "c.wasm")


def _outcome(comp, path, host, export, args):
    seen = []

    def record(fn):
        def wrapped(*a):
            seen.append(a)
            return fn(*a)
        return wrapped

    inst = comp.instantiate({H: {name: record(fn) for name, fn in host.items()}}, path=path)
    assert inst.path == path
    try:
        out = ("value", inst.call(export, *args))
    except DiagnosticError as exc:
        out = ("error", exc.code)
    except ZeroDivisionError:
        out = ("raised", "ZeroDivisionError")
    return out, seen


def _same(comp, host, export, args):
    fast = _outcome(comp, "fast", host, export, args)
    ref = _outcome(comp, "wasmtime", host, export, args)
    assert fast == ref
    return fast[0]


S8, U64, S64, S16, U16 = (-2**7, 2**7 - 1), (0, 2**64 - 1), (-2**63, 2**63 - 1), (-2**15, 2**15 - 1), (0, 2**16 - 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(*S8), st.integers(*U64), st.booleans(), st.integers(*S64))
def test_arguments_and_results_agree(comp, a, b, c, answer):
    host = {"mix": lambda x, y, z: answer, "pick": lambda x, y: x < y, "big": lambda x: x % 2**64,
            "small": lambda x: (x % 256) - 128, "sink": lambda x: None, "four": lambda *v: sum(v) % 2**32}
    assert _same(comp, host, "mix", (a, b, c)) == ("value", answer)
    assert _same(comp, host, "pick", (a, b % 2**16))[0] == "value"
    assert _same(comp, host, "big", (answer,)) == ("value", answer % 2**64)
    assert _same(comp, host, "small", (b % 2**32,))[0] == "value"
    assert _same(comp, host, "sink", (b % 256,)) == ("value", None)
    assert _same(comp, host, "four", (1, 2, 3, b % 2**32)) == ("value", (6 + b % 2**32) % 2**32)


class Small(enum.IntEnum):
    ONE = 1


@pytest.mark.parametrize("export, args, answer", [
    ("mix", (1, 2, True), 2**63), ("mix", (1, 2, True), -2**63 - 1), ("mix", (1, 2, True), True),
    ("mix", (1, 2, True), Small.ONE), ("mix", (1, 2, True), 1.0), ("mix", (1, 2, True), None),
    ("pick", (1, 2), 1), ("pick", (1, 2), 0), ("pick", (1, 2), None),
    ("big", (5,), -1), ("big", (5,), 2**64), ("big", (5,), 2**64 - 1), ("big", (5,), Small.ONE),
    ("small", (5,), 128), ("small", (5,), -129), ("small", (5,), -128), ("small", (5,), "1"),
    ("four", (1, 2, 3, 4), 2**32), ("four", (1, 2, 3, 4), Small.ONE),
])
def test_unusual_host_answers_agree(comp, export, args, answer):
    """Out of range, of another class, an int subclass: the same value or coded error."""
    host = {name: (lambda *a: answer) for name in ("mix", "pick", "big", "small", "sink", "four")}
    _same(comp, host, export, args)


def test_a_raising_host_function_reaches_the_caller(comp):
    host = {name: (lambda *a: 1 // 0) for name in ("mix", "pick", "big", "small", "sink", "four")}
    assert _same(comp, host, "big", (1,)) == ("raised", "ZeroDivisionError")
    assert _same(comp, host, "sink", (1,)) == ("raised", "ZeroDivisionError")


def test_an_unprovided_import_traps_with_its_name(comp):
    host = {"mix": lambda *a: 0}
    for path in ("fast", "wasmtime"):
        inst = comp.instantiate({H: host}, path=path)
        with pytest.raises(Exception) as info:
            inst.call("big", 1)
        assert "big" in str(info.value)
