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
from typing import Any, Callable, Generic, TypeVar

from . import types as t
from .audit import Diagnostic, DiagnosticError

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    value: T = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    value: E = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Err({self.value!r})"


@dataclass(frozen=True, slots=True)
class Some(Generic[T]):
    """`some(v)` where a bare value would be ambiguous: the outer layer of a nested
    option (`option<option<T>>`: `Some(None)` is some(none), `None` is none)."""

    value: T

    def __repr__(self) -> str:
        return f"Some({self.value!r})"


@dataclass(frozen=True, slots=True)
class Variant:
    tag: str
    value: Any = None

    def __repr__(self) -> str:
        return f"Variant({self.tag!r})" if self.value is None else f"Variant({self.tag!r}, {self.value!r})"


# the slots of the case classes written directly (what their __init__ does, without its
# checks): lifted values are built by `object.__new__` and these setters
SET_TAG = Variant.__dict__["tag"].__set__
SET_VALUE = {cls: cls.__dict__["value"].__set__ for cls in (Variant, Ok, Err, Some)}


class Record:
    """A record value: fields as attributes, kept in definition order.

    Equality compares the fields (in order) with another Record; hashing is by value so
    records can sit in sets when their fields can."""

    __slots__ = ("_fields",)

    def __init__(self, **fields: Any) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        if name == "_fields":  # not set yet (copy/pickle make objects without __init__)
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_record_from_fields, (self._fields,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Record values are immutable")

    def fields(self) -> dict[str, Any]:
        """The fields as a new dict, in definition order (same as `asdict`)."""
        return dict(self._fields)

    def asdict(self) -> dict[str, Any]:
        """The fields as a new dict, in definition order; nested records stay Records.
        Reach a field whose name is also a method name (`fields`, `asdict`) this way or
        with `record_field`."""
        return dict(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and list(self._fields.items()) == list(other._fields.items())

    def __hash__(self) -> int:
        return hash(tuple(self._fields.items()))

    def __repr__(self) -> str:
        return "Record(" + ", ".join(f"{k}={v!r}" for k, v in self._fields.items()) + ")"


def _record_from_fields(fields: dict[str, Any]) -> Record:
    """Rebuilds a Record for copy and pickle (field names need not be identifiers)."""
    return Record(**fields)


def nests_option(opt: t.OptionType) -> bool:
    """True when `opt`'s payload is itself an option (so its `some` is written `Some(v)`)."""
    return isinstance(t.unalias(opt.inner), t.OptionType)


def is_list_value(value: Any, of_u8: bool) -> bool:
    """True when `value` may stand for a list: a sequence other than str/bytes (and for
    `list<u8>` also bytes, bytearray or memoryview).  Sets, dicts and iterators are not
    lists (their order is not the caller's)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return of_u8
    return isinstance(value, Sequence) and not isinstance(value, str)


def record_field(value: Any, name: str) -> Any:
    """A field of a record value given as a Record, a mapping or any object with attributes."""
    if isinstance(value, Record):
        return value._fields[name]  # not getattr: a field may be called `fields`
    if isinstance(value, Mapping):
        return value[name]
    return getattr(value, name)


# --- validation -------------------------------------------------------------------------

class ValueTypeError(DiagnosticError):
    """A Python value does not fit the type it is passed as."""

    def __init__(self, path: str, expected: str, got: Any, *, symbol: str | None = None) -> None:
        path = path.rstrip()
        self.path = path
        message = f"{path}: expected {expected}, got {_describe(got)}"
        extensions = {"path": path, "expected": expected}
        if symbol is not None:  # the native function the value was passed to
            message = f"{symbol}: {message}"
            extensions["symbol"] = symbol
        super().__init__(Diagnostic("ffi.value.type_mismatch", message, extensions=extensions))


class Described(str):
    """A description of what was found, used verbatim in the message (not a value)."""


def _describe(value: Any) -> str:
    if isinstance(value, Described):
        return str(value)
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
        if not is_list_value(value, elem == t.U8):
            raise ValueTypeError(path, typ.wit(), value)
        if elem == t.U8 and isinstance(value, (bytes, bytearray, memoryview)):
            n = len(value)
        elif isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
            for i, item in enumerate(value):
                check(item, elem, f"{path}[{i}]")
            n = len(value)
        else:
            raise ValueTypeError(path, typ.wit(), value)
        if typ.length is not None and n != typ.length:
            raise ValueTypeError(path, f"{typ.wit()} of exactly {typ.length} elements", Described(f"{n} elements"))
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
                raise ValueTypeError(f"{path}.{f.name}", f"field of record {typ.name}", Described("nothing")) from None
            check(item, f.type, f"{path}.{f.name}")
    elif isinstance(typ, t.VariantType):
        if not isinstance(value, Variant):
            raise ValueTypeError(path, f"variant {typ.name}", value)
        case = next((c for c in typ.cases if c.name == value.tag), None)
        if case is None:
            raise ValueTypeError(path, f"a case of variant {typ.name} ({', '.join(c.name for c in typ.cases)})",
                                 Described(f"tag {value.tag!r}"))
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
                                 Described(f"unknown flag {sorted(unknown)[0]!r}"))
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
    elif isinstance(typ, (t.StreamType, t.FutureType)):
        _check_async_handle(value, typ, path)
    elif isinstance(typ, (t.OwnType, t.BorrowType)):
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
            raise ValueTypeError(path, "string of Unicode scalar values", Described("lone surrogate")) from None
    elif typ == t.ERROR_CONTEXT:
        _check_async_handle(value, typ, path)


def _check_async_handle(value: Any, typ: t.Type, path: str) -> None:
    """Stream, future and error-context values are the handle objects of reml_wasm.cabi."""
    from .cabi.resources import async_handle_class  # cabi builds on this module

    cls = async_handle_class(typ)
    if type(value) is not cls or value.type != typ:
        raise ValueTypeError(path, f"a {cls.__name__} of {typ.wit()}", value)  # type: ignore[union-attr]


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


# --- wasmtime.component adapters ---------------------------------------------------------
#
# wasmtime-py 50 has its own value convention.  Records are `wasmtime.component.Record`
# objects with one attribute per field (WIT names as they are, `first-name` included);
# flags are `set`s; list<u8> is `bytes`, other lists `list`; floats must be `float`.
# Variant-like types (variant, option, result) are *untagged* -- the bare payload, or None
# for a case without one -- when the Python classes of their cases do not overlap, and
# `wasmtime.component.Variant(tag, payload)` otherwise (`_wasmtime_tagged` below mirrors
# that rule).  Untagged values are routed to a case by `isinstance`, which can pick the
# wrong case (True is an int; a payload that may be None matches anything): `to_wasmtime`
# refuses such values with `ffi.value.wasmtime_unrepresentable` instead of letting wasmtime
# send another case.  map<K, V> has no wasmtime-py form; it is passed as a list of pairs.

_FLOAT_NAMES = ("f32", "f64")
_COMPOUND = object()


def _wasmtime_scalars(value: Any, typ: t.Type) -> Any:
    """A scalar, list<u8> or list of scalars as both conventions have it (floats as
    float, list<u8> as bytes: the same both ways), else `_COMPOUND`."""
    if isinstance(typ, t.PrimitiveType):
        return float(value) if typ.name in _FLOAT_NAMES else value
    if isinstance(typ, t.ListType):
        elem = t.unalias(typ.element)
        if elem == t.U8:
            return bytes(value)
        if isinstance(elem, t.PrimitiveType):  # no call per element
            return [float(x) for x in value] if elem.name in _FLOAT_NAMES else list(value)
    return _COMPOUND


class _NoWasmtimeClass:
    """Stands for the Python class of values wasmtime-py cannot convert (stream, future,
    error-context)."""


def _wasmtime_cases(typ: t.Type) -> list[tuple[str, t.Type | None]]:
    if isinstance(typ, t.VariantType):
        return [(c.name, c.type) for c in typ.cases]
    if isinstance(typ, t.OptionType):
        return [("none", None), ("some", typ.inner)]
    assert isinstance(typ, t.ResultType)
    return [("ok", typ.ok), ("err", typ.err)]


def _wasmtime_classes(typ: t.Type) -> frozenset[type]:
    """The Python classes wasmtime-py uses for values of `typ` (its `add_classes`)."""
    from wasmtime import component as wc

    typ = t.unalias(typ)
    if isinstance(typ, t.PrimitiveType):
        simple = {"bool": bool, "f32": float, "f64": float, "char": str, "string": str}
        if typ in t.INTEGER_RANGES:
            return frozenset({int})
        return frozenset({simple.get(typ.name, _NoWasmtimeClass)})
    if isinstance(typ, t.ListType):
        return frozenset({bytes if t.unalias(typ.element) == t.U8 else list})
    if isinstance(typ, t.MapType):
        return frozenset({list})
    if isinstance(typ, t.TupleType):
        return frozenset({tuple})
    if isinstance(typ, t.RecordType):
        return frozenset({wc.Record})
    if isinstance(typ, t.EnumType):
        return frozenset({str})
    if isinstance(typ, t.FlagsType):
        return frozenset({set})
    if isinstance(typ, (t.VariantType, t.OptionType, t.ResultType)):
        cases = _wasmtime_cases(typ)
        if _wasmtime_tagged(cases):
            return frozenset({wc.Variant})
        out: set[type] = set()
        for _, ct in cases:
            out |= {object} if ct is None else _wasmtime_classes(ct)
        return frozenset(out)
    if isinstance(typ, (t.OwnType, t.BorrowType)):
        return frozenset({wc.ResourceAny, wc.ResourceHost})
    return frozenset({_NoWasmtimeClass})


def _wasmtime_tagged(cases: list[tuple[str, t.Type | None]]) -> bool:
    seen: set[type] = set()
    for _, ct in cases:
        classes = {object} if ct is None else _wasmtime_classes(ct)
        if seen & classes:
            return True
        seen |= classes
    return False


def to_wasmtime(value: Any, typ: t.Type, handle: Callable[[Any, t.Type], Any] | None = None) -> Any:
    """A convention value of `typ` as wasmtime.component takes it (see above).  Resource
    handles (own/borrow) go through `handle(value, handle_type)` when given, as they are
    otherwise."""
    from wasmtime import component as wc

    typ = t.unalias(typ)
    scalars = _wasmtime_scalars(value, typ)
    if scalars is not _COMPOUND:
        return scalars
    if isinstance(typ, t.ListType):
        return [to_wasmtime(item, typ.element, handle) for item in value]
    if isinstance(typ, t.MapType):
        return [(to_wasmtime(k, typ.key, handle), to_wasmtime(v, typ.value, handle)) for k, v in value.items()]
    if isinstance(typ, t.TupleType):
        return tuple(to_wasmtime(item, et, handle) for item, et in zip(value, typ.elements))
    if isinstance(typ, t.RecordType):
        record = wc.Record()
        for f in typ.fields:
            setattr(record, f.name, to_wasmtime(record_field(value, f.name), f.type, handle))
        return record
    if isinstance(typ, t.FlagsType):
        return set(value)
    if isinstance(typ, t.VariantType):
        case = typ.cases[typ.case_index(value.tag)]
        payload = None if case.type is None else to_wasmtime(value.value, case.type, handle)
        return _to_wasmtime_case(typ, case.name, payload)
    if isinstance(typ, t.OptionType):
        if value is None:
            return _to_wasmtime_case(typ, "none", None)
        inner = value.value if isinstance(value, Some) else value
        return _to_wasmtime_case(typ, "some", to_wasmtime(inner, typ.inner, handle))
    if isinstance(typ, t.ResultType):
        name, payload_type = ("ok", typ.ok) if isinstance(value, Ok) else ("err", typ.err)
        payload = None if payload_type is None else to_wasmtime(value.value, payload_type, handle)
        return _to_wasmtime_case(typ, name, payload)
    if handle is not None and isinstance(typ, (t.OwnType, t.BorrowType)):
        return handle(value, typ)
    return value  # enums (str), handles


def _to_wasmtime_case(typ: t.Type, name: str, payload: Any) -> Any:
    from wasmtime import component as wc

    cases = _wasmtime_cases(typ)
    if _wasmtime_tagged(cases):
        return wc.Variant(name, payload)
    # wasmtime routes an untagged value to the first case whose classes it is an instance of.
    for case_name, ct in cases:
        if ct is None:
            hit = payload is None
        else:
            hit = isinstance(payload, tuple(_wasmtime_classes(ct)))
        if hit:
            if case_name != name:
                raise DiagnosticError(Diagnostic(
                    "ffi.value.wasmtime_unrepresentable",
                    f"wasmtime-py cannot pass case `{name}` of {typ.wit()}: its untagged form "
                    f"{payload!r} is read as case `{case_name}`",
                    extensions={"type": typ.wit(), "case": name}))
            break
    return payload


def from_wasmtime(value: Any, typ: t.Type, wrap: Callable[[Any, t.Type], Any] | None = None) -> Any:
    """A value wasmtime.component returned for `typ`, under our convention.  Resource
    handles (wasmtime ResourceAny) become `wrap(any, handle_type)` when given."""
    from wasmtime import component as wc

    typ = t.unalias(typ)
    scalars = _wasmtime_scalars(value, typ)
    if scalars is not _COMPOUND:
        return scalars
    if isinstance(typ, t.ListType):
        return [from_wasmtime(item, typ.element, wrap) for item in value]
    if isinstance(typ, t.MapType):
        pairs = value.items() if isinstance(value, Mapping) else value
        return {from_wasmtime(k, typ.key, wrap): from_wasmtime(v, typ.value, wrap) for k, v in pairs}
    if isinstance(typ, t.TupleType):
        return tuple(from_wasmtime(item, et, wrap) for item, et in zip(value, typ.elements))
    if isinstance(typ, t.RecordType):
        return Record(**{f.name: from_wasmtime(getattr(value, f.name), f.type, wrap) for f in typ.fields})
    if isinstance(typ, t.FlagsType):
        return frozenset(value)
    if isinstance(typ, (t.VariantType, t.OptionType, t.ResultType)):
        cases = _wasmtime_cases(typ)
        if _wasmtime_tagged(cases):
            if not isinstance(value, wc.Variant):
                raise TypeError(f"expected wasmtime Variant for {typ.wit()}, got {type(value).__name__}")
            name, raw = value.tag, value.payload
        else:
            name, raw = _untagged_case(cases, value, typ)
        payload_type = dict(cases)[name]
        payload = None if payload_type is None else from_wasmtime(raw, payload_type, wrap)
        if isinstance(typ, t.VariantType):
            return Variant(name, payload)
        if isinstance(typ, t.OptionType):
            if name == "none":
                return None
            return Some(payload) if nests_option(typ) else payload
        return Ok(payload) if name == "ok" else Err(payload)
    if wrap is not None and isinstance(typ, (t.OwnType, t.BorrowType)):
        return wrap(value, typ)
    return value  # enums (str), handles


def _untagged_case(cases: list[tuple[str, t.Type | None]], value: Any, typ: t.Type) -> tuple[str, Any]:
    """The case an untagged wasmtime value came from.  The cases' class sets are disjoint
    and a lifted value's class is exactly one of them (`object` stands for None), so exact
    class membership decides where `isinstance` could not (bool vs int)."""
    for name, ct in cases:
        if ct is None:
            if value is None:
                return name, None
        else:
            classes = _wasmtime_classes(ct)
            if type(value) in classes or (value is None and object in classes):
                return name, value
    raise TypeError(f"{value!r} is no case of {typ.wit()}")
