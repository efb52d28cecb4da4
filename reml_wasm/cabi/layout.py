"""Alignment, size and flat representation of every value type.

`ptr_size` is 4 for wasm32 linear memory and 8 for memory64 and native memory; it
changes the layout of `string` and `list` (pointer + length) and the core type of
pointers in flat signatures.  Handles (own, borrow, stream, future, error-context)
stay `i32` at either width.
"""

from __future__ import annotations

from functools import lru_cache, wraps
from typing import Callable, Sequence, TypeVar

from .. import types as t
from .errors import unsupported

MAX_FLAGS = 32  # the spec limits flags to one i32 of labels

# Despecialised shapes: what the layout rules actually see.
RECORD, VARIANT = "record", "variant"


def align_to(n: int, align: int) -> int:
    return -(-n // align) * align


def ptr_type(ptr_size: int) -> str:
    """The core type of a pointer or length: i32 for wasm32, i64 for 64-bit memories."""
    if ptr_size == 4:
        return "i32"
    if ptr_size == 8:
        return "i64"
    raise unsupported(f"pointer size {ptr_size} (must be 4 or 8)")


def discriminant_size(n_cases: int) -> int:
    """Bytes of a variant discriminant: the smallest of 1, 2 or 4 holding `n_cases - 1`."""
    if n_cases <= 0:
        raise unsupported("a variant needs at least one case")
    if n_cases <= 1 << 8:
        return 1
    if n_cases <= 1 << 16:
        return 2
    return 4


def variant_cases(ty: t.Type) -> tuple[t.Type | None, ...] | None:
    """Payload types of the cases when `ty` lays out as a variant, else None."""
    ty = t.unalias(ty)
    if isinstance(ty, t.VariantType):
        return tuple(c.type for c in ty.cases)
    if isinstance(ty, t.EnumType):
        return (None,) * len(ty.cases)
    if isinstance(ty, t.OptionType):
        return (None, ty.inner)
    if isinstance(ty, t.ResultType):
        return (ty.ok, ty.err)
    return None


def record_fields(ty: t.Type) -> tuple[t.Type, ...] | None:
    """Field types when `ty` lays out as a record (records, tuples), else None."""
    ty = t.unalias(ty)
    if isinstance(ty, t.RecordType):
        return tuple(f.type for f in ty.fields)
    if isinstance(ty, t.TupleType):
        return ty.elements
    return None


def flags_count(ty: t.FlagsType) -> int:
    n = len(ty.labels)
    if n == 0:
        raise unsupported(f"flags {ty.name} has no labels")
    if n > MAX_FLAGS:
        raise unsupported(f"flags {ty.name} has {n} labels; the Canonical ABI allows at most {MAX_FLAGS}")
    return n


_PRIM_SIZE = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "s64": 8, "u64": 8,
              "f32": 4, "f64": 8, "char": 4}
_PRIM_FLAT = {"bool": "i32", "s8": "i32", "u8": "i32", "s16": "i32", "u16": "i32", "s32": "i32",
              "u32": "i32", "s64": "i64", "u64": "i64", "f32": "f32", "f64": "f64", "char": "i32"}


_HANDLES = (t.OwnType, t.BorrowType, t.StreamType, t.FutureType)
_R = TypeVar("_R")
_HANDLE_FLAT: tuple[str, ...] = ("i32",)


def is_handle(ty: t.Type) -> bool:
    """True for the types that travel as an i32 index into a handle table."""
    return isinstance(ty, _HANDLES) or ty == t.ERROR_CONTEXT


def _cached_except_handles(handle: _R) -> Callable[[Callable[[t.Type, int], _R]], Callable[..., _R]]:
    """Memoise a layout function, answering handle types with `handle` without the cache.

    Every instance of a component has its own resource types; caching their handles
    would fill the cache with keys that are never asked again and that all hash alike
    (a process making many instances would slow down with each one)."""
    def decorate(fn: Callable[[t.Type, int], _R]) -> Callable[..., _R]:
        cached = lru_cache(maxsize=4096)(fn)

        @wraps(fn)
        def front(ty: t.Type, ptr_size: int = 4) -> _R:
            if isinstance(ty, _HANDLES):
                return handle
            return cached(ty, ptr_size)
        front.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return front
    return decorate


@_cached_except_handles(4)
def alignment(ty: t.Type, ptr_size: int = 4) -> int:
    """Alignment in bytes of `ty` in memory."""
    ty = t.unalias(ty)
    if is_handle(ty):
        return 4
    if isinstance(ty, t.PrimitiveType):
        if ty.name in _PRIM_SIZE:
            return _PRIM_SIZE[ty.name]
        if ty == t.STRING:
            ptr_type(ptr_size)
            return ptr_size
        raise unsupported(f"type {ty.name} in the synchronous Canonical ABI")
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            return alignment(ty.element, ptr_size)
        ptr_type(ptr_size)
        return ptr_size
    if isinstance(ty, t.MapType):
        ptr_type(ptr_size)
        return ptr_size
    fields = record_fields(ty)
    if fields is not None:
        _nonempty(ty, fields)
        return max(alignment(f, ptr_size) for f in fields)
    cases = variant_cases(ty)
    if cases is not None:
        return max([discriminant_size(len(cases))] + [alignment(c, ptr_size) for c in cases if c is not None])
    if isinstance(ty, t.FlagsType):
        n = flags_count(ty)
        return 1 if n <= 8 else 2 if n <= 16 else 4
    raise unsupported(f"type {ty.wit()} in the synchronous Canonical ABI")


@_cached_except_handles(4)
def size(ty: t.Type, ptr_size: int = 4) -> int:
    """Size in bytes of `ty` in memory (its element size in a list)."""
    ty = t.unalias(ty)
    if is_handle(ty):
        return 4
    if isinstance(ty, t.PrimitiveType):
        if ty.name in _PRIM_SIZE:
            return _PRIM_SIZE[ty.name]
        if ty == t.STRING:
            return 2 * alignment(ty, ptr_size)
        raise unsupported(f"type {ty.name} in the synchronous Canonical ABI")
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            if ty.length <= 0:
                raise unsupported(f"fixed-length list {ty.wit()} must have a positive length")
            return ty.length * size(ty.element, ptr_size)
        return 2 * alignment(ty, ptr_size)
    if isinstance(ty, t.MapType):
        return 2 * alignment(ty, ptr_size)
    fields = record_fields(ty)
    if fields is not None:
        _nonempty(ty, fields)
        return record_offsets(fields, ptr_size)[1]
    cases = variant_cases(ty)
    if cases is not None:
        return variant_layout(cases, ptr_size)[2]
    if isinstance(ty, t.FlagsType):
        n = flags_count(ty)
        return 1 if n <= 8 else 2 if n <= 16 else 4
    raise unsupported(f"type {ty.wit()} in the synchronous Canonical ABI")


def record_offsets(fields: Sequence[t.Type], ptr_size: int = 4) -> tuple[list[int], int]:
    """Offsets of each field and the total (padded) size of a record of `fields`."""
    offsets = []
    s = 0
    for f in fields:
        s = align_to(s, alignment(f, ptr_size))
        offsets.append(s)
        s += size(f, ptr_size)
    align = max((alignment(f, ptr_size) for f in fields), default=1)
    return offsets, align_to(s, align)


def variant_layout(cases: Sequence[t.Type | None], ptr_size: int = 4) -> tuple[int, int, int]:
    """(discriminant size, payload offset, total size) of a variant with these payloads."""
    disc = discriminant_size(len(cases))
    payload_align = max([1] + [alignment(c, ptr_size) for c in cases if c is not None])
    offset = align_to(disc, payload_align)
    payload = max([0] + [size(c, ptr_size) for c in cases if c is not None])
    total = align_to(offset + payload, max(disc, payload_align))
    return disc, offset, total


def join(a: str, b: str) -> str:
    """The core type holding either of two flat types in a variant's shared slot."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


@_cached_except_handles(_HANDLE_FLAT)
def _flatten_cached(ty: t.Type, ptr_size: int) -> tuple[str, ...]:
    ty = t.unalias(ty)
    if is_handle(ty):
        return ("i32",)
    if isinstance(ty, t.PrimitiveType):
        if ty.name in _PRIM_FLAT:
            return (_PRIM_FLAT[ty.name],)
        if ty == t.STRING:
            return (ptr_type(ptr_size),) * 2
        raise unsupported(f"type {ty.name} in the synchronous Canonical ABI")
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            size(ty, ptr_size)  # validates the length
            return _flatten_cached(ty.element, ptr_size) * ty.length
        return (ptr_type(ptr_size),) * 2
    if isinstance(ty, t.MapType):
        return (ptr_type(ptr_size),) * 2
    fields = record_fields(ty)
    if fields is not None:
        _nonempty(ty, fields)
        return tuple(x for f in fields for x in _flatten_cached(f, ptr_size))
    cases = variant_cases(ty)
    if cases is not None:
        return ("i32",) + variant_payload_flat(cases, ptr_size)
    if isinstance(ty, t.FlagsType):
        flags_count(ty)
        return ("i32",)
    raise unsupported(f"type {ty.wit()} in the synchronous Canonical ABI")


def variant_payload_flat(cases: Sequence[t.Type | None], ptr_size: int = 4) -> tuple[str, ...]:
    """The joined flat slots shared by every case's payload (after the discriminant)."""
    slots: list[str] = []
    for c in cases:
        if c is None:
            continue
        for i, ft in enumerate(_flatten_cached(c, ptr_size)):
            if i < len(slots):
                slots[i] = join(slots[i], ft)
            else:
                slots.append(ft)
    return tuple(slots)


def flatten_type(ty: t.Type, ptr_size: int = 4) -> list[str]:
    """Core value types ("i32", "i64", "f32", "f64") representing `ty` as flat values."""
    return list(_flatten_cached(ty, ptr_size))


def _nonempty(ty: t.Type, fields: Sequence[t.Type]) -> None:
    if not fields:
        raise unsupported(f"{ty.wit()} has no fields; empty records and tuples have no Canonical ABI layout")
