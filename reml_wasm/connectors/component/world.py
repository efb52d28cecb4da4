"""The world of a component binary as `reml_wasm.types`, and as WIT source in the shape
`wasm-tools component wit` gives it (what `reml-wasm inspect` prints, via the WIT front-end)."""

from __future__ import annotations

import re
from typing import Any

from ... import types as t
from ...audit import error
from ...wasm_binary import component as cb
from . import link as cl

_IFACE_KEY = re.compile(r"^([a-z][a-z0-9-]*):([a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)*)/([a-z][a-z0-9-]*)(?:@(.+))?$")


def split_interface_key(key: str) -> tuple[t.PackageName | None, str]:
    """`demo:app/api@1.0.0` -> (PackageName(demo, app, 1.0.0), "api"); `api` -> (None, "api")."""
    m = _IFACE_KEY.match(key)
    if m is None:
        return None, key
    return t.PackageName(m.group(1), m.group(2), m.group(4)), m.group(3)


def interface_of(key: str, exports: dict[str, tuple[str, Any]]) -> t.Interface:
    package, name = split_interface_key(key)
    owner = key if package is None else package.qualify(name)
    type_items: list[tuple[str, t.Type]] = []
    freestanding: list[t.Function] = []
    by_resource: dict[str, list[t.Function]] = {}
    for item, (sort, value) in exports.items():
        if sort == "type":
            if isinstance(value, t.ResourceType) and (value.owner is None or value.owner in ("root", key)
                                                      or value.owner.startswith("root/")):
                object.__setattr__(value, "owner", owner)
            if isinstance(value, t.ResourceType) and value.name != item:
                value = t.TypeAlias(item, value)  # `type headers = fields;`
            type_items.append((item, value))
        elif sort == "func":
            func = value.type if isinstance(value, cl.ComponentFunc) else value
            if func.kind == "freestanding":
                freestanding.append(func)
            else:
                by_resource.setdefault(func.resource or "", []).append(func)
    for item, value in type_items:
        if isinstance(value, t.ResourceType) and value.owner == owner:  # not one it `use`s
            funcs = by_resource.get(value.name, [])
            value.define(next((f for f in funcs if f.kind == "constructor"), None),
                         [f for f in funcs if f.kind == "method"],
                         [f for f in funcs if f.kind == "static"])
    return t.Interface(name, tuple(type_items), tuple(freestanding), package=package)


def _items(entries: dict[str, tuple[str, Any]]) -> list[t.WorldItem]:
    out: list[t.WorldItem] = []
    for key, (sort, value) in entries.items():
        if sort == "instance":
            exports = value.exports
            out.append(t.InterfaceItem(key, interface_of(key, exports)))
        elif sort == "func":
            out.append(t.FunctionItem(value.type))
        elif sort == "type":
            out.append(t.TypeItem(key, value))
    return out


def static_scope(ast: cb.Component) -> cl.Scope:
    """The component walked without a store: its imports and exports, types named."""
    backend = cl.Backend()
    try:
        scope = cl.instantiate(ast, backend)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # the parser decodes without validating: definitions that do not fit together
        raise error("ffi.component.malformed",
                    f"the component's definitions are inconsistent ({type(exc).__name__}: {exc})") from None
    backend.apply_resource_names()
    return scope


def world_of(ast: cb.Component, name: str = "root") -> t.World:
    """Walk the component statically and describe its imports and exports."""
    scope = static_scope(ast)
    return t.World(name, tuple(_items(scope.imports)), tuple(_items(scope.exports)))


# --- WIT as `wasm-tools component wit` prints it -----------------------------------------

ROOT_PACKAGE = "root:component"
ROOT_WORLD = "root"


class _Sources:
    """WIT source text for a component's world (root:component/root) and every package
    its interfaces come from, with `use` wherever an interface type re-exports another
    interface's type; the WIT front-end then resolves and prints it."""

    def __init__(self) -> None:
        self.owner: dict[int, tuple[str, str]] = {}   # id(type) -> (interface key, name)
        self.packages: dict[str, list[str]] = {}      # "ns:pkg@v" -> interface keys
        self.bodies: dict[str, list[str]] = {}        # interface key -> its item lines
        # interface key -> (type names, function names) in the binary's order, and how many
        # of the types came with its first occurrence (an interface imported and exported
        # is one interface: the second adds what the first lacked)
        self.orders: dict[str, tuple[list[str], list[str], int]] = {}

    def ref(self, key: str, here: str | None) -> str:
        """How interface `key` is named from inside interface `here`."""
        package, name = split_interface_key(key)
        if package is None or (here is not None and split_interface_key(here)[0] == package):
            return t.wit_name(name)
        return _key_text(key)

    def use_line(self, value: Any, name: str, here: str | None) -> str | None:
        """`use src.{name};` for a type another interface owns, else None."""
        src = value if isinstance(value, tuple) else self.owner.get(id(value))
        if src is None:
            return None
        key, src_name = src
        alias = "" if src_name == name else f" as {t.wit_name(name)}"
        return f"use {self.ref(key, here)}.{{{t.wit_name(src_name)}{alias}}};"

    def body(self, key: str | None, exports: dict[str, tuple[str, Any]], uses: dict[str, Any],
             external_ids: dict[str, str]) -> list[str]:
        """The items of an interface (or world) exporting `exports`, in their order."""
        lines: list[str] = []
        by_resource: dict[str, list[t.Function]] = {}
        funcs: list[t.Function] = []
        for item, (sort, value) in exports.items():
            if sort == "func":
                func = value.type if isinstance(value, cl.ComponentFunc) else value
                if func.kind == "freestanding":
                    funcs.append(func)
                else:
                    by_resource.setdefault(func.resource or "", []).append(func)
        for item, (sort, value) in exports.items():
            if sort != "type":
                continue
            line = None
            if item in uses:
                line = self.use_line(uses[item], item, key)
            elif isinstance(value, t.ResourceType) and value.name != item:
                line = f"type {t.wit_name(item)} = {t.wit_name(value.name)};"
            if line is None:
                line = _definition(item, value, by_resource.get(item, []), external_ids)
                if key is not None:
                    self.owner.setdefault(id(value), (key, item))
            lines.append(_external_id(external_ids.get(item)) + line)
        lines += [_external_id(external_ids.get(f.name)) + f.wit() + ";" for f in funcs]
        return lines

    def interface(self, key: str, exports: dict[str, tuple[str, Any]], uses: dict[str, Any],
                  external_ids: dict[str, str]) -> str | None:
        """Record the interface `key` in its package; None, or the inline body for an
        interface without a package."""
        package, name = split_interface_key(key)
        if package is not None and key in self.orders:  # imported and exported
            types, funcs, first = self.orders[key]
            known = set(types) | set(funcs)
            extra = {k: v for k, v in exports.items() if k not in known}
            self.bodies[key] += self.body(key, extra, uses, external_ids)
            self.orders[key] = (types + [n for n, (sort, _) in extra.items() if sort == "type"],
                                funcs + [n for n, (sort, _) in extra.items() if sort == "func"], first)
            return None
        lines = self.body(key, exports, uses, external_ids)
        types = [n for n, (sort, _) in exports.items() if sort == "type"]
        self.orders[key] = (types, [n for n, (sort, _) in exports.items() if sort == "func"], len(types))
        if package is None:
            return "interface {\n" + _indent(lines) + "}"
        self.bodies[key] = lines
        self.packages.setdefault(str(package), []).append(key)
        return None

    def interface_text(self, key: str) -> str:
        """The source of interface `key` as recorded."""
        return f"interface {t.wit_name(split_interface_key(key)[1])} {{\n{_indent(self.bodies[key])}}}"


def _indent(lines: list[str]) -> str:
    return "".join("  " + ln.replace("\n", "\n  ") + "\n" for ln in lines)


def _key_text(key: str) -> str:
    """An interface key as WIT source writes it (`ns:pkg/%interface@1.0.0`)."""
    package, name = split_interface_key(key)
    if package is None:
        return t.wit_name(name)
    version = "" if package.version is None else f"@{package.version}"
    return f"{package.namespace}:{package.name}/{t.wit_name(name)}{version}"


def _external_id(value: str | None) -> str:
    """The `@external-id("…")` line written before an item, if it has one."""
    return "" if value is None else f"@external-id({t.wit_string(value)})\n"


def _definition(name: str, value: Any, funcs: list[t.Function], external_ids: dict[str, str]) -> str:
    if isinstance(value, t.ResourceType):
        if not funcs:
            return f"resource {t.wit_name(name)};"
        body = "".join(f"  {_external_id(external_ids.get(f.qualified_name)).replace(chr(10), chr(10) + '  ')}{f.member_wit()};\n"
                       for f in funcs)
        return f"resource {t.wit_name(name)} {{\n{body}}}"
    if isinstance(value, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType)):
        return value.definition_wit()
    if isinstance(value, t.TypeAlias):
        return f"type {t.wit_name(name)} = {value.target.wit()};"
    return f"type {t.wit_name(name)} = {value.wit()};"


def component_wit_source(ast: cb.Component) -> tuple[str, dict[str, tuple[list[str], list[str], int]]]:
    """WIT source describing the component the way wit-component decodes it: package
    `root:component` with world `root`, and one nested block per interface package; and
    for each interface, its type and function names in the binary's order."""
    scope = static_scope(ast)
    src = _Sources()
    world: list[str] = []
    for direction, entries in (("import", scope.imports), ("export", scope.exports)):
        members: dict[str, list[t.Function]] = {}  # world-level resources' functions
        for sort, value in entries.values():
            if sort == "func" and value.type.kind != "freestanding":
                members.setdefault(value.type.resource or "", []).append(value.type)
        options = scope.import_options if direction == "import" else scope.export_options
        for key, (sort, value) in entries.items():
            named = options.get(key, cb.NO_OPTIONS)
            head = _external_id(named.external_id)
            if sort == "instance":
                declared = getattr(value, "ascribed", None) or value  # every item the type declares
                external_ids = {**getattr(value, "external_ids", {}), **getattr(declared, "external_ids", {})}
                uses = {**getattr(value, "uses", {}), **getattr(declared, "uses", {})}
                if named.implements is not None:  # `import a: ns:pkg/i;`
                    src.interface(named.implements, declared.exports, uses, external_ids)
                    world.append(f"{head}{direction} {t.wit_name(key)}: {_key_text(named.implements)};")
                    continue
                inline = src.interface(key, declared.exports, uses, external_ids)
                world.append(f"{head}{direction} {t.wit_name(key)}: {inline}" if inline is not None
                             else f"{head}{direction} {_key_text(key)};")
            elif sort == "type":
                line = None
                if direction == "import":
                    line = src.use_line(scope.type_uses.get(key, value), key, None)
                world.append(head + (line or _definition(key, value, members.get(key, []), {})))
            elif sort == "func" and value.type.kind == "freestanding":
                world.append(f"{head}{direction} {value.type.wit()};")
    text = "".join("  " + ln.replace("\n", "\n  ") + "\n" for ln in world)
    out = [f"package {ROOT_PACKAGE};\n\nworld {ROOT_WORLD} {{\n{text}}}\n"]
    for package, keys in src.packages.items():
        body = _indent([src.interface_text(k) for k in keys])
        out.append(f"package {package} {{\n{body}}}\n")
    return "\n".join(out), src.orders
