"""The reference path: a component instantiated by `wasmtime.component`.

Host imports are Python callables defined in a component Linker; imports the caller does
not provide trap when called (`define_unknown_imports_as_traps`); WASI preview 2 is added
to the linker only when the sandbox grants it, with wasmtime's wasi:http when the component
imports it (its outgoing handler replaced by one that refuses: no network is granted).
"""

from __future__ import annotations

import atexit
import os
import tempfile
import time
import weakref
from typing import Any, Callable

import wasmtime
import wasmtime.component as wc

from ... import cabi
from ... import types as t
from ...audit import DiagnosticError, error
from ...values import ValueTypeError, check, check_args, from_wasmtime, to_wasmtime
from . import traps as component_traps
from ...cabi.resources import handle_expected, handle_found
from .host import host_result, weak_callback
from .sandbox import WasiConfig
from .wasi.network import refusal


class RefResource:
    """A resource handle on the reference path (wraps wasmtime-py's ResourceAny)."""

    __slots__ = ("type", "any", "own", "_dropped")

    def __init__(self, type: t.ResourceType, any: wc.ResourceAny, own: bool) -> None:
        self.type = type
        self.any = any
        self.own = own
        self._dropped = False

    def __repr__(self) -> str:
        return f"RefResource({'own' if self.own else 'borrow'} {self.type.name})"


_WASMTIME_WASI = ("cli", "io", "clocks", "random", "filesystem", "sockets")
_WASMTIME_HTTP = ("wasi:http/types@0.2.", "wasi:http/outgoing-handler@0.2.")


def _wasmtime_defines(key: str) -> bool:
    """True for the WASI interfaces wasmtime's `add_wasip2` and `add_wasi_http` define."""
    return (key.startswith("wasi:") and key[5:].split("/", 1)[0] in _WASMTIME_WASI) or key.startswith(_WASMTIME_HTTP)


def _imports_http(world: t.World) -> bool:
    return any(isinstance(item, t.InterfaceItem) and item.key.startswith(_WASMTIME_HTTP) for item in world.imports)


def wasmtime_wasi(config: WasiConfig, sinks: list[Callable[[bytes], None]]) -> wasmtime.WasiConfig:
    """wasmtime's WASI configured with what `config` grants (the fast path's WASI host
    takes the same configuration); the output callbacks it hands to wasmtime are appended
    to `sinks`."""
    w = wasmtime.WasiConfig()
    w.argv = list(config.args)
    w.env = [list(p) for p in config.env]
    for d in config.dirs:
        w.preopen_dir(d.host, d.guest, fs_mutable=not d.readonly)
    if isinstance(config.stdin, str):  # "inherit", the one text WasiConfig accepts
        w.inherit_stdin()
    elif config.stdin:
        with tempfile.NamedTemporaryFile(prefix="reml-wasm-stdin-", delete=False) as fh:
            fh.write(bytes(config.stdin))
        try:
            w.stdin_file = fh.name  # opened here: the name can go at once
        finally:
            os.unlink(fh.name)
    for name, target in (("stdout", config.stdout), ("stderr", config.stderr)):
        if target is None:
            continue
        if target == "inherit":
            getattr(w, f"inherit_{name}")()
        else:
            sinks.append(_sink(target))
            setattr(w, f"{name}_custom", sinks[-1])
    return w


# wasmtime lets go of an output callback on one of its own worker threads, some time after
# the store that held it is dropped.  A worker thread that enters Python once the
# interpreter has begun to shut down is ended there, and wasmtime aborts the process from
# Rust code that cannot unwind.  So, before the interpreter shuts down (atexit), the
# stores that still hold output callbacks are closed (through their owners, which know
# whether a call is running), and then it waits, for a bounded time, until wasmtime has
# let go of the callbacks of every closed or dropped store.  Both sets are weak.
_RELEASED_SINKS: "weakref.WeakSet[Callable[[bytes], None]]" = weakref.WeakSet()
_CLOSE_AT_EXIT: "weakref.WeakSet[Any]" = weakref.WeakSet()
_RELEASE_WAIT = 5.0


def _store_dropped(sinks: list[Callable[[bytes], None]]) -> None:
    _RELEASED_SINKS.update(sinks)


def close_at_exit(owner: Any) -> None:
    """Have `owner.close_unless_busy()` called before the interpreter shuts down (held
    weakly: an owner collected before then needs nothing)."""
    _CLOSE_AT_EXIT.add(owner)


@atexit.register
def _release_outputs_at_exit() -> None:
    for owner in list(_CLOSE_AT_EXIT):
        owner.close_unless_busy()
    deadline = time.monotonic() + _RELEASE_WAIT
    while _RELEASED_SINKS and time.monotonic() < deadline:
        time.sleep(0.001)


def _sink(target: Any) -> Callable[[bytes], None]:
    write = target if callable(target) else target.write

    def sink(data: bytes) -> None:
        write(bytes(data))
    return sink


def _trap(name: str, exc: Exception) -> cabi.Trap:
    return component_traps.trap(name, str(exc))


class RefInstance:
    """One instantiation on wasmtime.component."""

    def __init__(self, engine: wasmtime.Engine, component: wc.Component, world: t.World,
                 imports: dict[str, Any], sandbox: Any) -> None:
        self.store = wasmtime.Store(engine)
        self.fuel = sandbox.fuel
        self.epoch_ticks = sandbox.epoch_ticks
        if self.fuel is not None:
            self.store.set_fuel(self.fuel)
        if self.epoch_ticks is not None:
            self.store.set_epoch_deadline(self.epoch_ticks)
        if sandbox.memory_limit is not None:
            self.store.set_limits(memory_size=sandbox.memory_limit)
        linker = wc.Linker(engine)
        # host functions given to the linker, held here (wasmtime holds them weakly:
        # host.weak_callback), so an unreachable instance is freed with its store
        self.callbacks: list[Any] = []
        # when the store holds WASI output callbacks: marks them released (once) when
        # the store is closed or collected
        self._outputs_released: Callable[[], Any] | None = None
        # host-implemented resources: wasmtime's host resource type number per resource
        self._host_ids: dict[t.ResourceType, int] = {}
        self._dtors: dict[t.ResourceType, Callable[[Any], None]] = {}
        config = sandbox.wasi_config
        if config is not None:
            linker.add_wasip2()
            sinks: list[Callable[[bytes], None]] = []
            self.store.set_wasi(wasmtime_wasi(config, sinks))
            if sinks:
                self._outputs_released = weakref.finalize(self.store, _store_dropped, sinks)
            if _imports_http(world):
                # wasmtime's wasi:http types (fields, requests, responses, bodies) work
                # locally; its outgoing handler would send the request, so it is replaced
                # by one that refuses, as on the fast path (no network is ever granted)
                linker.add_wasi_http()
                self.store.set_wasi_http()
                self._deny_outgoing_http(linker, world, imports)
            # the caller's own implementations replace WASI's (as on the fast path)
            linker.allow_shadowing = True
        with linker.root() as root:
            for item in world.imports:
                if isinstance(item, t.InterfaceItem) and item.key in imports:
                    provided = imports[item.key]
                    with root.add_instance(item.key) as inst:
                        for name, ty in item.interface.types:
                            if isinstance(ty, t.ResourceType) and ty.owner == item.key:  # not a `use`d one
                                self._host_ids[ty] = len(self._host_ids) + 1
                                dtor = provided.get(f"[dtor]{name}")
                                if dtor is not None:
                                    self._dtors[ty] = dtor
                                inst.add_resource(name, wc.ResourceType.host(self._host_ids[ty]),
                                                  self._weak(self._host_dtor(ty), f"[dtor]{name}"))
                        for func in item.interface.all_functions():
                            impl = provided.get(func.qualified_name)
                            if impl is not None:
                                inst.add_func(func.qualified_name, self._weak(self._host(
                                    func, host_result(func, impl, f"{item.key}#{func.qualified_name}")),
                                    func.qualified_name))
                elif isinstance(item, t.FunctionItem) and item.key in imports:
                    func = item.function
                    root.add_func(item.key, self._weak(self._host(func, host_result(func, imports[item.key], item.key)),
                                                       item.key))
        linker.allow_shadowing = False
        if config is not None:
            # wasmtime's define_unknown_imports_as_traps would also hide WASI's definitions,
            # so the stand-ins for the other unprovided imports are defined here
            self._define_traps(linker, world, imports)
        else:
            linker.define_unknown_imports_as_traps(component)
        try:
            self.instance = linker.instantiate(self.store, component)
        except cabi.Trap as exc:  # a host import (an unprovided one) refused during start-up
            raise component_traps.instantiation_failure(exc.diagnostic.message, trapped=True) from None
        except wasmtime.Trap as exc:
            raise component_traps.instantiation_failure(str(exc), trapped=True) from None
        except wasmtime.WasmtimeError as exc:
            raise component_traps.instantiation_failure(str(exc)) from None
        self._funcs: dict[str, Callable[..., Any]] = {}

    def _deny_outgoing_http(self, linker: wc.Linker, world: t.World, imports: dict[str, Any]) -> None:
        linker.allow_shadowing = True
        try:
            with linker.root() as root:
                for item in world.imports:
                    if not (isinstance(item, t.InterfaceItem) and item.key.startswith("wasi:http/outgoing-handler@")
                            and item.key not in imports):
                        continue
                    with root.add_instance(item.key) as inst:
                        for func in item.interface.all_functions():
                            inst.add_func(func.qualified_name, self._weak(self._refusing(func), func.qualified_name))
        finally:
            linker.allow_shadowing = False

    def _refusing(self, func: t.Function) -> Callable[..., Any]:
        refuse = refusal(func)
        result = func.result

        def host(store: Any, *args: Any) -> Any:
            for arg in args:  # the request (and options) handed over: dropped unsent
                if isinstance(arg, wc.ResourceAny):
                    arg.drop(store)
            if refuse is None or result is None:
                raise component_traps.unprovided(func.qualified_name)
            return to_wasmtime(refuse(), result, self._handle)
        return host

    def _define_traps(self, linker: wc.Linker, world: t.World, imports: dict[str, Any]) -> None:
        def stand_in(name: str) -> Callable[..., Any]:
            def trap(store: Any, *args: Any) -> Any:
                raise component_traps.unprovided(name)
            return trap

        with linker.root() as root:
            for item in world.imports:
                if isinstance(item, t.InterfaceItem) and item.key not in imports \
                        and not _wasmtime_defines(item.key):
                    denying = item.key.startswith("wasi:http/")
                    with root.add_instance(item.key) as inst:
                        for name, ty in item.interface.types:
                            if isinstance(ty, t.ResourceType) and ty.owner == item.key:  # not a `use`d one
                                self._host_ids[ty] = len(self._host_ids) + 1
                                inst.add_resource(name, wc.ResourceType.host(self._host_ids[ty]),
                                                  self._weak(self._host_dtor(ty), f"[dtor]{name}"))
                        for func in item.interface.all_functions():
                            refuse = refusal(func) if denying else None
                            inst.add_func(func.qualified_name,
                                          stand_in(f"{item.key}#{func.qualified_name}") if refuse is None
                                          else self._host(func, refuse))
                elif isinstance(item, t.FunctionItem) and item.key not in imports:
                    root.add_func(item.key, stand_in(item.key))

    def _weak(self, fn: Callable[..., Any], what: str) -> Callable[..., Any]:
        return weak_callback(fn, self.callbacks, what)

    def _host_dtor(self, rt: t.ResourceType) -> Callable[[Any, int], None]:
        def dtor(store: Any, rep: int) -> None:
            f = self._dtors.get(rt)
            if f is not None:
                f(rep)
        return dtor

    def _host(self, func: t.Function, impl: Callable[..., Any]) -> Callable[..., Any]:
        params = func.param_types()
        result = func.result

        def host(store: Any, *args: Any) -> Any:
            def wrap(any_: wc.ResourceAny, ty: t.Type) -> Any:
                return self._wrap(any_, ty, store)
            values = [from_wasmtime(a, ty, wrap) for a, ty in zip(args, params)]
            out = impl(*values)
            if result is None:
                return None
            check(out, result, "result")  # a wrong host result is a coded error, never converted silently
            return to_wasmtime(out, result, self._handle)
        return host

    def _wrap(self, any_: wc.ResourceAny, ty: t.Type, store: Any = None) -> Any:
        """A wasmtime handle as the host sees it: a `cabi.Resource` (type, rep) for a
        host-implemented resource, a `RefResource` for one the guest implements."""
        rt = ty.resource  # type: ignore[attr-defined]
        own = isinstance(ty, t.OwnType)
        if rt in self._host_ids:
            return cabi.Resource(rt, any_.to_host(store if store is not None else self.store).rep, own=own)
        return RefResource(rt, any_, own)

    def _handle(self, value: Any, ty: t.Type) -> Any:
        rt = ty.resource  # type: ignore[attr-defined]
        if isinstance(value, cabi.Resource) and rt in self._host_ids:
            if value.type != rt:
                raise ValueTypeError("value", handle_expected(rt), handle_found(value))
            if isinstance(ty, t.OwnType):
                return wc.ResourceHost.own(value.take(), self._host_ids[rt])
            if value.moved:
                raise ValueTypeError("value", f"a live {rt.name}", "a resource already moved or dropped")
            return wc.ResourceHost.borrow(value.rep, self._host_ids[rt])
        if not isinstance(value, RefResource) or value.type != rt:
            raise ValueTypeError("value", handle_expected(rt), handle_found(value))
        return value.any

    @property
    def holds_output_callbacks(self) -> bool:
        """True when the store holds Python callbacks for the guest's stdout or stderr."""
        return self._outputs_released is not None

    def close(self) -> None:
        """Free the store, its host functions and its output callbacks now."""
        self.callbacks.clear()
        self.store.close()
        if self._outputs_released is not None:
            self._outputs_released()

    def func(self, key: str | None, func: t.Function) -> Callable[..., Any]:
        """A callable for an export (key: the interface's name, None for a world function)."""
        name = func.qualified_name
        full = name if key is None else f"{key}#{name}"
        cached = self._funcs.get(full)
        if cached is not None:
            return cached
        store, instance = self.store, self.instance
        parent = None if key is None else instance.get_export_index(store, key)
        index = instance.get_export_index(store, name, parent)
        f = None if index is None else instance.get_func(store, index)
        if f is None:
            raise error("ffi.component.no_export", f"the component has no function {full!r}")
        params = func.param_types()
        result = func.result
        wrap = self._wrap

        def call(*args: Any) -> Any:
            check_args(args, func)
            if self.fuel is not None:
                store.set_fuel(self.fuel)
            if self.epoch_ticks is not None:
                store.set_epoch_deadline(self.epoch_ticks)
            try:
                out = f(store, *[to_wasmtime(a, ty, self._handle) for a, ty in zip(args, params)])
            except cabi.Trap as exc:
                if exc.diagnostic.extensions.get("kind") != "unprovided-import":
                    raise
                raise component_traps.trap(full, exc.diagnostic.message) from None
            except wasmtime.Trap as exc:
                raise _trap(full, exc) from None
            except wasmtime.WasmtimeError as exc:
                raise _trap(full, exc) from None
            return None if result is None else from_wasmtime(out, result, wrap)
        self._funcs[full] = call
        return call

    def drop(self, handle: Any) -> None:
        if isinstance(handle, cabi.Resource) and handle.type in self._host_ids:
            if not handle.own:
                raise cabi.Trap("a borrowed handle cannot be dropped by the host")
            if handle.moved:
                raise cabi.Trap(f"resource {handle.type.name} was already dropped")
            rep = handle.take()
            dtor = self._dtors.get(handle.type)
            if dtor is not None:
                dtor(rep)
            return
        if not isinstance(handle, RefResource):
            raise error("ffi.value.type_mismatch", f"expected a resource handle, got {type(handle).__name__}")
        if not handle.own:
            raise cabi.Trap("a borrowed handle cannot be dropped by the host")
        if handle._dropped:
            raise cabi.Trap(f"resource {handle.type.name} was already dropped")
        handle._dropped = True
        if self.fuel is not None:  # the guest destructor runs under the same limits as a call
            self.store.set_fuel(self.fuel)
        if self.epoch_ticks is not None:
            self.store.set_epoch_deadline(self.epoch_ticks)
        try:
            handle.any.drop(self.store)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise _trap(f"drop {handle.type.name}", exc) from None
        except DiagnosticError:
            raise
