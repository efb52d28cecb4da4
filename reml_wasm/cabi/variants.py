"""Variant-like codecs (variant, enum, option, result) as generated Python source.

The cases are unrolled: reading a value is one discriminant test per case up to the
right one, then the payload's own codec and the host value built in place (a
`Variant`, `Ok`/`Err`, the payload itself for a plain option, the label for an enum);
lowering dispatches on the value's class.  No per-call type tests of the variant's kind.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .. import types as t
from ..values import SET_TAG, SET_VALUE, Err, Ok, Some, Variant, nests_option
from .errors import Trap
from .generated import define


def _make(ty: t.Type, d: int, payload: str, indent: str) -> list[str]:
    """Lines returning case `d`'s host value built from the expression `payload`."""
    if isinstance(ty, t.VariantType):
        return [f"{indent}v = new(Variant)", f"{indent}set_tag(v, {ty.cases[d].name!r})",
                f"{indent}set_variant_value(v, {payload})", f"{indent}return v"]
    if isinstance(ty, t.OptionType):
        if d == 0:
            return [f"{indent}return None"]
        return [f"{indent}return Some({payload})" if nests_option(ty) else f"{indent}return {payload}"]
    if isinstance(ty, t.ResultType):
        cls = "Ok" if d == 0 else "Err"
        return [f"{indent}v = new({cls})", f"{indent}set_{cls.lower()}_value(v, {payload})", f"{indent}return v"]
    return [f"{indent}return mk{d}({payload})"]


def readers(ty: t.Type, n: int, disc_size: int, payload_offset: int, loads: Sequence[Any],
            lifts: Sequence[Any], makers: Sequence[Callable[[Any], Any]], dunpack: Any,
            core: Callable[[Any, str], Any]) -> tuple[Callable, Callable]:
    """(load(view, p), lift(f, i)) of a variant-like type: `loads[d]` (None without a
    payload) and `lifts[d]` are the cases' payload readers, `makers[d]` the general
    value builders (used for kinds not written out here)."""
    wit = ty.wit()
    env: dict[str, Any] = {"new": object.__new__, "Variant": Variant, "Ok": Ok, "Err": Err, "Some": Some,
                           "set_tag": SET_TAG, "set_variant_value": SET_VALUE[Variant],
                           "set_ok_value": SET_VALUE[Ok], "set_err_value": SET_VALUE[Err],
                           "Trap": Trap, "dunpack": dunpack, "core": core}
    for d in range(n):
        env[f"ld{d}"], env[f"lf{d}"], env[f"mk{d}"] = loads[d], lifts[d], makers[d]

    def bad(d: int) -> None:
        raise Trap(f"discriminant {d} is out of range for {wit} ({n} cases)", discriminant=d)
    env["bad"] = bad
    read = "view[p]" if disc_size == 1 else "dunpack(view, p)[0]"
    load = ["def load(view, p):", f"    d = {read}"]
    lift = ["def lift(f, i):", "    d = f[i]", "    if type(d) is not int:", "        d = core(d, 'i32')",
            "    d &= 0xFFFFFFFF"]
    if isinstance(ty, t.EnumType):
        env["LABELS"] = tuple(ty.cases)
        for lines in (load, lift):
            lines += [f"    if d < {n}:", "        return LABELS[d]", "    bad(d)"]
    else:
        for d in range(n):
            load.append(f"    if d == {d}:")
            load += _make(ty, d, "None" if loads[d] is None else f"ld{d}(view, p + {payload_offset})", "        ")
            lift.append(f"    if d == {d}:")
            lift += _make(ty, d, f"lf{d}(f, i + 1)", "        ")
        load.append("    bad(d)")
        lift.append("    bad(d)")
    scope = define("\n".join(load + lift) + "\n", env, "variant codec")
    return scope["load"], scope["lift"]


# a payload's flat value widened into its variant slot: (have, slot) -> expression of x
_WIDEN = {("f32", "i32"): "wrap_signed(f32_bits({x}), 32)", ("f32", "i64"): "f32_bits({x})",
          ("f64", "i64"): "wrap_signed(f64_bits({x}), 64)", ("i32", "i64"): "({x} & 0xFFFFFFFF)"}


def case_lowerer(clower: Callable[[Any, list], None], have: Sequence[str], slots: Sequence[str],
                 padding: Sequence[Any]) -> Callable[[Any, list], None]:
    """lower(payload, out) of one case: the payload's flat values widened into the
    variant's joined slots (spec: the same coercions as `lower.to_slot`), then padding."""
    from .numbers import f32_bits, f64_bits, wrap_signed
    rest = list(padding[len(have):])
    if all(h == s for h, s in zip(have, slots)):
        if not rest:
            return clower
        env: dict[str, Any] = {"clower": clower, "REST": rest}
        src = "def lw(v, out):\n    clower(v, out)\n    out.extend(REST)\n"
        return define(src, env, "variant case lowering")["lw"]
    env = {"clower": clower, "REST": rest, "f32_bits": f32_bits, "f64_bits": f64_bits, "wrap_signed": wrap_signed}
    lines = ["def lw(v, out):", "    tmp = []", "    clower(v, tmp)"]
    for k, (h, s) in enumerate(zip(have, slots)):
        x = f"tmp[{k}]"
        lines.append(f"    out.append({x if h == s else _WIDEN[(h, s)].format(x=x)})")
    if rest:
        lines.append("    out.extend(REST)")
    return define("\n".join(lines) + "\n", env, "variant case lowering")["lw"]


def lowerer(ty: t.Type, lowers: Sequence[Any], general: Callable[[Any, list], None]) -> Callable[[Any, list], None]:
    """lower(value, out) dispatching on the value's class; `lowers[d]` appends case d's
    payload (and padding); `general` handles everything else (and raises for bad values).
    A value with an unknown tag or label raises KeyError (the plans report it)."""
    env: dict[str, Any] = {"Variant": Variant, "Ok": Ok, "Err": Err, "Some": Some, "general": general}
    for d, lw in enumerate(lowers):
        env[f"lw{d}"] = lw
    lines = ["def lower(v, out):"]
    if isinstance(ty, t.OptionType) and not nests_option(ty):
        lines += ["    if v is None:", "        out.append(0)", "        lw0(None, out)", "        return",
                  "    out.append(1)", "    lw1(v.value if v.__class__ is Some else v, out)"]
    elif isinstance(ty, t.ResultType):
        lines += ["    c = v.__class__", "    if c is Ok:", "        out.append(0)", "        lw0(v.value, out)",
                  "    elif c is Err:", "        out.append(1)", "        lw1(v.value, out)", "    else:",
                  "        general(v, out)"]
    elif isinstance(ty, t.VariantType):
        env["INDEX"] = {c.name: d for d, c in enumerate(ty.cases)}
        env["LOWERS"] = tuple(lowers)
        lines += ["    if v.__class__ is not Variant:", "        return general(v, out)", "    d = INDEX[v.tag]",
                  "    out.append(d)", "    LOWERS[d](v.value, out)"]
    elif isinstance(ty, t.EnumType):
        env["INDEX"] = {label: d for d, label in enumerate(ty.cases)}
        lines += ["    out.append(INDEX[v])"]
    else:
        return general
    return define("\n".join(lines) + "\n", env, "variant lowering")["lower"]
