"""Type identity in component types: the type index spaces of a component (or of the
component and instance types declared in it) evaluated into `TypeNode`s.

Two references name the same type exactly when they reach the same node object, as the
component model defines it: an alias (`alias outer`, `alias export`) names the node it
aliases; every type definition makes a new node; an exported or imported type makes a
new node — with an `eq` bound an *alias node* of the type it equals, with a `sub
resource` bound a fresh resource.  This is what a reader of WIT encoded as a component
needs (which exported name refers to which definition); nothing here validates the
component beyond what evaluating it requires, and every inconsistency is a coded
`DiagnosticError` (`ffi.component.malformed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .. import types as t
from ..audit import DiagnosticError, error
from . import component as cb


class TypeNode:
    """One type of a type index space.  `kind` is "defined" (a value type: `body` is the
    decoder's Def* tree with its type references replaced by nodes or primitives),
    "resource", "alias" (`body` is the node it equals), "func" (`body` a `FuncBody`),
    "instance" / "component" (`body` an `InstanceBody` / `ComponentBody`)."""

    __slots__ = ("kind", "body", "depth")

    def __init__(self, kind: str, body: Any = None) -> None:
        self.kind = kind
        self.body = body
        self.depth = 1  # levels of value-type nesting (set by `define`; a primitive is one)

    def __repr__(self) -> str:
        return f"TypeNode({self.kind}@{id(self):x})"


ValRef = Union[TypeNode, t.PrimitiveType]


@dataclass(frozen=True)
class Entity:
    """What an import or export of a component/instance type is: sort "type" (with the
    node it refers to and the node it creates), "func", "instance" or "component"."""

    sort: str
    node: TypeNode                    # the created node for a type; the type otherwise
    referenced: TypeNode | None = None
    options: cb.NameOptions = cb.NO_OPTIONS


@dataclass
class FuncBody:
    params: list[tuple[str, ValRef]]
    result: ValRef | None
    is_async: bool = False


@dataclass
class InstanceBody:
    exports: dict[str, Entity] = field(default_factory=dict)


@dataclass
class ComponentBody:
    imports: dict[str, Entity] = field(default_factory=dict)
    exports: dict[str, Entity] = field(default_factory=dict)


def malformed(message: str) -> DiagnosticError:
    """The error for definitions that do not fit together."""
    return error("ffi.component.malformed", f"malformed component: {message}")


def peel(node: TypeNode) -> TypeNode:
    """The definition an alias node stands for (the node itself otherwise)."""
    seen = 0
    while node.kind == "alias":
        node = node.body
        seen += 1
        if seen > 10_000:  # aliases are made only of earlier nodes: this cannot loop
            raise malformed("alias chain too long")
    return node


class _Space:
    """The index spaces of one component or component/instance type while it is read."""

    def __init__(self, outer: "_Space | None") -> None:
        self.outer = outer
        self.types: list[TypeNode] = []
        self.instances: list[InstanceBody | None] = []

    def type(self, index: int | None) -> TypeNode:
        if index is None or not 0 <= index < len(self.types):
            raise malformed(f"type index {index} out of range ({len(self.types)} defined)")
        return self.types[index]

    def up(self, count: int) -> "_Space":
        space: _Space | None = self
        for _ in range(count):
            space = space.outer if space is not None else None
        if space is None:
            raise malformed(f"outer alias {count} levels out reaches past the outermost component")
        return space


def _val(space: _Space, ref: Any) -> ValRef:
    if isinstance(ref, t.PrimitiveType):
        return ref
    node = space.type(ref)
    if peel(node).kind not in ("defined", "resource"):
        raise malformed(f"type {ref} is not a value type")
    return node


def _opt_val(space: _Space, ref: Any) -> ValRef | None:
    return None if ref is None else _val(space, ref)


def _resource(space: _Space, index: int) -> TypeNode:
    node = space.type(index)
    if peel(node).kind != "resource":
        raise malformed(f"own/borrow of type {index}, which is not a resource")
    return node


MAX_TYPE_DEPTH = 100  # wasmparser's limit on nested value types (a primitive counts one level)


def _depth(ref: ValRef | None) -> int:
    if ref is None or isinstance(ref, t.PrimitiveType):
        return 0 if ref is None else 1
    return peel(ref).depth


def _refs(body: Any) -> list[Any]:
    """The value types a defined type or function body refers to directly."""
    if isinstance(body, FuncBody):
        return [r for _, r in body.params] + [body.result]
    if isinstance(body, cb.DefRecord):
        return [r for _, r in body.fields]
    if isinstance(body, cb.DefVariant):
        return [r for _, r in body.cases]
    if isinstance(body, cb.DefTuple):
        return list(body.elements)
    if isinstance(body, cb.DefList):
        return [body.element]
    if isinstance(body, cb.DefMap):
        return [body.key, body.value]
    if isinstance(body, cb.DefOption):
        return [body.inner]
    if isinstance(body, cb.DefResult):
        return [body.ok, body.err]
    if isinstance(body, (cb.DefStream, cb.DefFuture)):
        return [body.element]
    return []


def define(space: _Space, d: Any) -> TypeNode:
    """The node of a type definition (a Def* tree of the decoder) read in `space`;
    `ffi.component.malformed` past MAX_TYPE_DEPTH levels of value-type nesting (every
    later walk over the type recurses as deep)."""
    node = _define(space, d)
    if node.kind in ("defined", "func"):
        node.depth = 1 + max((_depth(r) for r in _refs(node.body)), default=0)
        if node.depth > MAX_TYPE_DEPTH:
            raise malformed(f"type nesting is too deep (more than {MAX_TYPE_DEPTH} levels)")
    return node


def _define(space: _Space, d: Any) -> TypeNode:
    if isinstance(d, cb.DefPrimitive):
        return TypeNode("defined", d)
    if isinstance(d, cb.DefRecord):
        return TypeNode("defined", cb.DefRecord(tuple((n, _val(space, r)) for n, r in d.fields)))
    if isinstance(d, cb.DefVariant):
        return TypeNode("defined", cb.DefVariant(tuple((n, _opt_val(space, r)) for n, r in d.cases)))
    if isinstance(d, cb.DefList):
        return TypeNode("defined", cb.DefList(_val(space, d.element), d.length))
    if isinstance(d, cb.DefMap):
        return TypeNode("defined", cb.DefMap(_val(space, d.key), _val(space, d.value)))
    if isinstance(d, cb.DefTuple):
        return TypeNode("defined", cb.DefTuple(tuple(_val(space, r) for r in d.elements)))
    if isinstance(d, (cb.DefFlags, cb.DefEnum)):
        return TypeNode("defined", d)
    if isinstance(d, cb.DefOption):
        return TypeNode("defined", cb.DefOption(_val(space, d.inner)))
    if isinstance(d, cb.DefResult):
        return TypeNode("defined", cb.DefResult(_opt_val(space, d.ok), _opt_val(space, d.err)))
    if isinstance(d, cb.DefOwn):
        return TypeNode("defined", cb.DefOwn(_resource(space, d.resource)))  # type: ignore[arg-type]
    if isinstance(d, cb.DefBorrow):
        return TypeNode("defined", cb.DefBorrow(_resource(space, d.resource)))  # type: ignore[arg-type]
    if isinstance(d, cb.DefStream):
        return TypeNode("defined", cb.DefStream(_opt_val(space, d.element)))
    if isinstance(d, cb.DefFuture):
        return TypeNode("defined", cb.DefFuture(_opt_val(space, d.element)))
    if isinstance(d, cb.DefResource):
        return TypeNode("resource", d)
    if isinstance(d, cb.DefFunc):
        return TypeNode("func", FuncBody([(n, _val(space, r)) for n, r in d.params],
                                         _opt_val(space, d.result), d.is_async))
    if isinstance(d, cb.DefInstanceType):
        return TypeNode("instance", _declarations(d.decls, _Space(space), component=False))
    if isinstance(d, cb.DefComponentType):
        return TypeNode("component", _declarations(d.decls, _Space(space), component=True))
    raise malformed(f"unsupported type definition {type(d).__name__}")


def _extern(space: _Space, desc: cb.ExternDesc | None, name: str, options: cb.NameOptions) -> Entity:
    """The entity an import/export declares; a type is also added to the type space."""
    if desc is None:
        raise malformed(f"`{name}` has no type")
    if desc.kind == "type":
        if desc.bound and desc.bound[0] == "eq":
            referenced = space.type(desc.bound[1])
            created = TypeNode("alias", referenced)
        else:
            referenced = created = TypeNode("resource")
        space.types.append(created)
        return Entity("type", created, referenced, options)
    if desc.kind in ("func", "instance", "component"):
        node = space.type(desc.index)
        if node.kind != desc.kind:
            raise malformed(f"`{name}` is declared a {desc.kind} with a {node.kind} type")
        return Entity(desc.kind, node, None, options)
    raise malformed(f"`{name}`: {desc.kind} imports and exports are not supported")


def _alias(space: _Space, a: cb.Alias | None) -> None:
    if a is None:
        raise malformed("an alias declaration without its alias")
    if a.sort == "type":
        if a.target == "outer":
            space.types.append(space.up(a.count).type(a.index))
        elif a.target == "export":
            inst = space.instances[a.instance] if 0 <= a.instance < len(space.instances) else None
            entity = None if inst is None else inst.exports.get(a.name)
            if entity is None or entity.sort != "type":
                raise malformed(f"instance {a.instance} exports no type `{a.name}`")
            space.types.append(entity.node)
        else:
            raise malformed("a core export alias of a type")
    elif a.sort == "instance" and a.target == "export":
        inst = space.instances[a.instance] if 0 <= a.instance < len(space.instances) else None
        entity = None if inst is None else inst.exports.get(a.name)
        if entity is None or entity.sort != "instance":
            raise malformed(f"instance {a.instance} exports no instance `{a.name}`")
        space.instances.append(entity.node.body)


def _declarations(decls: tuple, space: _Space, component: bool) -> Any:
    body: Any = ComponentBody() if component else InstanceBody()
    for d in decls:
        if d.kind == "type":
            space.types.append(define(space, d.type))
        elif d.kind == "alias":
            _alias(space, d.alias)
        elif d.kind in ("import", "export"):
            entity = _extern(space, d.desc, d.name or "", d.options or cb.NO_OPTIONS)
            target = body.exports if d.kind == "export" else body.imports
            if d.name in target:
                raise malformed(f"`{d.name}` is declared twice")
            target[d.name] = entity
            if entity.sort == "instance":
                space.instances.append(entity.node.body)
    return body


@dataclass
class Outline:
    """The types, imports and exports of a component that defines nothing but types."""

    imports: dict[str, Entity] = field(default_factory=dict)
    exports: dict[str, Entity] = field(default_factory=dict)
    runs_code: bool = False          # it has core modules, functions or instances


def outline(comp: cb.Component) -> Outline:
    """Evaluate the type definitions, type aliases, imports and type exports of `comp`
    (the shape of a WIT package encoded as a component).  Definitions of anything else
    (core modules, functions, instances) set `runs_code` and are not evaluated."""
    space = _Space(None)
    out = Outline()
    try:
        for d in comp.definitions:
            if isinstance(d, cb.TypeDef):
                space.types.append(define(space, d.type))
            elif isinstance(d, cb.Alias) and d.sort in ("type", "instance") and d.target != "core export":
                _alias(space, d)
            elif isinstance(d, cb.Import):
                entity = _extern(space, d.desc, d.name, d.options)
                out.imports[d.name] = entity
                if entity.sort == "instance":
                    space.instances.append(entity.node.body)
            elif isinstance(d, cb.Export) and d.sort == "type":
                node = space.type(d.index)
                out.exports[d.name] = Entity("type", node, node, d.options)
                space.types.append(node)
            elif isinstance(d, cb.CoreTypeDef):
                continue
            else:
                out.runs_code = True
                break
    except RecursionError:
        raise malformed("types nested too deeply") from None
    return out


# --- whole components: the types of their imports and exports ---------------------------

@dataclass(frozen=True)
class Extern:
    """One import or export of a component, in the order the binary lists them."""

    direction: str                   # "import" | "export"
    name: str
    entity: Entity


class _Closure:
    """A nested component definition with the scope it was defined in."""

    def __init__(self, ast: cb.Component, scope: "_Scope") -> None:
        self.ast = ast
        self.scope = scope


class _Scope(_Space):
    """The index spaces of a component being evaluated (core spaces are not kept)."""

    def __init__(self, outer: "_Scope | None") -> None:
        super().__init__(outer)
        self.funcs: list[TypeNode] = []
        self.components: list[_Closure | None] = []

    def func(self, index: int) -> TypeNode:
        if not 0 <= index < len(self.funcs):
            raise malformed(f"func index {index} out of range ({len(self.funcs)} defined)")
        return self.funcs[index]

    def instance(self, index: int) -> InstanceBody:
        if not 0 <= index < len(self.instances) or self.instances[index] is None:
            raise malformed(f"instance index {index} out of range or not a component instance")
        return self.instances[index]  # type: ignore[return-value]


def _bind(scope: _Scope, sort: str, value: Any) -> None:
    """Add `value` of `sort` to its index space."""
    if sort == "type":
        scope.types.append(value)
    elif sort == "func":
        scope.funcs.append(value)
    elif sort == "instance":
        scope.instances.append(value)
    elif sort == "component":
        scope.components.append(value if isinstance(value, _Closure) else None)


def _value(scope: _Scope, sort: str, index: int) -> Any:
    if sort == "type":
        return scope.type(index)
    if sort == "func":
        return scope.func(index)
    if sort == "instance":
        return scope.instance(index)
    if sort == "component":
        if not 0 <= index < len(scope.components):
            raise malformed(f"component index {index} out of range")
        return scope.components[index]
    raise malformed(f"a {sort} cannot be passed or exported here")


def _entity(sort: str, value: Any, options: cb.NameOptions = cb.NO_OPTIONS) -> Entity:
    if sort == "type":
        created = TypeNode("alias", value)
        return Entity("type", created, value, options)
    if sort == "instance":
        return Entity("instance", TypeNode("instance", value), None, options)
    return Entity(sort, value, None, options)


def _component_alias(scope: _Scope, a: cb.Alias) -> None:
    if a.target == "core export" or a.sort.startswith("core "):
        return
    if a.target == "outer":
        src = scope.up(a.count)
        if not isinstance(src, _Scope):  # pragma: no cover - scopes nest scopes
            raise malformed("outer alias out of a type")
        _bind(scope, a.sort, _value(src, a.sort, a.index))
        return
    entity = scope.instance(a.instance).exports.get(a.name)
    if entity is None or entity.sort != a.sort:
        raise malformed(f"instance {a.instance} exports no {a.sort} `{a.name}`")
    _bind(scope, a.sort, entity.node.body if a.sort == "instance" else entity.node)


def _run(ast: cb.Component, scope: _Scope, args: dict[str, tuple[str, Any]] | None,
         externs: list[Extern] | None) -> dict[str, Entity]:
    """Evaluate `ast`'s definitions; its exports.  `args` binds a nested component's
    imports (the arguments of its instantiation substitute its imported types)."""
    exports: dict[str, Entity] = {}
    for d in ast.definitions:
        if isinstance(d, cb.TypeDef):
            scope.types.append(define(scope, d.type))
        elif isinstance(d, cb.Alias):
            _component_alias(scope, d)
        elif isinstance(d, cb.Canon):
            if d.kind == "lift":
                node = scope.type(d.type)
                if node.kind != "func":
                    raise malformed(f"canon lift with type {d.type}, which is not a function type")
                scope.funcs.append(node)
        elif isinstance(d, cb.Import):
            if args is None:
                entity = _extern(scope, d.desc, d.name, d.options)
                if entity.sort != "type":
                    _bind(scope, entity.sort, entity.node.body if entity.sort == "instance" else entity.node)
                if externs is not None:
                    externs.append(Extern("import", d.name, entity))
            else:
                if d.name not in args:
                    raise malformed(f"nested component import `{d.name}` is not supplied")
                sort, value = args[d.name]
                if sort != d.desc.kind:
                    raise malformed(f"nested component import `{d.name}` is given a {sort}")
                _bind(scope, sort, value)
        elif isinstance(d, cb.Export):
            value = _value(scope, d.sort, d.index)
            if d.sort == "func" and d.desc is not None and d.desc.kind == "func":
                value = scope.type(d.desc.index)  # the ascribed type
            entity = _entity(d.sort, value, d.options)
            _bind(scope, d.sort, entity.node if d.sort == "type" else value)
            exports[d.name] = entity
            if externs is not None:
                externs.append(Extern("export", d.name, entity))
        elif isinstance(d, cb.Component):
            scope.components.append(_Closure(d, scope))
        elif isinstance(d, cb.Instantiate):
            closure = _value(scope, "component", d.component)
            if not isinstance(closure, _Closure):
                raise malformed("instantiating an imported component is not supported")
            bound = {name: (sort, _value(scope, sort, idx)) for name, sort, idx in d.args}
            inner = _Scope(closure.scope)
            scope.instances.append(InstanceBody(_run(closure.ast, inner, bound, None)))
        elif isinstance(d, cb.InlineExports):
            scope.instances.append(InstanceBody({name: _entity(sort, _value(scope, sort, idx))
                                                 for name, sort, idx in d.exports}))
        elif isinstance(d, cb.Start):
            raise malformed("component start functions are not supported")
        # core modules, core instances and core types live in core spaces: not needed
    return exports


def component_externs(comp: cb.Component) -> list[Extern]:
    """The imports and exports of a component with their types, in binary order (what
    a reader of the component's world needs)."""
    externs: list[Extern] = []
    try:
        _run(comp, _Scope(None), None, externs)
    except RecursionError:
        raise malformed("components or types nested too deeply") from None
    return externs
