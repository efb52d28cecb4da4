"""Generated bodies of the fast path's host functions: `entry(raw) -> 0`.

`raw` is the `int64_t *` view of the call's 16-byte value slots (slot k is `raw[2 * k]`):
an i32 argument is the low half of its slot (masked here: the upper half is not
specified), an i64 the whole slot, floats are read through a `float *` / `double *`
view made only for signatures that have them.  Results are written to slot 0.  The
Canonical ABI work is the import plan's (lift the arguments, lower the result: every
value a host function returns is checked there), so an entry adds one Python call per
host call to the floor of a C callback.
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


# inline lifting of a scalar argument from its slot, by type
_LIFT = {
    "u8": "(raw[{k}] & 0xFF)", "u16": "(raw[{k}] & 0xFFFF)", "u32": "(raw[{k}] & 0xFFFFFFFF)",
    "u64": "(raw[{k}] & 0xFFFFFFFFFFFFFFFF)", "s64": "raw[{k}]",
    "s8": "(((raw[{k}] & 0xFF) ^ 0x80) - 0x80)", "s16": "(((raw[{k}] & 0xFFFF) ^ 0x8000) - 0x8000)",
    "s32": "(((raw[{k}] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)", "bool": "((raw[{k}] & 0xFFFFFFFF) != 0)",
}


def _scalar_entry(plan: Any, target: Callable[..., Any], state: Any) -> Callable[[Any], int] | None:
    """The entry of an import whose parameters and result are integers or bools: the
    arguments lifted and the result checked inline (a result out of range goes to the
    plan's lowering for its diagnostic).  None for other signatures."""
    func = plan.func
    names = []
    for p in func.params:
        ty = t.unalias(p.type)
        if not isinstance(ty, t.PrimitiveType) or ty.name not in _LIFT:
            return None
        names.append(ty.name)
    result = None if func.result is None else t.unalias(func.result)
    if result is not None and (not isinstance(result, t.PrimitiveType) or result.name not in _LIFT):
        return None
    if plan.flat.params_spilled:
        return None
    lower_result = plan.lower_result
    unchecked = getattr(target, "unchecked", None)
    if unchecked is not None:  # host_result's check, made only when the inline test fails
        result_type, where = func.result, target.where  # type: ignore[attr-defined]

        def bad(v: Any) -> None:
            check(v, result_type, where)
            lower_result(v, ())
        target = unchecked
    else:
        def bad(v: Any) -> None:
            lower_result(v, ())
    env: dict[str, Any] = {"target": target, "bad": bad, "state": state}
    lines = ["def entry(raw):"]
    if state.count_entries:
        lines.append("    state.gen += 1")
    call = f"target({', '.join(_LIFT[n].format(k=2 * k) for k, n in enumerate(names))})"
    if result is None:
        lines.append(f"    {call}")
    elif result == t.BOOL:
        lines += [f"    v = {call}", "    if v.__class__ is not bool: bad(v)",
                  "    raw[0] = 1 if v else 0"]
    else:
        lo, hi = t.INTEGER_RANGES[result]
        lines += [f"    v = {call}", f"    if v.__class__ is not int or not {lo} <= v <= {hi}: bad(v)",
                  "    raw[0] = v if v < 0x8000000000000000 else v - 0x10000000000000000" if result == t.U64
                  else "    raw[0] = v"]
    lines.append("    return 0")
    return define("\n".join(lines) + "\n", env, "host entry")["entry"]


def resource_entry(kind: str, tables: Any, rt: t.ResourceType) -> Callable[[Any], int]:
    """The entry of `resource.new`, `resource.rep` or `resource.drop` over `tables`
    (the argument is a signed i32, as wasmtime's own host functions see it)."""
    if kind == "resource.new":
        new = tables.adder(rt)

        def entry(raw: Any) -> int:
            raw[0] = new(((raw[0] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return 0
    elif kind == "resource.rep":
        rep = tables.rep

        def entry(raw: Any) -> int:
            raw[0] = rep(rt, ((raw[0] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return 0
    else:
        drop = tables.drop

        def entry(raw: Any) -> int:
            drop(rt, ((raw[0] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)
            return 0
    return entry
