"""Name resolution: parsed packages -> `model.Model`.

Packages are resolved one at a time in dependency order.  Within a package the order
follows wit-parser, so that arena indices come out as `wasm-tools component wit --json`
prints them: interfaces in `use` order, then worlds in `include` order; inside each,
`use`d names first, then type definitions in dependency order (anonymous types are
interned as they are met), then functions.  A package is first resolved into a local
type arena, then committed into the global one; committing turns a bare resource name
in a type position into an `own<r>` handle, as wit-parser's remapping does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, cast

from ..package_name import PackageName
from . import ast
from .diagnostics import Span, fail
from .model import (Function, Gate, InterfaceDef, Model, PackageDef, Ty, TypeDef, WorldDef,
                    contains_borrow, kind_refs, map_kind)
from .packages import check_foreign_packages, check_local_paths, find_package, semver_key, sort_packages
from .toposort import toposort
from .worlds import WorldElaboration

if TYPE_CHECKING:
    from .decode import DecodedPackage

class _Skipped:
    """The gate of an item whose feature is not active: the item is left out (but, as
    in wit-parser, a function's signature is still resolved)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate


def _off(gate) -> bool:
    return isinstance(gate, _Skipped)


def _stab(gate) -> Gate | None:
    return gate.gate if isinstance(gate, _Skipped) else gate


@dataclass
class PackageInput:
    """The bodies (files or nested blocks) that make up one package."""

    name: PackageName
    bodies: list[ast.PackageBody]
    span: Span
    docs: str | None = None


@dataclass
class Loader:
    """Resolves packages into one model; state shared across packages."""

    features: frozenset[str] = frozenset()
    all_features: bool = False
    model: Model = field(default_factory=Model)
    # interface id -> interfaces it `use`s (in order), for a world's implicit imports
    deps_of: dict[int, list[int]] = field(default_factory=dict)
    # (namespace, name, version) -> package index
    package_index: dict[tuple[str, str, str | None], int] = field(default_factory=dict)

    def resolve_all(self, inputs: list[PackageInput]) -> list[int]:
        """Resolve `inputs` (in topological order of their references); the package
        indices in the order given."""
        out = []
        check_local_paths(inputs[-1:] + inputs[:-1])  # the main package (last) first, as wit-parser
        preloaded = [p.name for p in self.model.packages]  # read from encoded dependencies
        for p in inputs:
            if p.name in preloaded:
                raise fail("wit.package.duplicate", f"package `{p.name}` is given as WIT and also comes "
                           "with a dependency encoded as a component", p.span)
        known = [p.name for p in inputs] + preloaded
        for pkg in sort_packages(inputs, preloaded):
            check_foreign_packages(pkg, known)
            out.append(_PackageResolver(self, pkg).run())
        return out

    def add_encoded(self, decoded: DecodedPackage, as_dependency: bool = True) -> int:
        """Add a WIT package read from a component (before any WIT text is resolved, as
        wit-parser does with dependencies given as components); its package index.  A
        dependency loses the interface functions of features not enabled (wasm-tools
        drops them when it adds the package; read on its own, the package keeps them)."""
        from .merge import merge_model  # only loads that have such dependencies pay for it
        active = self.feature_active if as_dependency else (lambda feature: True)
        renumber, new_packages, new_interfaces = merge_model(self.model, decoded.model, active)
        for index in new_packages:
            n = self.model.packages[index].name
            self.package_index[(n.namespace, n.name, n.version)] = index
        for iid in new_interfaces:
            used: list[int] = []
            for tid in self.model.interfaces[iid].types.values():
                kind = self.model.types[tid].kind
                owner = self.model.types[kind[1]].owner if kind[0] == "type" and isinstance(kind[1], int) else None
                if owner is not None and owner[0] == "interface" and owner[1] != iid and owner[1] not in used:
                    used.append(owner[1])
            self.deps_of[iid] = used
        return renumber[decoded.main]

    def feature_active(self, feature: str) -> bool:
        return self.all_features or feature in self.features


# --- one package ------------------------------------------------------------------------

_MAP_KEYS = frozenset("bool u8 u16 u32 u64 s8 s16 s32 s64 char string".split())
_MAX_FLAGS = 32
_PRIMITIVES = frozenset("bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string error-context".split())


class _PackageResolver(WorldElaboration):
    def __init__(self, loader: Loader, pkg: PackageInput) -> None:
        self.loader: Loader = loader
        self.model = loader.model
        self.pkg = pkg
        self.local: list[TypeDef] = []  # local arena, committed at the end
        self.anon: dict[tuple, int] = {}
        self.borrow_memo: dict[int, bool] = {}
        self.foreign: dict[int, int] = {}  # global type id -> local placeholder
        self.local_iface_types: dict[int, dict[str, int]] = {}  # iface gid -> name -> local tid
        self.world_local: dict[int, bool] = {}
        self.new_interfaces: list[int] = []
        self.new_worlds: list[int] = []
        self.pending_includes: dict[int, list] = {}  # world id -> [(ast.Include, world id)]

    # ---- entry ---------------------------------------------------------------------

    def run(self) -> int:
        model, pkg = self.model, self.pkg
        self.index = len(model.packages)
        docs = None
        for body in pkg.bodies:
            if body.decl is not None and body.decl.docs is not None:
                docs = body.decl.docs
                break
        self.package = PackageDef(pkg.name, docs)
        model.packages.append(self.package)
        key = (pkg.name.namespace, pkg.name.name, pkg.name.version)
        self.loader.package_index[key] = self.index

        # Collect interfaces and worlds (gates applied), check names.
        ifaces: list[tuple[ast.Interface, ast.PackageBody, Gate | None]] = []
        worlds: list[tuple[ast.World, ast.PackageBody, Gate | None]] = []
        names: dict[str, Span] = {}
        for body in pkg.bodies:
            for item in body.items:
                if isinstance(item, ast.TopUse):
                    continue
                gate = self.gate(item.attrs, item.name.span)
                if _off(gate):
                    if isinstance(item, ast.Interface):  # resolved, then dropped (as wit-parser)
                        ifaces.append((item, body, gate))
                    continue
                if item.name.name in names:
                    raise fail("wit.name.duplicate", f"duplicate item named `{item.name.name}`",
                               item.name.span)
                names[item.name.name] = item.name.span
                if isinstance(item, ast.Interface):
                    ifaces.append((item, body, gate))
                else:
                    worlds.append((item, body, gate))
        self.iface_ast = {_top_name(i).name: i for i, _, g in ifaces if not _off(g)}
        # interfaces gated out: a `use` gated out too may still name them (and their types)
        self.iface_off = {_top_name(i).name: i for i, _, g in ifaces if _off(g)}
        self.off_iface_types: dict[str, dict[str, int]] = {}
        self.world_ast = {w.name.name: w for w, _, _ in worlds}

        # File-level `use` aliases.
        self.body_scope: dict[int, dict[str, tuple[str, object]]] = {}
        for body in pkg.bodies:
            scope: dict[str, tuple[str, object]] = {}
            for item in body.items:
                if not isinstance(item, ast.TopUse):
                    continue
                if _off(self.gate(item.attrs)):
                    continue
                alias = item.alias or item.path.name
                # a file's `use` names clash with that file's own items only (wit-parser)
                mine = {it.name.name: it.name.span for it in body.items
                        if not isinstance(it, ast.TopUse) and not _off(self.gate(it.attrs))}
                if alias.name in scope:
                    raise fail("wit.name.duplicate", f"duplicate name `{alias.name}`", alias.span)
                if alias.name in mine:
                    other = mine[alias.name]
                    later = alias.span if alias.span.offset > other.offset else other
                    raise fail("wit.name.duplicate", f"duplicate name `{alias.name}` in this file", later)
                if item.path.namespace is None:
                    if item.path.name.name not in self.iface_ast and \
                            item.path.name.name not in self.iface_off:
                        raise fail("wit.name.unresolved",
                                   f"interface `{item.path.name.name}` does not exist", item.path.span)
                    scope[alias.name] = ("local", item.path.name.name)
                else:
                    scope[alias.name] = ("global", self.foreign_interface(item.path))
            self.body_scope[id(body)] = scope

        # Interfaces in `use` order.
        iface_names = [_top_name(i).name for i, _, _ in ifaces]
        deps: list[list[tuple[str, Span]]] = []
        for iface, body, gate in ifaces:
            edges: list[tuple[str, Span]] = []
            for it in iface.items:
                if isinstance(it, ast.Use) and it.path.namespace is None:
                    ref = self.local_name(it.path.name, body, "interface")
                    if ref[0] in ("local", "local-off"):
                        edges.append((cast(str, ref[1]), it.path.name.span))
            deps.append(edges)
        iface_spans = [_top_name(i).span for i, _, _ in ifaces]
        iface_order = toposort("interface or world", iface_names, deps, "wit.use.cycle", iface_spans)
        for i in iface_order:
            iface, body, gate = ifaces[i]
            if _off(gate):
                continue
            gid = len(model.interfaces)
            name = _top_name(iface)
            model.interfaces.append(InterfaceDef(name.name, self.index, docs=iface.docs,
                                                 stability=gate, span=name.span))
            self.package.interfaces[name.name] = gid
            self.new_interfaces.append(gid)
        for i in iface_order:
            iface, body, gate = ifaces[i]
            name = _top_name(iface)
            if _off(gate):
                off = InterfaceDef(name.name, self.index)
                self.resolve_interface(iface, None, body, off)
                self.off_iface_types[name.name] = off.types
                continue
            self.resolve_interface(iface, self.package.interfaces[name.name], body)

        # Worlds in `include` order.
        world_names = [w.name.name for w, _, _ in worlds]
        deps = []
        for world, body, _ in worlds:
            edges = []  # of the type declared above
            for it in world.items:
                if isinstance(it, ast.Include) and it.path.namespace is None:
                    ref = self.local_name(it.path.name, body, "world")
                    if ref[0] == "local-world":
                        edges.append((cast(str, ref[1]), it.path.name.span))
            deps.append(edges)
        world_spans = [w.name.span for w, _, _ in worlds]
        for i in toposort("interface or world", world_names, deps, "wit.use.cycle", world_spans):
            world, body, gate = worlds[i]
            wid = len(model.worlds)
            model.worlds.append(WorldDef(world.name.name, self.index, docs=world.docs,
                                         stability=gate, span=world.name.span))
            self.package.worlds[world.name.name] = wid
            self.new_worlds.append(wid)
            self.resolve_world(world, wid, body)

        self.commit()
        return self.index

    # ---- gates ---------------------------------------------------------------------

    def gate(self, attrs: list[ast.Attr], item_span: Span | None = None):
        if not attrs:
            return None
        since: ast.Attr | None = None
        feature: ast.Attr | None = None
        deprecated: ast.Attr | None = None
        for a in attrs:
            if a.kind == "external-id":
                continue
            if a.kind == "since":
                if since is not None or feature is not None:
                    raise fail("wit.gate.invalid", "only one @since or @unstable per item", a.span)
                since = a
            elif a.kind == "unstable":
                if since is not None or feature is not None:
                    raise fail("wit.gate.invalid", "only one @since or @unstable per item", a.span)
                feature = a
            else:
                if deprecated is not None:
                    raise fail("wit.gate.invalid", "only one @deprecated per item", a.span)
                deprecated = a
        if since is None and feature is None:
            if deprecated is None:
                return None
            raise fail("wit.gate.invalid", "@deprecated needs @since or @unstable", deprecated.span)
        if since is not None:
            a = since
            version = self.pkg.name.version
            if version is None:
                raise fail("wit.gate.invalid",
                           f"package [{self.pkg.name}] contains a feature gate with a version "
                           "specifier, so it must have a version", item_span or a.span)
            if semver_key(a.value) > semver_key(version):
                raise fail("wit.gate.invalid",
                           f"feature gate cannot reference unreleased version {a.value} of package "
                           f"[{self.pkg.name}] (current version {version})", item_span or a.span)
        gate = Gate(since=since.value if since else None,
                    feature=feature.value if feature else None,
                    deprecated=deprecated.value if deprecated else None)
        if feature is not None and not self.loader.feature_active(feature.value):
            return _Skipped(gate)
        return gate

    def excluded(self, gate: Gate | None) -> bool:
        return gate is not None and gate.since is None and gate.feature is not None and \
            not self.loader.feature_active(gate.feature)

    def gated(self, items: list) -> list[tuple[Any, Any]]:
        """(item, gate) pairs; the gate is `_Skipped` for an item whose feature is off."""
        return [(it, self.gate(it.attrs, _item_span(it)) if it.attrs else None) for it in items]

    # ---- names ---------------------------------------------------------------------

    def local_name(self, ident: ast.Ident, body: ast.PackageBody, want: str) -> tuple[str, object]:
        """A bare name in a use/import/include: ("local", iface name),
        ("local-off", name of an interface gated out), ("global", iface gid),
        ("local-world", name) or ("global-world", wid)."""
        scope = self.body_scope.get(id(body), {})
        name = ident.name
        if name in scope:
            kind, target = scope[name]
            if want == "world":
                raise fail("wit.name.not_world", f"`{name}` is an interface, not a world", ident.span)
            return scope[name]
        if want == "interface":
            if name in self.iface_ast:
                return ("local", name)
            if name in self.iface_off:
                return ("local-off", name)
            if name in self.world_ast:
                raise fail("wit.name.not_interface", f"`{name}` is a world, not an interface", ident.span)
            raise fail("wit.name.unresolved", f"interface `{name}` does not exist", ident.span)
        if name in self.world_ast:
            return ("local-world", name)
        if name in self.iface_ast or name in self.iface_off:
            raise fail("wit.name.not_world", f"`{name}` is an interface, not a world", ident.span)
        raise fail("wit.name.unresolved", f"world `{name}` does not exist", ident.span)

    def foreign_package(self, path: ast.UsePath) -> int:
        known = [p.name for p in self.model.packages]
        target = find_package(known, path)
        if target == self.pkg.name:
            raise fail("wit.name.unresolved",
                       f"package `{target}` refers to itself; use the local name", path.span)
        return self.loader.package_index[(target.namespace, target.name, target.version)]

    def foreign_interface(self, path: ast.UsePath) -> int:
        pkg = self.model.packages[self.foreign_package(path)]
        try:
            return pkg.interfaces[path.name.name]
        except KeyError:
            raise fail("wit.name.unresolved",
                       f"interface `{path.name.name}` not found in package `{pkg.name}`",
                       path.name.span) from None

    def interface_of(self, path: ast.UsePath, body: ast.PackageBody) -> int:
        if path.namespace is not None:
            return self.foreign_interface(path)
        ref = self.local_name(path.name, body, "interface")
        if ref[0] == "local":
            return self.package.interfaces[ref[1]]  # type: ignore[index]
        if ref[0] == "local-off":
            raise fail("wit.gate.invalid", "found a reference to an interface which is excluded due to "
                       "its feature not being activated", path.name.span)
        return ref[1]  # type: ignore[return-value]

    def world_of(self, path: ast.UsePath, body: ast.PackageBody) -> int:
        if path.namespace is None:
            ref = self.local_name(path.name, body, "world")
            return self.package.worlds[ref[1]]  # type: ignore[index]
        pkg = self.model.packages[self.foreign_package(path)]
        try:
            return pkg.worlds[path.name.name]
        except KeyError:
            if path.name.name in pkg.interfaces:
                raise fail("wit.name.not_world", f"`{path.name.name}` is an interface, not a world",
                           path.name.span) from None
            raise fail("wit.name.unresolved", f"world `{path.name.name}` not found in package `{pkg.name}`",
                       path.name.span) from None

    def interface_type(self, gid: int, ident: ast.Ident) -> int:
        """Local type id of `ident` defined in interface `gid`."""
        local = self.local_iface_types.get(gid)
        if local is not None:
            if ident.name in local:
                return local[ident.name]
        else:
            types = self.model.interfaces[gid].types
            if ident.name in types:
                return self.placeholder(types[ident.name])
        name = self.model.interfaces[gid].name
        raise fail("wit.name.unresolved", f"type `{ident.name}` not defined in interface `{name}`",
                   ident.span)

    # ---- local type arena ------------------------------------------------------------

    def placeholder(self, gid: int) -> int:
        tid = self.foreign.get(gid)
        if tid is None:
            tid = self.foreign[gid] = len(self.local)
            self.local.append(TypeDef(None, ("foreign", gid)))
        return tid

    def alloc(self, td: TypeDef) -> int:
        self.local.append(td)
        return len(self.local) - 1

    def anon_type(self, kind: tuple, stab: Gate | None = None) -> int:
        """Intern an anonymous type.  Its stability is that of the item it is written in,
        else the first one found among the types it contains (as wit-parser does)."""
        tid = self.anon.get(kind)
        if tid is None:
            if kind[0] == "handle":  # a handle takes only its resource's stability (wit-parser)
                stab = self.stability_of(kind[2])
            elif stab is None:
                for ref in kind_refs(kind):
                    if isinstance(ref, int):
                        stab = self.stability_of(ref)
                        if stab is not None:
                            break
            tid = self.anon[kind] = self.alloc(TypeDef(None, kind, stability=stab))
        return tid

    def stability_of(self, tid: int) -> Gate | None:
        td = self.local[tid]
        if td.kind[0] == "foreign":
            return self.model.types[td.kind[1]].stability
        return td.stability

    def local_kind(self, ty: Ty) -> tuple | None:
        """Kind of a local type id, aliases followed, foreign placeholders looked up."""
        while isinstance(ty, int):
            kind = self.local[ty].kind
            if kind[0] == "foreign":
                g = self.model.unalias(kind[1])
                return self.model.types[g].kind if isinstance(g, int) else None
            if kind[0] != "type":
                return kind
            ty = kind[1]
        return None

    def is_resource(self, ty: Ty) -> bool:
        kind = self.local_kind(ty)
        return kind is not None and kind[0] == "resource"

    def ty(self, expr: ast.TypeExpr, scope: dict, stab: Gate | None = None) -> Ty:
        k = expr.kind
        if k in _PRIMITIVES:
            return k
        if k == "name":
            return self.lookup(expr.name, scope)  # type: ignore[arg-type]
        return self.anon_type(self.structural_kind(expr, scope, stab), stab)

    def structural_kind(self, expr: ast.TypeExpr, scope: dict, stab: Gate | None = None) -> tuple:
        """The kind of an anonymous type expression (its parts interned)."""
        k = expr.kind
        args = expr.args
        if k == "list":
            inner = self.ty(args[0], scope, stab)
            if expr.length is None:
                return ("list", inner)
            return ("fixed-length-list", inner, expr.length)
        if k == "map":
            if args[0].kind not in _MAP_KEYS:
                raise fail("wit.type.invalid", "invalid map key type: map keys must be bool, u8, u16, u32, "
                           "u64, s8, s16, s32, s64, char, or string", expr.span)
            return ("map", self.ty(args[0], scope, stab), self.ty(args[1], scope, stab))
        if k == "tuple":
            if not args:
                raise fail("wit.type.invalid", "empty tuple", expr.span)
            return ("tuple", tuple(self.ty(a, scope, stab) for a in args))
        if k == "option":
            return ("option", self.ty(args[0], scope, stab))
        if k == "result":
            ok = None if args[0] is None else self.ty(args[0], scope, stab)
            err = None if args[1] is None else self.ty(args[1], scope, stab)
            return ("result", ok, err)
        if k in ("own", "borrow"):
            target = self.lookup(expr.name, scope)  # type: ignore[arg-type]
            if not self.is_resource(target):
                raise fail("wit.type.not_resource", "type used in a handle must be a resource",
                           expr.name.span)  # type: ignore[union-attr]
            return ("handle", k, target)
        if k in ("stream", "future"):
            payload = None if args[0] is None else self.ty(args[0], scope, stab)
            return (k, payload)
        raise AssertionError(k)  # pragma: no cover

    def lookup(self, ident: ast.Ident, scope: dict) -> int:
        entry = scope.get(ident.name)
        if entry is None:
            raise fail("wit.name.unresolved", f"type `{ident.name}` does not exist", ident.span)
        if entry[0] != "type":
            raise fail("wit.name.unresolved", f"`{ident.name}` is not a type", ident.span)
        return entry[1]

    # ---- scopes: uses and type definitions -------------------------------------------

    def declare(self, scope: dict, ident: ast.Ident, entry: tuple) -> None:
        if ident.name in scope:
            raise fail("wit.name.duplicate", f"duplicate name `{ident.name}`", ident.span)
        _check_case(ident.name, scope, ident)
        scope[ident.name] = entry

    def resolve_uses(self, items, owner: tuple[str, int], scope: dict, body: ast.PackageBody,
                     on_type) -> list[int]:
        """Create the aliases `use` brings in; returns the interfaces used, in order."""
        used: list[int] = []
        for use, gate in items:
            if not isinstance(use, ast.Use):
                continue
            if _off(gate):
                self.resolve_use_off(use, gate, owner, scope, body)
                continue
            gid = self.interface_of(use.path, body)
            if owner[0] == "interface" and gid == owner[1]:
                raise fail("wit.use.cycle", "an interface cannot use itself", use.path.span)
            if gid not in used:
                used.append(gid)
            for name, alias in use.names:
                target = self.interface_type(gid, name)
                as_name = alias or name
                tid = self.alloc(TypeDef(as_name.name, ("type", target), owner, None, gate, as_name.span,
                                         _external_id(use.attrs)))
                self.declare(scope, as_name, ("type", tid))
                on_type(as_name.name, tid)
        return used

    def resolve_use_off(self, use: ast.Use, gate, owner: tuple[str, int], scope: dict,
                        body: ast.PackageBody) -> None:
        """A `use` whose feature is off: its names still resolve (items gated out with it may
        name them, as in wit-parser) but the aliases carry the gate and are dropped at commit."""
        types = None
        if use.path.namespace is None:
            ref = self.local_name(use.path.name, body, "interface")
            if ref[0] == "local-off":
                types = self.off_iface_types.get(cast(str, ref[1]), {})
        if types is None:
            gid = self.interface_of(use.path, body)
            lookup = lambda ident: self.interface_type(gid, ident)  # noqa: E731
        else:
            def lookup(ident: ast.Ident) -> int:
                if ident.name not in types:
                    raise fail("wit.name.unresolved", f"type `{ident.name}` not defined in interface "
                               f"`{use.path.name.name}`", ident.span)
                return types[ident.name]
        for name, alias in use.names:
            target = lookup(name)
            as_name = alias or name
            tid = self.alloc(TypeDef(as_name.name, ("type", target), owner, None, _stab(gate), as_name.span))
            self.declare(scope, as_name, ("type", tid))

    def resolve_typedefs(self, items, owner: tuple[str, int], scope: dict, on_type) -> None:
        # Types gated out are resolved too and dropped at commit, as wit-parser does
        # (their anonymous types carry the gate, and using one from a live item is an error).
        defs = [(it, _stab(g)) for it, g in items if isinstance(it, ast.TypeDef)]
        local_names: dict[str, ast.TypeDef] = {}
        for td, _ in defs:
            if td.name.name in scope or td.name.name in local_names:
                raise fail("wit.name.duplicate", f"duplicate name `{td.name.name}`", td.name.span)
            _check_case(td.name.name, scope, td.name)
            _check_case(td.name.name, local_names, td.name)
            local_names[td.name.name] = td
        deps = []
        for td, _ in defs:
            edges: list[tuple[str, Span]] = []
            for e in _type_names(td):
                if e.name in local_names:
                    edges.append((e.name, e.span))
                elif e.name not in scope:
                    raise fail("wit.name.unresolved", f"type `{e.name}` does not exist", e.span)
            deps.append(edges)
        order = toposort("type", [td.name.name for td, _ in defs], deps, "wit.type.cycle")
        for i in order:
            td, gate = defs[i]
            kind = self.typedef_kind(td, scope, gate)
            tid = self.alloc(TypeDef(td.name.name, kind, owner, td.docs, gate, td.name.span,
                                     _external_id(td.attrs)))
            scope[td.name.name] = ("type", tid)
            if not self.excluded(gate):
                on_type(td.name.name, tid)

    def typedef_kind(self, td: ast.TypeDef, scope: dict, stab: Gate | None = None) -> tuple:
        k = td.kind
        if k == "alias":
            target = td.target
            if target.kind in _PRIMITIVES or target.kind == "name":  # type: ignore[union-attr]
                return ("type", self.ty(target, scope, stab))  # type: ignore[arg-type]
            return self.structural_kind(target, scope, stab)  # type: ignore[arg-type]
        if k == "resource":
            return ("resource",)
        seen: set[str] = set()
        what = {"record": "field", "variant": "case", "enum": "case", "flags": "flag"}[k]
        for f in td.fields:
            if f.name.name in seen:
                raise fail("wit.name.duplicate", f"duplicate {what} `{f.name.name}`", f.name.span)
            _check_case(f.name.name, seen, f.name, what)
            seen.add(f.name.name)
        if k == "flags" and len(td.fields) > _MAX_FLAGS:
            raise fail("wit.type.invalid", f"cannot have more than {_MAX_FLAGS} flags",
                       td.fields[_MAX_FLAGS].name.span)
        if k == "record":
            if not td.fields:
                raise fail("wit.type.invalid", "record must have at least one field", td.name.span)
            # the parser gives every record field a type
            return ("record", tuple((f.name.name, self.ty(cast(ast.TypeExpr, f.type), scope, stab), f.docs)
                                    for f in td.fields))
        if k == "variant":
            if not td.fields:
                raise fail("wit.type.invalid", "empty variant", td.name.span)
            return ("variant", tuple((f.name.name, None if f.type is None else self.ty(f.type, scope, stab), f.docs)
                                     for f in td.fields))
        if not td.fields:
            raise fail("wit.type.invalid", f"empty {k}", td.name.span)
        return (k, tuple((f.name.name, f.docs) for f in td.fields))

    # ---- functions -------------------------------------------------------------------

    def function(self, f: ast.Func, gate: Gate | None, scope: dict,
                 resource: tuple[str, int] | None = None) -> Function:
        ftype = f.type
        params: list[tuple[str, Ty]] = []
        seen: set[str] = set()  # names in lower case (wit-parser compares them so)
        if f.member == "method":
            params.append(("self", self.anon_type(("handle", "borrow", resource[1]))))  # type: ignore[index]
            seen.add("self")
        for p in ftype.params:
            name = p.name.name
            low = name.lower()
            if low in seen:
                raise fail("wit.name.duplicate", f"param `{name}` is defined more than once", p.name.span)
            seen.add(low)
            params.append((name, self.ty(p.type, scope)))
        result = None if ftype.result is None else self.ty(ftype.result, scope)
        base = f.member
        if base == "constructor":
            rname, rid = resource  # type: ignore[misc]
            if result is None:
                result = rid
            else:
                declared = self.local_kind(result)
                ok = declared is not None and declared[0] == "result" and declared[1] is not None and \
                    self.local_kind(declared[1]) == self.local_kind(rid) and \
                    self._same_resource(declared[1], rid)
                if not ok:
                    raise fail("wit.type.invalid",
                               "if a constructor return type is declared it must be a `result<T, E>` "
                               "whose `T` is the resource", ftype.result.span)  # type: ignore[union-attr]
            name = f"[constructor]{rname}"
        elif base == "method":
            name = f"[method]{resource[0]}.{f.name.name}"  # type: ignore[index]
        elif base == "static":
            name = f"[static]{resource[0]}.{f.name.name}"  # type: ignore[index]
        else:
            name = f.name.name
        if result is not None and self.contains_borrow(result):
            raise fail("wit.type.borrow_in_result",
                       f"function `{f.name.name}` returns a type which contains a `borrow<T>` which is "
                       "not supported", f.name.span)
        kind = ("async-" if ftype.is_async else "") + base
        return Function(name, kind, params, result, None if resource is None else resource[1],
                        f.docs, gate, f.name.span, _external_id(f.attrs))

    def _same_resource(self, a: Ty, b: Ty) -> bool:
        return self.canonical_resource(a) == self.canonical_resource(b)

    def canonical_resource(self, ty: Ty):
        while isinstance(ty, int):
            kind = self.local[ty].kind
            if kind[0] == "foreign":
                return ("g", self.model.unalias(kind[1]))
            if kind[0] != "type":
                return ("l", ty)
            ty = kind[1]
        return None

    def contains_borrow(self, ty: Ty) -> bool:
        """Whether a type (through every alias and container) holds a `borrow<T>`.
        Types are acyclic here (cycles were rejected), so results are memoised."""
        if not isinstance(ty, int):
            return False
        found = self.borrow_memo.get(ty)
        if found is None:
            kind = self.local[ty].kind
            if kind[0] == "foreign":
                found = contains_borrow(self.model, kind[1], set())
            elif kind[0] == "handle":
                found = kind[1] == "borrow"
            else:
                found = any(self.contains_borrow(t) for t in kind_refs(kind))
            self.borrow_memo[ty] = found
        return found

    def resource_functions(self, items, scope: dict, out: dict) -> None:
        """Freestanding and resource functions, in item order.  A function gated out
        is still resolved (its anonymous types exist, as in wit-parser), then dropped."""
        for it, gate in items:
            if isinstance(it, ast.Func):
                if _off(gate):
                    self.function(it, None, scope)  # anonymous types get no stability here
                    continue
                self.declare(scope, it.name, ("func",))
                fn = self.function(it, gate, scope)
                out[fn.name] = fn
            elif isinstance(it, ast.TypeDef) and it.kind == "resource" and it.functions and _off(gate):
                for member, mgate in self.gated(it.functions):
                    if not _off(mgate):
                        raise fail("wit.gate.invalid", "found a reference to a type which is excluded due "
                                   "to its feature not being activated", member.name.span)
            elif isinstance(it, ast.TypeDef) and it.kind == "resource" and it.functions \
                    and not _off(gate):
                rid = scope[it.name.name][1]
                seen: set[str] = set()
                for member, mgate in self.gated(it.functions):
                    key = member.name.name
                    if key in seen:
                        what = "constructor" if member.member == "constructor" else f"function `{key}`"
                        raise fail("wit.name.duplicate", f"duplicate {what} in resource `{it.name.name}`",
                                   member.name.span)
                    if member.member != "constructor":
                        _check_case(key, seen, member.name, "name",
                                    lambda n: f"[{member.member}]{it.name.name}.{n}")
                    seen.add(key)
                    if member.member != "constructor" and key == it.name.name:
                        raise fail("wit.name.duplicate", f"name `[{member.member}]{key}.{key}` conflicts with "
                                   f"previous name `{key}`", member.name.span)
                    fn = self.function(member, None if _off(mgate) else mgate, scope, (it.name.name, rid))
                    if not _off(mgate):
                        out[fn.name] = fn

    # ---- interfaces ------------------------------------------------------------------

    def resolve_interface(self, node: ast.Interface, gid: int | None, body: ast.PackageBody,
                          iface: InterfaceDef | None = None) -> None:
        """Resolve an interface body.  `gid` is None for an interface gated out: it is
        resolved all the same (wit-parser does) but belongs to no arena."""
        if iface is None:
            iface = self.model.interfaces[gid]  # type: ignore[index]
        types: dict[str, int] = {}
        if gid is not None:
            self.local_iface_types[gid] = types
        items = self.gated(node.items)
        if gid is None:
            for it, gate in items:
                if isinstance(it, ast.TypeDef) and not _off(gate):
                    raise fail("wit.gate.invalid", "found a reference to a interface which is excluded due "
                               "to its feature not being activated; this type is not gated by a feature "
                               "but its interface is", it.name.span)
        scope: dict = {}
        owner = ("interface", gid if gid is not None else -1)
        used = self.resolve_uses(items, owner, scope, body, types.__setitem__)
        if gid is not None:
            self.loader.deps_of[gid] = used
        self.resolve_typedefs(items, owner, scope, types.__setitem__)
        self.resource_functions(items, scope, iface.functions)
        if gid is None:  # every name, gated or not: a `use` gated out may name them
            types.update((n, e[1]) for n, e in scope.items() if e[0] == "type")
        iface.types = types  # local ids until commit

    # ---- worlds ----------------------------------------------------------------------

    def resolve_world(self, node: ast.World, wid: int, body: ast.PackageBody) -> None:
        world = self.model.worlds[wid]
        items = self.gated(node.items)
        for it, gate in items:
            if _off(gate) and isinstance(it, ast.TypeDef):  # wit-parser rejects these
                raise fail("wit.gate.invalid", "found a reference to a type which is excluded due to its "
                           "feature not being activated", it.name.span)
        scope: dict = {}
        owner = ("world", wid)
        imports: dict = {}
        exports: dict = {}

        def add_type(name: str, tid: int) -> None:
            imports[name] = ("type", tid)

        self.resolve_uses(items, owner, scope, body, add_type)
        self.resolve_typedefs(items, owner, scope, add_type)
        for it, gate in items:
            if isinstance(it, ast.TypeDef) and it.kind == "resource" and it.functions and not _off(gate):
                holder: dict = {}
                self.resource_functions([(it, gate)], scope, holder)
                for fn in holder.values():
                    imports[fn.name] = ("function", fn)
                continue
            if not isinstance(it, ast.Extern):
                continue
            target = imports if it.direction == "import" else exports
            if it.name is not None:
                key = it.name.name
                if not _off(gate) and (key in target or (it.direction == "import" and key in scope)):
                    raise fail("wit.world.conflict", f"{it.direction} `{key}` conflicts with prior "
                               f"{it.direction} of same name", it.name.span)
                if not _off(gate):
                    _check_case(key, [k for k in target if isinstance(k, str)], it.name)
                if it.path is not None:  # `import name: iface;`
                    if not _off(gate):
                        igid = self.interface_of(it.path, body)
                        target[key] = ("interface", igid, gate, it.docs, _external_id(it.attrs))
                elif it.func is not None:
                    fn = self.function(ast.Func(it.name, it.func, it.docs, it.attrs),
                                       None if _off(gate) else gate, scope)
                    if not _off(gate):
                        target[key] = ("function", fn)
                elif _off(gate):
                    self.resolve_interface(it.interface, None, body,  # type: ignore[arg-type]
                                           InterfaceDef(None, self.index))
                else:
                    igid = len(self.model.interfaces)
                    self.model.interfaces.append(InterfaceDef(None, self.index, docs=it.docs,
                                                              stability=gate, span=it.name.span))
                    self.new_interfaces.append(igid)
                    self.resolve_interface(it.interface, igid, body)  # type: ignore[arg-type]
                    target[key] = ("interface", igid, gate, None, _external_id(it.attrs))
            elif not _off(gate):
                igid = self.interface_of(it.path, body)  # type: ignore[arg-type]
                iface_key = ("interface", igid)
                if iface_key in target:
                    raise fail("wit.world.conflict", f"interface `{it.path}` cannot be "
                               f"{it.direction}ed more than once", it.path.span)  # type: ignore[union-attr]
                target[iface_key] = ("interface", igid, gate, it.docs, _external_id(it.attrs))
        includes = []
        for it, gate in items:
            if isinstance(it, ast.Include) and not _off(gate):
                includes.append((it, self.world_of(it.path, body)))
        world.imports, world.exports = imports, exports
        self.pending_includes[wid] = includes

    # ---- commit: local arena -> global arena ------------------------------------------

    def commit(self) -> None:
        model = self.model
        mapping: list = []  # local id -> global id, None (gated out) or ("own", resource)
        own: dict[int, int] = {}
        context: list = [None]  # span of the item being committed, for errors
        is_resource: dict[int, bool] = {}  # committed types do not change: asked once each

        def ref(ty, convert: bool = True):
            if ty is None or isinstance(ty, str):
                return ty
            g = mapping[ty]
            if isinstance(g, tuple):  # an anonymous own<r> that was gated out: share r's handle
                g = own_handle(g[1])
            if g is None:
                raise fail("wit.gate.invalid", "found a reference to a type which is excluded due to its "
                           "feature not being activated", context[0])
            if convert:
                resource = is_resource.get(g)
                if resource is None:
                    resource = is_resource[g] = model.is_resource(g)
                if resource:
                    return own_handle(g)
            return g

        def own_handle(g: int) -> int:
            h = own.get(g)
            if h is None:
                h = own[g] = len(model.types)
                model.types.append(TypeDef(None, ("handle", "own", g)))
            return h

        for td in self.local:
            kind = td.kind
            k = kind[0]
            if k == "foreign":
                mapping.append(kind[1])
                continue
            if k == "handle" and kind[1] == "own" and td.name is None:
                # an anonymous own<r> is r's one own handle, made where first used
                mapping.append(("own", ref(kind[2], False)))
                continue
            if self.excluded(td.stability):
                mapping.append(None)
                continue
            if td.span is not None:
                context[0] = td.span
            if k == "type":
                kind = ("type", ref(kind[1], False))
            elif k == "handle":
                kind = ("handle", kind[1], ref(kind[2], False))
            else:
                kind = map_kind(kind, ref)
            mapping.append(len(model.types))
            model.types.append(TypeDef(td.name, kind, td.owner, td.docs, td.stability, td.span,
                                       td.external_id))

        def commit_fn(fn: Function) -> None:
            context[0] = fn.span
            fn.params = [(n, ref(t)) for n, t in fn.params]
            fn.result = ref(fn.result)
            if fn.resource is not None:
                fn.resource = ref(fn.resource, False)

        for gid in sorted(self.new_interfaces):
            iface = model.interfaces[gid]
            iface.types = {n: mapping[t] for n, t in iface.types.items()}
            for fn in iface.functions.values():
                commit_fn(fn)
        for wid in self.new_worlds:
            world = model.worlds[wid]
            for items in (world.imports, world.exports):
                for key, item in list(items.items()):
                    if item[0] == "type":
                        items[key] = ("type", mapping[item[1]])
                    elif item[0] == "function":
                        commit_fn(item[1])
        for wid in self.new_worlds:  # includes copy committed worlds, after all of them
            world = model.worlds[wid]
            for inc, source in self.pending_includes.get(wid, ()):
                self.include(wid, inc, source)
            self.elaborate(world)


def _check_case(name: str, previous, where: ast.Ident, what: str = "name",
                show=lambda n: n) -> None:
    """Names in one scope must differ in more than letter case (component-level names are
    compared without case): a coded error at the later name (`where`)."""
    low = name.lower()
    if low not in map(str.lower, previous):  # the usual case, checked without a Python loop
        return
    for prev in previous:
        if len(prev) == len(name) and prev != name and prev.lower() == low:
            raise fail("wit.name.case_conflict", f"{what} `{show(name)}` conflicts with previous "
                       f"{what} `{show(prev)}`", where.span)


def _external_id(attrs: list[ast.Attr]) -> str | None:
    """The value of an item's `@external-id("…")`, if it has one."""
    for a in attrs:
        if a.kind == "external-id":
            return a.value
    return None


def _item_span(item) -> Span | None:
    if isinstance(item, ast.Extern):
        return (item.name or item.path).span  # type: ignore[union-attr]
    if isinstance(item, (ast.Use, ast.Include, ast.TopUse)):
        return item.span
    return item.name.span


def _type_names(td: ast.TypeDef) -> Iterable[ast.Ident]:
    """Every name a type definition refers to (for dependency order)."""
    stack = []
    if td.kind == "alias":
        stack.append(td.target)
    elif td.kind in ("record", "variant"):
        stack.extend(f.type for f in td.fields if f.type is not None)
    while stack:
        e = stack.pop()
        if e is None:
            continue
        if e.name is not None:
            yield e.name
        stack.extend(e.args)


def _top_name(iface: ast.Interface) -> ast.Ident:
    """The name of a package-level interface (only an interface inline in a world has none)."""
    assert iface.name is not None
    return iface.name
