"""Finding and parsing the files of a WIT path: a file, or a directory whose `*.wit`
files form one package, with `deps/` holding dependencies (directories, single files,
or WIT packages encoded as components in binary or text form, `.wasm` / `.wat`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..package_name import PackageName
from . import ast
from .diagnostics import Source, Span, fail
from .parser import parse_source
from .resolver import PackageInput

if TYPE_CHECKING:
    from .decode import DecodedPackage


def read_source(path: Path) -> Source:
    """The text of the WIT file at `path` (coded errors for unreadable or non-UTF-8 files)."""
    return _source(path, _read_bytes(path))


def _source(path: Path, data: bytes) -> Source:
    try:
        text = data.decode("utf-8")  # as written: a lone carriage return is not a newline
    except UnicodeDecodeError:
        raise fail("wit.io.read_failed", f"{path} is not valid UTF-8") from None
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


class Collected:
    """The packages under a path: WIT text packages (dependencies first, the main one
    last), WIT packages encoded as components (from `deps/`, in directory order), and
    which one is the main package (`main` is None when the path is itself an encoded
    package: `encoded[-1]` then)."""

    def __init__(self) -> None:
        self.inputs: list[PackageInput] = []
        self.encoded: list[DecodedPackage] = []
        self.main: PackageInput | None = None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail("wit.io.read_failed", f"cannot read {path}: {exc.strerror or exc}") from None


def _encoded(path: Path, data: bytes, component_world: bool = False) -> "DecodedPackage | None":
    """The WIT package in `data` if it is a component in binary or text form (as
    wasm-tools tells them apart: by content, not by name), else None (WIT text).  With
    `component_world`, a component that is not a package gives its world."""
    if data[:4] != b"\0asm" and not _WAT_START.match(data):
        return None
    from .decode import decode_package, wat_to_binary
    binary = data if data[:4] == b"\0asm" else wat_to_binary(data, str(path))
    return decode_package(binary, str(path), component_world)


# text that starts (after blanks and `;;` / `(; ;)` comments) with `(module` or `(component`
_WAT_START = re.compile(rb"^(?:\s+|;;[^\n]*(?:\n|$)|\(;.*?;\))*\((?:module|component)\b", re.S)


def collect(path: Path) -> Collected:
    """Every package under `path`: see `Collected`."""
    if not path.exists():
        raise fail("wit.io.read_failed", f"{path} does not exist")
    out = Collected()
    if not path.is_dir():  # a file, or what reading will refuse with its reason (a socket, ...)
        data = _read_bytes(path)
        decoded = _encoded(path, data, component_world=True)
        if decoded is not None:
            out.encoded.append(decoded)
            return out
        nested, main = group_from_files([parse_source(_source(path, data))], str(path))
        out.inputs, out.main = nested + [main], main
        return out
    deps = path / "deps"
    if deps.is_dir():
        for item in _entries(deps):
            entry = deps / item.name
            if item.is_dir():
                nested, main = parse_dir(entry)
            elif _suffix(item.name) in (".wit", ".wasm", ".wat"):
                data = _read_bytes(entry)
                decoded = _encoded(entry, data)
                if decoded is not None:
                    out.encoded.append(decoded)
                    continue
                nested, main = group_from_files([parse_source(_source(entry, data))], str(entry))
            else:
                continue
            out.inputs.extend(nested)
            out.inputs.append(main)
    nested, main = parse_dir(path)
    out.inputs.extend(nested)
    out.inputs.append(main)
    out.main = main
    return out
