"""Lift/lower round trips, and compiled plans held to the reference interpreter:
same flat values, same realloc calls, same memory bytes, same lifted values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import types as t
from reml_wasm.cabi import NumberList, lift_flat, load, lower_flat, store, size, alignment
from reml_wasm.cabi.codecs import Compiler
from reml_wasm.values import Err, Record, Some, Variant, Ok

from cabi_helpers import options
from strategies import same_value, typed_values, values_of

ENCODINGS = ["utf8", "utf16", "latin1+utf16"]
modes = st.tuples(st.sampled_from([4, 8]), st.sampled_from(ENCODINGS))


@settings(max_examples=300, deadline=None)
@given(typed_values(wide=True), modes)
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
@given(typed_values(wide=True), modes)
def test_memory_round_trip_and_plans_match_interpreter(tv, mode) -> None:
    ty, value = tv
    ps, enc = mode
    ptr = -(-16 // alignment(ty, ps)) * alignment(ty, ps)
    room = ptr + size(ty, ps) + 256  # the value's own bytes fit before any realloc
    ref, comp = options(room, ptr_size=ps, encoding=enc), options(room, ptr_size=ps, encoding=enc)
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


from reml_wasm.cabi import export_plan, import_plan  # noqa: E402
from reml_wasm.cabi.reference import reference_export_plan, reference_import_plan  # noqa: E402
from strategies import types  # noqa: E402

small_types = types(max_nodes=4, wide=True)
signatures = st.tuples(st.lists(small_types, min_size=0, max_size=20), st.one_of(st.none(), small_types))


@settings(max_examples=80, deadline=None)
@given(signatures.flatmap(lambda sig: st.tuples(
    st.just(sig), st.tuples(*(values_of(p) for p in sig[0])),
    st.just(None) if sig[1] is None else values_of(sig[1]))), modes)
def test_function_plans_match_reference_plans(case, mode) -> None:
    (params, result), args, value = case
    ps, enc = mode
    func = t.Function("f", tuple(t.Param(f"p{i}", p) for i, p in enumerate(params)), result)
    runs = []
    for make_export, make_import in ((export_plan, import_plan), (reference_export_plan, reference_import_plan)):
        o = options(ptr_size=ps, encoding=enc)
        exp, imp = make_export(func, o), make_import(func, o)
        flat = exp.lower_args(list(args))
        assert len(flat) == len(exp.flat.params)
        retptr = []
        if imp.flat.results_spilled:
            retptr = [o.realloc(0, 0, 8, 64 + size(result, ps))]
            retptr[0] = -(-retptr[0] // alignment(result, ps)) * alignment(result, ps)
        lifted = imp.lift_args(flat + retptr)
        assert same_value(list(args), lifted)
        out = imp.lower_result(value, flat + retptr)
        back = None
        if result is not None:
            back = exp.lift_result(retptr if imp.flat.results_spilled else out)
            assert same_value(value, back)
        runs.append((flat, out, o.realloc.calls, bytes(o.memory.data)))
    assert same_value(runs[0][0], runs[1][0]) and same_value(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2] and runs[0][3] == runs[1][3]


POINT = t.RecordType("point", (t.Field("x", t.S32), t.Field("y", t.F32)))
SHAPE = t.VariantType("shape", (t.Case("none"), t.Case("circle", t.F32)))
BAD_HOST_VALUES = [
    (t.U8, 300), (t.U8, -1), (t.S64, 1 << 63), (t.U32, True), (t.U32, 1.5), (t.BOOL, 1), (t.CHAR, "ab"),
    (t.CHAR, "\ud800"), (t.STRING, 5), (t.STRING, "\ud800"), (t.F64, "1.0"),
    (t.ListType(t.U32), [1, -1]), (t.ListType(t.U32), "abc"), (t.ListType(t.U8), [256]),
    (t.ListType(t.F32), [1.0, None]), (t.ListType(t.STRING), ["a", 1]),
    (POINT, Record(x=1)), (POINT, (1, 2.0)), (t.TupleType((t.U8, t.U8)), (1,)),
    (SHAPE, Variant("square", 1.0)), (SHAPE, "none"), (t.EnumType("e", ("a",)), "b"),
    (t.FlagsType("f", ("a",)), {"b"}), (t.ResultType(t.U8), 5),
    (t.OptionType(t.OptionType(t.U8)), 5), (t.ListType(t.U8, 2), b"abc"),
    # a payload for a case without one would be lost: refused, flat and in memory
    (SHAPE, Variant("none", 1.0)), (t.ListType(SHAPE), [Variant("none", 0)]), (t.ResultType(t.U8), Err(3)),
    (t.ResultType(None, t.U8), Ok(0)), (t.ListType(t.ResultType(t.U8)), [Err("x")]),
]


@pytest.mark.parametrize("ty,value", BAD_HOST_VALUES, ids=[f"{ty.wit()}={v!r}" for ty, v in BAD_HOST_VALUES])
def test_bad_host_values_raise_value_type_errors(ty, value) -> None:
    from reml_wasm.values import ValueTypeError

    func = t.Function("f", (t.Param("v", ty),), ty)
    for make in (export_plan, reference_export_plan):
        with pytest.raises(ValueTypeError):
            make(func, options()).lower_args([value])
    for make in (import_plan, reference_import_plan):
        o = options()
        plan = make(func, o)
        retptr = [64] if plan.flat.results_spilled else []
        flat = [0] * (len(plan.flat.params) - len(retptr))
        with pytest.raises(ValueTypeError):
            plan.lower_result(value, flat + retptr)
