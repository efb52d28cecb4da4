"""Finding and parsing the files of a WIT path: a file, or a directory whose `*.wit`
files form one package, with `deps/` holding dependencies (directories or single files).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..package_name import PackageName
from . import ast
from .diagnostics import Source, Span, fail
from .parser import parse_source
from .resolver import PackageInput


def read_source(path: Path) -> Source:
    try:
        text = path.read_bytes().decode("utf-8")  # as written: a lone carriage return is not a newline
    except UnicodeDecodeError:
        raise fail("wit.io.read_failed", f"{path} is not valid UTF-8") from None
    except OSError as exc:
        raise fail("wit.io.read_failed", f"cannot read {path}: {exc.strerror or exc}") from None
    return Source(str(path), text)


def _name(decl: ast.PackageDecl) -> PackageName:
    return PackageName(decl.namespace.name, decl.name.name, decl.version)


def group_from_files(files: list[ast.File], where: str) -> tuple[list[PackageInput], PackageInput]:
    """(nested packages, main package) of the files of one package directory or file."""
    nested: list[PackageInput] = []
    main_bodies: list[ast.PackageBody] = []
    decl: ast.PackageDecl | None = None
    documented: ast.PackageDecl | None = None
    for f in files:
        top = f.bodies[0]
        if top.decl is not None and top.decl.docs is not None:
            if documented is not None:
                raise fail("wit.package.docs", "found doc comments on multiple 'package' items",
                           _docs_span(top.decl.span))
            documented = top.decl
        if top.decl is not None:
            if decl is not None and (_name(decl) != _name(top.decl)):
                raise fail("wit.package.mismatch",
                           f"package identifier `{top.decl}` does not match previous package name "
                           f"of `{decl}`", top.decl.span)
            decl = decl or top.decl
        for body in f.bodies[1:]:
            assert body.decl is not None
            nested.append(PackageInput(_name(body.decl), [body], body.decl.span, body.decl.docs))
        if top.decl is not None or top.items:
            main_bodies.append(top)
    if decl is None:
        if not main_bodies and nested:
            main = nested.pop()
            return nested, main
        raise fail("wit.package.missing", f"no `package` header was found in {where}")
    for b in main_bodies:
        if b.decl is None and b.items:
            pass  # a file without header joins the package of its directory
    docs = next((b.decl.docs for b in main_bodies if b.decl is not None and b.decl.docs), None)
    return nested, PackageInput(_name(decl), main_bodies, decl.span, docs)


def _docs_span(span: Span) -> Span:
    """Where the doc comment written above the item at `span` begins."""
    text = span.source.text
    start = text.rfind("\n", 0, span.offset) + 1  # the item's line
    while start > 0:
        prev = text.rfind("\n", 0, start - 1) + 1
        line = text[prev:start - 1].strip()
        if not (line.startswith("//") or line.startswith("/*") or line.startswith("*")):
            break
        start = prev
    return Span(span.source, start)


def parse_file(path: Path) -> ast.File:
    return parse_source(read_source(path))


def _entries(path: Path) -> list[os.DirEntry[str]]:
    """The entries of a directory, sorted by name (one `scandir`: no stat per file)."""
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise fail("wit.io.read_failed", f"cannot read the directory {path}: {exc.strerror or exc}") from None


def _suffix(name: str) -> str:
    """`Path(name).suffix` (".wit" for "a.wit"; "" for ".wit" itself)."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def parse_dir(path: Path) -> tuple[list[PackageInput], PackageInput]:
    files = [parse_file(path / e.name) for e in _entries(path) if _suffix(e.name) == ".wit" and e.is_file()]
    if not files:
        raise fail("wit.package.missing", f"no .wit files in {path}")
    return group_from_files(files, str(path))


def collect(path: Path) -> tuple[list[PackageInput], PackageInput]:
    """Every package under `path` (dependencies first) and the main package."""
    if not path.exists():
        raise fail("wit.io.read_failed", f"{path} does not exist")
    if not path.is_dir():  # a file, or what reading will refuse with its reason (a socket, ...)
        nested, main = group_from_files([parse_file(path)], str(path))
        return nested + [main], main
    inputs: list[PackageInput] = []
    deps = path / "deps"
    if deps.is_dir():
        for item in _entries(deps):
            entry = deps / item.name
            if item.is_dir():
                nested, main = parse_dir(entry)
            elif _suffix(item.name) == ".wit":
                nested, main = group_from_files([parse_file(entry)], str(entry))
            elif _suffix(item.name) in (".wasm", ".wat"):
                # wasm-tools also reads a dependency given as a WIT package encoded in a
                # component; this front-end reads WIT text only, and says so
                raise fail("wit.package.binary_dependency",
                           f"{entry}: dependencies encoded as components (.wasm / .wat) are not "
                           "supported; give the package as .wit files")
            else:
                continue
            inputs.extend(nested)
            inputs.append(main)
    nested, main = parse_dir(path)
    inputs.extend(nested)
    inputs.append(main)
    return inputs, main
