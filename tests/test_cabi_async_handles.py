"""Stream, future and error-context values: i32 handles transferred through the
instance's table (no async runtime: only the handle transfer of synchronous calls)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import types as t
from reml_wasm.cabi import (CanonicalOptions, BytesMemory, ErrorContextHandle, FutureHandle, ResourceTables,
                            StreamHandle, Trap, export_plan, lift_flat, load, lower_flat, store)
from reml_wasm.cabi.codecs import Compiler
from reml_wasm.cabi.reference import reference_export_plan
from reml_wasm.values import ValueTypeError, check

from cabi_helpers import options
from strategies import async_handles, same_value, types, values_of

S_U8, F_STR, EC = t.StreamType(t.U8), t.FutureType(t.STRING), t.ERROR_CONTEXT


def _async_typed_values() -> st.SearchStrategy:
    return types(async_types=True).flatmap(
        lambda ty: st.tuples(st.just(ty), values_of(ty, handles=async_handles)))


def _opts(ps: int = 4) -> CanonicalOptions:
    return options(ptr_size=ps, resources=ResourceTables())


@pytest.fixture(params=["interpreter", "compiled"])
def marshal(request):
    """(lower(opts, value, ty) -> flat, lift(opts, flat, ty) -> value) by one engine."""
    if request.param == "interpreter":
        return lower_flat, lift_flat

    def lower(opts, value, ty):
        out: list = []
        Compiler(opts).codec(ty).lower(value, out)
        return out

    def lift(opts, flat, ty):
        return Compiler(opts).codec(ty).lift(list(flat), 0)

    return lower, lift


@settings(max_examples=200, deadline=None)
@given(_async_typed_values(), st.sampled_from([4, 8]))
def test_plans_match_interpreter_and_ends_move(tv, ps) -> None:
    ty, value = tv
    ref, comp = _opts(ps), _opts(ps)
    flat_ref = lower_flat(ref, value, ty)
    codec = Compiler(comp).codec(ty)
    flat_comp: list = []
    codec.lower(value, flat_comp)
    assert same_value(flat_ref, flat_comp)
    assert ref.memory.data == comp.memory.data
    assert ref.resources.live_async_handles() == comp.resources.live_async_handles()
    assert same_value(value, lift_flat(ref, flat_ref, ty))
    assert same_value(value, codec.lift(flat_comp, 0))
    # lifting took every stream and future end out; error-contexts were copied and stay
    for tables in (ref.resources, comp.resources):
        assert all(type(h) is ErrorContextHandle for h in tables.live_async_handles())
    assert ref.resources.live_async_handles() == comp.resources.live_async_handles()


@settings(max_examples=100, deadline=None)
@given(_async_typed_values(), st.sampled_from([4, 8]))
def test_memory_round_trip_matches_interpreter(tv, ps) -> None:
    ty, value = tv
    ref, comp = options(4096, ptr_size=ps, resources=ResourceTables()), \
        options(4096, ptr_size=ps, resources=ResourceTables())
    for o in (ref, comp):
        o.realloc.top = 2048
    store(ref, value, ty, 64)
    codec = Compiler(comp).codec(ty)
    codec.store(value, 64)
    assert ref.memory.data == comp.memory.data
    assert same_value(value, load(ref, 64, ty))
    comp.memory.refresh()
    assert same_value(value, codec.load(comp.memory.view, 64))


def test_lowering_gives_fresh_indices_and_lifting_a_stream_moves_it(marshal) -> None:
    lower, lift = marshal
    opts = _opts()
    a, b = StreamHandle(t.U8, "a"), StreamHandle(t.U8, "b")
    (ia,), (ib,) = lower(opts, a, S_U8), lower(opts, b, S_U8)
    assert (ia, ib) == (1, 2)
    assert lift(opts, [ib], S_U8) == b
    with pytest.raises(Trap, match="not a live handle"):
        lift(opts, [ib], S_U8)  # the readable end left with the first lift
    assert opts.resources.live_async_handles() == [a]
    assert lower(opts, FutureHandle(t.STRING, 5), F_STR) == [ib]  # the free index is reused
    assert lift(opts, [ib], F_STR) == FutureHandle(t.STRING, 5)


def test_error_context_is_copied_not_moved(marshal) -> None:
    lower, lift = marshal
    opts = _opts()
    ec = ErrorContextHandle({"why": "disk full"})
    (i,) = lower(opts, ec, EC)
    assert lift(opts, [i], EC) == ec
    assert lift(opts, [i], EC) == ec  # still there
    assert lower(opts, ec, EC) == [i + 1]  # lowering again makes a second index
    opts.resources.drop_async(EC, i)
    with pytest.raises(Trap):
        lift(opts, [i], EC)


def test_unknown_index_wrong_kind_and_wrong_element_trap(marshal) -> None:
    lower, lift = marshal
    opts = _opts()
    (i,) = lower(opts, StreamHandle(t.U8, 1), S_U8)
    (j,) = lower(opts, ErrorContextHandle(2), EC)
    for bad in (0, 99, -1):
        with pytest.raises(Trap):
            lift(opts, [bad], S_U8)
    with pytest.raises(Trap, match="stream<u8>, passed as future<u8>"):
        lift(opts, [i], t.FutureType(t.U8))
    with pytest.raises(Trap, match="passed as stream<u32>"):
        lift(opts, [i], t.StreamType(t.U32))
    with pytest.raises(Trap, match="passed as stream<u8>"):
        lift(opts, [j], S_U8)
    with pytest.raises(Trap, match="passed as error-context"):
        lift(opts, [i], EC)
    with pytest.raises(Trap, match="passed as stream"):
        lift(opts, [i], t.StreamType())  # `stream` (no element) is another type
    assert lift(opts, [i], S_U8) == StreamHandle(t.U8, 1)  # the failed lifts left it in place


@pytest.mark.parametrize("value,ty", [
    (StreamHandle(t.U16, 1), S_U8), (FutureHandle(t.U8, 1), S_U8), (3, S_U8), (None, t.FutureType()),
    (FutureHandle(t.STRING, 1), t.FutureType()), (StreamHandle(None, 1), EC), ("oops", EC),
])
def test_host_values_of_the_wrong_handle_class_or_type_are_refused(marshal, value, ty) -> None:
    lower, _ = marshal
    opts = _opts()
    with pytest.raises(ValueTypeError):
        lower(opts, value, ty)
    with pytest.raises(ValueTypeError):
        check(value, ty)
    assert opts.resources.live_async_handles() == []


def test_handles_are_immutable_values() -> None:
    h = StreamHandle(t.U8, 7)
    with pytest.raises(AttributeError):
        h.rep = 8  # type: ignore[misc]
    assert h == StreamHandle(t.U8, 7) != StreamHandle(t.U8, 8)
    assert h != FutureHandle(t.U8, 7) and h.type == S_U8
    assert FutureHandle(None, 1).type == t.FutureType() and ErrorContextHandle(0).type == EC
    assert len({h, StreamHandle(t.U8, 7)}) == 1


@pytest.mark.parametrize("plan", [export_plan, reference_export_plan])
def test_export_plan_transfers_handles_in_a_sync_call(plan) -> None:
    tables = ResourceTables()
    opts = CanonicalOptions(memory=BytesMemory(256), resources=tables)
    func = t.Function("pipe", (t.Param("s", S_U8), t.Param("e", t.OptionType(EC))), F_STR)
    p = plan(func, opts)
    s, e = StreamHandle(t.U8, "in"), ErrorContextHandle("ctx")
    args = p.lower_args([s, e])
    assert args == [1, 1, 2]
    # the guest answers with a future it made (index 3, put in its table by future.new)
    fut = FutureHandle(t.STRING, "out")
    assert tables.lower_async(F_STR, fut) == 3
    assert p.lift_result([3]) == fut
    assert tables.live_async_handles() == [s, e]
