"""The Canonical ABI's corners, each held to the interpreter (lift.py / lower.py) and, where
compiled codecs and plans are involved, the compiled path held to the interpreter:

- one handle table per instance, shared by resources of every type, streams, futures and
  error-contexts (indices count up across all of them);
- a `map` whose pairs repeat a key traps (no pair is silently lost);
- strings and lists longer than 2^28 - 1 bytes trap (utf16: 2^27 code units);
- async functions are refused with a coded error instead of being flattened as sync;
- compiled stores leave padding bytes untouched, as the interpreter's store does;
- flat integers outside both the signed and unsigned range of their slot trap.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.cabi import (BytesMemory, CanonicalOptions, ErrorContextHandle, FutureHandle, Resource,
                            ResourceTables, StreamHandle, Trap, export_plan, flatten, import_plan, lift_flat,
                            load, lower_flat, store)
from reml_wasm.cabi.codecs import Compiler
from reml_wasm.cabi.strings import MAX_LIST_BYTES, MAX_STRING_BYTES

from cabi_helpers import options
from strategies import same_value, values_of

A = t.ResourceType("a", owner="t:t/i")
B = t.ResourceType("b", owner="t:t/i")
KINDS = {
    "own-a": (t.OwnType(A), lambda n: Resource(A, n)),
    "own-b": (t.OwnType(B), lambda n: Resource(B, n)),
    "stream": (t.StreamType(t.U8), lambda n: StreamHandle(t.U8, n)),
    "future": (t.FutureType(None), lambda n: FutureHandle(None, n)),
    "error-context": (t.ERROR_CONTEXT, lambda n: ErrorContextHandle(n)),
}


def outcome(fn):
    try:
        return ("value", fn())
    except Trap as exc:
        return ("trap", exc.diagnostic.code)


# --- one handle table per instance ------------------------------------------------------

def test_tuple_of_two_resource_types_lowers_to_consecutive_indices():
    ty = t.TupleType((t.OwnType(A), t.OwnType(B)))
    opts = CanonicalOptions(resources=ResourceTables())
    assert lower_flat(opts, (Resource(A, 10), Resource(B, 20)), ty) == [1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=8), st.booleans())
def test_handles_of_every_kind_share_one_index_space(kinds, compiled):
    """Lowering a tuple of handles of mixed kinds gives indices 1..n in order (the
    interpreter and the compiled codec alike); each index lifts back only as its own kind."""
    ty = t.TupleType(tuple(KINDS[k][0] for k in kinds))
    value = tuple(KINDS[k][1](n) for n, k in enumerate(kinds))
    opts = CanonicalOptions(resources=ResourceTables())
    if compiled:
        out: list = []
        Compiler(opts).codec(ty).lower(value, out)
    else:
        out = lower_flat(opts, value, ty)
    assert out == list(range(1, len(kinds) + 1))
    for i, k in enumerate(kinds):
        for other in KINDS:
            if other != k:
                with pytest.raises(Trap):
                    lift_flat(opts, [i + 1], KINDS[other][0])
    assert lift_flat(opts, out, ty) == value


def test_resource_index_of_another_type_traps_and_frees_nothing():
    tables = ResourceTables()
    opts = CanonicalOptions(resources=tables)
    ia = tables.new(A, 7)
    ib = tables.new(B, 8)
    assert (ia, ib) == (1, 2)
    with pytest.raises(Trap):
        lift_flat(opts, [ia], t.OwnType(B))
    assert lift_flat(opts, [ib], t.OwnType(B)).rep == 8
    assert tables.live_handles(A) == 1 and tables.live_handles(B) == 0
    # a freed slot is reused by whichever kind comes next
    assert lower_flat(opts, StreamHandle(t.U8, "s"), t.StreamType(t.U8)) == [ib]


# --- map with a repeated key ------------------------------------------------------------

MAP = t.MapType(t.STRING, t.U32)


def _map_memory(pairs: list[tuple[str, int]]) -> tuple[CanonicalOptions, list[int]]:
    """Guest memory holding `pairs` as the map's list of (key, value) records."""
    opts = options(1024)
    mem = opts.memory
    base = 512
    entries = bytearray()
    for k, v in pairs:
        data = k.encode()
        sp = opts.realloc(0, 0, 1, len(data))
        mem.view[sp:sp + len(data)] = data
        entries += struct.pack("<III", sp, len(data), v)
    mem.view[base:base + len(entries)] = entries
    return opts, [base, len(pairs)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 9)), max_size=6))
def test_map_with_a_repeated_key_traps_and_unique_keys_lift(pairs):
    opts, flat = _map_memory(pairs)
    ref = outcome(lambda: lift_flat(opts, flat, MAP))
    keys = [k for k, _ in pairs]
    if len(set(keys)) == len(keys):
        assert ref == ("value", dict(pairs))
    else:
        assert ref == ("trap", "cabi.trap")
    assert outcome(lambda: Compiler(opts).codec(MAP).lift(flat, 0)) == ref
    # and loaded from memory (the pair stored at 0)
    struct.pack_into("<II", opts.memory.view, 0, *flat)
    assert outcome(lambda: load(opts, 0, MAP)) == ref
    assert outcome(lambda: Compiler(opts).codec(MAP).load(opts.memory.view, 0)) == ref


# --- length limits --------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["utf8", "utf16", "latin1+utf16"]), st.sampled_from([4, 8]),
       st.integers(-3, 3), st.booleans())
def test_string_length_limit(encoding, ptr_size, delta, compiled):
    """A length field past 2^28 - 1 bytes traps as too long (before the bounds check);
    one within the limit traps only because the memory is small."""
    unit = 1 if encoding != "utf16" else 2
    units = (MAX_STRING_BYTES + 1) // unit + delta  # around the limit, in code units
    nbytes = units * unit
    opts = CanonicalOptions(memory=BytesMemory(64, ptr_size=ptr_size), string_encoding=encoding,
                            ptr_size=ptr_size)
    flat = [0, units]
    if compiled:
        run = lambda: Compiler(opts).codec(t.STRING).lift(flat, 0)  # noqa: E731
    else:
        run = lambda: lift_flat(opts, flat, t.STRING)  # noqa: E731
    with pytest.raises(Trap) as info:
        run()
    too_long = "longer than the Canonical ABI allows" in info.value.diagnostic.message
    assert too_long == (nbytes > MAX_STRING_BYTES)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([t.U8, t.U32, t.U64, t.STRING]), st.integers(-2, 2), st.booleans())
def test_list_length_limit(elem, delta, compiled):
    opts = options(64)
    size = {t.U8: 1, t.U32: 4, t.U64: 8, t.STRING: 8}[elem]
    n = (MAX_LIST_BYTES + 1) // size + delta
    ty = t.ListType(elem)
    run = (lambda: Compiler(opts).codec(ty).lift([0, n], 0)) if compiled else (lambda: lift_flat(opts, [0, n], ty))
    with pytest.raises(Trap) as info:
        run()
    assert ("longer than the Canonical ABI allows" in info.value.diagnostic.message) == (n * size > MAX_LIST_BYTES)


# --- async functions ------------------------------------------------------------------

@pytest.mark.parametrize("context", ["lift", "lower"])
def test_async_function_is_refused_with_a_code(context):
    func = t.Function("f", (t.Param("x", t.U32),), t.STRING, is_async=True)
    with pytest.raises(DiagnosticError) as info:
        flatten(func, context)
    assert info.value.diagnostic.code == "cabi.unsupported"
    assert "async" in info.value.diagnostic.message
    make = export_plan if context == "lift" else import_plan
    with pytest.raises(DiagnosticError):
        make(func, options(64))


# --- padding bytes --------------------------------------------------------------------

PADDED = st.lists(st.sampled_from([t.U8, t.S8, t.U16, t.S16, t.U32, t.S32, t.U64, t.S64, t.BOOL,
                                   t.F32, t.F64, t.CHAR]), min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(PADDED.map(lambda fs: t.TupleType(tuple(fs))).flatmap(lambda ty: st.tuples(st.just(ty), values_of(ty))))
def test_compiled_store_leaves_padding_as_the_interpreter_does(case):
    ty, value = case
    filled = b"\xaa" * 128
    ref = options(128)
    ref.memory.view[:] = filled
    store(ref, value, ty, 8)
    comp = options(128)
    comp.memory.view[:] = filled
    Compiler(comp).codec(ty).store(value, 8)
    assert bytes(comp.memory.view) == bytes(ref.memory.view)


# --- flat integers out of range -------------------------------------------------------

SLOT = {t.U8: "i32", t.S8: "i32", t.U16: "i32", t.S32: "i32", t.U32: "i32", t.BOOL: "i32",
        t.CHAR: "i32", t.U64: "i64", t.S64: "i64"}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SLOT, key=lambda ty: ty.wit())), st.data())
def test_flat_integers_outside_the_slot_trap(ty, data):
    bits = 32 if SLOT[ty] == "i32" else 64
    x = data.draw(st.one_of(st.integers(-(1 << bits - 1), (1 << bits) - 1),
                            st.integers(1 << bits, 1 << (bits + 8)),
                            st.integers(-(1 << (bits + 8)), -(1 << bits - 1) - 1)))
    in_range = -(1 << bits - 1) <= x <= (1 << bits) - 1
    opts = CanonicalOptions()
    ref = outcome(lambda: lift_flat(opts, [x], ty))
    comp = outcome(lambda: Compiler(opts).codec(ty).lift([x], 0))
    assert ref[0] == comp[0]
    if ref[0] == "value":
        assert same_value(ref[1], comp[1])
    if not in_range:
        assert ref == ("trap", "cabi.trap")
    elif ty != t.CHAR:
        assert ref[0] == "value"


def test_real_component_string_over_the_limit_traps(tmp_path):
    """A component whose export returns a string of 2^28 bytes (inside its 2^28 + 64 KiB
    memory): the fast path (this engine) traps on the length, as wasmtime (the oracle) also
    refuses it; a short string from the same component lifts on both paths."""
    import subprocess
    from pathlib import Path

    from reml_wasm import toolchain
    from reml_wasm.connectors.component import Component

    wasm = tmp_path / "long_string.wasm"
    subprocess.run([toolchain.wasm_tools_path(), "parse",
                    str(Path(__file__).parent / "data" / "cabi_long_string.wat"), "-o", str(wasm)], check=True)
    comp = Component.from_file(wasm)
    for path in ("fast", "wasmtime"):
        inst = comp.instantiate(path=path)
        assert inst.call("small") == "hello"
        with pytest.raises(DiagnosticError) as info:
            inst.call("big")
        assert info.value.diagnostic.code == "cabi.trap"
        if path == "fast":
            assert "longer than the Canonical ABI allows" in info.value.diagnostic.message


def test_real_component_two_resource_types_share_one_index_space(tmp_path):
    """A component that makes one handle of each of its two resource types (canon
    resource.new) and returns both indices: 1 and 2 on this engine's fast path, as in
    wasmtime (the oracle); one table per resource type would give 1 and 1."""
    import subprocess
    from pathlib import Path

    from reml_wasm import toolchain
    from reml_wasm.connectors.component import Component

    wasm = tmp_path / "two.wasm"
    subprocess.run([toolchain.wasm_tools_path(), "parse",
                    str(Path(__file__).parent / "data" / "cabi_two_resource_types.wat"), "-o", str(wasm)],
                   check=True)
    comp = Component.from_file(wasm)
    got = {}
    for path in ("fast", "wasmtime"):
        packed = comp.instantiate(path=path).call("two")
        got[path] = (packed >> 32, packed & 0xFFFFFFFF)
    assert got["fast"] == got["wasmtime"] == (1, 2)
