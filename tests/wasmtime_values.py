"""Convert values between the reml_wasm value convention and wasmtime.component's, guided
by both type descriptions (ours and wasmtime's, so wasmtime's tagged/untagged choice for
variants is followed exactly)."""

from __future__ import annotations

from typing import Any

import wasmtime.component as wc

from reml_wasm import types as t
from reml_wasm.cabi.layout import variant_cases
from reml_wasm.cabi.lift import make_case
from reml_wasm.cabi.lower import case_of
from reml_wasm.values import Record


def _wt_cases(wty: Any) -> list[tuple[str, Any]]:
    return list(wty._cases())


def to_wasmtime(value: Any, ty: t.Type, wty: Any) -> Any:
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        return float(value) if ty in (t.F32, t.F64) else value
    if isinstance(ty, t.ListType):
        if t.unalias(ty.element) == t.U8:
            return bytes(value)
        return [to_wasmtime(v, ty.element, wty.element) for v in value]
    if isinstance(ty, t.TupleType):
        return tuple(to_wasmtime(v, e, we) for v, e, we in zip(value, ty.elements, wty.elements))
    if isinstance(ty, t.RecordType):
        out = wc.Record()
        for f, (name, wft) in zip(ty.fields, wty.fields):
            setattr(out, name, to_wasmtime(getattr(value, f.name), f.type, wft))
        return out
    if isinstance(ty, t.EnumType):
        return value
    if isinstance(ty, t.FlagsType):
        return set(value)
    cases = variant_cases(ty)
    if cases is not None:
        disc, payload = case_of(ty, value)
        name, wcase = _wt_cases(wty)[disc]
        inner = None if cases[disc] is None else to_wasmtime(payload, cases[disc], wcase)
        return wc.Variant(name, inner) if wty._tagged() else inner
    raise NotImplementedError(ty)


def from_wasmtime(w: Any, ty: t.Type, wty: Any) -> Any:
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        return w
    if isinstance(ty, t.ListType):
        if t.unalias(ty.element) == t.U8:
            return bytes(w)
        return [from_wasmtime(v, ty.element, wty.element) for v in w]
    if isinstance(ty, t.TupleType):
        return tuple(from_wasmtime(v, e, we) for v, e, we in zip(w, ty.elements, wty.elements))
    if isinstance(ty, t.RecordType):
        return Record(**{f.name: from_wasmtime(getattr(w, name), f.type, wft)
                         for f, (name, wft) in zip(ty.fields, wty.fields)})
    if isinstance(ty, t.EnumType):
        return w
    if isinstance(ty, t.FlagsType):
        return frozenset(w)
    cases = variant_cases(ty)
    if cases is not None:
        wcases = _wt_cases(wty)
        if wty._tagged():
            disc = [n for n, _ in wcases].index(w.tag)
            payload = w.payload
        else:
            disc = _untagged_case(w, wcases)
            payload = w
        inner = None if cases[disc] is None else from_wasmtime(payload, cases[disc], wcases[disc][1])
        return make_case(ty, disc, inner)
    raise NotImplementedError(ty)


def _untagged_case(w: Any, wcases: list[tuple[str, Any]]) -> int:
    for i, (_, wct) in enumerate(wcases):
        if wct is None:
            if w is None:
                return i
            continue
        classes: set = set()
        wct.add_classes(classes)
        if isinstance(w, tuple(classes)):
            return i
    raise AssertionError(f"no case of {wcases} matches {w!r}")


