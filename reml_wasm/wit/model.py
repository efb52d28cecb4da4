"""The resolved WIT graph: arenas of types, interfaces, worlds and packages.

This mirrors wit-parser's `Resolve` (what `wasm-tools component wit --json` prints):
everything refers to everything else by index.  A type reference `Ty` is a primitive
name (`"u32"`) or an index into `Model.types`.  The JSON exporter, the printer and the
conversion into `reml_wasm.types` all read this model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Union

from ..package_name import PackageName
from .diagnostics import Span

Ty = Union[str, int]


@dataclass(frozen=True)
class Gate:
    """A resolved feature gate: `@since(version = …)` or `@unstable(feature = …)`,
    either optionally with `@deprecated(version = …)`."""

    since: str | None = None
    feature: str | None = None
    deprecated: str | None = None

    def to_json(self) -> dict[str, dict[str, str | None]]:
        inner: dict[str, str | None]
        if self.since is not None:
            inner = {"since": self.since}
            key = "stable"
        else:
            inner = {"feature": self.feature}
            key = "unstable"
        if self.deprecated is not None:
            inner["deprecated"] = self.deprecated
        return {key: inner}

# TypeDef.kind is a tuple whose first element names the kind:
#   ("record", [(name, Ty, docs)])      ("variant", [(name, Ty | None, docs)])
#   ("enum", [(name, docs)])            ("flags", [(name, docs)])
#   ("resource",)                       ("type", Ty)            an alias
#   ("handle", "own" | "borrow", id)    ("tuple", [Ty])         ("option", Ty)
#   ("result", Ty | None, Ty | None)    ("list", Ty)            ("fixed-length-list", Ty, n)
#   ("map", Ty, Ty)                     ("future", Ty | None)   ("stream", Ty | None)


@dataclass
class TypeDef:
    name: str | None
    kind: tuple
    owner: tuple[str, int] | None = None  # ("interface", id) | ("world", id)
    docs: str | None = None
    stability: Gate | None = None
    span: Span | None = None
    external_id: str | None = None  # `@external-id("…")`


@dataclass
class Function:
    name: str  # component-level name: `f`, `[method]r.m`, `[static]r.m`, `[constructor]r`
    kind: str  # freestanding | method | static | constructor (async- prefix when async)
    params: list[tuple[str, Ty]]
    result: Ty | None
    resource: int | None = None
    docs: str | None = None
    stability: Gate | None = None
    span: Span | None = None
    external_id: str | None = None  # `@external-id("…")`

    @property
    def is_async(self) -> bool:
        return self.kind.startswith("async-")

    @property
    def base_kind(self) -> str:
        return self.kind[6:] if self.kind.startswith("async-") else self.kind


@dataclass
class InterfaceDef:
    name: str | None
    package: int | None
    types: dict[str, int] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    docs: str | None = None
    stability: Gate | None = None
    span: Span | None = None
    clone_of: int | None = None  # an inline interface copied by `include`


# World item: ("interface", interface id, stability, docs, external id) | ("function", Function) | ("type", type id)
# World key: a plain name, or ("interface", id) for an interface imported by its path.
WorldKey = Union[str, tuple]


@dataclass
class WorldDef:
    name: str
    package: int | None
    imports: dict = field(default_factory=dict)
    exports: dict = field(default_factory=dict)
    docs: str | None = None
    stability: Gate | None = None
    span: Span | None = None


@dataclass
class PackageDef:
    name: PackageName
    docs: str | None = None
    interfaces: dict[str, int] = field(default_factory=dict)
    worlds: dict[str, int] = field(default_factory=dict)


@dataclass
class Model:
    types: list[TypeDef] = field(default_factory=list)
    interfaces: list[InterfaceDef] = field(default_factory=list)
    worlds: list[WorldDef] = field(default_factory=list)
    packages: list[PackageDef] = field(default_factory=list)

    def unalias(self, ty: Ty) -> Ty:
        while isinstance(ty, int) and self.types[ty].kind[0] == "type":
            ty = self.types[ty].kind[1]
        return ty

    def is_resource(self, ty: Ty) -> bool:
        ty = self.unalias(ty)
        return isinstance(ty, int) and self.types[ty].kind[0] == "resource"

    def interface_qualified(self, iid: int) -> str | None:
        iface = self.interfaces[iid]
        if iface.name is None or iface.package is None:
            return iface.name
        return self.packages[iface.package].name.qualify(iface.name)


def map_kind(kind: tuple, f: Callable) -> tuple:
    """`kind` with every contained type reference passed through `f` (aliases and
    handle targets included)."""
    k = kind[0]
    if k in ("record", "variant"):
        return (k, tuple((n, None if t is None else f(t), d) for n, t, d in kind[1]))
    if k == "tuple":
        return ("tuple", tuple(f(t) for t in kind[1]))
    if k in ("option", "list", "future", "stream", "type"):
        return (k, None if kind[1] is None else f(kind[1]))
    if k in ("result", "map"):
        return (k, None if kind[1] is None else f(kind[1]), None if kind[2] is None else f(kind[2]))
    if k == "fixed-length-list":
        return (k, f(kind[1]), kind[2])
    if k == "handle":
        return (k, kind[1], f(kind[2]))
    return kind


def kind_refs(kind: tuple) -> Iterable[Ty]:
    k = kind[0]
    if k in ("record", "variant"):
        return [t for _, t, _ in kind[1] if t is not None]
    if k == "tuple":
        return list(kind[1])
    if k in ("type", "option", "list", "future", "stream", "fixed-length-list"):
        return [kind[1]] if kind[1] is not None else []
    if k in ("result", "map"):
        return [t for t in kind[1:3] if t is not None]
    return []


def contains_borrow(model: Model, ty: Ty, seen: set) -> bool:
    if not isinstance(ty, int) or ty in seen:
        return False
    seen.add(ty)
    kind = model.types[ty].kind
    if kind[0] == "handle":
        return kind[1] == "borrow"
    return any(contains_borrow(model, t, seen) for t in kind_refs(kind))
