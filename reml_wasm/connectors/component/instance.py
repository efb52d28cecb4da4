"""The component connector: load a component once, instantiate it on one of two paths.

    comp = Component.from_file("guest.wasm")
    inst = comp.instantiate({"reml:ctest/host@0.1.0": {"log": print}}, sandbox=Sandbox(fuel=10**7))
    inst.call("add", 1, 2)            # or: add = inst.func("add"); add(1, 2)
    inst.call("reml:ctest/counters@0.1.0#[constructor]counter", 5)

`path="fast"` (default) runs the core modules on wasmtime's core API through the cffi
binding (fast.py); `path="wasmtime"` uses wasmtime.component (ref.py).
WASI preview 2 runs on both paths (`Sandbox(wasi=WasiConfig(...))`): in Python on the fast
path (wasi/), wasmtime's own on the reference path.  When the fast path cannot serve
(wasmtime version check failed, a feature the parser does not support), the instance says so in `diagnostics` (a warning) and uses
the reference path.  Both paths take and return values in the reml_wasm.values convention.

Threads: a `Component` may be shared by any number of threads (instantiate from any of
them); an `Instance` serialises its calls (one store, one call at a time: a second thread
waits for the first); `Component.pool(n)` gives n instances behind one queue for threads
that should run in parallel.  Release: `Instance.close()` (or `with`) frees the store at
once; an unreachable instance is freed by the garbage collector, host imports included.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import wasmtime

from ... import cabi, types as t
from ...audit import Diagnostic, DiagnosticError, error
from ...values import check_args
from ...wasm_binary import component as cb
from . import link as cl
from . import world as cw
from . import capi as wasmtime_capi
from . import cache as compiled_cache
from . import traps as component_traps
from .host import host_call, host_result
from .sandbox import TICKER, Sandbox, engine_config, shared_engine

if TYPE_CHECKING:  # imported when needed: a process on the fast path may never load it
    import wasmtime.component as wc

PATHS = ("fast", "wasmtime")

Imports = Mapping[str, Any]
"""Host imports: interface key -> {function name (`log`, `[method]r.m`) -> callable}, or
world function name -> callable.  Callables take and return reml values."""


_LOAD_LOCK = threading.Lock()


class Component:
    """A parsed component binary and what was compiled from it (per engine).

    Thread-safe: one Component may be instantiated from many threads at once (its
    compiled caches are filled under a lock; engines are shared per process).  Calls
    go to instances, each of which serialises its own calls (see `Instance`); for many
    threads calling in parallel use `pool(n)`."""

    def __init__(self, data: bytes, *, source: str = "<bytes>", name: str | None = None) -> None:
        self.source = source
        self.data = bytes(data)
        self.ast = cb.parse_component(self.data)
        self.name = name or "root"
        self._world: t.World | None = None
        # per engine configuration (fuel, epoch): the engine, its compiled modules and component
        self._engines: dict[tuple[bool, bool], wasmtime.Engine] = {}
        self._modules: dict[tuple[bool, bool], dict[int, wasmtime.Module]] = {}
        self._ref_components: dict[tuple[bool, bool], wc.Component] = {}
        self._checked: dict[tuple[bool, bool], set[Any]] = {}  # fast path: definitions type-checked once
        self._memo: dict[tuple[bool, bool], dict[Any, Any]] = {}  # fast path: per-definition results
        self.diagnostics: list[Diagnostic] = []
        self._lock = threading.RLock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "Component":
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise error("ffi.component.io", f"cannot read {p}: {exc.strerror or exc}", path=str(p)) from None
        try:
            return cls(data, source=str(p), name=_world_name(p))
        except DiagnosticError as exc:
            d = exc.diagnostic
            raise DiagnosticError(dataclasses.replace(d, message=f"{p}: {d.message}")) from None

    @property
    def world(self) -> t.World:
        if self._world is None:
            with self._lock:
                if self._world is None:
                    self._world = cw.world_of(self.ast, self.name)
        return self._world

    def exports(self) -> dict[str, tuple[str | None, t.Function]]:
        """Callable exports: full name (`add`, `ns:pkg/iface#[method]r.m`) -> (interface key, function)."""
        out = {}
        for key, func in self.world.exported_functions():
            full = func.qualified_name if key is None else f"{key}#{func.qualified_name}"
            out[full] = (key, func)
        return out

    def resolve(self, name: str) -> tuple[str, str | None, t.Function]:
        """An export by full name, or `iface#func` with the interface's short name."""
        exports = self.exports()
        if name in exports:
            return (name, *exports[name])
        matches = [full for full in exports if "#" in full and _short(full) == name]
        if len(matches) == 1:
            return (matches[0], *exports[matches[0]])
        known = ", ".join(sorted(exports)) or "none"
        raise error("ffi.component.no_export", f"no exported function {name!r} (exports: {known})", name=name)

    def _normalize_imports(self, imports: Imports) -> dict[str, Any]:
        """Import keys as the component names them: a full key, or an interface's short
        name (`host` for `reml:ctest/host@0.1.0`).  Unknown keys are errors (typos)."""
        keys = [item.key for item in self.world.imports]
        out: dict[str, Any] = {}
        for key, value in imports.items():
            if key not in keys:
                matches = [k for k in keys if k.split("/", 1)[-1].split("@", 1)[0] == key]
                if len(matches) != 1:
                    raise error("ffi.component.no_import", f"the component imports nothing called {key!r} "
                                f"(imports: {', '.join(keys) or 'none'})", name=key)
                key = matches[0]
            out[key] = value
        return out

    def engine(self, key: tuple[bool, bool] = (False, False)) -> wasmtime.Engine:
        """The (process-wide) engine for `key` (fuel, epoch), with this component's module cache."""
        eng = self._engines.get(key)
        if eng is None:
            with self._lock:
                eng = self._engines.get(key)
                if eng is None:
                    self._modules[key] = {}
                    eng = self._engines[key] = shared_engine(key)
        return eng

    def compiled(self, key: tuple[bool, bool] = (False, False)) -> wc.Component:
        """The component compiled by wasmtime for the reference path (which validates it),
        from the compiled cache when it holds it."""
        wcomp = self._ref_components.get(key)
        if wcomp is None:
            with self._lock:
                wcomp = self._ref_components.get(key)
                if wcomp is None:
                    try:
                        wcomp = self._ref_components[key] = compiled_cache.component(
                            self.engine(key), self.data, engine_config(self.engine(key)), what=self.source)
                    except wasmtime.WasmtimeError as exc:
                        raise error("ffi.component.invalid", f"{self.source}: wasmtime rejects the component: "
                                    f"{str(exc).splitlines()[0]}") from None
        return wcomp

    def instantiate(self, imports: Imports | None = None, *, sandbox: Sandbox = Sandbox(),
                    path: str = "fast") -> "Instance":
        """A new instance (its own store) with `imports`, limited by `sandbox`, on `path`."""
        if path not in PATHS:
            raise error("ffi.component.path", f"unknown path {path!r} (fast or wasmtime)")
        imports = self._normalize_imports(imports or {})
        notes: list[Diagnostic] = []
        if path == "fast":
            with _LOAD_LOCK:
                capi, why = wasmtime_capi.load()
            if capi is None:
                notes.append(_fallback(f"the cffi binding of wasmtime is unavailable ({why})"))
            else:
                try:
                    return FastInstance(self, capi, imports, sandbox)
                except DiagnosticError as exc:
                    if not exc.code.startswith("ffi.component.unsupported"):
                        raise
                    notes.append(_fallback(exc.diagnostic.message))
        inst = RefInstance(self, imports, sandbox)
        inst.diagnostics.extend(notes)
        self.diagnostics.extend(notes)
        return inst

    def pool(self, n: int, imports: Imports | None = None, *, sandbox: Sandbox = Sandbox(),
             path: str = "fast") -> "InstancePool":
        """`n` instances with the same imports and sandbox behind one queue, for threads
        calling in parallel (see `InstancePool`)."""
        return InstancePool(self, n, imports, sandbox=sandbox, path=path)


def _core_modules(ast: cb.Component, out: dict[int, bytes]) -> dict[int, bytes]:
    """The core modules of a component, nested components included, by byte offset."""
    for d in ast.definitions:
        if isinstance(d, cb.CoreModule):
            out[d.offset] = d.data
        elif isinstance(d, cb.Component):
            _core_modules(d, out)
    return out


def _precompile(component: "Component", key: tuple[bool, bool]) -> None:
    """Compile (or load) every core module the fast path will instantiate, in parallel;
    a module wasmtime rejects is left for the walk to report where it is used."""
    engine = component.engine(key)
    known = component._modules[key]
    wanted = {o: d for o, d in _core_modules(component.ast, {}).items() if o not in known}
    if wanted:
        for offset, mod in compiled_cache.modules(engine, wanted, engine_config(engine),
                                                  what=f"{component.source} core modules").items():
            if isinstance(mod, wasmtime.Module):
                known[offset] = mod


def _short(full: str) -> str:
    key, _, func = full.partition("#")
    iface = key.split("/", 1)[-1].split("@", 1)[0]
    return f"{iface}#{func}"


def _world_name(p: Path) -> str:
    stem = p.stem.lower()
    clean = "".join(c if c.isalnum() else "-" for c in stem).strip("-")
    return clean if clean and clean[0].isalpha() else "root"


def _fallback(reason: str) -> Diagnostic:
    return Diagnostic("ffi.component.fast_path_unavailable",
                      f"using the wasmtime reference path: {reason}", severity="warning")


class Instance:
    """An instantiated component.  `func(name)` gives a callable taking reml values
    (looked up once; on the fast path a wrong argument count is Python's TypeError);
    `call(name, *args)` is the same in one step with the count checked
    (`ffi.value.arity`); `drop(handle)` drops an owned resource.

    Threads: an instance serialises its calls.  `lock` (re-entrant) is held for the
    whole of each call, host imports included, so a second thread calling the same
    instance waits; the same thread may re-enter (a host import calling back).  Every
    way into the store -- callables from `func`, `call`, `drop`, `close` -- takes it.
    A callable `_make` returns with a true `thread_safe` attribute takes `lock` itself
    and is handed out unwrapped; any other is wrapped in a closure taking it.  On the
    fast path with a C compiler `lock` is the mutex of the instance's C store record:
    the per-signature C glue takes it in C with the GIL released, Python code through
    C functions that release the GIL only while they wait, so neither order deadlocks.

    Release: `close()` (or leaving a `with` block) frees the store, its memories and
    its host functions at once; later calls trap with `kind` `closed`.  An unreachable
    instance is freed by the garbage collector (host functions hold it only weakly).
    A reference-path instance whose WASI output goes to Python callables is closed at
    interpreter exit, unless a call is running in it (`close_unless_busy`)."""

    path: str

    def __init__(self, component: Component) -> None:
        self.component = component
        self.diagnostics: list[Diagnostic] = []
        self._funcs: dict[str, Callable[..., Any]] = {}
        self._arity: dict[str, int] = {}
        self.lock = threading.RLock()
        self.closed = False
        # memories whose host-side copy budget (`copied`) starts afresh at each call
        self._copy_meters: list[Any] = []
        self._release_ticker: Callable[[], Any] | None = None

    def func(self, name: str) -> Callable[..., Any]:
        """The callable of export `name` (full or `iface#func`), made once."""
        f = self._funcs.get(name)
        if f is None:
            with self.lock:
                if self.closed:
                    raise component_traps.closed(name)
                f = self._funcs.get(name)
                if f is None:
                    full, key, func = self.component.resolve(name)
                    raw = self._make(full, key, func)
                    f = raw if getattr(raw, "thread_safe", False) else self._serialised(raw, full)
                    self._funcs[name] = f
                    self._arity[name] = len(func.params)
        return f

    def _serialised(self, raw: Callable[..., Any], full: str) -> Callable[..., Any]:
        acquire, release, meters = self.lock.acquire, self.lock.release, self._copy_meters
        guard_closed = self.path != "fast"  # fast-path callers refuse a closed instance themselves

        def call(*args: Any) -> Any:
            acquire()
            try:
                if guard_closed and self.closed:
                    raise component_traps.closed(full)
                for m in meters:
                    m.copied = 0  # each call has the whole copy budget
                return raw(*args)
            finally:
                release()
        call.unserialised = raw  # type: ignore[attr-defined]  # what the lock wraps (benchmarks)
        return call

    def call(self, name: str, *args: Any) -> Any:
        """Call export `name` with reml values; the argument count is checked."""
        f = self.func(name)
        nparams = self._arity.get(name)
        if nparams is not None and len(args) != nparams:
            check_args(args, self.component.resolve(name)[2])
        return f(*args)

    def _make(self, full: str, key: str | None, func: t.Function) -> Callable[..., Any]:
        raise NotImplementedError

    def drop(self, handle: Any) -> None:
        """Drop an owned resource handle (its destructor runs)."""
        with self.lock:
            if self.closed:
                raise component_traps.closed("drop")
            self._drop(handle)

    def _drop(self, handle: Any) -> None:
        raise NotImplementedError

    def _hold_ticker(self, sandbox: Sandbox, engine: wasmtime.Engine) -> None:
        if sandbox.epoch_ticks is not None:
            self._release_ticker = TICKER.hold(self, engine)

    def close(self) -> None:
        """Free the store now (idempotent).  Not allowed from inside one of this
        instance's own calls (a host import): `ffi.component.busy`."""
        if self.lock._is_owned():  # type: ignore[attr-defined]
            raise error("ffi.component.busy", "an instance cannot be closed from inside one of its own calls")
        with self.lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._release_ticker is not None:
            self._release_ticker()
        self._close_store()

    def _close_store(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "Instance":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class RefInstance(Instance):
    path = "wasmtime"

    def __init__(self, component: Component, imports: dict[str, Any], sandbox: Sandbox) -> None:
        from .ref import RefInstance as _Ref, close_at_exit
        super().__init__(component)
        key = sandbox.engine_key
        engine = component.engine(key)
        self._ref = _Ref(engine, component.compiled(key), component.world, imports, sandbox)
        self._hold_ticker(sandbox, engine)
        if self._ref.holds_output_callbacks:
            close_at_exit(self)  # wasmtime must let go of them before the interpreter ends

    def _make(self, full: str, key: str | None, func: t.Function) -> Callable[..., Any]:
        return self._ref.func(key, func)

    def _drop(self, handle: Any) -> None:
        self._ref.drop(handle)

    def close_unless_busy(self) -> bool:
        """Close now unless a call into the instance is running (then leave it open);
        True when the instance is closed afterwards."""
        if self.lock._is_owned() or not self.lock.acquire(blocking=False):  # type: ignore[attr-defined]
            return self.closed
        try:
            self._close_locked()
        finally:
            self.lock.release()
        return True

    def _close_store(self) -> None:
        ref = self._ref
        self._ref = None  # type: ignore[assignment]
        ref.close()


class FastInstance(Instance):
    path = "fast"

    def __init__(self, component: Component, capi: Any, imports: dict[str, Any], sandbox: Sandbox) -> None:
        from .fast import FastBackend
        super().__init__(component)
        key = sandbox.engine_key
        engine = component.engine(key)
        # no whole-component compile here: each core module is compiled (or loaded from the
        # compiled cache) once, validated by wasmtime, and every canonical definition's core
        # type is checked against the Canonical ABI before an unchecked call can use it
        self.store = wasmtime.Store(engine)
        if sandbox.fuel is not None:
            self.store.set_fuel(sandbox.fuel)
        if sandbox.epoch_ticks is not None:
            self.store.set_epoch_deadline(sandbox.epoch_ticks)
        if sandbox.memory_limit is not None:
            self.store.set_limits(memory_size=sandbox.memory_limit)
        _precompile(component, key)
        self.wasi = None
        config = sandbox.wasi_config
        if config is not None:
            from .wasi import wasi_imports
            provided, self.wasi = wasi_imports(component.world, config)
            imports = {**provided, **imports}  # the caller's own implementations win
        self._imports = imports
        # resource type id -> (type, destructor); a type without one has _no_destructor
        self._dtors: dict[int, tuple[t.ResourceType, Callable[[Any], Any]]] = {}
        self._last_dtor: tuple[Any, Callable[[Any], Any]] = (None, _no_destructor)  # the last type dropped
        self.backend = FastBackend(capi, engine, self.store, component._modules[key], self._bind_import,
                                   sandbox.fuel, sandbox.epoch_ticks,
                                   checked=component._checked.setdefault(key, set()),
                                   memo=component._memo.setdefault(key, {}))
        self.lock = self.backend.state.lock  # held by every call into the store
        self.backend.copy_limit = sandbox.copy_limit
        self._copy_meters = self.backend.copy_meters  # memories met later join it
        self.scope = cl.instantiate(component.ast, self.backend)
        self._hold_ticker(sandbox, engine)
        # resources the component defines get their export names (handles and messages
        # say `counter`, not a placeholder; a resource's hash does not include its name)
        self.backend.apply_resource_names()

    def _bind_import(self, name: str, sort: str, value: Any, tables: Any) -> Any:
        provided = self._imports.get(name)
        if provided is None:
            return value
        if sort == "func" and callable(provided):
            value.call = host_call(value.type, provided, name)
            value.extra = host_result(value.type, provided, name)  # called with positional arguments
        elif sort == "instance" and isinstance(provided, Mapping):
            for item, (s, v) in value.exports.items():
                if s == "func" and provided.get(item) is not None:
                    v.call = host_call(v.type, provided[item], f"{name}#{item}")
                    v.extra = host_result(v.type, provided[item], f"{name}#{item}")
                elif s == "type" and isinstance(v, t.ResourceType):
                    self.backend.resource_tables[v] = tables
                    if provided.get(f"[dtor]{item}") is not None:
                        tables.dtors[v] = provided[f"[dtor]{item}"]
        return value

    def _make(self, full: str, key: str | None, func: t.Function) -> Callable[..., Any]:
        exports = self.scope.exports
        if key is None:
            sort, value = exports[func.qualified_name]
        else:
            sort, inst = exports[key]
            sort, value = inst.exports[func.qualified_name]
        if not isinstance(value, cl.ComponentFunc) or value.call is None:
            raise error("ffi.component.no_export", f"{full} is not a callable function")
        if value.origin == "lift" and value.extra is not None:
            caller = value.extra.get()  # fast.LazyExport: built on first use
            caller.label[0] = full
            caller.declared[0] = func  # diagnostics name the world's types
            exported: Callable[..., Any] = caller
            return exported
        call = value.call
        return lambda *args: call(list(args))

    def _close_store(self) -> None:
        backend = self.backend
        backend.state.poison(component_traps.CLOSED)  # the callers check it before entering
        backend.release_host_functions()
        self.backend = self.scope = None  # type: ignore[assignment]
        self.store.close()

    def drop(self, handle: Any) -> None:
        """Drop an owned resource handle (its destructor runs).  A live owned handle of a
        resource type met before goes straight to its destructor: the type dropped last
        (`_last_dtor`), else through `_dtors` (by type identity)."""
        if handle.__class__ is _Resource and handle.own and not handle._moved:
            rt, last = handle.type, self._last_dtor
            if rt is not last[0]:
                found = self._dtors.get(id(rt))
                if found is None or found[0] is not rt:
                    return super().drop(handle)
                last = self._last_dtor = found
            if self.closed:
                raise component_traps.closed("drop")
            handle._moved = True  # Resource.take, its checks made above
            last[1](handle.rep)  # the destructor's caller takes the store's lock itself
            return None
        return super().drop(handle)

    def _drop(self, handle: Any) -> None:
        if not isinstance(handle, cabi.Resource):
            raise error("ffi.value.type_mismatch", f"expected a resource handle, got {type(handle).__name__}")
        if not handle.own:
            raise cabi.Trap("a borrowed handle cannot be dropped by the host")
        if handle.moved:
            raise cabi.Trap(f"resource {handle.type.name} was already dropped")
        rep = handle.take()
        tables = self.backend.resource_tables.get(handle.type)
        dtor = None if tables is None else tables.dtors.get(handle.type)
        if tables is not None:
            self._dtors[id(handle.type)] = self._last_dtor = (handle.type, dtor or _no_destructor)
        if dtor is not None:
            dtor(rep)


_Resource = cabi.Resource


def _no_destructor(rep: Any) -> None:
    """The destructor of a resource type that has none."""


class InstancePool:
    """`n` instances of one component behind a queue, for many threads.

    `call(name, *args)` borrows an idle instance (waiting while all n are busy), calls,
    and gives it back; each instance still serialises its own calls, so n threads run
    guest code in parallel (the fast path's calls release the GIL).  An instance that
    trapped is poisoned: the pool closes it and puts a fresh one in its place.  Calls
    are independent: resource handles belong to the instance that made them, so keep a
    resource's calls on one `Instance` instead."""

    def __init__(self, component: Component, n: int, imports: Imports | None = None, *,
                 sandbox: Sandbox = Sandbox(), path: str = "fast") -> None:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4096:
            raise error("ffi.component.pool", f"a pool holds 1 to 4096 instances, not {n!r}")
        self.component = component
        self._args = (imports, sandbox, path)
        self._idle: "queue.SimpleQueue[Instance]" = queue.SimpleQueue()
        self._all: list[Instance] = []
        self._lock = threading.Lock()
        self.closed = False
        for _ in range(n):
            self._add()

    def _add(self) -> None:
        imports, sandbox, path = self._args
        inst = self.component.instantiate(imports, sandbox=sandbox, path=path)
        with self._lock:
            self._all.append(inst)
        self._idle.put(inst)

    def call(self, name: str, *args: Any) -> Any:
        """Call export `name` on an idle instance."""
        if self.closed:
            raise component_traps.closed(name)
        inst = self._idle.get()
        try:
            return inst.call(name, *args)
        except DiagnosticError as exc:
            if exc.code == "cabi.trap" and not inst.closed:
                self._replace(inst)
                inst = None  # type: ignore[assignment]
            raise
        finally:
            if inst is not None:
                self._idle.put(inst)

    def func(self, name: str) -> Callable[..., Any]:
        """A callable for export `name` served by the pool."""
        self.component.resolve(name)
        return lambda *args: self.call(name, *args)

    def _replace(self, inst: Instance) -> None:
        with self._lock:
            self._all.remove(inst)
        inst.close()
        self._add()

    def close(self) -> None:
        """Close every instance (idempotent)."""
        self.closed = True
        with self._lock:
            insts, self._all = self._all, []
        for inst in insts:
            inst.close()

    def __enter__(self) -> "InstancePool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
