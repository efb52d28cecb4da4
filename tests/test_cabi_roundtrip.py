"""Lift/lower round trips, and compiled plans held to the reference interpreter:
same flat values, same realloc calls, same memory bytes, same lifted values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import types as t
from reml_wasm.cabi import NumberList, lift_flat, load, lower_flat, store, size, alignment
from reml_wasm.cabi.codecs import Compiler
from reml_wasm.values import Record, Some, Variant, Ok

from cabi_helpers import options
from strategies_cabi import same_value, typed_values, values_of

ENCODINGS = ["utf8", "utf16", "latin1+utf16"]
modes = st.tuples(st.sampled_from([4, 8]), st.sampled_from(ENCODINGS))


@settings(max_examples=300, deadline=None)
@given(typed_values(), modes)
def test_flat_round_trip_and_plans_match_interpreter(tv, mode) -> None:
    ty, value = tv
    ps, enc = mode
    ref, comp = options(ptr_size=ps, encoding=enc), options(ptr_size=ps, encoding=enc)
    flat_ref = lower_flat(ref, value, ty)
    flat_comp: list = []
    codec = Compiler(comp).codec(ty)
    codec.lower(value, flat_comp)
    assert same_value(flat_ref, flat_comp)
    assert ref.realloc.calls == comp.realloc.calls
    assert ref.memory.data == comp.memory.data
    for x, core in zip(flat_ref, codec.flat):
        bits = 32 if core in ("i32", "f32") else 64
        if core[0] == "i":
            assert -(1 << (bits - 1)) <= x < (1 << (bits - 1))
        else:
            assert isinstance(x, float)
    assert same_value(value, lift_flat(ref, flat_ref, ty))
    assert same_value(value, codec.lift(flat_comp, 0))


@settings(max_examples=300, deadline=None)
@given(typed_values(), modes)
def test_memory_round_trip_and_plans_match_interpreter(tv, mode) -> None:
    ty, value = tv
    ps, enc = mode
    ref, comp = options(ptr_size=ps, encoding=enc), options(ptr_size=ps, encoding=enc)
    ptr = -(-16 // alignment(ty, ps)) * alignment(ty, ps)
    for o in (ref, comp):
        o.realloc.top = ptr + size(ty, ps)
    store(ref, value, ty, ptr)
    codec = Compiler(comp).codec(ty)
    codec.store(value, ptr)
    assert ref.realloc.calls == comp.realloc.calls
    assert ref.memory.data == comp.memory.data
    assert same_value(value, load(ref, ptr, ty))
    comp.memory.refresh()
    assert same_value(value, codec.load(comp.memory.view, ptr))


def test_known_encodings() -> None:
    o = options()
    assert lower_flat(o, 0xFFFFFFFF, t.U32) == [-1]
    assert lower_flat(o, -1, t.S64) == [-1]
    assert lift_flat(o, [-1], t.U32) == 0xFFFFFFFF
    assert lift_flat(o, [0x1FF], t.U8) == 0xFF  # high bits ignored
    assert lift_flat(o, [0xFF], t.S8) == -1
    assert lift_flat(o, [7], t.BOOL) is True
    assert lift_flat(o, [0x1F600], t.CHAR) == "\U0001F600"
    # variant joins: f32 payload in an i32 slot, f64 in i64, u32 zero-extended in i64
    v = t.VariantType("v", (t.Case("a", t.F32), t.Case("b", t.U32), t.Case("c", t.F64), t.Case("d", t.U64)))
    assert lower_flat(o, Variant("a", 1.0), v) == [0, 0x3F800000]
    assert lower_flat(o, Variant("b", 0xFFFFFFFF), v) == [1, 0xFFFFFFFF]
    assert lower_flat(o, Variant("c", -2.0), v) == [2, -0x4000000000000000]  # 0xC000... signed
    assert lift_flat(o, [0, 0x3F800000], v) == Variant("a", 1.0)
    assert lift_flat(o, [2, 0x4000000000000000], v) == Variant("c", 2.0)
    assert lower_flat(o, Variant("d", 5), v) == [3, 5]
    # NaN canonicalisation, both directions
    nan_bits = store_bits(o, float("nan"), t.F32)
    assert nan_bits == bytes.fromhex("0000c07f")
    weird = 0x7FF4000000000001
    assert math.isnan(lift_flat(o, [2, weird], v).value)
    assert lower_flat(o, Variant("c", float("nan")), v) == [2, 0x7FF8000000000000]
    # option<option<T>> uses Some for the outer layer
    oo = t.OptionType(t.OptionType(t.U8))
    assert lower_flat(o, Some(None), oo) == [1, 0, 0]
    assert lower_flat(o, Some(3), oo) == [1, 1, 3]
    assert lift_flat(o, [1, 0, 99], oo) == Some(None)
    assert lift_flat(o, [0, 1, 99], oo) is None
    assert lower_flat(o, Ok(None), t.ResultType()) == [0]


def store_bits(o, value, ty) -> bytes:
    store(o, value, ty, 8)
    return bytes(o.memory.data[8:8 + size(ty)])


def test_strings_in_each_encoding() -> None:
    for enc, text, units, data in [
        ("utf8", "héllo", 6, "héllo".encode()),
        ("utf16", "h€", 2, "h€".encode("utf-16-le")),
        ("latin1+utf16", "héllo", 5, "héllo".encode("latin-1")),
        ("latin1+utf16", "h€", 2 | (1 << 31), "h€".encode("utf-16-le")),
    ]:
        o = options(encoding=enc)
        ptr, n = lower_flat(o, text, t.STRING)
        assert n & 0xFFFFFFFF == units
        assert bytes(o.memory.data[ptr:ptr + len(data)]) == data
        assert lift_flat(o, [ptr, n], t.STRING) == text
    o = options(encoding="latin1+utf16", ptr_size=8)
    ptr, n = lower_flat(o, "€", t.STRING)
    assert n & 0xFFFFFFFFFFFFFFFF == 1 | (1 << 63)


def test_bulk_lists_are_number_lists() -> None:
    o = options(1 << 16)
    codec = Compiler(o).codec(t.ListType(t.U32))
    out: list = []
    codec.lower(list(range(1000)), out)
    lifted = codec.lift(out, 0)
    assert isinstance(lifted, NumberList) and lifted == list(range(1000)) and lifted[999] == 999
    assert list(range(1000)) == lifted and lifted != list(range(999))
    b = Compiler(o).codec(t.ListType(t.U8))
    out = []
    b.lower(b"\x00\x01\xff", out)
    assert b.lift(out, 0) == b"\x00\x01\xff"


def test_record_value_forms() -> None:
    r = t.RecordType("p", (t.Field("x", t.U16), t.Field("y", t.S32)))
    o = options()
    codec = Compiler(o).codec(r)
    for value in (Record(x=1, y=-2), {"x": 1, "y": -2}):
        out: list = []
        codec.lower(value, out)
        assert out == [1, -2]
        codec.store(value, 16)
        assert codec.load(o.memory.view, 16) == Record(x=1, y=-2)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([t.ListType(x) for x in (t.S8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64, t.F32, t.F64)])
       .flatmap(lambda ty: st.tuples(st.just(ty), values_of(ty, max_list=40))))
def test_number_lists_match_interpreter(tv) -> None:
    ty, value = tv
    ref, comp = options(), options()
    a = lower_flat(ref, value, ty)
    b: list = []
    Compiler(comp).codec(ty).lower(value, b)
    assert a == b and ref.memory.data == comp.memory.data
    assert same_value(lift_flat(ref, a, ty), Compiler(comp).codec(ty).lift(b, 0))
