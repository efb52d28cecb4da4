"""What the Reml bindings of one WIT world contain, and every Reml name in them.

Walks the world's imports, then its exports: the type definitions of each imported or
exported interface (in WIT order), world-level types, then every named type a function
reaches (resource functions included).  Each named definition appears once, after the
definitions it refers to.  A `use` that keeps the name (`use a.{point}`) is the used
type itself; `use a.{point as p}` is an alias `p`.

Names: one name space for types, one for functions.  When two definitions want the same
Reml name the later one is prefixed with its interface's name (`files_error`), then
numbered (`error_2`).  Resource functions are `<resource>_new` (constructor) and
`<resource>_<name>` (methods and statics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .. import types as t
from .typemap import (NAMED, definition_kind, label_ident, reml_type, snake, type_ident, value_ident)

Direction = Literal["import", "export"]


@dataclass
class TypeEntry:
    """One named WIT definition and its Reml declaration."""

    type: t.Type
    wit_name: str
    kind: str
    interface: str | None      # the interface key it came from; None: world level
    reml_name: str
    labels: tuple[tuple[str, str], ...] = ()   # (WIT label, Reml label): enum, variant, flags
    fields: tuple[tuple[str, str], ...] = ()   # (WIT field, Reml field): record
    flag_enum: str | None = None               # flags: the enum of single flags


@dataclass
class FunctionEntry:
    function: t.Function
    direction: Direction
    interface: str | None
    reml_name: str
    params: tuple[tuple[str, str, str], ...]   # (WIT name, Reml name, Reml type)
    result: str


@dataclass
class FunctionGroup:
    """Functions of one interface (or of the world itself) in one direction: one block."""

    direction: Direction
    interface: str | None
    functions: list[FunctionEntry] = field(default_factory=list)


@dataclass
class Bindings:
    world: t.World
    world_key: str
    types: list[TypeEntry]
    groups: list[FunctionGroup]
    structural: list[tuple[str, str]]          # (WIT text, Reml text) of anonymous types, first use first
    entries: dict[t.Type, TypeEntry]           # every named type met (a kept-name `use` maps to its target)

    def reml_name(self, typ: t.Type) -> str:
        return self.entries[typ].reml_name


class _Names:
    """A name space: hands out each name once."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, wanted: str, prefix: str | None = None) -> str:
        candidates = [wanted] + ([f"{prefix}_{wanted}"] if prefix else [])
        for c in candidates:
            if c not in self.taken:
                self.taken.add(c)
                return c
        n = 2
        while f"{wanted}_{n}" in self.taken:
            n += 1
        self.taken.add(f"{wanted}_{n}")
        return f"{wanted}_{n}"


def _interface_prefix(key: str | None) -> str | None:
    """`ns:pkg/files@1.0` -> `files`."""
    if key is None:
        return None
    return snake(key.rsplit("/", 1)[-1].split("@", 1)[0].replace(":", "-"))


def _unique_labels(labels: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names = _Names()
    return tuple((label, names.claim(label_ident(label))) for label in labels)


class _Planner:
    def __init__(self, world: t.World) -> None:
        self.world = world
        self.entries: dict[t.Type, TypeEntry] = {}
        self.types: list[TypeEntry] = []
        self.type_names = _Names()
        self.function_names = _Names()
        self.structural: dict[str, str] = {}
        self.in_progress: set[t.Type] = set()

    def name_of(self, typ: t.Type) -> str:
        entry = self.entries.get(typ)
        if entry is None:
            # A definition met only while spelling (should not happen: walks come first).
            self.define(typ, None)
            entry = self.entries[typ]
        return entry.reml_name

    def spell(self, typ: t.Type | None) -> str:
        text = reml_type(typ, self.name_of)
        self.note_structural(typ)
        return text

    def note_structural(self, typ: t.Type | None) -> None:
        """Record the anonymous types inside `typ` (outermost first) for the manifest."""
        if typ is None or isinstance(typ, NAMED):
            return
        if not isinstance(typ, t.PrimitiveType):
            wit = f"own<{typ.wit()}>" if isinstance(typ, t.OwnType) else typ.wit()
            if wit not in self.structural:
                self.structural[wit] = reml_type(typ, self.name_of)
        elif typ.name not in self.structural:
            self.structural[typ.name] = reml_type(typ, self.name_of)
        if isinstance(typ, (t.OwnType, t.BorrowType)):
            return
        for child in typ.children():
            self.note_structural(child)

    # --- collecting definitions ---------------------------------------------------------

    def visit(self, typ: t.Type | None, owner: str | None) -> None:
        """Define every named type inside a type expression."""
        if typ is None:
            return
        if isinstance(typ, NAMED):
            self.define(typ, owner)
        elif isinstance(typ, (t.OwnType, t.BorrowType)):
            self.define(typ.resource, owner)
        else:
            for child in typ.children():
                self.visit(child, owner)

    def define(self, typ: t.Type, owner: str | None) -> None:
        if isinstance(typ, t.TypeAlias) and isinstance(typ.target, NAMED) and typ.target.name == typ.name:
            self.define(typ.target, owner)          # `use a.{x}`: the type itself
            self.entries[typ] = self.entries[typ.target]
            return
        if typ in self.entries or typ in self.in_progress:
            return
        self.in_progress.add(typ)
        if not isinstance(typ, t.ResourceType):
            for child in typ.children():
                self.visit(child, owner)
        if typ in self.entries:
            return
        self.in_progress.discard(typ)
        entry = self.entry(typ, owner)
        self.entries[typ] = entry
        self.types.append(entry)
        if isinstance(typ, t.ResourceType):
            for fn in typ.functions():
                for p in fn.params:
                    self.visit(p.type, owner)
                self.visit(fn.result, owner)

    def entry(self, typ: t.Type, owner: str | None) -> TypeEntry:
        name: str = typ.name  # type: ignore[attr-defined]
        reml = self.type_names.claim(type_ident(name), _interface_prefix(owner))
        e = TypeEntry(typ, name, definition_kind(typ), owner, reml)
        if isinstance(typ, t.RecordType):
            e.fields = tuple((f.name, value_ident(f.name)) for f in typ.fields)
        elif isinstance(typ, t.VariantType):
            e.labels = _unique_labels(tuple(c.name for c in typ.cases))
        elif isinstance(typ, t.EnumType):
            e.labels = _unique_labels(typ.cases)
        elif isinstance(typ, t.FlagsType):
            e.labels = _unique_labels(typ.labels)
            e.flag_enum = self.type_names.claim(reml + "_flag")
        return e

    # --- functions -----------------------------------------------------------------------

    def function(self, fn: t.Function, direction: Direction, interface: str | None,
                 resource: t.ResourceType | None) -> FunctionEntry:
        if fn.kind == "freestanding" or resource is None:
            wanted = value_ident(fn.name if fn.kind == "freestanding" else fn.qualified_name)
        else:
            res = self.name_of(resource)
            wanted = f"{res}_new" if fn.kind == "constructor" else f"{res}_{snake(fn.name)}"
        reml = self.function_names.claim(wanted, _interface_prefix(interface))
        params = []
        for i, p in enumerate(fn.params):
            pname = "self" if fn.kind == "method" and i == 0 else value_ident(p.name)
            params.append((p.name, pname, self.spell(p.type)))
        return FunctionEntry(fn, direction, interface, reml, tuple(params), self.spell(fn.result))

    def plan(self, world_key: str) -> Bindings:
        sides: tuple[tuple[Direction, tuple[t.WorldItem, ...]], ...] = (
            ("import", self.world.imports), ("export", self.world.exports))
        world_resources = {item.type.name: item.type for _, items in sides for item in items
                           if isinstance(item, t.TypeItem) and isinstance(item.type, t.ResourceType)}
        for _, items in sides:
            for item in items:
                if isinstance(item, t.InterfaceItem):
                    for _, typ in item.interface.types:
                        self.define(typ, item.key)
                elif isinstance(item, t.TypeItem):
                    self.define(item.type, None)
        funcs: list[tuple[Direction, str | None, t.Function, t.ResourceType | None]] = []
        for direction, items in sides:
            for item in items:
                if isinstance(item, t.InterfaceItem):
                    iface = item.interface
                    funcs += [(direction, item.key, f, None) for f in iface.functions]
                    for _, typ in iface.types:
                        if isinstance(typ, t.ResourceType) and typ.owner == iface.qualified_name:
                            funcs += [(direction, item.key, f, typ) for f in typ.functions()]
                elif isinstance(item, t.FunctionItem):
                    fn = item.function
                    funcs.append((direction, None, fn, world_resources.get(fn.resource or "")))
        for _, owner, fn, _ in funcs:
            for p in fn.params:
                self.visit(p.type, owner)
            self.visit(fn.result, owner)
        for e in self.types:                       # anonymous types inside definitions
            for child in e.type.children():
                self.note_structural(child)
        groups: list[FunctionGroup] = []
        for direction, owner, fn, resource in funcs:
            if not groups or (groups[-1].direction, groups[-1].interface) != (direction, owner):
                groups.append(FunctionGroup(direction, owner))
            groups[-1].functions.append(self.function(fn, direction, owner, resource))
        return Bindings(self.world, world_key, self.types, groups, list(self.structural.items()), self.entries)


def plan(world: t.World) -> Bindings:
    """The bindings of `world` (its package, when known, qualifies the world's name)."""
    key = world.name if world.package is None else world.package.qualify(world.name)
    return _Planner(world).plan(key)
