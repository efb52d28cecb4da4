"""Resource handles: resource.new/rep/drop, own moves, borrow scopes and lend counting."""

from __future__ import annotations

import pytest

from reml_wasm import types as t
from reml_wasm.cabi import BytesMemory, CanonicalOptions, Resource, ResourceTables, Trap, export_plan, import_plan
from reml_wasm.cabi.reference import reference_export_plan, reference_import_plan
from reml_wasm.values import ValueTypeError

FILE = t.ResourceType("file", owner="demo:fs/files")
OTHER = t.ResourceType("dir", owner="demo:fs/files")


def fn(name, params, result=None):
    return t.Function(name, tuple(t.Param(f"p{i}", p) for i, p in enumerate(params)), result)


@pytest.fixture(params=["compiled", "reference"])
def plans(request):
    if request.param == "compiled":
        return export_plan, import_plan
    return reference_export_plan, reference_import_plan


def test_new_rep_drop() -> None:
    rt = ResourceTables()
    h1, h2 = rt.new(FILE, 100), rt.new(FILE, 200)
    assert (h1, h2) == (1, 2)  # index 0 is reserved
    assert rt.rep(FILE, h2) == 200
    dropped = []
    rt.dtors[FILE] = dropped.append
    assert rt.drop(FILE, h1) == 100 and dropped == [100]
    with pytest.raises(Trap, match="not a live handle"):
        rt.drop(FILE, h1)  # an own is dropped exactly once
    with pytest.raises(Trap):
        rt.rep(FILE, 0)
    with pytest.raises(Trap):
        rt.rep(OTHER, h2)  # handles are per resource type
    assert rt.new(FILE, 300) == h1  # the free slot is reused


def test_own_moves_in_and_out(plans) -> None:
    exp, imp = plans
    tables = ResourceTables()
    opts = CanonicalOptions(memory=BytesMemory(64), resources=tables)
    give = exp(fn("give", [t.OwnType(FILE)]), opts)
    res = Resource(FILE, 7)
    (handle,) = give.lower_args([res])
    assert tables.rep(FILE, handle) == 7 and res.moved
    with pytest.raises(ValueTypeError):
        give.lower_args([res])  # already given away
    take = exp(fn("take", [], t.OwnType(FILE)), opts)
    back = take.lift_result([handle])
    assert back == Resource(FILE, 7) and back.own
    with pytest.raises(Trap, match="not a live handle"):
        take.lift_result([handle])  # the guest's handle moved out with the value


def test_borrow_into_an_export_must_be_dropped_by_the_guest(plans) -> None:
    exp, _ = plans
    tables = ResourceTables()
    opts = CanonicalOptions(memory=BytesMemory(64), resources=tables)
    use = exp(fn("use", [t.BorrowType(FILE)], t.U32), opts)
    res = Resource(FILE, "host-object")
    (h,) = use.lower_args([res])
    assert not res.moved and tables.rep(FILE, h) == "host-object"
    assert tables.drop(FILE, h) is None  # the guest drops its borrow
    assert use.lift_result([5]) == 5
    (h,) = use.lower_args([res])
    with pytest.raises(Trap, match="without dropping 1 borrowed"):
        use.lift_result([5])


def test_borrow_of_a_resource_the_guest_implements_passes_the_rep(plans) -> None:
    exp, _ = plans
    tables = ResourceTables(implements={FILE})
    opts = CanonicalOptions(memory=BytesMemory(64), resources=tables)
    use = exp(fn("use", [t.BorrowType(FILE)], t.U32), opts)
    assert use.lower_args([Resource(FILE, 1234)]) == [1234]
    assert use.lift_result([0]) == 0


def test_lend_counting_during_an_import_call(plans) -> None:
    _, imp = plans
    tables = ResourceTables()
    opts = CanonicalOptions(memory=BytesMemory(64), resources=tables)
    h = tables.new(FILE, 42)
    read = imp(fn("read", [t.BorrowType(FILE), t.OwnType(OTHER)]), opts)
    d = tables.new(OTHER, 9)
    args = read.lift_args([h, d])
    assert args == [Resource(FILE, 42, own=False), Resource(OTHER, 9)]
    with pytest.raises(Trap, match="lent out"):
        tables.drop(FILE, h)  # cannot drop an own while it is lent for this call
    assert read.lower_result(None, [h, d]) == []
    assert tables.drop(FILE, h) == 42  # the lend ended with the call
    with pytest.raises(Trap):
        read.lift_args([h, d])  # both handles are gone


def test_borrow_handle_passed_as_own_traps() -> None:
    tables = ResourceTables()
    opts = CanonicalOptions(memory=BytesMemory(64), resources=tables)
    use = export_plan(fn("use", [t.BorrowType(FILE)], t.OwnType(FILE)), opts)
    (h,) = use.lower_args([Resource(FILE, 1)])
    with pytest.raises(Trap, match="is a borrow"):
        use.lift_result([h])
