"""Strings in memory: utf8, utf16 and latin1+utf16, both directions."""

from __future__ import annotations

from typing import Any

from ..values import ValueTypeError
from .errors import Trap
from .memory import Memory
from .options import CanonicalOptions, allocate, check_aligned


def utf16_tag(ptr_size: int) -> int:
    """The bit of a latin1+utf16 length that says "these are UTF-16 code units"."""
    return 1 << (8 * ptr_size - 1)


# The longest string and list, in bytes, with either pointer width: small enough that
# twice the length (the worst growth when a value moves between memories) still fits an
# i32 realloc size.  A utf16 string may so have at most 2^27 - 1 code units.
MAX_STRING_BYTES = (1 << 28) - 1
MAX_LIST_BYTES = (1 << 28) - 1


def string_too_long(nbytes: int) -> Trap:
    """The trap for a string of `nbytes` bytes past `MAX_STRING_BYTES`."""
    return Trap(f"string of {nbytes} bytes is longer than the Canonical ABI allows "
                f"({MAX_STRING_BYTES})", length=nbytes)


def list_too_long(n: int, nbytes: int) -> Trap:
    """The trap for a list of `n` elements (`nbytes` bytes) past `MAX_LIST_BYTES`."""
    return Trap(f"list of {n} elements ({nbytes} bytes) is longer than the Canonical ABI allows "
                f"({MAX_LIST_BYTES} bytes)", length=n)


def load_string(opts: CanonicalOptions, mem: Memory, ptr: int, tagged_units: int) -> str:
    """Decode the string at `ptr` whose length field (in code units) is `tagged_units`."""
    encoding = opts.string_encoding
    if encoding == "utf8":
        codec, nbytes, align = "utf-8", tagged_units, 1
    elif encoding == "utf16":
        codec, nbytes, align = "utf-16-le", 2 * tagged_units, 2
    else:
        tag = utf16_tag(opts.ptr_size)
        align = 2
        if tagged_units & tag:
            codec, nbytes = "utf-16-le", 2 * (tagged_units ^ tag)
        else:
            codec, nbytes = "latin-1", tagged_units
    if nbytes > MAX_STRING_BYTES:
        raise string_too_long(nbytes)
    check_aligned(ptr, align, "string")
    mem.check(ptr, nbytes)
    try:
        return str(mem.view[ptr:ptr + nbytes], codec)
    except UnicodeDecodeError as exc:
        raise Trap(f"string at {ptr:#x} is not valid {encoding}: {exc.reason} at byte {exc.start}",
                   ptr=ptr) from None


def encode_string(opts: CanonicalOptions, value: Any) -> tuple[bytes, int, int]:
    """(bytes, alignment, length field) of a host string in the options' encoding."""
    if not isinstance(value, str):
        raise ValueTypeError("value", "string", value)
    encoding = opts.string_encoding
    try:
        if encoding == "utf8":
            data = value.encode("utf-8")
            units, align = len(data), 1
        elif encoding == "utf16":
            data = value.encode("utf-16-le")
            units, align = len(data) // 2, 2
        else:
            align = 2
            try:
                data = value.encode("latin-1")
                units = len(data)
            except UnicodeEncodeError:
                data = value.encode("utf-16-le")
                units = (len(data) // 2) | utf16_tag(opts.ptr_size)
    except UnicodeEncodeError:
        raise ValueTypeError("value", "string of Unicode scalar values", "lone surrogate") from None
    if len(data) > MAX_STRING_BYTES:
        raise string_too_long(len(data))
    return data, align, units


def store_string(opts: CanonicalOptions, value: Any) -> tuple[int, int]:
    """Copy a host string into guest memory through realloc: (pointer, length field)."""
    data, align, units = encode_string(opts, value)
    ptr = allocate(opts, align, len(data))
    if data:
        opts.memory.view[ptr:ptr + len(data)] = data  # type: ignore[union-attr]
    return ptr, units


