"""The fast path: a component's core modules on wasmtime's core API, marshalled by the
Canonical ABI engine's compiled plans, called through `wasmtime_func_call_unchecked`.

`FastBackend` plugs into the walker of component_link.py: it instantiates core modules
following the component's core-instance graph (shim modules, fixup modules and their
indirect-call tables included: they are ordinary core instances), turns `canon lift` into
a precomputed caller, `canon lower` and `resource.*` into host functions called from C
with the raw value slots (entries.py, callbacks.py) over the plans and the engine's
handle tables.

Calls go through the generated callers of component_caller.py.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import wasmtime
from wasmtime import _ffi
from wasmtime._extern import wrap_extern

from ... import cabi
from ...cabi.options import check_allocation
from ... import types as t
from ...audit import DiagnosticError, error
from ...wasm_binary import component as cb
from . import link as cl
from . import callbacks, capi as wasmtime_capi, traps as component_traps
from . import cache as compiled_cache
from .sandbox import engine_config, memories_stay_put
from .caller import CallState, core_caller, export_caller, take_host_exception
from .entries import import_entry, resource_entry, scalar_import, scalar_import_entry
from .glue import GlueBook, enabled as glue_enabled
from .handles import native_resource_new
from .capi import CApi

_EXTERN_FUNC, _EXTERN_MEMORY = _ffi.WASMTIME_EXTERN_FUNC.value, _ffi.WASMTIME_EXTERN_MEMORY.value
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
            item = _ffi.wasmtime_extern_t()
            raw = name.encode("utf-8")
            if not _ffi.wasmtime_instance_export_get(self._store._context(), ctypes.byref(self._instance._instance),
                                                     raw, len(raw), ctypes.byref(item)):
                raise KeyError(name)
            kind = item.kind
            if kind == _EXTERN_FUNC:  # the common kinds without wrap_extern's imports per call
                found = wasmtime.Func._from_raw(item.of.func)
            elif kind == _EXTERN_MEMORY:
                found = wasmtime.Memory._from_raw(item.of.memory)
            else:
                found = wrap_extern(item)
            self._found[name] = found
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
        self.store = store  # the callers do not hold it: the session (or instance) does
        self.ctx = capi.context(store)
        self.fixed_base = memories_stay_put(store.engine)
        self.state = CallState(fuel, None, epoch_ticks, count_entries=not self.fixed_base, capi=capi, ctx=self.ctx)

    def func(self, func: wasmtime.Func, name: str = "core function", *, locked: bool = True) -> Callable[..., Any]:
        """f(*flat_args) -> None, one value or a tuple; a trap raises cabi.Trap.
        `locked=False`: only for functions called while the store's lock is held."""
        ty = func.type(self.store)
        return core_caller(self.capi, self.ctx, func, [str(p) for p in ty.params],
                           [str(r) for r in ty.results], self.state, name, locked=locked)

    def memory(self, memory: wasmtime.Memory) -> FastMemory:
        return FastMemory(self.capi, self.ctx, memory, self.state, fixed_base=self.fixed_base)


class LazyExport:
    """An export's generated caller, built by `build()` on the first `get()`."""

    __slots__ = ("_build", "_caller")

    def __init__(self, build: Callable[[], Callable[..., Any]]) -> None:
        self._build = build
        self._caller: Callable[..., Any] | None = None

    def get(self) -> Callable[..., Any]:
        caller = self._caller
        if caller is None:  # two threads may both build one: either serves
            caller = self._caller = self._build()
        return caller


class FastBackend(cl.Backend):
    """Instantiates a component's core modules in `store` and makes callables."""

    static = False

    def __init__(self, capi: CApi, engine: wasmtime.Engine, store: wasmtime.Store,
                 modules: dict[int, wasmtime.Module], host: "Callable[[str, str, Any, Any], Any]",
                 fuel: int | None, epoch_ticks: int | None = None, checked: set | None = None,
                 memo: dict | None = None) -> None:
        super().__init__()
        self.checked = set() if checked is None else checked  # definitions whose core types were checked
        # what every instance of the component computes alike: flat signatures by definition,
        # core function types
        self.memo: dict[Any, Any] = {} if memo is None else memo
        self.type_memo = self.memo
        self.session = CoreSession(store, capi, fuel=fuel, epoch_ticks=epoch_ticks)
        self.capi, self.ctx, self.state = capi, self.session.ctx, self.session.state
        self.engine = engine
        self.store = store
        self.modules = modules
        self.host = host
        self.resource_tables: dict[t.ResourceType, cabi.ResourceTables] = {}
        self._memories: dict[int, FastMemory] = {}
        # the host-side copy budget of every memory, also of those first met when an export
        # is first called (the instance sets the limit and keeps the list to reset them)
        self.copy_limit: int | None = None
        self.copy_meters: list[FastMemory] = self.state.copy_meters
        self.host_keys: list[int] = []  # this instance's entries in callbacks.REGISTRY
        # per-signature C glue of the exports, compiled once per component (`checked` is its mark)
        self.glue = GlueBook(capi, self.checked) if glue_enabled() else None

    # --- core level ---------------------------------------------------------------------

    def core_module(self, m: cb.CoreModule) -> wasmtime.Module:
        """The core module compiled by wasmtime, once per component and engine, and across
        processes through the compiled cache (component/cache.py)."""
        mod = self.modules.get(m.offset)
        if mod is None:
            try:
                mod = self.modules[m.offset] = compiled_cache.module(
                    self.engine, m.data, engine_config(self.engine), what=f"core module at byte {m.offset:#x}")
            except wasmtime.WasmtimeError as exc:
                raise error("ffi.component.invalid", f"core module at byte {m.offset:#x} is invalid: "
                            f"{str(exc).splitlines()[0]}") from None
        return mod

    def core_instantiate(self, module: wasmtime.Module, args: dict[str, Any]) -> Any:
        names = self.memo.get(("imports", id(module)))
        if names is None:  # the module's import names, read once per component
            names = self.memo[("imports", id(module))] = [(imp.module, imp.name) for imp in module.imports]
        imports = []
        for module_name, name in names:
            inst = args.get(module_name)
            try:
                imports.append(inst[name])  # type: ignore[index]
            except (KeyError, TypeError):
                raise error("ffi.component.link", f"core import {module_name}.{name} is not supplied "
                            "by the component's instance graph") from None
        try:
            instance = wasmtime.Instance(self.store, module, imports)
        except (cabi.Trap, wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            # a host function (an unprovided import, say) refused during start-up: its reason
            raised = take_host_exception()
            if isinstance(raised, DiagnosticError):
                raise component_traps.instantiation_failure(raised.diagnostic.message, trapped=True) from None
            if isinstance(exc, cabi.Trap):
                raise component_traps.instantiation_failure(exc.diagnostic.message, trapped=True) from None
            raise component_traps.instantiation_failure(str(exc), trapped=isinstance(exc, wasmtime.Trap)) from None
        return CoreExports(self.store, instance)

    def core_inline(self, exports: dict[str, Any]) -> dict[str, Any]:
        return exports

    def core_export(self, instance: dict[str, Any], name: str, sort: str) -> Any:
        try:
            return instance[name]
        except KeyError:
            raise error("ffi.component.malformed", f"core instance has no export {name!r}") from None

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
            if self.copy_limit is not None:
                fm.copy_limit = self.copy_limit
            self.copy_meters.append(fm)
        return fm

    def core_type(self, func: Any, what: str) -> tuple[list[str], list[str]]:
        if not isinstance(func, wasmtime.Func):
            raise error("ffi.component.invalid", f"{what}: not a core function")
        ty = func.type(self.store)
        return [str(p) for p in ty.params], [str(r) for r in ty.results]

    def expect_type(self, func: Any, params: list[str], results: list[str], what: str,
                    key: Any = None) -> None:
        """The unchecked call trusts the types: a component whose core function does not
        have the type its canonical definition implies is rejected (wasmtime validates
        the same rule when it compiles a component).  `key` names the definition within
        the component: every instance has the same types, so it is checked once."""
        if key is not None and key in self.checked:
            return
        have = self.core_type(func, what)
        if have != (list(params), list(results)):
            raise error("ffi.component.invalid", f"{what}: core function has type {have[0]} -> {have[1]}, "
                        f"the canonical definition needs {list(params)} -> {list(results)}")
        if key is not None:
            self.checked.add(key)

    def core_call(self, func: wasmtime.Func, name: str, params: list[str] | None = None,
                  results: list[str] | None = None, key: Any = None, *, locked: bool = True) -> Callable[..., Any]:
        """A raw caller of a core function (realloc, post-return, destructors), checked
        against the expected type when one is given.  `locked=False` for realloc and
        post-return: they run only inside export calls and host functions, which hold
        the store's lock already."""
        if params is not None and results is not None:
            self.expect_type(func, params, results, name, key)
        else:
            self.core_type(func, name)  # a core function at all
        return self.session.func(func, name, locked=locked)

    def options(self, scope: cl.Scope, opts: cb.CanonOptions, name: str,
                post_params: list[str] | None = None, where: Any = None) -> cabi.CanonicalOptions:
        memory = None if opts.memory is None else self._memory(scope.get("core memory", opts.memory))
        realloc = None if opts.realloc is None else self.core_call(
            scope.get("core func", opts.realloc), f"{name} realloc", ["i32"] * 4, ["i32"],
            None if where is None else ("realloc", *where), locked=False)
        post = None if opts.post_return is None else self.core_call(
            scope.get("core func", opts.post_return), f"{name} post-return", list(post_params or []), [],
            None if where is None else ("post-return", *where), locked=False)
        if opts.is_async:
            raise error("ffi.component.unsupported", f"{name}: async canonical options are not supported")
        copts = cabi.CanonicalOptions(memory=memory, realloc=realloc, post_return=post,
                                      string_encoding=opts.string_encoding, ptr_size=4,
                                      resources=self._tables(scope))
        if realloc is not None and memory is not None:
            copts.put_bytes = self._put_bytes(copts, realloc, memory)
            copts.put_strings = self._put_strings(copts, realloc, memory)
        return copts

    def _realloc_parts(self, realloc: Any, memory: FastMemory) -> tuple[Any, ...]:
        """What a C helper calling the guest's realloc shares with the realloc caller:
        (context, function, slots, trap slot, fail, int64 view of the slots, the memory's
        `wasmtime_memory_t`, the call state, the epoch ticks, set_epoch_deadline)."""
        env = realloc.keep_alive
        return (env["ctx"], env["fn"], env["bufp"], env["trap"], env["fail"], env["v_i64"], memory._mem,
                self.state, self.state.epoch_ticks, self.capi.lib.wasmtime_context_set_epoch_deadline)

    def _put_strings(self, copts: cabi.CanonicalOptions, realloc: Any, memory: FastMemory) -> Any:
        """`CanonicalOptions.put_strings` through the API module's `reml_put_strings` (one
        crossing for a whole list<string>, the guest's realloc called per string from C),
        or None in ABI mode.  Failures are the realloc caller's."""
        put_strings = self.capi.put_strings
        if put_strings is None:
            return None
        import array
        ctx, fn, buf, trap, fail, v_i64, mem, state, ticks, set_deadline = self._realloc_parts(realloc, memory)
        count = state.count_entries

        def put_all(list_ptr: int, datas: list) -> None:
            if state.poisoned is not None:
                fail(None)
            if ticks is not None:
                set_deadline(ctx, ticks)
            lens = array.array("I", map(len, datas))
            if any(n > 0x7FFFFFFF for n in lens):
                raise cabi.Trap("a string is longer than the Canonical ABI allows")
            r = put_strings(ctx, fn, mem, buf, trap, list_ptr, b"".join(datas), lens.tobytes(), len(datas))
            if count:
                state.gen += 1
            if r == -1:
                fail(v_i64[0] or 1)
            if r == -2:
                p, i = v_i64[0], v_i64[2]
                check_allocation(copts, p, 1, len(datas[i]))  # raises for the block C refused
                raise cabi.Trap(f"realloc returned {p:#x}: the string and its list entry do not fit in memory")
        return put_all

    def _put_bytes(self, copts: cabi.CanonicalOptions, realloc: Any, memory: FastMemory) -> Any:
        """`CanonicalOptions.put_bytes` through the API module's `reml_put` (realloc and the
        copy in one crossing, sharing the realloc caller's slots), or None in ABI mode.
        Failures are the realloc caller's: a trap poisons the instance."""
        put = self.capi.put
        if put is None:
            return None
        ctx, fn, buf, trap, fail, v_i64, mem, state, ticks, set_deadline = self._realloc_parts(realloc, memory)
        count, check, from_buffer = state.count_entries, check_allocation, self.capi.ffi.from_buffer

        def put_bytes(align: int, data: bytes) -> int:
            if state.poisoned is not None:
                fail(None)
            if ticks is not None:
                set_deadline(ctx, ticks)
            src = data
            if data.__class__ is bytes:
                n = len(data)
            else:  # a bytearray, array or memoryview: small ones copied, large ones by address
                view = memoryview(data)
                n = view.nbytes
                data = bytes(view) if n <= 4096 else from_buffer(view.cast("B"))
            p = put(ctx, fn, mem, buf, trap, align, data, n)
            if count:
                state.gen += 1
            if p >= 0:
                return p
            if p == -1:
                fail(v_i64[0] or 1)
            p = check(copts, v_i64[0], align, n)  # raises for the block C refused
            memory.view[p:p + n] = src
            return p
        return put_bytes

    def lift(self, scope: cl.Scope, core_func: Any, opts: cb.CanonOptions, func: t.Function) -> cl.ComponentFunc:
        """The export's caller is built on its first use (`LazyExport`): instantiating
        compiles nothing for exports that are never called."""
        name = func.qualified_name or "export"
        where = (scope.path, len(scope.spaces["func"]))
        flat = self._flat(func, "lift", where)
        self.expect_type(core_func, list(flat.params), list(flat.results), f"canon lift {name}", ("lift", *where))
        glue = None if self.glue is None else (self.glue, self.glue.note(func, opts.post_return is not None))

        def build() -> Callable[..., Any]:
            copts = self.options(scope, opts, name, post_params=list(flat.results), where=where)
            plan = cabi.export_plan(func, copts)
            caller: Any = export_caller(self.capi, self.ctx, core_func, plan, func, copts.post_return,
                                        self.state, name, glue)  # a function: takes attributes
            caller.store = self.store  # what a caller the user keeps keeps alive
            caller.plan = plan
            return caller
        lazy = LazyExport(build)
        return cl.ComponentFunc(func, call=lambda args: lazy.get()(*args), origin="lift", extra=lazy)

    def _flat(self, func: t.Function, context: str, where: tuple[str, int]) -> cabi.FlatSignature:
        """`cabi.flatten(func, context)` once per component: the definition at `where` has
        the same type in every instance (hashing a type deeply costs more than flattening)."""
        key = (context, *where)
        flat = self.memo.get(key)
        if flat is None:
            flat = self.memo[key] = cabi.flatten(func, context)
        return flat

    def lower(self, scope: cl.Scope, func: cl.ComponentFunc, opts: cb.CanonOptions) -> wasmtime.Func:
        """A host function for the import; its plan and generated entry are made on the
        guest's first call (an instance pays nothing for imports it never calls)."""
        name = func.origin or func.type.qualified_name
        copts = self.options(scope, opts, name)
        self.state.host_imports = True  # host code may lift out of guest memory during a call
        flat = self._flat(func.type, "lower", (scope.path, len(scope.spaces["core func"])))
        ftype = self._func_type(tuple(flat.params), tuple(flat.results))
        state, ffi = self.state, self.capi.ffi
        key = 0
        if self.capi.mode == "api" and scalar_import(func):
            def first_scalar_call(a0: int, a1: int, a2: int) -> int:
                entry = scalar_import_entry(cabi.import_plan(func.type, copts), func, state, name)
                if key in callbacks.REGISTRY:  # not released meanwhile
                    callbacks.REGISTRY[key] = entry
                return entry(a0, a1, a2)
            host = self._host_func(ftype, first_scalar_call, scalar=True)
        else:
            def first_call(raw: Any) -> int:
                entry = import_entry(cabi.import_plan(func.type, copts), func, state, ffi, name)
                if key in callbacks.REGISTRY:  # not released meanwhile
                    callbacks.REGISTRY[key] = entry
                return entry(raw)
            host = self._host_func(ftype, first_call)
        key = self.host_keys[-1]
        return host

    def _host_func(self, ftype: wasmtime.FuncType, entry: Callable[..., int], *, scalar: bool = False) -> wasmtime.Func:
        """A core function of type `ftype` whose calls run `entry(raw)`, or with `scalar`
        `entry(a0, a1, a2)` (callbacks.py)."""
        return self.capi.new_host_func(self.ctx, ftype, self._register(entry), scalar=scalar)

    def _register(self, entry: Callable[..., int]) -> int:
        """`entry`'s key in callbacks.REGISTRY, kept as this instance's (released at close)."""
        if self.capi.host_entry is None:
            callbacks.attach(self.capi)
        key = callbacks.register(entry)
        self.host_keys.append(key)
        return key

    def release_host_functions(self) -> None:
        """Forget this instance's host functions now (later guest calls to them trap)."""
        callbacks.release_keys(self.host_keys)
        self.host_keys.clear()

    def resource_defined(self, scope: cl.Scope, rt: t.ResourceType, dtor: Any) -> None:
        tables = self._tables(scope)
        tables.implements.add(rt)
        self.resource_tables[rt] = tables
        if dtor is not None:
            tables.dtors[rt] = self.core_call(dtor, f"{rt.name} destructor", ["i32"], [])  # dtor(rep)

    def resource_builtin(self, scope: cl.Scope, kind: str, rt: t.ResourceType) -> wasmtime.Func:
        ftype = self._func_type(("i32",), () if kind == "resource.drop" else ("i32",))
        scalar = self.capi.mode == "api"
        tables = self._tables(scope)
        entry = resource_entry(kind, tables, rt, scalar=scalar)
        if kind == "resource.new" and scalar:  # made in C, Python asked only when C cannot
            native = native_resource_new(self.capi, self.ctx, ftype, tables, rt, entry, self._register)
            if native is not None:
                return native
        return self._host_func(ftype, entry, scalar=scalar)

    def _func_type(self, params: tuple[str, ...], results: tuple[str, ...]) -> wasmtime.FuncType:
        """The core function type, made once per component (a host function copies it)."""
        key = ("functype", params, results)
        ftype = self.memo.get(key)
        if ftype is None:
            ftype = self.memo[key] = wasmtime.FuncType([_CORE_VALTYPE[p]() for p in params],
                                                       [_CORE_VALTYPE[r]() for r in results])
        return ftype

    def import_value(self, scope: cl.Scope, name: str, sort: str, value: Any) -> Any:
        return self.host(name, sort, value, self._tables(scope))
