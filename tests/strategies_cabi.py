"""Hypothesis strategies for Canonical ABI tests: value types, and values of a type."""

from __future__ import annotations

import math
import struct

from hypothesis import strategies as st

from reml_wasm import types as t
from reml_wasm.values import Err, Ok, Record, Some, Variant, nests_option

NUMBERS = [t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64, t.F32, t.F64]
SCALARS = NUMBERS + [t.BOOL, t.CHAR]
LEAVES = SCALARS + [t.STRING]

_names = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])
_counter = iter(range(10**9))


def _label(i: int) -> str:
    return f"l{i}"


def flags_types(counts: list[int] | None = None) -> st.SearchStrategy[t.FlagsType]:
    n = st.sampled_from(counts) if counts else st.integers(1, 32)
    return n.map(lambda k: t.FlagsType(f"fl{k}", tuple(_label(i) for i in range(k))))


def enum_types() -> st.SearchStrategy[t.EnumType]:
    return st.integers(1, 300).map(lambda k: t.EnumType(f"en{k}", tuple(_label(i) for i in range(k))))


def _compound(children: st.SearchStrategy[t.Type]) -> st.SearchStrategy[t.Type]:
    def record(fields: list[t.Type]) -> t.RecordType:
        return t.RecordType("rec", tuple(t.Field(f"f{i}", ft) for i, ft in enumerate(fields)))

    def variant(cases: list[t.Type | None]) -> t.VariantType:
        return t.VariantType("var", tuple(t.Case(f"c{i}", ct) for i, ct in enumerate(cases)))

    return st.one_of(
        children.map(t.ListType),
        st.tuples(children, st.integers(1, 4)).map(lambda p: t.ListType(p[0], p[1])),
        st.lists(children, min_size=1, max_size=4).map(lambda ts: t.TupleType(tuple(ts))),
        st.lists(children, min_size=1, max_size=4).map(record),
        st.lists(st.one_of(st.none(), children), min_size=1, max_size=4).map(variant),
        children.map(t.OptionType),
        st.tuples(st.one_of(st.none(), children), st.one_of(st.none(), children)).map(lambda p: t.ResultType(*p)),
    )


def value_types(max_leaves: int = 8) -> st.SearchStrategy[t.Type]:
    """Value types without resources (every kind of compound type, nested)."""
    base = st.one_of(st.sampled_from(LEAVES), flags_types(), enum_types())
    return st.recursive(base, _compound, max_leaves=max_leaves)


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def values_of(ty: t.Type, *, max_list: int = 4) -> st.SearchStrategy:
    """Values of `ty` under the value convention (floats f32-exact; NaN included)."""
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        if ty == t.BOOL:
            return st.booleans()
        if ty in t.INTEGER_RANGES:
            lo, hi = t.INTEGER_RANGES[ty]
            return st.integers(lo, hi)
        if ty == t.F32:
            return st.floats(width=32, allow_nan=True).map(_f32)
        if ty == t.F64:
            return st.floats(allow_nan=True)
        if ty == t.CHAR:
            return st.characters(exclude_categories=("Cs",))
        if ty == t.STRING:
            return st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
    if isinstance(ty, t.ListType):
        elem = t.unalias(ty.element)
        if elem == t.U8:
            if ty.length is not None:
                return st.binary(min_size=ty.length, max_size=ty.length)
            return st.binary(max_size=max_list * 4)
        if ty.length is not None:
            return st.lists(values_of(elem), min_size=ty.length, max_size=ty.length)
        return st.lists(values_of(elem), max_size=max_list)
    if isinstance(ty, t.TupleType):
        return st.tuples(*(values_of(e) for e in ty.elements))
    if isinstance(ty, t.RecordType):
        return st.tuples(*(values_of(f.type) for f in ty.fields)).map(
            lambda vs, ty=ty: Record(**{f.name: v for f, v in zip(ty.fields, vs)}))
    if isinstance(ty, t.VariantType):
        return st.one_of(*(
            (st.just(Variant(c.name)) if c.type is None else values_of(c.type).map(lambda v, n=c.name: Variant(n, v)))
            for c in ty.cases))
    if isinstance(ty, t.EnumType):
        return st.sampled_from(ty.cases)
    if isinstance(ty, t.FlagsType):
        return st.frozensets(st.sampled_from(ty.labels))
    if isinstance(ty, t.OptionType):
        inner = values_of(ty.inner)
        if nests_option(ty):
            inner = inner.map(Some)
        return st.one_of(st.none(), inner)
    if isinstance(ty, t.ResultType):
        ok = st.just(None) if ty.ok is None else values_of(ty.ok)
        err = st.just(None) if ty.err is None else values_of(ty.err)
        return st.one_of(ok.map(Ok), err.map(Err))
    raise NotImplementedError(ty)


def typed_values(max_leaves: int = 8) -> st.SearchStrategy[tuple[t.Type, object]]:
    return value_types(max_leaves).flatmap(lambda ty: st.tuples(st.just(ty), values_of(ty)))


def same_value(a: object, b: object) -> bool:
    """Equality with NaN == NaN (floats are compared as the Canonical ABI delivers them)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)) or type(a).__name__ == "NumberList":
        a_items, b_items = list(a), list(b)  # type: ignore[call-overload]
        return len(a_items) == len(b_items) and all(same_value(x, y) for x, y in zip(a_items, b_items))
    if isinstance(a, Record) and isinstance(b, Record):
        fa, fb = a.fields(), b.fields()
        return list(fa) == list(fb) and all(same_value(fa[k], fb[k]) for k in fa)
    if isinstance(a, (Ok, Err, Some)) and type(a) is type(b):
        return same_value(a.value, b.value)  # type: ignore[union-attr]
    if isinstance(a, Variant) and isinstance(b, Variant):
        return a.tag == b.tag and same_value(a.value, b.value)
    return a == b
