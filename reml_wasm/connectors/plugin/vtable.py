"""Reading a BID library's interface vtable, which is untrusted input.

A library may export, per interface, `const InterfaceVTable nyash_<interface>_vtable`
(dots of the interface name turned into underscores):

    InterfaceVTable { u32 version; u8 interface_id[16]; u32 method_count; const MethodEntry *methods; }
    MethodEntry     { const char *name; void *function; u32 param_count;
                      const BidTypeId *param_types; BidTypeId return_type; }

BidTypeId is a u32 with the TLV tag numbers (1 bool ... 9 void).  Nothing in the table is
believed before it is checked: every pointer must be non-null, aligned and lie inside the
memory the library itself mapped (read from /proc/self/maps by the file's device and
inode), with every byte it covers readable; a function pointer must lie in the library's
executable memory; counts are bounded; names are NUL-terminated identifiers, unique;
type ids are known ones.  Only bytes inside those ranges are ever read, so a lying table
can produce a coded `ffi.bid.vtable.*` error but never a crash.  `check_against` then
compares each entry with the BID document's signature (`ffi.bid.vtable.mismatch`).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from cffi import FFI

from ... import tlv
from ... import types as t
from ...audit import DiagnosticError, error

__all__ = ["VTABLE_VERSION", "BID_TYPE_IDS", "BID_TYPE_NAMES", "MAX_METHODS", "MAX_PARAMS", "LibraryMemory",
           "MethodSlot", "VTable", "vtable_symbol", "read_vtable", "check_against", "bid_kinds"]

VTABLE_VERSION = 1
BID_TYPE_IDS: dict[str, int] = dict(tlv.TAGS)             # "i32" -> 2, ... (the TLV tag numbers)
BID_TYPE_NAMES: dict[int, str] = {v: k for k, v in BID_TYPE_IDS.items()}
MAX_METHODS = 4096
MAX_PARAMS = 64
MAX_NAME = 256

_PTR = 8
_VTABLE = struct.Struct("<I16sIQ")         # 32 bytes on a 64-bit target (no padding)
_ENTRY = struct.Struct("<QQI4xQI4x")       # 40 bytes
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_ffi = FFI()


def vtable_symbol(interface: str) -> str:
    """`nyash.file` -> `nyash_nyash_file_vtable`."""
    return "nyash_" + interface.replace(".", "_") + "_vtable"


@dataclass(frozen=True)
class _Range:
    start: int
    end: int
    executable: bool


class LibraryMemory:
    """The address ranges one loaded library mapped, with their permissions.  Reads are
    allowed only inside readable ranges (adjacent readable mappings are merged)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        st = os.stat(path)
        want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
        readable: list[tuple[int, int]] = []
        executable: list[tuple[int, int]] = []
        try:
            maps = Path("/proc/self/maps").read_text()
            self.unavailable = ""
        except OSError as exc:           # no memory map here: vtables cannot be checked
            maps, self.unavailable = "", f"cannot read this process's memory map to check a vtable: {exc}"
        for line in maps.splitlines():
            parts = line.split(None, 5)
            if len(parts) < 5:
                continue
            span, perms, _, dev, inode = parts[:5]
            major, _, minor = dev.partition(":")
            try:
                key = (int(major, 16), int(minor, 16), int(inode))
            except ValueError:
                continue
            if key != want:
                continue
            lo, _, hi = span.partition("-")
            start, end = int(lo, 16), int(hi, 16)
            if perms[0] == "r":
                if readable and readable[-1][1] == start:
                    readable[-1] = (readable[-1][0], end)
                else:
                    readable.append((start, end))
            if perms[2] == "x" and perms[0] == "r":
                executable.append((start, end))
        self._set(readable, executable)

    @classmethod
    def of_ranges(cls, readable: Sequence[tuple[int, int]], executable: Sequence[tuple[int, int]],
                  path: str = "<ranges>") -> "LibraryMemory":
        """Memory given by explicit (start, end) ranges, which must be mapped and readable
        in this process (used to check the reader against generated tables)."""
        memory = cls.__new__(cls)
        memory.path = path
        memory.unavailable = ""
        memory._set(list(readable), list(executable))
        return memory

    def _set(self, readable: list[tuple[int, int]], executable: list[tuple[int, int]]) -> None:
        self.readable = tuple(readable)
        self.executable = tuple(executable)
        self.base = readable[0][0] if readable else 0     # the lowest mapping: where the file starts

    def readable_span(self, address: int) -> int:
        """How many bytes from `address` can be read (0: not inside the library)."""
        for start, end in self.readable:
            if start <= address < end:
                return end - address
        return 0

    def contains(self, address: int, size: int) -> bool:
        """Whether all `size` bytes from `address` are readable library memory."""
        return size >= 0 and self.readable_span(address) >= max(size, 1)

    def is_code(self, address: int) -> bool:
        """Whether `address` lies in the library's executable memory."""
        return any(start <= address < end for start, end in self.executable)

    def read(self, address: int, size: int) -> bytes:
        """`size` bytes at `address`; the caller checked `contains(address, size)`."""
        if not self.contains(address, size):    # a programming error, never a read
            raise AssertionError(f"read outside the library at {address:#x}")
        return bytes(_ffi.buffer(_ffi.cast("char *", address), size))


@dataclass(frozen=True)
class MethodSlot:
    """One validated entry: its name, C function address and BID kinds."""

    name: str
    address: int
    params: tuple[str, ...]
    result: str


@dataclass(frozen=True)
class VTable:
    interface: str
    interface_id: bytes
    methods: dict[str, MethodSlot]


def _fail(code: str, message: str, **ext: Any) -> DiagnosticError:
    return error(code, message, **ext)


def read_vtable(memory: LibraryMemory, address: int, interface: str, library: str) -> VTable:
    """Validate and read the table at `address` (the symbol's address in `library`)."""
    where = dict(library=library, interface=interface, symbol=vtable_symbol(interface))

    def pointer(value: int, size: int, align: int, what: str, **ext: Any) -> None:
        if value == 0:
            raise _fail("ffi.bid.vtable.pointer", f"{library}: {what} of the {interface} vtable is NULL",
                        **where, field=what, **ext)
        if value % align:
            raise _fail("ffi.bid.vtable.pointer", f"{library}: {what} of the {interface} vtable ({value:#x}) "
                        f"is not {align}-byte aligned", **where, field=what, **ext)
        if not memory.contains(value, size):
            raise _fail("ffi.bid.vtable.pointer", f"{library}: {what} of the {interface} vtable ({value:#x}, "
                        f"{size} bytes) lies outside the library's memory", **where, field=what, **ext)

    if _ffi.sizeof("void *") != _PTR:
        raise _fail("ffi.bid.vtable.unsupported", "the vtable path needs a 64-bit host", **where)
    if memory.unavailable:
        raise _fail("ffi.bid.vtable.unsupported", f"{library}: {memory.unavailable}", **where)
    pointer(address, _VTABLE.size, _PTR, "the table itself")
    version, iface_id, count, methods_ptr = _VTABLE.unpack(memory.read(address, _VTABLE.size))
    if version != VTABLE_VERSION:
        raise _fail("ffi.bid.vtable.version", f"{library}: the {interface} vtable has version {version}; "
                    f"this host reads version {VTABLE_VERSION}", **where, version=version)
    if count > MAX_METHODS:
        raise _fail("ffi.bid.vtable.count", f"{library}: the {interface} vtable claims {count} methods "
                    f"(at most {MAX_METHODS})", **where, method_count=count)
    methods: dict[str, MethodSlot] = {}
    if count:
        pointer(methods_ptr, count * _ENTRY.size, _PTR, "the method array", method_count=count)
        raw = memory.read(methods_ptr, count * _ENTRY.size)
    for i in range(count):
        name_ptr, fn, nparams, types_ptr, ret = _ENTRY.unpack_from(raw, i * _ENTRY.size)
        at: dict[str, Any] = {"index": i}
        pointer(name_ptr, 1, 1, f"the name of method {i}", **at)
        span = min(memory.readable_span(name_ptr), MAX_NAME)
        text = memory.read(name_ptr, span)
        end = text.find(b"\0")
        if end < 0:
            raise _fail("ffi.bid.vtable.name", f"{library}: the name of method {i} of the {interface} vtable is "
                        f"not NUL-terminated within {span} bytes", **where, **at)
        try:
            name = text[:end].decode("ascii")
        except UnicodeDecodeError:
            name = ""
        if not _IDENT.match(name):
            raise _fail("ffi.bid.vtable.name", f"{library}: method {i} of the {interface} vtable has the name "
                        f"{text[:end]!r}, not an identifier", **where, **at)
        if name in methods:
            raise _fail("ffi.bid.vtable.name", f"{library}: method {name!r} appears twice in the {interface} vtable",
                        **where, method=name, **at)
        at["method"] = name
        if fn == 0 or not memory.is_code(fn):
            raise _fail("ffi.bid.vtable.pointer", f"{library}: the function of {interface}.{name} ({fn:#x}) is not "
                        "in the library's executable memory", **where, field="function", **at)
        if nparams > MAX_PARAMS:
            raise _fail("ffi.bid.vtable.count", f"{library}: {interface}.{name} claims {nparams} parameters "
                        f"(at most {MAX_PARAMS})", **where, param_count=nparams, **at)
        kinds: list[str] = []
        if nparams:
            pointer(types_ptr, 4 * nparams, 4, f"the parameter types of {name}", **at)
            for j, type_id in enumerate(struct.unpack(f"<{nparams}I", memory.read(types_ptr, 4 * nparams))):
                kind = BID_TYPE_NAMES.get(type_id)
                if kind is None or kind == "void":
                    raise _fail("ffi.bid.vtable.type", f"{library}: parameter {j + 1} of {interface}.{name} has "
                                f"type id {type_id}, not a BID parameter type", **where, type_id=type_id, **at)
                kinds.append(kind)
        result = BID_TYPE_NAMES.get(ret)
        if result is None:
            raise _fail("ffi.bid.vtable.type", f"{library}: {interface}.{name} returns type id {ret}, not a BID type",
                        **where, type_id=ret, **at)
        methods[name] = MethodSlot(name, fn, tuple(kinds), result)
    return VTable(interface, iface_id, methods)


def bid_kinds(function: t.Function) -> tuple[tuple[str, ...], str]:
    """The BID kinds of a model function: (parameter kinds, result kind)."""
    return tuple(tlv.kind_for_type(p.type) for p in function.params), tlv.kind_for_type(function.result)


def check_against(table: VTable, functions: Sequence[t.Function], library: str) -> None:
    """Every table entry the document also declares must have the document's signature."""
    for fn in functions:
        slot = table.methods.get(fn.name)
        if slot is None:
            continue
        params, result = bid_kinds(fn)
        if slot.params != params or slot.result != result:
            declared = f"({', '.join(params)}) -> {result}"
            found = f"({', '.join(slot.params)}) -> {slot.result}"
            raise _fail("ffi.bid.vtable.mismatch", f"{library}: {table.interface}.{fn.name} is {found} in the "
                        f"library's vtable but {declared} in the BID document", library=library,
                        interface=table.interface, method=fn.name, declared=declared, found=found)
