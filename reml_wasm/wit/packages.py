"""Package-level resolution order: which package a foreign path names, and the
dependency order in which packages are resolved."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Iterable

from ..package_name import PackageName
from . import ast
from .diagnostics import Span, fail

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
            # as wit-parser walks a world: `use`s and `include`s in order, then the
            # imports, then the exports
            externs = []
            for wi in item.items:
                if isinstance(wi, (ast.Use, ast.Include)):
                    yield wi.path
                elif isinstance(wi, ast.Extern):
                    externs.append(wi)
            for direction in ("import", "export"):
                for wi in externs:
                    if wi.direction != direction:
                        continue
                    if wi.path is not None:
                        yield wi.path
                    elif wi.interface is not None:
                        yield from in_interface(wi.interface.items)


def lookup_package(inputs: Iterable[PackageName], path: ast.UsePath) -> PackageName | None:
    """The package a foreign path names, or None (versions must match exactly)."""
    ns, name = path.namespace.name, path.package.name  # type: ignore[union-attr]
    for p in inputs:
        if p.namespace == ns and p.name == name and p.version == path.version:
            return p
    return None


def find_package(inputs: Iterable[PackageName], path: ast.UsePath) -> PackageName:
    """The package a foreign path names (versions must match exactly, as in wit-parser)."""
    found = lookup_package(inputs, path)
    if found is not None:
        return found
    ns, name = path.namespace.name, path.package.name  # type: ignore[union-attr]
    want = f"{ns}:{name}" + ("" if path.version is None else f"@{path.version}")
    raise fail("wit.package.not_found", f"package `{want}` not found", path.span)


def check_local_paths(inputs: list["PackageInput"]) -> None:
    """The first checks wit-parser makes, before any package is resolved, in its order:
    the local names of file `use`s, interface `use`s and world `use`s/`include`s (in
    source order); the names a local `use` takes from an interface of the package; then,
    world by world in `include` order, the local names of imports and exports; then the
    type names of every interface and world."""
    for p in inputs:
        items = {it.name.name for body in p.bodies for it in body.items if not isinstance(it, ast.TopUse)}
        iface_names = {it.name.name: _names_of(it.items) for body in p.bodies for it in body.items
                       if isinstance(it, ast.Interface) and it.name is not None}

        def check(path: ast.UsePath, aliases: set[str]) -> None:
            if path.namespace is None and path.name.name not in items and path.name.name not in aliases:
                raise fail("wit.name.unresolved", f"interface or world `{path.name.name}` does not exist",
                           path.name.span)

        worlds = []
        for body in p.bodies:
            aliases = {(u.alias or u.path.name).name for u in body.items if isinstance(u, ast.TopUse)}
            for item in body.items:
                if isinstance(item, ast.TopUse):
                    check(item.path, aliases)
                elif isinstance(item, ast.Interface):
                    for it in item.items:
                        if isinstance(it, ast.Use):
                            check(it.path, aliases)
                elif isinstance(item, ast.World):
                    worlds.append((item, aliases))
                    for it in item.items:
                        if isinstance(it, (ast.Use, ast.Include)):
                            check(it.path, aliases)
        for body in p.bodies:
            for item in body.items:
                if isinstance(item, (ast.Interface, ast.World)):
                    for it in item.items:
                        if isinstance(it, ast.Use) and it.path.namespace is None and \
                                it.path.name.name in iface_names:
                            known = iface_names[it.path.name.name]
                            for name, _ in it.names:
                                if name.name not in known:
                                    raise fail("wit.name.unresolved", f"name `{name.name}` does not exist",
                                               name.span)
        for world, aliases in _include_order(worlds):
            for direction in ("import", "export"):
                for it in world.items:
                    if isinstance(it, ast.Extern) and it.direction == direction and it.path is not None:
                        check(it.path, aliases)
        for body in p.bodies:
            for item in body.items:
                if isinstance(item, ast.Interface):
                    _check_type_names(item.items)
                elif isinstance(item, ast.World):
                    _check_type_names(item.items)
                    for wi in item.items:
                        if isinstance(wi, ast.Extern) and wi.interface is not None:
                            _check_type_names(wi.interface.items)


def _names_of(items: list) -> set[str]:
    """The type names an interface defines or takes by `use`."""
    out = {it.name.name for it in items if isinstance(it, ast.TypeDef)}
    for it in items:
        if isinstance(it, ast.Use):
            out.update((alias or name).name for name, alias in it.names)
    return out


def _include_order(worlds: list) -> list:
    """Worlds with the ones they include (locally) first, otherwise in source order."""
    by_name = {w.name.name: (w, a) for w, a in worlds}
    out: list = []
    done: set[str] = set()

    def visit(name: str, seen: frozenset) -> None:
        if name in done or name in seen or name not in by_name:
            return
        world, _ = by_name[name]
        for it in world.items:
            if isinstance(it, ast.Include) and it.path.namespace is None:
                visit(it.path.name.name, seen | {name})
        done.add(name)
        out.append(by_name[name])

    for w, _ in worlds:
        visit(w.name.name, frozenset())
    return out


def _check_type_names(items: list) -> None:
    """Every type name in an interface's or world's definitions and signatures is defined
    there or brought in by a `use` (wit-parser checks this before looking at other
    packages): type definitions first, then functions, in order."""
    known = _names_of(items)
    funcs: list[ast.FuncType] = []
    for it in items:
        if isinstance(it, ast.TypeDef):
            exprs = [it.target] if it.kind == "alias" else [f.type for f in it.fields]
            _check_exprs(exprs, known)
            funcs.extend(m.type for m in it.functions or ())
        elif isinstance(it, ast.Func):
            funcs.append(it.type)
        elif isinstance(it, ast.Extern) and it.func is not None:
            funcs.append(it.func)
    for ft in funcs:
        _check_exprs([p.type for p in ft.params] + [ft.result], known)


def _check_exprs(exprs: list, known: set[str]) -> None:
    stack = list(reversed(exprs))
    while stack:
        e = stack.pop()
        if e is None:
            continue
        if e.name is not None and e.name.name not in known:
            raise fail("wit.name.unresolved", f"name `{e.name.name}` does not exist", e.name.span)
        stack.extend(reversed(e.args))


def check_foreign_packages(pkg: "PackageInput", known: list[PackageName]) -> None:
    """Every package `pkg` names exists (checked in the order it names them, before its
    items are resolved, as wit-parser does)."""
    for body in pkg.bodies:
        for path in paths_in(body):
            if path.namespace is not None:
                find_package(known, path)


def sort_packages(inputs: list["PackageInput"], preloaded: Iterable[PackageName] = ()) -> list["PackageInput"]:
    """Packages in the order wit-parser adds them: a depth-first walk over the packages
    taken in name order (namespace, name, version), each package's dependencies visited
    first, in the order the package first names them.  Packages `preloaded` (resolved
    already) may be named and are not walked."""
    seen: dict[PackageName, PackageInput] = {}
    for p in inputs:
        if p.name in seen:
            raise fail("wit.package.duplicate", f"package `{p.name}` is defined more than once", p.span)
        seen[p.name] = p
    known = [p.name for p in inputs] + list(preloaded)
    deps: dict[PackageName, list[tuple[PackageName, Span]]] = {}
    for p in inputs:
        edges: dict[PackageName, Span] = {}
        for body in p.bodies:
            for path in paths_in(body):
                if path.namespace is None:
                    continue
                target = lookup_package(known, path)
                if target is None or target not in seen:  # reported when resolved / resolved already
                    continue
                if target != p.name and target not in edges:
                    edges[target] = path.span
        deps[p.name] = list(edges.items())
    order: list[PackageInput] = []
    done: set[PackageName] = set()
    visiting: set[PackageName] = set()

    def visit(name: PackageName) -> None:
        # iterative depth-first walk (deep dependency chains must not exhaust the stack);
        # as in wit-parser, a cycle is reported where a package being visited as a
        # dependency is named again
        stack = [(name, iter(deps[name]))]
        while stack:
            current, edges = stack[-1]
            for target, span in edges:
                if target in visiting:
                    raise fail("wit.package.cycle", f"package `{target}` creates a dependency cycle", span)
                if target in done:
                    continue
                visiting.add(target)
                stack.append((target, iter(deps[target])))
                break
            else:
                stack.pop()
                visiting.discard(current)
                done.add(current)
                order.append(seen[current])

    for name in sorted(seen, key=package_sort_key):
        if name not in done:
            visit(name)
    return order


def package_sort_key(name: PackageName) -> tuple:
    """wit-parser's order of package names: namespace, name, then version (none first)."""
    version = () if name.version is None else (semver_key(name.version),)
    return (name.namespace, name.name, version)


# --- semver ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def semver_key(v: str) -> tuple:
    """The order of semantic versions: numbers, then a pre-release sorts before its release."""
    core, _, _build = v.partition("+")
    main, dash, pre = core.partition("-")
    nums = tuple(int(x) for x in main.split("."))
    if not dash:
        return nums + ((1,),)
    parts = tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split("."))
    return nums + ((0,) + parts,)
