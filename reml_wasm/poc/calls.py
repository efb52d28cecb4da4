"""PoC step 4: call every PoC function through the router, on both connectors, and compare.

Two routers share one world and one audit log: one routes the interface to the component
(native/poc/poc.wasm), the other to the native build of native/poc/poc.c (built on first
use; when it cannot be built or loaded, that router falls back to the component and says
so).  The same sample calls run on both, in the same order; resource arguments refer to
the counter each connector made.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .. import cabi
from .. import types as t
from .. import wave
from ..call_log import CallLog
from ..router import Router, world_targets
from ..values import Record, Variant
from . import COMPONENT, DEFAULT_OUT, SOURCE

API = "reml:poc/api@0.1.0"
AUDIT_FILE = "audit.jsonl"


class Slot:
    """A resource argument: the handle stored under `name` by an earlier call."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


C1, C2 = Slot("c1"), Slot("c2")

# (function, arguments, slot the result is kept in)
SAMPLES: tuple[tuple[str, tuple[Any, ...], Slot | None], ...] = (
    ("greet", ("Ada",), None),
    ("greet", ("Grüße, 世界",), None),
    ("birthday", (Record(name="Ada", age=36),), None),
    ("birthday", (Record(name="", age=4294967295),), None),
    ("area", (Variant("circle", 2.0),), None),
    ("area", (Variant("square", 1.5),), None),
    ("area", (Variant("point"),), None),
    ("raise", ("low",), None),
    ("raise", ("high",), None),
    ("invert", (frozenset({"read"}),), None),
    ("invert", (frozenset(),), None),
    ("scale", ([1, -2, 3, 2147483647], 2), None),
    ("reverse-bytes", (b"\x00\x01\xfe\xff",), None),
    ("reverse-bytes", (b"",), None),
    ("find", (["ant", "bee", "cat"], "bee"), None),
    ("find", ([], "bee"), None),
    ("parse-level", ("medium",), None),
    ("parse-level", ("loud",), None),
    ("[constructor]counter", (40,), C1),
    ("[method]counter.add", (C1, 2), None),
    ("[method]counter.get", (C1,), None),
    ("peek", (C1,), None),
    ("live-counters", (), None),
    ("finish", (C1,), None),
    ("live-counters", (), None),
    ("[constructor]counter", (-7,), C2),
    ("[resource-drop]counter", (C2,), None),
    ("live-counters", (), None),
)


@dataclass
class CallRow:
    """One sample call on both connectors."""

    function: str
    arguments: str
    component: str
    native: str
    equal: bool
    component_ns: int
    native_ns: int


@dataclass
class CallReport:
    rows: list[CallRow]
    native_connector: str            # the connector that served the "native" column
    notes: list[str]                 # fallbacks, in words

    @property
    def mismatches(self) -> int:
        return sum(not r.equal for r in self.rows)


def routers(world: t.World, log: CallLog, notes: list[str], source: Path = SOURCE) -> tuple[Router, Router]:
    """(component router, native router); the native one falls back to the component."""
    def note(diag: Any) -> None:
        notes.append(diag.message)

    comp = Router(world, {"component": str(COMPONENT), "prefer": "component", "fallback": False}, audit=log)
    native = Router(world, {"source": str(source), "component": str(COMPONENT), "prefer": "native",
                            "fallback": True}, audit=log, on_diagnostic=note)
    return comp, native


def same(a: Any, b: Any) -> bool:
    """Equal results: floats equal or both NaN; resources equal when both are live owns."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, cabi.Resource) or isinstance(b, cabi.Resource) or type(a).__name__ == "RefResource":
        return type(a) is type(b) and a.own == b.own
    return bool(a == b)


def text(value: Any, typ: t.Type | None) -> str:
    """A value in WAVE (resources as `<own counter>`)."""
    if typ is None:
        return "()"
    inner = t.unalias(typ)
    if isinstance(inner, (t.OwnType, t.BorrowType)):
        return f"<{'own' if isinstance(inner, t.OwnType) else 'borrow'} {inner.resource.name}>"
    return wave.print_value(value, typ)


def _args_text(func: t.Function | None, args: Sequence[Any]) -> str:
    if func is None:
        return ", ".join(f"<own {a.name}>" if isinstance(a, Slot) else repr(a) for a in args)
    return ", ".join(f"<{p.type.wit()} {a.name}>" if isinstance(a, Slot) else text(a, p.type)
                     for p, a in zip(func.params, args))


def _call(router: Router, key: str, args: Sequence[Any], slots: dict[str, Any]) -> tuple[Any, int]:
    real = [slots[a.name] if isinstance(a, Slot) else a for a in args]
    fn = router.bind(key)
    start = time.perf_counter_ns()
    value = fn(*real)
    return value, time.perf_counter_ns() - start


def run_calls(world: t.World, out: Path, source: Path = SOURCE) -> CallReport:
    """Run every sample on both connectors (the native one built from `source`); the audit
    log goes to out/audit.jsonl."""
    targets = world_targets(world)
    audit_path = out / AUDIT_FILE
    if audit_path.exists():
        audit_path.unlink()
    log = CallLog(audit_path)
    notes: list[str] = []
    comp, native = routers(world, log, notes, source)
    rows: list[CallRow] = []
    slots = {"component": {}, "native": {}}  # type: dict[str, dict[str, Any]]
    try:
        for name, args, keep in SAMPLES:
            key = f"{API}#{name}"
            func = targets[key].function
            result_type = None if func is None else func.result
            cv, cns = _call(comp, key, args, slots["component"])
            nv, nns = _call(native, key, args, slots["native"])
            if keep is not None:
                slots["component"][keep.name], slots["native"][keep.name] = cv, nv
            rows.append(CallRow(name, _args_text(func, args), text(cv, result_type), text(nv, result_type),
                                same(cv, nv), cns, nns))
        served_by = native.connector_for(f"{API}#greet")
    finally:
        comp.close()
        native.close()
        log.close()
    return CallReport(rows, served_by, notes)


def main() -> int:
    """`python poc/04_call_both.py [OUT]`: the comparison, as a table."""
    from .parse import parse
    from .report import summary_table
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    report = run_calls(parse(), out)
    for note in report.notes:
        print(f"note: {note}")
    print(summary_table(report))
    return 1 if report.mismatches else 0
