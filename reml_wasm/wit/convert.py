"""The arena model -> `reml_wasm.types` (what the rest of reml_wasm consumes).

Named definitions become RecordType/VariantType/EnumType/FlagsType/ResourceType; a
named type whose body is structural (`type pair = tuple<u8, u8>`) and every `use`d name
become `TypeAlias`.  A gate with both a version and @deprecated keeps only the
deprecation in `types.Stability` (that class holds one kind); the arena model keeps both.
"""

from __future__ import annotations

from .. import types as T
from .model import Function, Gate, Model, Ty


def stability(gate: Gate | None) -> T.Stability | None:
    if gate is None:
        return None
    if gate.deprecated is not None:
        return T.Stability("deprecated", version=gate.deprecated, feature=gate.feature)
    if gate.since is not None:
        return T.Stability("since", version=gate.since)
    return T.Stability("unstable", feature=gate.feature)


class _Converter:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.types: dict[int, T.Type] = {}
        self.interfaces: dict[int, T.Interface] = {}
        self.resources: dict[int, T.ResourceType] = {}

    def owner_name(self, owner: tuple[str, int] | None) -> str | None:
        if owner is None:
            return None
        if owner[0] == "interface":
            return self.model.interface_qualified(owner[1])
        world = self.model.worlds[owner[1]]
        if world.package is None:
            return world.name
        return self.model.packages[world.package].name.qualify(world.name)

    def ty(self, t: Ty | None) -> T.Type | None:
        if t is None:
            return None
        if isinstance(t, str):
            return T.PRIMITIVES[t]
        found = self.types.get(t)
        if found is None:
            found = self.types[t] = self.typedef(t)
        return found

    def resource(self, t: Ty) -> T.ResourceType:
        res = self.ty(self.model.unalias(t))
        assert isinstance(res, T.ResourceType)
        return res

    def structural(self, kind: tuple) -> T.Type:
        k = kind[0]
        ty = self.ty
        if k == "handle":
            return T.OwnType(self.resource(kind[2])) if kind[1] == "own" else T.BorrowType(self.resource(kind[2]))
        if k == "list":
            return T.ListType(ty(kind[1]))  # type: ignore[arg-type]
        if k == "fixed-length-list":
            return T.ListType(ty(kind[1]), kind[2])  # type: ignore[arg-type]
        if k == "map":
            return T.MapType(ty(kind[1]), ty(kind[2]))  # type: ignore[arg-type]
        if k == "tuple":
            return T.TupleType(tuple(ty(t) for t in kind[1]))  # type: ignore[misc]
        if k == "option":
            return T.OptionType(ty(kind[1]))  # type: ignore[arg-type]
        if k == "result":
            return T.ResultType(ty(kind[1]), ty(kind[2]))
        if k == "future":
            return T.FutureType(ty(kind[1]))
        if k == "stream":
            return T.StreamType(ty(kind[1]))
        if k == "type":
            return ty(kind[1])  # type: ignore[return-value]
        raise AssertionError(k)  # pragma: no cover

    def typedef(self, tid: int) -> T.Type:
        td = self.model.types[tid]
        kind = td.kind
        k = kind[0]
        name = td.name
        if name is None:
            return self.structural(kind)
        if k == "record":
            return T.RecordType(name, tuple(T.Field(n, self.ty(t), d) for n, t, d in kind[1]), td.docs)  # type: ignore[arg-type]
        if k == "variant":
            return T.VariantType(name, tuple(T.Case(n, self.ty(t), d) for n, t, d in kind[1]), td.docs)
        if k == "enum":
            return T.EnumType(name, tuple(n for n, _ in kind[1]), td.docs)
        if k == "flags":
            return T.FlagsType(name, tuple(n for n, _ in kind[1]), td.docs)
        if k == "resource":
            res = T.ResourceType(name, owner=self.owner_name(td.owner), docs=td.docs)
            self.resources[tid] = res
            return res
        return T.TypeAlias(name, self.structural(kind), td.docs)

    def function(self, fn: Function) -> T.Function:
        base = fn.base_kind
        resource_name = None
        name = fn.name
        if fn.resource is not None:
            resource_name = self.model.types[fn.resource].name
            name = "constructor" if base == "constructor" else fn.name.split(".", 1)[1]
        return T.Function(name, tuple(T.Param(n, self.ty(t)) for n, t in fn.params),  # type: ignore[arg-type]
                          self.ty(fn.result), fn.is_async, base, resource_name,  # type: ignore[arg-type]
                          stability(fn.stability), fn.docs)

    def define_resources(self, functions) -> None:
        by_resource: dict[int, list[T.Function]] = {}
        for fn in functions:
            if fn.resource is not None:
                by_resource.setdefault(fn.resource, []).append(self.function(fn))
        for rid, funcs in by_resource.items():
            res = self.ty(rid)
            if isinstance(res, T.ResourceType):
                res.define(next((f for f in funcs if f.kind == "constructor"), None),
                           [f for f in funcs if f.kind == "method"],
                           [f for f in funcs if f.kind == "static"])

    def interface(self, iid: int) -> T.Interface:
        found = self.interfaces.get(iid)
        if found is not None:
            return found
        iface = self.model.interfaces[iid]
        types = tuple((n, self.ty(t)) for n, t in iface.types.items())
        self.define_resources(iface.functions.values())
        pkg = None if iface.package is None else self.model.packages[iface.package].name
        funcs = tuple(self.function(f) for f in iface.functions.values() if f.resource is None)
        found = self.interfaces[iid] = T.Interface(iface.name, types, funcs, pkg,  # type: ignore[arg-type]
                                                   stability(iface.stability), iface.docs)
        return found

    def world_items(self, items: dict) -> tuple[T.WorldItem, ...]:
        out: list[T.WorldItem] = []
        for key, item in items.items():
            if item[0] == "interface":
                name = key if isinstance(key, str) else self.model.interface_qualified(item[1])
                out.append(T.InterfaceItem(name, self.interface(item[1]), stability(item[2])))  # type: ignore[arg-type]
            elif item[0] == "function":
                out.append(T.FunctionItem(self.function(item[1])))
            else:
                out.append(T.TypeItem(key, self.ty(item[1])))  # type: ignore[arg-type]
        return tuple(out)

    def world(self, wid: int) -> T.World:
        w = self.model.worlds[wid]
        funcs = [item[1] for item in w.imports.values() if item[0] == "function"]
        self.define_resources(funcs)
        pkg = None if w.package is None else self.model.packages[w.package].name
        return T.World(w.name, self.world_items(w.imports), self.world_items(w.exports), pkg,
                       stability(w.stability), w.docs)


def convert(model: Model) -> tuple[T.Package, ...]:
    """Every package of the model as `types.Package`, in arena (topological) order."""
    c = _Converter(model)
    for iid in range(len(model.interfaces)):
        c.interface(iid)
    worlds = [c.world(wid) for wid in range(len(model.worlds))]
    out = []
    for p in model.packages:
        out.append(T.Package(p.name, tuple(c.interfaces[i] for i in p.interfaces.values()),
                             tuple(worlds[w] for w in p.worlds.values()), p.docs))
    return tuple(out)
