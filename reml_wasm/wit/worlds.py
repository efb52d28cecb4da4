"""World elaboration, as wit-parser does it after a package is resolved: `include`
(which copies the included world's types and inline interfaces), implicit imports of the
interfaces that imports, types and exports use, and the final order of world items."""

from __future__ import annotations

from typing import Protocol

from . import ast
from .diagnostics import fail
from .model import Function, InterfaceDef, Model, TypeDef, WorldDef, map_kind


def _rename_member(name: str, renames: dict[str, str], found: set[str]) -> str:
    """The component-level name of a resource function whose resource was renamed."""
    prefix, _, rest = name.partition("]")
    resource, dot, member = rest.partition(".")
    if resource in renames:
        found.add(resource)
        return f"{prefix}]{renames[resource]}{dot}{member}"
    return name


class _InterfaceDeps(Protocol):
    """What world elaboration uses of the loader: the interfaces each interface uses."""

    deps_of: dict[int, list[int]]


class WorldElaboration:
    """Mixed into the package resolver; needs `model`, `loader`."""

    model: Model
    loader: _InterfaceDeps

    def include(self, wid: int, inc: ast.Include, source_wid: int) -> None:
        """Merge an included world; the types it owns are cloned into this world."""
        model = self.model
        world, other = model.worlds[wid], model.worlds[source_wid]
        renames = {old.name: new.name for old, new in inc.renames}
        found = set()
        cloned: dict[int, int] = {}

        owners: dict[tuple, tuple] = {("world", source_wid): ("world", wid)}

        def clone(t):
            if not isinstance(t, int):
                return t
            if t in cloned:
                return cloned[t]
            td = model.types[t]
            if td.owner in owners:
                kind = map_kind(td.kind, clone)
                new = cloned[t] = len(model.types)
                name = renames.get(td.name, td.name) if td.owner == ("world", source_wid) else td.name
                model.types.append(TypeDef(name, kind, owners[td.owner], td.docs, td.stability, td.span,
                                           td.external_id))
                return new
            if td.owner is None:  # anonymous types are always copied (as wit-parser does)
                kind = map_kind(td.kind, clone)
                new = cloned[t] = len(model.types)
                model.types.append(TypeDef(None, kind, stability=td.stability))
                return new
            cloned[t] = t
            return t

        def clone_function(fn: Function, name: str) -> Function:
            return Function(name, fn.kind, [(n, clone(t)) for n, t in fn.params], clone(fn.result),
                            None if fn.resource is None else clone(fn.resource), fn.docs, fn.stability,
                            fn.span, fn.external_id)

        for source, target, direction in ((other.imports, world.imports, "import"),
                                          (other.exports, world.exports, "export")):
            for key, item in source.items():
                if isinstance(key, str) and key in renames:
                    found.add(key)
                    key = renames[key]
                if item[0] == "type":
                    item = ("type", clone(item[1]))
                elif item[0] == "function":
                    fn = item[1]
                    name = key if isinstance(key, str) and fn.resource is None else fn.name
                    if fn.resource is not None:  # `[method]r.m` of a resource renamed `r as s`
                        name = _rename_member(name, renames, found)
                        key = name
                    item = ("function", clone_function(fn, name))
                elif not isinstance(key, str):
                    if other.package != world.package and item[2] is not None and item[2].since is not None:
                        # wit-parser drops an `@since` (a version of the other package) from an
                        # interface imported by its path by a world of another package
                        item = ("interface", item[1], None) + item[3:]
                elif model.interfaces[item[1]].name is None:  # an inline interface is copied too
                    orig = model.interfaces[item[1]]
                    new_id = len(model.interfaces)
                    copy = InterfaceDef(None, world.package, docs=orig.docs, stability=orig.stability,
                                        span=orig.span, clone_of=item[1])
                    model.interfaces.append(copy)
                    owners[("interface", item[1])] = ("interface", new_id)
                    copy.types = {n: clone(t) for n, t in orig.types.items()}
                    copy.functions = {n: clone_function(f, f.name) for n, f in orig.functions.items()}
                    self.loader.deps_of[new_id] = self.iface_deps(item[1])
                    item = ("interface", new_id) + item[2:]
                if key in target:
                    if target[key][0] == "interface" and item[0] == "interface" and target[key][1] == item[1]:
                        continue
                    raise fail("wit.world.conflict", f"{direction} of `{key}` from included world "
                               f"`{other.name}` conflicts with an item of the same name", inc.path.span)
                target[key] = item
        for old, _ in inc.renames:
            if old.name not in found:
                raise fail("wit.name.unresolved", f"`{old.name}` does not exist in world `{other.name}`",
                           old.span)

    def iface_deps(self, gid: int) -> list[int]:
        deps = self.loader.deps_of.get(gid)
        if deps is None:  # pragma: no cover - every resolved interface records its deps
            deps = self.loader.deps_of[gid] = []
        return deps

    def type_interface_dep(self, tid: int) -> int | None:
        td = self.model.types[tid]
        if td.kind[0] == "type" and isinstance(td.kind[1], int):
            owner = self.model.types[td.kind[1]].owner
            if owner is not None and owner[0] == "interface" and owner != td.owner:
                return owner[1]
        return None

    def import_class(self, item: tuple) -> int:
        """wit-parser's sort of world imports: interfaces, used types, other types,
        freestanding functions, resource functions."""
        if item[0] == "interface":
            return 0
        if item[0] == "type":
            return 1 if self.type_interface_dep(item[1]) is not None else 2
        return 3 if item[1].resource is None else 4

    def elaborate(self, world: WorldDef) -> None:
        """Implicit imports of the interfaces that imports, types and exports use."""
        imports = sorted(world.imports.items(), key=lambda kv: self.import_class(kv[1]))
        exports = world.exports
        new: dict = {}

        def add(gid: int, stab, item: tuple | None = None, key=None) -> None:
            # an interface imported only because another item needs it takes that item's gate
            for dep in self.iface_deps(gid):
                if ("interface", dep) not in new:
                    add(dep, stab)
            key = key if key is not None else ("interface", gid)
            if key not in new:
                new[key] = item if item is not None else ("interface", gid, stab, None, None)

        for key, item in imports:
            if item[0] == "interface":
                add(item[1], item[2], item, key)
            elif item[0] == "type":
                dep = self.type_interface_dep(item[1])
                if dep is not None:
                    add(dep, self.model.types[item[1]].stability)
                new[key] = item
            else:
                new[key] = item
        exported = {k[1] for k in exports if isinstance(k, tuple)}
        for key, item in exports.items():
            if item[0] != "interface":
                continue
            for dep in self._transitive(item[1]):
                if dep in exported:
                    continue
                for sub in self._transitive(dep):  # an import may not use an export
                    if sub in exported:
                        name = self.model.interface_qualified(sub)
                        raise fail("wit.world.conflict", f"interface `{name}` transitively depends on an "
                                   "interface in incompatible ways", world.span)
                add(dep, item[2])
        new_exports = {k: v for k, v in exports.items() if v[0] == "function"}
        iface_exports = {k: v for k, v in exports.items() if v[0] == "interface"}

        def add_export(key) -> None:
            # an exported interface that another export uses goes first
            if key in new_exports:
                return
            for dep in self.iface_deps(iface_exports[key][1]):
                if ("interface", dep) in iface_exports:
                    add_export(("interface", dep))
            new_exports[key] = iface_exports[key]

        for key in iface_exports:
            add_export(key)
        world.imports = dict(sorted(new.items(), key=lambda kv: self.import_class(kv[1])))
        world.exports = new_exports

    def _transitive(self, gid: int) -> list[int]:
        out: list[int] = []

        def visit(g: int) -> None:
            for d in self.iface_deps(g):
                if d not in out:
                    visit(d)
                    out.append(d)

        visit(gid)
        return out
