"""The syntax tree of one WIT file, before names are resolved.

Every node carries a `span` (source + offset) so the resolver can report errors at the
place they were written.  Type expressions are `TypeExpr(kind, span, args, name, length)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Source, Span


@dataclass(slots=True)
class Ident:
    name: str
    span: Span


@dataclass(slots=True)
class Attr:
    """One gate attribute: `@since(version = v)`, `@unstable(feature = f)`, `@deprecated(version = v)`."""

    kind: str
    value: str
    span: Span


@dataclass(slots=True)
class TypeExpr:
    """kind: a primitive name, `name` (a reference), list, map, tuple, option, result,
    own, borrow, stream, future.  `args` holds the inner type expressions (None for
    `_` in `result<_, E>` and a missing ok/err/element)."""

    kind: str
    span: Span
    args: tuple = ()
    name: Ident | None = None
    length: int | None = None


@dataclass(slots=True)
class Param:
    name: Ident
    type: TypeExpr


@dataclass(slots=True)
class FuncType:
    is_async: bool
    params: list[Param]
    result: TypeExpr | None
    span: Span


@dataclass(slots=True)
class Func:
    """`name: func(...)` in an interface or world, or a resource member."""

    name: Ident
    type: FuncType
    docs: str | None
    attrs: list[Attr]
    member: str = "freestanding"  # freestanding | method | static | constructor


@dataclass(slots=True)
class Field:
    name: Ident
    type: TypeExpr | None  # None for enum/flags labels and payload-less cases
    docs: str | None


@dataclass(slots=True)
class TypeDef:
    """kind: record, variant, enum, flags, resource, alias."""

    kind: str
    name: Ident
    docs: str | None
    attrs: list[Attr]
    fields: list[Field] = field(default_factory=list)
    target: TypeExpr | None = None  # alias
    functions: list[Func] | None = None  # resource; None for `resource r;`


@dataclass(slots=True)
class UsePath:
    """A local name (`iface`) or a package path (`ns:pkg/iface@1.0.0`)."""

    name: Ident
    namespace: Ident | None = None
    package: Ident | None = None
    version: str | None = None

    @property
    def span(self) -> Span:
        return (self.namespace or self.name).span

    def package_key(self) -> tuple[str, str] | None:
        return None if self.namespace is None else (self.namespace.name, self.package.name)  # type: ignore[union-attr]

    def __str__(self) -> str:
        if self.namespace is None:
            return self.name.name
        text = f"{self.namespace.name}:{self.package.name}/{self.name.name}"  # type: ignore[union-attr]
        return text if self.version is None else f"{text}@{self.version}"


@dataclass(slots=True)
class Use:
    path: UsePath
    names: list[tuple[Ident, Ident | None]]
    attrs: list[Attr]
    span: Span


@dataclass(slots=True)
class TopUse:
    path: UsePath
    alias: Ident | None
    attrs: list[Attr]
    span: Span


@dataclass(slots=True)
class Interface:
    name: Ident | None
    docs: str | None
    attrs: list[Attr]
    items: list  # TypeDef | Use | Func
    span: Span


@dataclass(slots=True)
class Extern:
    """An import or export: of a function or inline interface under a name, or of a path."""

    direction: str
    docs: str | None
    attrs: list[Attr]
    span: Span
    name: Ident | None = None
    func: FuncType | None = None
    interface: Interface | None = None
    path: UsePath | None = None


@dataclass(slots=True)
class Include:
    path: UsePath
    renames: list[tuple[Ident, Ident]]
    attrs: list[Attr]
    span: Span


@dataclass(slots=True)
class World:
    name: Ident
    docs: str | None
    attrs: list[Attr]
    items: list  # Extern | Use | TypeDef | Include
    span: Span


@dataclass(slots=True)
class PackageDecl:
    namespace: Ident
    name: Ident
    version: str | None
    docs: str | None
    span: Span

    def key(self) -> tuple[str, str]:
        return (self.namespace.name, self.name.name)

    def __str__(self) -> str:
        base = f"{self.namespace.name}:{self.name.name}"
        return base if self.version is None else f"{base}@{self.version}"


@dataclass(slots=True)
class PackageBody:
    """Items belonging to one package inside one file (a whole file, or a nested block)."""

    decl: PackageDecl | None
    items: list  # Interface | World | TopUse
    source: Source
    nested: bool = False


@dataclass(slots=True)
class File:
    source: Source
    bodies: list[PackageBody]  # bodies[0] is the file's own (top-level) package
