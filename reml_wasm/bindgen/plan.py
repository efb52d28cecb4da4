"""Decide what the bindings contain and how each C type is spelled in Reml.

From the C model: the functions kept (exclusions applied; a function with a type that
has no Reml spelling is skipped with `ffi.bindgen.unknown_type`), the records, unions,
enums, aliases and opaque types they reach (by value: defined; only through pointers
and declared outside the target headers: opaque), the constants, and the manifest's
`types` list.  Spelling follows the C -> Reml table of Reml's FFI plan: lower case in
`.reml`, capitalised in the manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from ..audit import Diagnostic, Location, error
from .cmodel import (Array, CModel, CType, EnumDef, FuncType, FunctionDecl, MacroConst, Pointer,
                     Prim, StructDef, TagRef, TypedefRef, all_quals)
from .layout import LayoutError, Layouts
from .preprocess import VA_LIST_TAG
from .selection import Selection
from ..reml.common import reml_ident

Style = Literal["reml", "manifest"]

# (reml, manifest) per C builtin type, LP64
PRIM_MAP: dict[str, tuple[str, str]] = {
    "_Bool": ("bool", "Bool"), "char": ("i8", "I8"), "signed char": ("i8", "I8"),
    "unsigned char": ("u8", "U8"), "short": ("i16", "I16"), "unsigned short": ("u16", "U16"),
    "int": ("i32", "I32"), "unsigned int": ("u32", "U32"), "long": ("i64", "I64"),
    "unsigned long": ("u64", "U64"), "long long": ("i64", "I64"),
    "unsigned long long": ("u64", "U64"), "float": ("f32", "F32"), "double": ("f64", "F64"),
    "void": ("()", "Unit"),
}
# typedef names that map by name (stdint.h, stddef.h, stdbool.h)
NAMED_MAP: dict[str, tuple[str, str]] = {
    "int8_t": ("i8", "I8"), "uint8_t": ("u8", "U8"), "int16_t": ("i16", "I16"),
    "uint16_t": ("u16", "U16"), "int32_t": ("i32", "I32"), "uint32_t": ("u32", "U32"),
    "int64_t": ("i64", "I64"), "uint64_t": ("u64", "U64"), "size_t": ("usize", "USize"),
    "uintptr_t": ("usize", "USize"), "intptr_t": ("isize", "ISize"),
    "ptrdiff_t": ("isize", "ISize"), "ssize_t": ("isize", "ISize"), "bool": ("bool", "Bool"),
}
# integer kinds (consteval) -> reml spelling, for constants and enum bases
INT_KIND_MAP = {"int": "i32", "unsigned int": "u32", "long": "i64", "long long": "i64",
                "unsigned long": "u64", "unsigned long long": "u64"}


class Unsupported(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


HINTS = {
    "unsupported_variadic": "call it from a C shim with a fixed signature",
    "unsupported_fn_ptr": "wrap the callback in a C shim with a fixed signature",
    "unsupported_array": "pass a pointer to the first element",
    "unsupported_type": "declare a Reml type by hand or exclude the symbol",
}


@dataclass
class RecordField:
    name: str                 # Reml name
    c_name: str | None
    reml_type: str
    bit_width: int | None = None
    align: int | None = None  # for a field kept as bytes: the alignment the C type had


@dataclass
class RecordPlan:
    reml_name: str
    struct: StructDef
    fields: list[RecordField] = field(default_factory=list)


@dataclass
class EnumPlan:
    reml_name: str | None     # None: an anonymous enum, emitted as constants
    enum: EnumDef
    base: str


@dataclass
class FunctionPlan:
    func: FunctionDecl
    params: list[tuple[str, str]]   # (Reml name, Reml type)
    result: str


@dataclass
class Plan:
    model: CModel
    functions: list[FunctionPlan] = field(default_factory=list)
    records: list[RecordPlan] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    enums: list[EnumPlan] = field(default_factory=list)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    constants: list[MacroConst] = field(default_factory=list)
    manifest_types: list[dict] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


class Planner:
    def __init__(self, model: CModel, exclude: Sequence[str] = (), selection: Selection | None = None) -> None:
        self.model = model
        self.exclude = [re.compile(p) for p in exclude]
        self.selection = selection or Selection()
        self.plan = Plan(model)
        self.names: dict[tuple[str, str], str] = {}
        self.full: dict[tuple[str, str], None] = {}     # tags to define, in first-use order
        self.pointed: dict[tuple[str, str], None] = {}  # tags reached through pointers
        self.alias_needed: dict[str, str] = {}
        self._name_tags()

    # --- naming ------------------------------------------------------------------------

    def _name_tags(self) -> None:
        for (kind, key), d in self.model.tags.items():
            if d.tag is not None:
                self.names[(kind, key)] = d.tag
            elif d.typedef_names:
                self.names[(kind, key)] = d.typedef_names[0]
            # else: an anonymous type no typedef names is named after its parent when reached
        self.tag_names = set(self.names.values())

    def tag_name(self, ref: TagRef, parent: str | None = None, member: str | None = None) -> str:
        key = (ref.kind, ref.key)
        name = self.names.get(key)
        if name is None:
            name = f"{parent or 'anon'}_{member or 'anon'}"
            self.names[key] = name
        return name

    # --- C -> Reml -----------------------------------------------------------------------

    def reml_type(self, t: CType, style: Style, *, by_value: bool = True,
                  parent: str | None = None, member: str | None = None,
                  flexible: bool = False) -> str:
        i = 0 if style == "reml" else 1
        if isinstance(t, TypedefRef):
            if t.name in NAMED_MAP:
                return NAMED_MAP[t.name][i]
            if self.selection.blocked_type(t.name):
                raise Unsupported("unsupported_type", f"{t.name} is blocklisted")
            td = self.model.typedefs.get(t.name)
            if td is None:
                raise Unsupported("unsupported_type", f"unknown typedef {t.name}")
            if td.vector:
                raise Unsupported("unsupported_type", f"{t.name} is a vector type (vector_size)")
            if isinstance(td.type, TagRef) and td.type.kind != "enum":
                tag_name = self.reml_type(td.type, style, by_value=by_value)
                if tag_name == t.name:
                    return t.name
                if t.name in self.tag_names:  # `typedef struct a b;` where another tag is `b`
                    return tag_name
                self.alias_needed.setdefault(t.name, tag_name)
                return t.name
            return self.reml_type(td.type, style, by_value=by_value, parent=parent, member=member)
        if isinstance(t, Prim):
            if t.name not in PRIM_MAP:
                raise Unsupported("unsupported_type", f"{t.name} has no Reml type")
            return PRIM_MAP[t.name][i]
        if isinstance(t, Pointer):
            target = self.model.resolve(t.target)
            if isinstance(target, Prim) and target.name == "void":
                return "VoidPtr"
            if isinstance(target, FuncType):
                return self._fn_ptr(target, style)
            if isinstance(target, TagRef) and target.key == VA_LIST_TAG:
                raise Unsupported("unsupported_variadic", "va_list parameter")
            return f"Ptr<{self.reml_type(t.target, style, by_value=False)}>"
        if isinstance(t, Array):
            element = self.model.resolve(t.element)
            if isinstance(element, TagRef) and element.key == VA_LIST_TAG:
                raise Unsupported("unsupported_variadic", "va_list value")
            if t.length is None and not flexible:
                raise Unsupported("unsupported_array", "an array of unknown length")
            inner = self.reml_type(t.element, style, by_value=by_value, parent=parent, member=member)
            return f"[{inner}; {t.length or 0}]"
        if isinstance(t, TagRef):
            if t.kind == "enum":
                enum_def = self.model.enum(t)
                base = INT_KIND_MAP[enum_def.underlying]
                return base if style == "reml" else base.upper()
            if t.key == VA_LIST_TAG:
                raise Unsupported("unsupported_variadic", "va_list value")
            key = (t.kind, t.key)
            d = self.model.struct(t)  # not an enum here
            if not t.anonymous and self.selection.blocked_type(t.key):
                raise Unsupported("unsupported_type", f"{t.kind} {t.key} is blocklisted")
            if by_value and d.fields is None:
                raise Unsupported("unsupported_type", f"{t.kind} {t.key} is incomplete")
            name = self.tag_name(t, parent, member)
            complete = d.fields is not None
            (self.full if complete and (by_value or d.target) else self.pointed).setdefault(key, None)
            return name
        if isinstance(t, FuncType):
            raise Unsupported("unsupported_fn_ptr", "a function type used as a value")
        raise Unsupported("unsupported_type", f"no Reml type for {t}")

    def _fn_ptr(self, f: FuncType, style: Style) -> str:
        if f.variadic:
            raise Unsupported("unsupported_fn_ptr", "pointer to a variadic function")
        params = ", ".join(self.reml_type(p.type, style) for p in f.params)
        return f"FnPtr<({params}), {self.reml_type(f.result, style)}>"

    # --- planning ----------------------------------------------------------------------

    def unknown_type(self, symbol: str, c_type: str, exc: Unsupported, location: Location | None,
                     consequence: str = "the declaration is skipped") -> Diagnostic:
        return Diagnostic("ffi.bindgen.unknown_type",
                          f"{symbol}: {c_type}: {exc.detail}; {consequence}",
                          severity="warning", location=location,
                          extensions={"symbol": symbol, "c_type": c_type, "reason": exc.reason,
                                      "hint": HINTS[exc.reason]})

    def run(self) -> Plan:
        m, plan = self.model, self.plan
        seen_types: set[tuple[str, str]] = set()
        for fn in m.functions:
            if any(rx.search(fn.name) for rx in self.exclude):
                plan.excluded.append(fn.name)
                continue
            ft = fn.type
            current = ft.result
            try:
                result = self.reml_type(ft.result, "reml")
                params = []
                for i, p in enumerate(ft.params):
                    current = p.type
                    params.append((reml_ident(p.name or f"arg{i}"), self.reml_type(p.type, "reml")))
                entries = [self._manifest_entry(ft.result)]
                entries += [self._manifest_entry(p.type) for p in ft.params]
            except Unsupported as exc:
                plan.diagnostics.append(self.unknown_type(fn.name, m.c_spelling(current), exc,
                                                          fn.location))
                continue
            plan.functions.append(FunctionPlan(fn, params, result))
            for e in entries:
                k = (e["c"], e["reml"])
                if k not in seen_types:
                    seen_types.add(k)
                    plan.manifest_types.append(e)
        for fn in m.inline_functions:
            what = "static inline function" if fn.inline else "static function"
            plan.diagnostics.append(Diagnostic(
                "ffi.bindgen.unresolved_symbol",
                f"{fn.name} is a {what}: no library exports it, so it is not bound",
                severity="warning", location=fn.location,
                extensions={"symbol": fn.name, "reason": "static_inline" if fn.inline else "static"}))
        for var in m.variables:
            plan.diagnostics.append(Diagnostic(
                "ffi.bindgen.unresolved_symbol",
                f"{var.name} is a variable: extern blocks bind functions only, so it is not bound",
                severity="warning", location=var.location,
                extensions={"symbol": var.name, "reason": "variable"}))
        # the target headers' own types, then everything reached
        for key, d in m.tags.items():
            if d.target and isinstance(d, StructDef) and (d.tag is not None or d.typedef_names):
                (self.full if d.fields is not None else self.pointed).setdefault(key, None)
        for d in m.enums():
            if d.target and d.constants is not None:
                plan.enums.append(EnumPlan(self.names.get(("enum", d.key)), d,
                                           INT_KIND_MAP[d.underlying]))
        self._records()
        for td in m.typedefs.values():
            if td.target and isinstance(td.type, TagRef) and td.type.kind != "enum":
                try:
                    self.reml_type(TypedefRef(td.name), "reml", by_value=False)
                except Unsupported:
                    pass
        self._records()
        done_full = {(r.struct.kind, r.struct.key) for r in plan.records}
        plan.opaque = [self.names[k] for k in self.pointed if k not in done_full]
        plan.aliases = [(a, t) for a, t in self.alias_needed.items()]
        plan.constants = self._constants()
        return plan

    def _constants(self) -> list[MacroConst]:
        """The macro constants, each name once: a macro naming an enum constant of the
        same value (`#define X X`) is that constant; a different value is reported and
        the enum's value kept."""
        enum_values = {c.name: c.value for e in self.plan.enums for c in e.enum.constants or ()}
        out = []
        for c in self.model.macros:
            if c.kind == "float" and c.value != c.value:
                continue
            if c.name in enum_values:
                if c.kind != "int" or c.value != enum_values[c.name]:
                    self.plan.diagnostics.append(Diagnostic(
                        "ffi.bindgen.duplicate_constant",
                        f"{c.name} is defined twice with different values: the enum constant "
                        f"{enum_values[c.name]} is kept, the macro's {c.value!r} is not bound",
                        severity="warning", location=c.location,
                        extensions={"symbol": c.name, "values": [enum_values[c.name], repr(c.value)]}))
                continue
            out.append(c)
        return out

    def _records(self) -> None:
        done: set[tuple[str, str]] = {(r.struct.kind, r.struct.key) for r in self.plan.records}
        progress = True
        while progress:
            progress = False
            for key in list(self.full):
                if key in done:
                    continue
                done.add(key)
                progress = True
                d = self.model.tags[key]
                assert isinstance(d, StructDef)
                self.plan.records.append(self._record(d))

    def _record(self, d: StructDef) -> RecordPlan:
        name = self.names[(d.kind, d.key)]
        rec = RecordPlan(name, d)
        for i, f in enumerate(d.fields or ()):
            if f.bit_width == 0:
                continue
            member = f.name or f"anon{i}"
            try:
                t = self.reml_type(f.type, "reml", parent=name, member=member, flexible=f.flexible)
            except Unsupported as exc:
                self.plan.diagnostics.append(self.unknown_type(
                    f"{name}.{member}", self.model.c_spelling(f.type), exc, d.location,
                    "the field is kept as bytes of the same size"))
                try:
                    size, align = Layouts(self.model).size_align(f.type)
                except LayoutError:
                    raise error("ffi.bindgen.parse_failed", f"{name}.{member} has the incomplete type "
                                f"{self.model.c_spelling(f.type)}", location=d.location) from None
                rec.fields.append(RecordField(reml_ident(member), f.name, f"[u8; {size}]", None,
                                              align if align > 1 else None))
                continue
            rec.fields.append(RecordField(reml_ident(member), f.name, t, f.bit_width))
        return rec

    def _manifest_entry(self, t: CType) -> dict[str, Any]:
        entry: dict[str, Any] = {"c": self.model.c_spelling(t), "reml": self.reml_type(t, "manifest")}
        quals = all_quals(t)
        if quals:
            entry["qualifiers"] = quals
        return entry


def plan(model: CModel, exclude: Sequence[str] = (), selection: Selection | None = None) -> Plan:
    """The bindings plan (`exclude`: function-name regexes; `selection`: its blocked types
    are never emitted, and what uses one is skipped or kept as bytes)."""
    return Planner(model, exclude, selection).run()
