"""Walk a parsed component definition by definition, building its index spaces.

One walker serves two purposes: with a `Backend` that does nothing at the core level it
computes the component's world (its imports and exports as `reml_wasm.types`, the view
`reml-wasm inspect` prints); with the fast-path backend (fast.py) it also
instantiates the core modules on wasmtime and turns `canon lift` / `canon lower` /
`resource.*` into callables.  Nested components are walked when instantiated, with their
imports bound to the arguments, so type imports are substituted by the actual types.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from ... import types as t
from ...audit import error
from ...wasm_binary import component as cb
from ...wasm_binary.typespace import MAX_TYPE_DEPTH


# --- index-space values ------------------------------------------------------------------

@dataclass
class InstanceTypeValue:
    """The type of a component instance: its exports in order, name -> (sort, value)."""

    exports: dict[str, tuple[str, Any]] = field(default_factory=dict)


@dataclass
class ComponentTypeValue:
    imports: dict[str, tuple[str, Any]] = field(default_factory=dict)
    exports: dict[str, tuple[str, Any]] = field(default_factory=dict)


@dataclass
class ComponentFunc:
    """A component-level function: its type and, at run time, its implementation
    (`call(args) -> result`, supplied by the backend)."""

    type: t.Function
    call: Callable[[list], Any] | None = None
    origin: str = ""
    extra: Any = None

    def retyped(self, ftype: t.Function) -> "ComponentFunc":
        """The same function under the type `ftype` (`dataclasses.replace` costs more)."""
        return ComponentFunc(ftype, self.call, self.origin, self.extra)


@dataclass
class ComponentInstance:
    exports: dict[str, tuple[str, Any]] = field(default_factory=dict)


@dataclass
class ComponentClosure:
    """A nested component definition together with the scope it was defined in."""

    ast: cb.Component
    scope: "Scope"


_PLACEHOLDER = "%anon"
_counter = itertools.count()


def _fresh_name(kind: str) -> str:
    return f"{_PLACEHOLDER}-{kind}-{next(_counter)}"


def is_placeholder(name: str) -> bool:
    return name.startswith(_PLACEHOLDER)


class Backend:
    """Core-level operations.  The default does nothing (static walk)."""

    static = True

    def __init__(self) -> None:
        # id(resource) -> (resource, the name it is first exported under)
        self.resource_names: dict[int, tuple[t.ResourceType, str]] = {}
        # None, or a dict kept by the component across its instances: the types its
        # definitions elaborate to, by place (they are equal in every instance; a resource
        # keeps its identity and names, its handle tables are the instance's own)
        self.type_memo: dict[Any, Any] | None = None

    def apply_resource_names(self) -> None:
        """Give defined resources their export names (a resource's hash leaves its name
        out, so tables keyed on it stay valid)."""
        for rt, name in self.resource_names.values():
            object.__setattr__(rt, "name", name)

    def core_module(self, m: cb.CoreModule) -> Any:
        return m

    def core_instantiate(self, module: Any, args: dict[str, Any]) -> Any:
        return None

    def core_inline(self, exports: dict[str, Any]) -> Any:
        return exports

    def core_export(self, instance: Any, name: str, sort: str) -> Any:
        return None

    def lift(self, scope: "Scope", core_func: Any, opts: cb.CanonOptions, func: t.Function) -> ComponentFunc:
        return ComponentFunc(func)

    def lower(self, scope: "Scope", func: ComponentFunc, opts: cb.CanonOptions) -> Any:
        return None

    def resource_builtin(self, scope: "Scope", kind: str, rt: t.ResourceType) -> Any:
        return None

    def resource_defined(self, scope: "Scope", rt: t.ResourceType, dtor: Any) -> None:
        return None

    def import_value(self, scope: "Scope", name: str, sort: str, value: Any) -> Any:
        """Bind a root import (sort func/instance) to what the host provides."""
        return value


class Scope:
    """The index spaces of one component being instantiated."""

    def __init__(self, backend: Backend, parent: "Scope | None" = None, path: str = "root") -> None:
        self.backend = backend
        self.parent = parent
        self.path = path
        self.spaces: dict[str, list] = {s: [] for s in (
            "core func", "core table", "core memory", "core global", "core type", "core module",
            "core instance", "func", "value", "type", "component", "instance")}
        self.imports: dict[str, tuple[str, Any]] = {}
        self.exports: dict[str, tuple[str, Any]] = {}
        self.resources: list[t.ResourceType] = []   # resources defined here, in order
        self.state: Any = None                      # backend-owned (e.g. resource tables)

    def get(self, sort: str, index: int | None) -> Any:
        space = self.spaces[sort]
        if index is None:
            raise error("ffi.component.malformed", f"a {sort} reference without its index")
        if index >= len(space):
            raise error("ffi.component.malformed", f"{sort} index {index} out of range ({len(space)} defined)")
        return space[index]

    def add(self, sort: str, value: Any) -> None:
        self.spaces[sort].append(value)

    def outer(self, count: int) -> "Scope":
        s: Scope | None = self
        for _ in range(count):
            s = s.parent if s is not None else None
        if s is None:
            raise error("ffi.component.malformed", f"outer alias {count} levels out of the root")
        return s


# --- types -------------------------------------------------------------------------------

def rename(value: Any, name: str, backend: "Backend | None" = None) -> Any:
    """The type `value` under the name it is exported as.  A resource keeps its identity
    (it may already sit in handle tables): its export name is only recorded."""
    if isinstance(value, t.ResourceType):
        if backend is not None and is_placeholder(value.name):
            backend.resource_names.setdefault(id(value), (value, name))
        elif backend is None and not is_placeholder(value.name) and value.name != name:
            return t.TypeAlias(name, value)  # `type headers = fields;` in an instance type
        return value
    if isinstance(value, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType)):
        return dataclasses.replace(value, name=name)
    if isinstance(value, t.Type):
        return t.TypeAlias(name, value)  # `type filesize = u64;` keeps its name
    return value


class TypeResolver:
    """Turns Def* trees into reml types against a type index space."""

    def __init__(self, lookup: Callable[[int], Any]) -> None:
        self.lookup = lookup
        self._depths: dict[int, tuple[Any, int]] = {}  # id(type) -> (the type, kept alive; its depth)

    def _depth(self, ty: t.Type) -> int:
        known = self._depths.get(id(ty))
        if known is not None:
            return known[1]
        inner = max((self._depth(c) for c in ty.children()), default=0)
        depth = inner if isinstance(ty, t.TypeAlias) else inner + 1
        self._depths[id(ty)] = (ty, depth)
        return depth

    def define(self, d: Any, owner: str) -> Any:
        """The type `d` defines; `ffi.component.malformed` past MAX_TYPE_DEPTH levels of
        nesting (every later walk over the type recurses as deep)."""
        ty = self._define(d, owner)
        if isinstance(ty, t.Function):
            parts = [p.type for p in ty.params] + ([] if ty.result is None else [ty.result])
            depth = 1 + max((self._depth(p) for p in parts), default=0)
        elif isinstance(ty, t.Type):
            depth = self._depth(ty)
        else:
            return ty
        if depth > MAX_TYPE_DEPTH:
            raise error("ffi.component.malformed", f"type nesting is too deep (more than {MAX_TYPE_DEPTH} levels)")
        return ty

    def val(self, v: cb.ValType) -> t.Type:
        if isinstance(v, t.PrimitiveType):
            return v
        ty = self.lookup(v)
        if not isinstance(ty, t.Type) or isinstance(ty, t.ResourceType):
            raise error("ffi.component.malformed", f"type index {v} is not a value type")
        return ty

    def resource(self, idx: int) -> t.ResourceType:
        ty = self.lookup(idx)
        while isinstance(ty, t.TypeAlias):
            ty = ty.target
        if not isinstance(ty, t.ResourceType):
            raise error("ffi.component.malformed", f"type index {idx} is not a resource")
        return ty

    def _alias_name(self, idx: int) -> str | None:
        """The alias name a handle's resource index is written with, if it is an alias."""
        ty = self.lookup(idx)
        return ty.name if isinstance(ty, t.TypeAlias) and isinstance(t.unalias(ty), t.ResourceType) else None

    def _define(self, d: Any, owner: str) -> Any:
        v = self.val
        if isinstance(d, cb.DefPrimitive):
            return d.type
        if isinstance(d, cb.DefRecord):
            return t.RecordType(_fresh_name("record"), tuple(t.Field(n, v(x)) for n, x in d.fields))
        if isinstance(d, cb.DefVariant):
            return t.VariantType(_fresh_name("variant"),
                                 tuple(t.Case(n, None if x is None else v(x)) for n, x in d.cases))
        if isinstance(d, cb.DefList):
            return t.ListType(v(d.element), d.length)
        if isinstance(d, cb.DefMap):
            return t.MapType(v(d.key), v(d.value))
        if isinstance(d, cb.DefTuple):
            return t.TupleType(tuple(v(x) for x in d.elements))
        if isinstance(d, cb.DefFlags):
            return t.FlagsType(_fresh_name("flags"), d.labels)
        if isinstance(d, cb.DefEnum):
            return t.EnumType(_fresh_name("enum"), d.labels)
        if isinstance(d, cb.DefOption):
            return t.OptionType(v(d.inner))
        if isinstance(d, cb.DefResult):
            return t.ResultType(None if d.ok is None else v(d.ok), None if d.err is None else v(d.err))
        if isinstance(d, cb.DefOwn):
            return t.OwnType(self.resource(d.resource), self._alias_name(d.resource))
        if isinstance(d, cb.DefBorrow):
            return t.BorrowType(self.resource(d.resource), self._alias_name(d.resource))
        if isinstance(d, cb.DefStream):
            return t.StreamType(None if d.element is None else v(d.element))
        if isinstance(d, cb.DefFuture):
            return t.FutureType(None if d.element is None else v(d.element))
        if isinstance(d, cb.DefFunc):
            return t.Function("", tuple(t.Param(n, v(x)) for n, x in d.params),
                              None if d.result is None else v(d.result), is_async=d.is_async)
        if isinstance(d, cb.DefResource):
            return t.ResourceType(_fresh_name("resource"), owner=owner)
        raise error("ffi.component.unsupported", f"unsupported type definition {type(d).__name__}")


_MEMBER_PREFIXES: tuple[tuple[str, t.FunctionKind], ...] = (("[method]", "method"), ("[static]", "static"))


def name_function(func: t.Function, name: str) -> t.Function:
    """Give a function its component-level name: `[method]r.m` -> method m of r, etc."""
    if not isinstance(func, t.Function):
        raise error("ffi.component.malformed", f"{name}: declared with a type that is not a function type")
    if name.startswith("[constructor]"):
        return dataclasses.replace(func, name=name[13:], kind="constructor", resource=name[13:])
    for prefix, kind in _MEMBER_PREFIXES:
        if name.startswith(prefix):
            res, _, member = name[len(prefix):].partition(".")
            return dataclasses.replace(func, name=member, kind=kind, resource=res)
    return dataclasses.replace(func, name=name)


def _decls_type(decls: tuple[cb.Decl, ...], parent_lookup: "Scope", component: bool, owner: str) -> Any:
    """Elaborate an instance or component type declaration list."""
    types: list[Any] = []
    resolver = TypeResolver(lambda i: _index(types, i, "type"))
    out = ComponentTypeValue() if component else InstanceTypeValue()
    for d in decls:
        if d.kind == "type":
            types.append(_deftype(d.type, resolver, parent_lookup, owner))
        elif d.kind == "core type":
            pass
        elif d.kind == "alias":
            a = d.alias
            if a is None:
                raise error("ffi.component.malformed", f"{owner}: an alias declaration without its alias")
            if a.target == "outer" and a.sort == "type":
                # count 0 is this type's own space; 1 is the enclosing component
                if a.count == 0:
                    types.append(_index(types, a.index, "type"))
                else:
                    types.append(parent_lookup.outer(a.count - 1).get("type", a.index))
            elif a.target == "export" and a.sort == "type":
                inst = _index(types, a.instance, "type")
                types.append(inst.exports[a.name][1])
            else:
                types.append(None)
        elif d.kind in ("export", "import"):
            if d.desc is None or d.name is None:
                raise error("ffi.component.malformed", f"{owner}: an {d.kind} declaration without its name or type")
            value = _desc_value(d.desc, d.name, types, resolver, owner)
            target = out.exports if d.kind == "export" else out.imports  # type: ignore[union-attr]
            target[d.name] = (d.desc.kind if d.desc.kind != "instance" else "instance", value)
            if d.desc.kind == "type":
                types.append(value)
    return out


def _index(space: list[Any], i: int | None, sort: str) -> Any:
    if i is None:
        raise error("ffi.component.malformed", f"a {sort} reference without its index")
    if i >= len(space):
        raise error("ffi.component.malformed", f"{sort} index {i} out of range")
    return space[i]


def _deftype(d: Any, resolver: TypeResolver, scope: "Scope", owner: str) -> Any:
    if isinstance(d, cb.DefInstanceType):
        return _decls_type(d.decls, scope, False, owner)
    if isinstance(d, cb.DefComponentType):
        return _decls_type(d.decls, scope, True, owner)
    return resolver.define(d, owner)


def _desc_value(desc: cb.ExternDesc, name: str, types: list, resolver: TypeResolver, owner: str) -> Any:
    if desc.kind == "func":
        f = _index(types, desc.index, "type")
        if not isinstance(f, t.Function):
            raise error("ffi.component.malformed", f"{name}: type {desc.index} is not a function type")
        return name_function(f, name)
    if desc.kind == "type":
        if desc.bound[0] == "sub":
            return t.ResourceType(name, owner=owner)
        return rename(_index(types, desc.bound[1], "type"), name)
    if desc.kind in ("instance", "component"):
        return _index(types, desc.index, "type")
    return None


# --- the walk ----------------------------------------------------------------------------

def instantiate(ast: cb.Component, backend: Backend, args: dict[str, tuple[str, Any]] | None = None,
                parent: Scope | None = None, path: str = "root") -> Scope:
    """Walk `ast`.  `args` binds imports of nested components (name -> (sort, value));
    at the root, imports are bound through `backend.import_value`."""
    scope = Scope(backend, parent, path)
    resolver = TypeResolver(lambda i: scope.get("type", i))
    for d in ast.definitions:
        _define(scope, resolver, d, args)
    return scope


def _define(scope: Scope, resolver: TypeResolver, d: Any, args: dict | None) -> None:
    b = scope.backend
    if isinstance(d, cb.CoreModule):
        scope.add("core module", b.core_module(d))
    elif isinstance(d, cb.CoreInstantiate):
        module = scope.get("core module", d.module)
        inst_args = {name: scope.get("core instance", idx) for name, idx in d.args}
        scope.add("core instance", b.core_instantiate(module, inst_args))
    elif isinstance(d, cb.CoreInlineExports):
        scope.add("core instance", b.core_inline({name: scope.get(sort, idx) for name, sort, idx in d.exports}))
    elif isinstance(d, cb.CoreTypeDef):
        scope.add("core type", d.type)
    elif isinstance(d, cb.TypeDef):
        memo = b.type_memo
        if memo is None:
            value = _deftype(d.type, resolver, scope, scope.path)
        else:
            key = ("type", scope.path, len(scope.spaces["type"]))
            value = memo.get(key)
            if value is None:
                value = memo[key] = _deftype(d.type, resolver, scope, scope.path)
        if isinstance(value, t.ResourceType):
            scope.resources.append(value)
            dtor_index = d.type.dtor if isinstance(d.type, cb.DefResource) else None
            dtor = None if dtor_index is None else scope.get("core func", dtor_index)
            b.resource_defined(scope, value, dtor)
        scope.add("type", value)
    elif isinstance(d, cb.Alias):
        scope.add(d.sort, _alias(scope, d))
    elif isinstance(d, cb.Canon):
        _canon(scope, resolver, d)
    elif isinstance(d, cb.Import):
        _import(scope, resolver, d, args)
    elif isinstance(d, cb.Export):
        value = scope.get(d.sort, d.index)
        if d.sort == "func":
            ftype = value.type
            if d.desc is not None and d.desc.kind == "func":
                ftype = scope.get("type", d.desc.index)
            value = value.retyped(_named(b, scope, d, ftype))
        elif d.sort == "type":
            value = rename(value, d.name, b)
        scope.exports[d.name] = (d.sort, value)
        scope.add(d.sort, value)
    elif isinstance(d, cb.Component):
        scope.add("component", ComponentClosure(d, scope))
    elif isinstance(d, cb.Instantiate):
        closure = scope.get("component", d.component)
        if not isinstance(closure, ComponentClosure):
            raise error("ffi.component.unsupported", "instantiating an imported component is not supported")
        nested_args = {name: (sort, scope.get(sort, idx)) for name, sort, idx in d.args}
        inner = instantiate(closure.ast, b, nested_args, closure.scope,
                            f"{scope.path}/{len(scope.spaces['instance'])}")
        scope.add("instance", ComponentInstance(dict(inner.exports)))
    elif isinstance(d, cb.InlineExports):
        exports = {}
        for name, sort, idx in d.exports:
            value = scope.get(sort, idx)
            if sort == "func":
                value = value.retyped(name_function(value.type, name))
            elif sort == "type":
                value = rename(value, name, b)
            exports[name] = (sort, value)
        scope.add("instance", ComponentInstance(exports))
    elif isinstance(d, cb.Start):
        raise error("ffi.component.unsupported", "component start functions are not supported")
    else:  # pragma: no cover
        raise error("ffi.component.unsupported", f"unsupported definition {type(d).__name__}")


def _named(b: Backend, scope: Scope, d: cb.Export, ftype: t.Function) -> t.Function:
    """`name_function(ftype, d.name)`, once per component when the backend keeps a memo."""
    memo = b.type_memo
    if memo is None:
        return name_function(ftype, d.name)
    key = ("export", scope.path, id(d))
    named = memo.get(key)
    if named is None:
        named = memo[key] = name_function(ftype, d.name)
    return named


def _alias(scope: Scope, a: cb.Alias) -> Any:
    if a.target == "core export":
        inst = scope.get("core instance", a.instance)
        return scope.backend.core_export(inst, a.name, a.sort)
    if a.target == "export":
        inst = scope.get("instance", a.instance)
        exports = inst.exports
        if a.name not in exports:
            raise error("ffi.component.malformed", f"instance {a.instance} has no export {a.name!r}")
        sort, value = exports[a.name]
        if sort != a.sort and not (a.sort == "type" and sort == "type"):
            raise error("ffi.component.malformed", f"export {a.name!r} is a {sort}, not a {a.sort}")
        return value
    return scope.outer(a.count).get(a.sort, a.index)


def _canon(scope: Scope, resolver: TypeResolver, c: cb.Canon) -> None:
    b = scope.backend
    if c.kind == "lift":
        ftype = scope.get("type", c.type)
        if not isinstance(ftype, t.Function):
            raise error("ffi.component.malformed", f"canon lift: type {c.type} is not a function type")
        core = scope.get("core func", c.func)
        scope.add("func", b.lift(scope, core, c.options, ftype))
    elif c.kind == "lower":
        func = scope.get("func", c.func)
        scope.add("core func", b.lower(scope, func, c.options))
    else:
        rt = resolver.resource(c.type)
        scope.add("core func", b.resource_builtin(scope, c.kind, rt))


def _import(scope: Scope, resolver: TypeResolver, d: cb.Import, args: dict | None) -> None:
    desc = d.desc
    if args is not None:
        if d.name not in args:
            raise error("ffi.component.malformed", f"nested component import {d.name!r} not supplied")
        sort, value = args[d.name]
        if desc.kind == "func":
            declared = scope.get("type", desc.index)
            value = value.retyped(name_function(declared, d.name)) if isinstance(value, ComponentFunc) else value
        scope.imports[d.name] = (sort, value)
        scope.add(sort if sort != "core module" else "core module", value)
        return
    # root import: its declared type, bound by the backend
    if desc.kind == "func":
        ftype = name_function(scope.get("type", desc.index), d.name)
        value = scope.backend.import_value(scope, d.name, "func", ComponentFunc(ftype, origin=d.name))
        sort = "func"
    elif desc.kind == "instance":
        itype = scope.get("type", desc.index)
        _own_resources(itype, d.name, scope.path)
        exports = {}
        for name, (sort_, v) in itype.exports.items():
            if sort_ == "func":
                v = ComponentFunc(v, origin=f"{d.name}#{name}")
            exports[name] = (sort_, v)
        value = scope.backend.import_value(scope, d.name, "instance", ComponentInstance(exports))
        sort = "instance"
    elif desc.kind == "type":
        if desc.bound[0] == "sub":
            value = t.ResourceType(d.name, owner=None)
        else:
            value = rename(scope.get("type", desc.bound[1]), d.name)
        sort = "type"
    else:
        raise error("ffi.component.unsupported", f"import {d.name!r}: {desc.kind} imports are not supported")
    scope.imports[d.name] = (sort, value)
    scope.add(sort, value)


def _own_resources(itype: Any, owner: str, path: str) -> None:
    """Resources declared by an imported instance type belong to that interface (the
    first import that declares them; later imports that `use` them leave them be)."""
    if isinstance(itype, InstanceTypeValue):
        for _, (sort, v) in itype.exports.items():
            if isinstance(v, t.ResourceType) and v.owner in (None, path):
                object.__setattr__(v, "owner", owner)
