"""The fast path: a component's core modules on wasmtime's core API, marshalled by the
Canonical ABI engine's compiled plans, called through `wasmtime_func_call_unchecked`.

`FastBackend` plugs into the walker of component_link.py: it instantiates core modules
following the component's core-instance graph (shim modules, fixup modules and their
indirect-call tables included: they are ordinary core instances), turns `canon lift` into
a precomputed caller, `canon lower` into a wasmtime host function, and `resource.*` into
functions over the engine's handle tables.

Calls go through the generated callers of component_caller.py.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import wasmtime

from ... import cabi
from ... import types as t
from ...audit import error
from . import binary as cb
from . import link as cl
from . import traps as component_traps, capi as wasmtime_capi
from . import cache as compiled_cache
from .sandbox import engine_config, memories_stay_put
from .caller import CallState, core_caller, export_caller
from .capi import CApi

_CORE_VALTYPE = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64,
                 "f32": wasmtime.ValType.f32, "f64": wasmtime.ValType.f64}

class FastMemory(cabi.WasmtimeMemory):
    """A wasmtime memory read through the cffi binding.

    `fixed_base` (an engine from `sandbox.make_engine`: memories never move):
    `refresh` costs nothing, and `check` re-reads the size only when an access goes past
    the size it knows.  Otherwise `refresh` costs one size query, and only when wasm ran
    since the last one (`CallState.gen`): the base can only change when the size does."""

    def __init__(self, capi: CApi, ctx: Any, memory: wasmtime.Memory, state: CallState, *,
                 fixed_base: bool = False) -> None:
        self._state = state
        self._gen = -1
        self._capi = capi
        self._ctx = ctx
        self._mem = capi.memory(memory)
        self._size = capi.lib.wasmtime_memory_data_size
        self.fixed_base = fixed_base
        self.ptr_size = 4
        self.low = 0
        self.limit = -1
        self._base = -1
        self.view = memoryview(b"")
        self._reload()

    def refresh(self) -> None:
        if self.fixed_base:
            return  # the view stays valid; `check` catches a memory that grew
        gen = self._state.gen
        if gen == self._gen:
            return  # no wasm ran since the last look: size and base are unchanged
        self._gen = gen
        self._reload()

    def _reload(self) -> None:
        n = self._size(self._ctx, self._mem)
        if n != self.limit:
            ffi = self._capi.ffi
            base = self._capi.lib.wasmtime_memory_data(self._ctx, self._mem)
            self.view = memoryview(ffi.buffer(base, n)) if n else memoryview(bytearray())
            self._base = int(ffi.cast("uintptr_t", base))
            self.limit = n

    def check(self, ptr: int, n: int) -> None:
        if ptr < self.low or n < 0 or ptr + n > self.limit:
            self._reload()  # the guest may have grown the memory since the size was read
            super().check(ptr, n)


class CoreExports(Mapping):
    """A core instance's exports, looked up one name at a time as the component's aliases
    ask for them (wasmtime-py's `Instance.exports` lists every export, which costs
    quadratic time in a module exporting thousands, like an interpreter's)."""

    def __init__(self, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
        self._store = store
        self._instance = instance
        self._found: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        found = self._found.get(name)
        if found is None:
            from wasmtime import _ffi
            from wasmtime._extern import wrap_extern

            item = _ffi.wasmtime_extern_t()
            raw = name.encode("utf-8")
            if not _ffi.wasmtime_instance_export_get(self._store._context(), ctypes.byref(self._instance._instance),
                                                     raw, len(raw), ctypes.byref(item)):
                raise KeyError(name)
            found = self._found[name] = wrap_extern(item)
        return found

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self[name]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._instance.exports(self._store))

    def __len__(self) -> int:
        return len(self._instance.exports(self._store))


class CoreSession:
    """Fast callers and memories over the core functions of one wasmtime Store, outside a
    component: the engine's benchmarks and tests over real wasm use these.  Raises
    RuntimeError when the cffi binding is unavailable (`wasmtime_capi.load`)."""

    def __init__(self, store: wasmtime.Store, capi: CApi | None = None, *, fuel: int | None = None,
                 epoch_ticks: int | None = None) -> None:
        if capi is None:
            capi, why = wasmtime_capi.load()
            if capi is None:
                raise RuntimeError(f"wasmtime's C API binding is unavailable: {why}")
        self.capi = capi
        self.ctx = capi.context(store)
        self.fixed_base = memories_stay_put(store.engine)
        self.state = CallState(fuel, store, epoch_ticks, count_entries=not self.fixed_base)

    def func(self, func: wasmtime.Func, name: str = "core function") -> Callable[..., Any]:
        """f(*flat_args) -> None, one value or a tuple; a trap raises cabi.Trap."""
        ty = func.type(self.state.store)
        return core_caller(self.capi, self.ctx, func, [str(p) for p in ty.params],
                           [str(r) for r in ty.results], self.state, name)

    def memory(self, memory: wasmtime.Memory) -> FastMemory:
        return FastMemory(self.capi, self.ctx, memory, self.state, fixed_base=self.fixed_base)


class FastBackend(cl.Backend):
    """Instantiates a component's core modules in `store` and makes callables."""

    static = False

    def __init__(self, capi: CApi, engine: wasmtime.Engine, store: wasmtime.Store,
                 modules: dict[int, wasmtime.Module], host: "Callable[[str, str, Any], Any]",
                 fuel: int | None, epoch_ticks: int | None = None) -> None:
        super().__init__()
        self.session = CoreSession(store, capi, fuel=fuel, epoch_ticks=epoch_ticks)
        self.capi, self.ctx, self.state = capi, self.session.ctx, self.session.state
        self.engine = engine
        self.store = store
        self.modules = modules
        self.host = host
        self.resource_tables: dict[t.ResourceType, cabi.ResourceTables] = {}
        self._memories: dict[int, FastMemory] = {}

    # --- core level ---------------------------------------------------------------------

    def core_module(self, m: cb.CoreModule) -> wasmtime.Module:
        mod = self.modules.get(m.offset)
        if mod is None:
            try:
                mod = self.modules[m.offset] = compiled_cache.module(
                    self.engine, m.data, engine_config(self.engine), what=f"core module at byte {m.offset:#x}")
            except wasmtime.WasmtimeError as exc:
                raise error("ffi.component.invalid", f"core module at byte {m.offset:#x} is invalid: "
                            f"{str(exc).splitlines()[0]}") from None
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
        except cabi.Trap as exc:  # a host import (an unprovided one) refused during start-up
            raise component_traps.instantiation_failure(exc.diagnostic.message, trapped=True) from None
        except wasmtime.Trap as exc:
            raise component_traps.instantiation_failure(str(exc), trapped=True) from None
        except wasmtime.WasmtimeError as exc:
            raise component_traps.instantiation_failure(str(exc)) from None
        return CoreExports(self.store, instance)

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

    def _memory(self, mem: Any) -> FastMemory:
        if not isinstance(mem, wasmtime.Memory):
            raise error("ffi.component.invalid", "a canonical `memory` option does not name a linear memory")
        key = id(mem)
        fm = self._memories.get(key)
        if fm is None:
            fm = self._memories[key] = self.session.memory(mem)
        return fm

    def core_type(self, func: Any, what: str) -> tuple[list[str], list[str]]:
        if not isinstance(func, wasmtime.Func):
            raise error("ffi.component.invalid", f"{what}: not a core function")
        ty = func.type(self.store)
        return [str(p) for p in ty.params], [str(r) for r in ty.results]

    def expect_type(self, func: Any, params: list[str], results: list[str], what: str) -> None:
        """The unchecked call trusts the types: a component whose core function does not
        have the type its canonical definition implies is rejected (wasmtime validates
        the same rule when it compiles a component)."""
        have = self.core_type(func, what)
        if have != (list(params), list(results)):
            raise error("ffi.component.invalid", f"{what}: core function has type {have[0]} -> {have[1]}, "
                        f"the canonical definition needs {list(params)} -> {list(results)}")

    def core_call(self, func: wasmtime.Func, name: str, params: list[str] | None = None,
                  results: list[str] | None = None) -> Callable[..., Any]:
        """A raw caller of a core function (realloc, post-return, destructors), checked
        against the expected type when one is given."""
        if params is not None and results is not None:
            self.expect_type(func, params, results, name)
        else:
            self.core_type(func, name)  # a core function at all
        return self.session.func(func, name)

    def options(self, scope: cl.Scope, opts: cb.CanonOptions, name: str,
                post_params: list[str] | None = None) -> cabi.CanonicalOptions:
        memory = None if opts.memory is None else self._memory(scope.get("core memory", opts.memory))
        realloc = None if opts.realloc is None else self.core_call(
            scope.get("core func", opts.realloc), f"{name} realloc", ["i32"] * 4, ["i32"])
        post = None if opts.post_return is None else self.core_call(
            scope.get("core func", opts.post_return), f"{name} post-return", list(post_params or []), [])
        if opts.is_async:
            raise error("ffi.component.unsupported", f"{name}: async canonical options are not supported")
        return cabi.CanonicalOptions(memory=memory, realloc=realloc, post_return=post,
                                     string_encoding=opts.string_encoding, ptr_size=4,
                                     resources=self._tables(scope))

    def lift(self, scope: cl.Scope, core_func: Any, opts: cb.CanonOptions, func: t.Function) -> cl.ComponentFunc:
        name = func.qualified_name or "export"
        flat = cabi.flatten(func, "lift")
        self.expect_type(core_func, list(flat.params), list(flat.results), f"canon lift {name}")
        copts = self.options(scope, opts, name, post_params=list(flat.results))
        plan = cabi.export_plan(func, copts)
        caller = export_caller(self.capi, self.ctx, core_func, plan, func, copts.post_return, self.state, name)
        return cl.ComponentFunc(func, call=lambda args: caller(*args), origin="lift", extra=caller)

    def lower(self, scope: cl.Scope, func: cl.ComponentFunc, opts: cb.CanonOptions) -> wasmtime.Func:
        name = func.origin or func.type.qualified_name
        copts = self.options(scope, opts, name)
        plan = cabi.import_plan(func.type, copts)
        ftype = wasmtime.FuncType([_CORE_VALTYPE[p]() for p in plan.flat.params],
                                  [_CORE_VALTYPE[r]() for r in plan.flat.results])
        target = func.call
        lift_args, lower_result = plan.lift_args, plan.lower_result
        state = self.state
        count = state.count_entries

        if target is None:
            def host(*flat: Any) -> Any:
                raise component_traps.unprovided(name)
        else:
            def host(*flat: Any) -> Any:
                if count:
                    state.gen += 1  # the guest may have grown its memory before calling out
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
            call = self.core_call(dtor, f"{rt.name} destructor", ["i32"], [])
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

    def import_value(self, scope: cl.Scope, name: str, sort: str, value: Any) -> Any:
        return self.host(name, sort, value, self._tables(scope))
