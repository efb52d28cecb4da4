"""The Python value convention, the same from every connector (docs/values.md).

bool/int/float; char -> 1-char str; string -> str; list<u8> -> bytes; other lists -> list
(any sequence accepted); tuple -> tuple; record -> `Record` (attributes); variant ->
`Variant(tag, value)`; enum -> str; flags -> frozenset[str]; option -> None or the value,
`Some(v)` only where options nest; result -> `Ok(v)` / `Err(e)`; resources -> handle
objects (defined by the connectors); map -> dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import types as t
from .audit import Diagnostic, DiagnosticError

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class Ok(Generic[T]):
    value: T = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"


@dataclass(frozen=True)
class Err(Generic[E]):
    value: E = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Err({self.value!r})"


@dataclass(frozen=True)
class Some(Generic[T]):
    """`some(v)` where a bare value would be ambiguous: the outer layer of a nested
    option (`option<option<T>>`: `Some(None)` is some(none), `None` is none)."""

    value: T

    def __repr__(self) -> str:
        return f"Some({self.value!r})"


@dataclass(frozen=True)
class Variant:
    tag: str
    value: Any = None

    def __repr__(self) -> str:
        return f"Variant({self.tag!r})" if self.value is None else f"Variant({self.tag!r}, {self.value!r})"


class Record:
    """A record value: fields as attributes, kept in definition order.

    Equality compares the fields (in order) with another Record; hashing is by value so
    records can sit in sets when their fields can."""

    __slots__ = ("_fields",)

    def __init__(self, **fields: Any) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Record values are immutable")

    def fields(self) -> dict[str, Any]:
        return dict(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and list(self._fields.items()) == list(other._fields.items())

    def __hash__(self) -> int:
        return hash(tuple(self._fields.items()))

    def __repr__(self) -> str:
        return "Record(" + ", ".join(f"{k}={v!r}" for k, v in self._fields.items()) + ")"


def nests_option(opt: t.OptionType) -> bool:
    """True when `opt`'s payload is itself an option (so its `some` is written `Some(v)`)."""
    return isinstance(t.unalias(opt.inner), t.OptionType)


def record_field(value: Any, name: str) -> Any:
    """A field of a record value given as a Record, a mapping or any object with attributes."""
    if isinstance(value, Mapping):
        return value[name]
    return getattr(value, name)


# --- validation -------------------------------------------------------------------------

class ValueTypeError(DiagnosticError):
    """A Python value does not fit the type it is passed as."""

    def __init__(self, path: str, expected: str, got: Any) -> None:
        path = path.rstrip()
        self.path = path
        message = f"{path}: expected {expected}, got {_describe(got)}"
        super().__init__(Diagnostic("ffi.value.type_mismatch", message,
                                    extensions={"path": path, "expected": expected}))


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"bool {value}"
    if isinstance(value, int):
        return f"int {value}"
    return type(value).__name__


def check(value: Any, typ: t.Type, path: str = "value") -> None:
    """Raise `ValueTypeError` naming the path (`arg 1 .points[3].x`) unless `value` is a
    valid Python value of `typ` under the convention."""
    typ = t.unalias(typ)
    if isinstance(typ, t.PrimitiveType):
        _check_primitive(value, typ, path)
    elif isinstance(typ, t.ListType):
        elem = t.unalias(typ.element)
        if elem == t.U8 and isinstance(value, (bytes, bytearray, memoryview)):
            n = len(value)
        elif isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
            for i, item in enumerate(value):
                check(item, elem, f"{path}[{i}]")
            n = len(value)
        else:
            raise ValueTypeError(path, typ.wit(), value)
        if typ.length is not None and n != typ.length:
            raise ValueTypeError(path, f"{typ.wit()} of exactly {typ.length} elements", f"{n} elements")
    elif isinstance(typ, t.MapType):
        if not isinstance(value, Mapping):
            raise ValueTypeError(path, typ.wit(), value)
        for k, v in value.items():
            check(k, typ.key, f"{path}<key {k!r}>")
            check(v, typ.value, f"{path}[{k!r}]")
    elif isinstance(typ, t.TupleType):
        if not isinstance(value, tuple) or len(value) != len(typ.elements):
            raise ValueTypeError(path, typ.wit(), value)
        for i, (item, et) in enumerate(zip(value, typ.elements)):
            check(item, et, f"{path}.{i}")
    elif isinstance(typ, t.RecordType):
        for f in typ.fields:
            try:
                item = record_field(value, f.name)
            except (KeyError, AttributeError):
                raise ValueTypeError(f"{path}.{f.name}", f"field of record {typ.name}", "nothing") from None
            check(item, f.type, f"{path}.{f.name}")
    elif isinstance(typ, t.VariantType):
        if not isinstance(value, Variant):
            raise ValueTypeError(path, f"variant {typ.name}", value)
        case = next((c for c in typ.cases if c.name == value.tag), None)
        if case is None:
            raise ValueTypeError(path, f"a case of variant {typ.name} ({', '.join(c.name for c in typ.cases)})",
                                 f"tag {value.tag!r}")
        if case.type is None:
            if value.value is not None:
                raise ValueTypeError(f"{path}<{case.name}>", "no payload", value.value)
        else:
            check(value.value, case.type, f"{path}<{case.name}>")
    elif isinstance(typ, t.EnumType):
        if not isinstance(value, str) or value not in typ.cases:
            raise ValueTypeError(path, f"a case of enum {typ.name} ({', '.join(typ.cases)})", value)
    elif isinstance(typ, t.FlagsType):
        if not isinstance(value, Set) or not all(isinstance(x, str) for x in value):
            raise ValueTypeError(path, f"a set of flags of {typ.name}", value)
        unknown = set(value) - set(typ.labels)
        if unknown:
            raise ValueTypeError(path, f"flags of {typ.name} ({', '.join(typ.labels)})",
                                 f"unknown flag {sorted(unknown)[0]!r}")
    elif isinstance(typ, t.OptionType):
        if value is None:
            return
        if nests_option(typ):
            if not isinstance(value, Some):
                raise ValueTypeError(path, f"None or Some(...) for {typ.wit()}", value)
            check(value.value, typ.inner, f"{path}?")
        else:
            check(value.value if isinstance(value, Some) else value, typ.inner, f"{path}?")
    elif isinstance(typ, t.ResultType):
        if isinstance(value, Ok):
            _check_payload(value.value, typ.ok, f"{path}<ok>")
        elif isinstance(value, Err):
            _check_payload(value.value, typ.err, f"{path}<err>")
        else:
            raise ValueTypeError(path, f"Ok(...) or Err(...) for {typ.wit()}", value)
    elif isinstance(typ, (t.OwnType, t.BorrowType, t.StreamType, t.FutureType)):
        # Handles are connector objects; the connector checks them against its tables.
        if value is None or isinstance(value, (bool, float, str, bytes)):
            raise ValueTypeError(path, f"a handle for {typ.wit()}", value)
    else:  # pragma: no cover - every type class is handled above
        raise TypeError(f"unknown type {typ!r}")


def _check_payload(value: Any, typ: t.Type | None, path: str) -> None:
    if typ is None:
        if value is not None:
            raise ValueTypeError(path, "no payload", value)
    else:
        check(value, typ, path)


def _check_primitive(value: Any, typ: t.PrimitiveType, path: str) -> None:
    if typ == t.BOOL:
        if not isinstance(value, bool):
            raise ValueTypeError(path, "bool", value)
    elif typ in t.INTEGER_RANGES:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueTypeError(path, typ.name, value)
        lo, hi = t.INTEGER_RANGES[typ]
        if not lo <= value <= hi:
            raise ValueTypeError(path, f"{typ.name} in [{lo}, {hi}]", value)
    elif typ in (t.F32, t.F64):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueTypeError(path, typ.name, value)
    elif typ == t.CHAR:
        if not isinstance(value, str) or len(value) != 1 or 0xD800 <= ord(value) <= 0xDFFF:
            raise ValueTypeError(path, "char (one Unicode scalar value)", value)
    elif typ == t.STRING:
        if not isinstance(value, str):
            raise ValueTypeError(path, "string", value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueTypeError(path, "string of Unicode scalar values", "lone surrogate") from None
    elif typ == t.ERROR_CONTEXT:
        if value is None:
            raise ValueTypeError(path, "error-context handle", value)


def check_args(args: Sequence[Any], func: t.Function) -> None:
    """Check an argument list against a function's parameters (`arg 1 …` counts from 1)."""
    if len(args) != len(func.params):
        raise DiagnosticError(Diagnostic(
            "ffi.value.arity", f"{func.qualified_name} takes {len(func.params)} argument(s), got {len(args)}",
            extensions={"expected": len(func.params), "got": len(args)}))
    for i, (value, param) in enumerate(zip(args, func.params), start=1):
        check(value, param.type, f"arg {i} ")


def canonical_float(value: float) -> float:
    """NaNs compare unequal; tests use this to compare floats as the Canonical ABI does."""
    return math.nan if value != value else value
