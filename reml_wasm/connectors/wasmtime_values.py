"""Values between the project's convention (reml_wasm.values) and wasmtime-py's
component values, guided by the reml type.

wasmtime-py represents a variant-like value (variant, option, result) untagged when its
cases can be told apart by Python class, and as `Variant(tag, payload)` otherwise
(wasmtime/component/_types.py, `VariantLikeType._tagged`).  `_classes` and `_tagged`
compute the same thing from the reml type so both directions agree with it.
"""

from __future__ import annotations

from typing import Any, Callable

import wasmtime.component as wc

from .. import types as t
from ..values import Err, Ok, Record, Some, Variant, nests_option, record_field


class RefResource:
    """A resource handle on the reference path (wraps wasmtime-py's ResourceAny)."""

    __slots__ = ("type", "any", "own", "_dropped")

    def __init__(self, type: t.ResourceType, any: wc.ResourceAny, own: bool) -> None:
        self.type = type
        self.any = any
        self.own = own
        self._dropped = False

    def __repr__(self) -> str:
        return f"RefResource({'own' if self.own else 'borrow'} {self.type.name})"


def _cases(ty: t.Type) -> list[tuple[str, t.Type | None]] | None:
    if isinstance(ty, t.VariantType):
        return [(c.name, c.type) for c in ty.cases]
    if isinstance(ty, t.OptionType):
        return [("none", None), ("some", ty.inner)]
    if isinstance(ty, t.ResultType):
        return [("ok", ty.ok), ("err", ty.err)]
    return None


def _classes(ty: t.Type) -> set[type]:
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        if ty == t.BOOL:
            return {bool}
        if ty in (t.F32, t.F64):
            return {float}
        if ty in (t.CHAR, t.STRING):
            return {str}
        return {int}
    if isinstance(ty, t.ListType):
        return {bytes} if t.unalias(ty.element) == t.U8 else {list}
    if isinstance(ty, t.RecordType):
        return {wc.Record}
    if isinstance(ty, t.TupleType):
        return {tuple}
    if isinstance(ty, t.EnumType):
        return {str}
    if isinstance(ty, t.FlagsType):
        return {set}
    if isinstance(ty, (t.OwnType, t.BorrowType)):
        return {wc.ResourceAny, wc.ResourceHost}
    cases = _cases(ty)
    if cases is not None:
        if _tagged(cases):
            return {wc.Variant}
        out: set[type] = set()
        for _, c in cases:
            out |= {object} if c is None else _classes(c)
        return out
    return {object}


def _tagged(cases: list[tuple[str, t.Type | None]]) -> bool:
    seen: set[type] = set()
    for _, c in cases:
        cls = {object} if c is None else _classes(c)
        if cls & seen:
            return True
        seen |= cls
    return False


def to_wasmtime(value: Any, ty: t.Type, store: Any, handle: Callable[[Any, t.Type], Any] | None = None) -> Any:
    """A reml value of `ty` as wasmtime-py expects it; `handle(value, handle_type)` turns
    resource values the caller knows (host-implemented ones) into wasmtime handles."""
    if handle is not None:
        return _to(value, ty, store, handle)
    return _to(value, ty, store, _ref_handle)


def _ref_handle(value: Any, ty: t.Type) -> Any:
    if not isinstance(value, RefResource):
        from ..values import ValueTypeError
        raise ValueTypeError("value", f"a resource handle of {ty.resource.name}", value)  # type: ignore[attr-defined]
    return value.any


def _to(value: Any, ty: t.Type, store: Any, handle: Callable[[Any, t.Type], Any]) -> Any:
    to_wasmtime = _to  # noqa: N806 - the recursion below passes `handle` along
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        return value
    if isinstance(ty, t.ListType):
        if t.unalias(ty.element) == t.U8 and isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        return [to_wasmtime(v, ty.element, store, handle) for v in value]
    if isinstance(ty, t.RecordType):
        rec = wc.Record()
        for f in ty.fields:
            setattr(rec, f.name, to_wasmtime(record_field(value, f.name), f.type, store, handle))
        return rec
    if isinstance(ty, t.TupleType):
        return tuple(to_wasmtime(v, et, store, handle) for v, et in zip(value, ty.elements))
    if isinstance(ty, t.EnumType):
        return value
    if isinstance(ty, t.FlagsType):
        return set(value)
    if isinstance(ty, (t.OwnType, t.BorrowType)):
        return handle(value, ty)
    cases = _cases(ty)
    if cases is not None:
        tag, payload = _case_of(ty, value)
        ctype = dict(cases)[tag]
        inner = None if ctype is None else to_wasmtime(payload, ctype, store, handle)
        if _tagged(cases):
            return wc.Variant(tag, inner)
        return inner
    raise TypeError(f"no wasmtime conversion for {ty.wit()}")


def _case_of(ty: t.Type, value: Any) -> tuple[str, Any]:
    if isinstance(ty, t.VariantType):
        return value.tag, value.value
    if isinstance(ty, t.OptionType):
        if value is None:
            return "none", None
        if nests_option(ty):
            return "some", value.value
        return "some", value.value if isinstance(value, Some) else value
    if isinstance(value, Ok):
        return "ok", value.value
    return "err", value.value


def from_wasmtime(value: Any, ty: t.Type, wrap: Callable[[Any, t.Type], Any]) -> Any:
    """A wasmtime-py value of `ty` in the reml convention; `wrap(any, handle_type)` makes
    resource handles."""
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        return value
    if isinstance(ty, t.ListType):
        if t.unalias(ty.element) == t.U8:
            return bytes(value)
        return [from_wasmtime(v, ty.element, wrap) for v in value]
    if isinstance(ty, t.RecordType):
        return Record(**{f.name: from_wasmtime(getattr(value, f.name), f.type, wrap) for f in ty.fields})
    if isinstance(ty, t.TupleType):
        return tuple(from_wasmtime(v, et, wrap) for v, et in zip(value, ty.elements))
    if isinstance(ty, t.EnumType):
        return value
    if isinstance(ty, t.FlagsType):
        return frozenset(value)
    if isinstance(ty, (t.OwnType, t.BorrowType)):
        return wrap(value, ty)
    cases = _cases(ty)
    if cases is not None:
        if _tagged(cases):
            tag, payload = value.tag, value.payload
        else:
            tag, payload = _untagged_case(cases, value)
        ctype = dict(cases)[tag]
        inner = None if ctype is None else from_wasmtime(payload, ctype, wrap)
        if isinstance(ty, t.VariantType):
            return Variant(tag, inner)
        if isinstance(ty, t.OptionType):
            if tag == "none":
                return None
            return Some(inner) if nests_option(ty) else inner
        return Ok(inner) if tag == "ok" else Err(inner)
    raise TypeError(f"no wasmtime conversion for {ty.wit()}")


def _untagged_case(cases: list[tuple[str, t.Type | None]], value: Any) -> tuple[str, Any]:
    exact = type(value)
    for name, c in cases:
        if c is None:
            if value is None:
                return name, None
        elif exact in _classes(c):
            return name, value
    for name, c in cases:
        if c is not None and isinstance(value, tuple(_classes(c))):
            return name, value
    raise TypeError(f"value {value!r} matches no case")
