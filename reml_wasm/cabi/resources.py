"""Resource handles: per-resource-type handle tables of one component instance,
`resource.new` / `resource.rep` / `resource.drop`, borrow scopes and lend counting.

On the host side an `own` or `borrow` value is a `Resource` (its type and its
representation).  Lowering an owned `Resource` into the guest moves it: it can be moved
or dropped exactly once.
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


class _Elem:
    __slots__ = ("rep", "own", "scope", "lend_count")

    def __init__(self, rep: Any, own: bool, scope: "_Scope | None" = None) -> None:
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


class _Table:
    __slots__ = ("array", "free")

    def __init__(self) -> None:
        self.array: list[_Elem | None] = [None]  # index 0 is never a handle
        self.free: list[int] = []

    def get(self, i: int, rt: t.ResourceType) -> _Elem:
        if not isinstance(i, int) or i <= 0 or i >= len(self.array) or self.array[i] is None:
            raise Trap(f"{i} is not a live handle of resource {rt.name}", handle=i)
        return self.array[i]  # type: ignore[return-value]

    def add(self, e: _Elem) -> int:
        if self.free:
            i = self.free.pop()
            self.array[i] = e
            return i
        i = len(self.array)
        if i >= MAX_HANDLES:
            raise Trap("handle table is full")
        self.array.append(e)
        return i

    def remove(self, i: int, rt: t.ResourceType) -> _Elem:
        e = self.get(i, rt)
        self.array[i] = None
        self.free.append(i)
        return e


class ResourceTables:
    """The handle tables of one component instance (one table per resource type).

    `implements` lists the resource types this instance defines: a borrow of one of them
    lowers to its rep directly, as the spec prescribes for the defining instance."""

    def __init__(self, implements: "set[t.ResourceType] | frozenset[t.ResourceType]" = frozenset()) -> None:
        self._tables: dict[t.ResourceType, _Table] = {}
        self.implements = set(implements)
        self.dtors: dict[t.ResourceType, Callable[[Any], None]] = {}
        self._scopes: list[_Scope] = []

    def _table(self, rt: t.ResourceType) -> _Table:
        table = self._tables.get(rt)
        if table is None:
            table = self._tables[rt] = _Table()
        return table

    # --- canon resource.new / rep / drop -----------------------------------------------

    def new(self, rt: t.ResourceType, rep: Any) -> int:
        """`resource.new`: a fresh owning handle for `rep`."""
        return self._table(rt).add(_Elem(rep, True))

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
        return sum(1 for e in self._table(rt).array if e is not None)

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
        return self._table(rt).add(_Elem(res.take(), True))

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
        e = _Elem(res.rep, False, scope)
        if scope is not None:
            scope.borrow_count += 1
        return self._table(rt).add(e)


def _resource(value: Any, rt: t.ResourceType) -> Resource:
    if not isinstance(value, Resource) or value.type != rt:
        raise ValueTypeError("value", f"a Resource of {rt.name}", value)
    return value
