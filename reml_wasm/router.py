"""The router: name an interface function once, run it in a component or a native library.

    with Router.from_file("reml-wasm.toml") as router:
        router.call("reml:poc/api@0.1.0#greet", "Ada")      # or "api#greet"
        greet = router.bind("api#greet")                     # bound once, called many times

Input: a world (from WIT, BID YAML or a component binary) and a routing configuration
(`reml_wasm.routing`).  Each interface of the world has a route: the transports it may
run on, preferred first.  The route picks its connector on its first call: when the
preferred one cannot serve (file missing, no compiler, load failure, missing symbol) and
fallback is on, it takes the next and says which and why once (a warning
`ffi.router.fallback`, kept in `router.diagnostics`, printed by `on_diagnostic` and
written to the audit log).  All functions of an interface run on the same connector, so
resource handles never cross connectors.  Boxes of a nyash.toml route to the plugin
connector; BID YAML interfaces follow their `transport` (`dynamic_library` -> the Nyash
dynamic-library connector, a vtable or `nyash_plugin_invoke` per method; `wasm_component` ->
component), with any `Connector` registered for that transport name taking precedence.

Every routed call writes an `AuditEnvelope` (reml_wasm.call_log): the `ffi` call record
(library, symbol, effect flags, latency, status), the `ffi.wit.*` keys and `ffi.router`
(the connector used).  Failed calls are recorded with their diagnostic and re-raised.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from . import routing
from . import types as t
from .audit import AuditEnvelope, AuditSink, Diagnostic, DiagnosticError, error
from .call_log import CallLog
from .connectors import Connector
from .values import Err, check_args

DROP = "[resource-drop]"
BID_TRANSPORTS = {"dynamic_library": "native", "wasm_component": "component"}
EFFECTS = {"component": ["ffi"]}
UNSAFE_EFFECTS = ["ffi", "unsafe"]


@dataclass(frozen=True)
class Target:
    """One callable thing of the world: its interface key (None for a world function), its
    component-level name and its function (None for a resource drop)."""

    interface: str | None
    name: str
    function: t.Function | None
    resource: str | None = None

    @property
    def key(self) -> str:
        return self.name if self.interface is None else f"{self.interface}#{self.name}"


def _short(interface_key: str) -> str:
    return interface_key.split("/", 1)[-1].split("@", 1)[0]


def world_targets(world: t.World) -> dict[str, Target]:
    """Every name a caller may use for an export of `world`: the full key, `iface#f`, and
    for resources `iface#[resource-drop]r`."""
    out: dict[str, Target] = {}
    for item in world.exports:
        if isinstance(item, t.FunctionItem):
            f = item.function
            out.setdefault(f.qualified_name, Target(None, f.qualified_name, f))
        elif isinstance(item, t.InterfaceItem):
            targets = [Target(item.key, f.qualified_name, f) for f in item.interface.all_functions()]
            targets += [Target(item.key, f"{DROP}{ty.name}", None, ty.name) for _, ty in item.interface.types
                        if isinstance(ty, t.ResourceType)]
            for tg in targets:
                out.setdefault(tg.key, tg)
                out.setdefault(f"{_short(item.key)}#{tg.name}", tg)
    return out


class _Route:
    """The connectors one interface may run on, and the one it runs on once chosen."""

    def __init__(self, name: str, candidates: list[tuple[str, Callable[[], Connector]]], fallback: bool) -> None:
        self.name = name
        self.candidates = candidates
        self.fallback = fallback
        self.chosen: Connector | None = None
        self.preferred = candidates[0][0] if candidates else None


class Router:
    """Routes calls of one world's functions to connectors and audits each call."""

    def __init__(self, world: t.World, config: routing.RoutingConfig | Mapping[str, Any] | None = None, *,
                 audit: str | os.PathLike[str] | AuditSink | CallLog | None = None,
                 connectors: Mapping[str, Connector] | None = None,
                 bid: Any = None, package: str | None = None,
                 on_diagnostic: Callable[[Diagnostic], None] | None = None) -> None:
        """`world`: the world whose exports are called.  `config`: a `RoutingConfig` (or a
        mapping shaped like the routing file).  `audit`: the audit log (a path, sink or
        CallLog; default: the config's `audit`, else no audit).  `connectors`: extra
        connectors by transport name (`component`, `native`, `plugin`, or a BID transport
        type such as `dynamic_library`), used before building one from the config.
        `bid`: the `BidDocument` the world came from (its transports are honoured).
        `on_diagnostic`: called with each warning once (default: print to stderr)."""
        if config is None:
            config = routing.RoutingConfig()
        elif not isinstance(config, routing.RoutingConfig):
            config = routing.from_mapping(config)
        self.world = world
        self.config = config
        self.bid = bid
        self.package = package or (str(world.package) if world.package is not None else None)
        self.diagnostics: list[Diagnostic] = []
        self._on_diagnostic = on_diagnostic or _print_diagnostic
        self._registered = dict(connectors or {})
        self._connectors: dict[tuple[str, str], Connector] = {}
        self._routes: dict[str | None, _Route] = {}
        self._bound: dict[str, Callable[..., Any]] = {}
        self.targets = world_targets(world)
        self._plugin: Connector | None = self._registered.get("plugin")
        if self._plugin is None and config.nyash:
            from .connectors.plugin import PluginConnector
            self._plugin = PluginConnector(config.nyash)
        audit_target = audit if audit is not None else config.audit
        if audit_target is None or isinstance(audit_target, CallLog):
            self.log: CallLog | None = audit_target
        else:
            self.log = CallLog(audit_target)
        self._closed = False

    # --- construction --------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] = "reml-wasm.toml", **kwargs: Any) -> "Router":
        """A router for the routing file at `path` (its world read from `wit`, `bid`, or
        the component)."""
        config = routing.load(path)
        world, package, bid = load_world(config)
        return cls(world, config, bid=bid, package=package, **kwargs)

    # --- calling -------------------------------------------------------------------------

    def call(self, key: str, *args: Any) -> Any:
        """Call the function named `key` (`pkg:ns/iface@v#func`, `iface#func`, `func`)."""
        fn = self._bound.get(key)
        if fn is None:
            fn = self.bind(key)
        try:
            return fn(*args)
        except TypeError:
            target = self.targets.get(key)
            if target is not None and target.function is not None:
                check_args(args, target.function)  # a wrong count: the coded diagnostic
            raise

    def bind(self, key: str) -> Callable[..., Any]:
        """The function named `key` as a callable over reml values, routed and audited."""
        fn = self._bound.get(key)
        if fn is not None:
            return fn
        if self._closed:
            raise error("ffi.router.closed", "the router is closed")
        target = self.targets.get(key)
        if target is None:
            fn = self._bind_plugin(key)
        else:
            route = self._route(target.interface)
            connector, raw = self._bind_on(route, target)
            fn = self._audited(raw, connector, target)
        self._bound[key] = fn
        return fn

    def connector_for(self, key: str) -> str:
        """The transport name `key` runs on (binding it if needed)."""
        self.bind(key)
        target = self.targets.get(key)
        if target is None:
            return "plugin"
        route = self._routes[target.interface]
        assert route.chosen is not None
        return route.chosen.name

    # --- routes --------------------------------------------------------------------------

    def _route(self, interface: str | None) -> _Route:
        route = self._routes.get(interface)
        if route is None:
            route = self._routes[interface] = self._make_route(interface)
        return route

    def _make_route(self, interface: str | None) -> _Route:
        name = interface or self.world.name
        bid_transport = self._bid_transport(interface)
        if bid_transport is not None:
            kind, location = bid_transport
            return _Route(name, [(BID_TRANSPORTS.get(kind, kind), lambda: self._bid_connector(kind, location))],
                          False)
        cfg = self.config.route(interface)
        candidates: list[tuple[str, Callable[[], Connector]]] = [
            (tr, partial(self._connector, tr, cfg)) for tr in cfg.order()]
        for tr in ("component", "native"):
            if tr in self._registered and tr not in dict(candidates):
                candidates.append((tr, partial(self._registered.__getitem__, tr)))
        if not candidates:
            raise error("ffi.router.no_route", f"no component, native library or C source is configured for {name}",
                        interface=name)
        return _Route(name, candidates, cfg.fallback)

    def _bid_transport(self, interface: str | None) -> tuple[str, str | None] | None:
        if self.bid is None or interface is None:
            return None
        spec = self.bid.transports.get(interface)
        if not spec or "type" not in spec:
            return None
        return spec["type"], spec.get("location")

    def _bid_connector(self, kind: str, location: str | None) -> Connector:
        conn = self._registered.get(kind) or self._registered.get(BID_TRANSPORTS.get(kind, kind))
        if conn is not None:
            return conn
        if kind == "wasm_component" and location:
            base = Path(self.bid.source).parent if self.bid.source else Path.cwd()
            return self._cached("component", str(base / location),
                                lambda p: _component_connector(p))
        if kind == "dynamic_library":
            from .connectors.plugin.dynamic import DynamicLibraryConnector
            return self._cached("dynamic_library", str(self.bid.source or ""),
                                lambda _: DynamicLibraryConnector(self.bid))
        raise error("ffi.router.no_connector", f"no connector is registered for BID transport {kind!r}",
                    transport=kind)

    def _connector(self, transport: str, cfg: routing.RouteConfig) -> Connector:
        if transport in self._registered:
            return self._registered[transport]
        if transport == "component":
            return self._cached("component", cfg.component or "", _component_connector)
        from .connectors.native import NativeConnector
        if cfg.native:
            return self._cached("native", cfg.native, lambda p: NativeConnector(self.world, library=p))
        return self._cached("native", cfg.source or "", lambda p: NativeConnector(self.world, source=p))

    def _cached(self, transport: str, path: str, make: Callable[[str], Connector]) -> Connector:
        conn = self._connectors.get((transport, path))
        if conn is None:
            conn = self._connectors[(transport, path)] = make(path)
        return conn

    def _bind_on(self, route: _Route, target: Target) -> tuple[Connector, Callable[..., Any]]:
        """Bind `target` on the route's connector, choosing (and falling back) on first use."""
        if route.chosen is not None:
            return route.chosen, route.chosen.bind(target.key)
        reasons: list[str] = []
        for i, (transport, make) in enumerate(route.candidates):
            try:
                conn = make()
                ok = conn.available()
                if not ok:
                    raise error("ffi.router.unavailable", ok.reason or f"the {transport} connector cannot serve")
                fn = conn.bind(target.key)
            except DiagnosticError as exc:
                reasons.append(f"{transport}: {exc.diagnostic.message}")
                if not route.fallback or i + 1 == len(route.candidates):
                    if len(reasons) == 1:
                        raise
                    raise error("ffi.router.unavailable", f"{route.name} cannot run: " + "; ".join(reasons),
                                interface=route.name, reasons=reasons) from None
                continue
            route.chosen = conn
            if i:
                self._fallback(route, target, transport, reasons)
            return conn, fn
        raise error("ffi.router.no_route", f"no connector for {route.name}", interface=route.name)

    def _fallback(self, route: _Route, target: Target, used: str, reasons: list[str]) -> None:
        diag = Diagnostic("ffi.router.fallback",
                          f"{route.name}: using the {used} connector instead of {route.preferred} "
                          f"({'; '.join(reasons)})", severity="warning",
                          extensions={"interface": route.name, "preferred": route.preferred, "used": used,
                                      "reasons": list(reasons)})
        self.diagnostics.append(diag)
        self._on_diagnostic(diag)
        if self.log is not None:
            meta = {**self._wit_keys(target), "ffi.router": {"event": "ffi.router.fallback",
                                                             "connector": used, "preferred": route.preferred}}
            self.log.write(AuditEnvelope(meta, diagnostics=[diag]))

    def _bind_plugin(self, key: str) -> Callable[..., Any]:
        if self._plugin is None:
            known = ", ".join(sorted(k for k in self.targets if "#" not in k or "/" in k)) or "none"
            raise error("ffi.router.unknown_function", f"{self.world.name} has no function {key!r} (known: {known})",
                        key=key)
        raw = self._plugin.bind(key)
        box, _, member = key.partition("#")
        return self._audited(raw, self._plugin, Target(box, member, None, box), plugin=True)

    # --- audit ---------------------------------------------------------------------------

    def _wit_keys(self, target: Target) -> dict[str, Any]:
        package = self.package or ""
        iface = target.interface
        if iface is not None and "/" in iface:
            package = iface.split("/", 1)[0] + ("@" + iface.split("@", 1)[1] if "@" in iface else "")
        meta: dict[str, Any] = {
            "ffi.wit.package": package,
            "ffi.wit.world": self.world.name,
            "ffi.wit.interface": _short(iface) if iface else self.world.name,
            "ffi.wit.direction": "export",
            "ffi.wit.function": target.name,
        }
        func = target.function
        if func is not None:
            meta["ffi.wit.type.kind"] = func.kind
            if func.resource:
                meta["ffi.wit.resource"] = func.resource
            meta["ffi.wit.ownership"] = _ownership(func)
            meta["ffi.wit.lift_lower"] = "lower"
        elif target.resource:
            meta["ffi.wit.type.kind"] = "resource-drop"
            meta["ffi.wit.resource"] = target.resource
            meta["ffi.wit.ownership"] = "own"
        return meta

    def _audited(self, raw: Callable[..., Any], connector: Connector, target: Target, *,
                 plugin: bool = False) -> Callable[..., Any]:
        log = self.log
        if log is None:
            return raw
        symbol_of = getattr(connector, "symbol", None)
        symbol = symbol_of(target.key) if symbol_of is not None else target.key
        ffi = {"event": "ffi.call", "library": str(getattr(connector, "library", connector.name)),
               "symbol": symbol, "effect_flags": EFFECTS.get(connector.name, UNSAFE_EFFECTS)}
        meta = {"ffi": ffi, **self._wit_keys(target), "ffi.router": {"connector": connector.name}}
        template = log.template(meta)
        if plugin:
            arity = None
        elif target.function is None:
            arity = 1  # a resource drop takes the handle
        else:
            arity = len(target.function.params)
        returns_result = target.function is not None and target.function.result is not None and \
            isinstance(t.unalias(target.function.result), t.ResultType)
        return _audited_call(raw, template, log, arity, returns_result)

    # --- lifetime ------------------------------------------------------------------------

    def flush(self) -> None:
        """Write pending audit records."""
        if self.log is not None:
            self.log.flush()

    def close(self) -> None:
        """Close every connector and the audit log (may be called more than once)."""
        if self._closed:
            return
        self._closed = True
        self._bound.clear()
        for conn in [*self._connectors.values(), *self._registered.values(),
                     *([self._plugin] if self._plugin is not None else [])]:
            conn.close()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> "Router":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        """The full keys of every function of the world."""
        return iter(dict.fromkeys(tg.key for tg in self.targets.values()))


_AUDITED_CALL = """
def routed({params}):
    start = clock()
    try:
        result = raw({params})
    except BaseException as exc:
        failed(start, exc)
        raise
{record}    return result
"""
_RECORD = """    pending.append((template, clock() - start))
    if len(pending) >= batch:
        flush()
"""
_RECORD_RESULT = """    elapsed = clock() - start
    if result.__class__ is Err:
        log.result_error(template, elapsed, result.value)
    else:
        pending.append((template, elapsed))
        if len(pending) >= batch:
            flush()
"""


def _audited_call(raw: Callable[..., Any], template: Any, log: CallLog, arity: int | None = None,
                  returns_result: bool = False) -> Callable[..., Any]:
    """The hot path: time the call, append (template, latency); failures are recorded with
    their diagnostic and re-raised unchanged.  With a known `arity` the wrapper takes exactly
    that many positional arguments (no `*args` packing; a wrong count is Python's
    TypeError, raised before any call happens).  `returns_result`: the function's result
    is a `result`, and an `Err` is recorded with its error (`ffi.wit.result_err`)."""
    clock = time.perf_counter_ns

    def failed(start: int, exc: BaseException) -> None:
        elapsed = clock() - start
        diag = exc.diagnostic if isinstance(exc, DiagnosticError) else \
            Diagnostic("ffi.call.failed", f"{type(exc).__name__}: {exc}")
        log.failure(template, elapsed, Diagnostic("ffi.call.failed", diag.message, extensions={"cause": diag.code}))

    params = "*args" if arity is None else ", ".join(f"a{i}" for i in range(arity))
    scope = {"clock": clock, "raw": raw, "failed": failed, "pending": log.pending, "template": template,
             "batch": log.batch, "flush": log.flush, "log": log, "Err": Err}
    exec(_AUDITED_CALL.format(params=params, record=_RECORD_RESULT if returns_result else _RECORD), scope)  # noqa: S102 - a fixed template, names only
    return scope["routed"]  # type: ignore[no-any-return]


def _ownership(func: t.Function) -> str:
    if func.kind == "constructor":
        return "own"
    types = [*func.param_types(), *([func.result] if func.result is not None else [])]
    kinds = {type(t.unalias(inner)) for ty in types for inner in t.walk(ty)}
    if t.OwnType in kinds:
        return "own"
    if t.BorrowType in kinds or func.kind == "method":
        return "borrow"
    return "copy"


def _component_connector(path: str) -> Connector:
    from .connectors.component import ComponentConnector
    return ComponentConnector(path)


def _print_diagnostic(diag: Diagnostic) -> None:
    print(diag.render(), file=sys.stderr)


def load_world(config: routing.RoutingConfig) -> tuple[t.World, str | None, Any]:
    """(world, package name, BID document or None) from the routing file's world source."""
    if config.wit:
        from . import wit
        resolved = wit.load(config.wit)
        if config.world:
            world = resolved.world(config.world)
        else:
            worlds = resolved.main.worlds
            if len(worlds) != 1:
                raise error("ffi.router.config", f"{config.wit}: choose the world with `world` (package "
                            f"{resolved.main.name} has: {', '.join(w.name for w in worlds) or 'none'})")
            world = worlds[0]
        return world, str(resolved.main.name), None
    if config.bid:
        from .bid import yaml_loader
        doc = yaml_loader.load(config.bid)
        items = tuple(t.InterfaceItem(i.name or "", i) for i in doc.interfaces)
        return t.World(Path(config.bid).stem, exports=items), None, doc
    if config.default.component:
        from .connectors.component import Component
        return Component.from_file(config.default.component).world, None, None
    return t.World("plugins"), None, None
