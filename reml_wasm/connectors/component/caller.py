"""Generated callers of core wasm functions through `wasmtime_func_call_unchecked`.

Each caller is Python source compiled once per function: it writes the flat arguments into
a preallocated `wasmtime_val_raw_t` array (through typed cffi views of the same buffer),
makes one cffi call, and reads the results back.  For an export it marshals with the
Canonical ABI engine's plan; parameters and results that are plain integers or bools are
checked and stored inline (the same ranges the engine checks, `types.INTEGER_RANGES`), so a
scalar call allocates nothing and makes no Python-level calls besides the cffi one.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, cast

from ... import cabi
from ...cabi.codecs import flags_functions, number_packer
from ...cabi.generated import define
from ...cabi.numbers import NAN, f32_round
from ...cabi.options import check_allocation
from ... import types as t
from ...audit import DiagnosticError, error
from ...values import SET_VALUE, Err, Ok, Record, Some, check_args, is_list_value, record_field
from . import traps as component_traps
from .callbacks import take_exception
from .capi import CApi
from .front import front as make_front, plan as plan_front

# flat core type -> (view written, index stride); i32 goes through the int64 view so both
# signed and unsigned 32-bit values fit
_WRITE = {"i32": ("v_i64", 2), "i64": ("v_i64", 2), "f32": ("v_f32", 4), "f64": ("v_f64", 2)}
_READ = {"i32": ("v_i32", 4), "i64": ("v_i64", 2), "f32": ("v_f32", 4), "f64": ("v_f64", 2)}

# integer parameter -> (the typed view that range-checks it, elements per 16-byte slot)
_INT_VIEW = {"s8": ("v_i8", 16), "u8": ("v_u8", 16), "s16": ("v_i16", 8), "u16": ("v_u16", 8),
             "s32": ("v_i32", 4), "u32": ("v_u32", 4), "s64": ("v_i64", 2), "u64": ("v_u64", 2)}

# compound types whose flat values a codec lowers (passed to the C helper when all integers)
_COMPOUND = (t.OptionType, t.ResultType, t.VariantType, t.TupleType, t.RecordType)

# inline result reads of integer primitives from slot 0
_INT_READ = {
    "s32": "v_i32[0]", "u32": "v_u32[0]", "s64": "v_i64[0]", "u64": "v_u64[0]",
    "u8": "(v_u32[0] & 0xFF)", "u16": "(v_u32[0] & 0xFFFF)",
    "s8": "(((v_u32[0] & 0xFF) ^ 0x80) - 0x80)", "s16": "(((v_u32[0] & 0xFFFF) ^ 0x8000) - 0x8000)",
    "bool": "(v_u32[0] != 0)",
}


class CallState:
    """Mutable state shared by the callers of one instance.

    `poisoned`: the reason of the first trap (the instance may not be entered again, as in
    wasmtime).  `fuel`: refilled before each export call when set.  `gen`: bumped by every
    entry into wasm, so memories know when they must re-read their size.  `store`: the
    wasmtime Store every caller points into, or None: export callers hold it (`caller.store`),
    the host functions the store calls must not (they would keep it alive forever).
    `count_entries`: False when the memories never move (they then need no `gen`).
    `lock`: held by every caller while it uses its argument buffer and the store (a store
    is entered by one thread at a time); re-entrant, so a host function the guest calls
    may call into the same instance from the same thread.

    `record`: in API mode, the instance's C store record (`capi.STORE_SOURCE`): its mutex
    is then the lock (`StoreLock`), shared by the generated Python callers and the
    per-signature C glue (glue.py), which takes it in C.  `poison` marks both."""

    __slots__ = ("poisoned", "fuel", "gen", "store", "epoch_ticks", "count_entries", "lock", "record",
                 "host_imports", "copy_meters")

    def __init__(self, fuel: int | None, store: Any = None, epoch_ticks: int | None = None, *,
                 count_entries: bool = True, capi: CApi | None = None, ctx: Any = None) -> None:
        self.poisoned: str | None = None
        self.fuel = fuel
        self.epoch_ticks = epoch_ticks
        self.gen = 0
        self.count_entries = count_entries
        self.host_imports = False  # set when an import is lowered to a host function
        # the memories whose host-side copy budget (`copied`) starts afresh at each call
        self.copy_meters: list[Any] = []
        self.store = store
        self.record: Any = None
        self.lock: Any = threading.RLock()
        if capi is not None and capi.mode == "api" and ctx is not None:
            lib = capi.lib
            record = lib.reml_store_new(ctx, fuel is not None, fuel or 0, epoch_ticks is not None, epoch_ticks or 0)
            if record != capi.ffi.NULL:
                self.record = capi.ffi.gc(record, lib.reml_store_free)
                self.lock = StoreLock(lib, self.record, int(capi.ffi.cast("uintptr_t", record)))

    def poison(self, reason: str) -> None:
        """The instance may not be entered again (by the Python callers or the C glue)."""
        self.poisoned = reason
        if self.record is not None:
            self.lock.mark_poisoned()


def _lock_functions(lib: Any) -> Callable[[int], tuple[Any, Any]]:
    """`lock_functions(address) -> (acquire, release)`: CPython functions the API-mode
    module installs (as module `_reml_store_lock`) over a record's mutex."""
    module = sys.modules.get("_reml_store_lock")
    if module is None or not hasattr(module, "lock_functions"):
        if not lib.reml_install_lock_functions():
            raise RuntimeError("the store lock functions could not be installed")
        module = sys.modules["_reml_store_lock"]
    return cast(Callable[[int], tuple[Any, Any]], module.lock_functions)


class StoreLock:
    """The store's re-entrant lock kept in its C record (API mode), so C glue and Python
    callers exclude each other: `acquire()` / `release()` (each a cffi call that releases
    the GIL while it waits), a context manager, `_is_owned()` as `threading.RLock` has."""

    __slots__ = ("acquire", "release", "_owned", "_poison", "_record")

    def __init__(self, lib: Any, record: Any, address: int) -> None:
        import functools
        self._record = record
        self.acquire, self.release = _lock_functions(lib)(address)
        self._owned = functools.partial(lib.reml_store_owned, record)
        self._poison = functools.partial(lib.reml_store_poison, record)

    def __enter__(self) -> "StoreLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def _is_owned(self) -> bool:
        """Whether the calling thread holds the lock."""
        return bool(self._owned())

    def mark_poisoned(self) -> None:
        """Set the record's poisoned flag (the C glue refuses to enter)."""
        self._poison()


def take_host_exception() -> BaseException | None:
    """The exception a host function raised inside the failed call: from this package's
    callbacks, else from a wasmtime-py host function."""
    exc = take_exception()
    if exc is not None:
        return exc
    import wasmtime._func as wf
    exc = wf.LAST_EXCEPTION
    wf.LAST_EXCEPTION = None
    return exc


def _failure(capi: CApi, state: CallState, label: list[str], trap_slot: Any) -> Callable[[Any], None]:
    """What a caller runs when the unchecked call reports an error or a trap, or (err is
    None) when the instance is already poisoned."""

    def fail(err: Any) -> None:
        if err is None:
            raise component_traps.poisoned(label[0], state.poisoned)
        host_exc = take_host_exception()
        message = capi.take_error(err, trap_slot)
        state.poison(component_traps.reason_of(message))
        if isinstance(host_exc, cabi.Trap) and host_exc.diagnostic.extensions.get("kind") == "unprovided-import":
            raise component_traps.trap(label[0], host_exc.diagnostic.message) from None
        if isinstance(host_exc, cabi.Trap):
            # the connector's lifting/lowering for a host import found the guest at fault:
            # name the export and the kind, as for a trap in the guest itself
            ext = dict(host_exc.diagnostic.extensions)
            ext.setdefault("kind", component_traps.kind_of(host_exc.diagnostic.message))
            raise cabi.Trap(f"{label[0]}: wasm trap: {host_exc.diagnostic.message}", **ext) from None
        if host_exc is not None:
            raise host_exc
        raise component_traps.trap(label[0], message)
    return fail


def _guest_trap(state: CallState, label: list[str]) -> Callable[[cabi.Trap], None]:
    """A Trap the engine raised over guest data: poison the instance, name the export."""

    def guest_trap(exc: cabi.Trap) -> None:
        reason = exc.diagnostic.message
        if ": wasm trap: " in reason and state.poisoned is not None:
            # a trap in the export's own realloc (its caller named itself): the reason alone
            reason = state.poisoned
        state.poison(reason)
        raise cabi.Trap(f"{label[0]}: wasm trap: {reason}", kind=component_traps.kind_of(reason)) from None
    return guest_trap


def _environment(capi: CApi, ctx: Any, func: Any, n: int, state: CallState, label: list[str]) -> dict[str, Any]:
    ffi, lib = capi.ffi, capi.lib
    buf = ffi.new("wasmtime_val_raw_t[]", n)
    trap = ffi.new("uintptr_t[1]")
    return {
        "ctx": ctx, "fn": capi.func(func), "bufp": ffi.cast("wasmtime_val_raw_t *", buf), "_buf": buf,
        "v_i64": ffi.cast("int64_t *", buf), "v_u64": ffi.cast("uint64_t *", buf),
        "v_i32": ffi.cast("int32_t *", buf), "v_u32": ffi.cast("uint32_t *", buf),
        "v_i16": ffi.cast("int16_t *", buf), "v_u16": ffi.cast("uint16_t *", buf),
        "v_i8": ffi.cast("int8_t *", buf), "v_u8": ffi.cast("uint8_t *", buf),
        "v_f32": ffi.cast("float *", buf), "v_f64": ffi.cast("double *", buf),
        "trap": trap, "call_unchecked": lib.wasmtime_func_call_unchecked,
        "set_fuel": lib.wasmtime_context_set_fuel, "state": state,
        "set_deadline": lib.wasmtime_context_set_epoch_deadline,
        "fail": _failure(capi, state, label, trap), "Trap": cabi.Trap,
        "guest_trap": _guest_trap(state, label),
    }


def _compile(src: str, env: dict[str, Any], name: str, label: list[str], locked: bool = True) -> Callable[..., Any]:
    """Compile `src` (defining `caller`) inside a factory taking the environment as
    parameters, so the caller reads them as closure cells (faster than globals); the code
    is compiled once per process (`cabi.generated`), each instance binds its own cells.  The
    body runs holding the store's lock (`CallState.lock`, as `acquire`/`release`) unless
    `locked` is False (a caller only ever called by code that holds it)."""
    if locked:
        head, _, rest = src.partition("\n")
        body = "".join("        " + line + "\n" for line in rest.splitlines())
        src = f"{head}\n    acquire()\n    try:\n{body}    finally:\n        release()\n"
        env = {**env, "acquire": env["state"].lock.acquire, "release": env["state"].lock.release}
    names = sorted(env)
    factory = f"def make({', '.join(names)}):\n" + "".join("    " + ln + "\n" for ln in src.splitlines()) \
        + "    return caller\n"
    caller = define(factory, {}, "caller")["make"](**env)
    caller.keep_alive = env  # owns the cffi buffers the views point into
    caller.label = label  # the name traps report (the instance sets the export's full name)
    return caller


def _call_lines(n: int, bump: bool, folded: bool = False) -> list[str]:
    """The call with the arguments already in the buffer; `folded`: through the API
    module's `reml_call_i0` (env `call0`), whose status already says whether it trapped."""
    if folded:
        lines = [f"    err = call0(ctx, fn, bufp, {n}, trap)"]
    else:
        lines = [f"    err = call_unchecked(ctx, fn, bufp, {n}, trap)"]
    if bump:
        lines.append("    state.gen += 1")
    lines.append("    if err: fail(err)" if folded else "    if err or trap[0]: fail(err)")
    return lines


def core_caller(capi: CApi, ctx: Any, func: Any, params: list[str], results: list[str],
                state: CallState, name: str, *, locked: bool = True) -> Callable[..., Any]:
    """f(*flat_args) -> None / one value / a tuple, for realloc, post-return, destructors.
    `locked=False`: the caller runs only inside calls that hold the store's lock (the
    realloc and post-return of an export or import)."""
    n = max(len(params), len(results), 1)
    label = [name]
    env = _environment(capi, ctx, func, n, state, label)
    if locked and state.record is not None and params == ["i32"] and not results:
        return _locked_core_caller(capi, env, state, label, name)
    lines = ["def caller(" + ", ".join(f"a{i}" for i in range(len(params))) + "):",
             "    if state.poisoned is not None: fail(None)"]
    if state.epoch_ticks is not None:
        lines.append("    set_deadline(ctx, state.epoch_ticks)")
    int_call = capi.int_call(len(params)) if all(p in ("i32", "i64") for p in params) else None
    if int_call is not None:  # the arguments are stored by C
        env["int_call"] = int_call
        args = "".join(f", a{i}" for i in range(len(params)))
        lines.append(f"    err = int_call(ctx, fn, bufp, {n}, trap{args})")
        if state.count_entries:
            lines.append("    state.gen += 1")
        lines.append("    if err: fail(err)")
    else:
        for i, ty in enumerate(params):
            view, stride = _WRITE[ty]
            lines.append(f"    {view}[{i * stride}] = a{i}")
        call0 = capi.int_call(0)
        if call0 is not None:
            env["call0"] = call0
        lines += _call_lines(n, bump=state.count_entries, folded=call0 is not None)
    reads = [f"{_READ[ty][0]}[{i * _READ[ty][1]}]" for i, ty in enumerate(results)]
    if not reads:
        lines.append("    return None")
    elif len(reads) == 1:
        lines.append(f"    return {reads[0]}")
    else:
        lines.append(f"    return ({', '.join(reads)},)")
    return _compile("\n".join(lines) + "\n", env, name, label, locked)


def _locked_core_caller(capi: CApi, env: dict[str, Any], state: CallState, label: list[str],
                        name: str) -> Callable[..., Any]:
    """f(x) -> None for a core function (i32) -> () called from outside any call (a
    destructor): `reml_core_call1` takes the store's lock in C; a failure comes back with
    the lock held, is reported as the Python callers report it, and the lock released."""
    ffi, lib = capi.ffi, capi.lib
    record = ffi.gc(lib.reml_export_new(state.record, env["fn"], ffi.NULL, ffi.NULL, ffi.NULL, 0),
                    lib.reml_export_free)
    fail, trap, release, store_record = env["fail"], env["trap"], state.lock.release, state.record
    failure = lib.reml_store_failure

    def failed(code: int) -> None:
        try:
            if code == 2:
                fail(None)
            fail(failure(store_record, trap) or 1)
        finally:
            release()
    env.update(call1=lib.reml_core_call1, ex=record, failed=failed)
    lines = ["def caller(a0):", "    s = call1(ex, a0)"]
    if state.count_entries:
        lines.append("    state.gen += 1")
    lines += ["    if s: failed(s)", "    return None"]
    return _compile("\n".join(lines) + "\n", env, name, label, locked=False)


def _scalar(ty: t.Type) -> str | None:
    """The primitive name when `ty` is an integer or bool (handled inline), else None."""
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType) and (ty in t.INTEGER_RANGES or ty == t.BOOL):
        return ty.name
    return None


def _int_inline(ty: t.Type) -> bool:
    """char, enum and flags of up to 32 labels: inlined by `_param_lines` into one integer."""
    ty = t.unalias(ty)
    return ty == t.CHAR or isinstance(ty, t.EnumType) or (isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32)


def _param_lines(ty: t.Type, a: str, k: int, i: int, args_tuple: str, env: dict[str, Any],
                 resources: Any = None) -> list[str] | None:
    """Inline lowering of a parameter of one flat value besides integers: floats, char,
    enum, flags of up to 32 labels, a borrow of a resource the instance implements
    (None for other types).  A value of the wrong shape goes to the engine's
    `bad_args` for its diagnostic (as the reference path gives it)."""
    ty = t.unalias(ty)
    if isinstance(ty, t.BorrowType) and resources is not None and ty.resource in resources.implements:
        env[f"rep{i}"] = resources.rep_lowerer(ty.resource)
        return [f"    v_i64[{2 * k}] = rep{i}({a})"]
    if ty == t.F64 or ty == t.F32:
        lines = [f"    if {a}.__class__ is not float and {a}.__class__ is not int: bad_args({args_tuple})"]
        if ty == t.F64:
            env["NAN"] = NAN
            return lines + [f"    v_f64[{2 * k}] = {a} if {a} == {a} else NAN"]
        env["f32_round"] = f32_round
        return lines + [f"    v_f32[{4 * k}] = f32_round({a})"]
    if ty == t.CHAR:
        return [f"    if {a}.__class__ is not str: bad_args({args_tuple})",
                f"    c{i} = ord({a})",
                f"    if 0xD800 <= c{i} <= 0xDFFF: bad_args({args_tuple})",
                f"    v_i64[{2 * k}] = c{i}"]
    if isinstance(ty, t.EnumType):
        env[f"enum{i}"] = {label: d for d, label in enumerate(ty.cases)}
        return [f"    v_i64[{2 * k}] = enum{i}[{a}]"]
    if isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32:
        env[f"flag{i}"] = {label: 1 << d for d, label in enumerate(ty.labels)}
        env["SETS"] = (set, frozenset)
        return [f"    if not isinstance({a}, SETS): bad_args({args_tuple})",
                f"    b{i} = 0",
                f"    for x in {a}: b{i} |= flag{i}[x]",
                f"    v_i64[{2 * k}] = b{i}"]
    return None


def _result_lines(ty: t.Type, env: dict[str, Any], resources: Any = None) -> list[str] | None:
    """Inline lifting of a one-flat-value result besides integers: floats, char, enum,
    flags, own handles.  The lines return on the common path; a value they do not take
    (a char past the surrogates, a discriminant out of range) falls through to the
    general lifting, which traps."""
    ty = t.unalias(ty)
    if isinstance(ty, t.OwnType) and resources is not None:
        env["own_result"] = resources.own_lifter(ty.resource)
        return ["    try:", "        return own_result(v_u32[0])", "    except Trap as exc:", "        guest_trap(exc)"]
    if ty == t.F64 or ty == t.F32:
        env["NAN"] = NAN
        view = "v_f64[0]" if ty == t.F64 else "v_f32[0]"
        return [f"    x = {view}", "    return x if x == x else NAN"]
    if ty == t.CHAR:
        return ["    c = v_u32[0]", "    if c < 0xD800: return chr(c)"]
    if isinstance(ty, t.EnumType):
        env["CASES"] = tuple(ty.cases)
        return ["    d = v_u32[0]", f"    if d < {len(ty.cases)}: return CASES[d]"]
    if isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32:
        env["from_bits"] = flags_functions(ty)[1]
        return ["    return from_bits(v_u32[0])"]
    return None


def _bad_args(plan: Any, declared: list[t.Function]) -> Callable[[tuple], None]:
    """What a caller runs when an argument failed the inline checks: the diagnostic of
    `values.check_args` against the declared type (the one the reference path gives),
    else the engine's lowering's."""

    def bad_args(args: tuple) -> None:
        check_args(args, declared[0])
        plan.lower_args(args)
    return bad_args


def export_caller(capi: CApi, ctx: Any, func: Any, plan: Any, ftype: t.Function,
                  post: Callable[..., Any] | None, state: CallState, name: str,
                  glue: Any = None) -> Callable[..., Any]:
    """f(*args) -> result for a lifted export, marshalled by `plan` (a cabi ExportPlan).
    `glue` (a glue.GlueBook and the export's index in it): the export's C glue is used
    when it covers the signature."""
    if glue is not None:
        glued = glue_caller(capi, ctx, func, plan, ftype, post, state, name, glue)
        if glued is not None:
            return glued
    nargs = len(ftype.params)
    params, results = list(plan.flat.params), list(plan.flat.results)
    n = max(len(params), len(results), 1)
    label = [name]
    env = _environment(capi, ctx, func, n, state, label)
    declared = [ftype]  # the instance replaces it with the world's type (its names)
    env.update(lower_args=plan.lower_args, lift_result=plan.lift_result, post=post, declared=declared,
               check_args=check_args, LOWER_ERRORS=(TypeError, ValueError, OverflowError, KeyError,
                                                    AttributeError, IndexError, DiagnosticError),
               bad_args=_bad_args(plan, declared))
    codecs = plan.param_codecs
    generic = plan.flat.params_spilled or plan.borrows or len(codecs) != len(ftype.params)
    # every flat argument an integer (a checked integer parameter, or a pointer or length
    # from a codec's `put`): C stores them with the call
    resources = plan.opts.resources

    def own_borrow(ty: t.Type) -> bool:  # a borrow of a resource the instance implements: its rep
        ty = t.unalias(ty)
        return isinstance(ty, t.BorrowType) and resources is not None and ty.resource in resources.implements
    def int_compound(c: Any, ty: t.Type) -> bool:  # lowered by its codec into integers only
        return isinstance(t.unalias(ty), _COMPOUND) and all(f in ("i32", "i64") for f in c.flat)
    int_like = not generic and all(
        (c.put is not None and len(c.flat) == 2) or _scalar(p.type) is not None or own_borrow(p.type)
        or int_compound(c, p.type) or _int_inline(p.type) for c, p in zip(codecs, ftype.params))
    int_call = capi.int_call(len(params)) if int_like else None
    int_args: list[str] = []
    if int_call is not None:
        env["int_call"] = int_call
    call0 = capi.int_call(0)
    if call0 is not None:
        env["call0"] = call0
    if generic:
        lines = ["def caller(*args):", "    if state.poisoned is not None: fail(None)"]
        lines.append("    try:")
        lines.append("        flat = lower_args(args)")
        lines.append("    except Trap as exc:")
        lines.append("        guest_trap(exc)")
        lines.append("    except LOWER_ERRORS:")
        lines.append("        check_args(args, declared[0])  # the located message, as the reference path gives it")
        lines.append("        raise")
        for i, ty in enumerate(params):
            view, stride = _WRITE[ty]
            lines.append(f"    {view}[{i * stride}] = flat[{i}]")
    else:
        # positional parameters (a wrong count is Python's TypeError; Instance.call checks
        # the count first and reports ffi.value.arity); failures re-run the engine's
        # lowering for its diagnostic
        names = [f"a{i}" for i in range(nargs)]
        lines = [f"def caller({', '.join(names)}):", "    if state.poisoned is not None: fail(None)"]
        args_tuple = "(" + "".join(a + ", " for a in names) + ")"
        lines.append("    try:")
        body_start = len(lines)
        k = 0
        for i, (p, codec) in enumerate(zip(ftype.params, codecs)):
            prim = _scalar(p.type)
            if int_call is not None and own_borrow(p.type):
                env[f"rep{i}"] = resources.rep_lowerer(cast(t.BorrowType, t.unalias(p.type)).resource)
                int_args.append(f"rep{i}({names[i]})")
                k += 1
            elif prim is not None and int_call is not None:
                a = names[i]
                if prim == "bool":
                    lines.append(f"    if type({a}) is not bool: bad_args({args_tuple})")
                    int_args.append(f"(1 if {a} else 0)")
                else:
                    lo, hi = t.INTEGER_RANGES[t.PRIMITIVES[prim]]
                    lines.append(f"    if {a}.__class__ is not int or not {lo} <= {a} <= {hi}: bad_args({args_tuple})")
                    int_args.append(f"({a} - {1 << 64} if {a} > {(1 << 63) - 1} else {a})" if prim == "u64" else a)
                k += 1
            elif prim is not None:
                a = names[i]
                if prim == "bool":
                    lines.append(f"    if type({a}) is not bool: bad_args({args_tuple})")
                    lines.append(f"    v_i64[{2 * k}] = 1 if {a} else 0")
                else:
                    # cffi checks the integer type and range of the store (OverflowError,
                    # TypeError -> the engine's diagnostic below); bool is refused here
                    view, per_slot = _INT_VIEW[prim]
                    lines.append(f"    if {a}.__class__ is bool: bad_args({args_tuple})")
                    lines.append(f"    {view}[{per_slot * k}] = {a}")
                    if prim in ("s8", "u8", "s16", "u16"):
                        # the narrow store only checked the range: the core i32 is the
                        # value sign- or zero-extended (the Canonical ABI's rule)
                        lines.append(f"    v_i64[{2 * k}] = {a}")
                k += 1
            elif (inline := _param_lines(p.type, names[i], k, i, args_tuple, env, plan.opts.resources)) is not None:
                if int_call is not None:  # char, enum, flags: the integer goes to C with the call
                    prefix = f"    v_i64[{2 * k}] = "
                    assert inline[-1].startswith(prefix)
                    inline = inline[:-1] + [f"    i{i} = {inline[-1][len(prefix):]}"]
                    int_args.append(f"i{i}")
                lines.extend(inline)
                k += 1
            elif codec.put is not None and len(codec.flat) == 2:
                # string / list: the payload goes to guest memory, (pointer, length) to the slots
                env[f"put{i}"] = codec.put
                lines.append(f"    s{i}, n{i} = put{i}({names[i]})")
                int_args += [f"s{i}", f"n{i}"]
                if int_call is None:
                    lines.append(f"    v_i64[{2 * k}] = s{i}")
                    lines.append(f"    v_i64[{2 * (k + 1)}] = n{i}")
                k += 2
            else:
                env[f"c{i}"] = codec.lower
                lines.append(f"    o{i} = []")
                lines.append(f"    c{i}({names[i]}, o{i})")
                if int_call is not None:  # integers only: C stores them with the call
                    int_args += [f"o{i}[{j}]" for j in range(len(codec.flat))]
                else:
                    for j, ty in enumerate(codec.flat):
                        view, stride = _WRITE[params[k + j]]
                        lines.append(f"    {view}[{(k + j) * stride}] = o{i}[{j}]")
                k += len(codec.flat)
        lines[body_start:] = ["    " + ln for ln in lines[body_start:]] or ["        pass"]
        lines.append("    except Trap as exc:")
        lines.append("        guest_trap(exc)")
        lines.append("    except VALUE_ERRORS:")
        lines.append(f"        bad_args({args_tuple})")
        lines.append("        raise")
        env["VALUE_ERRORS"] = (TypeError, ValueError, OverflowError, KeyError, AttributeError, IndexError,
                               DiagnosticError)
        env["lift_result"] = plan.lift_plain  # no borrows: no borrow scope to close
    if state.fuel is not None:
        lines.append("    set_fuel(ctx, state.fuel)")
    if state.epoch_ticks is not None:
        lines.insert(2, "    set_deadline(ctx, state.epoch_ticks)")
    uses_memory = plan.opts.memory is not None and state.count_entries
    if uses_memory:
        # earlier calls of exports without memory options do not bump the generation
        lines.insert(2, "    state.gen += 1")
    if int_call is not None:
        args = "".join(f", {x}" for x in int_args)
        lines.append(f"    err = int_call(ctx, fn, bufp, {n}, trap{args})")
        if uses_memory:
            lines.append("    state.gen += 1")
        lines.append("    if err: fail(err)")
    else:
        lines += _call_lines(n, bump=uses_memory, folded=call0 is not None)
    reads = [f"{_READ[ty][0]}[{i * _READ[ty][1]}]" for i, ty in enumerate(results)]
    result_prim = None if generic or ftype.result is None or plan.flat.results_spilled else _scalar(ftype.result)
    quick = None if generic or ftype.result is None or plan.flat.results_spilled or post is not None \
        else _result_lines(ftype.result, env, plan.opts.resources)
    if result_prim is not None and post is None:
        lines.append(f"    return {_INT_READ[result_prim]}")
    elif not generic and ftype.result is None and post is None:
        lines.append("    return None")
    else:
        # a Trap while lifting is the guest's fault: the instance is poisoned, as in wasmtime
        if quick is not None:
            lines.extend(quick)  # returns on the common path; the rest lifts (and traps) in general
        names = [f"r{i}" for i in range(len(reads))]
        if names:
            lines.append(f"    {', '.join(names)}, = {', '.join(reads)},")
        mem = plan.opts.memory
        if not generic and plan.flat.results_spilled and mem is not None and mem.fixed_base:
            # the result's record in guest memory: bounds and alignment checked here, read by
            # the codec's load (anything unusual goes to lift_result for its Trap)
            rc = plan.result_codec
            env.update(mem=mem, load_result=rc.load)
            lines.append("    p = r0 & 0xFFFFFFFF")
            lines.append(f"    if not p % {rc.align} and mem.low <= p and p + {rc.size} <= mem.limit:")
            lines.append("        try:")
            lines.append("            v = load_result(mem.view, p)")
            lines.append("        except Trap as exc:")
            lines.append("            guest_trap(exc)")
            lines.append("    else:")
            lines.append("        try:")
            lines.append("            v = lift_result((r0,))")
            lines.append("        except Trap as exc:")
            lines.append("            guest_trap(exc)")
        else:
            lines.append("    try:")
            lines.append(f"        v = lift_result(({''.join(r + ', ' for r in names)}))")
            lines.append("    except Trap as exc:")
            lines.append("        guest_trap(exc)")
        if post is not None:
            lines.append(f"    post({', '.join(names)})")
        lines.append("    return v")
    if plan.opts.memory is not None or state.host_imports:  # each call starts with the whole copy budget
        env["meters"] = state.copy_meters
        lines.insert(2, "    for m in meters: m.copied = 0")
    caller: Any = _compile("\n".join(lines) + "\n", env, name, label)  # a function: takes attributes
    caller.thread_safe = True  # it holds the instance's lock itself (Instance.func hands it out as is)
    caller.declared = declared  # the type diagnostics name (the instance sets the world's)
    return caller


def _slot_lines(ty: t.Type, slots: list[str], a: str, i: int, codec: Any, env: dict[str, Any]) -> list[str]:
    """Python lines filling the flat slots x{i}_0.. of a record / tuple of scalar fields or
    an option of one scalar straight from the value (C checks each slot's range); a value
    of another shape, or a field of another class, goes through the codec (its flat
    values pass the same checks, its errors are the engine's)."""
    def test(x: str, slot: str) -> str:
        if slot == "bool":
            return f"{x}.__class__ is not bool"
        if slot in ("f32", "f64"):
            return f"{x}.__class__ is not float and {x}.__class__ is not int"
        return f"{x}.__class__ is not int"

    def lowered(v: Any) -> list[Any]:
        out: list[Any] = []
        codec.lower(v, out)
        return out
    env[f"lower{i}"] = lowered
    xs = [f"x{i}_{j}" for j in range(len(slots))]
    via_codec = f"{', '.join(xs)}, = lower{i}({a})"
    if isinstance(ty, t.OptionType):
        empty = "0.0" if slots[1] in ("f32", "f64") else "0"
        return [f"        if {a} is None: {xs[0]} = 0; {xs[1]} = {empty}",
                f"        elif {test(a, slots[1])}: {via_codec}",
                f"        else: {xs[0]} = 1; {xs[1]} = {a}"]
    if isinstance(ty, t.RecordType):
        env["Record"] = Record
        names = [f.name for f in ty.fields]
        checks = " or ".join(f"({test(x, slot)})" for x, slot in zip(xs, slots))
        return [f"        if {a}.__class__ is Record and len({a}._fields) == {len(names)}:",
                f"            fs{i} = {a}._fields",
                "            try:"] + [f"                {x} = fs{i}[{n!r}]" for x, n in zip(xs, names)] + [
                "            except KeyError:",  # other field names (the codec's record_field rules)
                f"                {via_codec}",
                "            else:",
                f"                if {checks}: {via_codec}",
                "        else:", f"            {via_codec}"]
    else:
        head = [f"        if {a}.__class__ is tuple and len({a}) == {len(slots)}:",
                f"            {', '.join(xs)}, = {a}"]
    checks = " or ".join(f"({test(x, slot)})" for x, slot in zip(xs, slots))
    return head + [f"            if {checks}: {via_codec}", "        else:", f"            {via_codec}"]


def _string_slot_lines(ty: t.Type, slots: list[str], a: str, i: int, args_tuple: str,
                       env: dict[str, Any]) -> list[str]:
    """Python lines reading the fields of a record / tuple holding strings into x{i}_j
    (scalars, checked as `_slot_lines` checks them) and d{i}_j (a string field's UTF-8
    bytes, which C copies into guest memory).  The fields are taken as the codec takes
    them (a tuple of the right length; a Record, mapping or object by field name); a value
    the codec would refuse goes to `bad_args`, which raises the engine's diagnostic."""
    xs = [f"x{i}_{j}" for j in range(len(slots))]
    if isinstance(ty, t.RecordType):
        env["Record"], env["record_field"] = Record, record_field
        names = [f.name for f in ty.fields]
        lines = [f"        if {a}.__class__ is Record:", f"            fs{i} = {a}._fields"]
        lines += [f"            {x} = fs{i}[{n!r}]" for x, n in zip(xs, names)]
        lines += ["        else:"] + [f"            {x} = record_field({a}, {n!r})" for x, n in zip(xs, names)]
    else:
        lines = [f"        if {a}.__class__ is not tuple or len({a}) != {len(slots)}: bad_args({args_tuple})",
                 f"        {', '.join(xs)}, = {a}"]
    for j, (x, slot) in enumerate(zip(xs, slots)):
        if slot == "string":
            lines += [f"        if {x}.__class__ is not str: bad_args({args_tuple})", f"        d{i}_{j} = {x}.encode()"]
        elif slot.startswith("opt-"):  # the case in x, the value (0 for none) in xv; C checks its range
            inner, y = slot[4:], f"{x}v"
            if inner == "char":
                value = [f"            if {y}.__class__ is not str or len({y}) != 1: bad_args({args_tuple})",
                         f"            {y} = ord({y})"]
            elif inner == "bool":
                value = [f"            if {y}.__class__ is not bool: bad_args({args_tuple})"]
            elif inner == "f64":
                value = [f"            if {y}.__class__ is not float and {y}.__class__ is not int: bad_args({args_tuple})"]
            else:
                value = [f"            if {y}.__class__ is not int: bad_args({args_tuple})"]
            env["Some"] = Some
            lines += [f"        if {x} is None: {x} = 0; {y} = {'0.0' if inner == 'f64' else '0'}",
                      "        else:", f"            {y} = {x}.value if {x}.__class__ is Some else {x}"] + value + [
                      f"            {x} = 1"]
        elif slot.startswith("list-"):  # the codec's test and packing; C takes the bytes
            env["is_list_value"], env[f"pack{i}_{j}"] = is_list_value, number_packer(slot[5:])
            lines += [f"        if {x}.__class__ is not list and not is_list_value({x}, False): bad_args({args_tuple})",
                      f"        d{i}_{j} = pack{i}_{j}({x})",
                      f"        if d{i}_{j}.__class__ is not bytes: d{i}_{j} = bytes(d{i}_{j})"]
        elif slot == "bool":
            lines.append(f"        if {x}.__class__ is not bool: bad_args({args_tuple})")
        elif slot in ("f32", "f64"):
            lines.append(f"        if {x}.__class__ is not float and {x}.__class__ is not int: bad_args({args_tuple})")
        else:
            lines.append(f"        if {x}.__class__ is not int: bad_args({args_tuple})")
    return lines


def _flags_lowerer(ty: t.FlagsType) -> tuple[dict[frozenset, int], Callable[[Any], int]]:
    """(memo, to_bits) for a flags parameter: `to_bits(value)` is the bit pattern of a
    set of labels (TypeError for another type, KeyError for an unknown label); frozensets
    are remembered (up to 4,096 per caller), so a repeated value costs one lookup."""
    bit = {label: 1 << d for d, label in enumerate(ty.labels)}
    memo: dict[frozenset, int] = {}

    def to_bits(value: Any) -> int:
        if not isinstance(value, (set, frozenset)):
            raise TypeError("flags take a set of labels")
        bits = 0
        for label in value:
            bits |= bit[label]
        if value.__class__ is frozenset and len(memo) < 4096:
            memo[value] = bits
        return bits
    return memo, to_bits


def glue_caller(capi: CApi, ctx: Any, func: Any, plan: Any, ftype: t.Function,
                post: Callable[..., Any] | None, state: CallState, name: str, book: Any) -> Callable[..., Any] | None:
    """f(*args) -> result for a lifted export through its per-signature C glue (glue.py),
    or None when the glue does not cover it (the Python caller is made instead).  The
    Python part converts the arguments (type tests, `ord`, enum and flags lookups, UTF-8
    encoding, pure compounds through their codecs), makes one cffi call and converts the
    result.  A "held" result (an aggregate, a string, a handle) is lifted here by the
    plan's codecs while the lock the C function kept is held; `reml_glue_finish` then
    calls post-return and releases it.  Failures go to `slow`, which handles them as the
    Python callers do, holding the lock the C function kept."""
    from . import glue
    if book is None or state.record is None or plan.borrows or len(plan.param_codecs) != len(ftype.params):
        return None
    opts = plan.opts
    resources = opts.resources
    for p in ftype.params:
        ty = t.unalias(p.type)
        if isinstance(ty, t.BorrowType) and (resources is None or ty.resource not in resources.implements):
            return None  # a borrow scope is needed: the Python caller opens it
    found = book[0].function(book[1])
    if found is None:
        return None
    lib, cfunc, sig = found
    if sig.post != (post is not None) or len(sig.params) != len(ftype.params):
        return None  # not the signature noted for this export
    if sig.strings and (opts.string_encoding != "utf8" or opts.realloc is None or opts.memory is None):
        return None
    if sig.memory and opts.memory is None:
        return None
    ffi = capi.ffi
    label = [name]
    # the Python callers' environment too: what benchmarks and helpers read (`keep_alive`)
    base = _environment(capi, ctx, func, max(len(plan.flat.params), len(plan.flat.results), 1), state, label)
    int_call = capi.int_call(len(plan.flat.params))
    if int_call is not None:
        base["int_call"] = int_call
    trap, fn = base["trap"], base["fn"]
    post_fn = ffi.NULL if post is None else post.keep_alive["fn"]  # type: ignore[attr-defined]
    # realloc and memory when the export has them (the glue uses them for strings and
    # option results, the front for any string or list)
    realloc_fn = ffi.NULL if opts.realloc is None else opts.realloc.keep_alive["fn"]
    mem_raw = ffi.NULL if opts.memory is None else opts.memory._mem
    record = ffi.gc(capi.lib.reml_export_new(state.record, fn, post_fn, realloc_fn, mem_raw, 0),
                    capi.lib.reml_export_free)
    declared = [ftype]
    bad = _bad_args(plan, declared)
    fail, guest_trap = base["fail"], base["guest_trap"]
    failure, raw, status = capi.lib.reml_store_failure, capi.lib.reml_store_raw, lib.reml_glue_status
    acquire, release, store_record = state.lock.acquire, state.lock.release, state.record
    lift_plain, nraw = plan.lift_plain, len(plan.flat.results)

    def slow(r: Any, args: tuple) -> Any:
        code = status()
        if code == 0:  # a genuine value equal to the sentinel
            return r if r == r else NAN
        return handle(code, args)

    def handle(code: int, args: tuple) -> Any:
        """A failed call (status `code`), as the Python callers handle it; the lock held
        unless the arguments were refused."""
        if code == glue.BADARG:
            acquire()  # the engine's lowering may call realloc before it finds the fault
            try:
                bad(args)
            except cabi.Trap as exc:
                guest_trap(exc)
            finally:
                release()
            check_args(args, declared[0])
            raise error("ffi.value.type_mismatch", f"{label[0]}: an argument is out of range")
        try:
            if code == glue.POISONED:
                fail(None)
            if code == glue.FAILED:
                fail(failure(store_record, trap) or 1)
            if code == glue.BADBLOCK:
                try:
                    check_allocation(opts, raw(store_record, 0), raw(store_record, 2), raw(store_record, 1))
                    raise cabi.Trap(f"realloc returned {raw(store_record, 0):#x}: the string does not fit in memory")
                except cabi.Trap as exc:
                    guest_trap(exc)
            raws = tuple(raw(store_record, k) for k in range(nraw))
            try:
                v = lift_plain(raws)
            except cabi.Trap as exc:
                guest_trap(exc)
            if post is not None:
                post(*raws)
            return v
        finally:
            release()

    def abandon(exc: BaseException) -> None:
        """A held call whose lifting failed: poison on a guest fault, release, re-raise."""
        try:
            if isinstance(exc, cabi.Trap):
                guest_trap(exc)
            raise exc
        finally:
            release()

    def post_failed() -> None:
        try:
            fail(failure(store_record, trap) or 1)
        finally:
            release()

    env: dict[str, Any] = {**base, "g": cfunc, "ex": record, "slow": slow, "bad_args": bad,
                           "abandon": abandon, "post_failed": post_failed, "finish": lib.reml_glue_finish,
                           "release": release, "lift_result": lift_plain,
                           "VALUE_ERRORS": (TypeError, ValueError, OverflowError, KeyError, AttributeError,
                                            IndexError, DiagnosticError)}
    names = [f"a{i}" for i in range(len(ftype.params))]
    args_tuple = "(" + "".join(a + ", " for a in names) + ")"
    lines = [f"def caller({', '.join(names)}):"]
    meter = opts.memory
    if meter is not None or state.host_imports:  # each call starts with the whole copy budget
        env["meters"] = state.copy_meters
        lines.append("    for m in meters: m.copied = 0")
    bump = meter is not None and state.count_entries
    if bump:
        lines.append("    state.gen += 1")
    lines.append("    try:")
    call_args: list[str] = []
    for i, (p, kind, codec) in enumerate(zip(ftype.params, sig.params, plan.param_codecs)):
        a = names[i]
        ty = t.unalias(p.type)
        if kind == "bool":
            lines.append(f"        if {a}.__class__ is not bool: bad_args({args_tuple})")
            call_args.append(a)
        elif kind in ("f32", "f64"):
            lines.append(f"        if {a}.__class__ is not float and {a}.__class__ is not int: bad_args({args_tuple})")
            call_args.append(a)
        elif kind == "char":
            lines.append(f"        if {a}.__class__ is not str: bad_args({args_tuple})")
            call_args.append(f"ord({a})")
        elif kind == "enum":
            env[f"enum{i}"] = {label: d for d, label in enumerate(cast(t.EnumType, ty).cases)}
            call_args.append(f"enum{i}[{a}]")
        elif kind == "flags":
            env[f"fcache{i}"], env[f"to_bits{i}"] = _flags_lowerer(cast(t.FlagsType, ty))
            lines += [f"        b{i} = fcache{i}.get({a}) if {a}.__class__ is frozenset else None",
                      f"        if b{i} is None: b{i} = to_bits{i}({a})"]
            call_args.append(f"b{i}")
        elif kind == "borrow":
            env[f"rep{i}"] = resources.rep_lowerer(cast(t.BorrowType, ty).resource)
            call_args.append(f"rep{i}({a})")
        elif kind == "string":
            lines.append(f"        if {a}.__class__ is not str: bad_args({args_tuple})")
            lines.append(f"        d{i} = {a}.encode()")
            call_args += [f"d{i}", f"len(d{i})"]
        elif kind.startswith("result-"):  # result<K, string>: Ok(K) checked in C, Err's bytes lowered in C
            env["Ok"], env["Err"] = Ok, Err
            ok = kind[7:]
            test = {"bool": f"y{i}.__class__ is not bool", "char": f"y{i}.__class__ is not str or len(y{i}) != 1"}.get(
                ok, f"y{i}.__class__ is not int")
            lines += [f"        if isinstance({a}, Ok):", f"            y{i} = {a}.value",
                      f"            if {test}: bad_args({args_tuple})"]
            if ok == "char":
                lines.append(f"            y{i} = ord(y{i})")
            lines += [f"            x{i} = 0; d{i} = b''", f"        elif isinstance({a}, Err):", f"            e{i} = {a}.value",
                      f"            if e{i}.__class__ is not str: bad_args({args_tuple})",
                      f"            x{i} = 1; y{i} = 0; d{i} = e{i}.encode()",
                      "        else:", f"            bad_args({args_tuple})", "            raise TypeError('not a result')"]
            call_args += [f"x{i}", f"y{i}", f"d{i}", f"len(d{i})"]
        elif kind.startswith("slots:"):
            slots = kind[6:].split(",")
            if glue.lowers_in_c(slots):
                lines += _string_slot_lines(ty, slots, a, i, args_tuple, env)
                call_args += [x for j, slot in enumerate(slots)
                              for x in ((f"d{i}_{j}", f"len(d{i}_{j})") if slot == "string" else
                                        (f"d{i}_{j}", f"len(x{i}_{j})") if slot.startswith("list-") else
                                        (f"x{i}_{j}", f"x{i}_{j}v") if slot.startswith("opt-") else (f"x{i}_{j}",))]
            else:
                lines += _slot_lines(ty, slots, a, i, codec, env)
                call_args += [f"x{i}_{j}" for j in range(len(slots))]
        elif kind.startswith("flat:"):
            env[f"c{i}"] = codec.lower
            lines += [f"        o{i} = []", f"        c{i}({a}, o{i})"]
            for j, core in enumerate(kind[5:].split(",")):
                if core == "i64":  # the codec gives u64 payloads unsigned: C takes int64_t
                    call_args.append(f"(o{i}[{j}] - {1 << 64} if o{i}[{j}] > {(1 << 63) - 1} else o{i}[{j}])")
                else:
                    call_args.append(f"o{i}[{j}]")
        else:  # an integer: C checks the range
            lines.append(f"        if {a}.__class__ is not int: bad_args({args_tuple})")
            call_args.append(a)
    lines.append(f"        r = g(ex{''.join(', ' + x for x in call_args)})")
    lines += ["    except Trap as exc:", "        guest_trap(exc)",
              "    except VALUE_ERRORS:", f"        bad_args({args_tuple})", "        raise"]
    if bump:
        lines.append("    state.gen += 1")
    res = sig.result
    rty = None if ftype.result is None else t.unalias(ftype.result)
    if res == "held" or res.startswith("res-"):
        lines.append(f"    if r < 0: return slow(r, {args_tuple})" if res == "held"
                     else f"    if r == {glue.SENTINEL_I64}: return slow(r, {args_tuple})")
        if res.startswith("res-"):  # Ok read in C; an Err comes back held (HELD + its address)
            env["new"], env["Ok"], env["set_ok"] = object.__new__, Ok, SET_VALUE[Ok]
            value = {"res-bool": "r == 1", "res-char": "chr(r)"}.get(res, "r")
            lines += [f"    if r < {glue.HELD}:", "        v = new(Ok)", f"        set_ok(v, {value})",
                      "        return v", f"    r -= {glue.HELD}"]
        lines.append("    try:")
        mem = opts.memory
        if isinstance(rty, t.OwnType) and resources is not None:  # a handle: moved out of the table
            env["own_result"] = resources.own_lifter(rty.resource)
            lines += resources.own_lift_lines(rty.resource, "r", "v", "own_result", env, "        ")
        elif plan.flat.results_spilled and mem is not None and mem.fixed_base:
            rc = plan.result_codec
            env.update(mem=mem, load_result=rc.load)
            lines.append(f"        if not r % {rc.align} and mem.low <= r and r + {rc.size} <= mem.limit:")
            lines.append("            v = load_result(mem.view, r)")
            lines.append("        else:")
            lines.append("            v = lift_result((r - 4294967296 if r > 2147483647 else r,))")
        else:
            lines.append("        v = lift_result((r - 4294967296 if r > 2147483647 else r,))")
        lines += ["    except BaseException as exc:", "        abandon(exc)"]
        if post is not None:
            lines.append("    if finish(ex): post_failed()")
        else:
            lines.append("    release()")
        lines.append("    return v")
    else:
        if sig.ret == "double":
            lines.append(f"    if r != r: return slow(r, {args_tuple})")
        elif sig.ret == "uint64_t":
            lines.append(f"    if r == {glue.SENTINEL_U64}: return slow(r, {args_tuple})")
        else:
            lines.append(f"    if r == {glue.SENTINEL_I64}: return slow(r, {args_tuple})")
        if res.startswith("opt-"):  # option<K> read in C: NONE for none
            value = {"opt-bool": "r == 1", "opt-char": "chr(r)"}.get(res, "r")
            lines.append(f"    return None if r == {glue.NONE} else {value}")
        elif res == "none":
            lines.append("    return None")
        elif res == "bool":
            lines.append("    return r == 1")
        elif res == "char":
            lines.append("    return chr(r)")
        elif res == "enum":
            env["CASES"] = tuple(cast(t.EnumType, rty).cases)
            lines.append("    return CASES[r]")
        elif res == "flags":
            env["from_bits"] = flags_functions(cast(t.FlagsType, rty))[1]
            lines.append("    return from_bits(r)")
        else:
            lines.append("    return r")
    # lowering that calls realloc or touches handle tables runs holding the store's lock
    # (the C function then takes it again: it is re-entrant)
    caller: Any = _compile("\n".join(lines) + "\n", env, name, label, locked=sig.locked)
    caller.thread_safe = True  # the C glue holds the instance's lock itself
    caller.declared = declared
    caller.glue = sig.name
    caller.glue_reallocs = sig.reallocs  # realloc entries made from C
    if bump or not book[0].front:
        return caller

    def failed(code: int, args: tuple) -> Any:  # the front's failures after it took the lock
        for m in state.copy_meters:
            m.copied = 0  # the interpreter's lifting starts with the whole budget
        return handle(code, args)

    front_plan = book[0].front_plan(book[1], lambda: plan_front(ftype, plan.flat, opts))
    if front_plan is None:
        return caller
    # the copy budget is reset per call for the host functions' lifting only: the front
    # counts its own, and its failure handler resets it for the interpreter's
    fronted = make_front(capi, front_plan, opts, record, caller, failed, post is not None,
                         state.copy_meters if state.host_imports else None)
    if fronted is None:
        return caller
    del fronted.glue_reallocs  # the front counts its realloc entries per call (`reallocs`)
    return fronted
