"""Adding a decoded WIT package (its own arenas) to a model being loaded.

Packages new to the model are appended with every id renumbered.  A package the model
has already (two encoded dependencies that both use `wasi:io`, say, each carrying the
part it uses) is united with it by name, as wit-parser's merge does: an interface of
both must offer, in the model, every type and function the incoming one has (they are
then the same items); interfaces and worlds only the incoming package has are added to
the existing package; everything else of the incoming arenas is appended in order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from .diagnostics import fail
from .model import Function, Gate, Model, PackageDef, Ty, map_kind


def _conflict(pkg: str, message: str) -> Exception:
    return fail("wit.package.merge_conflict", f"failed to merge package `{pkg}` into existing copy: {message}")


class _MergeMap:
    def __init__(self, src: Model, dst: Model) -> None:
        self.src, self.dst = src, dst
        self.packages: dict[int, int] = {}
        self.interfaces: dict[int, int] = {}
        self.types: dict[int, int] = {}
        self.worlds: dict[int, int] = {}
        self.interfaces_to_add: list[tuple[str, int, int]] = []
        self.worlds_to_add: list[tuple[str, int, int]] = []

    def build(self) -> None:
        names = {str(p.name): i for i, p in enumerate(self.dst.packages)}
        for sid, pkg in enumerate(self.src.packages):
            did = names.get(str(pkg.name))
            if did is None:
                continue
            self.packages[sid] = did
            into = self.dst.packages[did]
            for name, iid in pkg.interfaces.items():
                if name in into.interfaces:
                    self.interface(str(pkg.name), iid, into.interfaces[name])
                else:
                    self.interfaces_to_add.append((name, did, iid))
            for name, wid in pkg.worlds.items():
                if name in into.worlds:
                    self.world(str(pkg.name), wid, into.worlds[name])
                else:
                    self.worlds_to_add.append((name, did, wid))

    def interface(self, pkg: str, sid: int, did: int) -> None:
        self.interfaces[sid] = did
        src, dst = self.src.interfaces[sid], self.dst.interfaces[did]
        for name, tid in src.types.items():
            if name not in dst.types:
                raise _conflict(pkg, f"failed to merge interface `{src.name}`: expected type `{name}` to be present")
            self.types[tid] = dst.types[name]
        for name in src.functions:
            if name not in dst.functions:
                raise _conflict(pkg, f"failed to merge interface `{src.name}`: expected function `{name}` "
                                "to be present")

    def world(self, pkg: str, sid: int, did: int) -> None:
        self.worlds[sid] = did
        src, dst = self.src.worlds[sid], self.dst.worlds[did]
        for direction, a, b in (("import", src.imports, dst.imports), ("export", src.exports, dst.exports)):
            if len(a) != len(b):
                raise _conflict(pkg, f"failed to merge world `{src.name}`: world contains different number of "
                                f"{direction}s than expected")
            for key, item in a.items():
                mapped = ("interface", self.interfaces.get(key[1], key[1])) if isinstance(key, tuple) else key
                other = b.get(mapped)
                if other is None or other[0] != item[0]:
                    raise _conflict(pkg, f"failed to merge world `{src.name}`: {direction} `{key}` not found "
                                    "in target world")
                if item[0] == "interface":
                    named = (self.src.interfaces[item[1]].name, self.dst.interfaces[other[1]].name)
                    if named == (None, None):
                        self.interface(pkg, item[1], other[1])
                    elif self.interfaces.get(item[1]) != other[1]:
                        raise _conflict(pkg, f"failed to merge world `{src.name}`: interfaces are not the same")
                elif item[0] == "type":
                    self.types[item[1]] = other[1]


def _stability(src: Gate | None, dst: Gate | None) -> Gate | None:
    return dst if src is None or dst is not None else src


def merge_model(dst: Model, src: Model, active: Callable[[str], bool]) -> tuple[dict[int, int], list[int], list[int]]:
    """Merge `src` into `dst`; (package renumbering, new package indices, new interface
    ids).  Functions of the interfaces added that are gated by a feature not `active`
    are left out (as wit-parser leaves them out; types, interfaces and world items stay)."""
    m = _MergeMap(src, dst)
    m.build()
    types: dict[int, int] = {}
    interfaces: dict[int, int] = {}
    worlds: dict[int, int] = {}

    def ty(t: Ty | None) -> Any:
        return types[t] if isinstance(t, int) else t

    def func(fn: Function) -> Function:
        return replace(fn, params=[(n, ty(p)) for n, p in fn.params], result=ty(fn.result),
                       resource=None if fn.resource is None else types[fn.resource])

    moved_types = []
    for sid, td in enumerate(src.types):
        if sid in m.types:
            did = types[sid] = m.types[sid]
            dst.types[did].stability = _stability(td.stability, dst.types[did].stability)
            continue
        moved_types.append(sid)
        types[sid] = len(dst.types)
        dst.types.append(replace(td, kind=map_kind(td.kind, ty)))
    moved_ifaces = []
    for sid, iface in enumerate(src.interfaces):
        if sid in m.interfaces:
            did = interfaces[sid] = m.interfaces[sid]
            dst.interfaces[did].stability = _stability(iface.stability, dst.interfaces[did].stability)
            continue
        moved_ifaces.append(sid)
        interfaces[sid] = len(dst.interfaces)
        dst.interfaces.append(replace(iface, types={n: types[t] for n, t in iface.types.items()},
                                      functions={n: func(f) for n, f in iface.functions.items()
                                                 if f.stability is None or f.stability.feature is None
                                                 or active(f.stability.feature)}))

    def items(entries: dict) -> dict:
        out = {}
        for key, item in entries.items():
            if isinstance(key, tuple):
                key = ("interface", interfaces[key[1]])
            if item[0] == "interface":
                item = ("interface", interfaces[item[1]], *item[2:])
            elif item[0] == "type":
                item = ("type", types[item[1]])
            else:
                item = ("function", func(item[1]), *item[2:])
            out[key] = item
        return out

    moved_worlds = []
    for sid, world in enumerate(src.worlds):
        if sid in m.worlds:
            did = worlds[sid] = m.worlds[sid]
            dst.worlds[did].stability = _stability(world.stability, dst.worlds[did].stability)
            continue
        moved_worlds.append(sid)
        worlds[sid] = len(dst.worlds)
        dst.worlds.append(replace(world, imports=items(world.imports), exports=items(world.exports)))
    packages: dict[int, int] = {}
    new_packages = []
    for sid, pkg in enumerate(src.packages):
        if sid in m.packages:
            packages[sid] = m.packages[sid]
            continue
        packages[sid] = len(dst.packages)
        new_packages.append(packages[sid])
        dst.packages.append(PackageDef(pkg.name, pkg.docs, {n: interfaces[i] for n, i in pkg.interfaces.items()},
                                       {n: worlds[w] for n, w in pkg.worlds.items()}))
    for sid in moved_worlds:
        w = dst.worlds[worlds[sid]]
        if w.package is not None:
            w.package = packages[w.package]
    for sid in moved_ifaces:
        i = dst.interfaces[interfaces[sid]]
        if i.package is not None:
            i.package = packages[i.package]
    for sid in moved_types:
        td = dst.types[types[sid]]
        if td.owner is not None:
            td.owner = (td.owner[0], interfaces[td.owner[1]] if td.owner[0] == "interface" else worlds[td.owner[1]])
    for name, did, iid in m.interfaces_to_add:
        dst.packages[did].interfaces[name] = interfaces[iid]
    for name, did, wid in m.worlds_to_add:
        dst.packages[did].worlds[name] = worlds[wid]
    return packages, new_packages, [interfaces[i] for i in moved_ifaces]
