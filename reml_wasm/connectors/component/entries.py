"""Generated bodies of the fast path's host functions: `entry(raw) -> 0`.

`raw` is the `int64_t *` view of the call's 16-byte value slots (slot k is `raw[2 * k]`):
an i32 argument is the low half of its slot (masked here: the upper half is not
specified), an i64 the whole slot, floats are read through a `float *` / `double *`
view made only for signatures that have them.  Results are written to slot 0.  The
Canonical ABI work is the import plan's (lift the arguments, lower the result: every
value a host function returns is checked there), so an entry adds one Python call per
host call to the floor of a C callback.  Imports of integers only (at most three
parameters) and the resource built-ins get, in API mode, the scalar form
`entry(a0, a1, a2) -> result`: C hands over the slots as ints and stores the result.
"""

from __future__ import annotations

from typing import Any, Callable

from ... import types as t
from ...cabi.generated import define
from ...values import check
from . import traps as component_traps

_READ = {"i32": "(raw[{k}] & 0xFFFFFFFF)", "i64": "raw[{k}]", "f32": "fv[{f}]", "f64": "dv[{k}]"}
_WRITE = {"i32": "raw[0] = {v}", "i64": "raw[0] = {v}", "f32": "fv[0] = {v}", "f64": "dv[0] = {v}"}


def import_entry(plan: Any, func: Any, state: Any, ffi: Any, name: str) -> Callable[[Any], int]:
    """The entry of a lowered import: `func` is the link walk's ComponentFunc (its
    `extra`, when set, is the host callable taking the arguments positionally; else its
    `call` takes one list); `plan` the import plan over the caller's canonical options."""
    if func.call is None:
        def unprovided(raw: Any) -> int:
            raise component_traps.unprovided(name)
        return unprovided
    direct = func.extra if callable(func.extra) else None
    inline = None if direct is None else _scalar_entry(plan, direct, state)
    if inline is not None:
        return inline
    params, results = list(plan.flat.params), list(plan.flat.results)
    reads = [_READ[p].format(k=2 * k, f=4 * k) for k, p in enumerate(params)]
    env: dict[str, Any] = {"lift_args": plan.lift_args, "lower_result": plan.lower_result, "state": state}
    lines = ["def entry(raw):"]
    if state.count_entries:
        lines.append("    state.gen += 1")  # the guest may have grown its memory before calling out
    if "f32" in params or "f32" in results:
        env["cast"] = ffi.cast
        lines.append("    fv = cast('float *', raw)")
    if "f64" in params or "f64" in results:
        env["cast"] = ffi.cast
        lines.append("    dv = cast('double *', raw)")
    lines.append(f"    flat = ({''.join(r + ', ' for r in reads)})")
    if direct is not None:
        env["target"] = direct
        lines.append("    value = target(*lift_args(flat))")
    else:
        env["target"] = func.call
        lines.append("    value = target(lift_args(flat))")
    lines.append("    out = lower_result(value, flat)")
    if results:
        # a result of one flat value (more are stored through the return pointer)
        lines.append("    if out:")
        lines.append("        " + _WRITE[results[0]].format(v="out[0]"))
    lines.append("    return 0")
    return define("\n".join(lines) + "\n", env, "host entry")["entry"]


# inline lifting of a scalar argument from its slot value `{x}`, by type
_LIFT = {
    "u8": "({x} & 0xFF)", "u16": "({x} & 0xFFFF)", "u32": "({x} & 0xFFFFFFFF)",
    "u64": "({x} & 0xFFFFFFFFFFFFFFFF)", "s64": "{x}",
    "s8": "((({x} & 0xFF) ^ 0x80) - 0x80)", "s16": "((({x} & 0xFFFF) ^ 0x8000) - 0x8000)",
    "s32": "((({x} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)", "bool": "(({x} & 0xFFFFFFFF) != 0)",
}
SCALAR_ARGS = 3  # the slots `reml_host_scalar` hands over


def _scalar_names(func: t.Function) -> list[str] | None:
    """The primitive names of the parameters (then the result, if any) of a function
    whose parameters and result are all integers or bools, else None."""
    names = []
    for ty in [p.type for p in func.params] + ([] if func.result is None else [func.result]):
        ty = t.unalias(ty)
        if not isinstance(ty, t.PrimitiveType) or ty.name not in _LIFT:
            return None
        names.append(ty.name)
    return names


def scalar_import(func: Any) -> bool:
    """Whether the lowered import `func` (a ComponentFunc) gets a scalar entry
    (`CApi.new_host_func(..., scalar=True)`): a host callable taking positional
    arguments, at most `SCALAR_ARGS` parameters, integers and bools only."""
    ftype = func.type
    return (callable(func.extra) and len(ftype.params) <= SCALAR_ARGS
            and _scalar_names(ftype) is not None)


def scalar_import_entry(plan: Any, func: Any, state: Any, name: str) -> Callable[..., int]:
    """The entry `entry(a0, a1, a2) -> result slot` of an import `scalar_import` accepts."""
    if func.call is None:
        def unprovided(a0: int, a1: int, a2: int) -> int:
            raise component_traps.unprovided(name)
        return unprovided
    entry = _scalar_entry(plan, func.extra, state, scalar=True)
    assert entry is not None  # scalar_import said so
    return entry


def _scalar_entry(plan: Any, target: Callable[..., Any], state: Any, *,
                  scalar: bool = False) -> Callable[..., int] | None:
    """The entry of an import whose parameters and result are integers or bools: the
    arguments lifted and the result checked inline (a result out of range goes to the
    plan's lowering for its diagnostic).  None for other signatures.  `scalar`: the
    `entry(a0, a1, a2)` form returning the result slot; else `entry(raw)`."""
    func = plan.func
    names = _scalar_names(func)
    if names is None or plan.flat.params_spilled:
        return None
    if func.result is not None:
        names.pop()
    result = None if func.result is None else t.unalias(func.result)
    lower_result = plan.lower_result
    unchecked = getattr(target, "unchecked", None)
    if unchecked is not None:  # host_result's check, made only when the inline test fails
        result_type, where = func.result, target.where  # type: ignore[attr-defined]

        def bad(v: Any) -> Any:
            check(v, result_type, where)
            if isinstance(v, int) and not isinstance(v, bool):
                v = int(v)  # an int subclass the check accepts (an IntEnum): its value
            return lower_result(v, ())[0]
        target = unchecked
    else:
        def bad(v: Any) -> Any:
            return lower_result(v, ())[0]
    # `bad` raises the diagnostic, or answers the flat value of an unusual but valid result
    env: dict[str, Any] = {"target": target, "bad": bad, "state": state}
    lines = ["def entry(a0, a1, a2):" if scalar else "def entry(raw):"]
    if state.count_entries:
        lines.append("    state.gen += 1")
    slots = [f"a{k}" if scalar else f"raw[{2 * k}]" for k in range(len(names))]
    call = f"target({', '.join(_LIFT[n].format(x=x) for x, n in zip(slots, names))})"
    store = "    return {v}" if scalar else "    raw[0] = {v}"
    if result is None:
        lines.append(f"    {call}")
    elif result == t.BOOL:
        lines += [f"    v = {call}", "    if v.__class__ is not bool: v = bad(v)", store.format(v="1 if v else 0")]
    else:
        assert isinstance(result, t.PrimitiveType)  # _scalar_names said so
        lo, hi = t.INTEGER_RANGES[result]
        # unsigned: one shift tells negatives and values too wide apart from the rest
        in_range = f"v >> {hi.bit_length()}" if lo == 0 else f"not {lo} <= v <= {hi}"
        lines += [f"    v = {call}", f"    if v.__class__ is not int or {in_range}: v = bad(v)",
                  store.format(v="v if v < 0x8000000000000000 else v - 0x10000000000000000") if result == t.U64
                  else store.format(v="v")]
    if result is None or not scalar:
        lines.append("    return 0")
    return define("\n".join(lines) + "\n", env, "host entry")["entry"]


def resource_entry(kind: str, tables: Any, rt: t.ResourceType, *, scalar: bool = False) -> Callable[..., int]:
    """The entry of `resource.new`, `resource.rep` or `resource.drop` over `tables`
    (the argument is a signed i32, as wasmtime's own host functions see it); `scalar`:
    the `entry(a0, a1, a2) -> result` form, else `entry(raw)`."""
    if kind == "resource.new":
        new = tables.adder(rt)
        if scalar:
            def entry_s(a0: int, a1: int, a2: int) -> int:
                return new(((a0 & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return entry_s

        def entry(raw: Any) -> int:
            raw[0] = new(((raw[0] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return 0
    elif kind == "resource.rep":
        rep = tables.rep
        if scalar:
            def entry_s(a0: int, a1: int, a2: int) -> int:
                return rep(rt, ((a0 & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return entry_s

        def entry(raw: Any) -> int:
            raw[0] = rep(rt, ((raw[0] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return 0
    else:
        drop = tables.drop
        if scalar:
            def entry_s(a0: int, a1: int, a2: int) -> int:
                drop(rt, ((a0 & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
                return 0
            return entry_s

        def entry(raw: Any) -> int:
            drop(rt, ((raw[0] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return 0
    return entry
