"""Hostile guests: random memory and random flat values give a value or a Trap (never
another exception), and the compiled plans trap exactly when the interpreter does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import types as t
from reml_wasm.cabi import BytesMemory, CanonicalOptions, Trap, export_plan, import_plan, lift_flat, load, \
    flatten_type, ResourceTables
from reml_wasm.cabi.codecs import Compiler

from strategies import same_value, types

MEM = 512


def core_values(core: str) -> st.SearchStrategy:
    if core == "i32":
        return st.one_of(st.integers(0, MEM + 16), st.integers(-(1 << 31), (1 << 32) - 1))
    if core == "i64":
        return st.one_of(st.integers(0, MEM + 16), st.integers(-(1 << 63), (1 << 64) - 1))
    return st.floats(allow_nan=True, width=32 if core == "f32" else 64)


def outcome(fn):
    try:
        return ("value", fn())
    except Trap as exc:
        return ("trap", exc.diagnostic.message)


def agree(a, b) -> None:
    assert a[0] == b[0], (a, b)
    if a[0] == "value":
        assert same_value(a[1], b[1])


scenarios = st.tuples(types(wide=True), st.sampled_from([4, 8]), st.sampled_from(["utf8", "utf16", "latin1+utf16"]),
                      st.binary(min_size=MEM, max_size=MEM))


@settings(max_examples=400, deadline=None)
@given(scenarios, st.data())
def test_random_flat_values_lift_to_a_value_or_a_trap(scenario, data) -> None:
    ty, ps, enc, memory = scenario
    flat = [data.draw(core_values(c)) for c in flatten_type(ty, ps)]
    opts = CanonicalOptions(memory=BytesMemory(memory, ptr_size=ps), string_encoding=enc, ptr_size=ps)
    ref = outcome(lambda: lift_flat(opts, flat, ty))
    comp = outcome(lambda: Compiler(opts).codec(ty).lift(flat, 0))
    agree(ref, comp)


@settings(max_examples=400, deadline=None)
@given(scenarios, st.integers(0, MEM + 8))
def test_random_memory_loads_to_a_value_or_a_trap(scenario, ptr) -> None:
    ty, ps, enc, memory = scenario
    opts = CanonicalOptions(memory=BytesMemory(memory, ptr_size=ps), string_encoding=enc, ptr_size=ps)
    ref = outcome(lambda: load(opts, ptr, ty))
    # the compiled path: a spilled result read through an export plan
    func = t.Function("f", (), t.TupleType((ty, t.STRING)))
    plan = export_plan(func, opts)
    if ref[0] == "value":
        codec = Compiler(opts).codec(ty)
        agree(ref, outcome(lambda: codec.load(opts.memory.view, ptr)))
    outcome(lambda: plan.lift_result([ptr]))  # must not raise anything but Trap


@pytest.mark.parametrize("ty,flat,message", [
    (t.CHAR, [0xD800], "not a Unicode scalar value"),
    (t.CHAR, [0x110000], "not a Unicode scalar value"),
    (t.OptionType(t.U8), [2, 0], "discriminant 2 is out of range"),
    (t.EnumType("e", ("a", "b", "c")), [3], "discriminant 3"),
    (t.STRING, [0, 4], "not valid utf8"),                 # bytes ff fe fd fc
    (t.STRING, [500, 100], "outside memory"),
    (t.ListType(t.U32), [2, 1], "not aligned"),
    (t.ListType(t.U32), [0, 1 << 20], "outside memory"),
    (t.ListType(t.U32), [0, 1 << 30], "longer than the Canonical ABI allows"),
    (t.STRING, [0, (1 << 28) - 1], "outside memory"),
    (t.STRING, [0, 0xFFFFFFFF], "longer than the Canonical ABI allows"),
    (t.OwnType(t.ResourceType("r")), [1], "not a live handle"),
])
def test_specific_traps(ty, flat, message) -> None:
    mem = bytearray(MEM)
    mem[0:4] = b"\xff\xfe\xfd\xfc"
    opts = CanonicalOptions(memory=BytesMemory(mem), resources=ResourceTables())
    with pytest.raises(Trap, match=message):
        lift_flat(opts, flat, ty)
    with pytest.raises(Trap, match=message):
        Compiler(opts).codec(ty).lift(flat, 0)


def test_invalid_utf16_and_tagged_lengths_trap() -> None:
    mem = bytearray(MEM)
    mem[0:2] = (0xD800).to_bytes(2, "little")  # a lone high surrogate
    for enc, n in (("utf16", 1), ("latin1+utf16", 1 | (1 << 31))):
        opts = CanonicalOptions(memory=BytesMemory(mem), string_encoding=enc)
        with pytest.raises(Trap, match="not valid"):
            lift_flat(opts, [0, n], t.STRING)
        with pytest.raises(Trap, match="not aligned"):
            lift_flat(opts, [1, n], t.STRING)
    opts = CanonicalOptions(memory=BytesMemory(mem), string_encoding="latin1+utf16")
    with pytest.raises(Trap, match="outside memory"):
        lift_flat(opts, [0, (1 << 31) | 300], t.STRING)   # 600 bytes of utf16


def test_spilled_params_and_return_pointers_are_checked() -> None:
    many = t.Function("g", tuple(t.Param(f"p{i}", t.U32) for i in range(17)), t.STRING)
    opts = CanonicalOptions(memory=BytesMemory(MEM))
    plan = import_plan(many, opts)
    assert plan.flat.params == ["i32", "i32"] and plan.flat.results == []
    with pytest.raises(Trap, match="not aligned"):
        plan.lift_args([2, 0])
    with pytest.raises(Trap, match="outside memory"):
        plan.lift_args([MEM - 4, 0])
    args = plan.lift_args([0, 0])
    assert args == [0] * 17
    with pytest.raises(Trap, match="outside memory"):
        plan.lower_result("x", [0, MEM])
    with pytest.raises(Trap, match="too few|expected"):
        plan.lift_args([0])
