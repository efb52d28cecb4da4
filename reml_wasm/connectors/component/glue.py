"""Per-signature C glue for export calls (API mode, when a C compiler is there).

For each lifted export whose parameters and result are scalars (integers, bool, char,
enum, flags of up to 32 labels, floats, borrows the instance implements) or strings, one C
function does the whole call: it takes the converted arguments as C arguments, checks
their ranges, takes the store's re-entrant mutex (the instance's `StoreLock`), refuses a
poisoned instance, sets fuel and the epoch deadline, lowers strings into guest memory
(the guest's realloc called from C, the same `(0, 0, align, n)` calls the interpreter
makes), builds the raw value array on the C stack, calls, lifts the result (checked: a
value the interpreter would trap on is left to it), calls post-return and releases the
lock.  A Python call is then one cffi crossing plus the Python object conversions.

Every C function of a component's exports goes into one cffi API-mode module (built by
`cffi_api.build_api_module`, cached by its source); the module links no library: it
reaches wasmtime through the function pointers in the store record (capi.STORE_SOURCE).

Failures: a C function returns a sentinel (an impossible value, or NaN for floats) and
keeps a per-thread status (`reml_glue_status()`): 1, an argument out of range (the lock
not taken); 2, poisoned; 3, the call or post-return failed (error and trap in the store
record); 4, the result needs the interpreter's lifting (its raw values in the record).
Codes 2 to 4 return with the lock still held: the caller's slow path handles the failure
exactly as the Python callers do and then releases it.  Signatures the glue does not
cover, and ABI mode, keep the generated Python callers (caller.py).
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from ... import types as t
from . import capi as capi_module

BADARG, POISONED, FAILED, LIFT = 1, 2, 3, 4
SENTINEL_I64 = -(1 << 63)
SENTINEL_U64 = (1 << 64) - 1

# integer parameters: the C range test of the int64_t argument (u64 comes as uint64_t)
_RANGE = {"s8": (-128, 127), "u8": (0, 255), "s16": (-32768, 32767), "u16": (0, 65535),
          "s32": (-(1 << 31), (1 << 31) - 1), "u32": (0, (1 << 32) - 1)}
# integer results: the C expression of the value from slot 0
_LIFT_INT = {"s8": "(int64_t)(int8_t)a[0].i32", "u8": "(int64_t)(uint8_t)a[0].i32",
             "s16": "(int64_t)(int16_t)a[0].i32", "u16": "(int64_t)(uint16_t)a[0].i32",
             "s32": "(int64_t)a[0].i32", "u32": "(int64_t)(uint32_t)a[0].i32",
             "s64": "a[0].i64", "u64": "(uint64_t)a[0].i64", "bool": "(int64_t)(a[0].i32 != 0)"}


def param_kind(ty: t.Type) -> str | None:
    """How the glue takes a parameter: an integer kind, bool, char, enum, flags, f32, f64,
    borrow (the rep, when the instance implements the resource), string; None: not
    covered."""
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        if ty in t.INTEGER_RANGES or ty.name in ("bool", "char", "f32", "f64", "string"):
            return ty.name
        return None
    if isinstance(ty, t.EnumType):
        return "enum"
    if isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32:
        return "flags"
    if isinstance(ty, t.BorrowType):
        return "borrow"
    return None


def result_kind(ty: t.Type | None) -> str | None:
    """How the glue returns a result: "none", an integer kind, bool, char, enum, flags,
    f32, f64, string; None: not covered."""
    if ty is None:
        return "none"
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        if ty in t.INTEGER_RANGES or ty.name in ("bool", "char", "f32", "f64", "string"):
            return ty.name
        return None
    if isinstance(ty, t.EnumType):
        return "enum" if len(ty.cases) <= 0xFFFFFFFF else None
    if isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32:
        return "flags"
    return None


class Signature:
    """The glue of one signature: its C function's name, declaration and definition."""

    __slots__ = ("params", "result", "cases", "post", "name", "cdef", "source", "nflat", "ret")

    def __init__(self, params: tuple[str, ...], result: str, cases: int, post: bool) -> None:
        self.params, self.result, self.cases, self.post = params, result, cases, post
        self.nflat = max(sum(2 if p == "string" else 1 for p in params), 2 if result == "string" else 1, 1)
        self.ret = "double" if result in ("f32", "f64") else "uint64_t" if result == "u64" else "int64_t"
        args = "".join(f", {_c_param(p)} x{i}" for i, p in enumerate(params))
        body = _body(self)
        digest = hashlib.sha256(("\0".join(params) + f"|{result}|{cases}|{post}").encode()).hexdigest()[:16]
        self.name = f"reml_glue_{digest}"
        proto = f"{self.ret} {self.name}(void *p{args})"
        self.cdef = f"{self.ret} {self.name}(void *{''.join(', ' + _c_param(p) for p in params)});\n"
        self.source = f"static {proto} {{\n{body}}}\n"

    @property
    def strings(self) -> bool:
        return "string" in self.params or self.result == "string"


def _c_param(kind: str) -> str:
    if kind in ("f32", "f64"):
        return "double"
    if kind == "u64":
        return "uint64_t"
    return "int64_t"


def _sentinel(sig: Signature) -> str:
    if sig.ret == "double":
        return "__builtin_nan(\"\")"
    if sig.ret == "uint64_t":
        return "UINT64_MAX"
    return "INT64_MIN"


def _body(sig: Signature) -> str:
    """The C statements of the glue function (the value array `a`, slot by slot)."""
    fail = _sentinel(sig)
    lines = ["    reml_export_t *ex = (reml_export_t *)p;", "    reml_store_t *st = ex->st;",
             f"    wasmtime_val_raw_t a[{sig.nflat}];", "    uintptr_t trap = 0, err;"]
    # argument checks first: a refused argument takes no lock
    for i, kind in enumerate(sig.params):
        if kind in _RANGE:
            lo, hi = _RANGE[kind]
            lines.append(f"    if (x{i} < {lo}LL || x{i} > {hi}LL) {{ reml_status = {BADARG}; return {fail}; }}")
        elif kind == "char":
            lines.append(f"    if (x{i} < 0 || x{i} >= 0x110000 || (x{i} >= 0xD800 && x{i} < 0xE000)) "
                         f"{{ reml_status = {BADARG}; return {fail}; }}")
    lines += ["    reml_lock(st);",
              f"    if (st->poisoned) {{ reml_status = {POISONED}; return {fail}; }}",
              "    reml_enter(st);"]
    k = 0
    for i, kind in enumerate(sig.params):
        if kind == "f64":
            lines.append(f"    if (x{i} != x{i}) a[{k}].i64 = 0x7ff8000000000000LL; else a[{k}].f64 = x{i};")
        elif kind == "f32":
            lines.append(f"    if (x{i} != x{i}) a[{k}].i32 = 0x7fc00000; else a[{k}].f32 = (float)x{i};")
        else:
            lines.append(f"    a[{k}].i64 = (int64_t)x{i};")
        k += 1
    lines += [f"    err = st->call(st->ctx, &ex->func, a, {sig.nflat}, &trap);",
              f"    if (err || trap) {{ st->err = err; st->trap = trap; reml_status = {FAILED}; return {fail}; }}"]
    res = sig.result
    if res == "none":
        value = "0"
    elif res in _LIFT_INT:
        value = _LIFT_INT[res]
    elif res == "char":
        lines.append("    uint32_t c = (uint32_t)a[0].i32;")
        lines.append("    if (c >= 0x110000 || (c >= 0xD800 && c < 0xE000)) "
                     f"{{ st->raw[0] = a[0].i32; reml_status = {LIFT}; return {fail}; }}")
        value = "(int64_t)c"
    elif res == "enum":
        lines.append(f"    if ((uint32_t)a[0].i32 >= {sig.cases}U) "
                     f"{{ st->raw[0] = a[0].i32; reml_status = {LIFT}; return {fail}; }}")
        value = "(int64_t)(uint32_t)a[0].i32"
    elif res == "flags":
        value = "(int64_t)(uint32_t)a[0].i32"
    elif res == "f64":
        value = "a[0].f64"
    else:  # f32
        value = "(double)a[0].f32"
    lines.append(f"    {sig.ret} r = {value};")
    if sig.post:
        lines += [f"    err = st->call(st->ctx, &ex->post, a, {sig.nflat}, &trap);",
                  f"    if (err || trap) {{ st->err = err; st->trap = trap; reml_status = {FAILED}; return {fail}; }}"]
    lines += ["    reml_unlock(st);", f"    if (r == {fail}) reml_status = 0;" if sig.ret != "double" else "",
              "    return r;"]
    return "".join(line + "\n" for line in lines if line)


def signature(func: t.Function, post: bool) -> Signature | None:
    """The glue signature of `func` (post: the export has a post-return), or None."""
    params = tuple(param_kind(p.type) for p in func.params)
    res = result_kind(func.result)
    if res is None or any(k is None for k in params) or len(params) > 16:
        return None
    if "string" in params or res == "string":
        return None  # strings: not yet
    ty = None if func.result is None else t.unalias(func.result)
    cases = len(ty.cases) if isinstance(ty, t.EnumType) else 0
    return Signature(tuple(k for k in params if k is not None), res, cases, post)


_HEAD = ("#include <stdint.h>\n#include <stddef.h>\n" + capi_module.TYPES + capi_module.STORE_SOURCE
         + "static __thread int32_t reml_status;\n"
         "static int32_t reml_glue_status(void) { int32_t s = reml_status; reml_status = 0; return s; }\n")
_lock = threading.Lock()
_modules: dict[tuple[str, ...], Any] = {}
_unavailable: list[str] = []  # why the glue cannot be built here (remembered per process)


class GlueBook:
    """The glue of one instance's exports: signatures noted while the component is
    instantiated, compiled together (one module) on the first export call."""

    def __init__(self, capi: Any) -> None:
        self.capi = capi
        self.sigs: dict[str, Signature] = {}
        self._module: Any = None

    def note(self, func: t.Function, post: bool) -> None:
        """Remember an export's signature (cheap: the C text is made here once per shape)."""
        if self.capi.mode != "api" or _unavailable:
            return
        key = (tuple(p.type for p in func.params), func.result, post)
        sig = _SIGS.get(key, False)
        if sig is False:
            sig = _SIGS[key] = signature(func, post)
        if sig is not None:
            self.sigs.setdefault(sig.name, sig)

    def function(self, func: t.Function, post: bool) -> tuple[Any, Any, Signature] | None:
        """(module lib, C function, signature) for an export, or None (Python callers)."""
        if self.capi.mode != "api" or _unavailable:
            return None
        sig = signature(func, post)
        if sig is None:
            return None
        self.sigs.setdefault(sig.name, sig)
        lib = self._lib()
        if lib is not None and not hasattr(lib, sig.name):  # a signature not noted before: build again
            self._module = None
            lib = self._lib()
        if lib is None or not hasattr(lib, sig.name):
            return None
        return lib, getattr(lib, sig.name), sig

    def _lib(self) -> Any:
        if self._module is None:
            names = tuple(sorted(self.sigs))
            with _lock:
                module = _modules.get(names)
                if module is None and not _unavailable:
                    module = _build([self.sigs[n] for n in names])
                    if module is not None:
                        _modules[names] = module
            self._module = module
        return None if self._module is None else self._module.lib


_SIGS: dict[Any, Any] = {}


def _build(sigs: list[Signature]) -> Any:
    from ...cffi_api import build_api_module
    cdef = "int32_t reml_glue_status(void);\n" + "".join(s.cdef for s in sigs)
    source = _HEAD + "".join(s.source for s in sigs)
    try:
        return build_api_module(cdef, source, None)
    except Exception as exc:  # noqa: BLE001 - the glue is an optimisation: Python callers serve
        _unavailable.append(f"{type(exc).__name__}: {exc}")
        return None


def enabled() -> bool:
    """Whether instances use the glue: not when `REML_WASM_GLUE=0` (the tests run the
    Python callers that way too) nor after a failed build in this process."""
    return not _unavailable and os.environ.get("REML_WASM_GLUE", "1") != "0"

