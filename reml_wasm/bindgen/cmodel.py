"""The C model: what a set of C headers declares, independent of pycparser.

Types are immutable trees (`Prim`, `TypedefRef`, `TagRef`, `Pointer`, `Array`, `FuncType`)
with their qualifiers.  Definitions (structs/unions, enums, typedefs) live in the
`CModel` keyed by tag or name; anonymous structs get a synthetic key.  The model can
print any type back as C (`c_spelling`), each function as a declaration for cffi's
`cdef`, and the type declarations such a declaration needs (`cdef_prelude`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal

from ..audit import Location

QUAL_ORDER = ("const", "volatile", "restrict", "_Atomic")

# Typedef names of the C standard headers (stddef.h, stdint.h, stdbool.h, stdio.h, wchar.h):
# every C declaration parser (cffi's cdef among them) knows them, so a prelude never
# redeclares them.
STANDARD_TYPEDEFS = frozenset("""
size_t ssize_t ptrdiff_t intptr_t uintptr_t intmax_t uintmax_t wchar_t char16_t char32_t bool FILE
int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t
int_least8_t int_least16_t int_least32_t int_least64_t uint_least8_t uint_least16_t
uint_least32_t uint_least64_t int_fast8_t int_fast16_t int_fast32_t int_fast64_t
uint_fast8_t uint_fast16_t uint_fast32_t uint_fast64_t
""".split())

def qualifiers(qs: Iterable[str]) -> frozenset[str]:
    """The type qualifiers among `qs` (pycparser also lists storage words there)."""
    return frozenset(q for q in qs if q in QUAL_ORDER)


def quals_text(qs: frozenset[str]) -> str:
    return " ".join(q for q in QUAL_ORDER if q in qs)


@dataclass(frozen=True)
class CType:
    """Base of C types; `quals` holds const/volatile/restrict/_Atomic."""


@dataclass(frozen=True)
class Prim(CType):
    name: str
    quals: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TypedefRef(CType):
    name: str
    quals: frozenset[str] = frozenset()


TagKind = Literal["struct", "union", "enum"]


@dataclass(frozen=True)
class TagRef(CType):
    """`struct x`, `union x`, `enum x`; `key` is the tag, or `@anon…` for an anonymous one."""

    kind: TagKind
    key: str
    quals: frozenset[str] = frozenset()

    @property
    def anonymous(self) -> bool:
        return self.key.startswith("@")


@dataclass(frozen=True)
class Pointer(CType):
    target: CType
    quals: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Array(CType):
    element: CType
    length: int | None  # None: `[]` (flexible array member or incomplete)
    quals: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CParam:
    name: str | None
    type: CType
    array_length: int | None = None  # declared as an array of this length (adjusted to a pointer)


@dataclass(frozen=True)
class FuncType(CType):
    result: CType
    params: tuple[CParam, ...] = ()
    variadic: bool = False
    quals: frozenset[str] = frozenset()


def with_quals(t: CType, extra: Iterable[str]) -> CType:
    extra_q = qualifiers(extra)
    if not extra_q:
        return t
    return t.__class__(**{**t.__dict__, "quals": t.quals | extra_q})  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CField:
    name: str | None          # None: an anonymous struct/union member (or unnamed bit-field)
    type: CType
    bit_width: int | None = None
    flexible: bool = False    # a flexible array member `T x[];`
    packed: bool = False      # __attribute__((packed)) on the member
    aligned: int | None = None  # __attribute__((aligned(N))) on the member


@dataclass
class StructDef:
    kind: Literal["struct", "union"]
    key: str
    tag: str | None
    fields: tuple[CField, ...] | None  # None: declared but never defined (opaque)
    location: Location | None = None
    target: bool = False               # defined in one of the target headers
    typedef_names: list[str] = field(default_factory=list)
    packed: bool = False               # __attribute__((packed))
    aligned: int | None = None         # __attribute__((aligned(N)))
    pack: int | None = None            # #pragma pack(N) in force at the definition

    @property
    def opaque(self) -> bool:
        return self.fields is None


@dataclass(frozen=True)
class EnumConst:
    name: str
    value: int


@dataclass
class EnumDef:
    key: str
    tag: str | None
    constants: tuple[EnumConst, ...] | None  # None: forward-declared only
    location: Location | None = None
    target: bool = False
    typedef_names: list[str] = field(default_factory=list)

    @property
    def underlying(self) -> str:
        """The integer type GCC gives the enum (LP64)."""
        values = [c.value for c in self.constants or ()]
        lo, hi = min(values, default=0), max(values, default=0)
        if hi <= 0x7FFFFFFF and lo >= -0x80000000:
            return "int"
        if lo >= 0:
            return "unsigned int" if hi <= 0xFFFFFFFF else "unsigned long"
        return "long"


@dataclass
class TypedefDef:
    name: str
    type: CType
    location: Location | None = None
    target: bool = False
    aligned: int | None = None         # __attribute__((aligned(N))) on the typedef
    vector: bool = False               # __attribute__((vector_size(N))): an array of N bytes in layout


@dataclass
class FunctionDecl:
    name: str
    type: FuncType
    location: Location | None = None
    static: bool = False
    inline: bool = False
    has_body: bool = False
    symbol: str | None = None   # the symbol it links to when an `__asm__` label renames it
    nonnull: tuple[int, ...] | None = None  # `nonnull` attribute: parameters from 1; () all
    # `access(mode, pointer, size)` attributes: which parameter (from 1) gives a buffer's length
    access: tuple[tuple[str, int, int | None], ...] = ()

    @property
    def variadic(self) -> bool:
        return self.type.variadic

    @property
    def link_name(self) -> str:
        """The symbol the library exports for this function."""
        return self.symbol or self.name


@dataclass
class VariableDecl:
    name: str
    type: CType
    location: Location | None = None


@dataclass
class MacroConst:
    name: str
    kind: Literal["int", "float", "string"]
    value: int | float | bytes
    c_kind: str          # C type of the value: int, unsigned long, double, float, char[]
    location: Location | None = None


@dataclass
class SkippedMacro:
    name: str
    reason: str
    location: Location | None = None


@dataclass
class CModel:
    headers: tuple[str, ...] = ()
    tags: dict[tuple[str, str], StructDef | EnumDef] = field(default_factory=dict)
    typedefs: dict[str, TypedefDef] = field(default_factory=dict)
    functions: list[FunctionDecl] = field(default_factory=list)
    inline_functions: list[FunctionDecl] = field(default_factory=list)
    variables: list[VariableDecl] = field(default_factory=list)
    macros: list[MacroConst] = field(default_factory=list)
    skipped_macros: list[SkippedMacro] = field(default_factory=list)
    enum_values: dict[str, int] = field(default_factory=dict)

    # --- lookups ----------------------------------------------------------------------

    def struct(self, ref: TagRef) -> StructDef:
        d = self.tags[(ref.kind, ref.key)]
        assert isinstance(d, StructDef)
        return d

    def enum(self, ref: TagRef) -> EnumDef:
        d = self.tags[("enum", ref.key)]
        assert isinstance(d, EnumDef)
        return d

    def resolve(self, t: CType) -> CType:
        """Follow typedefs to the type they stand for (qualifiers are merged)."""
        seen = 0
        while isinstance(t, TypedefRef):
            td = self.typedefs.get(t.name)
            if td is None:
                raise KeyError(t.name)
            t = with_quals(td.type, t.quals)
            seen += 1
            if seen > 100:  # pragma: no cover - C forbids typedef cycles
                raise ValueError(f"typedef cycle at {t}")
        return t

    def structs(self) -> Iterator[StructDef]:
        for d in self.tags.values():
            if isinstance(d, StructDef):
                yield d

    def enums(self) -> Iterator[EnumDef]:
        for d in self.tags.values():
            if isinstance(d, EnumDef):
                yield d

    def c_name(self, d: StructDef | EnumDef) -> str | None:
        """How C code outside the header can name a tag type, or None for an anonymous
        type no typedef names (such a type is only reachable through its parent)."""
        if d.tag is not None:
            return f"{'enum' if isinstance(d, EnumDef) else d.kind} {d.tag}"
        return d.typedef_names[0] if d.typedef_names else None

    # --- C text ----------------------------------------------------------------------

    def c_spelling(self, t: CType, declarator: str = "", *, inline_anonymous: bool = False) -> str:
        """`t` as C text, optionally around a declarator (`const char *name`)."""
        if isinstance(t, (Prim, TypedefRef, TagRef)):
            if isinstance(t, Prim):
                base = t.name
            elif isinstance(t, TypedefRef):
                base = t.name
            elif t.anonymous:
                base = self._anonymous_body(t) if inline_anonymous else self._anon_placeholder(t)
            else:
                base = f"{t.kind} {t.key}"
            q = quals_text(t.quals)
            text = f"{q} {base}" if q else base
            return f"{text} {declarator}" if declarator else text
        if isinstance(t, Pointer):
            q = quals_text(t.quals)
            inner = "*" + (q + (" " if declarator else "") if q else "") + declarator
            if isinstance(t.target, (Array, FuncType)):
                inner = f"({inner})"
            return self.c_spelling(t.target, inner, inline_anonymous=inline_anonymous)
        if isinstance(t, Array):
            n = "" if t.length is None else str(t.length)
            return self.c_spelling(t.element, f"{declarator}[{n}]", inline_anonymous=inline_anonymous)
        if isinstance(t, FuncType):
            return self.c_spelling(t.result, f"{declarator}({self._params_text(t)})",
                                   inline_anonymous=inline_anonymous)
        raise TypeError(t)

    def _params_text(self, f: FuncType) -> str:
        parts = [self.c_spelling(p.type, p.name or "") for p in f.params]
        if f.variadic:
            parts.append("...")
        return ", ".join(parts) if parts else "void"

    def _anon_placeholder(self, t: TagRef) -> str:
        d = self.tags.get((t.kind, t.key))
        if d is not None and d.typedef_names:
            return d.typedef_names[0]
        return f"{t.kind} /*anonymous*/"

    def _anonymous_body(self, t: TagRef) -> str:
        d = self.tags[(t.kind, t.key)]
        return f"{t.kind} {self._body(d)}"

    def _body(self, d: StructDef | EnumDef) -> str:
        if isinstance(d, EnumDef):
            items = ", ".join(f"{c.name} = {c.value}" for c in d.constants or ())
            return "{ " + items + " }"
        parts = []
        for f in d.fields or ():
            text = self.c_spelling(f.type, f.name or "", inline_anonymous=True)
            if f.bit_width is not None:
                text += f" : {f.bit_width}"
            parts.append(text + ";")
        return "{ " + " ".join(parts) + " }"

    def cdecl(self, func: FunctionDecl) -> str:
        """The function as one C declaration (`const char *zlibVersion(void);`), named
        by the symbol it links to."""
        return self.c_spelling(func.type, func.link_name) + ";"

    def cdef_prelude(self, funcs: Iterable[FunctionDecl]) -> str:
        """Declarations of every typedef, struct, union and enum the functions need, in
        dependency order: types reached only through pointers are declared incomplete,
        types used by value are defined."""
        out: list[str] = []
        done: set[tuple[str, str]] = set()
        declared: set[tuple[str, str]] = set()

        def need(t: CType, by_value: bool) -> None:
            if isinstance(t, TypedefRef):
                if t.name in STANDARD_TYPEDEFS:
                    return
                key = ("typedef", t.name)
                td = self.typedefs[t.name]
                named_tag = isinstance(td.type, TagRef) and not td.type.anonymous
                if key in done and not (named_tag and by_value):
                    return
                need(td.type, by_value if named_tag else True)
                if key not in done:
                    done.add(key)
                    out.append(f"typedef {self.c_spelling(td.type, t.name, inline_anonymous=True)};")
            elif isinstance(t, TagRef):
                if t.anonymous:
                    anonymous = self.tags[(t.kind, t.key)]
                    for f in getattr(anonymous, "fields", None) or ():
                        need(f.type, True)
                    return
                key = (t.kind, t.key)
                d = self.tags.get(key)
                if isinstance(d, EnumDef):
                    if key not in done:
                        done.add(key)
                        out.append(f"enum {t.key} {self._body(d)};")
                    return
                if not by_value or d is None or d.opaque:
                    if key not in declared and key not in done:
                        declared.add(key)
                        out.append(f"{t.kind} {t.key};")
                    return
                if key in done:
                    return
                done.add(key)
                for f in d.fields or ():
                    need(f.type, True)
                out.append(f"{t.kind} {t.key} {self._body(d)};")
            elif isinstance(t, Pointer):
                need(t.target, False)
            elif isinstance(t, Array):
                need(t.element, by_value)
            elif isinstance(t, FuncType):
                need(t.result, True)
                for p in t.params:
                    need(p.type, True)

        for fn in funcs:
            need(fn.type, True)
        return "\n".join(out)


def walk_ctype(t: CType) -> Iterator[CType]:
    """`t` and every type inside it (not following typedefs or tags)."""
    yield t
    if isinstance(t, Pointer):
        yield from walk_ctype(t.target)
    elif isinstance(t, Array):
        yield from walk_ctype(t.element)
    elif isinstance(t, FuncType):
        yield from walk_ctype(t.result)
        for p in t.params:
            yield from walk_ctype(p.type)


def all_quals(t: CType) -> list[str]:
    """Every qualifier anywhere in `t`, in the fixed order const, volatile, restrict, _Atomic."""
    found: set[str] = set()
    for sub in walk_ctype(t):
        found |= sub.quals  # type: ignore[attr-defined]
    return [q for q in QUAL_ORDER if q in found]
