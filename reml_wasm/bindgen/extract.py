"""pycparser AST -> C model.

Every tag and typedef of the translation unit is recorded (the headers' own and those
of the headers they include, so the types a target declaration uses can be followed);
functions, variables and `static inline` definitions are taken from the target headers
only.  Constant expressions (enum values, array lengths, bit widths) are folded with
`consteval`; object-like `#define`s of the target headers become constants when they
fold to an integer, a floating value or a string, and are reported otherwise.
"""

from __future__ import annotations

import re
from typing import Literal

from pycparser import c_ast, c_generator, c_parser

from ..audit import Location, error
from . import consteval as ce
from .cmodel import (Array, CField, CModel, CParam, CType, EnumConst, EnumDef, FuncType,
                     FunctionDecl, MacroConst, Pointer, Prim, SkippedMacro, StructDef, TagRef,
                     TypedefDef, TypedefRef, VariableDecl, qualifiers, with_quals)
from .attributes import LayoutAttr
from .layout import BIGGEST_ALIGNMENT, LayoutError, Layouts
from .preprocess import VA_LIST_TAG, PreprocessedUnit
from .selection import Selection

_GEN = c_generator.CGenerator()

_SIGNED_WORDS = {"signed", "unsigned", "short", "long", "int", "char", "_Bool", "float", "double",
                 "void", "_Complex"}


def canonical_prim(names: list[str]) -> str | None:
    """`['long', 'unsigned', 'int']` -> `unsigned long`; None if not a builtin type."""
    words = list(names)
    if not words or any(w not in _SIGNED_WORDS for w in words):
        return None
    if "void" in words:
        return "void"
    if "_Bool" in words:
        return "_Bool"
    complex_ = "_Complex" in words
    if "float" in words:
        return "float _Complex" if complex_ else "float"
    if "double" in words:
        base = "long double" if "long" in words else "double"
        return base + " _Complex" if complex_ else base
    unsigned = "unsigned" in words
    if "char" in words:
        return "unsigned char" if unsigned else ("signed char" if "signed" in words else "char")
    if "short" in words:
        base = "short"
    else:
        longs = words.count("long")  # three: `__int128`, spelled so by the prelude
        base = "__int128" if longs >= 3 else "long long" if longs == 2 else ("long" if longs == 1 else "int")
    return "unsigned " + base if unsigned else base


def _loc(coord) -> Location | None:
    if coord is None:
        return None
    return Location(coord.file, coord.line, coord.column or 1)


class Extractor:
    def __init__(self, unit: PreprocessedUnit, selection: Selection | None = None) -> None:
        self.unit = unit
        self.selection = selection or Selection()
        self.model = CModel()
        self._anon = 0
        self._anon_keys: dict[tuple, str] = {}
        self.layouts = Layouts(self.model)
        self.pack: list[int | None] = [None]  # #pragma pack stack
        self._in_params = 0  # > 0 while reading a parameter list (variable lengths allowed)

    # --- types ------------------------------------------------------------------------

    def const_int(self, node: c_ast.Node, what: str, file: str | None) -> int | None:
        """Fold an integer constant expression; outside the target headers a failure
        gives None (the declaration is then incomplete) instead of stopping the run."""
        text = _GEN.visit(node)
        try:
            v = ce.evaluate(text, self._lookup_enum, self._type_kind, self._size_of)
        except ce.ConstEvalError as exc:
            if not self.unit.is_target(file):
                return None
            raise error("ffi.bindgen.parse_failed", f"cannot fold {what} `{text}`: {exc}",
                        location=_loc(node.coord)) from None
        if not isinstance(v, ce.IntVal):
            raise error("ffi.bindgen.parse_failed", f"{what} `{text}` is not an integer",
                        location=_loc(node.coord))
        return v.value

    def _lookup_enum(self, name: str) -> ce.Value | None:
        v = self.model.enum_values.get(name)
        return None if v is None else ce.IntVal(v, "int" if -2**31 <= v < 2**31 else "long")

    def _size_of(self, op_words: list[str]) -> int | None:
        op, words = op_words[0], op_words[1:]
        if op == "offsetof":
            return self._offset_of(words)
        t = self._type_of_words(words)
        if t is None:
            return None
        if isinstance(t, int):
            return t
        try:
            return self.layouts.size_align(t)[0 if op == "sizeof" else 1]
        except (LayoutError, KeyError):
            return None

    def _type_of_words(self, words: list[str]) -> CType | int | None:
        """The type a `sizeof` names (an int: a pointer's size), or None."""
        prim = canonical_prim(words)
        t: CType
        if prim is not None:
            t = Prim(prim)
        elif len(words) == 1:
            t = TypedefRef(words[0])
        elif len(words) == 2 and words[0] in ("struct", "union", "enum"):
            t = TagRef(words[0], words[1])  # type: ignore[arg-type]
        elif len(words) >= 2 and words[-1] == "*":
            return 8
        else:
            return None
        return t

    def _offset_of(self, words: list[str]) -> int | None:
        """`offsetof(type, a.b[2].c)` from our own layouts."""
        if "," not in words:
            return None
        comma = words.index(",")
        t = self._type_of_words(words[:comma])
        path = words[comma + 1:]
        if t is None or isinstance(t, int) or not path:
            return None
        offset = 0
        try:
            i = 0
            while i < len(path):
                tok = path[i]
                if tok == ".":
                    i += 1
                    continue
                if tok == "[":
                    index = int(path[i + 1], 0)
                    t = self.model.resolve(t)
                    if not isinstance(t, Array) or path[i + 2] != "]":
                        return None
                    offset += index * self.layouts.size_align(t.element)[0]
                    t = t.element
                    i += 3
                    continue
                found = self._member(t, tok)
                if found is None:
                    return None
                delta, t = found
                offset += delta
                i += 1
        except (LayoutError, KeyError, ValueError, IndexError):
            return None
        return offset

    def _member(self, t: CType, name: str) -> tuple[int, CType] | None:
        """(offset, type) of member `name` of a struct or union, looking into anonymous members."""
        r = self.model.resolve(t)
        if not isinstance(r, TagRef) or r.kind == "enum":
            return None
        d = self.model.struct(r)
        for f, fl in zip(d.fields or (), self.layouts.struct(d).fields):
            if f.name == name:
                return fl.offset, f.type
            if f.name is None and f.bit_width is None:
                inner = self._member(f.type, name)
                if inner is not None:
                    return fl.offset + inner[0], inner[1]
        return None

    def _type_kind(self, name: str) -> str | None:
        try:
            t = self.model.resolve(TypedefRef(name))
        except KeyError:
            return None
        arithmetic = set(ce.INT_KINDS) | {"char", "signed char", "unsigned char", "short",
                                          "unsigned short", "_Bool", "float", "double"}
        return t.name if isinstance(t, Prim) and t.name in arithmetic else None

    def ctype(self, node: c_ast.Node, file: str | None) -> CType:
        if isinstance(node, c_ast.TypeDecl):
            return with_quals(self.ctype(node.type, file), node.quals or ())
        if isinstance(node, c_ast.Typename):
            return with_quals(self.ctype(node.type, file), node.quals or ())
        if isinstance(node, c_ast.IdentifierType):
            prim = canonical_prim(node.names)
            if prim is not None:
                return Prim(prim)
            if len(node.names) != 1:
                raise error("ffi.bindgen.parse_failed", f"unknown type {' '.join(node.names)}",
                            location=_loc(node.coord))
            return TypedefRef(node.names[0])
        if isinstance(node, c_ast.PtrDecl):
            return Pointer(self.ctype(node.type, file), qualifiers(node.quals or ()))
        if isinstance(node, c_ast.ArrayDecl):
            # the element first: `struct t {…} a[N / sizeof(struct t)]` defines what N uses
            element = self.ctype(node.type, file)
            if node.dim is None:
                length = None
            elif self._in_params:  # `int a[n]`, `a[static n]`: sized by another parameter
                length = self._param_dim(node.dim)
            else:
                length = self.const_int(node.dim, "array length", file)
            return Array(element, length, qualifiers(node.dim_quals or ()))
        if isinstance(node, c_ast.FuncDecl):
            return self.functype(node, file)
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            return self.struct(node, file)
        if isinstance(node, c_ast.Enum):
            return self.enum(node, file)
        raise error("ffi.bindgen.parse_failed", f"unsupported declarator {type(node).__name__}",
                    location=_loc(getattr(node, "coord", None)))

    def _param_dim(self, dim: c_ast.Node) -> int | None:
        """A parameter's array length: a constant, or None for a variable length."""
        try:
            v = ce.evaluate(_GEN.visit(dim), self._lookup_enum, self._type_kind, self._size_of)
        except ce.ConstEvalError:
            return None
        return v.value if isinstance(v, ce.IntVal) else None

    def functype(self, node: c_ast.FuncDecl, file: str | None) -> FuncType:
        result = self.ctype(node.type, file)
        params: list[CParam] = []
        variadic = False
        self._in_params += 1
        try:
            return self._functype(node, file, result, params, variadic)
        finally:
            self._in_params -= 1

    def _functype(self, node: c_ast.FuncDecl, file: str | None, result: CType,
                  params: list[CParam], variadic: bool) -> FuncType:
        for p in (node.args.params if node.args is not None else ()):
            if isinstance(p, c_ast.EllipsisParam):
                variadic = True
                continue
            if isinstance(p, c_ast.ID):  # K&R identifier list
                params.append(CParam(p.name, Prim("int")))
                continue
            t = self.ctype(p.type, file)  # (Decl.quals repeat the base type's qualifiers)
            if isinstance(t, Prim) and t.name == "void" and not p.name:
                continue  # f(void)
            # parameters of array and function type are adjusted to pointers (C11 6.7.6.3)
            # (also through typedefs: `uuid_t u`, `mpz_t z`, `jmp_buf env`)
            length = None
            try:
                adjusted = self.model.resolve(t)
            except KeyError:
                adjusted = t
            if isinstance(adjusted, Array) and not _is_va_list(adjusted):
                t, length = Pointer(adjusted.element, adjusted.quals), adjusted.length
                inner = t.target
                if isinstance(inner, Array) and inner.length is None:  # `m[n][n]`: a row pointer
                    t = Pointer(inner.element, t.quals)
            elif isinstance(adjusted, FuncType):
                t = Pointer(t)
            params.append(CParam(getattr(p, "name", None), t, length))
        return FuncType(result, tuple(params), variadic)

    def _tag_key(self, node: c_ast.Node, kind: str) -> str:
        if node.name:
            return node.name
        coord = node.coord
        ident = (kind, coord.file, coord.line, coord.column) if coord else (kind, id(node))
        key = self._anon_keys.get(ident)
        if key is None:
            self._anon += 1
            key = f"@anon{self._anon}"
            self._anon_keys[ident] = key
        return key

    def struct(self, node: c_ast.Struct | c_ast.Union, file: str | None) -> TagRef:
        kind: Literal["struct", "union"] = "struct" if isinstance(node, c_ast.Struct) else "union"
        key = self._tag_key(node, kind)
        existing = self.model.tags.get((kind, key))
        if node.decls is None:
            if existing is None:
                self.model.tags[(kind, key)] = StructDef(kind, key, node.name, None, _loc(node.coord),
                                                         self.unit.is_target(file))
            return TagRef(kind, key)
        if existing is not None and isinstance(existing, StructDef) and existing.fields is not None:
            return TagRef(kind, key)
        d = existing if isinstance(existing, StructDef) else StructDef(
            kind, key, node.name, None, _loc(node.coord))
        d.location = _loc(node.coord)
        d.target = self.selection.keeps("type", [node.name], file, self.unit.is_target(file))
        d.pack = self.pack[-1]
        self.model.tags[(kind, key)] = d
        fields: list[CField] = []
        decls = node.decls
        sa = self.unit.attributes.struct_attr(node.coord.file, node.coord.line, node.coord.column) \
            if node.coord is not None else None
        if sa is not None:
            d.packed, d.aligned = sa.packed, self._alignment(sa, file)
        for i, decl in enumerate(decls):
            if not isinstance(decl, c_ast.Decl):
                continue  # _Static_assert, pragmas
            t = self.ctype(decl.type, file)
            if decl.name is None and decl.bitsize is None and not _anonymous_member(decl.type):
                continue  # `enum e;` or `struct tag;` inside a struct declares no member
            width = None if decl.bitsize is None else self.const_int(decl.bitsize, "bit-field width", file)
            flexible = isinstance(t, Array) and t.length is None and i == len(decls) - 1
            fa = self._attr("member", decl.coord, file)
            aligned = max([a for a in (self._alignment(fa, file), self._alignas(decl, file)) if a],
                          default=None)
            fields.append(CField(decl.name, t, width, flexible, fa.packed if fa else False, aligned))
        d.fields = tuple(fields)
        return TagRef(kind, key)

    def _attr(self, kind: str, coord, file: str | None) -> LayoutAttr | None:
        if not self.unit.attributes.spans or coord is None:
            return None
        return self.unit.attributes.lookup(kind, coord.file, coord.line, coord.column)

    def _alignment(self, attr: LayoutAttr | None, file: str | None) -> int | None:
        """The byte alignment an `aligned` attribute asks for (plain `aligned`: the
        target's biggest alignment, 16 on x86_64)."""
        if attr is None or attr.aligned is None:
            return None
        if attr.aligned == "":
            return BIGGEST_ALIGNMENT
        try:
            v = ce.evaluate(attr.aligned, self._lookup_enum, self._type_kind, self._size_of)
        except ce.ConstEvalError:
            return None
        return v.value if isinstance(v, ce.IntVal) else None

    def _vector(self, t: CType, size_expr: str, aligned: int | None,
                file: str | None) -> tuple[CType, int | None, bool]:
        """`vector_size(N)`: N bytes of the element type, aligned to N (as GCC lays it out)."""
        try:
            n = ce.evaluate(size_expr, self._lookup_enum, self._type_kind, self._size_of)
            element = self.layouts.size_align(t)[0]
        except (ce.ConstEvalError, LayoutError, KeyError):
            return t, aligned, False
        if not isinstance(n, ce.IntVal) or n.value <= 0 or n.value % element:
            return t, aligned, False
        return Array(t, n.value // element), max(aligned or 0, n.value), True

    def _alignas(self, decl: c_ast.Decl, file: str | None) -> int | None:
        """The largest `_Alignas(…)` of a member (a type or a constant expression)."""
        best = None
        for a in decl.align or ():
            n: int | None
            if isinstance(a.alignment, c_ast.Typename):
                try:
                    n = self.layouts.size_align(self.ctype(a.alignment, file))[1]
                except (LayoutError, KeyError):
                    continue
            else:
                n = self.const_int(a.alignment, "_Alignas", file)
            if n:
                best = max(best or 0, n)
        return best

    def pragma(self, text: str) -> None:
        """`#pragma pack(...)`: push, pop, set or reset the maximum member alignment."""
        m = re.fullmatch(r"\s*pack\s*\(([^)]*)\)\s*", text)
        if m is None:
            return
        args = [a.strip() for a in m.group(1).split(",") if a.strip()]
        numbers = [int(a, 0) for a in args if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", a)]
        value = numbers[-1] if numbers else None  # `push, name, 2`: identifiers are labels
        if args and args[0] == "push":
            self.pack.append(value if numbers else self.pack[-1])
        elif args and args[0] == "pop":
            if len(self.pack) > 1:
                self.pack.pop()
        elif not args or numbers:
            self.pack[-1] = value  # pack(n) sets, pack() resets; pack(show) changes nothing

    def enum(self, node: c_ast.Enum, file: str | None) -> TagRef:
        key = self._tag_key(node, "enum")
        existing = self.model.tags.get(("enum", key))
        if node.values is None:
            if existing is None:
                self.model.tags[("enum", key)] = EnumDef(key, node.name, None, _loc(node.coord),
                                                         self.unit.is_target(file))
            return TagRef("enum", key)
        if isinstance(existing, EnumDef) and existing.constants is not None:
            return TagRef("enum", key)
        consts: list[EnumConst] = []
        nxt = 0
        for e in node.values.enumerators:
            value = nxt if e.value is None else self.const_int(e.value, f"value of {e.name}", file)
            if value is None:
                value = nxt
            consts.append(EnumConst(e.name, value))
            self.model.enum_values[e.name] = value
            nxt = value + 1
        d = existing if isinstance(existing, EnumDef) else EnumDef(key, node.name, None)
        d.constants = tuple(consts)
        d.location = _loc(node.coord)
        d.target = self.selection.keeps("type", [node.name], file, self.unit.is_target(file))
        self.model.tags[("enum", key)] = d
        return TagRef("enum", key)

    # --- top level --------------------------------------------------------------------

    def run(self, ast: c_ast.FileAST) -> CModel:
        m = self.model
        sel = self.selection
        seen_funcs: set[str] = set()
        for node in ast.ext:
            file = node.coord.file if getattr(node, "coord", None) is not None else None
            target = self.unit.is_target(file)
            if isinstance(node, c_ast.Pragma):
                self.pragma(node.string or "")
            elif isinstance(node, c_ast.Typedef):
                t = self.ctype(node.type, file)
                if node.name not in m.typedefs:
                    kept = sel.keeps("type", [node.name], file, target)
                    attr = self._attr("decl", node.coord, file)
                    aligned = self._alignment(attr, file)
                    vector = False
                    if attr is not None and attr.mode:
                        t = _with_mode(t, attr.mode)
                    if attr is not None and attr.vector_size:
                        t, aligned, vector = self._vector(t, attr.vector_size, aligned, file)
                    m.typedefs[node.name] = TypedefDef(node.name, t, _loc(node.coord), kept, aligned, vector)
                    if isinstance(t, TagRef):
                        d = m.tags[(t.kind, t.key)]
                        d.typedef_names.append(node.name)
                        if kept and sel.allowing:
                            d.target = True
            elif isinstance(node, c_ast.Decl):
                if node.type is None:
                    continue
                t = self.ctype(node.type, file)
                if node.name is None:
                    continue  # `struct x {...};` / `enum {...};` — recorded by ctype()
                if isinstance(t, FuncType):
                    if node.name in seen_funcs or not sel.keeps("function", [node.name], file, target):
                        continue
                    seen_funcs.add(node.name)
                    attr = self._attr("decl", node.coord, file)
                    label = attr.label if attr is not None and attr.label != node.name else None
                    fn = FunctionDecl(node.name, t, _loc(node.coord), "static" in (node.storage or ()),
                                      "inline" in (node.funcspec or ()), symbol=label,
                                      nonnull=attr.nonnull if attr is not None else None,
                                      access=attr.access if attr is not None else ())
                    (m.inline_functions if fn.static or fn.inline else m.functions).append(fn)
                elif sel.keeps("var", [node.name], file, target):
                    m.variables.append(VariableDecl(node.name, t, _loc(node.coord)))
            elif isinstance(node, c_ast.FuncDef):
                if not sel.keeps("function", [node.decl.name], file, target):
                    continue
                decl = node.decl
                t = self.ctype(decl.type, file)
                if not isinstance(t, FuncType):  # e.g. `name { … }`, read as an old-style definition
                    raise error("ffi.bindgen.parse_failed", f"`{decl.name}` is not a declaration C allows here",
                                location=_loc(decl.coord))
                seen_funcs.add(decl.name)
                m.inline_functions.append(FunctionDecl(
                    decl.name, t, _loc(decl.coord), "static" in (decl.storage or ()),
                    "inline" in (decl.funcspec or ()), has_body=True))
        return m

    # --- macros -----------------------------------------------------------------------

    def macros(self) -> None:
        m = self.model
        defs = self.unit.macros
        cache: dict[str, ce.Value | None] = {}
        active: set[str] = set()

        def lookup(name: str) -> ce.Value | None:
            if name in cache:
                return cache[name]
            if name in m.enum_values:
                return self._lookup_enum(name)
            d = defs.get(name)
            if d is None or d.params is not None or not d.body or name in active:
                return None
            active.add(name)
            try:
                value: ce.Value | None = ce.evaluate(d.body, lookup, self._type_kind, self._size_of)
            except ce.ConstEvalError:
                value = None
            finally:
                active.discard(name)
            cache[name] = value
            return value

        for name, d in defs.items():
            file = d.location.file
            if not self.selection.keeps("var", [name], file, self.unit.is_target(file)):
                continue
            if _reserved(name) and not self.unit.is_named(file) and not self.selection.allowing:
                continue  # the implementation's own names, in headers the named ones include
            if d.params is not None:
                m.skipped_macros.append(SkippedMacro(name, "function-like macro", d.location))
                continue
            if not d.body:
                continue  # include guards and feature flags
            try:
                value = ce.evaluate(d.body, lookup, self._type_kind, self._size_of)
            except ce.ConstEvalError as exc:
                m.skipped_macros.append(SkippedMacro(name, f"not a constant: {exc}", d.location))
                continue
            cache[name] = value
            if isinstance(value, ce.IntVal):
                m.macros.append(MacroConst(name, "int", value.value, value.kind, d.location))
            elif isinstance(value, ce.FloatVal):
                m.macros.append(MacroConst(name, "float", value.value, value.kind, d.location))
            else:
                m.macros.append(MacroConst(name, "string", value.value, "char[]", d.location))


_PARSE_ERR = re.compile(r"^(.*?):(\d+):(?:(\d+):)?\s*(.*)$", re.S)


class _Parser(c_parser.CParser):
    """pycparser, with every syntax error placed at the token it stopped on and naming it
    (some of its errors carry only the file name)."""

    def _parse_error(self, msg: str, coord):  # type: ignore[override]
        if msg.startswith("before: "):  # pycparser's "expected something else here"
            prev, last = self.read(2), self.read(1)
            if prev is not None and last is not None and prev.type == "ID" and last.type == "ID" \
                    and not self._is_type_in_scope(prev.value):  # `x y = 1;`: x names no type
                raise c_parser.ParseError(f"{self._tok_coord(prev)}: unknown type name '{prev.value}'")
            raise c_parser.ParseError(f"{coord}: unexpected '{msg[8:]}'")
        tok = self.current()
        if tok is not None and (isinstance(coord, str) or coord is None or getattr(coord, "line", None) is None):
            coord = self._tok_coord(tok)
        if tok is not None and tok.type == "ID" and not self._is_type_in_scope(tok.value) \
                and msg in ("Invalid specifier list", "Invalid declaration", "Missing type in declaration",
                            "Invalid struct/union declaration", "Invalid abstract declarator") \
                and self._peek_type(2) in ("ID", "TIMES", "LPAREN"):
            msg = f"unknown type name '{tok.value}'"
        elif tok is not None:
            msg = f"{msg} at '{tok.value}'"
        raise c_parser.ParseError(f"{coord}: {msg}")

    def read(self, back: int):
        """The token read `back` tokens ago (1: the last one), or None."""
        stream = self._tokens
        i = stream._index - back
        return stream._buffer[i] if 0 <= i < len(stream._buffer) else None

    def current(self):
        """The next token, else the last one read, or None (also when the lexer failed)."""
        try:
            return self._peek() or self.read(1)
        except Exception:  # noqa: BLE001
            return self.read(1)


class _Tracking(_Parser):
    """Notes the file of every token read: run only to locate a failure pycparser did
    not report itself (its tokens carry lines, not files)."""

    last = None
    last_file = "<stdin>"

    def _advance(self):  # type: ignore[override]
        tok = super()._advance()
        self.last, self.last_file = tok, self.clex.filename
        return tok


def _token_at(text: str, location: Location) -> str | None:
    """The identifier at `location` in the preprocessed text (line markers followed)."""
    file, line = "", 1
    for raw in text.split("\n"):
        m = _LINE_MARK.match(raw)
        if m is not None:
            file, line = m.group(2), int(m.group(1))
            continue
        if file == location.file and line == location.line:
            word = re.match(r"[A-Za-z_]\w*", raw[location.column - 1:])
            return word.group() if word else None
        line += 1
    return None


_LINE_MARK = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"')
_TYPE_WORDS = {"void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool",
               "struct", "union", "enum", "const", "volatile", "extern", "static", "typedef", "inline",
               "restrict", "register", "auto", "_Complex"}


def parse(unit: PreprocessedUnit) -> c_ast.FileAST:
    parser = _Parser()
    try:
        return parser.parse(unit.text, "<stdin>")
    except c_parser.ParseError as exc:
        msg = str(exc)
        m = _PARSE_ERR.match(msg)
        loc = None
        if m is not None:
            loc = Location(m.group(1), int(m.group(2)), int(m.group(3) or 1))
            msg = m.group(4)
            if msg.startswith("Invalid function definition"):
                # `foo_t x;` at file scope reads as an old-style definition of `foo_t`
                word = _token_at(unit.text, loc)
                if word is not None and word not in _TYPE_WORDS:
                    msg = f"unknown type name '{word}'"
        raise error("ffi.bindgen.parse_failed", f"cannot parse: {msg}", location=loc) from None
    except (AssertionError, AttributeError, IndexError, KeyError, TypeError, ValueError,
            RecursionError) as exc:
        # pycparser gives up on some malformed input (a stray `}`) without a ParseError
        tracking = _Tracking()
        try:
            tracking.parse(unit.text, "<stdin>")
        except Exception:  # noqa: BLE001 - the same failure again, now with its file known
            pass
        tok = tracking.last
        loc = None if tok is None else Location(tracking.last_file, tok.lineno, tok.column or 1)
        at = "" if tok is None else f" at '{tok.value}'"
        raise error("ffi.bindgen.parse_failed", f"cannot parse{at}: unbalanced or malformed input "
                    f"({type(exc).__name__} in pycparser)", location=loc) from None


def extract(unit: PreprocessedUnit, headers: tuple[str, ...] = (),
            selection: Selection | None = None) -> CModel:
    """The C model of a preprocessed unit (`selection`: allow / block lists)."""
    ex = Extractor(unit, selection)
    ex.model.headers = headers
    ex.run(parse(unit))
    ex.macros()
    return ex.model


def _anonymous_member(node: c_ast.Node) -> bool:
    """C11 anonymous members are untagged structs and unions; any other unnamed member
    declaration (a tag, an enum, a bare type) declares nothing."""
    return isinstance(node, (c_ast.Struct, c_ast.Union)) and node.name is None


def _reserved(name: str) -> bool:
    """Identifiers C reserves for the implementation: `__x` and `_X`."""
    return name.startswith("__") or (name.startswith("_") and name[1:2].isupper())


def _is_va_list(t: Array) -> bool:
    """`va_list` (an array of the builtin tag): kept as its typedef, the way C spells it."""
    return isinstance(t.element, TagRef) and t.element.key == VA_LIST_TAG


# `mode` attribute -> the C type of that machine mode (x86_64)
_INT_MODES = {"QI": "char", "HI": "short", "SI": "int", "DI": "long", "TI": "__int128",
              "word": "long", "pointer": "long"}
_FLOAT_MODES = {"SF": "float", "DF": "double", "XF": "long double", "TF": "long double",
                "SC": "float _Complex", "DC": "double _Complex", "XC": "long double _Complex",
                "TC": "long double _Complex"}


def _with_mode(t: CType, mode: str) -> CType:
    """A typedef's `mode(…)`: the same kind of type at the mode's width."""
    if not isinstance(t, Prim):
        return t
    if mode in _INT_MODES and t.name not in ("float", "double", "long double") and "_Complex" not in t.name:
        base = _INT_MODES[mode]
        unsigned = t.name.startswith("unsigned")
        if base == "char":
            return Prim("unsigned char" if unsigned else "signed char", t.quals)
        return Prim(("unsigned " if unsigned else "") + base, t.quals)
    if mode in _FLOAT_MODES:
        return Prim(_FLOAT_MODES[mode], t.quals)
    return t
