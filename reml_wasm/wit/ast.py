"""The syntax tree of one WIT file, before names are resolved.

Every node carries a `span` (source + offset) so the resolver can report errors at the
place they were written (names and type expressions keep source and offset, and make
their `span` when asked).  Type expressions are `TypeExpr(kind, source, offset, args, name, length)`.
"""

from __future__ import annotations

from .diagnostics import Source, Span


class _Node:
    """Base of the syntax tree's classes: plain slotted classes (cheaper to define and to
    build than dataclasses, as the parser makes tens of thousands of nodes), compared
    field by field."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Ident(_Node):
    """A name and where it was written (its `span` is made when asked for: the parser
    makes one Ident per name, and most spans are never needed)."""

    name: str
    source: Source
    offset: int

    __slots__ = ("name", "source", "offset")

    def __init__(self, name: str, source: Source, offset: int) -> None:
        self.name = name
        self.source = source
        self.offset = offset

    @property
    def span(self) -> Span:
        return Span(self.source, self.offset)


class Attr(_Node):
    """One gate attribute: `@since(version = v)`, `@unstable(feature = f)`, `@deprecated(version = v)`."""

    kind: str
    value: str
    span: Span

    __slots__ = ("kind", "value", "span")

    def __init__(self, kind: str, value: str, span: Span) -> None:
        self.kind = kind
        self.value = value
        self.span = span


class TypeExpr(_Node):
    """kind: a primitive name, `name` (a reference), list, map, tuple, option, result,
    own, borrow, stream, future.  `args` holds the inner type expressions (None for
    `_` in `result<_, E>` and a missing ok/err/element)."""

    kind: str
    source: Source
    offset: int
    args: tuple
    name: Ident | None
    length: int | None

    __slots__ = ("kind", "source", "offset", "args", "name", "length")

    def __init__(self, kind: str, source: Source, offset: int, args: tuple = (), name: Ident | None = None,
                 length: int | None = None) -> None:
        self.kind = kind
        self.source = source
        self.offset = offset
        self.args = args
        self.name = name
        self.length = length

    @property
    def span(self) -> Span:
        return Span(self.source, self.offset)


class Param(_Node):
    name: Ident
    type: TypeExpr

    __slots__ = ("name", "type")

    def __init__(self, name: Ident, type: TypeExpr) -> None:
        self.name = name
        self.type = type


class FuncType(_Node):
    is_async: bool
    params: list[Param]
    result: TypeExpr | None
    span: Span

    __slots__ = ("is_async", "params", "result", "span")

    def __init__(self, is_async: bool, params: list[Param], result: TypeExpr | None, span: Span) -> None:
        self.is_async = is_async
        self.params = params
        self.result = result
        self.span = span


class Func(_Node):
    """`name: func(...)` in an interface or world, or a resource member."""

    name: Ident
    type: FuncType
    docs: str | None
    attrs: list[Attr]
    member: str  # freestanding | method | static | constructor

    __slots__ = ("name", "type", "docs", "attrs", "member")

    def __init__(self, name: Ident, type: FuncType, docs: str | None, attrs: list[Attr],
                 member: str = "freestanding") -> None:
        self.name = name
        self.type = type
        self.docs = docs
        self.attrs = attrs
        self.member = member


class Field(_Node):
    name: Ident
    type: TypeExpr | None  # None for enum/flags labels and payload-less cases
    docs: str | None

    __slots__ = ("name", "type", "docs")

    def __init__(self, name: Ident, type: TypeExpr | None, docs: str | None) -> None:
        self.name = name
        self.type = type
        self.docs = docs


class TypeDef(_Node):
    """kind: record, variant, enum, flags, resource, alias."""

    kind: str
    name: Ident
    docs: str | None
    attrs: list[Attr]
    fields: list[Field]
    target: TypeExpr | None  # alias
    functions: list[Func] | None  # resource; None for `resource r;`

    __slots__ = ("kind", "name", "docs", "attrs", "fields", "target", "functions")

    def __init__(self, kind: str, name: Ident, docs: str | None, attrs: list[Attr],
                 fields: list[Field] | None = None, target: TypeExpr | None = None,
                 functions: list[Func] | None = None) -> None:
        self.kind = kind
        self.name = name
        self.docs = docs
        self.attrs = attrs
        self.fields = [] if fields is None else fields
        self.target = target
        self.functions = functions


class UsePath(_Node):
    """A local name (`iface`) or a package path (`ns:pkg/iface@1.0.0`)."""

    name: Ident
    namespace: Ident | None
    package: Ident | None
    version: str | None

    __slots__ = ("name", "namespace", "package", "version")

    def __init__(self, name: Ident, namespace: Ident | None = None, package: Ident | None = None,
                 version: str | None = None) -> None:
        self.name = name
        self.namespace = namespace
        self.package = package
        self.version = version

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


class Use(_Node):
    path: UsePath
    names: list[tuple[Ident, Ident | None]]
    attrs: list[Attr]
    span: Span

    __slots__ = ("path", "names", "attrs", "span")

    def __init__(self, path: UsePath, names: list[tuple[Ident, Ident | None]], attrs: list[Attr],
                 span: Span) -> None:
        self.path = path
        self.names = names
        self.attrs = attrs
        self.span = span


class TopUse(_Node):
    path: UsePath
    alias: Ident | None
    attrs: list[Attr]
    span: Span

    __slots__ = ("path", "alias", "attrs", "span")

    def __init__(self, path: UsePath, alias: Ident | None, attrs: list[Attr], span: Span) -> None:
        self.path = path
        self.alias = alias
        self.attrs = attrs
        self.span = span


class Interface(_Node):
    name: Ident | None
    docs: str | None
    attrs: list[Attr]
    items: list  # TypeDef | Use | Func
    span: Span

    __slots__ = ("name", "docs", "attrs", "items", "span")

    def __init__(self, name: Ident | None, docs: str | None, attrs: list[Attr], items: list, span: Span) -> None:
        self.name = name
        self.docs = docs
        self.attrs = attrs
        self.items = items
        self.span = span


class Extern(_Node):
    """An import or export: of a function or inline interface under a name, or of a path."""

    direction: str
    docs: str | None
    attrs: list[Attr]
    span: Span
    name: Ident | None
    func: FuncType | None
    interface: Interface | None
    path: UsePath | None

    __slots__ = ("direction", "docs", "attrs", "span", "name", "func", "interface", "path")

    def __init__(self, direction: str, docs: str | None, attrs: list[Attr], span: Span,
                 name: Ident | None = None, func: FuncType | None = None,
                 interface: Interface | None = None, path: UsePath | None = None) -> None:
        self.direction = direction
        self.docs = docs
        self.attrs = attrs
        self.span = span
        self.name = name
        self.func = func
        self.interface = interface
        self.path = path


class Include(_Node):
    path: UsePath
    renames: list[tuple[Ident, Ident]]
    attrs: list[Attr]
    span: Span

    __slots__ = ("path", "renames", "attrs", "span")

    def __init__(self, path: UsePath, renames: list[tuple[Ident, Ident]], attrs: list[Attr], span: Span) -> None:
        self.path = path
        self.renames = renames
        self.attrs = attrs
        self.span = span


class World(_Node):
    name: Ident
    docs: str | None
    attrs: list[Attr]
    items: list  # Extern | Use | TypeDef | Include
    span: Span

    __slots__ = ("name", "docs", "attrs", "items", "span")

    def __init__(self, name: Ident, docs: str | None, attrs: list[Attr], items: list, span: Span) -> None:
        self.name = name
        self.docs = docs
        self.attrs = attrs
        self.items = items
        self.span = span


class PackageDecl(_Node):
    namespace: Ident
    name: Ident
    version: str | None
    docs: str | None
    span: Span

    __slots__ = ("namespace", "name", "version", "docs", "span")

    def __init__(self, namespace: Ident, name: Ident, version: str | None, docs: str | None, span: Span) -> None:
        self.namespace = namespace
        self.name = name
        self.version = version
        self.docs = docs
        self.span = span

    def key(self) -> tuple[str, str]:
        return (self.namespace.name, self.name.name)

    def __str__(self) -> str:
        base = f"{self.namespace.name}:{self.name.name}"
        return base if self.version is None else f"{base}@{self.version}"


class PackageBody(_Node):
    """Items belonging to one package inside one file (a whole file, or a nested block)."""

    decl: PackageDecl | None
    items: list  # Interface | World | TopUse
    source: Source
    nested: bool

    __slots__ = ("decl", "items", "source", "nested")

    def __init__(self, decl: PackageDecl | None, items: list, source: Source, nested: bool = False) -> None:
        self.decl = decl
        self.items = items
        self.source = source
        self.nested = nested


class File(_Node):
    source: Source
    bodies: list[PackageBody]  # bodies[0] is the file's own (top-level) package

    __slots__ = ("source", "bodies")

    def __init__(self, source: Source, bodies: list[PackageBody]) -> None:
        self.source = source
        self.bodies = bodies
