"""BID YAML loader (the document docs/plugins.md describes) into reml_wasm.types.

Each BID interface becomes a `types.Interface` of freestanding functions; what the type
model has no place for (the Box name, effects, errors, transport, a type id) is kept in
side tables of `BidDocument`.  The YAML is read as a node graph (`yaml.compose`) so every
diagnostic carries file:line:col.  Codes: `ffi.bid.*`.

BID types map to the model as: i32 -> s32, i64 -> s64, f32, f64, bool, string,
bytes -> list<u8>, handle -> own<handle> (the resource `HANDLE`), void -> no result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import types as t
from ..audit import Location, error
from ..tlv import HANDLE_RESOURCE as HANDLE, MODEL_TYPES as BID_TYPES

__all__ = ["BidDocument", "load", "loads", "BID_TYPES", "HANDLE", "EFFECTS"]

LATER_TYPES = ("array", "option", "result")
EFFECTS = ("pure", "mut", "io", "control")

_INTERFACE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class BidDocument:
    source: str | None
    interfaces: tuple[t.Interface, ...]
    boxes: dict[str, str | None] = field(default_factory=dict)           # interface -> Box name
    type_ids: dict[str, int] = field(default_factory=dict)               # interface -> type id (if given)
    effects: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # (iface, method)
    errors: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    transports: dict[str, dict[str, Any]] = field(default_factory=dict)
    method_ids: dict[tuple[str, str], int] = field(default_factory=dict)   # (iface, method), when given
    version: int = 1
    locations: dict[tuple[str, ...], Location] = field(default_factory=dict)

    def interface(self, name: str) -> t.Interface:
        for i in self.interfaces:
            if i.name == name:
                return i
        raise KeyError(name)


def load(path: str | os.PathLike[str]) -> BidDocument:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error("ffi.bid.unreadable", f"cannot read {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error("ffi.bid.syntax", f"{p} is not UTF-8 text", location=Location(str(p), 1, 1)) from None
    return loads(text, source=str(p))


MAX_DEPTH = 64
"""How deep YAML collections may nest in a BID document (`ffi.bid.too_deep`)."""

_OPEN = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken,
         yaml.FlowSequenceStartToken)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _check_depth(text: str, source: str | None) -> None:
    """Refuse collections nested deeper than MAX_DEPTH before the (recursive) composer
    sees them; the scanner used here is iterative.  Syntax errors are left to compose."""
    depth = 0
    try:
        for tok in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(tok, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise error("ffi.bid.too_deep", f"YAML collections nest more than {MAX_DEPTH} deep",
                                location=_mark_location(tok.start_mark, source, text))
            elif isinstance(tok, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return


def loads(text: str, source: str | None = None) -> BidDocument:
    _check_depth(text, source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _mark_location(mark, source, text) if mark is not None else None
        raise error("ffi.bid.syntax", f"invalid YAML: {exc.problem or exc.context}", location=loc) from None
    except yaml.YAMLError as exc:
        raise error("ffi.bid.syntax", f"invalid YAML: {exc}") from None
    return _Reader(text, source).document(root)


def _mark_location(mark: Any, source: str | None, text: str) -> Location:
    lines = text.splitlines()
    snippet = lines[mark.line] if mark.line < len(lines) else None
    return Location(source, mark.line + 1, mark.column + 1, snippet)


class _Reader:
    def __init__(self, text: str, source: str | None) -> None:
        self.text = text
        self.source = source

    def loc(self, node: yaml.Node) -> Location:
        return _mark_location(node.start_mark, self.source, self.text)

    def fail(self, code: str, message: str, node: yaml.Node) -> Exception:
        return error(code, message, location=self.loc(node))

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail("ffi.bid.schema", f"{what} must be a mapping", node)
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail("ffi.bid.schema", f"keys of {what} must be plain names", key)
            if key.value in out:
                raise self.fail("ffi.bid.duplicate_key", f"key {key.value!r} appears twice in {what}", key)
            out[key.value] = (key, value)
        return out

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("ffi.bid.schema", f"{what} must be a list", node)
        return list(node.value)

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("ffi.bid.schema", f"{what} must be a plain value", node)
        return node.value

    def document(self, root: yaml.Node | None) -> BidDocument:
        if root is None:
            raise error("ffi.bid.schema", "empty BID document", location=Location(self.source, 1, 1))
        top = self.mapping(root, "the BID document")
        if "version" not in top:
            raise self.fail("ffi.bid.schema", "missing `version: 1`", root)
        vkey, vnode = top["version"]
        if self.scalar(vnode, "version") != "1":
            raise self.fail("ffi.bid.version", f"BID version {vnode.value!r} is not supported (only 1)", vnode)
        if "interfaces" not in top:
            raise self.fail("ffi.bid.schema", "missing `interfaces:` list", root)
        for key, (knode, _) in top.items():
            if key not in ("version", "interfaces"):
                raise self.fail("ffi.bid.schema", f"unknown top-level key {key!r}", knode)
        doc = BidDocument(self.source, ())
        interfaces: list[t.Interface] = []
        seen: dict[str, Location] = {}
        for inode in self.sequence(top["interfaces"][1], "interfaces"):
            iface = self.interface(inode, doc, seen)
            interfaces.append(iface)
        doc.interfaces = tuple(interfaces)
        return doc

    def interface(self, node: yaml.Node, doc: BidDocument, seen: dict[str, Location]) -> t.Interface:
        fields = self.mapping(node, "an interface")
        if "name" not in fields:
            raise self.fail("ffi.bid.schema", "interface without a `name`", node)
        name_node = fields["name"][1]
        name = self.scalar(name_node, "interface name")
        if not _INTERFACE_NAME.match(name):
            raise self.fail("ffi.bid.bad_name", f"interface name {name!r} is not a dotted identifier", name_node)
        if name in seen:
            raise self.fail("ffi.bid.duplicate_interface",
                            f"interface {name!r} is defined twice (first at {seen[name]})", name_node)
        seen[name] = self.loc(name_node)
        doc.locations[(name,)] = self.loc(name_node)
        box = None
        for key, (knode, vnode) in fields.items():
            if key == "box":
                box = self.scalar(vnode, "box")
                if not _IDENT.match(box):
                    raise self.fail("ffi.bid.bad_name", f"box name {box!r} is not an identifier", vnode)
            elif key == "type_id":
                raw = self.scalar(vnode, "type_id")
                if not raw.isdigit() or not 0 < int(raw) <= 0xFFFFFFFF:
                    raise self.fail("ffi.bid.schema", f"type_id {raw!r} is not in 1..4294967295", vnode)
                doc.type_ids[name] = int(raw)
            elif key == "transport":
                tr = self.mapping(vnode, "transport")
                doc.transports[name] = {k: self.scalar(v, f"transport {k}") for k, (_, v) in tr.items()}
            elif key not in ("name", "methods", "docs"):
                raise self.fail("ffi.bid.schema", f"unknown interface key {key!r}", knode)
        doc.boxes[name] = box
        functions: list[t.Function] = []
        seen_methods: dict[str, Location] = {}
        methods_node = fields.get("methods", (None, None))[1]
        for mnode in (self.sequence(methods_node, "methods") if methods_node is not None else []):
            functions.append(self.method(mnode, name, doc, seen_methods))
        return t.Interface(name, functions=tuple(functions))

    def method(self, node: yaml.Node, iface: str, doc: BidDocument, seen: dict[str, Location]) -> t.Function:
        fields = self.mapping(node, "a method")
        if "name" not in fields:
            raise self.fail("ffi.bid.schema", "method without a `name`", node)
        name_node = fields["name"][1]
        name = self.scalar(name_node, "method name")
        if not _IDENT.match(name):
            raise self.fail("ffi.bid.bad_name", f"method name {name!r} is not an identifier", name_node)
        if name in seen:
            raise self.fail("ffi.bid.duplicate_method",
                            f"method {name!r} of {iface} is defined twice (first at {seen[name]})", name_node)
        seen[name] = self.loc(name_node)
        doc.locations[(iface, name)] = self.loc(name_node)
        params: list[t.Param] = []
        result: t.Type | None = None
        effects: list[str] = []
        for key, (knode, vnode) in fields.items():
            if key == "params":
                params = self.params(vnode, iface, name)
            elif key == "returns":
                result = self.returns(vnode)
            elif key in ("effect", "effects"):
                items = [vnode] if isinstance(vnode, yaml.ScalarNode) else self.sequence(vnode, key)
                for enode in items:
                    effect = self.scalar(enode, "effect")
                    if effect not in EFFECTS:
                        raise self.fail("ffi.bid.unknown_effect",
                                        f"effect {effect!r} is not one of {', '.join(EFFECTS)}", enode)
                    if effect not in effects:
                        effects.append(effect)
            elif key == "method_id":
                raw = self.scalar(vnode, "method_id")
                if not raw.isdigit() or not 0 < int(raw) < 0xFFFFFFFF:
                    raise self.fail("ffi.bid.schema", f"method_id {raw!r} is not in 1..4294967294", vnode)
                doc.method_ids[(iface, name)] = int(raw)
            elif key == "errors":
                doc.errors[(iface, name)] = tuple(self.scalar(e, "error") for e in self.sequence(vnode, "errors"))
            elif key not in ("name", "docs"):
                raise self.fail("ffi.bid.schema", f"unknown method key {key!r}", knode)
        if effects:
            doc.effects[(iface, name)] = tuple(effects)
        return t.Function(name, tuple(params), result, effects=tuple(effects))

    def type_name(self, node: yaml.Node) -> t.Type | None:
        name = self.scalar(node, "a type")
        if name not in BID_TYPES:
            later = " (a later addition, not supported yet)" if name in LATER_TYPES else ""
            raise self.fail("ffi.bid.unknown_type",
                            f"unknown type {name!r}{later}; known: {', '.join(BID_TYPES)}", node)
        return BID_TYPES[name]

    def params(self, node: yaml.Node, iface: str, method: str) -> list[t.Param]:
        out: list[t.Param] = []
        seen: set[str] = set()
        for pnode in self.sequence(node, "params"):
            entries = self.mapping(pnode, "a parameter (`{type: name}`)")
            if len(entries) != 1:
                raise self.fail("ffi.bid.schema", "a parameter is a one-key map `{type: name}`", pnode)
            (tname, (tnode, nnode)), = entries.items()
            typ = self.type_name(tnode)
            if typ is None:
                raise self.fail("ffi.bid.unknown_type", "a parameter cannot be void", tnode)
            pname = self.scalar(nnode, "parameter name")
            if not _IDENT.match(pname):
                raise self.fail("ffi.bid.bad_name", f"parameter name {pname!r} is not an identifier", nnode)
            if pname in seen:
                raise self.fail("ffi.bid.duplicate_param",
                                f"parameter {pname!r} of {iface}.{method} appears twice", nnode)
            seen.add(pname)
            out.append(t.Param(pname, typ))
        return out

    def returns(self, node: yaml.Node) -> t.Type | None:
        if isinstance(node, yaml.ScalarNode):
            return self.type_name(node)
        entries = self.mapping(node, "returns (`type` or `{type: name}`)")
        if len(entries) != 1:
            raise self.fail("ffi.bid.schema", "returns is a type or a one-key map `{type: name}`", node)
        (_, (tnode, _)), = entries.items()
        return self.type_name(tnode)
