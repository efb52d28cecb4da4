"""Lowering (host -> guest), the reference interpreter: `store` into memory and
`lower_flat` to core values.

Flat integers come out in two's-complement signed form (what wasmtime's core API takes
and returns); floats are canonicalised (NaN -> the canonical NaN)."""

from __future__ import annotations

import struct
from collections.abc import Set
from typing import Any

from .. import types as t
from ..values import Err, Ok, Some, Variant, ValueTypeError, check, nests_option, record_field
from .errors import unsupported
from .layout import alignment, flatten_type, record_fields, record_offsets, size, variant_cases, \
    variant_layout, variant_payload_flat
from .memory import Memory
from .numbers import STRUCT_CODE, char_to_int, f32_bits, f32_round, f64_bits, wrap_signed, canon_float
from .options import CanonicalOptions, allocate, check_aligned, need_memory, need_resources
from .resources import async_handle_class
from .strings import MAX_LIST_BYTES, list_too_long, store_string

_INT_BITS = {"s8": 8, "u8": 8, "s16": 16, "u16": 16, "s32": 32, "u32": 32, "s64": 64, "u64": 64}


# --- memory ------------------------------------------------------------------------------

def store(opts: CanonicalOptions, value: Any, ty: t.Type, ptr: int) -> None:
    """Write `value` of `ty` at `ptr` (checked), allocating strings and lists by realloc."""
    check(value, ty)
    mem = need_memory(opts)
    mem.refresh()
    check_aligned(ptr, alignment(ty, opts.ptr_size), ty.wit())
    mem.check(ptr, size(ty, opts.ptr_size))
    _store(opts, mem, value, ty, ptr)


def _put(mem: Memory, ptr: int, code: str, x: Any) -> None:
    # After a realloc the memory may have moved: `mem.view` is always the fresh view.
    struct.pack_into("<" + code, mem.view, ptr, x)


def _store(opts: CanonicalOptions, mem: Memory, value: Any, ty: t.Type, ptr: int) -> None:
    ty = t.unalias(ty)
    ps = opts.ptr_size
    if async_handle_class(ty) is not None:
        _put(mem, ptr, "I", need_resources(opts).lower_async(ty, value))
        return
    if isinstance(ty, t.PrimitiveType):
        name = ty.name
        if name == "bool":
            _put(mem, ptr, "B", 1 if value else 0)
        elif name == "char":
            _put(mem, ptr, "I", char_to_int(value))
        elif name == "f32":
            _put(mem, ptr, "I", f32_bits(value))
        elif name == "f64":
            _put(mem, ptr, "Q", f64_bits(value))
        elif name == "string":
            p, n = store_string(opts, value)
            struct.pack_into("<II" if ps == 4 else "<QQ", mem.view, ptr, p, n)
        elif name in _INT_BITS:
            _put(mem, ptr, STRUCT_CODE[name], value)
        else:
            raise unsupported(f"type {name}")
        return
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            _store_elements(opts, mem, value, ty.element, ptr)
        else:
            p, n = _store_list(opts, mem, value, ty.element)
            struct.pack_into("<II" if ps == 4 else "<QQ", mem.view, ptr, p, n)
        return
    if isinstance(ty, t.MapType):
        p, n = _store_list(opts, mem, list(value.items()), t.TupleType((ty.key, ty.value)))
        struct.pack_into("<II" if ps == 4 else "<QQ", mem.view, ptr, p, n)
        return
    fields = record_fields(ty)
    if fields is not None:
        offsets, _ = record_offsets(fields, ps)
        for o, f, v in zip(offsets, fields, record_values(ty, value)):
            _store(opts, mem, v, f, ptr + o)
        return
    cases = variant_cases(ty)
    if cases is not None:
        disc_size, payload_offset, _ = variant_layout(cases, ps)
        disc, payload = case_of(ty, value)
        _put(mem, ptr, {1: "B", 2: "H", 4: "I"}[disc_size], disc)
        payload_type = cases[disc]
        if payload_type is not None:
            _store(opts, mem, payload, payload_type, ptr + payload_offset)
        return
    if isinstance(ty, t.FlagsType):
        n = len(ty.labels)
        _put(mem, ptr, "B" if n <= 8 else "H" if n <= 16 else "I", pack_flags(ty, value))
        return
    if isinstance(ty, t.OwnType):
        _put(mem, ptr, "I", need_resources(opts).lower_own(ty.resource, value))
        return
    if isinstance(ty, t.BorrowType):
        _put(mem, ptr, "I", need_resources(opts).lower_borrow(ty.resource, value))
        return
    raise unsupported(f"type {ty.wit()}")


def _store_list(opts: CanonicalOptions, mem: Memory, value: Any, elem: t.Type) -> tuple[int, int]:
    n = len(value)
    es = size(elem, opts.ptr_size)
    if n * es > MAX_LIST_BYTES:
        raise list_too_long(n, n * es)
    ptr = allocate(opts, alignment(elem, opts.ptr_size), n * es)
    _store_elements(opts, mem, value, elem, ptr)
    return ptr, n


def _store_elements(opts: CanonicalOptions, mem: Memory, value: Any, elem: t.Type, ptr: int) -> None:
    if t.unalias(elem) == t.U8 and isinstance(value, (bytes, bytearray, memoryview)):
        mem.view[ptr:ptr + len(value)] = value
        return
    es = size(elem, opts.ptr_size)
    for i, v in enumerate(value):
        _store(opts, mem, v, elem, ptr + i * es)


def record_values(ty: t.Type, value: Any) -> list[Any]:
    if isinstance(ty, t.RecordType):
        return [record_field(value, f.name) for f in ty.fields]
    return list(value)


def case_of(ty: t.Type, value: Any) -> tuple[int, Any]:
    """(case index, payload) of a host value of a variant-like type.  A payload given
    for a case that has none is refused (it would be lost), as wasmtime refuses it."""
    d, payload = _case_and_payload(ty, value)
    if payload is not None and variant_cases(ty)[d] is None:  # type: ignore[index]
        raise no_payload(payload)
    return d, payload


def no_payload(payload: Any) -> ValueTypeError:
    """The error for a payload given to a case without one."""
    return ValueTypeError("value", "no payload", payload)


def _case_and_payload(ty: t.Type, value: Any) -> tuple[int, Any]:
    if isinstance(ty, t.VariantType):
        if not isinstance(value, Variant):
            raise ValueTypeError("value", f"variant {ty.name}", value)
        return ty.case_index(value.tag), value.value
    if isinstance(ty, t.EnumType):
        return ty.cases.index(value), None
    if isinstance(ty, t.OptionType):
        if value is None:
            return 0, None
        if nests_option(ty):
            if not isinstance(value, Some):
                raise ValueTypeError("value", f"None or Some(...) for {ty.wit()}", value)
            return 1, value.value
        return 1, value.value if isinstance(value, Some) else value
    if isinstance(value, Ok):
        return 0, value.value
    if isinstance(value, Err):
        return 1, value.value
    raise ValueTypeError("value", f"Ok(...) or Err(...) for {ty.wit()}", value)


def pack_flags(ty: t.FlagsType, value: Set[str]) -> int:
    bits = 0
    for i, label in enumerate(ty.labels):
        if label in value:
            bits |= 1 << i
    return bits


# --- flat values ---------------------------------------------------------------------------

def lower_flat(opts: CanonicalOptions, value: Any, ty: t.Type) -> list[Any]:
    """The flat core values of `value` of `ty` (strings and lists go to memory)."""
    check(value, ty)
    flatten_type(ty, opts.ptr_size)
    if opts.memory is not None:
        opts.memory.refresh()
    out: list[Any] = []
    _lower(opts, value, ty, out)
    return out


def to_slot(x: Any, have: str, slot: str) -> Any:
    """A payload core value of type `have` widened into a variant slot of type `slot`."""
    if have == slot:
        return x
    if have == "f32":
        bits = f32_bits(x)
        return wrap_signed(bits, 32) if slot == "i32" else bits
    if have == "f64":
        return wrap_signed(f64_bits(x), 64)
    return x & 0xFFFFFFFF  # i32 into i64: zero-extended


def _lower(opts: CanonicalOptions, value: Any, ty: t.Type, out: list[Any]) -> None:
    ty = t.unalias(ty)
    if async_handle_class(ty) is not None:
        out.append(need_resources(opts).lower_async(ty, value))
        return
    if isinstance(ty, t.PrimitiveType):
        name = ty.name
        if name == "bool":
            out.append(1 if value else 0)
        elif name == "char":
            out.append(char_to_int(value))
        elif name == "f32":
            out.append(f32_round(value))
        elif name == "f64":
            out.append(canon_float(float(value)))
        elif name == "string":
            out.extend(_signed_pair(store_string(opts, value), opts.ptr_size))
        elif name in _INT_BITS:
            out.append(wrap_signed(value, 64 if _INT_BITS[name] == 64 else 32))
        else:
            raise unsupported(f"type {name}")
        return
    if isinstance(ty, t.ListType):
        if ty.length is not None:
            for v in value:
                _lower(opts, v, ty.element, out)
        else:
            out.extend(_signed_pair(_store_list(opts, need_memory(opts), value, ty.element), opts.ptr_size))
        return
    if isinstance(ty, t.MapType):
        pair = _store_list(opts, need_memory(opts), list(value.items()), t.TupleType((ty.key, ty.value)))
        out.extend(_signed_pair(pair, opts.ptr_size))
        return
    fields = record_fields(ty)
    if fields is not None:
        for f, v in zip(fields, record_values(ty, value)):
            _lower(opts, v, f, out)
        return
    cases = variant_cases(ty)
    if cases is not None:
        disc, payload = case_of(ty, value)
        slots = variant_payload_flat(cases, opts.ptr_size)
        out.append(disc)
        inner: list[Any] = []
        payload_type = cases[disc]
        if payload_type is not None:
            _lower(opts, payload, payload_type, inner)
            have = flatten_type(payload_type, opts.ptr_size)
            inner = [to_slot(x, h, s) for x, h, s in zip(inner, have, slots)]
        inner.extend(0.0 if s[0] == "f" else 0 for s in slots[len(inner):])
        out.extend(inner)
        return
    if isinstance(ty, t.FlagsType):
        out.append(wrap_signed(pack_flags(ty, value), 32))
        return
    if isinstance(ty, t.OwnType):
        out.append(need_resources(opts).lower_own(ty.resource, value))
        return
    if isinstance(ty, t.BorrowType):
        out.append(need_resources(opts).lower_borrow(ty.resource, value))
        return
    raise unsupported(f"type {ty.wit()}")


def _signed_pair(pair: tuple[int, int], ptr_size: int) -> tuple[int, int]:
    bits = 8 * ptr_size
    return wrap_signed(pair[0], bits), wrap_signed(pair[1], bits)

