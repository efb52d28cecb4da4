"""Package-level resolution order: which package a foreign path names, and the
dependency order in which packages are resolved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..types import PackageName
from . import ast
from .diagnostics import Span, fail
from .toposort import toposort

if TYPE_CHECKING:
    from .resolver import PackageInput


def paths_in(body: ast.PackageBody) -> Iterable[ast.UsePath]:
    def in_interface(items):
        for it in items:
            if isinstance(it, ast.Use):
                yield it.path

    for item in body.items:
        if isinstance(item, ast.TopUse):
            yield item.path
        elif isinstance(item, ast.Interface):
            yield from in_interface(item.items)
        elif isinstance(item, ast.World):
            for wi in item.items:
                if isinstance(wi, (ast.Use, ast.Include)):
                    yield wi.path
                elif isinstance(wi, ast.Extern):
                    if wi.path is not None:
                        yield wi.path
                    elif wi.interface is not None:
                        yield from in_interface(wi.interface.items)


def find_package(inputs: Iterable[PackageName], path: ast.UsePath) -> PackageName:
    """The package a foreign path names (versions must match exactly, as in wit-parser)."""
    ns, name = path.namespace.name, path.package.name  # type: ignore[union-attr]
    for p in inputs:
        if p.namespace == ns and p.name == name and p.version == path.version:
            return p
    want = f"{ns}:{name}" + ("" if path.version is None else f"@{path.version}")
    raise fail("wit.package.not_found", f"package `{want}` not found", path.span)


def sort_packages(inputs: list["PackageInput"]) -> list["PackageInput"]:
    names = [str(p.name) for p in inputs]
    seen: dict[str, PackageInput] = {}
    for p in inputs:
        if str(p.name) in seen:
            raise fail("wit.package.duplicate", f"package `{p.name}` is defined more than once", p.span)
        seen[str(p.name)] = p
    known = [p.name for p in inputs]
    deps: list[list[tuple[str, Span]]] = []
    for p in inputs:
        edges = []
        for body in p.bodies:
            for path in paths_in(body):
                if path.namespace is None:
                    continue
                target = find_package(known, path)
                if target != p.name:
                    edges.append((str(target), path.span))
        deps.append(edges)
    order = toposort("package", names, deps, "wit.package.cycle")
    return [inputs[i] for i in order]


# --- semver ---------------------------------------------------------------------------

def semver_key(v: str) -> tuple:
    core, _, _build = v.partition("+")
    main, dash, pre = core.partition("-")
    nums = tuple(int(x) for x in main.split("."))
    if not dash:
        return nums + ((1,),)
    parts = tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split("."))
    return nums + ((0,) + parts,)
