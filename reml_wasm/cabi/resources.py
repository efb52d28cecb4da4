"""Resource handles: the handle table of one component instance, `resource.new` /
`resource.rep` / `resource.drop`, borrow scopes and lend counting.

On the host side an `own` or `borrow` value is a `Resource` (its type and its
representation).  Lowering an owned `Resource` into the guest moves it: it can be moved
or dropped exactly once.

Stream, future and error-context values are `StreamHandle`, `FutureHandle` and
`ErrorContextHandle` objects.  As in the spec, an instance has one table shared by every
resource type, stream, future and error-context: indices count up across all of them, and
an index of one kind (or of another resource type) passed as another traps.  Only their transfer
is modelled (no async runtime): lifting a stream or future end takes it out of the table,
lifting an error-context copies it and leaves it in place.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import types as t
from ..values import ValueTypeError
from .errors import Trap

MAX_HANDLES = 1 << 30


class Resource:
    """A host-side resource value: `own` (the host owns it) or a borrow for one call."""

    __slots__ = ("type", "rep", "own", "_moved")

    def __init__(self, type: t.ResourceType, rep: Any, own: bool = True) -> None:
        self.type = type
        self.rep = rep
        self.own = own
        self._moved = False

    @property
    def moved(self) -> bool:
        """True once the owned resource has been given away (lowered as `own`) or dropped."""
        return self._moved

    def take(self) -> Any:
        """Give away ownership: the rep, exactly once."""
        if not self.own:
            raise ValueTypeError("value", f"an owned {self.type.name}", "a borrowed handle")
        if self._moved:
            raise ValueTypeError("value", f"a live owned {self.type.name}", "a resource already moved or dropped")
        self._moved = True
        return self.rep

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resource) and self.type == other.type and self.rep == other.rep \
            and self.own == other.own

    def __hash__(self) -> int:
        return hash((self.type, self.own))

    def __repr__(self) -> str:
        kind = "own" if self.own else "borrow"
        return f"Resource({kind} {self.type.name}, rep={self.rep!r})"


class _AsyncHandle:
    """A stream end, future end or error-context held by the host: immutable, compared by
    type and rep.  `rep` is whatever the host uses to stand for it."""

    __slots__ = ("_element", "_rep")
    _element: t.Type | None
    _rep: Any

    def __init__(self, element: t.Type | None, rep: Any) -> None:
        object.__setattr__(self, "_element", element)
        object.__setattr__(self, "_rep", rep)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def element(self) -> t.Type | None:
        return self._element

    @property
    def rep(self) -> Any:
        return self._rep

    @property
    def type(self) -> t.Type:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.type == other.type and self.rep == other.rep  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.type))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.type.wit()}, rep={self.rep!r})"


class StreamHandle(_AsyncHandle):
    """The readable end of a `stream<element>` (element None: `stream`)."""

    __slots__ = ()

    @property
    def type(self) -> t.StreamType:
        return t.StreamType(self.element)


class FutureHandle(_AsyncHandle):
    """The readable end of a `future<element>` (element None: `future`)."""

    __slots__ = ()

    @property
    def type(self) -> t.FutureType:
        return t.FutureType(self.element)


class ErrorContextHandle(_AsyncHandle):
    """An `error-context`."""

    __slots__ = ()

    def __init__(self, rep: Any) -> None:
        super().__init__(None, rep)

    @property
    def type(self) -> t.PrimitiveType:
        return t.ERROR_CONTEXT


def async_handle_class(ty: t.Type) -> type[_AsyncHandle] | None:
    """The host handle class of a stream, future or error-context type, else None."""
    if isinstance(ty, t.StreamType):
        return StreamHandle
    if isinstance(ty, t.FutureType):
        return FutureHandle
    if ty == t.ERROR_CONTEXT:
        return ErrorContextHandle
    return None


class _Elem:
    """A resource handle in the table: its resource type, rep, own/borrow and lends."""

    __slots__ = ("type", "rep", "own", "scope", "lend_count")

    def __init__(self, rt: t.ResourceType, rep: Any, own: bool, scope: "_Scope | None" = None) -> None:
        self.type = rt
        self.rep = rep
        self.own = own
        self.scope = scope
        self.lend_count = 0


class _Scope:
    """One call in progress: borrows handed to the guest (export) or own handles lent
    out of the guest's table (import)."""

    __slots__ = ("borrow_count", "lenders")

    def __init__(self) -> None:
        self.borrow_count = 0
        self.lenders: list[_Elem] = []


# the int32 slots a table shares with its C `resource.new` (connectors/component/handles.py)
C_NEXT, C_PEND, C_REP, C_TAG = 0, 1, 2, 3


class _Table:
    """The handles of one instance.  With C slots attached (`c`), a handle C made and
    Python has not taken in yet (`c[C_PEND]`) is taken in before every use, and
    `c[C_NEXT]` follows every change: the index `add` would give next."""

    __slots__ = ("array", "free", "c", "c_types")

    def __init__(self) -> None:
        self.array: list[Any] = [None]  # index 0 is never a handle
        self.free: list[int] = []
        self.c: Any = None  # the shared int32 slots, or None (every handle made here)
        self.c_types: list[t.ResourceType] = []  # by tag

    def next_index(self) -> int:
        """The index `add` gives next, or 0 when it would trap (the table is full)."""
        i = self.free[-1] if self.free else len(self.array)
        return i if i < MAX_HANDLES else 0

    def take_pending(self) -> None:
        """Take in the handle C made (when there is one) and name the next index to C."""
        c = self.c
        i = c[C_PEND]
        if i:
            rep, rt = c[C_REP], self.c_types[c[C_TAG]]
            c[C_PEND] = 0
            free, array = self.free, self.array
            if free and free[-1] == i:
                free.pop()
            elif i == len(array):
                array.append(None)
            else:
                raise Trap(f"handle {i} was given out twice")  # C took an index it was not given
            array[i] = _Elem(rt, rep, True)
        c[C_NEXT] = self.next_index()

    def get(self, i: int, rt: "t.ResourceType | str") -> Any:
        """The live element at `i`; `rt` is the resource type wanted there (a resource
        handle of another type traps), or the name of the stream/future kind wanted."""
        if self.c is not None and self.c[C_PEND]:
            self.take_pending()
        e = self.array[i] if isinstance(i, int) and 0 < i < len(self.array) else None
        if e is None or (not isinstance(rt, str) and (type(e) is not _Elem or e.type != rt)) or \
                (isinstance(rt, str) and type(e) is _Elem):
            what = rt if isinstance(rt, str) else f"resource {rt.name}"
            raise Trap(f"{i} is not a live handle of {what}", handle=i)
        return e

    def add(self, e: Any) -> int:
        c = self.c
        if c is not None and c[C_PEND]:
            self.take_pending()
        if self.free:
            i = self.free.pop()
            self.array[i] = e
        else:
            i = len(self.array)
            if i >= MAX_HANDLES:
                raise Trap("handle table is full")
            self.array.append(e)
        if c is not None:
            c[C_NEXT] = self.next_index()
        return i

    def remove(self, i: int, rt: "t.ResourceType | str") -> Any:
        e = self.get(i, rt)
        self.array[i] = None
        self.free.append(i)
        if self.c is not None:
            self.c[C_NEXT] = i
        return e

    def elements(self) -> list[Any]:
        """The table's slots by index (a handle C made taken in first)."""
        if self.c is not None and self.c[C_PEND]:
            self.take_pending()
        return self.array


class ResourceTables:
    """The handle table of one component instance, shared by every resource type, stream,
    future and error-context.

    `implements` lists the resource types this instance defines: a borrow of one of them
    lowers to its rep directly, as the spec prescribes for the defining instance."""

    def __init__(self, implements: "set[t.ResourceType] | frozenset[t.ResourceType]" = frozenset()) -> None:
        self._handles = _Table()
        self.implements = set(implements)
        self.dtors: dict[t.ResourceType, Callable[[Any], None]] = {}
        self._scopes: list[_Scope] = []
        self._async = self._handles  # stream ends, future ends and error-contexts: same table
        self._native: tuple[Any, int] | None = None  # a C resource.new's record and its tag count

    def _table(self, rt: t.ResourceType) -> _Table:
        return self._handles

    # --- canon resource.new / rep / drop -----------------------------------------------

    def new(self, rt: t.ResourceType, rep: Any) -> int:
        """`resource.new`: a fresh owning handle for `rep`."""
        return self._handles.add(_Elem(rt, rep, True))

    def rep(self, rt: t.ResourceType, handle: int) -> Any:
        """`resource.rep`: the representation behind a handle."""
        return self._table(rt).get(handle, rt).rep

    def drop(self, rt: t.ResourceType, handle: int) -> Any:
        """`resource.drop`: remove a handle.  Dropping an own runs the type's destructor
        (when one is registered) and returns the rep; dropping a borrow returns None."""
        table = self._table(rt)
        e = table.get(handle, rt)
        if e.own and e.lend_count:
            raise Trap(f"handle {handle} of {rt.name} is dropped while lent out {e.lend_count} time(s)")
        table.remove(handle, rt)
        if not e.own:
            if e.scope is not None:
                e.scope.borrow_count -= 1
            return None
        dtor = self.dtors.get(rt)
        if dtor is not None:
            dtor(e.rep)
        return e.rep

    def drop_resource(self, value: Resource) -> Any:
        """The host drops a resource it owns: it is moved out exactly once and the type's
        destructor (when registered) runs on its rep."""
        rep = value.take()
        dtor = self.dtors.get(value.type)
        if dtor is not None:
            dtor(rep)
        return rep

    def live_handles(self, rt: t.ResourceType) -> int:
        """How many handles of resource type `rt` the table holds."""
        return sum(1 for e in self._handles.elements() if type(e) is _Elem and e.type == rt)

    # --- a C `resource.new` (connectors/component/handles.py) ----------------------------

    def native_record(self) -> Any:
        """The C record whose slots the table shares, or None."""
        return self._native[0] if self._native is not None else None

    def attach_native(self, slots: Any, record: Any, tags: int) -> None:
        """Share `slots` (int32 items: C_NEXT, C_PEND, C_REP, C_TAG) with the C record
        `record` (kept alive here), which knows `tags` resource types at most."""
        self._native = (record, tags)
        table = self._handles
        table.c = slots
        slots[C_PEND] = 0
        slots[C_NEXT] = table.next_index()

    def native_tag(self, rt: t.ResourceType, give: bool = True) -> int | None:
        """The number C knows `rt` by in this table (given on first use when `give`), or
        None when it has none (the C record has none left)."""
        types = self._handles.c_types
        for k, other in enumerate(types):
            if other is rt:
                return k
        if not give or self._native is None or len(types) >= self._native[1]:
            return None
        types.append(rt)
        return len(types) - 1

    # --- call scopes ---------------------------------------------------------------------

    def enter_call(self) -> None:
        self._scopes.append(_Scope())

    def exit_export_call(self) -> None:
        """End of a host->guest call: every borrow handed to the guest must be dropped."""
        scope = self._scopes.pop() if self._scopes else _Scope()
        if scope.borrow_count:
            raise Trap(f"guest returned without dropping {scope.borrow_count} borrowed handle(s)")

    def exit_import_call(self) -> None:
        """End of a guest->host call: own handles lent as borrows become droppable again."""
        scope = self._scopes.pop() if self._scopes else _Scope()
        for e in scope.lenders:
            e.lend_count -= 1

    def abandon_call(self) -> None:
        """Drop the innermost call scope without its end-of-call checks (after a trap)."""
        if self._scopes:
            self._scopes.pop()

    def _scope(self) -> _Scope | None:
        return self._scopes[-1] if self._scopes else None

    # --- lifting (guest -> host) and lowering (host -> guest) ------------------------------

    def lift_own(self, rt: t.ResourceType, handle: int) -> Resource:
        table = self._table(rt)
        e = table.get(handle, rt)
        if not e.own:
            raise Trap(f"handle {handle} of {rt.name} is a borrow, passed as own")
        if e.lend_count:
            raise Trap(f"handle {handle} of {rt.name} is moved while lent out")
        table.remove(handle, rt)
        return Resource(rt, e.rep, own=True)

    def lift_borrow(self, rt: t.ResourceType, handle: int) -> Resource:
        e = self._table(rt).get(handle, rt)
        if e.own:
            e.lend_count += 1
            scope = self._scope()
            if scope is None:
                e.lend_count -= 1  # no call to tie the lend to; nothing to undo later
            else:
                scope.lenders.append(e)
        return Resource(rt, e.rep, own=False)

    def lower_own(self, rt: t.ResourceType, value: Any) -> int:
        res = _resource(value, rt)
        return self._handles.add(_Elem(rt, res.take(), True))

    def lift_async(self, ty: t.Type, handle: int) -> _AsyncHandle:
        """Lift a stream, future (moved out of the table) or error-context (copied)."""
        cls = async_handle_class(ty)
        assert cls is not None, ty
        what = ty.wit()
        e = self._async.get(handle, what)
        if type(e) is not cls:
            raise Trap(f"handle {handle} is a {e.type.wit()}, passed as {what}", handle=handle)
        if e.type != ty:
            raise Trap(f"handle {handle} is a {e.type.wit()}, passed as {what}", handle=handle)
        if cls is not ErrorContextHandle:
            self._async.remove(handle, what)
        return e

    def lower_async(self, ty: t.Type, value: Any) -> int:
        """Give a stream, future or error-context to the guest: a fresh index in its table."""
        cls = async_handle_class(ty)
        assert cls is not None, ty
        if type(value) is not cls or value.type != ty:
            raise ValueTypeError("value", f"a {cls.__name__} of {ty.wit()}", value)
        return self._async.add(value)

    def drop_async(self, ty: t.Type, handle: int) -> _AsyncHandle:
        """`stream.drop-readable`, `future.drop-readable`, `error-context.drop`."""
        cls = async_handle_class(ty)
        e = self._async.get(handle, ty.wit())
        if type(e) is not cls:
            raise Trap(f"handle {handle} is a {e.type.wit()}, dropped as {ty.wit()}", handle=handle)
        return self._async.remove(handle, ty.wit())

    def live_async_handles(self) -> list[_AsyncHandle]:
        """The stream ends, future ends and error-contexts the guest holds, by index."""
        return [e for e in self._async.elements() if e is not None and type(e) is not _Elem]

    def adder(self, rt: t.ResourceType) -> Callable[[Any], int]:
        """`new` of `rt` with its table looked up once: rep -> a fresh owning handle."""
        add = self._table(rt).add
        return lambda rep: add(_Elem(rt, rep, True))

    def own_lifter(self, rt: t.ResourceType) -> Callable[[int], Resource]:
        """`lift_own` of `rt` with its table looked up once (generated callers use it).
        With a C `resource.new`, the handle C just made (a constructor's result) is
        moved out without entering the table: the index is free again, as it would be."""
        table = self._table(rt)
        array, free, lift_own = table.array, table.free, self.lift_own
        c = table.c
        tag = self.native_tag(rt, give=False) if c is not None else None
        if tag is not None:
            new = object.__new__

            def lift_native(handle: int) -> Resource:
                if c[C_PEND] == handle and handle and c[C_TAG] == tag:
                    c[C_PEND] = 0  # C_NEXT is `handle` still: it is free again
                    v = new(Resource)  # Resource(rt, rep, True) without the call of __init__
                    v.type, v.rep, v.own, v._moved = rt, c[C_REP], True, False
                    return v
                if c[C_PEND]:
                    table.take_pending()
                return lift_own(rt, handle)
            return lift_native

        def lift(handle: int) -> Resource:
            if type(handle) is int and 0 < handle < len(array) and table.c is None:
                e = array[handle]  # the table is shared: the element must be a handle of `rt`
                if type(e) is _Elem and e.type is rt and e.own and not e.lend_count:
                    array[handle] = None
                    free.append(handle)
                    return Resource(rt, e.rep, True)
            return lift_own(rt, handle)  # raises its Trap
        return lift

    def own_lift_lines(self, rt: t.ResourceType, handle: str, out: str, lifter: str, env: dict[str, Any],
                       indent: str) -> list[str]:
        """Generated lines setting `out` to the owned resource behind the handle in the
        variable `handle`: the constructor's fresh handle of a C `resource.new` taken
        inline (what `own_lifter` does first, without its call), anything else through
        `lifter`, the name of `own_lifter(rt)` in `env`.  Adds the names it reads (`own_`
        prefixed) to `env`."""
        general = [f"{indent}{out} = {lifter}({handle})"]
        c = self._handles.c
        tag = self.native_tag(rt, give=False) if c is not None else None
        if tag is None:
            return general
        env.update(own_slots=c, own_tag=tag, own_new=object.__new__, own_class=Resource, own_type=rt)
        return [f"{indent}if own_slots[{C_PEND}] == {handle} and {handle} and own_slots[{C_TAG}] == own_tag:",
                f"{indent}    own_slots[{C_PEND}] = 0",
                f"{indent}    {out} = own_new(own_class); {out}.type = own_type; {out}.rep = own_slots[{C_REP}]",
                f"{indent}    {out}.own = True; {out}._moved = False",
                f"{indent}else:", "    " + general[0]]

    def rep_lowerer(self, rt: t.ResourceType) -> Callable[[Any], int]:
        """`lower_borrow` of a resource this instance implements (its rep, no handle)."""
        lower_borrow = self.lower_borrow

        def lower(value: Any) -> int:
            if value.__class__ is Resource and value.type is rt and not (value._moved and value.own):
                rep = value.rep
                if rep.__class__ is int:
                    return rep
            return lower_borrow(rt, value)  # the general rules and their diagnostics
        return lower

    def lower_borrow(self, rt: t.ResourceType, value: Any) -> int:
        res = _resource(value, rt)
        if res.own and res.moved:
            raise ValueTypeError("value", f"a live {rt.name}", "a resource already moved or dropped")
        if rt in self.implements:
            rep = res.rep
            if not isinstance(rep, int):
                raise ValueTypeError("value", f"{rt.name} with an i32 rep", rep)
            return rep
        scope = self._scope()
        e = _Elem(rt, res.rep, False, scope)
        if scope is not None:
            scope.borrow_count += 1
        return self._table(rt).add(e)


def _resource(value: Any, rt: t.ResourceType) -> Resource:
    if not isinstance(value, Resource) or value.type != rt:
        raise ValueTypeError("value", handle_expected(rt), handle_found(value))
    return value


def handle_expected(rt: t.ResourceType) -> str:
    """What a resource parameter wants, in the words both component paths use."""
    return f"a handle of {rt.name}"


def handle_found(value: Any) -> Any:
    """What was given instead: a handle of another resource is named by its resource."""
    other = getattr(value, "type", None)
    if isinstance(other, t.ResourceType):
        from ..values import Described
        return Described(f"a handle of {other.name}")
    return value
