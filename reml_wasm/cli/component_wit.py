"""A component's world as `wasm-tools component wit` shows it (text and `--json`), for
`reml-wasm inspect`.

The component's types are written as WIT source (world.component_wit_source: package
`root:component`, world `root`, one nested block per interface package, `use` where an
interface re-exports another's type), resolved by the project's WIT front-end, and its
arenas renumbered into the order a component decoder meets them: world imports then
exports, each interface's named types in order (anonymous types just before the first
definition or function that uses them), then its functions (parameters, then result).
Printing and JSON then come from the WIT front-end's printer and JSON exporter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..audit import DiagnosticError, error
from ..wasm_binary import component as cb
from ..connectors.component.world import ROOT_PACKAGE, ROOT_WORLD, component_wit_source
from ..wit import parse_text
from ..wit.json_export import to_json
from ..wit.model import Function, Model, Ty, map_kind
from ..wit.printer import print_package


class WitView:
    """The resolved model of a component's world, in decoder order."""

    def __init__(self, model: Model, main: int) -> None:
        self.model = model
        self.main = main

    def text(self) -> str:
        """What `wasm-tools component wit` prints."""
        return print_package(self.model, self.main)

    def json(self) -> dict[str, Any]:
        """What `wasm-tools component wit --json` prints, as a dict."""
        return to_json(self.model)


def component_view(ast: cb.Component, source: str = "<component>") -> WitView:
    """The WIT view of a parsed component binary."""
    text, orders = component_wit_source(ast)
    try:
        resolved = parse_text(text, f"{source} (as WIT)")
    except DiagnosticError as exc:
        raise error("ffi.component.unsupported",
                    f"{source}: its world cannot be written as WIT: {exc.diagnostic.message}") from None
    main_name = resolved.model.packages[resolved.main_index].name
    model = decoder_order(resolved.model, orders)
    return WitView(model, next(i for i, p in enumerate(model.packages) if p.name == main_name))


def _binary_order(model: Model, orders: dict[str, tuple[list[str], list[str], int]]) -> None:
    """Each interface's types and functions in the order the binary declares them."""
    for iid, iface in enumerate(model.interfaces):
        key = model.interface_qualified(iid)
        if key not in orders:
            continue
        type_names, func_names, _ = orders[key]
        rank = {n: i for i, n in enumerate(type_names)}
        iface.types = dict(sorted(iface.types.items(), key=lambda kv: rank.get(kv[0], len(rank))))
        rank = {n: i for i, n in enumerate(func_names)}
        iface.functions = dict(sorted(iface.functions.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def decoder_order(model: Model, orders: dict[str, tuple[list[str], list[str], int]]) -> Model:
    """`model` with types and interfaces renumbered in the order a component decoder
    creates them (see the module docstring); unreached items keep their order after."""
    _binary_order(model, orders)
    root = next((w for w in model.worlds if w.name == ROOT_WORLD and w.package is not None
                 and str(model.packages[w.package].name) == ROOT_PACKAGE), None)
    if root is None:
        return model
    types = list(model.types)  # grows by the copies of anonymous types (below)
    type_order: list[int] = []
    iface_order: list[int] = []
    seen_types: set[int] = set()
    seen_ifaces: set[int] = set()
    # A decoder makes an anonymous type per interface (or world) that uses it, where the
    # WIT front-end shares one per package: the first user keeps it, others get a copy.
    claimed: dict[int, tuple] = {}
    copies: dict[tuple[int, tuple], int] = {}

    def visit_ty(ty: Ty | None, scope: tuple) -> Ty | None:
        if not isinstance(ty, int):
            return ty
        td = types[ty]
        if td.name is not None:  # named: one per arena; its parts belong to its owner
            if ty not in seen_types:
                seen_types.add(ty)
                types[ty] = dataclasses.replace(td, kind=map_kind(td.kind, lambda t: visit_ty(t, td.owner or scope)))
                type_order.append(ty)
            return ty
        owner = claimed.setdefault(ty, scope)
        if owner == scope:
            if ty not in seen_types:
                seen_types.add(ty)
                types[ty] = dataclasses.replace(td, kind=map_kind(td.kind, lambda t: visit_ty(t, scope)))
                type_order.append(ty)
            return ty
        copy = copies.get((ty, scope))
        if copy is None:
            copy = copies[(ty, scope)] = len(types)
            types.append(td)
            seen_types.add(copy)
            types[copy] = dataclasses.replace(td, kind=map_kind(td.kind, lambda t: visit_ty(t, scope)))
            type_order.append(copy)
        return copy

    def visit_func(fn: Function, scope: tuple) -> Function:
        params = [(n, _present(visit_ty(p, scope))) for n, p in fn.params]
        return dataclasses.replace(fn, params=params, result=visit_ty(fn.result, scope))

    def visit_iface(iid: int) -> None:
        iface = model.interfaces[iid]
        scope = ("interface", iid)
        first = orders.get(model.interface_qualified(iid) or "", ([], [], len(iface.types)))[2]
        type_ids = list(iface.types.values())
        if iid in seen_ifaces:  # met again (imported, then exported): what it adds
            for tid in type_ids[first:]:
                visit_ty(tid, scope)
            return
        seen_ifaces.add(iid)
        for tid in type_ids[:first]:
            visit_ty(tid, scope)
        iface.functions = {n: visit_func(fn, scope) for n, fn in iface.functions.items()}
        iface_order.append(iid)

    world_scope = ("world", model.worlds.index(root))
    for items in (root.imports, root.exports):
        for key, item in list(items.items()):
            if item[0] == "interface":
                visit_iface(item[1])
            elif item[0] == "type":
                visit_ty(item[1], world_scope)
            else:
                items[key] = ("function", visit_func(item[1], world_scope), *item[2:])
    type_order += [i for i in range(len(types)) if i not in seen_types]
    iface_order += [i for i in range(len(model.interfaces)) if i not in seen_ifaces]
    new_type = {old: new for new, old in enumerate(type_order)}
    new_iface = {old: new for new, old in enumerate(iface_order)}

    def ty(t: Ty | None) -> Ty | None:
        return new_type[t] if isinstance(t, int) else t

    def owner(o: tuple[str, int] | None) -> tuple[str, int] | None:
        return ("interface", new_iface[o[1]]) if o is not None and o[0] == "interface" else o

    def func(fn: Function) -> Function:
        return dataclasses.replace(fn, params=[(n, _present(ty(p))) for n, p in fn.params], result=ty(fn.result),
                                   resource=None if fn.resource is None else new_type[fn.resource])

    def world_items(items: dict) -> dict:
        out = {}
        for key, item in items.items():
            if isinstance(key, tuple) and key[0] == "interface":
                key = ("interface", new_iface[key[1]])
            if item[0] == "interface":
                item = ("interface", new_iface[item[1]], *item[2:])
            elif item[0] == "type":
                item = ("type", new_type[item[1]], *item[2:])
            else:
                item = ("function", func(item[1]), *item[2:])
            out[key] = item
        return out

    types = [dataclasses.replace(types[old], kind=map_kind(types[old].kind, ty), owner=owner(types[old].owner))
             for old in type_order]
    interfaces = [dataclasses.replace(model.interfaces[old],
                                      types={n: new_type[t] for n, t in model.interfaces[old].types.items()},
                                      functions={n: func(f) for n, f in model.interfaces[old].functions.items()})
                  for old in iface_order]
    worlds = [dataclasses.replace(w, imports=world_items(w.imports), exports=world_items(w.exports))
              for w in model.worlds]
    # packages as a decoder lists them: in the order it meets them (by their first
    # interface), each after the packages its interfaces' types come from
    deps: dict[int, list[int]] = {}
    for iface in interfaces:
        if iface.package is None:
            continue
        mine = deps.setdefault(iface.package, [])
        for tid in iface.types.values():
            for ref in _type_refs(types[tid].kind):
                owner_of = types[ref].owner if ref < len(types) else None
                if owner_of is not None and owner_of[0] == "interface":
                    other = interfaces[owner_of[1]].package
                    if other is not None and other != iface.package and other not in mine:
                        mine.append(other)
    pkg_order: list[int] = []

    def place(pkg: int, path: tuple[int, ...] = ()) -> None:
        if pkg in pkg_order or pkg in path:
            return
        for dep in deps.get(pkg, []):
            place(dep, path + (pkg,))
        pkg_order.append(pkg)

    for iface in interfaces:
        if iface.package is not None and iface.name is not None:  # inline ones belong to a world
            place(iface.package)
    pkg_order += [i for i in range(len(model.packages)) if i not in pkg_order]
    new_pkg = {old: new for new, old in enumerate(pkg_order)}
    interfaces = [dataclasses.replace(i, package=None if i.package is None else new_pkg[i.package])
                  for i in interfaces]
    worlds = [dataclasses.replace(w, package=None if w.package is None else new_pkg[w.package]) for w in worlds]
    packages = [dataclasses.replace(model.packages[old],
                                    interfaces={n: new_iface[i] for n, i in model.packages[old].interfaces.items()})
                for old in pkg_order]
    return Model(types=types, interfaces=interfaces, worlds=worlds, packages=packages)


def _present(ty: Ty | None) -> Ty:
    """A parameter's type, which a copy keeps (only a result may be absent)."""
    assert ty is not None
    return ty


def _type_refs(kind: Any) -> list[int]:
    """The type ids a type definition's kind names (ints anywhere inside it)."""
    if isinstance(kind, bool):
        return []
    if isinstance(kind, int):
        return [kind]
    if isinstance(kind, (tuple, list)):
        return [r for part in kind for r in _type_refs(part)]
    return []
