"""Argument and result conversion for direct C calls, and the diagnostics for bad input.

Decided once per bound function from cffi's view of its type: plain numbers need no
conversion at all (cffi checks them and raises before the call); `char *` takes `str`
(UTF-8, NUL-terminated) or `bytes`; structs by value take a Record, a mapping or a
tuple; a `char *` result is copied into `str` and, when the callee transfers it, freed.
A Python int is never turned into a pointer: cffi refuses it, and so does every
converter here.  None is NULL for a pointer argument only where the binding says the
argument is nullable (every pointer argument unless a `nullable` set is given); for
any other pointer argument None is refused before the call, `char *` ones included.

Ownership of a pointer (Core.Ffi.Dsl's `Ownership`):
  borrowed     the other side keeps it: arguments live for the call only; results are
               copied (`char *`) or handed back as a plain cdata pointer.
  transferred  it changes hands: a `char *` argument is copied into memory from the
               allocator and the callee frees it; a `char *` result is copied and freed
               at once, any other pointer result is freed when Python drops it.
  owned        a result the caller keeps in native memory: an `OwnedCString` (explicit
               `free()` or `with`, freed by the GC otherwise) or a GC-freed cdata pointer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable, cast

import cffi

from ...audit import Diagnostic, DiagnosticError, error
from ...values import Described, Record, ValueTypeError

OWNERSHIPS = ("borrowed", "owned", "transferred")

Converter = Callable[[Any], Any]
_FFI = cffi.FFI()  # for typeof() on cdata of any FFI instance


class Allocator:
    """malloc/free pair used for transferred memory: libc's, or a library's own."""

    def __init__(self, malloc: Callable[[int], Any], free: Callable[[Any], None], name: str = "libc") -> None:
        self.malloc = malloc
        self.free = free
        self.name = name


_libc: Allocator | None = None


def libc_allocator() -> Allocator:
    global _libc
    if _libc is None:
        ffi = cffi.FFI()
        ffi.cdef("void *malloc(size_t); void free(void *);")
        libc: Any = ffi.dlopen(None)  # the cdef'd functions are attributes made at run time
        _libc = Allocator(libc.malloc, libc.free, "libc")
    return _libc


class OwnedCString:
    """A NUL-terminated string the caller owns in native memory.  `value` is the text;
    `free()` releases it exactly once (also on `with` exit, or by the GC)."""

    __slots__ = ("_ptr", "_ffi", "_free", "value")

    def __init__(self, ffi: cffi.FFI, ptr: Any, free: Callable[[Any], None], value: str) -> None:
        self._ffi = ffi
        self._free = free
        self._ptr: Any = ffi.gc(ptr, free)  # None once freed
        self.value = value

    @property
    def ptr(self) -> Any:
        if self._ptr is None:
            raise error("ffi.ownership.use_after_free", "the owned string was already freed")
        return self._ptr

    @property
    def freed(self) -> bool:
        return self._ptr is None

    def free(self) -> None:
        if self._ptr is None:
            raise error("ffi.ownership.double_free", "the owned string was already freed")
        ptr, self._ptr = self._ptr, None
        self._ffi.release(ptr)  # runs the free function now, once

    def __str__(self) -> str:
        return self.value

    def __enter__(self) -> "OwnedCString":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ptr is not None:
            self.free()


def _mismatch(symbol: str, index: int, expected: str, got: Any) -> DiagnosticError:
    if isinstance(got, cffi.FFI.CData):
        got = Described(f"cdata {got!r}")
    return ValueTypeError(f"arg {index + 1}", expected, got, symbol=symbol)


def is_char_pointer(ctype: Any) -> bool:
    return ctype.kind == "pointer" and ctype.item.kind == "primitive" and ctype.item.cname == "char"


def check_ownership(ctype: Any, ownership: str, what: str, symbol: str) -> None:
    if ownership not in OWNERSHIPS:
        raise error("ffi.signature.invalid", f"{symbol}: unknown ownership {ownership!r} for {what} "
                    f"(one of {', '.join(OWNERSHIPS)})", symbol=symbol)
    if ownership != "borrowed" and ctype.kind != "pointer":
        raise error("ffi.signature.invalid",
                    f"{symbol}: ownership {ownership!r} given for {what}, which is not a pointer "
                    f"({ctype.cname})", symbol=symbol)


# --- arguments ----------------------------------------------------------------------------

def param_converter(ffi: cffi.FFI, ctype: Any, ownership: str, alloc: Allocator, index: int,
                    symbol: str, nullable: bool = True) -> Converter | None:
    """The conversion for argument `index`, or None when cffi takes the value as is
    (`nullable`: whether None, NULL, is accepted for a pointer argument)."""
    if ctype.kind == "pointer" and not nullable:
        inner = param_converter(ffi, ctype, ownership, alloc, index, symbol)
        return _not_null(ctype, inner, index, symbol)
    if is_char_pointer(ctype):
        return _string_param(ffi, ownership, alloc, index, symbol)
    if ctype.kind == "pointer":
        null = ffi.NULL

        def nullable_pointer(value: Any) -> Any:
            return null if value is None else value
        return nullable_pointer
    if ctype.kind == "struct":
        ptr_type = ffi.typeof(ffi.getctype(ctype, "*"))

        def struct_param(value: Any) -> Any:
            try:
                return ffi.new(ptr_type, struct_init(value))[0]
            except (TypeError, OverflowError, ValueError, KeyError, AttributeError):
                raise _mismatch(symbol, index, f"struct {ctype.cname} "
                                f"({', '.join(n for n, _ in ctype.fields)})", value) from None
        return struct_param
    return None


def _not_null(ctype: Any, inner: Converter | None, index: int, symbol: str) -> Converter:
    """Refuse None and NULL cdata for a pointer argument that is not nullable."""
    null = _FFI.NULL

    def not_null(value: Any) -> Any:
        if value is None or (isinstance(value, cffi.FFI.CData) and _FFI.typeof(value).kind == "pointer"
                             and value == null):
            raise error("ffi.value.null_pointer", f"{symbol}: arg {index + 1}: {ctype.cname} is not "
                        "nullable; NULL is passed only where the binding says so",
                        symbol=symbol, path=f"arg {index + 1}")
        return value if inner is None else inner(value)
    return not_null


def struct_init(value: Any) -> Any:
    """A struct initializer cffi accepts, from a Record, a mapping or a sequence."""
    if isinstance(value, Record):
        return {k: struct_init(v) for k, v in value.fields().items()}
    if isinstance(value, Mapping):
        return {k: struct_init(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [struct_init(v) for v in value]
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, cffi.FFI.CData):
        return value
    raise TypeError("not a struct initializer")


def encode_c_string(value: Any, symbol: str, index: int) -> bytes:
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise _mismatch(symbol, index, "a string of Unicode scalar values", Described("a lone surrogate")) from None
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise _mismatch(symbol, index, "str, bytes, None or a char * cdata", value)
    if 0 in data:
        raise _mismatch(symbol, index, "a string without NUL characters", Described("a NUL character"))
    return data


def _string_param(ffi: cffi.FFI, ownership: str, alloc: Allocator, index: int, symbol: str) -> Converter:
    cdata = ffi.CData

    null = ffi.NULL

    def borrowed(value: Any) -> Any:
        if type(value) is str and "\0" not in value:
            try:
                return value.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: diagnosed below
        if value is None:
            return null
        if isinstance(value, cdata):
            return value
        return encode_c_string(value, symbol, index)

    def transferred(value: Any) -> Any:
        if value is None:
            return null
        if isinstance(value, cdata):
            return value
        data = encode_c_string(value, symbol, index)
        mem = alloc.malloc(len(data) + 1)
        if mem == ffi.NULL:
            raise error("ffi.call.failed", f"{symbol}: {alloc.name} malloc({len(data) + 1}) failed")
        buf = ffi.cast("char *", mem)
        ffi.memmove(buf, data, len(data))
        buf[len(data)] = b"\0"
        return buf

    return transferred if ownership == "transferred" else borrowed


# --- results ------------------------------------------------------------------------------

def result_converter(ffi: cffi.FFI, ctype: Any, ownership: str, alloc: Allocator,
                     symbol: str) -> Converter | None:
    """The conversion of the raw result, or None when cffi's value is the result."""
    if is_char_pointer(ctype):
        return _string_result(ffi, ownership, alloc, symbol)
    if ctype.kind == "struct":
        return struct_to_record
    if ctype.kind == "pointer" and ownership != "borrowed":
        def owned_pointer(ptr: Any) -> Any:
            return None if ptr == ffi.NULL else ffi.gc(ptr, alloc.free)
        return owned_pointer
    return None


def struct_to_record(value: Any) -> Any:
    """A cffi struct (nested structs and arrays included) as a `Record`."""
    if not isinstance(value, cffi.FFI.CData):
        return value
    ctype = _FFI.typeof(value)
    if ctype.kind == "struct":
        return Record(**{name: struct_to_record(getattr(value, name)) for name, _ in ctype.fields})
    if ctype.kind == "array":
        return [struct_to_record(v) for v in value]
    return value


def _decode(raw: bytes, symbol: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error("ffi.value.invalid_utf8", f"{symbol}: the returned string is not UTF-8 "
                    f"(byte {exc.start})", symbol=symbol) from None


def _char_string(ffi: cffi.FFI, ptr: Any) -> bytes:
    """The bytes up to the NUL of a `char *` (cffi gives `str` only for `wchar_t *`)."""
    return cast(bytes, ffi.string(ptr))


def _string_result(ffi: cffi.FFI, ownership: str, alloc: Allocator, symbol: str) -> Converter:
    def borrowed(ptr: Any) -> str | None:
        if ptr == ffi.NULL:
            return None
        return _decode(_char_string(ffi, ptr), symbol)

    def transferred(ptr: Any) -> str | None:
        if ptr == ffi.NULL:
            return None
        try:
            raw = _char_string(ffi, ptr)
        finally:
            alloc.free(ptr)
        return _decode(raw, symbol)

    def owned(ptr: Any) -> OwnedCString | None:
        if ptr == ffi.NULL:
            return None
        raw = _char_string(ffi, ptr)
        try:
            text = _decode(raw, symbol)
        except DiagnosticError:
            alloc.free(ptr)
            raise
        return OwnedCString(ffi, ptr, alloc.free, text)

    return {"borrowed": borrowed, "transferred": transferred, "owned": owned}[ownership]


# --- diagnostics --------------------------------------------------------------------------

def diagnose(ffi: cffi.FFI, ftype: Any, args: Sequence[Any], symbol: str, exc: Exception) -> DiagnosticError:
    """The diagnostic for a call cffi refused before running native code."""
    if not ftype.ellipsis and len(args) != len(ftype.args) or ftype.ellipsis and len(args) < len(ftype.args):
        return DiagnosticError(Diagnostic(
            "ffi.value.arity", f"{symbol} takes {len(ftype.args)} argument(s), got {len(args)}",
            extensions={"expected": len(ftype.args), "got": len(args), "symbol": symbol}))
    for i, (value, ctype) in enumerate(zip(args, ftype.args)):
        problem = _argument_problem(ffi, ctype, value)
        if problem:
            return _mismatch(symbol, i, problem, value)
    return DiagnosticError(Diagnostic("ffi.value.type_mismatch", f"{symbol}: {exc}",
                                      extensions={"symbol": symbol}))


def _argument_problem(ffi: cffi.FFI, ctype: Any, value: Any) -> str | None:
    """What `value` should have been for a parameter of `ctype`, or None if it fits."""
    if ctype.kind == "pointer":
        if value is None:
            return None
        if isinstance(value, cffi.FFI.CData):
            vt = ffi.typeof(value)
            if vt.kind in ("pointer", "array") and (ctype.item.cname == "void" or vt.item == ctype.item
                                                    or vt.kind == "pointer" and vt.item.cname == "void"):
                return None
            return f"{ctype.cname} (a cdata pointer)"
        if is_char_pointer(ctype) and isinstance(value, (bytes, str)):
            return None
        return f"{ctype.cname} (a cdata pointer or None; an int is never taken as a pointer)"
    try:
        ffi.new(ffi.getctype(ctype, "[1]"), [value])
    except OverflowError:
        return f"{ctype.cname} in range"
    except (TypeError, ValueError):
        return ctype.cname
    return None
