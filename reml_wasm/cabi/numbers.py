"""Scalar encodings shared by the interpreter and the plans: integer wrapping, float
bits and NaN canonicalisation, chars, and `NumberList` for bulk lists of numbers."""

from __future__ import annotations

import array
import functools
import math
import struct
import sys
from typing import Any, Callable

from .. import types as t
from .errors import Trap
from .scan import has_bool, int_bulk

NAN = math.nan  # canonical: struct packs it as 0x7fc00000 / 0x7ff8000000000000
CANONICAL_NAN32 = 0x7FC00000
CANONICAL_NAN64 = 0x7FF8000000000000
LITTLE = sys.byteorder == "little"

_F32 = struct.Struct("<f")
_I32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_I64 = struct.Struct("<Q")

# struct codes (little-endian) and array typecodes of the number types
STRUCT_CODE = {"bool": "B", "s8": "b", "u8": "B", "s16": "h", "u16": "H", "s32": "i", "u32": "I",
               "s64": "q", "u64": "Q", "f32": "f", "f64": "d", "char": "I"}
ARRAY_CODE = {"s8": "b", "u8": "B", "s16": "h", "u16": "H", "s32": "i", "u32": "I",
              "s64": "q", "u64": "Q", "f32": "f", "f64": "d"}
NUMBER_TYPES = {t.PRIMITIVES[n] for n in ARRAY_CODE}


# A flat integer may come signed or unsigned (wasmtime gives signed, natives unsigned);
# anything outside both ranges of its slot is not a value of that slot.
CORE_INT_MIN = {"i32": -(1 << 31), "i64": -(1 << 63)}
CORE_INT_MAX = {"i32": (1 << 32) - 1, "i64": (1 << 64) - 1}
CORE_INT_MASK = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF}


def core_int(x: Any, want: str) -> int:
    """A flat `i32` / `i64` value as an unsigned integer.  Traps for a non-integer and for
    an integer outside both the signed and the unsigned range of the slot."""
    if type(x) is not int:
        raise Trap(f"flat value {x!r} is not an {want}")
    if not CORE_INT_MIN[want] <= x <= CORE_INT_MAX[want]:
        raise Trap(f"flat value {x} is out of the range of an {want}", value=x)
    return x & CORE_INT_MASK[want]


def wrap_signed(x: int, bits: int) -> int:
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def canon_float(x: float) -> float:
    return x if x == x else NAN


def f32_round(x: float) -> float:
    """The nearest f32 (as a Python float); NaN becomes the canonical NaN."""
    if x != x:
        return NAN
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def f32_bits(x: float) -> int:
    if x != x:
        return CANONICAL_NAN32
    try:
        return _I32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return _I32.unpack(_F32.pack(math.copysign(math.inf, x)))[0]


def bits_f32(i: int) -> float:
    return canon_float(_F32.unpack(_I32.pack(i & 0xFFFFFFFF))[0])


def f64_bits(x: float) -> int:
    return CANONICAL_NAN64 if x != x else _I64.unpack(_F64.pack(x))[0]


def bits_f64(i: int) -> float:
    return canon_float(_F64.unpack(_I64.pack(i & 0xFFFFFFFFFFFFFFFF))[0])


def int_to_char(i: int) -> str:
    if i >= 0x110000 or 0xD800 <= i <= 0xDFFF:
        raise Trap(f"{i:#x} is not a Unicode scalar value (char)", code_point=i)
    return chr(i)


def char_to_int(c: Any) -> int:
    from ..values import ValueTypeError

    if not isinstance(c, str) or len(c) != 1 or 0xD800 <= ord(c) <= 0xDFFF:
        raise ValueTypeError("value", "char (one Unicode scalar value)", c)
    return ord(c)


class NumberList(list):
    """A lifted `list<number>`: a plain Python list (so `json.dumps`, `isinstance(x, list)`
    and every list operation work) built from one bulk copy out of guest memory, with no
    per-element Python work.  `typecode` is the `array` code of its element type; it also
    compares equal to an `array.array` of the same numbers."""

    __slots__ = ("typecode",)

    def __init__(self, typecode: str, items: Any = ()) -> None:
        super().__init__(items)
        self.typecode = typecode

    def __eq__(self, other: object) -> bool:
        if isinstance(other, array.array):
            return list.__eq__(self, other.tolist())
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (NumberList, (self.typecode, list(self)))

    def __repr__(self) -> str:
        return f"NumberList({self.typecode!r}, {list.__repr__(self)})"


SMALL_LIST = 64  # lists of numbers up to this length go through one cached `struct` call
_ITEM_SIZE = {code: struct.calcsize("<" + code) for code in ARRAY_CODE.values()}


@functools.cache
def struct_packers(typecode: str) -> tuple[Callable[..., bytes], ...]:
    """By length 0 .. SMALL_LIST: `pack(*numbers)` of that many little-endian numbers
    `typecode` (no NaN canonicalisation, and bools taken as 1: callers check)."""
    return tuple(struct.Struct(f"<{n}{typecode}").pack for n in range(SMALL_LIST + 1))


@functools.cache
def struct_unpackers(typecode: str) -> tuple[Callable[..., tuple[Any, ...]], ...]:
    """By length 0 .. SMALL_LIST: `unpack_from(buffer, offset=0)` of that many
    little-endian numbers `typecode`."""
    return tuple(struct.Struct(f"<{n}{typecode}").unpack_from for n in range(SMALL_LIST + 1))


def number_list(typecode: str, data: Any) -> NumberList:
    """A NumberList of `typecode` over little-endian `data` (bytes, or a byte memoryview):
    integers read in C into the list when a compiler is present; else one `struct` call
    for a short list, one `array` copy otherwise; NaNs canonical."""
    if LITTLE and typecode not in "fd":
        bulk = int_bulk()
        if bulk is not None:
            out = _new_list(NumberList)
            bulk.fill(out, data, typecode)
            out.typecode = typecode
            return out
    n, extra = divmod(len(data), _ITEM_SIZE[typecode])
    if n <= SMALL_LIST and not extra:
        items: Any = struct_unpackers(typecode)[n](data)
    else:
        items = array.array(typecode)
        items.frombytes(data)
        if not LITTLE:  # pragma: no cover - the engine runs little-endian hosts in practice
            items.byteswap()
    if typecode in "fd" and items and sum(items) != sum(items):
        return NumberList(typecode, [canon_float(x) for x in items])
    out = _new_list(NumberList)  # what NumberList(typecode, items) makes, without the Python __init__
    out.typecode = typecode
    out.extend(items)
    return out


_new_list = NumberList.__new__


def pack_numbers(typecode: str, value: Any) -> bytes | memoryview:
    """Little-endian bytes of a sequence of numbers, NaNs canonicalised (raises
    TypeError / OverflowError for values that do not fit)."""
    if isinstance(value, array.array) and value.typecode == typecode and LITTLE:
        arr = value
    elif type(value) is list and LITTLE and typecode not in "fd" and (bulk := int_bulk()) is not None \
            and (data := bulk.pack(value, typecode)) is not None:
        return data  # every item an int in range, packed in C (anything else: array below)
    else:
        if isinstance(value, (str, bytes)):
            raise TypeError("not a sequence of numbers")
        if isinstance(value, list):
            arr = array.array(typecode)
            arr.fromlist(value)  # the fastest conversion from a list (all in C)
        else:
            arr = array.array(typecode, value)
        if type(value) is not NumberList and has_bool(value):  # array takes True as 1; the convention does not
            raise TypeError("bool in a list of numbers")
    if typecode in "fd":
        total = sum(arr)
        if total != total:
            arr = array.array(typecode, [canon_float(x) for x in arr])
    if not LITTLE:  # pragma: no cover
        arr = array.array(typecode, arr)
        arr.byteswap()
    return memoryview(arr).cast("B")
