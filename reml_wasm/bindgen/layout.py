"""Our own C layout model for LP64 x86_64 (System V ABI, as GCC lays structs out).

Sizes, alignments, field offsets and bit-field placement are computed here from the
C model alone; `layout_check` compares them with what the C compiler says.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cmodel import Array, CField, CModel, CType, FuncType, Pointer, Prim, StructDef, TagRef, TypedefRef

POINTER_SIZE = 8

PRIM_LAYOUT: dict[str, tuple[int, int]] = {
    "_Bool": (1, 1), "char": (1, 1), "signed char": (1, 1), "unsigned char": (1, 1),
    "short": (2, 2), "unsigned short": (2, 2), "int": (4, 4), "unsigned int": (4, 4),
    "long": (8, 8), "unsigned long": (8, 8), "long long": (8, 8), "unsigned long long": (8, 8),
    "float": (4, 4), "double": (8, 8), "long double": (16, 16),
    "__int128": (16, 16), "unsigned __int128": (16, 16),
    "float _Complex": (8, 4), "double _Complex": (16, 8), "long double _Complex": (32, 16),
}


class LayoutError(Exception):
    """The type has no size (void, a function, an opaque struct)."""


@dataclass(frozen=True)
class FieldLayout:
    name: str | None
    offset: int                  # bytes; for a bit-field the byte holding its first bit
    size: int
    align: int
    bit_offset: int | None = None  # from the start of the struct, for bit-fields
    bit_width: int | None = None


@dataclass(frozen=True)
class StructLayout:
    size: int
    align: int
    fields: tuple[FieldLayout, ...]


class Layouts:
    """Layouts of one model's types, memoised."""

    def __init__(self, model: CModel) -> None:
        self.model = model
        self._structs: dict[tuple[str, str], StructLayout] = {}

    def size_align(self, t: CType) -> tuple[int, int]:
        """Size and alignment; an `aligned` typedef sets the alignment, up or down (the
        outermost such typedef on the way wins)."""
        declared = None
        while isinstance(t, TypedefRef):
            td = self.model.typedefs.get(t.name)
            if td is None:
                raise LayoutError(f"unknown typedef {t.name}")
            if declared is None and td.aligned:
                declared = td.aligned
            t = td.type
        size, align = self._size_align(t)
        return size, declared or align

    def _size_align(self, t: CType) -> tuple[int, int]:
        if isinstance(t, Prim):
            if t.name == "void":
                raise LayoutError("void has no size")
            return PRIM_LAYOUT[t.name]
        if isinstance(t, Pointer):
            return POINTER_SIZE, POINTER_SIZE
        if isinstance(t, Array):
            size, align = self.size_align(t.element)
            return size * (t.length or 0), align
        if isinstance(t, FuncType):
            raise LayoutError("a function has no size")
        if isinstance(t, TagRef):
            if t.kind == "enum":
                d = self.model.enum(t)
                return PRIM_LAYOUT[d.underlying]
            sl = self.struct(self.model.struct(t))
            return sl.size, sl.align
        raise LayoutError(f"no layout for {t}")

    def struct(self, d: StructDef) -> StructLayout:
        key = (d.kind, d.key)
        got = self._structs.get(key)
        if got is None:
            if d.fields is None:
                raise LayoutError(f"{d.kind} {d.tag or d.key} is opaque")
            got = self._union(d) if d.kind == "union" else self._struct(d)
            self._structs[key] = got
        return got

    def _member_align(self, d: StructDef, f: CField, natural: int) -> int:
        """Alignment a member gets: 1 when packed, raised by `aligned`, capped by
        `#pragma pack`."""
        fa = 1 if (d.packed or f.packed) else natural
        if f.aligned:
            fa = max(fa, f.aligned)
        if d.pack:
            fa = min(fa, d.pack)
        return fa

    def _bitfield_align(self, d: StructDef, fa: int, natural: int) -> int:
        """What a named bit-field adds to the struct's alignment: under `#pragma pack`
        GCC counts the type's alignment capped by the pack, even in a packed struct."""
        return min(natural, d.pack) if d.pack else fa

    def _finish(self, d: StructDef, size: int, align: int, fields: list[FieldLayout]) -> StructLayout:
        if d.aligned:
            align = max(align, d.aligned)
        return StructLayout(_round_up(size, align), align, tuple(fields))

    def _union(self, d: StructDef) -> StructLayout:
        size, align, out = 0, 1, []
        for f in d.fields or ():
            fs, natural = self.size_align(f.type)
            fa = self._member_align(d, f, natural)
            if f.bit_width is not None:
                if f.name is not None:
                    align = max(align, self._bitfield_align(d, fa, natural))
                size = max(size, (f.bit_width + 7) // 8)
                out.append(FieldLayout(f.name, 0, fs, fa, 0, f.bit_width))
                continue
            size, align = max(size, fs), max(align, fa)
            out.append(FieldLayout(f.name, 0, fs, fa))
        return self._finish(d, size, align, out)

    def _struct(self, d: StructDef) -> StructLayout:
        bit = 0           # next free bit
        align = 1
        out: list[FieldLayout] = []
        for f in d.fields or ():
            fs, natural = self.size_align(f.type)
            fa = self._member_align(d, f, natural)
            if f.bit_width is None:
                offset = _round_up((bit + 7) // 8, fa)
                bit = (offset + fs) * 8
                align = max(align, fa)
                out.append(FieldLayout(f.name, offset, fs, fa))
                continue
            width = f.bit_width
            if width == 0:
                # a zero-width bit-field starts a new unit of its type, packed or not
                bit = _round_up(bit, natural * 8)
                out.append(FieldLayout(f.name, bit // 8, fs, fa, bit, 0))
                continue
            unit = fs * 8
            # a bit-field may not straddle a unit the size of its declared type, unless
            # the struct is packed in any way (then it goes at the next free bit)
            packing = d.packed or f.packed or d.pack is not None
            if not packing and bit // unit != (bit + width - 1) // unit:
                bit = _round_up(bit, fa * 8)
            if f.name is not None:
                align = max(align, self._bitfield_align(d, fa, natural))
            out.append(FieldLayout(f.name, bit // 8, fs, fa, bit, width))
            bit += width
        return self._finish(d, (bit + 7) // 8, align, out)


BIGGEST_ALIGNMENT = 16  # x86_64: `__attribute__((aligned))` with no argument


def _round_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a
