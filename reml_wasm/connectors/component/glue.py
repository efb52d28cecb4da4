"""Per-signature C glue for export calls (API mode, when a C compiler is there).

For each lifted export (no spilled parameters, no borrow scope) one C function does the
whole call: it takes the converted arguments as C arguments and checks their ranges,
takes the store's re-entrant mutex (the instance's `StoreLock`), refuses a poisoned
instance, sets fuel and the epoch deadline, lowers strings into guest memory (the guest's
realloc called from C: the same `(0, 0, 1, n)` calls, in the same order, as the
interpreter), builds the raw value array on the C stack, calls, lifts a scalar result
(checked: a value the interpreter would trap on is left to it), calls post-return and
releases the lock.  A Python call is then one cffi crossing plus the object conversions.

Parameter kinds (`param_kind`): scalars (integers, bool, char, enum, flags of up to 32
labels, floats, borrows the instance implements) and strings, converted in Python and
checked in C; `slots:` records and tuples of scalar fields and options of one scalar,
read field by field in Python; `flat:` other compounds and lists, lowered by the plan's
codecs (under the store lock when that calls realloc or touches handle tables; the C
function then re-enters the lock).  Result kinds (`result_kind`): scalars lifted in C, or
"held": one i32 (a spilled result's address, a handle, a raw value) returned with the lock
still held, lifted by the plan's codecs, after which `reml_glue_finish` calls post-return
and releases the lock.

A component's C functions go into one cffi API-mode module (built by
`cffi_api.build_api_module`, cached by its source, found again by later processes through
a small index); it links no library: it reaches wasmtime through the function pointers
of the store record (capi.STORE_SOURCE).

Failures: a C function returns a sentinel (an impossible value, or NaN for floats) and
keeps a per-thread status (`reml_glue_status()`): 0, none (a genuine value equal to the
sentinel); 1, an argument out of range (the lock not taken); 2, poisoned; 3, the call or
post-return failed (error and trap in the store record); 4, the result needs the
interpreter's lifting (its raw value in the record); 5, the block the guest's realloc
returned does not fit in memory (block and size in the record).  Codes 2 to 5 return with
the lock still held: the caller's slow path handles the failure exactly as the Python
callers do, then releases it.  Exports the glue does not cover, and ABI mode, keep the
generated Python callers (caller.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from ... import toolchain, types as t
from ...audit import write_atomic
from ...cabi import flatten, flatten_type
from ...cabi.strings import MAX_LIST_BYTES, MAX_STRING_BYTES
from . import capi as capi_module

BADARG, POISONED, FAILED, LIFT, BADBLOCK = 1, 2, 3, 4, 5
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


def _pure(ty: t.Type) -> bool:
    """A type whose lowering touches neither guest memory nor handle tables (its codec
    only appends flat numbers): scalars and option/result/variant/tuple/record of them."""
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        return ty.name != "string"
    if isinstance(ty, (t.EnumType, t.FlagsType)):
        return True
    if isinstance(ty, t.OptionType):
        return _pure(ty.inner)
    if isinstance(ty, t.ResultType):
        return all(x is None or _pure(x) for x in (ty.ok, ty.err))
    if isinstance(ty, t.VariantType):
        return all(c.type is None or _pure(c.type) for c in ty.cases)
    if isinstance(ty, t.TupleType):
        return all(_pure(x) for x in ty.elements)
    if isinstance(ty, t.RecordType):
        return all(_pure(f.type) for f in ty.fields)
    return False


def _inline_kind(ty: t.Type) -> str | None:
    """`slots:...` for a type whose fields the Python half reads itself, else None."""
    slots = inline_slots(ty)
    return None if slots is None else "slots:" + ",".join(slots)


def param_kind(ty: t.Type) -> str | None:
    """How the glue takes a parameter: an integer kind, bool, char, enum, flags, f32, f64,
    borrow (the rep, when the instance implements the resource), string,
    `slots:K1,K2,...` (fields read in Python, each slot checked in C) or `flat:T1,T2,...`
    (a compound its codec lowers to those core values); None: not covered."""
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
    if isinstance(ty, t.ResultType) and ty.err is not None and t.unalias(ty.err) == t.STRING:
        ok = None if ty.ok is None else t.unalias(ty.ok)
        if isinstance(ok, t.PrimitiveType) and ok.name in _RESULT_OK:
            return f"result-{ok.name}"  # result<K, string>: the case, K, the error's bytes (C lowers them)
    inline = _inline_kind(ty)
    if inline is not None:
        return inline
    if _lowerable(ty):
        return "flat:" + ",".join(flatten_type(ty, 4))
    return None


def _lowerable(ty: t.Type) -> bool:
    """A compound the plan's codec lowers to flat values without a borrow scope (no
    borrows inside, no streams or futures)."""
    ty = t.unalias(ty)
    if isinstance(ty, (t.BorrowType, t.StreamType, t.FutureType)):
        return False
    return all(_lowerable(c) for c in ty.children())


def result_kind(ty: t.Type | None, flat: list[str]) -> str | None:
    """How the glue returns a result: "none", an integer kind, bool, char, enum, flags,
    f32, f64 (lifted in C), or "held" (one i32: a spilled result's address or a raw
    value, returned with the lock still held: Python lifts it and `reml_glue_finish`
    calls post-return and releases); None: not covered."""
    if ty is None:
        return "none"
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType) and (ty in t.INTEGER_RANGES or ty.name in ("bool", "char", "f32", "f64")):
        return ty.name
    if isinstance(ty, t.EnumType):
        return "enum"
    if isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32:
        return "flags"
    if isinstance(ty, t.OptionType) and flat == ["i32"]:
        inner = t.unalias(ty.inner)
        if isinstance(inner, t.PrimitiveType) and inner.name in _OPTION_RESULT:
            return f"opt-{inner.name}"
    if isinstance(ty, t.ResultType) and flat == ["i32"] and ty.err is not None and t.unalias(ty.err) == t.STRING:
        ok = None if ty.ok is None else t.unalias(ty.ok)
        if isinstance(ok, t.PrimitiveType) and ok.name in _OPTION_RESULT:
            return f"res-{ok.name}"  # Ok read in C; Err (a string) held for the codec
    if flat == ["i32"]:
        return "held"
    return None


# option<K> results C reads from the spilled area: K -> (width, the C expression of the
# value from its bytes `v`, a uint32_t); none is NONE (never a value of K)
_OPTION_RESULT = {"u8": (1, "(int64_t)(uint8_t)v"), "s8": (1, "(int64_t)(int8_t)v"),
                  "u16": (2, "(int64_t)(uint16_t)v"), "s16": (2, "(int64_t)(int16_t)v"),
                  "u32": (4, "(int64_t)v"), "s32": (4, "(int64_t)(int32_t)v"),
                  "bool": (1, "(int64_t)((uint8_t)v != 0)"), "char": (4, "(int64_t)v")}
NONE = 1 << 40
HELD = 1 << 41  # a res-K result's error case: HELD + the area's address, the lock held


class Signature:
    """The glue of one signature: its C function's name, declaration and definition."""

    __slots__ = ("params", "result", "cases", "post", "name", "cdef", "source", "nflat", "ret", "c_params",
                 "locked")

    def __init__(self, params: tuple[str, ...], result: str, cases: int, post: bool) -> None:
        self.params, self.result, self.cases, self.post = params, result, cases, post
        self.locked = False  # the Python part lowers some parameter holding the store's lock
        self.nflat = max(sum(_width(p) for p in params), 1)
        self.ret = "double" if result in ("f32", "f64") else "uint64_t" if result == "u64" else "int64_t"
        self.c_params = [c for i, p in enumerate(params) for c in _c_params(p, i)]
        body = _body(self)
        digest = hashlib.sha256(("\0".join(params) + f"|{result}|{cases}|{post}").encode()).hexdigest()[:16]
        self.name = f"reml_glue_{digest}"
        self.cdef = f"{self.ret} {self.name}(void *p{''.join(', ' + c for c in self.c_params)});\n"
        self.source = f"static {self.ret} {self.name}(void *p{''.join(', ' + c for c in self.c_params)}) {{\n{body}}}\n"

    @property
    def strings(self) -> bool:
        """Whether C lowers a string (it then needs the export's realloc and memory)."""
        return self.reallocs > 0 or any(p.startswith("result-") for p in self.params)

    @property
    def memory(self) -> bool:
        """Whether C reaches the export's memory (strings lowered, an option result read)."""
        return self.strings or self.result.startswith(("opt-", "res-"))

    @property
    def reallocs(self) -> int:
        """The guest realloc entries C makes per call (one per string parameter or field)."""
        return sum(k == "string" or k.startswith("list-")
                   for p in self.params for k in (p[6:].split(",") if p.startswith("slots:") else [p]))


def _width(kind: str) -> int:
    """Flat values of a parameter kind."""
    if kind == "string" or kind.startswith(("list-", "opt-")):
        return 2
    if kind.startswith("result-"):
        return 3
    if kind.startswith("slots:"):
        return sum(_width(slot) for slot in kind[6:].split(","))
    if kind.startswith("flat:"):
        return len(kind[5:].split(","))
    return 1


def _c_params(kind: str, i: int | str) -> list[str]:
    """The C parameters (`type name`) a parameter kind takes."""
    if kind == "string" or kind.startswith("list-"):
        return [f"const char *x{i}", f"int64_t n{i}"]
    if kind.startswith("opt-"):
        return [f"int64_t x{i}"] + [c + "v" for c in _c_params(kind[4:], i)]
    if kind.startswith("result-"):
        return [f"int64_t x{i}", f"int64_t x{i}v", f"const char *x{i}s", f"int64_t n{i}s"]
    if kind.startswith("slots:"):
        return [c for j, slot in enumerate(kind[6:].split(",")) for c in _c_params(slot, f"{i}_{j}")]
    if kind.startswith("flat:"):
        return [f"{'double' if f in ('f32', 'f64') else 'int64_t'} x{i}_{j}"
                for j, f in enumerate(kind.split(":", 1)[1].split(","))]
    if kind in ("f32", "f64"):
        return [f"double x{i}"]
    if kind == "u64":
        return [f"uint64_t x{i}"]
    return [f"int64_t x{i}"]


# a compound whose flat slots Python fills straight from the value (inline_slots): the
# slot kinds C checks (an integer range, bool) or converts (floats), or lowers (a string
# field: its UTF-8 bytes, copied into the block of the guest's realloc, as for a string
# parameter); "i32" is unchecked
_INLINE_FIELD = ("s8", "u8", "s16", "u16", "s32", "u32", "bool", "f32", "f64")
_INLINE_RECORD_FIELD = _INLINE_FIELD + ("s64", "u64", "string")
# list fields C lowers as it lowers strings (the packed elements copied into the block of
# realloc(0, 0, align, n * size)): "list-<element>" -> (size, align)
# result<K, string> parameters: K (checked in C as a slot of its kind) or the error's bytes
_RESULT_OK = ("s8", "u8", "s16", "u16", "s32", "u32", "bool", "char")
# option fields beside strings and lists ("opt-<kind>": two slots, the case and the value)
_OPTION_FIELD = ("s8", "u8", "s16", "u16", "s32", "u32", "bool", "char", "f64")
_LIST_FIELD = {"s8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "s64": 8, "u64": 8, "f32": 4, "f64": 8}


def inline_slots(ty: t.Type) -> list[str] | None:
    """The slot kinds of a record or tuple of integer (up to 32 bits) / bool / float /
    string fields, or of an option of one integer / bool / f64 value (a discriminant slot
    "i32" first), whose Python half reads the fields itself (C checks each slot as for a
    parameter, and lowers each string field); None for other types."""
    ty = t.unalias(ty)

    def kind(x: t.Type, allowed: tuple[str, ...] = _INLINE_RECORD_FIELD) -> str | None:
        x = t.unalias(x)
        if isinstance(x, t.OptionType) and allowed is _INLINE_RECORD_FIELD:  # "opt-K": its case, its value
            inner = kind(x.inner, _OPTION_FIELD)
            return None if inner is None else f"opt-{inner}"
        if isinstance(x, t.ListType) and x.length is None and allowed is _INLINE_RECORD_FIELD:
            e = t.unalias(x.element)
            return f"list-{e.name}" if isinstance(e, t.PrimitiveType) and e.name in _LIST_FIELD else None
        return x.name if isinstance(x, t.PrimitiveType) and x.name in allowed else None
    if isinstance(ty, t.RecordType):
        kinds = [kind(f.type) for f in ty.fields]
    elif isinstance(ty, t.TupleType):
        kinds = [kind(e) for e in ty.elements]
    elif isinstance(ty, t.OptionType):
        inner = kind(ty.inner, _INLINE_FIELD)
        kinds = ["i32", inner] if inner is not None and inner not in ("f32",) else [None]
    else:
        return None
    if not kinds or any(k is None for k in kinds):
        return None
    slots = [k for k in kinds if k is not None]
    if not lowers_in_c(slots) and ("s64" in slots or "u64" in slots):
        return None  # 64-bit fields are read by the Python half only beside strings and lists
    return slots


def lowers_in_c(slots: list[str]) -> bool:
    """Whether C lowers some slot (a string or list field) of an inline compound: its
    fields are then read by name or position, never through the codec."""
    return any(k == "string" or k.startswith(("list-", "opt-")) for k in slots)


def _slot_core(kind: str) -> str:
    """The core type a slot kind is stored as."""
    return kind if kind in ("f32", "f64") else "i32"


def _store(core: str, k: int, x: str) -> str:
    """The C statement storing value `x` of core type `core` into slot k."""
    if core == "f64":
        return f"    if ({x} != {x}) a[{k}].i64 = 0x7ff8000000000000LL; else a[{k}].f64 = {x};"
    if core == "f32":
        return f"    if ({x} != {x}) a[{k}].i32 = 0x7fc00000; else a[{k}].f32 = (float){x};"
    return f"    a[{k}].i64 = (int64_t){x};"


def _sentinel(sig: Signature) -> str:
    """The C value a failed call returns (never a valid result of that C type, except
    for 64-bit integers, where the status tells)."""
    if sig.ret == "double":
        return "__builtin_nan(\"\")"
    if sig.ret == "uint64_t":
        return "UINT64_MAX"
    return "INT64_MIN"


def _lower_string(x: str, k: int, fail: str, size: int = 1) -> list[str]:
    """C statements lowering the string (x{x}, n{x} bytes) or list (n{x} elements of
    `size` bytes, aligned to it) into slots k, k + 1: the guest's realloc(0, 0, align,
    bytes), the block checked (alignment, memory bounds: raw 0-2 = block, bytes, align for
    the caller's diagnostic), the bytes copied (as put_bytes does)."""
    nbytes = f"n{x}" if size == 1 else f"n{x} * {size}"
    return [
        "    {",
        "        wasmtime_val_raw_t r[4];",
        f"        int64_t nb = {nbytes};",
        f"        r[0].i64 = 0; r[1].i64 = 0; r[2].i64 = {size}; r[3].i64 = nb;",
        "        err = st->call(st->ctx, &ex->realloc, r, 4, &trap);",
        f"        if (err || trap) {{ st->err = err; st->trap = trap; reml_status = {FAILED}; return {fail}; }}",
        "        uint64_t sp = (uint32_t)r[0].i32;",
        f"        if ({'0' if size == 1 else f'sp % {size}'} || sp + (uint64_t)nb > st->mem_size(st->ctx, &ex->mem)) {{",
        f"            st->raw[0] = (int64_t)sp; st->raw[1] = nb; st->raw[2] = {size}; reml_status = {BADBLOCK}; return {fail};",
        "        }",
        f"        if (nb) memcpy(st->mem_data(st->ctx, &ex->mem) + sp, x{x}, (size_t)nb);",
        f"        a[{k}].i64 = (int64_t)sp; a[{k + 1}].i64 = n{x};",
        "    }"]


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
        elif kind == "string":
            lines.append(f"    if (n{i} > {MAX_STRING_BYTES}LL) {{ reml_status = {BADARG}; return {fail}; }}")
        elif kind.startswith("result-"):
            ok, v = kind[7:], f"x{i}v"
            bounds = _RANGE.get(ok) or ((0, 1) if ok == "bool" else None)
            test = f"{v} < {bounds[0]}LL || {v} > {bounds[1]}LL" if bounds is not None else \
                f"{v} < 0 || {v} >= 0x110000 || ({v} >= 0xD800 && {v} < 0xE000)"
            lines.append(f"    if ((x{i} == 0 && ({test})) || (x{i} != 0 && n{i}s > {MAX_STRING_BYTES}LL)) "
                         f"{{ reml_status = {BADARG}; return {fail}; }}")
        elif kind.startswith("slots:"):
            for j, slot in enumerate(kind[6:].split(",")):
                bounds = _RANGE.get(slot) or ((0, 1) if slot == "bool" else None)
                if slot == "string" or slot.startswith("list-"):
                    most = MAX_STRING_BYTES if slot == "string" else MAX_LIST_BYTES // _LIST_FIELD[slot[5:]]
                    lines.append(f"    if (n{i}_{j} > {most}LL) {{ reml_status = {BADARG}; return {fail}; }}")
                elif bounds is not None:
                    lines.append(f"    if (x{i}_{j} < {bounds[0]}LL || x{i}_{j} > {bounds[1]}LL) "
                                 f"{{ reml_status = {BADARG}; return {fail}; }}")
                elif slot.startswith("opt-"):
                    v, inner = f"x{i}_{j}v", slot[4:]
                    bounds = _RANGE.get(inner) or ((0, 1) if inner == "bool" else None)
                    if bounds is not None:
                        lines.append(f"    if ({v} < {bounds[0]}LL || {v} > {bounds[1]}LL) "
                                     f"{{ reml_status = {BADARG}; return {fail}; }}")
                    elif inner == "char":
                        lines.append(f"    if ({v} < 0 || {v} >= 0x110000 || ({v} >= 0xD800 && {v} < 0xE000)) "
                                     f"{{ reml_status = {BADARG}; return {fail}; }}")
    lines += ["    reml_lock(st);",
              f"    if (st->poisoned) {{ reml_status = {POISONED}; return {fail}; }}",
              "    reml_enter(st);"]
    k = 0
    for i, kind in enumerate(sig.params):
        if kind == "string":
            lines += _lower_string(str(i), k, fail)
            k += 2
        elif kind.startswith("result-"):
            lines.append(f"    if (x{i} == 0) {{ a[{k}].i64 = 0; a[{k + 1}].i64 = x{i}v; a[{k + 2}].i64 = 0; }} else {{")
            lines += ["    " + ln for ln in _lower_string(f"{i}s", k + 1, fail)]
            lines += [f"        a[{k}].i64 = 1;", "    }"]
            k += 3
        elif kind.startswith(("flat:", "slots:")):
            for j, slot in enumerate(kind.split(":", 1)[1].split(",")):
                if slot == "string" and kind.startswith("slots:"):
                    lines += _lower_string(f"{i}_{j}", k, fail)
                    k += 2
                elif slot.startswith("list-"):
                    lines += _lower_string(f"{i}_{j}", k, fail, _LIST_FIELD[slot[5:]])
                    k += 2
                elif slot.startswith("opt-"):
                    lines.append(_store("i32", k, f"x{i}_{j}"))
                    lines.append(_store("f64" if slot == "opt-f64" else "i32", k + 1, f"x{i}_{j}v"))
                    k += 2
                else:
                    lines.append(_store(_slot_core(slot), k, f"x{i}_{j}"))
                    k += 1
        else:
            lines.append(_store(kind if kind in ("f32", "f64") else "i64", k, f"x{i}"))
            k += 1
    lines += [f"    err = st->call(st->ctx, &ex->func, a, {sig.nflat}, &trap);",
              f"    if (err || trap) {{ st->err = err; st->trap = trap; reml_status = {FAILED}; return {fail}; }}"]
    res = sig.result
    if res == "held":  # Python lifts, holding the lock; reml_glue_finish ends the call
        lines += ["    ex->out[0] = a[0].i64;", "    return (int64_t)(uint32_t)a[0].i32;"]
        return "".join(line + "\n" for line in lines)
    if res.startswith("res-"):
        # result<K, string>: the area checked (alignment 4, 12 bytes), the case read; Ok's
        # value lifted here, Err held (the lock kept) for the codec; anything unusual goes
        # back to the interpreter's lifting
        width, expr = _OPTION_RESULT[res[4:]]
        lift = f"{{ st->raw[0] = a[0].i32; reml_status = {LIFT}; return {fail}; }}"
        lines += ["    uint64_t rp = (uint32_t)a[0].i32;",
                  f"    if (rp % 4 || rp + 12 > st->mem_size(st->ctx, &ex->mem)) {lift}",
                  "    const uint8_t *m = st->mem_data(st->ctx, &ex->mem) + rp;",
                  f"    if (m[0] > 1) {lift}",
                  f"    if (m[0] == 1) {{ ex->out[0] = a[0].i64; return {HELD}LL + (int64_t)rp; }}",
                  "    uint32_t v = 0;",
                  f"    memcpy(&v, m + 4, {width});"]
        if res == "res-char":
            lines.append(f"    if (v >= 0x110000 || (v >= 0xD800 && v < 0xE000)) {lift}")
        value = expr
    elif res.startswith("opt-"):
        # the area checked (alignment, bounds), the case and the value read, the value lifted
        # (a char checked); anything unusual goes back to the interpreter's lifting
        width, expr = _OPTION_RESULT[res[4:]]
        size = 2 * width
        lift = f"{{ st->raw[0] = a[0].i32; reml_status = {LIFT}; return {fail}; }}"
        lines += ["    uint64_t rp = (uint32_t)a[0].i32;",
                  f"    if ({'0' if width == 1 else f'rp % {width}'} || rp + {size} > st->mem_size(st->ctx, &ex->mem)) {lift}",
                  "    const uint8_t *m = st->mem_data(st->ctx, &ex->mem) + rp;",
                  f"    if (m[0] > 1) {lift}",
                  "    uint32_t v = 0;",
                  f"    memcpy(&v, m + {width}, {width});"]
        if res == "opt-char":
            lines.append(f"    if (m[0] == 1 && (v >= 0x110000 || (v >= 0xD800 && v < 0xE000))) {lift}")
        value = f"m[0] ? {expr} : {NONE}LL"
    elif res == "none":
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
    flat = flatten(func, "lift")
    if flat.params_spilled:
        return None
    params = tuple(param_kind(p.type) for p in func.params)
    res = result_kind(func.result, list(flat.results))
    if res is None or any(k is None for k in params):
        return None
    ty = None if func.result is None else t.unalias(func.result)
    cases = len(ty.cases) if isinstance(ty, t.EnumType) else 0
    kinds = tuple(k for k in params if k is not None)
    locked = any(k.startswith("flat:") and not _pure(p.type) for k, p in zip(kinds, func.params))
    if locked:  # Python lowers under the lock: strings too, so reallocs keep the parameters' order
        kinds = tuple("flat:i32,i32" if k == "string" else "flat:i32,i32,i32" if k.startswith("result-") else
                      "flat:" + ",".join(flatten_type(p.type, 4)) if k.startswith("slots:") and lowers_in_c(k[6:].split(","))
                      else k for k, p in zip(kinds, func.params))
    sig = Signature(kinds, res, cases, post)
    sig.locked = locked
    return sig


_HEAD = ("#include <stdint.h>\n#include <stddef.h>\n" + capi_module.TYPES + capi_module.STORE_SOURCE
         + "static __thread int32_t reml_status;\n"
         "static int32_t reml_glue_status(void) { int32_t s = reml_status; reml_status = 0; return s; }\n"
         # the end of a held call: post-return with the saved result, then the lock released
         "static int64_t reml_glue_finish(void *p) {\n"
         "    reml_export_t *ex = (reml_export_t *)p; reml_store_t *st = ex->st;\n"
         "    wasmtime_val_raw_t a[1]; uintptr_t trap = 0; a[0].i64 = ex->out[0];\n"
         "    uintptr_t err = st->call(st->ctx, &ex->post, a, 1, &trap);\n"
         "    if (err || trap) { st->err = err; st->trap = trap; return 1; }\n"
         "    reml_unlock(st); return 0;\n}\n")
_lock = threading.Lock()
_unavailable: list[str] = []  # why the glue cannot be built here (remembered per process)


_Entry = tuple[Any, list["Signature | None"], Any, dict[int, Any]]


class GlueBook:
    """The glue of one instance's exports: exports noted (in order) while the component is
    instantiated; on the first export call their signatures are worked out and compiled
    together into one module (cached on disk by its source), remembered per component
    (`owner`: an object that lives as long as the component and is shared by its
    instances), so later instances only look their functions up."""

    def __init__(self, capi: Any, owner: Any) -> None:
        self.capi = capi
        self.owner = owner
        self.front = front_enabled()  # whether its exports get a C front (front.py)
        self.noted: list[tuple[t.Function, bool]] = []
        self._entry: _Entry | None = None

    def note(self, func: t.Function, post: bool) -> int:
        """Remember an export (nothing is worked out before the first call); its index."""
        self.noted.append((func, post))
        return len(self.noted) - 1

    def function(self, index: int) -> tuple[Any, Any, Signature] | None:
        """(module lib, C function, signature) for the export noted at `index`, or None
        (the Python callers serve it)."""
        if self.capi.mode != "api" or _unavailable:
            return None
        entry = self._entry or self._load()
        if index >= len(entry[1]):
            return None
        sig = entry[1][index]
        if sig is None or entry[2] is None:
            return None
        return entry[2].lib, getattr(entry[2].lib, sig.name), sig

    def front_plan(self, index: int, make: Callable[[], Any]) -> Any:
        """The front plan of the export noted at `index`: `make()`, worked out once per
        component and shared by its instances."""
        plans = (self._entry or self._load())[3]
        if index not in plans:
            plans[index] = make()
        return plans[index]

    def _load(self) -> _Entry:
        with _lock:
            entry = _components.get(id(self.owner))
            if entry is None or entry[0] is not self.owner or len(entry[1]) != len(self.noted):
                sigs = [signature(f, post) for f, post in self.noted]
                by_name = {sig.name: sig for sig in sigs if sig is not None}
                names = tuple(sorted(by_name))
                module = _by_names.get(names)
                if module is None and not _unavailable and names:
                    module = _build([by_name[n] for n in names])
                    if module is not None:
                        _by_names[names] = module
                entry = (self.owner, sigs, module, {})
                _components[id(self.owner)] = entry
        self._entry = entry
        return entry


# id(owner) -> (owner, signatures in lift order, module, front plans by export index); the
# owner is kept, so its id is not reused
_components: dict[int, _Entry] = {}
_by_names: dict[tuple[str, ...], Any] = {}


def _build(sigs: list[Signature]) -> Any:
    """The module of `sigs` (see `build_cached`)."""
    return build_cached(*_texts(sigs))


def build_cached(cdef: str, source: str, limited_api: bool = True) -> Any:
    """The API-mode module of (cdef, source), linked to nothing: found again through a
    small index in the cache (keyed by the texts, this Python and the cffi backend; the
    module file's size and modification time recorded) without importing cffi's compiler
    side, else built by `cffi_api.build_api_module` (cached, verified) and recorded in the
    index; None when it cannot be built here (the reason kept for `enabled`)."""
    index = _index_of(cdef, source, limited_api)
    module = _indexed(index)
    if module is not None:
        return module
    from ...cffi_api import build_api_module
    try:
        built = build_api_module(cdef, source, None, limited_api=limited_api)
    except Exception as exc:  # noqa: BLE001 - the glue is an optimisation: Python callers serve
        _unavailable.append(f"{type(exc).__name__}: {exc}")
        return None
    try:
        st = built.path.stat()
        write_atomic(index, json.dumps({"module": str(built.path), "size": st.st_size, "mtime": st.st_mtime_ns}))
    except OSError:
        pass  # an unwritable cache costs the next process the import of the compiler side only
    return built


def _texts(sigs: list[Signature]) -> tuple[str, str]:
    """(cdef, C source) of the module of `sigs`."""
    cdef = "int32_t reml_glue_status(void);\nint64_t reml_glue_finish(void *);\n" + "".join(s.cdef for s in sigs)
    return cdef, _HEAD + "".join(s.source for s in sigs)


def index_file(sigs: list[Signature]) -> Path:
    """The cache index naming the compiled module of `sigs`."""
    return _index_of(*_texts(sigs))


def _index_of(cdef: str, source: str, limited_api: bool = True) -> Path:
    """The cache index naming the compiled module of (cdef, source)."""
    import _cffi_backend
    parts = [cdef, source, sys.version, _cffi_backend.__version__] + ([] if limited_api else ["full C API"])
    key = "\x1f".join(parts)
    return toolchain.cache_root() / "glue" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def _indexed(index: Path) -> Any:
    """The module the index names, when its file is still the one recorded; else None."""
    import importlib.util
    try:
        entry = json.loads(index.read_text())
        target = Path(entry["module"])
        st = target.stat()
        if st.st_size != entry["size"] or st.st_mtime_ns != entry["mtime"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    spec = importlib.util.spec_from_file_location(target.name.split(".")[0], target)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:
        return None
    return module


def front_enabled() -> bool:
    """Whether glued exports get a C front: not when `REML_WASM_FRONT=0` (the tests run
    the glue's Python half that way); read when an instance is made."""
    return os.environ.get("REML_WASM_FRONT", "1") != "0"


def enabled() -> bool:
    """Whether instances use the glue: not when `REML_WASM_GLUE=0` (the tests run the
    Python callers that way too) nor after a failed build in this process."""
    return not _unavailable and os.environ.get("REML_WASM_GLUE", "1") != "0"

