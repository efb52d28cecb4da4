"""The world of a component binary as `reml_wasm.types` (what the connector runs against;
`reml-wasm inspect` reads the world's WIT with the WIT front-end's decoder instead)."""

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
