"""The engine over real memories: a wasmtime linear memory that grows (and may move)
inside realloc, a bytearray, and native process memory through cffi (8-byte pointers)."""

from __future__ import annotations

import cffi
import pytest
import wasmtime
from hypothesis import given, settings

from reml_wasm import types as t
from reml_wasm.cabi import (CanonicalOptions, NativeMemory, Trap, WasmtimeMemory, export_plan, import_plan,
                            lift_flat, load, lower_flat, store, size, alignment)
from reml_wasm.cabi.codecs import Compiler
from reml_wasm.benchmarks.cabi import BUMP_REALLOC_WAT
from reml_wasm.connectors.component.fast import CoreSession

from strategies import same_value, typed_values

GUEST_WAT = r"""
(module
  (import "host" "greet" (func $greet (param i32 i32 i32)))
{BUMP}
  ;; run: func(name: string) -> string, forwarding to the host import greet
  (func (export "run") (param i32 i32) (result i32)
    (call $greet (local.get 0) (local.get 1) (i32.const 16))
    (i32.const 16))
  ;; echo: func(l: list<u32>) -> list<u32>: return a pointer to the (ptr, len) pair
  (func (export "echo") (param i32 i32) (result i32)
    (i32.store (i32.const 8) (local.get 0))
    (i32.store (i32.const 12) (local.get 1))
    (i32.const 8))
  (func (export "bad-pointer") (param i32 i32) (result i32) (i32.const 0x7ffffff8))
)
""".replace("{BUMP}", BUMP_REALLOC_WAT)

STRING_FN = t.Function("greet", (t.Param("name", t.STRING),), t.STRING)
ECHO_FN = t.Function("echo", (t.Param("l", t.ListType(t.U32)),), t.ListType(t.U32))


def instantiate():
    engine = wasmtime.Engine()
    wstore = wasmtime.Store(engine)
    module = wasmtime.Module(engine, GUEST_WAT)
    holder: dict = {}

    def greet(p: int, n: int, retptr: int) -> None:
        plan = holder["import"]
        (name,) = plan.lift_args([p, n, retptr])
        plan.lower_result(f"hello, {name}!", [p, n, retptr])

    greet_func = wasmtime.Func(wstore, wasmtime.FuncType([wasmtime.ValType.i32()] * 3, []), greet)
    inst = wasmtime.Instance(wstore, module, [greet_func])
    ex = inst.exports(wstore)
    mem = WasmtimeMemory(ex["memory"], wstore)
    realloc = ex["cabi_realloc"]
    opts = CanonicalOptions(memory=mem, realloc=lambda a, b, c, d: realloc(wstore, a, b, c, d))
    holder["import"] = import_plan(STRING_FN, opts)
    return wstore, ex, mem, opts


def test_export_and_import_plans_over_a_growing_wasmtime_memory() -> None:
    wstore, ex, mem, opts = instantiate()
    plan = export_plan(STRING_FN, opts)
    assert plan.flat.params == ["i32", "i32"] and plan.flat.results == ["i32"]
    before = mem.limit
    name = "wörld" * 40000  # 240 KB: realloc must grow the memory several times
    result = plan.call(lambda *a: ex["run"](wstore, *a), [name])
    assert result == f"hello, {name}!"
    assert mem.limit > before and mem.limit == ex["memory"].data_len(wstore)


def test_bulk_list_echo_over_wasmtime() -> None:
    wstore, ex, mem, opts = instantiate()
    plan = export_plan(ECHO_FN, opts)
    data = list(range(100_000))
    out = plan.call(lambda *a: ex["echo"](wstore, *a), [data])
    assert out == data
    # the bytes really are in the guest's memory, read back by wasmtime itself
    p = int.from_bytes(ex["memory"].read(wstore, 8, 12), "little")
    assert ex["memory"].read(wstore, p + 4 * 99_999, p + 4 * 100_000) == (99_999).to_bytes(4, "little")


def test_guest_pointer_outside_memory_traps() -> None:
    wstore, ex, mem, opts = instantiate()
    plan = export_plan(ECHO_FN, opts)
    with pytest.raises(Trap) as info:
        plan.call(lambda *a: ex["bad-pointer"](wstore, *a), [[1, 2]])
    assert info.value.code == "cabi.trap" and "outside memory" in str(info.value)


class NativeHeap:
    """realloc for native memory: every block is a cffi allocation kept alive here."""

    def __init__(self) -> None:
        self.ffi = cffi.FFI()
        self.blocks: list = []

    def __call__(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        block = self.ffi.new("char[]", new_size + align)
        self.blocks.append(block)
        addr = int(self.ffi.cast("uintptr_t", block))
        return -(-addr // align) * align


@settings(max_examples=120, deadline=None)
@given(typed_values(wide=True))
def test_native_memory_round_trip_with_8_byte_pointers(tv) -> None:
    ty, value = tv
    heap = NativeHeap()
    opts = CanonicalOptions(memory=NativeMemory(), realloc=heap, ptr_size=8)
    flat = lower_flat(opts, value, ty)
    assert same_value(value, lift_flat(opts, flat, ty))
    slot = heap(0, 0, alignment(ty, 8), size(ty, 8))
    store(opts, value, ty, slot)
    assert same_value(value, load(opts, slot, ty))
    codec = Compiler(opts).codec(ty)
    assert same_value(value, codec.load(opts.memory.view, slot))
    out: list = []
    codec.lower(value, out)
    assert same_value(value, codec.lift(out, 0))


def test_native_memory_rejects_the_null_page() -> None:
    opts = CanonicalOptions(memory=NativeMemory(), ptr_size=8)
    with pytest.raises(Trap):
        lift_flat(opts, [0, 4], t.STRING)
    with pytest.raises(Trap):
        load(opts, 8, t.U32)


def test_core_call_matches_wasmtime_func_and_reports_traps() -> None:
    engine = wasmtime.Engine()
    wstore = wasmtime.Store(engine)
    module = wasmtime.Module(engine, """(module
      (func (export "mix") (param i32 i64 f32 f64) (result i64)
        (i64.add (i64.extend_i32_u (local.get 0)) (local.get 1)))
      (func (export "pair") (param f64) (result f64 i32) (local.get 0) (i32.const -1))
      (func (export "boom") unreachable))""")
    ex = wasmtime.Instance(wstore, module, []).exports(wstore)
    core = CoreSession(wstore)
    mix = core.func(ex["mix"])
    assert mix(-1, 5, 1.5, 2.5) == ex["mix"](wstore, -1, 5, 1.5, 2.5) == 0xFFFFFFFF + 5
    assert core.func(ex["pair"])(2.5) == (2.5, -1)
    with pytest.raises(TypeError):
        mix(1)
    with pytest.raises(Trap) as info:
        core.func(ex["boom"], "boom")()
    assert "boom" in str(info.value) and "unreachable" in str(info.value)
    with pytest.raises(Trap):  # a trapped store is not entered again
        mix(1, 2, 3.0, 4.0)


def test_post_return_lets_the_guest_free_results() -> None:
    """The demo guest's greet over its core module: with post-return (run by
    ExportPlan.call) the guest frees each result, so 300 calls with 64 KiB strings keep
    memory flat; without it every call leaks its 128 KiB result block."""
    from reml_wasm import toolchain

    core = toolchain.build_core_module([toolchain.DEMO_SOURCE])
    engine = wasmtime.Engine()
    wstore = wasmtime.Store(engine)
    ex = wasmtime.Instance(wstore, wasmtime.Module.from_file(engine, str(core)), []).exports(wstore)
    fast = CoreSession(wstore)
    opts = CanonicalOptions(memory=fast.memory(ex["memory"]), realloc=fast.func(ex["cabi_realloc"]),
                            post_return=fast.func(ex["cabi_post_greet"]))
    plan = export_plan(STRING_FN, opts)
    greet = fast.func(ex["greet"])
    name = "x" * (64 << 10)
    assert plan.call(greet, [name]) == f"Hello, {name}!"
    settled = ex["memory"].data_len(wstore)
    for _ in range(300):
        assert plan.call(greet, [name]) == f"Hello, {name}!"
    assert ex["memory"].data_len(wstore) == settled
    opts.post_return = None
    for _ in range(20):
        assert plan.call(greet, [name]) == f"Hello, {name}!"
    assert ex["memory"].data_len(wstore) >= settled + 15 * (128 << 10)  # leaked result blocks
