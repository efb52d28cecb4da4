"""Calling a vtable's C functions directly, with native arguments (no TLV).

Native form of each BID kind (the library's side is documented in nyash_bid.h):
bool -> int32_t, i32 -> int32_t, i64 -> int64_t, f32 -> float, f64 -> double,
string/bytes parameter -> (const char *ptr, size_t len), handle -> uint64_t
(`type_id << 32 | instance_id`), void -> no result.  A function returning string or
bytes takes `char *out, size_t *out_len` last and returns an int32_t BID-1 code, with
the two-phase protocol of the invoke path (-1 and the size needed when the buffer is
short).

Two call modes, as for the invoke path: "abi" casts the address to a cffi function
pointer (a libffi call); "api" calls through a compiled module with one C caller per
vtable entry (`base + offset`, cached per library build; `api_targets`), or, for a second
copy of a library already bound in this process, per-signature shims taking the address.
A method's callable is a Python function generated for its signature (`compile_direct`),
doing only the conversions that signature needs; numbers-only signatures can be the bare
C call.  Arguments that do not fit are `tlv.invalid_args` (the same codes as the invoke path).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Iterable, Sequence

from ... import tlv
from ...audit import error
from .call import ABI_FFI, api_module, api_unavailable_reason
from .host import _call_error
from .vtable import MethodSlot

__all__ = ["PARAM_C", "RESULT_C", "native_signature", "shim_module", "api_targets", "abi_target", "compile_direct"]

PARAM_C: dict[str, tuple[str, ...]] = {
    "bool": ("int32_t",), "i32": ("int32_t",), "i64": ("int64_t",), "f32": ("float",), "f64": ("double",),
    "string": ("const char *", "size_t"), "bytes": ("const char *", "size_t"), "handle": ("uint64_t",),
}
RESULT_C: dict[str, str] = {
    "bool": "int32_t", "i32": "int32_t", "i64": "int64_t", "f32": "float", "f64": "double",
    "handle": "uint64_t", "void": "void", "string": "int32_t", "bytes": "int32_t",
}
_LETTER = {"int32_t": "i", "int64_t": "l", "float": "f", "double": "d", "const char *": "p", "size_t": "z",
           "uint64_t": "h", "void": "v", "char *": "o", "size_t *": "n"}
_OUT = ("char *", "size_t *")
_MAX_RETRIES = 4
MAX_RESULT_BYTES = 1 << 28


def native_signature(slot: MethodSlot) -> tuple[str, tuple[str, ...]]:
    """(C result type, C parameter types) of a validated vtable entry."""
    params = tuple(c for kind in slot.params for c in PARAM_C[kind])
    if slot.result in ("string", "bytes"):
        params += _OUT
    return RESULT_C[slot.result], params


def _shim_name(ret: str, params: tuple[str, ...]) -> str:
    return "reml_bid_" + _LETTER[ret] + "_" + "".join(_LETTER[p] for p in params)


_shim_lock = threading.Lock()
_shims: dict[frozenset[tuple[str, tuple[str, ...]]], Any] = {}


def _c_caller(name: str, ret: str, params: tuple[str, ...], address: str, lead: list[str]) -> tuple[str, str]:
    """(cdef declaration, C definition) of `name`, which calls the function at the C
    expression `address` with its own parameters after `lead`."""
    formals = ", ".join([*lead, *(f"{p} a{i}" for i, p in enumerate(params))]) or "void"
    actuals = ", ".join(f"a{i}" for i in range(len(params)))
    proto = f"{ret} {name}({formals})"
    call = f"(({ret} (*)({', '.join(params) or 'void'}))({address}))({actuals});"
    return proto + ";", f"static {proto} {{ {call if ret == 'void' else 'return ' + call} }}\n"


def shim_module(signatures: Iterable[tuple[str, tuple[str, ...]]]) -> Any:
    """The compiled module calling function pointers of these native signatures (API mode)."""
    wanted = frozenset(signatures)
    with _shim_lock:
        module = _shims.get(wanted)
        if module is not None:
            return module
        if api_module() is None:
            raise error("ffi.api.unavailable", f"API mode is unavailable here: {api_unavailable_reason()}")
        from ...cffi_api import build_api_module
        cdef, source = [], ["#include <stdint.h>\n#include <stddef.h>\n"]
        for ret, params in sorted(wanted):
            decl, definition = _c_caller(_shim_name(ret, params), ret, params, "fn", ["uintptr_t fn"])
            cdef.append(decl)
            source.append(definition)
        module = build_api_module("\n".join(cdef), "".join(source), None)
        _shims[wanted] = module
        return module


def _slot_module(base: int, slots: Sequence[MethodSlot]) -> Any:
    """A compiled module with one caller per vtable entry, each calling `base + offset`
    with no address argument (so a call costs what a call of the C function by name
    costs).  Offsets from the library's lowest mapping are the same in every process, so
    the module is built once and cached; `reml_bid_base` is set when it is first used.
    None when this process already bound the same module to another base (a second copy
    of the same library), or without a compiler."""
    if api_module() is None:
        return None
    from ...cffi_api import build_api_module
    cdef = ["void reml_bid_set_base(uintptr_t base);", "uintptr_t reml_bid_get_base(void);"]
    source = ["#include <stdint.h>\n#include <stddef.h>\nstatic uintptr_t reml_bid_base;\n",
              "static void reml_bid_set_base(uintptr_t base) { reml_bid_base = base; }\n",
              "static uintptr_t reml_bid_get_base(void) { return reml_bid_base; }\n"]
    for i, slot in enumerate(slots):
        ret, params = native_signature(slot)
        decl, definition = _c_caller(f"reml_bid_slot_{i}", ret, params,
                                     f"reml_bid_base + (uintptr_t){slot.address - base}ULL", [])
        cdef.append(decl)
        source.append(definition)
    module = build_api_module("\n".join(cdef), "".join(source), None)
    lib: Any = module.lib
    with _shim_lock:
        bound = lib.reml_bid_get_base()
        if bound == 0:
            lib.reml_bid_set_base(base)
        elif bound != base:
            return None
    return module


def api_targets(base: int, slots: Sequence[MethodSlot]) -> tuple[dict[str, Any], Any]:
    """API mode: for each entry (by name), a compiled caller taking the native arguments,
    and the module's ffi.  Per-entry callers (`_slot_module`) when possible, else the
    shared per-signature shims with the address bound by `functools.partial`."""
    module = _slot_module(base, slots)
    if module is not None:
        return {slot.name: getattr(module.lib, f"reml_bid_slot_{i}") for i, slot in enumerate(slots)}, module.ffi
    shims = shim_module(native_signature(slot) for slot in slots)
    return {slot.name: functools.partial(getattr(shims.lib, _shim_name(*native_signature(slot))), slot.address)
            for slot in slots}, shims.ffi


def abi_target(slot: MethodSlot) -> Any:
    """ABI mode: the entry as a cffi function pointer (a libffi call)."""
    ret, params = native_signature(slot)
    return ABI_FFI.cast(f"{ret} (*)({', '.join(params) or 'void'})", slot.address)


def _bad_args(where: str, exc: BaseException, args: tuple[Any, ...]) -> Exception:
    if isinstance(exc, UnicodeEncodeError):
        return tlv.tlv_error("tlv.invalid_utf8", f"{where}: a string argument is not encodable as UTF-8")
    return tlv.tlv_error("tlv.invalid_args", f"{where}: arguments {args!r:.80} do not fit the signature ({exc})")


_MISSING = object()


def _wrong_arity(where: str, arity: int, given: tuple[Any, ...]) -> Exception:
    count = sum(1 for v in given if v is not _MISSING)
    return tlv.tlv_error("tlv.invalid_args", f"{where} takes {arity} argument(s), got {count}")


def _as_bool(value: Any) -> int:
    if value.__class__ is not bool:
        raise TypeError(f"expected a bool, got {type(value).__name__}")
    return 1 if value else 0


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected bytes, got {type(value).__name__}")


def _as_str(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    data = value.encode("utf-8")
    if b"\0" in data:  # a BID-1 string never holds NUL, whichever way it travels
        raise tlv.tlv_error("tlv.nul_in_string", f"string {value!r:.60} contains NUL, which a BID string "
                            "may not (send it as bytes)")
    return data


def _handle_bits(value: Any) -> int:
    h = value if value.__class__ is tlv.Handle else tlv._as_handle(value)
    return (h.type_id << 32) | h.instance_id


_NUMBERS = frozenset({"i32", "i64", "f32", "f64"})


def _numbers_only(target: Any, where: str, name: str, checked: bool) -> Callable[..., Any]:
    """Numbers in, a number out: cffi converts and checks (types, ranges and the argument
    count).  Unchecked, the callable is the C call itself (a cffi function pointer, or a
    compiled caller): a wrong argument raises cffi's TypeError or OverflowError.  Checked,
    one frame turns those into coded errors."""
    if not checked:
        return target

    def call(*args: Any) -> Any:
        try:
            return target(*args)
        except (TypeError, OverflowError) as exc:
            raise _bad_args(where, exc, args) from None
    call.__name__ = call.__qualname__ = name
    return call


class _ResultBuffer:
    """A string/bytes result buffer of one method, reused across calls."""

    __slots__ = ("buf", "cap", "n")

    def __init__(self, new: Callable[..., Any], cap: int = 256) -> None:
        self.n = new("size_t *")
        self.grow(new, cap)

    def grow(self, new: Callable[..., Any], cap: int) -> None:
        self.buf = new("char[]", cap)
        self.cap = cap


def compile_direct(slot: MethodSlot, where: str, *, target: Any, ffi: Any, checked: bool = True) -> Callable[..., Any]:
    """The Python callable for one validated vtable entry; `target` calls the C function
    with native arguments (`abi_target`, or one of `api_targets`), `ffi` allocates its
    buffers.  `checked=False` lets a numbers-only signature be the bare C call."""
    if all(k in _NUMBERS for k in slot.params) and slot.result in _NUMBERS:
        return _numbers_only(target, where, slot.name, checked)
    head: list[str] = []
    names = [f"a{i}" for i in range(len(slot.params))]
    prep: list[str] = []
    actuals = list(head)
    for name, kind in zip(names, slot.params):
        if kind == "bool":
            actuals.append(f"__bool({name})")
        elif kind in ("string", "bytes"):
            prep.append(f"{name}_b = {'__str' if kind == 'string' else '__bytes'}({name})")
            actuals += [f"{name}_b", f"len({name}_b)"]
        elif kind == "handle":
            actuals.append(f"__handle({name})")
        else:
            actuals.append(name)
    # Defaults and *rest make a wrong argument count a coded error, not Python's TypeError.
    formals = ", ".join([*(f"{n}=__M" for n in names), "*__rest"])
    lines = [f"def call({formals}):"]
    check = " or ".join(["__rest"] + ([f"{names[-1]} is __M"] if names else []))
    lines += [f"    if {check}:",
              f"        raise __arity(__where, {len(names)}, ({''.join(n + ', ' for n in names)}) + __rest)",
              "    try:"]
    lines += [f"        {p}" for p in prep]
    result = slot.result
    env: dict[str, Any] = {
        "__fn": target, "__bool": _as_bool, "__str": _as_str, "__bytes": _as_bytes,
        "__handle": _handle_bits, "__bad": _bad_args, "__where": where, "__Handle": tlv.Handle,
        "__tlv_error": tlv.tlv_error, "__call_error": _call_error, "__new": ffi.new,
        "__unpack": ffi.unpack, "__M": _MISSING, "__arity": _wrong_arity, "__pool": [], "__Buf": _ResultBuffer, "__max": MAX_RESULT_BYTES, "__retries": _MAX_RETRIES,
    }
    if result in ("string", "bytes"):
        # a result buffer from this method's pool (one per concurrent caller, kept and grown)
        at = lines.index("    try:")
        lines[at:at] = ["    try:", "        __b = __pool.pop()", "    except IndexError:", "        __b = __Buf(__new)"]
        lines += ["        for __i in range(__retries):",
                  "            __c, __n = __b.cap, __b.n",
                  "            __n[0] = __c",
                  f"            __rc = __fn({', '.join(actuals + ['__b.buf', '__n'])})",
                  "            if __rc != -1:",
                  "                break",
                  "            if __n[0] <= __c:",
                  "                raise __tlv_error('tlv.short_buffer', f'{__where}: short buffer answered but '"
                  " f'{__n[0]} bytes asked with {__c} offered')",
                  "            if __n[0] > __max:",
                  "                raise __tlv_error('tlv.out_of_memory', f'{__where}: asks for a {__n[0]}-byte result')",
                  "            __b.grow(__new, __n[0])",
                  "        else:",
                  "            raise __tlv_error('tlv.short_buffer', f'{__where}: still short after {__retries} "
                  "larger buffers')",
                  "        if __rc != 0:",
                  "            raise __call_error(__rc, None, __where)",
                  "        if __n[0] > __c:",
                  "            raise __tlv_error('tlv.result_overflow', f'{__where}: reports a {__n[0]}-byte result in a "
                  "{__c}-byte buffer')",
                  "        __data = __unpack(__b.buf, __n[0])"]
    else:
        lines.append(f"        __r = __fn({', '.join(actuals)})")
    lines += ["    except (TypeError, OverflowError, AttributeError, UnicodeEncodeError) as __exc:",
              f"        raise __bad(__where, __exc, ({''.join(n + ', ' for n in names)})) from None"]
    if result in ("string", "bytes"):
        lines += ["    finally:", "        __pool.append(__b)"]
        if result == "string":
            lines += ["    try:",
                      "        __text = __data.decode('utf-8')",
                      "    except UnicodeDecodeError:",
                      "        raise __tlv_error('tlv.invalid_utf8', f'{__where}: the result is not UTF-8') from None",
                      "    if '\\0' in __text:",
                      "        raise __tlv_error('tlv.nul_in_string', f'{__where}: the result string contains NUL')",
                      "    return __text"]
        else:
            lines.append("    return __data")
    elif result == "void":
        lines.append("    return None")
    elif result == "bool":
        lines.append("    return __r != 0")
    elif result == "handle":
        lines += ["    if not __r & 0xFFFFFFFF:",
                  "        raise __tlv_error('tlv.plugin_error', f'{__where} failed (it answered no handle)')",
                  "    return __Handle(__r >> 32, __r & 0xFFFFFFFF)"]
    else:
        lines.append("    return __r")
    code = "\n".join(lines)
    exec(compile(code, f"<bid direct {where}>", "exec"), env)  # noqa: S102 - generated from a validated signature
    fn: Callable[..., Any] = env["call"]
    fn.__name__ = fn.__qualname__ = slot.name
    return fn
