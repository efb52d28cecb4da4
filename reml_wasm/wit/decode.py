"""WIT packages encoded as components, read back into the resolved model.

A WIT package travels as a component that defines only types (what `wasm-tools
component wit --wasm` writes): each interface and world of the package is an exported
component type whose single export is the interface (an instance type, importing the
interfaces it uses) or the world (a component type).  Documentation and feature gates
travel beside it in the `package-docs` custom section (a version byte, then JSON).

The decoder walks those types in the order wit-parser's decoder walks them, so the
arenas come out in the same order as `wasm-tools component wit --json` prints them:
interfaces of the package and of other packages as they are met, every named type
when its export is met (an export equal to an already known type becomes an alias,
`type x = y`, which is how a `use` travels), anonymous types on first use; packages
of the interfaces it only uses (each holding just the items used) first, in dependency
order, then the package itself.

Bytes are decoded by `reml_wasm.wasm_binary` (shared with the component connector);
type identity comes from `reml_wasm.wasm_binary.typespace`.  Every problem is a coded
`wit.package.binary_invalid` diagnostic naming the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .. import types as T
from ..audit import DiagnosticError, error
from ..wasm_binary import component as cb
from ..wasm_binary import typespace as ts
from .diagnostics import fail
from .model import Function, Gate, InterfaceDef, Model, PackageDef, Ty, TypeDef, WorldDef

_ID = r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*"   # a kebab-case name (not checked further)
_INTERFACE_NAME = re.compile(rf"^({_ID}):({_ID}(?::{_ID})*)/({_ID})(?:@(.+))?$")
_FUNC_NAME = re.compile(r"^\[(constructor|method|static|async|async method|async static)\](.*)$")


class _Invalid(Exception):
    """A decoding error, turned into a diagnostic naming the file by `decode_package`."""


def _bad(message: str) -> _Invalid:
    return _Invalid(message)


def _interface_name(name: str) -> tuple[T.PackageName, str] | None:
    m = _INTERFACE_NAME.match(name)
    if m is None:
        return None
    return T.PackageName(m.group(1), m.group(2), m.group(4)), m.group(3)


@dataclass
class _Package:
    name: T.PackageName
    interfaces: dict[str, int] = field(default_factory=dict)
    worlds: dict[str, int] = field(default_factory=dict)


class _Decoder:
    """wit-parser's decoder of a WIT package (see the module docstring)."""

    def __init__(self) -> None:
        self.model = Model()
        self.type_map: dict[int, int] = {}             # id(TypeNode) -> type id
        self.keep: list[ts.TypeNode] = []              # keeps the nodes behind type_map alive
        self.foreign: dict[str, _Package] = {}         # package name -> its partial package
        self.iface_package: dict[int, str] = {}        # foreign interface id -> package name
        self.named: dict[str, int] = {}                # `ns:pkg/i@v` -> interface id
        self.resources: dict[tuple[str, int], dict[str, int]] = {}

    # ---- types ---------------------------------------------------------------------

    def remember(self, node: ts.TypeNode, tid: int) -> None:
        self.type_map[id(node)] = tid
        self.keep.append(node)

    def alloc(self, td: TypeDef) -> int:
        self.model.types.append(td)
        return len(self.model.types) - 1

    def find_alias(self, node: ts.TypeNode) -> int | None:
        cur: ts.TypeNode | None = node
        while cur is not None:
            found = self.type_map.get(id(cur))
            if found is not None:
                return found
            cur = cur.body if cur.kind == "alias" else None
        return None

    def valtype(self, ref: ts.ValRef) -> Ty:
        if isinstance(ref, T.PrimitiveType):
            return ref.name
        found = self.type_map.get(id(ref))
        if found is not None:
            return found
        base = ts.peel(ref)
        if base.kind != "defined":
            raise _bad("a value type refers to a resource or non-value type")
        kind = self.defined(base.body)
        if kind[0] in ("record", "variant", "enum", "flags", "resource"):
            raise _bad(f"unexpected unnamed type of kind '{kind[0]}'")
        tid = self.alloc(TypeDef(None, kind))
        self.remember(ref, tid)
        return tid

    def handle(self, node: ts.TypeNode) -> int:
        found = self.type_map.get(id(node))
        if found is None:
            raise _bad("own/borrow of a resource not declared before it")
        return found

    def defined(self, d: Any) -> tuple:
        """The model kind of a decoded value type definition."""
        v = self.valtype
        if isinstance(d, cb.DefPrimitive):
            return ("type", d.type.name)
        if isinstance(d, cb.DefRecord):
            return ("record", tuple((n, v(r), None) for n, r in d.fields))
        if isinstance(d, cb.DefVariant):
            return ("variant", tuple((n, None if r is None else v(r), None) for n, r in d.cases))
        if isinstance(d, cb.DefList):
            return ("list", v(d.element)) if d.length is None else ("fixed-length-list", v(d.element), d.length)
        if isinstance(d, cb.DefMap):
            return ("map", v(d.key), v(d.value))
        if isinstance(d, cb.DefTuple):
            return ("tuple", tuple(v(r) for r in d.elements))
        if isinstance(d, cb.DefFlags):
            return ("flags", tuple((n, None) for n in d.labels))
        if isinstance(d, cb.DefEnum):
            return ("enum", tuple((n, None) for n in d.labels))
        if isinstance(d, cb.DefOption):
            return ("option", v(d.inner))
        if isinstance(d, cb.DefResult):
            return ("result", None if d.ok is None else v(d.ok), None if d.err is None else v(d.err))
        if isinstance(d, cb.DefOwn):
            return ("handle", "own", self.handle(d.resource))  # type: ignore[arg-type]
        if isinstance(d, cb.DefBorrow):
            return ("handle", "borrow", self.handle(d.resource))  # type: ignore[arg-type]
        if isinstance(d, cb.DefStream):
            return ("stream", None if d.element is None else v(d.element))
        if isinstance(d, cb.DefFuture):
            return ("future", None if d.element is None else v(d.element))
        raise _bad(f"unsupported type definition {type(d).__name__}")  # pragma: no cover

    def type_export(self, name: str, owner: tuple[str, int], entity: ts.Entity) -> int:
        """A named type: an alias of a type known already, else a new definition."""
        assert entity.referenced is not None
        prev = self.find_alias(entity.referenced)
        if prev is not None:
            kind: tuple = ("type", prev)
        else:
            base = ts.peel(entity.referenced)
            if base.kind == "resource":
                kind = ("resource",)
            elif base.kind == "defined":
                kind = self.defined(base.body)
            else:
                raise _bad(f"type `{name}` is not a value type or resource")
        tid = self.alloc(TypeDef(name, kind, owner, external_id=entity.options.external_id))
        if kind[0] == "resource":
            self.resources.setdefault(owner, {})[name] = tid
        self.remember(entity.node, tid)
        return tid

    def register_known(self, tid: int, d: Any) -> None:
        """Link the anonymous parts of a decoded definition `d` to those of the known
        type `tid` (so a second view of an interface reuses its types)."""
        kind = self.model.types[tid].kind
        if isinstance(d, (cb.DefPrimitive, cb.DefFlags, cb.DefEnum, cb.DefOwn, cb.DefBorrow)):
            return
        if kind[0] == "type" and isinstance(kind[1], int):
            return
        pairs: list[tuple[Any, Any]]
        if isinstance(d, cb.DefList) and kind[0] in ("list", "fixed-length-list"):
            pairs = [(d.element, kind[1])]
        elif isinstance(d, cb.DefMap) and kind[0] == "map":
            pairs = [(d.key, kind[1]), (d.value, kind[2])]
        elif isinstance(d, cb.DefTuple) and kind[0] == "tuple" and len(d.elements) == len(kind[1]):
            pairs = list(zip(d.elements, kind[1]))
        elif isinstance(d, cb.DefOption) and kind[0] == "option":
            pairs = [(d.inner, kind[1])]
        elif isinstance(d, cb.DefResult) and kind[0] == "result" and \
                (d.ok is None) == (kind[1] is None) and (d.err is None) == (kind[2] is None):
            pairs = [(a, b) for a, b in ((d.ok, kind[1]), (d.err, kind[2])) if a is not None]
        elif isinstance(d, cb.DefRecord) and kind[0] == "record" and \
                [n for n, _ in d.fields] == [n for n, _, _ in kind[1]]:
            pairs = [(r, f[1]) for (_, r), f in zip(d.fields, kind[1])]
        elif isinstance(d, cb.DefVariant) and kind[0] == "variant" and \
                [(n, r is None) for n, r in d.cases] == [(n, t is None) for n, t, _ in kind[1]]:
            pairs = [(r, c[1]) for (_, r), c in zip(d.cases, kind[1]) if r is not None]
        elif isinstance(d, (cb.DefStream, cb.DefFuture)) and kind[0] in ("stream", "future") and \
                (d.element is None) == (kind[1] is None):
            pairs = [] if d.element is None else [(d.element, kind[1])]
        else:
            raise _bad("a type does not match its earlier definition")
        for wasm, wit in pairs:
            if isinstance(wasm, T.PrimitiveType):
                continue
            if not isinstance(wit, int):
                raise _bad("a type does not match its earlier definition")
            had = id(wasm) in self.type_map
            self.remember(wasm, wit)
            if not had:
                base = ts.peel(wasm)
                if base.kind == "defined":
                    self.register_known(wit, base.body)

    # ---- functions -----------------------------------------------------------------

    def function(self, name: str, entity: ts.Entity, owner: tuple[str, int]) -> Function:
        body = entity.node.body
        if not isinstance(body, ts.FuncBody):
            raise _bad(f"`{name}` is not a function")
        params = [(n, self.valtype(r)) for n, r in body.params]
        result = None if body.result is None else self.valtype(body.result)
        kind, resource = "freestanding", None
        m = _FUNC_NAME.match(name)
        if m is not None:
            tag, rest = m.group(1), m.group(2)
            if tag == "async":
                kind = "async-freestanding"
            else:
                base = tag.removeprefix("async ")
                res_name = rest if base == "constructor" else rest.partition(".")[0]
                resource = self.resources.get(owner, {}).get(res_name)
                if resource is None:
                    raise _bad(f"function `{name}` names no resource of its interface")
                kind = ("async-" if tag.startswith("async ") else "") + base
        if body.is_async and not kind.startswith("async-"):
            kind = "async-" + kind
        return Function(name, kind, params, result, resource, external_id=entity.options.external_id)

    # ---- interfaces and worlds ------------------------------------------------------

    def dep_interface(self, name: str) -> int:
        parsed = _interface_name(name)
        if parsed is None:
            raise _bad(f"package name is not a valid id: {name}")
        pkg_name, iface = parsed
        pkg = self.foreign.setdefault(str(pkg_name), _Package(pkg_name))
        iid = pkg.interfaces.get(iface)
        if iid is None:
            iid = pkg.interfaces[iface] = len(self.model.interfaces)
            self.model.interfaces.append(InterfaceDef(iface, None))
        self.iface_package[iid] = str(pkg_name)
        return iid

    def register_import(self, name: str, body: Any) -> int:
        if not isinstance(body, ts.InstanceBody):
            raise _bad(f"import `{name}` is not an instance")
        local = name in self.named
        iid = self.named[name] if local else self.dep_interface(name)
        iface = self.model.interfaces[iid]
        owner = ("interface", iid)
        for item, entity in body.exports.items():
            if entity.sort == "type":
                known = iface.types.get(item)
                if known is not None:
                    assert entity.referenced is not None
                    base = ts.peel(entity.referenced)
                    if base.kind == "defined":
                        self.register_known(known, base.body)
                    self.remember(entity.node, known)
                else:
                    if local:
                        raise _bad(f"instance type export `{item}` not defined in interface")
                    iface.types[item] = self.type_export(item, owner, entity)
            elif entity.sort == "func":
                if item in iface.functions:
                    continue
                if local:
                    raise _bad(f"instance function export `{item}` not defined in interface")
                iface.functions[item] = self.function(item, entity, owner)
            else:
                raise _bad(f"instance type export `{item}` is not a type")
        return iid

    def register_interface(self, name: str, body: Any, pkg: _Package) -> tuple[Any, int]:
        if name in self.named:
            iid = self.register_import(name, body)
            return ("interface", iid), iid
        if not isinstance(body, ts.InstanceBody):
            raise _bad(f"`{name}` is not an instance")
        parsed = _interface_name(name)
        iface_name = parsed[1] if parsed is not None else None
        if iface_name is None and not re.fullmatch(_ID, name):
            raise _bad(f"cannot extract item name from: {name}")
        iid = len(self.model.interfaces)
        iface = InterfaceDef(iface_name, None)
        self.model.interfaces.append(iface)
        owner = ("interface", iid)
        for item, entity in body.exports.items():
            if entity.sort == "type":
                iface.types[item] = self.type_export(item, owner, entity)
            elif entity.sort == "func":
                iface.functions[item] = self.function(item, entity, owner)
            else:
                raise _bad(f"instance type export `{item}` is not a type or function")
        if iface_name is None:
            return name, iid
        if iface_name in pkg.interfaces:
            raise _bad(f"interface `{iface_name}` is defined twice")
        pkg.interfaces[iface_name] = iid
        self.named[name] = iid
        return ("interface", iid), iid

    def world_interface(self, name: str, entity: ts.Entity, pkg: _Package) -> tuple[Any, tuple]:
        implements = entity.options.implements
        if "/" in name:
            iid = self.register_import(name, entity.node.body)
            key: Any = ("interface", iid)
        elif implements is not None:  # `import a: ns:pkg/i;`
            iid = self.register_import(implements, entity.node.body)
            key = name
        else:
            key, iid = self.register_interface(name, entity.node.body, pkg)
        return key, ("interface", iid, None, None, entity.options.external_id)

    def register_world(self, name: str, body: Any, pkg: _Package) -> int:
        parsed = _interface_name(name)
        if parsed is None or not isinstance(body, ts.ComponentBody):
            raise _bad("expected world name to have an ID form")
        world_name = parsed[1]
        wid = len(self.model.worlds)
        world = WorldDef(world_name, None)
        owner = ("world", wid)
        self.model.worlds.append(world)
        for item, entity in body.imports.items():
            if entity.sort == "instance":
                key, value = self.world_interface(item, entity, pkg)
                world.imports[key] = value
            elif entity.sort == "type":
                world.imports[item] = ("type", self.type_export(item, owner, entity))
            elif entity.sort == "func":
                world.imports[item] = ("function", self.function(item, entity, owner))
            else:
                raise _bad(f"component import `{item}` is not an instance, func, or type")
        for item, entity in body.exports.items():
            if entity.sort == "instance":
                key, value = self.world_interface(item, entity, pkg)
                world.exports[key] = value
            elif entity.sort == "func":
                world.exports[item] = ("function", self.function(item, entity, owner))
            else:
                raise _bad(f"component export `{item}` is not an instance or function")
        if world_name in pkg.worlds:
            raise _bad(f"world `{world_name}` is defined twice")
        pkg.worlds[world_name] = wid
        return wid

    # ---- the package -----------------------------------------------------------------

    def package(self, outline: ts.Outline) -> int:
        """Decode the package (v2 encoding: one exported component type per interface or
        world); its index in the model."""
        main: _Package | None = None
        for export, entity in outline.exports.items():
            body = entity.node.body
            if entity.node.kind != "component" or len(body.exports) != 1:
                raise _bad("expected a single export in each exported component type")
            (name, inner), = body.exports.items()
            parsed = _interface_name(name)
            if parsed is None:
                raise _bad("expected world name to be fully qualified")
            if main is None:
                main = _Package(parsed[0])
            elif main.name != parsed[0]:
                raise _bad("item defined with mismatched package name")
            if inner.sort == "component":
                self.register_world(name, inner.node.body, main)
            elif inner.sort == "instance":
                for imp, imported in body.imports.items():
                    if imported.sort != "instance":
                        raise _bad(f"import `{imp}` is not an instance")
                    self.register_import(imp, imported.node.body)
                self.register_interface(name, inner.node.body, main)
            else:
                raise _bad(f"export `{name}` is not an interface or world")
        if main is None:
            raise _bad("no exported component type found")
        return self.finish(main)

    def component(self, externs: list[ts.Extern]) -> int:
        """The world of a component (package `root:component`, world `root`), as
        wit-parser infers it: its imports and exports in the binary's order."""
        pkg = _Package(T.PackageName("root", "component", None))
        wid = len(self.model.worlds)
        world = WorldDef("root", None)
        self.model.worlds.append(world)
        pkg.worlds["root"] = wid
        owner = ("world", wid)
        for ext in externs:
            entity = ext.entity
            target = world.imports if ext.direction == "import" else world.exports
            if entity.sort == "instance":
                key, value = self.world_interface(ext.name, entity, pkg)
                target[key] = value
            elif entity.sort == "func":
                target[ext.name] = ("function", self.function(ext.name, entity, owner))
            elif entity.sort == "type" and ext.direction == "import":
                target[ext.name] = ("type", self.type_export(ext.name, owner, entity))
            elif ext.direction == "export":
                raise _bad(f"component export `{ext.name}` was not a function or instance")
        return self.finish(pkg)

    def direct_deps(self, iid: int) -> list[int]:
        out = []
        for tid in self.model.interfaces[iid].types.values():
            kind = self.model.types[tid].kind
            if kind[0] == "type" and isinstance(kind[1], int):
                owner = self.model.types[kind[1]].owner
                if owner is not None and owner[0] == "interface" and owner[1] not in out:
                    out.append(owner[1])
        return out

    def finish(self, main: _Package) -> int:
        names = list(self.foreign)
        order: list[str] = []

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in order or name in path:
                return
            for iid in self.foreign[name].interfaces.values():
                for dep in self.direct_deps(iid):
                    other = self.iface_package.get(dep)
                    if other is not None and other != name:
                        visit(other, path + (name,))
            order.append(name)

        for name in names:
            visit(name, ())
        for name in order:
            self.insert(self.foreign[name])
        return self.insert(main)

    def insert(self, pkg: _Package) -> int:
        index = len(self.model.packages)
        self.model.packages.append(PackageDef(pkg.name, None, dict(pkg.interfaces), dict(pkg.worlds)))
        for iid in pkg.interfaces.values():
            self.model.interfaces[iid].package = index
        for wid in pkg.worlds.values():
            world = self.model.worlds[wid]
            world.package = index
            for key, item in list(world.imports.items()) + list(world.exports.items()):
                if isinstance(key, str) and item[0] == "interface" and self.model.interfaces[item[1]].name is None:
                    self.model.interfaces[item[1]].package = index  # an interface written in the world
        return index


# --- package-docs: documentation and gates -------------------------------------------------

class _Stop(Exception):
    """Metadata that does not fit the package: what comes after it is left out (as
    wit-parser leaves it)."""


def _gate(data: Any) -> Gate | None:
    if not isinstance(data, dict) or not data:
        return None
    if "stable" in data and isinstance(data["stable"], dict):
        inner = data["stable"]
        return Gate(since=_text(inner.get("since")), deprecated=_text(inner.get("deprecated")))
    if "unstable" in data and isinstance(data["unstable"], dict):
        inner = data["unstable"]
        return Gate(feature=_text(inner.get("feature")), deprecated=_text(inner.get("deprecated")))
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict:
    """A JSON object of the metadata (absent: empty); anything else is an error, as in
    wit-parser, whose reading of the section is strict."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"package-docs: expected a JSON object, found {type(value).__name__}")
    return value


def _items(kind: tuple, docs: dict[str, Any]) -> tuple:
    if not docs:
        return kind
    entries: tuple
    if kind[0] in ("record", "variant"):
        entries = tuple((n, t, _text(docs.get(n)) if n in docs else d) for n, t, d in kind[1])
    elif kind[0] in ("enum", "flags"):
        entries = tuple((n, _text(docs.get(n)) if n in docs else d) for n, d in kind[1])
    else:
        raise _Stop
    if sum(1 for e in entries if e[0] in docs) != len(docs):
        raise _Stop
    return (kind[0], entries)


def _inject_type(model: Model, tid: int, data: Any) -> None:
    if not isinstance(data, dict):
        raise _Stop
    td = model.types[tid]
    td.kind = _items(td.kind, _dict(data.get("items")))
    if _text(data.get("docs")) is not None:
        td.docs = data["docs"]
    td.stability = _gate(data.get("stability"))


def _inject_function(fn: Function, data: Any) -> None:
    if data is None or isinstance(data, str):
        fn.docs = data
        return
    if not isinstance(data, dict):
        raise _Stop
    fn.docs = _text(data.get("docs"))
    fn.stability = _gate(data.get("stability"))


def _inject_interface(model: Model, iid: int, data: Any) -> None:
    if not isinstance(data, dict):
        raise _Stop
    iface = model.interfaces[iid]
    for name, item in _dict(data.get("types")).items():
        if name not in iface.types:
            raise _Stop
        _inject_type(model, iface.types[name], item)
    for name, item in _dict(data.get("funcs")).items():
        if name not in iface.functions:
            raise _Stop
        _inject_function(iface.functions[name], item)
    if _text(data.get("docs")) is not None:
        iface.docs = data["docs"]
    iface.stability = _gate(data.get("stability"))


def _key_name(model: Model, key: Any) -> str:
    return key if isinstance(key, str) else (model.interface_qualified(key[1]) or "")


def _inject_world(model: Model, wid: int, data: Any) -> None:
    if not isinstance(data, dict):
        raise _Stop
    world = model.worlds[wid]
    for only_export, group in ((False, data.get("interfaces")), (True, data.get("interface_exports"))):
        for name, item in _dict(group).items():
            found = world.exports.get(name) if only_export else world.imports.get(name, world.exports.get(name))
            if found is None or found[0] != "interface":
                raise _Stop
            target = world.exports if only_export or name not in world.imports else world.imports
            target[name] = found[:2] + (_gate(item.get("stability") if isinstance(item, dict) else None),) + found[3:]
            _inject_interface(model, found[1], item)
    for name, item in _dict(data.get("types")).items():
        found = world.imports.get(name)
        if found is None or found[0] != "type":
            raise _Stop
        _inject_type(model, found[1], item)
    # gates, then docs, of interfaces imported or exported by path (item fields 2 and 3)
    for position, what, convert in ((2, "stability", _gate), (3, "docs", _text)):
        for items, direction in ((world.imports, "import"), (world.exports, "export")):
            keys = {_key_name(model, k): k for k, v in items.items() if v[0] == "interface"}
            for name, value in _dict(data.get(f"interface_{direction}_{what}")).items():
                key = keys.get(name)
                if key is None:
                    raise _Stop
                items[key] = items[key][:position] + (convert(value),) + items[key][position + 1:]
    for only_export, group in ((False, data.get("funcs")), (True, data.get("func_exports"))):
        for name, item in _dict(group).items():
            found = world.exports.get(name) if only_export else world.imports.get(name, world.exports.get(name))
            if found is None or found[0] != "function":
                raise _Stop
            _inject_function(found[1], item)
    if _text(data.get("docs")) is not None:
        world.docs = data["docs"]
    world.stability = _gate(data.get("stability"))


def inject_docs(model: Model, main: int, section: bytes) -> None:
    """Apply a `package-docs` section to package `main` (or to the package it names)."""
    if not section or section[0] not in (0, 1):
        raise _bad(f"expected package-docs version 1, got {section[:1].hex() or 'nothing'}")
    try:
        data = json.loads(section[1:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(f"package-docs is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _bad("package-docs is not a JSON object")
    target = main
    if isinstance(data.get("package"), str):
        target = next((i for i, p in enumerate(model.packages) if str(p.name) == data["package"]), main)
    pkg = model.packages[target]
    for name, item in _dict(data.get("worlds")).items():
        if name in pkg.worlds:
            try:
                _inject_world(model, pkg.worlds[name], item)
            except _Stop:
                pass
    for name, item in _dict(data.get("interfaces")).items():
        if name in pkg.interfaces:
            try:
                _inject_interface(model, pkg.interfaces[name], item)
            except _Stop:
                pass
    if _text(data.get("docs")) is not None:
        pkg.docs = data["docs"]


# --- entry ------------------------------------------------------------------------------

def wat_to_binary(text: bytes, where: str) -> bytes:
    """A component in the WebAssembly text format, assembled (by wasmtime's assembler)."""
    import wasmtime

    try:
        return bytes(wasmtime.wat2wasm(text.decode("utf-8")))
    except UnicodeDecodeError:
        raise fail("wit.package.binary_invalid", f"{where}: the text is not UTF-8") from None
    except wasmtime.WasmtimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid text"
        raise fail("wit.package.binary_invalid", f"{where}: {first}") from None


@dataclass
class DecodedPackage:
    """A WIT package read from a component: its own arenas and the main package's index
    (the packages it uses come before it, with only the items it uses)."""

    model: Model
    main: int


def decode_world(comp: cb.Component, where: str) -> DecodedPackage:
    """The world of a parsed component, as `wasm-tools component wit` infers it: package
    `root:component` with world `root` (`main`), and the packages of the interfaces it
    imports or exports — or, for a WIT package encoded as a component, that package.
    Problems: `ffi.component.*` diagnostics (a component is not WIT source)."""
    outline = ts.outline(comp)
    if not outline.runs_code and not outline.imports and outline.exports and \
            all(e.node.kind == "component" for e in outline.exports.values()):
        try:
            decoder = _Decoder()
            main = decoder.package(outline)
            if "package-docs" in comp.custom:
                inject_docs(decoder.model, main, comp.custom["package-docs"])
        except _Invalid as exc:
            raise error("ffi.component.unsupported", f"{where}: its WIT package cannot be read: {exc}") from None
        return DecodedPackage(decoder.model, main)
    try:
        decoder = _Decoder()
        main = decoder.component(ts.component_externs(comp))
    except _Invalid as exc:
        raise error("ffi.component.unsupported", f"{where}: its world cannot be read: {exc}") from None
    except RecursionError:
        raise error("ffi.component.malformed", f"{where}: types nested too deeply") from None
    return DecodedPackage(decoder.model, main)


def decode_package(data: bytes, where: str, component_world: bool = False) -> DecodedPackage:
    """Read the WIT package encoded in the component `data` (from file `where`).  A
    component that is not an encoded package is refused, or with `component_world` read
    as its world (package `root:component`, as `wasm-tools component wit` shows it)."""
    try:
        comp = cb.parse_component(data)
        outline = ts.outline(comp)
        decoder = _Decoder()
        if outline.runs_code or outline.imports or not outline.exports:
            if not component_world:
                raise _bad("found an actual component instead of an encoded WIT package in wasm")
            return DecodedPackage(decoder.model, decoder.component(ts.component_externs(comp)))
        main = decoder.package(outline)
        docs = comp.custom.get("package-docs")
        if docs is not None:
            inject_docs(decoder.model, main, docs)
    except DiagnosticError as exc:
        raise fail("wit.package.binary_invalid", f"{where}: {exc.diagnostic.message}") from None
    except _Invalid as exc:
        raise fail("wit.package.binary_invalid", f"{where}: {exc}") from None
    except RecursionError:
        raise fail("wit.package.binary_invalid", f"{where}: types nested too deeply") from None
    return DecodedPackage(decoder.model, main)
