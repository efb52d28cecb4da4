"""Layout and flattening against figures worked out by hand from CanonicalABI.md."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.cabi import alignment, discriminant_size, flatten, flatten_type, size
from reml_wasm.cabi.layout import record_offsets, variant_layout

from strategies import types

R = t.ResourceType("res", owner="x:y/z")


def rec(*types: t.Type) -> t.RecordType:
    return t.RecordType("r", tuple(t.Field(f"f{i}", x) for i, x in enumerate(types)))


def var(*types: t.Type | None) -> t.VariantType:
    return t.VariantType("v", tuple(t.Case(f"c{i}", x) for i, x in enumerate(types)))


def flags(n: int) -> t.FlagsType:
    return t.FlagsType("f", tuple(f"l{i}" for i in range(n)))


@pytest.mark.parametrize("ty,align4,size4,align8,size8", [
    (t.BOOL, 1, 1, 1, 1), (t.U8, 1, 1, 1, 1), (t.S16, 2, 2, 2, 2), (t.U32, 4, 4, 4, 4),
    (t.S64, 8, 8, 8, 8), (t.F32, 4, 4, 4, 4), (t.F64, 8, 8, 8, 8), (t.CHAR, 4, 4, 4, 4),
    (t.STRING, 4, 8, 8, 16), (t.ListType(t.U64), 4, 8, 8, 16),
    (t.ListType(t.U16, 3), 2, 6, 2, 6), (t.ListType(t.STRING, 2), 4, 16, 8, 32),
    (rec(t.U8, t.U32, t.U8), 4, 12, 4, 12), (rec(t.U8, t.STRING), 4, 12, 8, 24),
    (rec(t.U8, t.U16), 2, 4, 2, 4), (t.TupleType((t.U64, t.U8)), 8, 16, 8, 16),
    (t.OptionType(t.U8), 1, 2, 1, 2), (t.OptionType(t.U64), 8, 16, 8, 16),
    (t.OptionType(t.STRING), 4, 12, 8, 24),
    (t.ResultType(), 1, 1, 1, 1), (t.ResultType(t.U32, t.U8), 4, 8, 4, 8),
    (t.EnumType("e", ("a", "b")), 1, 1, 1, 1),
    (t.EnumType("e", tuple(f"c{i}" for i in range(256))), 1, 1, 1, 1),
    (t.EnumType("e", tuple(f"c{i}" for i in range(257))), 2, 2, 2, 2),
    (var(None, t.U16), 2, 4, 2, 4),
    (flags(1), 1, 1, 1, 1), (flags(8), 1, 1, 1, 1), (flags(9), 2, 2, 2, 2), (flags(16), 2, 2, 2, 2),
    (flags(17), 4, 4, 4, 4), (flags(32), 4, 4, 4, 4),
    (t.OwnType(R), 4, 4, 4, 4), (t.BorrowType(R), 4, 4, 4, 4),
    (t.StreamType(t.U8), 4, 4, 4, 4), (t.StreamType(), 4, 4, 4, 4), (t.FutureType(t.STRING), 4, 4, 4, 4),
    (t.FutureType(), 4, 4, 4, 4), (t.ERROR_CONTEXT, 4, 4, 4, 4),
    (rec(t.U8, t.StreamType(t.U64)), 4, 8, 4, 8), (t.OptionType(t.ERROR_CONTEXT), 4, 8, 4, 8),
    (t.MapType(t.STRING, t.U32), 4, 8, 8, 16),
    (t.TypeAlias("alias", t.U16), 2, 2, 2, 2),
])
def test_alignment_and_size(ty: t.Type, align4: int, size4: int, align8: int, size8: int) -> None:
    assert (alignment(ty, 4), size(ty, 4)) == (align4, size4)
    assert (alignment(ty, 8), size(ty, 8)) == (align8, size8)


def test_discriminant_sizes() -> None:
    assert [discriminant_size(n) for n in (1, 2, 256, 257, 65536, 65537)] == [1, 1, 1, 2, 2, 4]


def test_record_offsets_and_variant_layout() -> None:
    assert record_offsets([t.U8, t.U32, t.U16, t.U64], 4) == ([0, 4, 8, 16], 24)
    assert variant_layout([t.U8, t.U64, None], 4) == (1, 8, 16)
    assert variant_layout([t.STRING], 8) == (1, 8, 24)


@pytest.mark.parametrize("ty,flat4,flat8", [
    (t.STRING, ["i32", "i32"], ["i64", "i64"]),
    (t.ListType(t.U8), ["i32", "i32"], ["i64", "i64"]),
    (t.ListType(t.F32, 3), ["f32"] * 3, ["f32"] * 3),
    (rec(t.U8, t.F64, t.S64), ["i32", "f64", "i64"], ["i32", "f64", "i64"]),
    (var(t.U32, t.F32), ["i32", "i32"], ["i32", "i32"]),
    (var(t.F32, t.F64), ["i32", "i64"], ["i32", "i64"]),
    (var(t.S64, t.F32), ["i32", "i64"], ["i32", "i64"]),
    (var(None, t.F32), ["i32", "f32"], ["i32", "f32"]),
    (var(t.TupleType((t.F32, t.U32)), t.TupleType((t.F64, t.F32))), ["i32", "i64", "i32"], ["i32", "i64", "i32"]),
    (var(t.STRING, t.U64), ["i32", "i64", "i32"], ["i32", "i64", "i64"]),
    (t.ResultType(), ["i32"], ["i32"]), (t.OptionType(t.OptionType(t.U8)), ["i32", "i32", "i32"], ["i32"] * 3),
    (flags(32), ["i32"], ["i32"]), (t.OwnType(R), ["i32"], ["i32"]),
    (t.StreamType(t.STRING), ["i32"], ["i32"]), (t.FutureType(), ["i32"], ["i32"]),
    (t.ERROR_CONTEXT, ["i32"], ["i32"]), (t.TupleType((t.F64, t.FutureType(t.U8))), ["f64", "i32"], ["f64", "i32"]),
])
def test_flatten_type(ty: t.Type, flat4: list[str], flat8: list[str]) -> None:
    assert flatten_type(ty, 4) == flat4
    assert flatten_type(ty, 8) == flat8


def test_flags_and_empty_types_are_limited() -> None:
    for bad in (flags(33), flags(0), rec(), t.TupleType(())):
        with pytest.raises(DiagnosticError) as info:
            size(bad)
        assert info.value.code == "cabi.unsupported"
    with pytest.raises(DiagnosticError):
        size(t.ListType(t.U8, 0))


def _func(params: list[t.Type], result: t.Type | None = None) -> t.Function:
    return t.Function("f", tuple(t.Param(f"p{i}", p) for i, p in enumerate(params)), result)


def test_flatten_function_spilling() -> None:
    sig = flatten(_func([t.U32] * 16, t.U8), "lift")
    assert (sig.params, sig.results, sig.params_spilled) == (["i32"] * 16, ["i32"], False)
    sig = flatten(_func([t.U32] * 17, t.STRING), "lift")
    assert (sig.params, sig.results) == (["i32"], ["i32"])
    assert sig.params_spilled and sig.results_spilled
    sig = flatten(_func([t.STRING] * 8, t.STRING), "lower")
    assert (sig.params, sig.results) == (["i32"] * 17, [])
    sig = flatten(_func([t.STRING] * 9), "lower", ptr_size=8)
    assert (sig.params, sig.results) == (["i64"], [])
    sig = flatten(_func([t.F64, t.U64], t.F32), "lift", 8)
    assert (sig.params, sig.results) == (["f64", "i64"], ["f32"])
    with pytest.raises(DiagnosticError):
        flatten(_func([]), "sideways")


@settings(max_examples=150, deadline=None)
@given(types(wide=True, resources=True, async_types=True))
def test_layout_laws(ty: t.Type) -> None:
    for ps in (4, 8):
        a, s = alignment(ty, ps), size(ty, ps)
        assert a in (1, 2, 4, 8) and s > 0 and s % a == 0
        flat = flatten_type(ty, ps)
        assert flat and set(flat) <= {"i32", "i64", "f32", "f64"}
    # 64-bit pointers never shrink anything
    assert size(ty, 8) >= size(ty, 4)
