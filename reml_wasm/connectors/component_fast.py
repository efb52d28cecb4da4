"""The fast path: a component's core modules on wasmtime's core API, marshalled by the
Canonical ABI engine's compiled plans, called through `wasmtime_func_call_unchecked`.

`FastBackend` plugs into the walker of component_link.py: it instantiates core modules
following the component's core-instance graph (shim modules, fixup modules and their
indirect-call tables included: they are ordinary core instances), turns `canon lift` into
a precomputed caller, `canon lower` into a wasmtime host function, and `resource.*` into
functions over the engine's handle tables.

A call of a lifted export is: plan.lower_args -> stores into a preallocated
`wasmtime_val_raw_t` array -> one cffi call -> loads -> plan.lift_result -> post-return.
The caller is generated source (compiled once per export), so a call does no attribute
lookups and allocates only what the plan does.
"""

from __future__ import annotations

from typing import Any, Callable

import wasmtime
import wasmtime._func as _wasmtime_func

from .. import cabi
from .. import types as t
from ..audit import error
from . import component_binary as cb
from . import component_link as cl
from . import component_traps
from .wasmtime_capi import CApi

_CORE_VALTYPE = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64,
                 "f32": wasmtime.ValType.f32, "f64": wasmtime.ValType.f64}

# per flat core type: (view name, index stride in that view)
_VIEW = {"i32": ("v_i64", 2), "i64": ("v_i64", 2), "f32": ("v_f32", 4), "f64": ("v_f64", 2)}
_READ = {"i32": ("v_i32", 4), "i64": ("v_i64", 2), "f32": ("v_f32", 4), "f64": ("v_f64", 2)}


class FastMemory(cabi.WasmtimeMemory):
    """A wasmtime memory whose `refresh` costs one cffi call: the base address can only
    change when the size does (a memory moves only when it grows)."""

    def __init__(self, capi: CApi, ctx: Any, memory: wasmtime.Memory) -> None:
        self._capi = capi
        self._ctx = ctx
        self._mem = capi.memory(memory)
        self._size = capi.lib.wasmtime_memory_data_size
        self.ptr_size = 4
        self.low = 0
        self.limit = -1
        self._base = -1
        self.view = memoryview(b"")
        self.refresh()

    def refresh(self) -> None:
        n = self._size(self._ctx, self._mem)
        if n != self.limit:
            ffi = self._capi.ffi
            base = self._capi.lib.wasmtime_memory_data(self._ctx, self._mem)
            self.view = memoryview(ffi.buffer(base, n)) if n else memoryview(bytearray())
            self._base = int(ffi.cast("uintptr_t", base))
            self.limit = n


class CallState:
    """Per-instance mutable state shared by every generated caller: `poisoned` is set
    by the first trap (the instance may not be entered again, as in wasmtime)."""

    __slots__ = ("poisoned", "fuel")

    def __init__(self, fuel: int | None) -> None:
        self.poisoned: str | None = None
        self.fuel = fuel


def _trap_from_host_exception() -> BaseException | None:
    exc = _wasmtime_func.LAST_EXCEPTION
    _wasmtime_func.LAST_EXCEPTION = None
    return exc


def make_core_caller(capi: CApi, ctx: Any, func: wasmtime.Func, params: list[str], results: list[str],
                     state: CallState, name: str) -> Callable[..., Any]:
    """A Python callable for one core function: f(*flat_args) -> flat result(s)
    (None / a value / a tuple).  Used for realloc, post-return and destructors."""
    return _generate(capi, ctx, func, params, results, state, name, plan=None, post=None)


def _generate(capi: CApi, ctx: Any, func: wasmtime.Func, params: list[str], results: list[str],
              state: CallState, name: str, plan: Any, post: Callable | None) -> Callable[..., Any]:
    ffi, lib = capi.ffi, capi.lib
    n = max(len(params), len(results), 1)
    buf = ffi.new("wasmtime_val_raw_t[]", n)
    env: dict[str, Any] = {
        "ctx": ctx, "fn": capi.func(func), "bufp": ffi.cast("wasmtime_val_raw_t *", buf), "_buf": buf,
        "v_i64": ffi.cast("int64_t *", buf), "v_i32": ffi.cast("int32_t *", buf),
        "v_f32": ffi.cast("float *", buf), "v_f64": ffi.cast("double *", buf),
        "trap": ffi.new("wasm_trap_t **"), "call_unchecked": lib.wasmtime_func_call_unchecked,
        "set_fuel": lib.wasmtime_context_set_fuel, "state": state,
        "post": post,
    }
    label = [name]
    env["fail"] = _failure(capi, state, label, env["trap"])
    lines: list[str] = []
    if plan is None:
        head = "def caller(" + ", ".join(f"a{i}" for i in range(len(params))) + "):"
        flat_names = [f"a{i}" for i in range(len(params))]
    else:
        env["lower_args"] = plan.lower_args
        env["lift_result"] = plan.lift_result
        head = "def caller(*args):"
        flat_names = [f"flat[{i}]" for i in range(len(params))]
        lines.append("    if state.poisoned is not None: fail(None)")
        lines.append("    flat = lower_args(args)")
    for i, (ty, src) in enumerate(zip(params, flat_names)):
        view, stride = _VIEW[ty]
        lines.append(f"    {view}[{i * stride}] = {src}")
    if plan is not None and state.fuel is not None:
        lines.append("    set_fuel(ctx, state.fuel)")
    lines.append(f"    err = call_unchecked(ctx, fn, bufp, {n}, trap)")
    lines.append("    if err or trap[0]: fail(err)")
    reads = []
    for i, ty in enumerate(results):
        view, stride = _READ[ty]
        reads.append(f"{view}[{i * stride}]")
    if plan is None:
        if not results:
            lines.append("    return None")
        elif len(results) == 1:
            lines.append(f"    return {reads[0]}")
        else:
            lines.append(f"    return ({', '.join(reads)},)")
    else:
        lines.append(f"    r = ({''.join(r + ', ' for r in reads)})")
        if post is not None:
            lines.append("    try:")
            lines.append("        return lift_result(r)")
            lines.append("    finally:")
            lines.append("        post(*r)")
        else:
            lines.append("    return lift_result(r)")
    src = head + "\n" + "\n".join(lines) + "\n"
    exec(compile(src, f"<reml_wasm fast caller {name}>", "exec"), env)  # noqa: S102 - generated above
    caller = env["caller"]
    caller.label = label  # the name traps report; the instance sets the export's full name
    return caller


def _failure(capi: CApi, state: CallState, label: list[str], trap_slot: Any) -> Callable[[Any], None]:
    """What a caller runs when the unchecked call reports an error or a trap (or when the
    instance is already poisoned: `err` is None)."""
    ffi = capi.ffi

    def fail(err: Any) -> None:
        if err is None:
            raise component_traps.poisoned(label[0])
        host_exc = _trap_from_host_exception()
        message = capi.take_error(err, trap_slot)
        state.poisoned = component_traps.reason_of(message)
        if isinstance(host_exc, cabi.Trap) and host_exc.diagnostic.extensions.get("kind") == "unprovided-import":
            raise component_traps.trap(label[0], host_exc.diagnostic.message) from None
        if host_exc is not None:
            raise host_exc
        raise component_traps.trap(label[0], message)
    return fail


class FastBackend(cl.Backend):
    """Instantiates a component's core modules in `store` and makes callables."""

    static = False

    def __init__(self, capi: CApi, engine: wasmtime.Engine, store: wasmtime.Store,
                 modules: dict[int, wasmtime.Module], host: "Callable[[str, str, Any], Any]",
                 fuel: int | None) -> None:
        super().__init__()
        self.capi = capi
        self.engine = engine
        self.store = store
        self.ctx = capi.context(store)
        self.modules = modules
        self.host = host
        self.state = CallState(fuel)
        self.resource_tables: dict[t.ResourceType, cabi.ResourceTables] = {}
        self._memories: dict[int, FastMemory] = {}
        self._core_callers: dict[int, Callable] = {}
        self.trap_buffers: list[Any] = []

    # --- core level ---------------------------------------------------------------------

    def core_module(self, m: cb.CoreModule) -> wasmtime.Module:
        mod = self.modules.get(m.offset)
        if mod is None:
            mod = self.modules[m.offset] = wasmtime.Module(self.engine, m.data)
        return mod

    def core_instantiate(self, module: wasmtime.Module, args: dict[str, Any]) -> dict[str, Any]:
        imports = []
        for imp in module.imports:
            inst = args.get(imp.module)
            if inst is None or imp.name not in inst:
                raise error("ffi.component.link", f"core import {imp.module}.{imp.name} is not supplied "
                            "by the component's instance graph")
            imports.append(inst[imp.name])
        try:
            instance = wasmtime.Instance(self.store, module, imports)
        except wasmtime.Trap as exc:
            raise cabi.Trap(f"trap while instantiating a core module: {exc}") from None
        except wasmtime.WasmtimeError as exc:
            raise error("ffi.component.link", f"core module instantiation failed: {exc}") from None
        exports = instance.exports(self.store)
        return {name: exports[name] for name in exports}

    def core_inline(self, exports: dict[str, Any]) -> dict[str, Any]:
        return exports

    def core_export(self, instance: dict[str, Any], name: str, sort: str) -> Any:
        if name not in instance:
            raise error("ffi.component.malformed", f"core instance has no export {name!r}")
        return instance[name]

    # --- canonical definitions ----------------------------------------------------------

    def _tables(self, scope: cl.Scope) -> cabi.ResourceTables:
        if scope.state is None:
            scope.state = cabi.ResourceTables(set(scope.resources))
        return scope.state

    def _memory(self, mem: wasmtime.Memory) -> FastMemory:
        key = id(mem)
        fm = self._memories.get(key)
        if fm is None:
            fm = self._memories[key] = FastMemory(self.capi, self.ctx, mem)
        return fm

    def core_call(self, func: wasmtime.Func, name: str) -> Callable[..., Any]:
        """A raw caller of a core function (realloc, post-return, destructors)."""
        ty = func.type(self.store)
        params = [str(p) for p in ty.params]
        results = [str(r) for r in ty.results]
        caller = _generate(self.capi, self.ctx, func, params, results, self.state, name, None, None)
        return caller

    def options(self, scope: cl.Scope, opts: cb.CanonOptions, name: str) -> cabi.CanonicalOptions:
        memory = None if opts.memory is None else self._memory(scope.get("core memory", opts.memory))
        realloc = None if opts.realloc is None else self.core_call(scope.get("core func", opts.realloc),
                                                                   f"{name} realloc")
        post = None if opts.post_return is None else self.core_call(scope.get("core func", opts.post_return),
                                                                    f"{name} post-return")
        if opts.is_async:
            raise error("ffi.component.unsupported", f"{name}: async canonical options are not supported")
        return cabi.CanonicalOptions(memory=memory, realloc=realloc, post_return=post,
                                     string_encoding=opts.string_encoding, ptr_size=4,
                                     resources=self._tables(scope))

    def lift(self, scope: cl.Scope, core_func: Any, opts: cb.CanonOptions, func: t.Function) -> cl.ComponentFunc:
        name = func.qualified_name or "export"
        copts = self.options(scope, opts, name)
        plan = cabi.export_plan(func, copts)
        caller = _generate(self.capi, self.ctx, core_func, list(plan.flat.params), list(plan.flat.results),
                           self.state, name, plan, copts.post_return)
        return cl.ComponentFunc(func, call=lambda args: caller(*args), origin="lift", extra=caller)

    def lower(self, scope: cl.Scope, func: cl.ComponentFunc, opts: cb.CanonOptions) -> wasmtime.Func:
        name = func.origin or func.type.qualified_name
        copts = self.options(scope, opts, name)
        plan = cabi.import_plan(func.type, copts)
        ftype = wasmtime.FuncType([_CORE_VALTYPE[p]() for p in plan.flat.params],
                                  [_CORE_VALTYPE[r]() for r in plan.flat.results])
        target = func.call
        lift_args, lower_result = plan.lift_args, plan.lower_result

        if target is None:
            def host(*flat: Any) -> Any:
                raise component_traps.unprovided(name)
        else:
            def host(*flat: Any) -> Any:
                result = target(lift_args(flat))
                out = lower_result(result, flat)
                if not out:
                    return None
                return out[0] if len(out) == 1 else out
        return wasmtime.Func(self.store, ftype, host)

    def resource_defined(self, scope: cl.Scope, rt: t.ResourceType, dtor: Any) -> None:
        tables = self._tables(scope)
        tables.implements.add(rt)
        self.resource_tables[rt] = tables
        if dtor is not None:
            call = self.core_call(dtor, f"{rt.name} destructor")
            tables.dtors[rt] = lambda rep: call(rep)

    def resource_builtin(self, scope: cl.Scope, kind: str, rt: t.ResourceType) -> wasmtime.Func:
        tables = self._tables(scope)
        i32 = wasmtime.ValType.i32()
        if kind == "resource.new":
            return wasmtime.Func(self.store, wasmtime.FuncType([i32], [i32]), lambda rep: tables.new(rt, rep))
        if kind == "resource.rep":
            return wasmtime.Func(self.store, wasmtime.FuncType([i32], [i32]), lambda h: tables.rep(rt, h))

        def drop(handle: int) -> None:
            tables.drop(rt, handle)
        return wasmtime.Func(self.store, wasmtime.FuncType([i32], []), drop)

    def import_value(self, name: str, sort: str, value: Any) -> Any:
        return self.host(name, sort, value)
