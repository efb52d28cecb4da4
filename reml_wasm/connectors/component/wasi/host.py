"""The WASI host's core: one table of host objects per instance, and the binding of
Python implementations to the functions a component imports.

Implementations take and return plain Python: a `borrow<R>` or `own<R>` parameter arrives
as the host object behind the handle, and an `own<R>` anywhere in a result may be given as
a host object (it is entered into the table and handed over as a `cabi.Resource`).  The
conversion follows each imported function's own type, so one implementation serves every
0.2.x version of an interface.  Each binding is an ordinary host function of the
`imports` mapping of `Component.instantiate` (`[dtor]R` entries included).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from .... import cabi
from .... import types as t
from ....values import Err, Ok, Record, Some, Variant, record_field
from ..sandbox import WasiConfig


class WasiHost:
    """The state of WASI for one instance: the configuration and the live host objects
    (handle reps are keys of `objects`)."""

    def __init__(self, config: WasiConfig) -> None:
        self.config = config
        self.objects: dict[int, Any] = {}
        self._reps = itertools.count(1)
        self.env_pairs = [(k, v) for k, v in config.env]

    def add(self, obj: Any) -> int:
        """Enter a host object; its handle rep."""
        rep = next(self._reps)
        self.objects[rep] = obj
        return rep

    def get(self, rep: int) -> Any:
        """The host object behind a rep (a trap when the guest names a dead one)."""
        try:
            return self.objects[rep]
        except KeyError:
            raise cabi.Trap(f"WASI handle {rep} is not live") from None

    def drop(self, rep: int) -> None:
        """Forget a rep (the guest dropped its handle), closing the object."""
        obj = self.objects.pop(rep, None)
        close = getattr(obj, "close", None)
        if close is not None:
            close()


class Failure(Exception):
    """Raised by an implementation to return `err(code)` from a function whose result is
    `result<_, error-code>` (or a stream-error): `value` is the error payload."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


Impl = Callable[..., Any]


def _has_handles(ty: t.Type | None, seen: frozenset = frozenset()) -> bool:
    if ty is None:
        return False
    ty = t.unalias(ty)
    if isinstance(ty, (t.OwnType, t.BorrowType)):
        return True
    if id(ty) in seen:
        return False
    seen = seen | {id(ty)}
    if isinstance(ty, t.ListType):
        return _has_handles(ty.element, seen)
    if isinstance(ty, t.TupleType):
        return any(_has_handles(e, seen) for e in ty.elements)
    if isinstance(ty, t.RecordType):
        return any(_has_handles(f.type, seen) for f in ty.fields)
    if isinstance(ty, t.VariantType):
        return any(_has_handles(c.type, seen) for c in ty.cases)
    if isinstance(ty, t.OptionType):
        return _has_handles(ty.inner, seen)
    if isinstance(ty, t.ResultType):
        return _has_handles(ty.ok, seen) or _has_handles(ty.err, seen)
    return False


def to_guest(host: WasiHost, value: Any, ty: t.Type | None) -> Any:
    """A result value with host objects at `own<R>` positions made into handles."""
    if ty is None or not _has_handles(ty):
        return value
    ty = t.unalias(ty)
    if isinstance(ty, t.OwnType):
        if isinstance(value, cabi.Resource):
            return value
        return cabi.Resource(ty.resource, host.add(value))
    if isinstance(ty, t.ListType):
        return [to_guest(host, v, ty.element) for v in value]
    if isinstance(ty, t.TupleType):
        return tuple(to_guest(host, v, e) for v, e in zip(value, ty.elements))
    if isinstance(ty, t.RecordType):
        return Record(**{f.name: to_guest(host, record_field(value, f.name), f.type) for f in ty.fields})
    if isinstance(ty, t.VariantType):
        case = ty.cases[ty.case_index(value.tag)]
        return Variant(value.tag, to_guest(host, value.value, case.type))
    if isinstance(ty, t.OptionType):
        if value is None:
            return None
        inner = value.value if isinstance(value, Some) else value
        out = to_guest(host, inner, ty.inner)
        return Some(out) if isinstance(value, Some) else out
    if isinstance(ty, t.ResultType):
        if isinstance(value, Ok):
            return Ok(to_guest(host, value.value, ty.ok))
        return Err(to_guest(host, value.value, ty.err))
    return value


def from_guest(host: WasiHost, value: Any, ty: t.Type) -> Any:
    """A parameter with handles replaced by the host objects behind them (an `own`
    handle's object leaves the table: the host now owns it)."""
    if not _has_handles(ty):
        return value
    ty = t.unalias(ty)
    if isinstance(ty, t.BorrowType):
        return host.get(value.rep)
    if isinstance(ty, t.OwnType):
        rep = value.take() if value.own else value.rep
        obj = host.get(rep)
        host.objects.pop(rep, None)
        return obj
    if isinstance(ty, t.ListType):
        return [from_guest(host, v, ty.element) for v in value]
    if isinstance(ty, t.TupleType):
        return tuple(from_guest(host, v, e) for v, e in zip(value, ty.elements))
    return value  # WASI passes handles only directly or in lists


def _result_err(ty: t.Type | None) -> bool:
    return ty is not None and isinstance(t.unalias(ty), t.ResultType)


def bind(host: WasiHost, func: t.Function, impl: Impl) -> Impl:
    """`impl` as a host function of `func`'s imported type."""
    params = [p.type for p in func.params]
    convert_params = any(_has_handles(p) for p in params)
    result = func.result
    convert_result = _has_handles(result)
    catches = _result_err(result)

    def call(*args: Any) -> Any:
        if convert_params:
            args = tuple(from_guest(host, a, p) for a, p in zip(args, params))
        try:
            out = impl(host, *args)
        except Failure as exc:
            if not catches:
                raise
            out = Err(exc.value)
        return to_guest(host, out, result) if convert_result else out
    return call


def dtor(host: WasiHost) -> Callable[[int], None]:
    """The `[dtor]R` import of every WASI resource."""
    return host.drop
