"""Canonical WIT text of a resolved model, laid out as `wasm-tools component wit` does.

The main package comes first with a `package …;` header; every other package of the
model follows as a nested `package … { … }` block, so the output is one self-contained
file that parses back to the same model.
"""

from __future__ import annotations

from ..types import wit_name
from .model import Function, Gate, Model, Ty, TypeDef


def print_package(model: Model, main: int) -> str:
    """The main package, then every other package as a nested block."""
    nested = [_Printer(model, i).package_text(nested=True)
              for i in range(len(model.packages)) if i != main]
    return _Printer(model, main).package_text(nested=False) + "\n\n".join(nested)


def _docs(docs: str | None, indent: str) -> str:
    if docs is None:
        return ""
    lines = docs.split("\n")
    if lines[-1] == "":  # as wasm-tools splits lines: none for "", no empty last one
        lines.pop()
    return "".join(f"{indent}///{' ' + line if line else ''}\n" for line in lines)


def _gate(gate: Gate | None, indent: str) -> str:
    if gate is None:
        return ""
    if gate.since is not None:
        text = f"{indent}@since(version = {gate.since})\n"
    else:
        text = f"{indent}@unstable(feature = {gate.feature})\n"
    if gate.deprecated is not None:
        text += f"{indent}@deprecated(version = {gate.deprecated})\n"
    return text


def _external_id(value: str | None, indent: str) -> str:
    r"""`@external-id("…")` with the string written as wasm-tools writes it: letters,
    digits, space and `-./:_` as they are, `\\ \" \n \t \r` escaped, anything else as
    `\u{hex}`."""
    if value is None:
        return ""
    out = []
    for c in value:
        if c.isascii() and (c.isalnum() or c in " -./:_"):
            out.append(c)
        elif c in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[c])
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    return f'{indent}@external-id("{"".join(out)}")\n'


_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


class _Printer:
    def __init__(self, model: Model, package: int) -> None:
        self.model = model
        self.index = package
        self.pkg = model.packages[package]

    def _gate(self, gate: Gate | None, indent: str) -> str:
        """An item's gate; a `@since` is left out in a package without a version (an item
        copied there by `include` from a versioned package), where it could not be read
        back.  (wasm-tools prints it there, and then cannot read its own output.)"""
        if gate is not None and gate.since is not None and self.pkg.name.version is None:
            return ""
        return _gate(gate, indent)

    # ---- packages ------------------------------------------------------------------

    def package_text(self, nested: bool) -> str:
        pn = self.pkg.name
        name = f"{wit_name(pn.namespace)}:{wit_name(pn.name)}" + ("" if pn.version is None else f"@{pn.version}")
        indent = "  " if nested else ""
        # wasm-tools' layout: at top level a blank line after the header and after each
        # interface, none between worlds; none at all inside a nested package block
        gap = "" if nested else "\n"
        items = [self.interface_text(iid, indent) + gap for iid in self.pkg.interfaces.values()]
        items += [self.world_text(wid, indent) for wid in self.pkg.worlds.values()]
        if nested:
            return f"{_docs(self.pkg.docs, '')}package {name} {{\n" + "".join(items) + "}\n"
        return f"{_docs(self.pkg.docs, '')}package {name};\n\n" + "".join(items)

    # ---- type references -------------------------------------------------------------

    def ty(self, t: Ty | None) -> str:
        if t is None:
            return "_"
        if isinstance(t, str):
            return t
        td = self.model.types[t]
        if td.name is not None:
            return wit_name(td.name)
        return self.structure(td.kind, anonymous=True)

    def structure(self, kind: tuple, anonymous: bool) -> str:
        k = kind[0]
        if k == "handle":
            target = self.ty(kind[2])
            if kind[1] == "borrow":
                return f"borrow<{target}>"
            return target if anonymous else f"own<{target}>"
        if k == "list":
            return f"list<{self.ty(kind[1])}>"
        if k == "fixed-length-list":
            return f"list<{self.ty(kind[1])}, {kind[2]}>"
        if k == "map":
            return f"map<{self.ty(kind[1])}, {self.ty(kind[2])}>"
        if k == "tuple":
            return "tuple<" + ", ".join(self.ty(t) for t in kind[1]) + ">"
        if k == "option":
            return f"option<{self.ty(kind[1])}>"
        if k == "result":
            ok, err = kind[1], kind[2]
            if ok is None and err is None:
                return "result"
            if err is None:
                return f"result<{self.ty(ok)}>"
            return f"result<{self.ty(ok)}, {self.ty(err)}>"
        if k in ("future", "stream"):
            return k if kind[1] is None else f"{k}<{self.ty(kind[1])}>"
        if k == "type":
            return self.ty(kind[1])
        raise AssertionError(k)  # pragma: no cover

    # ---- type definitions ------------------------------------------------------------

    def is_use(self, td: TypeDef, owner: tuple[str, int]) -> bool:
        if td.kind[0] != "type" or not isinstance(td.kind[1], int):
            return False
        target = self.model.types[td.kind[1]]
        return target.owner is not None and target.owner != owner and target.owner[0] == "interface"

    def iface_path(self, iid: int) -> str:
        iface = self.model.interfaces[iid]
        if iface.package == self.index:
            return wit_name(iface.name or "")
        pkg = self.model.packages[iface.package]  # type: ignore[index]
        text = f"{wit_name(pkg.name.namespace)}:{wit_name(pkg.name.name)}/{wit_name(iface.name or '')}"
        return text if pkg.name.version is None else f"{text}@{pkg.name.version}"

    def types_text(self, type_ids: list[int], owner: tuple[str, int], indent: str,
                   resource_funcs: dict[int, list[Function]]) -> tuple[str, list[str]]:
        """(use lines, definitions) of the named types of an interface or world.  As in
        wasm-tools, consecutive names used from one interface with one gate share a `use`."""
        groups: list[tuple[int, Gate | None, str | None, list[str]]] = []
        defs = []
        for tid in type_ids:
            td = self.model.types[tid]
            if self.is_use(td, owner):
                target = self.model.types[td.kind[1]]
                src = target.owner[1]  # type: ignore[index]
                entry = wit_name(target.name or "")
                if target.name != td.name:
                    entry += f" as {wit_name(td.name or '')}"
                if groups and groups[-1][:3] == (src, td.stability, td.external_id):
                    groups[-1][3].append(entry)
                else:
                    groups.append((src, td.stability, td.external_id, [entry]))
            else:
                defs.append(self.typedef_text(tid, td, indent, resource_funcs.get(tid, [])))
        uses = "".join(f"{self._gate(gate, indent)}{_external_id(ext, indent)}{indent}use {self.iface_path(src)}.{{{', '.join(names)}}};\n"
                       for src, gate, ext, names in groups)
        return uses, defs

    def typedef_text(self, tid: int, td: TypeDef, indent: str, funcs: list[Function]) -> str:
        head = _docs(td.docs, indent) + self._gate(td.stability, indent) + _external_id(td.external_id, indent)
        name = wit_name(td.name or "")
        kind = td.kind
        k = kind[0]
        inner = indent + "  "
        if k == "record":
            body = "".join(f"{_docs(d, inner)}{inner}{wit_name(n)}: {self.ty(t)},\n" for n, t, d in kind[1])
            return f"{head}{indent}record {name} {{\n{body}{indent}}}\n"
        if k == "variant":
            body = "".join(f"{_docs(d, inner)}{inner}{wit_name(n)}"
                           f"{'' if t is None else '(' + self.ty(t) + ')'},\n" for n, t, d in kind[1])
            return f"{head}{indent}variant {name} {{\n{body}{indent}}}\n"
        if k in ("enum", "flags"):
            body = "".join(f"{_docs(d, inner)}{inner}{wit_name(n)},\n" for n, d in kind[1])
            return f"{head}{indent}{k} {name} {{\n{body}{indent}}}\n"
        if k == "resource":
            if not funcs:
                return f"{head}{indent}resource {name};\n"
            body = "".join(self.function_text(f, inner) for f in funcs)
            return f"{head}{indent}resource {name} {{\n{body}{indent}}}\n"
        return f"{head}{indent}type {name} = {self.structure(kind, anonymous=False)};\n"

    # ---- functions -----------------------------------------------------------------

    def signature(self, fn: Function, skip_self: bool) -> str:
        params = fn.params[1:] if skip_self else fn.params
        text = ("async func(" if fn.is_async else "func(") + \
            ", ".join(f"{wit_name(n)}: {self.ty(t)}" for n, t in params) + ")"
        if fn.result is not None:
            text += f" -> {self.ty(fn.result)}"
        return text

    def function_text(self, fn: Function, indent: str, key: str | None = None,
                      prefix: str = "") -> str:
        head = _docs(fn.docs, indent) + self._gate(fn.stability, indent) + _external_id(fn.external_id, indent)
        base = fn.base_kind
        if base == "constructor":
            params = ", ".join(f"{wit_name(n)}: {self.ty(t)}" for n, t in fn.params)
            text = f"constructor({params})"
            result = self.model.types[fn.result] if isinstance(fn.result, int) else None
            if result is None or result.kind[0] != "handle":
                text += f" -> {self.ty(fn.result)}"
            return f"{head}{indent}{text};\n"
        if base in ("method", "static"):
            member = fn.name.split(".", 1)[1]
            static = "static " if base == "static" else ""
            return f"{head}{indent}{wit_name(member)}: {static}{self.signature(fn, base == 'method')};\n"
        return f"{head}{indent}{prefix}{wit_name(key or fn.name)}: {self.signature(fn, False)};\n"

    def resource_functions(self, functions) -> dict[int, list[Function]]:
        out: dict[int, list[Function]] = {}
        for fn in functions:
            if fn.resource is not None:
                out.setdefault(fn.resource, []).append(fn)
        return out

    # ---- interfaces ------------------------------------------------------------------

    def interface_body(self, iid: int, indent: str) -> str:
        iface = self.model.interfaces[iid]
        by_resource = self.resource_functions(iface.functions.values())
        uses, defs = self.types_text(list(iface.types.values()), ("interface", iid), indent, by_resource)
        blocks = ([uses] if uses else []) + defs
        blocks += [self.function_text(f, indent) for f in iface.functions.values() if f.resource is None]
        return "\n".join(blocks)

    def interface_text(self, iid: int, indent: str) -> str:
        iface = self.model.interfaces[iid]
        head = _docs(iface.docs, indent) + self._gate(iface.stability, indent)
        body = self.interface_body(iid, indent + "  ")
        return f"{head}{indent}interface {wit_name(iface.name or '')} {{\n{body}{indent}}}\n"

    # ---- worlds ----------------------------------------------------------------------

    def world_item(self, direction: str, key, item: tuple, indent: str) -> str:
        if item[0] == "function":
            return self.function_text(item[1], indent, key, f"{direction} ")
        gid, gate, docs, ext = item[1], item[2], item[3], item[4]
        head = _docs(docs, indent) + self._gate(gate, indent) + _external_id(ext, indent)
        if isinstance(key, str) and self.model.interfaces[gid].name is not None:
            return f"{head}{indent}{direction} {wit_name(key)}: {self.iface_path(gid)};\n"
        if isinstance(key, str):
            iface = self.model.interfaces[gid]
            head = _docs(iface.docs if docs is None else docs, indent) + self._gate(gate, indent) + \
                _external_id(ext, indent)
            body = self.interface_body(gid, indent + "  ")
            return f"{head}{indent}{direction} {wit_name(key)}: interface {{\n{body}{indent}}}\n"
        return f"{head}{indent}{direction} {self.iface_path(gid)};\n"

    def world_text(self, wid: int, indent: str) -> str:
        world = self.model.worlds[wid]
        inner = indent + "  "
        head = _docs(world.docs, indent) + self._gate(world.stability, indent)
        type_ids = [item[1] for item in world.imports.values() if item[0] == "type"]
        funcs = [item[1] for item in world.imports.values() if item[0] == "function"]
        by_resource = self.resource_functions(funcs)
        parts = []
        for key, item in world.imports.items():
            if item[0] == "interface":
                parts.append(self.world_item("import", key, item, inner))
        uses, defs = self.types_text(type_ids, ("world", wid), inner, by_resource)
        parts.append(uses)
        for d in defs:
            parts.append(d if not any(parts) else "\n" + d)
        for key, item in world.imports.items():
            if item[0] == "function" and item[1].resource is None:
                parts.append(self.world_item("import", key, item, inner))
        body = "".join(parts)
        if world.exports:
            exports = "".join(self.world_item("export", k, v, inner) for k, v in world.exports.items())
            body = body + "\n" + exports if body else exports
        return f"{head}{indent}world {wit_name(world.name)} {{\n{body}{indent}}}\n"
