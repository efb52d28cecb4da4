"""The WIT -> Reml type table of Reml's FFI plan, and how WIT names
become Reml identifiers.

Choices where the plan leaves room (docs/reml.md lists them):

- `string` -> `Str`; `list<u8>` -> `Bytes` (also through aliases of u8), every other list
  -> `List<T>`; `list<T, N>` -> `Array<T, N>`; `map<K, V>` -> `Map<K, V>`;
  `error-context` -> `ErrorContext`; a missing `result` side, `future` or `stream`
  payload -> `()`; a 1-tuple -> `(T,)`.
- A bare resource used as a value is `own<r>`, so both spell `Owned<r>`.
- Type names: the WIT name in snake case (`shape-kind` -> `shape_kind`, case kept);
  field, parameter and function names likewise; enum, variant and flag labels in
  Pascal case (`read-only` -> `ReadOnly`).  Reml keywords and Reml's own type names get
  a `_` suffix (WIT names never contain `_`, so this cannot collide with another name).
"""

from __future__ import annotations

from typing import Callable

from .. import types as t
from .common import REML_KEYWORDS, reml_ident

__all__ = ["PRIMITIVES", "reml_type", "snake", "pascal", "type_ident", "label_ident", "definition_kind"]

PRIMITIVES: dict[str, str] = {
    "bool": "Bool", "s8": "i8", "u8": "u8", "s16": "i16", "u16": "u16", "s32": "i32", "u32": "u32",
    "s64": "i64", "u64": "u64", "f32": "f32", "f64": "f64", "char": "Char", "string": "Str",
    "error-context": "ErrorContext",
}
BYTES = "Bytes"

# Names a generated type must not take: Reml's scalar types (a WIT type may be called
# `u8` or `i32`), and the type constructors this table uses.
RESERVED_TYPE_NAMES = frozenset(
    "i8 u8 i16 u16 i32 u32 i64 u64 isize usize f32 f64 bool char str unit".split()) | REML_KEYWORDS
# Constructors of Option and Result, and literals: never the spelling of a label.
RESERVED_LABELS = frozenset("Some None Ok Err True False Self".split())


def snake(name: str) -> str:
    """`parse-u32` -> `parse_u32`; case is kept (`HTTP-get` -> `HTTP_get`)."""
    return name.replace("-", "_")


def pascal(name: str) -> str:
    """`read-only` -> `ReadOnly`; an all-caps word stays as it is (`GET` -> `GET`)."""
    return "".join(w[:1].upper() + w[1:] for w in name.split("-"))


def value_ident(name: str) -> str:
    """A field, parameter or function name."""
    return reml_ident(snake(name))


def type_ident(name: str) -> str:
    ident = snake(name)
    return ident + "_" if ident in RESERVED_TYPE_NAMES else ident


def label_ident(name: str) -> str:
    """An enum case, variant case or flag."""
    ident = pascal(name)
    return ident + "_" if ident in RESERVED_LABELS else ident


def definition_kind(typ: t.Type) -> str:
    """The manifest's `kind` of a named definition."""
    for cls, kind in ((t.RecordType, "record"), (t.VariantType, "variant"), (t.EnumType, "enum"),
                      (t.FlagsType, "flags"), (t.ResourceType, "resource"), (t.TypeAlias, "alias")):
        if isinstance(typ, cls):
            return kind
    raise TypeError(f"not a named definition: {typ!r}")


NAMED = (t.RecordType, t.VariantType, t.EnumType, t.FlagsType, t.ResourceType, t.TypeAlias)


def reml_type(typ: t.Type | None, name_of: Callable[[t.Type], str]) -> str:
    """The Reml spelling of a reference to `typ`; `name_of` gives a named definition's
    Reml name (the emitter decides names, this table only spells)."""
    if typ is None:
        return "()"
    spell = lambda x: reml_type(x, name_of)  # noqa: E731
    if isinstance(typ, t.PrimitiveType):
        return PRIMITIVES[typ.name]
    if isinstance(typ, t.ListType):
        if typ.length is not None:
            return f"Array<{spell(typ.element)}, {typ.length}>"
        if t.unalias(typ.element) == t.U8:
            return BYTES
        return f"List<{spell(typ.element)}>"
    if isinstance(typ, t.MapType):
        return f"Map<{spell(typ.key)}, {spell(typ.value)}>"
    if isinstance(typ, t.TupleType):
        inner = ", ".join(spell(e) for e in typ.elements)
        return f"({inner},)" if len(typ.elements) == 1 else f"({inner})"
    if isinstance(typ, t.OptionType):
        return f"Option<{spell(typ.inner)}>"
    if isinstance(typ, t.ResultType):
        return f"Result<{spell(typ.ok)}, {spell(typ.err)}>"
    if isinstance(typ, t.OwnType):
        return f"Owned<{name_of(typ.resource)}>"
    if isinstance(typ, t.BorrowType):
        return f"Borrow<{name_of(typ.resource)}>"
    if isinstance(typ, t.ResourceType):
        return f"Owned<{name_of(typ)}>"
    if isinstance(typ, t.FutureType):
        return f"Future<{spell(typ.element)}>"
    if isinstance(typ, t.StreamType):
        return f"AsyncStream<{spell(typ.element)}>"
    if isinstance(typ, NAMED):
        return name_of(typ)
    raise TypeError(f"no Reml spelling for {typ!r}")  # pragma: no cover - every Type is above
