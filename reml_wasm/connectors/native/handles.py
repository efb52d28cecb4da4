"""Resource handles of a native build: the handle is the representation.

A component runtime keeps a handle table per resource type and gives the guest
`[resource-new]`, `[resource-rep]` and `[resource-drop]`.  A native library built from the
same C source has no runtime around it, so its guest source makes the handle equal to the
representation (an i32 the C code chooses) and drops by running its own destructor.  The
host side of that convention is `NativeHandles`: it stands where `cabi.ResourceTables`
stands for a component, so the Canonical ABI engine lifts and lowers `own` and `borrow`
unchanged.

The host still enforces the ownership rules the C code cannot see: an owned handle is
moved or dropped exactly once (`cabi.Resource.take`), a handle the library did not give
out (or one already dropped) never reaches C, and a borrow passes the representation for
the duration of one call only.
"""

from __future__ import annotations

from typing import Any, Callable

from ... import cabi
from ... import types as t
from ...values import ValueTypeError


class NativeHandles:
    """Live handles of one native library, per resource type; `dtors` hold the library's
    `[dtor]` functions (set by the canonical connector)."""

    # a component's own resources lower a borrow to the bare rep; here every handle goes
    # through the checks below, so no resource type counts as implemented by the caller
    implements: frozenset[t.ResourceType] = frozenset()

    def __init__(self) -> None:
        self.dtors: dict[t.ResourceType, Callable[[int], None]] = {}
        self._live: dict[t.ResourceType, set[int]] = {}

    def _set(self, rt: t.ResourceType) -> set[int]:
        live = self._live.get(rt)
        if live is None:
            live = self._live[rt] = set()
        return live

    def live_handles(self, rt: t.ResourceType) -> int:
        """How many handles of `rt` the host holds."""
        return len(self._set(rt))

    # --- results: the library hands out an owned handle ----------------------------------

    def lift_own(self, rt: t.ResourceType, handle: int) -> cabi.Resource:
        live = self._set(rt)
        if not isinstance(handle, int) or handle <= 0 or handle in live:
            raise cabi.Trap(f"the library returned {handle!r}, not a fresh handle of {rt.name}", handle=handle)
        live.add(handle)
        return cabi.Resource(rt, handle, own=True)

    def lift_borrow(self, rt: t.ResourceType, handle: int) -> cabi.Resource:
        if handle not in self._set(rt):
            raise cabi.Trap(f"{handle!r} is not a live handle of {rt.name}", handle=handle)
        return cabi.Resource(rt, handle, own=False)

    # --- arguments: the host gives or lends a handle --------------------------------------

    def _checked(self, rt: t.ResourceType, value: Any) -> cabi.Resource:
        if not isinstance(value, cabi.Resource) or value.type != rt:
            raise ValueTypeError("value", f"a Resource of {rt.name}", value)
        if value.moved or value.rep not in self._set(rt):
            raise ValueTypeError("value", f"a live {rt.name} handle of this library (not moved or dropped)", value)
        return value

    def lower_own(self, rt: t.ResourceType, value: Any) -> int:
        rep = self._checked(rt, value).take()
        self._set(rt).discard(rep)
        return int(rep)

    def lower_borrow(self, rt: t.ResourceType, value: Any) -> int:
        return int(self._checked(rt, value).rep)

    def drop_resource(self, value: Any) -> None:
        """The host drops an owned handle: exactly once, and the library's destructor runs."""
        if not isinstance(value, cabi.Resource):
            raise ValueTypeError("value", "a resource handle", value)
        if not value.own:
            raise cabi.Trap("a borrowed handle cannot be dropped by the host")
        rt = value.type
        rep = self._checked(rt, value).take()
        self._set(rt).discard(rep)
        dtor = self.dtors.get(rt)
        if dtor is not None:
            dtor(rep)

    def release_all(self) -> int:
        """Run the destructor of every handle the host still owns (the library outlives
        its connector, so nothing else would); returns how many were released."""
        released = 0
        for rt, live in self._live.items():
            dtor = self.dtors.get(rt)
            for rep in sorted(live):
                if dtor is not None:
                    dtor(rep)
                released += 1
            live.clear()
        return released

    # --- call scopes: a borrow is the representation, valid for the call -------------------

    def enter_call(self) -> None:
        """Nothing to track: borrows pass the representation, not a table entry."""

    def exit_export_call(self) -> None:
        """Nothing to check at the end of a call (no lent table entries exist)."""

    def abandon_call(self) -> None:
        """Nothing to forget after a failed call."""
