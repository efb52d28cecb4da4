"""Lifting (guest -> host), the reference interpreter: `load` from memory and
`lift_flat` from core values, walking the type on every call.

Compiled plans (plans.py) must give the same results; tests hold them to it."""

from __future__ import annotations

import struct
from typing import Any, Iterable, Iterator

from .. import types as t
from ..values import Err, Ok, Record, Some, Variant, nests_option
from .errors import Trap, unsupported
from .layout import alignment, flatten_type, record_fields, record_offsets, size, variant_cases, \
    variant_layout, variant_payload_flat
from .memory import Memory
from .numbers import STRUCT_CODE, bits_f32, bits_f64, canon_float, core_int, int_to_char, wrap_signed
from .options import CanonicalOptions, check_aligned, need_memory, need_resources
from .resources import async_handle_class
from .strings import MAX_LIST_BYTES, list_too_long, load_string

_INT_BITS = {"s8": 8, "u8": 8, "s16": 16, "u16": 16, "s32": 32, "u32": 32, "s64": 64, "u64": 64}


# --- memory ------------------------------------------------------------------------------

def load(opts: CanonicalOptions, ptr: int, ty: t.Type) -> Any:
    """Read a value of `ty` stored at `ptr` (checked against bounds and alignment)."""
    mem = need_memory(opts)
    mem.refresh()
    check_aligned(ptr, alignment(ty, opts.ptr_size), ty.wit())
    mem.check(ptr, size(ty, opts.ptr_size))
    return _load(opts, mem, ptr, ty)


def _load_int(mem: Memory, ptr: int, code: str) -> Any:
    return struct.unpack_from("<" + code, mem.view, ptr)[0]


def _load(opts: CanonicalOptions, mem: Memory, ptr: int, ty: t.Type) -> Any:
    ty = t.unalias(ty)
    ps = opts.ptr_size
    if async_handle_class(ty) is not None:
        return need_resources(opts).lift_async(ty, _load_int(mem, ptr, "I"))
    if isinstance(ty, t.PrimitiveType):
        name = ty.name
        if name == "bool":
            return _load_int(mem, ptr, "B") != 0
        if name == "char":
            return int_to_char(_load_int(mem, ptr, "I"))
        if name in ("f32", "f64"):
            return canon_float(_load_int(mem, ptr, STRUCT_CODE[name]))
        if name == "string":
            p, n = _load_pair(mem, ptr, ps)
            return load_string(opts, mem, p, n)
        if name in STRUCT_CODE:
            return _load_int(mem, ptr, STRUCT_CODE[name])
        raise unsupported(f"type {name}")
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            return _load_elements(opts, mem, ptr, ty.length, ty.element)
        p, n = _load_pair(mem, ptr, ps)
        return _load_list(opts, mem, p, n, ty.element)
    if isinstance(ty, t.MapType):
        p, n = _load_pair(mem, ptr, ps)
        return map_of_pairs(_load_list(opts, mem, p, n, t.TupleType((ty.key, ty.value))))
    fields = record_fields(ty)
    if fields is not None:
        offsets, _ = record_offsets(fields, ps)
        values = [_load(opts, mem, ptr + o, f) for o, f in zip(offsets, fields)]
        return _make_record(ty, values)
    cases = variant_cases(ty)
    if cases is not None:
        disc_size, payload_offset, _ = variant_layout(cases, ps)
        disc = _load_int(mem, ptr, {1: "B", 2: "H", 4: "I"}[disc_size])
        if disc >= len(cases):
            raise Trap(f"discriminant {disc} is out of range for {ty.wit()} ({len(cases)} cases)", discriminant=disc)
        payload_type = cases[disc]
        payload = None if payload_type is None else _load(opts, mem, ptr + payload_offset, payload_type)
        return make_case(ty, disc, payload)
    if isinstance(ty, t.FlagsType):
        n = len(ty.labels)
        bits = _load_int(mem, ptr, "B" if n <= 8 else "H" if n <= 16 else "I")
        return unpack_flags(ty, bits)
    if isinstance(ty, t.OwnType):
        return need_resources(opts).lift_own(ty.resource, _load_int(mem, ptr, "I"))
    if isinstance(ty, t.BorrowType):
        return need_resources(opts).lift_borrow(ty.resource, _load_int(mem, ptr, "I"))
    raise unsupported(f"type {ty.wit()}")


def _load_pair(mem: Memory, ptr: int, ptr_size: int) -> tuple[int, int]:
    return struct.unpack_from("<II" if ptr_size == 4 else "<QQ", mem.view, ptr)


def _load_list(opts: CanonicalOptions, mem: Memory, ptr: int, n: int, elem: t.Type) -> Any:
    nbytes = n * size(elem, opts.ptr_size)
    if nbytes > MAX_LIST_BYTES:
        raise list_too_long(n, nbytes)
    check_aligned(ptr, alignment(elem, opts.ptr_size), "list")
    mem.check(ptr, nbytes)
    return _load_elements(opts, mem, ptr, n, elem)


def _load_elements(opts: CanonicalOptions, mem: Memory, ptr: int, n: int, elem: t.Type) -> Any:
    if t.unalias(elem) == t.U8:
        return bytes(mem.view[ptr:ptr + n])
    es = size(elem, opts.ptr_size)
    return [_load(opts, mem, ptr + i * es, elem) for i in range(n)]


def map_of_pairs(pairs: list) -> dict:
    """A lifted `map<K, V>`: its (key, value) pairs as a dict.  Two pairs with one key
    trap: a dict cannot keep both, and no pair may be lost."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        for k, _ in pairs:
            if k in seen:
                raise Trap(f"map has the key {k!r} more than once", key=repr(k))
            seen.add(k)
    return out


def _make_record(ty: t.Type, values: list[Any]) -> Any:
    if isinstance(ty, t.RecordType):
        return Record(**{f.name: v for f, v in zip(ty.fields, values)})
    return tuple(values)


def make_case(ty: t.Type, disc: int, payload: Any) -> Any:
    """The host value of case `disc` of a variant-like type."""
    if isinstance(ty, t.VariantType):
        return Variant(ty.cases[disc].name, payload)
    if isinstance(ty, t.EnumType):
        return ty.cases[disc]
    if isinstance(ty, t.OptionType):
        if disc == 0:
            return None
        return Some(payload) if nests_option(ty) else payload
    return Ok(payload) if disc == 0 else Err(payload)


def unpack_flags(ty: t.FlagsType, bits: int) -> frozenset[str]:
    return frozenset(label for i, label in enumerate(ty.labels) if bits >> i & 1)


# --- flat values ---------------------------------------------------------------------------

class _FlatReader:
    """Reads core values one by one, checking their Python type and width."""

    def __init__(self, values: Iterator[Any]) -> None:
        self.values = values

    def next(self, want: str) -> Any:
        try:
            x = next(self.values)
        except StopIteration:
            raise Trap(f"too few flat values: expected another {want}") from None
        return _check_core(x, want)


class _CoercingReader:
    """Reads a case payload out of a variant's joined slots (spec: CoerceValueIter)."""

    def __init__(self, inner: _FlatReader, slots: tuple[str, ...]) -> None:
        self.inner = inner
        self.slots = list(slots)
        self.used = 0

    def next(self, want: str) -> Any:
        have = self.slots[self.used]
        self.used += 1
        x = self.inner.next(have)
        return coerce_from_slot(x, have, want)

    def skip_rest(self) -> None:
        for have in self.slots[self.used:]:
            self.inner.next(have)


def _check_core(x: Any, want: str) -> Any:
    if want == "i32" or want == "i64":
        return core_int(x, want)
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        raise Trap(f"flat value {x!r} is not an {want}")
    return float(x)


def coerce_from_slot(x: Any, have: str, want: str) -> Any:
    """A payload value of core type `want` carried in a joined slot of type `have`."""
    if have == want:
        return x
    if want == "i32":  # have i64
        return x & 0xFFFFFFFF
    if want == "f32":  # have i32 or i64
        return bits_f32(x)
    if want == "f64":  # have i64
        return bits_f64(x)
    return x  # want i64 only joins with i64


def lift_flat(opts: CanonicalOptions, flat_values: Iterable[Any], ty: t.Type) -> Any:
    """Lift a value of `ty` from its flat core values."""
    flatten_type(ty, opts.ptr_size)  # validates the type
    if opts.memory is not None:
        opts.memory.refresh()
    return _lift(opts, _FlatReader(iter(flat_values)), ty)


def _lift(opts: CanonicalOptions, vi: Any, ty: t.Type) -> Any:
    ty = t.unalias(ty)
    pt = "i32" if opts.ptr_size == 4 else "i64"
    if async_handle_class(ty) is not None:
        return need_resources(opts).lift_async(ty, vi.next("i32"))
    if isinstance(ty, t.PrimitiveType):
        name = ty.name
        if name == "bool":
            return vi.next("i32") != 0
        if name == "char":
            return int_to_char(vi.next("i32"))
        if name == "f32":
            return canon_float(vi.next("f32"))
        if name == "f64":
            return canon_float(vi.next("f64"))
        if name == "string":
            p, n = vi.next(pt), vi.next(pt)
            return load_string(opts, need_memory(opts), p, n)
        if name in _INT_BITS:
            bits = _INT_BITS[name]
            x = vi.next("i64" if bits == 64 else "i32")
            return wrap_signed(x, bits) if name[0] == "s" else x & ((1 << bits) - 1)
        raise unsupported(f"type {name}")
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            values = [_lift(opts, vi, ty.element) for _ in range(ty.length)]
            return bytes(values) if t.unalias(ty.element) == t.U8 else values
        p, n = vi.next(pt), vi.next(pt)
        return _load_list(opts, need_memory(opts), p, n, ty.element)
    if isinstance(ty, t.MapType):
        p, n = vi.next(pt), vi.next(pt)
        return map_of_pairs(_load_list(opts, need_memory(opts), p, n, t.TupleType((ty.key, ty.value))))
    fields = record_fields(ty)
    if fields is not None:
        return _make_record(ty, [_lift(opts, vi, f) for f in fields])
    cases = variant_cases(ty)
    if cases is not None:
        disc = vi.next("i32")
        slots = variant_payload_flat(cases, opts.ptr_size)
        if disc >= len(cases):
            raise Trap(f"discriminant {disc} is out of range for {ty.wit()} ({len(cases)} cases)", discriminant=disc)
        reader = _CoercingReader(vi, slots)
        payload = None if cases[disc] is None else _lift(opts, reader, cases[disc])
        reader.skip_rest()
        return make_case(ty, disc, payload)
    if isinstance(ty, t.FlagsType):
        return unpack_flags(ty, vi.next("i32"))
    if isinstance(ty, t.OwnType):
        return need_resources(opts).lift_own(ty.resource, vi.next("i32"))
    if isinstance(ty, t.BorrowType):
        return need_resources(opts).lift_borrow(ty.resource, vi.next("i32"))
    raise unsupported(f"type {ty.wit()}")
