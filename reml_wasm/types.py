"""The one type model of reml_wasm.

Every front-end (WIT, BID YAML, nyash.toml, C headers) resolves into these classes and
every back-end (Canonical ABI engine, connectors, emitters) consumes them.  Types are
immutable and compare structurally.  Named definitions (records, variants, enums, flags,
resources, aliases) carry their name; a reference to one is the definition object itself.

Resources are compared by identity key (name and owner), not by their functions: a
resource's methods mention `borrow<self>`, so comparing functions would recurse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal, Union

__all__ = [
    "Type", "PrimitiveType", "BOOL", "S8", "U8", "S16", "U16", "S32", "U32", "S64", "U64",
    "F32", "F64", "CHAR", "STRING", "ERROR_CONTEXT", "PRIMITIVES", "INTEGER_RANGES",
    "ListType", "MapType", "TupleType", "OptionType", "ResultType", "RecordType", "Field",
    "VariantType", "Case", "EnumType", "FlagsType", "ResourceType", "OwnType", "BorrowType",
    "StreamType", "FutureType", "TypeAlias", "Stability", "Param", "Function", "FunctionKind",
    "Interface", "WorldItem", "InterfaceItem", "FunctionItem", "TypeItem", "World",
    "PackageName", "Package", "unalias", "wit_name", "walk",
]

_WIT_KEYWORDS = frozenset("""
as async bool borrow char constructor enum export f32 f64 flags float32 float64 from func
future import include interface list map option own package record resource result s16 s32
s64 s8 static stream string tuple type u16 u32 u64 u8 use variant with world error-context
""".split())

_WIT_ID = re.compile(r"^[a-z][a-z0-9]*(-([a-z][a-z0-9]*|[A-Z][A-Z0-9]*))*$|^[A-Z][A-Z0-9]*(-([a-z][a-z0-9]*|[A-Z][A-Z0-9]*))*$")


def wit_name(name: str) -> str:
    """Render an identifier as WIT, escaping keywords with `%`."""
    return "%" + name if name in _WIT_KEYWORDS else name


class Type:
    """Base of every value type."""

    __slots__ = ()

    def wit(self) -> str:
        """The WIT text of a reference to this type."""
        raise NotImplementedError

    def children(self) -> tuple["Type", ...]:
        """Directly contained types (not following resource functions)."""
        return ()

    def __str__(self) -> str:
        return self.wit()


@dataclass(frozen=True)
class PrimitiveType(Type):
    name: str

    def wit(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name.upper().replace("-", "_")


BOOL = PrimitiveType("bool")
S8, U8 = PrimitiveType("s8"), PrimitiveType("u8")
S16, U16 = PrimitiveType("s16"), PrimitiveType("u16")
S32, U32 = PrimitiveType("s32"), PrimitiveType("u32")
S64, U64 = PrimitiveType("s64"), PrimitiveType("u64")
F32, F64 = PrimitiveType("f32"), PrimitiveType("f64")
CHAR = PrimitiveType("char")
STRING = PrimitiveType("string")
ERROR_CONTEXT = PrimitiveType("error-context")

PRIMITIVES: dict[str, PrimitiveType] = {
    t.name: t for t in (BOOL, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, CHAR, STRING, ERROR_CONTEXT)
}

INTEGER_RANGES: dict[PrimitiveType, tuple[int, int]] = {
    S8: (-(1 << 7), (1 << 7) - 1), U8: (0, (1 << 8) - 1),
    S16: (-(1 << 15), (1 << 15) - 1), U16: (0, (1 << 16) - 1),
    S32: (-(1 << 31), (1 << 31) - 1), U32: (0, (1 << 32) - 1),
    S64: (-(1 << 63), (1 << 63) - 1), U64: (0, (1 << 64) - 1),
}


@dataclass(frozen=True)
class Stability:
    """A feature gate: `@since(version = …)`, `@unstable(feature = …)`, `@deprecated(version = …)`."""

    kind: Literal["since", "unstable", "deprecated"]
    version: str | None = None
    feature: str | None = None

    def wit(self) -> str:
        if self.kind == "unstable":
            return f"@unstable(feature = {self.feature})"
        inner = f"version = {self.version}"
        if self.feature:
            inner += f", feature = {self.feature}"
        return f"@{self.kind}({inner})"


# --- anonymous (structural) types -------------------------------------------------------

@dataclass(frozen=True)
class ListType(Type):
    element: Type
    length: int | None = None  # list<T, N>: fixed length

    def wit(self) -> str:
        if self.length is None:
            return f"list<{self.element.wit()}>"
        return f"list<{self.element.wit()}, {self.length}>"

    def children(self) -> tuple[Type, ...]:
        return (self.element,)


@dataclass(frozen=True)
class MapType(Type):
    key: Type
    value: Type

    def wit(self) -> str:
        return f"map<{self.key.wit()}, {self.value.wit()}>"

    def children(self) -> tuple[Type, ...]:
        return (self.key, self.value)


@dataclass(frozen=True)
class TupleType(Type):
    elements: tuple[Type, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "elements", tuple(self.elements))

    def wit(self) -> str:
        return "tuple<" + ", ".join(e.wit() for e in self.elements) + ">"

    def children(self) -> tuple[Type, ...]:
        return self.elements


@dataclass(frozen=True)
class OptionType(Type):
    inner: Type

    def wit(self) -> str:
        return f"option<{self.inner.wit()}>"

    def children(self) -> tuple[Type, ...]:
        return (self.inner,)


@dataclass(frozen=True)
class ResultType(Type):
    """`result`, `result<T>`, `result<_, E>` and `result<T, E>`."""

    ok: Type | None = None
    err: Type | None = None

    def wit(self) -> str:
        if self.ok is None and self.err is None:
            return "result"
        if self.err is None:
            return f"result<{self.ok.wit()}>"  # type: ignore[union-attr]
        ok = "_" if self.ok is None else self.ok.wit()
        return f"result<{ok}, {self.err.wit()}>"

    def children(self) -> tuple[Type, ...]:
        return tuple(t for t in (self.ok, self.err) if t is not None)


@dataclass(frozen=True)
class StreamType(Type):
    element: Type | None = None

    def wit(self) -> str:
        return "stream" if self.element is None else f"stream<{self.element.wit()}>"

    def children(self) -> tuple[Type, ...]:
        return () if self.element is None else (self.element,)


@dataclass(frozen=True)
class FutureType(Type):
    element: Type | None = None

    def wit(self) -> str:
        return "future" if self.element is None else f"future<{self.element.wit()}>"

    def children(self) -> tuple[Type, ...]:
        return () if self.element is None else (self.element,)


# --- named definitions ------------------------------------------------------------------

class _Named(Type):
    """A type defined with a name; references print the name."""

    __slots__ = ()
    name: str

    def wit(self) -> str:
        return wit_name(self.name)

    def definition_wit(self) -> str:
        """The WIT text of the definition (`record point { … }`)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    docs: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RecordType(_Named):
    name: str
    fields: tuple[Field, ...]
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))

    def definition_wit(self) -> str:
        body = "".join(f"  {wit_name(f.name)}: {f.type.wit()},\n" for f in self.fields)
        return f"record {wit_name(self.name)} {{\n{body}}}"

    def children(self) -> tuple[Type, ...]:
        return tuple(f.type for f in self.fields)

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class Case:
    name: str
    type: Type | None = None
    docs: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class VariantType(_Named):
    name: str
    cases: tuple[Case, ...]
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", tuple(self.cases))

    def definition_wit(self) -> str:
        body = "".join(
            f"  {wit_name(c.name)}{'' if c.type is None else '(' + c.type.wit() + ')'},\n"
            for c in self.cases)
        return f"variant {wit_name(self.name)} {{\n{body}}}"

    def children(self) -> tuple[Type, ...]:
        return tuple(c.type for c in self.cases if c.type is not None)

    def case_index(self, name: str) -> int:
        for i, c in enumerate(self.cases):
            if c.name == name:
                return i
        raise KeyError(name)


@dataclass(frozen=True)
class EnumType(_Named):
    name: str
    cases: tuple[str, ...]
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", tuple(self.cases))

    def definition_wit(self) -> str:
        body = "".join(f"  {wit_name(c)},\n" for c in self.cases)
        return f"enum {wit_name(self.name)} {{\n{body}}}"


@dataclass(frozen=True)
class FlagsType(_Named):
    name: str
    labels: tuple[str, ...]
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))

    def definition_wit(self) -> str:
        body = "".join(f"  {wit_name(c)},\n" for c in self.labels)
        return f"flags {wit_name(self.name)} {{\n{body}}}"


@dataclass(frozen=True, eq=False)
class ResourceType(_Named):
    """A resource.  `owner` is the qualified name of the interface or world defining it
    (e.g. `demo:app/files@1.0.0`), part of its identity together with `name`.

    The functions are filled in once the resource exists (they mention `borrow<self>`);
    use `define` for that, never mutate otherwise."""

    name: str
    owner: str | None = None
    constructor: "Function | None" = None
    methods: tuple["Function", ...] = ()
    statics: tuple["Function", ...] = ()
    docs: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResourceType) and (self.name, self.owner) == (other.name, other.owner)

    def __hash__(self) -> int:
        # not the name: a component's resource is named when it is exported, after its
        # handle tables already hold it (equal resources still hash equal)
        return hash(("resource", self.owner))

    def __repr__(self) -> str:
        return f"ResourceType({self.name!r}, owner={self.owner!r})"

    def define(self, constructor: "Function | None" = None, methods: Iterable["Function"] = (),
               statics: Iterable["Function"] = ()) -> "ResourceType":
        object.__setattr__(self, "constructor", constructor)
        object.__setattr__(self, "methods", tuple(methods))
        object.__setattr__(self, "statics", tuple(statics))
        return self

    def functions(self) -> tuple["Function", ...]:
        head = () if self.constructor is None else (self.constructor,)
        return head + self.methods + self.statics

    def definition_wit(self) -> str:
        funcs = self.functions()
        if not funcs:
            return f"resource {wit_name(self.name)};"
        body = "".join(f"  {f.member_wit()};\n" for f in funcs)
        return f"resource {wit_name(self.name)} {{\n{body}}}"


@dataclass(frozen=True)
class OwnType(Type):
    resource: ResourceType
    # the name the handle was written with when that is an alias of the resource
    # (`type headers = fields;`): printing only, not part of the type's identity
    alias: str | None = field(default=None, compare=False)

    def wit(self) -> str:
        # `own<r>` and a bare `r` are the same type; the bare name is canonical WIT.
        return wit_name(self.alias) if self.alias else self.resource.wit()


@dataclass(frozen=True)
class BorrowType(Type):
    resource: ResourceType
    alias: str | None = field(default=None, compare=False)  # as OwnType.alias

    def wit(self) -> str:
        return f"borrow<{wit_name(self.alias) if self.alias else self.resource.wit()}>"


@dataclass(frozen=True)
class TypeAlias(_Named):
    """`type name = target` (also what `use` brings into scope under another name)."""

    name: str
    target: Type
    docs: str | None = field(default=None, compare=False)

    def definition_wit(self) -> str:
        return f"type {wit_name(self.name)} = {self.target.wit()};"

    def children(self) -> tuple[Type, ...]:
        return (self.target,)


def unalias(t: Type) -> Type:
    """Follow aliases to the type they name."""
    while isinstance(t, TypeAlias):
        t = t.target
    return t


def walk(t: Type) -> Iterator[Type]:
    """Every type reachable from `t` (pre-order, aliases followed, duplicates kept)."""
    stack = [t]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children()))


# --- functions, interfaces, worlds, packages --------------------------------------------

FunctionKind = Literal["freestanding", "method", "static", "constructor"]


@dataclass(frozen=True)
class Param:
    name: str
    type: Type


@dataclass(frozen=True)
class Function:
    """A function.  For resource functions `name` is the WIT member name (`open`), and
    `resource` names the resource; `qualified_name` gives the component-level name
    (`[method]file.open`, `[static]file.make`, `[constructor]file`)."""

    name: str
    params: tuple[Param, ...] = ()
    result: Type | None = None
    is_async: bool = False
    kind: FunctionKind = "freestanding"
    resource: str | None = None
    stability: Stability | None = None
    docs: str | None = field(default=None, compare=False)
    effects: tuple[str, ...] = field(default=(), compare=False)   # BID: pure, mut, io, control

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "effects", tuple(self.effects))

    @property
    def qualified_name(self) -> str:
        if self.kind == "freestanding":
            return self.name
        if self.kind == "constructor":
            return f"[constructor]{self.resource}"
        prefix = "[method]" if self.kind == "method" else "[static]"
        return f"{prefix}{self.resource}.{self.name}"

    def signature_wit(self) -> str:
        """`func(a: s32) -> s32` (the part after `name:`)."""
        params = self.params[1:] if self.kind == "method" else self.params
        head = "async func" if self.is_async else "func"
        text = head + "(" + ", ".join(f"{wit_name(p.name)}: {p.type.wit()}" for p in params) + ")"
        if self.result is not None and self.kind != "constructor":
            text += f" -> {self.result.wit()}"
        return text

    def wit(self) -> str:
        gate = "" if self.stability is None else self.stability.wit() + "\n"
        return f"{gate}{wit_name(self.name)}: {self.signature_wit()}"

    def member_wit(self) -> str:
        """The declaration inside a `resource { … }` block."""
        if self.kind == "constructor":
            params = ", ".join(f"{wit_name(p.name)}: {p.type.wit()}" for p in self.params)
            return f"constructor({params})"
        text = f"{wit_name(self.name)}: "
        if self.kind == "static":
            text += "static "
        return text + self.signature_wit()

    def param_types(self) -> tuple[Type, ...]:
        return tuple(p.type for p in self.params)


@dataclass(frozen=True)
class PackageName:
    namespace: str
    name: str
    version: str | None = None

    def __str__(self) -> str:
        base = f"{self.namespace}:{self.name}"
        return base if self.version is None else f"{base}@{self.version}"

    def qualify(self, item: str) -> str:
        """`ns:pkg/item@version`, the name used in component imports and exports."""
        base = f"{self.namespace}:{self.name}/{item}"
        return base if self.version is None else f"{base}@{self.version}"


@dataclass(frozen=True)
class Interface:
    """An interface: named type definitions (in order) and freestanding functions.
    Resource functions live on their `ResourceType`.  `name` is None for an
    interface written inline in a world without a name of its own."""

    name: str | None
    types: tuple[tuple[str, Type], ...] = ()
    functions: tuple[Function, ...] = ()
    package: PackageName | None = None
    stability: Stability | None = None
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(self.types))
        object.__setattr__(self, "functions", tuple(self.functions))

    @property
    def qualified_name(self) -> str | None:
        if self.name is None or self.package is None:
            return self.name
        return self.package.qualify(self.name)

    def type(self, name: str) -> Type:
        for n, t in self.types:
            if n == name:
                return t
        raise KeyError(name)

    def function(self, name: str) -> Function:
        """A function by its component-level name (freestanding or `[method]r.m`)."""
        for f in self.all_functions():
            if f.qualified_name == name or (f.kind == "freestanding" and f.name == name):
                return f
        raise KeyError(name)

    def all_functions(self) -> tuple[Function, ...]:
        """Freestanding functions, then every resource function in definition order."""
        out = list(self.functions)
        for _, t in self.types:
            if isinstance(t, ResourceType) and t.owner == self.qualified_name:
                out.extend(t.functions())
        return tuple(out)

    def definition_wit(self) -> str:
        lines = []
        for _, t in self.types:
            if isinstance(t, _Named):
                lines.append(t.definition_wit())
        for f in self.functions:
            lines.append(f.wit() + ";")
        body = "".join("  " + line.replace("\n", "\n  ") + "\n" for line in lines)
        return f"interface {wit_name(self.name or '')} {{\n{body}}}"


@dataclass(frozen=True)
class InterfaceItem:
    """A world import/export of an interface.  `key` is the name under which it appears
    in the component (`wasi:cli/stdout@0.2.0` or a plain name for inline interfaces)."""

    key: str
    interface: Interface
    stability: Stability | None = None


@dataclass(frozen=True)
class FunctionItem:
    function: Function

    @property
    def key(self) -> str:
        return self.function.qualified_name  # `f`, or `[method]r.m` for a world's resource


@dataclass(frozen=True)
class TypeItem:
    name: str
    type: Type

    @property
    def key(self) -> str:
        return self.name


WorldItem = Union[InterfaceItem, FunctionItem, TypeItem]


@dataclass(frozen=True)
class World:
    name: str
    imports: tuple[WorldItem, ...] = ()
    exports: tuple[WorldItem, ...] = ()
    package: PackageName | None = None
    stability: Stability | None = None
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "imports", tuple(self.imports))
        object.__setattr__(self, "exports", tuple(self.exports))

    def export(self, key: str) -> WorldItem:
        for item in self.exports:
            if item.key == key:
                return item
        raise KeyError(key)

    def import_(self, key: str) -> WorldItem:
        for item in self.imports:
            if item.key == key:
                return item
        raise KeyError(key)

    def exported_functions(self) -> Iterator[tuple[str | None, Function]]:
        """(interface key or None, function) for every exported function."""
        for item in self.exports:
            if isinstance(item, FunctionItem):
                yield None, item.function
            elif isinstance(item, InterfaceItem):
                for f in item.interface.all_functions():
                    yield item.key, f

    def imported_functions(self) -> Iterator[tuple[str | None, Function]]:
        for item in self.imports:
            if isinstance(item, FunctionItem):
                yield None, item.function
            elif isinstance(item, InterfaceItem):
                for f in item.interface.all_functions():
                    yield item.key, f


@dataclass(frozen=True)
class Package:
    name: PackageName
    interfaces: tuple[Interface, ...] = ()
    worlds: tuple[World, ...] = ()
    docs: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interfaces", tuple(self.interfaces))
        object.__setattr__(self, "worlds", tuple(self.worlds))

    def interface(self, name: str) -> Interface:
        for i in self.interfaces:
            if i.name == name:
                return i
        raise KeyError(name)

    def world(self, name: str) -> World:
        for w in self.worlds:
            if w.name == name:
                return w
        raise KeyError(name)
