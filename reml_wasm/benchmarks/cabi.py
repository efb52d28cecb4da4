"""`reml-wasm bench cabi`: lower + lift cost of the compiled Canonical ABI plans over a
wasmtime linear memory, with the guest's own realloc (a bump allocator in wasm).

Each row lowers a value as the argument of an export `echo: func(v: T) -> T`
(ExportPlan.lower_args: realloc in the guest, copy into its memory) and lifts the same
flat values back as the arguments of an import `take: func(v: T)` (ImportPlan.lift_args:
copy out of guest memory).  MB/s counts the
payload bytes (string bytes in UTF-8, list element bytes) once per lower + lift.
"""

from __future__ import annotations

import argparse
import array
from typing import Any, Callable, cast

import wasmtime

from .. import types as t
from ..cabi import CanonicalOptions, export_plan, import_plan
from ..connectors.component.fast import CoreSession
from ..connectors.component.sandbox import make_engine
from ..values import Record
from . import Table, Timing, interleaved, spread


def timing_mbps(nbytes: int, timing: Timing) -> Any:
    """Payload megabytes per second at the median, or "-" for a value without a payload."""
    return nbytes / timing.median * 1e3 if nbytes else "-"

# A bump allocator as the guest's cabi_realloc (growing memory as it must); tests of the
# engine over wasmtime embed it in their own modules.
BUMP_REALLOC_WAT = r"""
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (block $done (loop $grow
      (br_if $done (i32.le_u (global.get $top) (i32.mul (memory.size) (i32.const 65536))))
      (drop (memory.grow (i32.const 16)))
      (br $grow)))
    (local.get $p))
  (func (export "reset") (global.set $top (i32.const 1024)))
"""

BUMP_WAT = f"(module {BUMP_REALLOC_WAT})"

FIVE = t.RecordType("five", (t.Field("id", t.U32), t.Field("score", t.F64), t.Field("delta", t.S16),
                             t.Field("live", t.BOOL), t.Field("stamp", t.U64)))


def _cases() -> list[tuple[str, t.Type, Any, int]]:
    def text(n: int) -> str:
        return ("reml wasm " * (n // 10 + 1))[:n]

    u32_1k, u32_100k = list(range(1000)), list(range(100_000))
    return [
        ("string 10 B", t.STRING, text(10), 10),
        ("string 1 KB", t.STRING, text(1024), 1024),
        ("string 100 KB", t.STRING, text(100 * 1024), 100 * 1024),
        ("list<u32> 1k (list)", t.ListType(t.U32), u32_1k, 4000),
        ("list<u32> 100k (list)", t.ListType(t.U32), u32_100k, 400_000),
        ("list<u32> 100k (NumberList)", t.ListType(t.U32), array.array("I", u32_100k), 400_000),
        ("list<u8> 1 MB (bytes)", t.ListType(t.U8), bytes(range(256)) * 4096, 1 << 20),
        ("record, 5 fields", FIVE, Record(id=7, score=2.5, delta=-3, live=True, stamp=1 << 40), 0),
    ]


def run(args: argparse.Namespace) -> int:
    engine = make_engine((False, False))  # as the component connector's: memories never move
    store = wasmtime.Store(engine)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, BUMP_WAT), [])
    ex = inst.exports(store)
    fast = CoreSession(store)
    # the exports of BUMP_WAT: two functions and the memory
    reset = fast.func(cast(wasmtime.Func, ex["reset"]))
    opts = CanonicalOptions(memory=fast.memory(cast(wasmtime.Memory, ex["memory"])),
                            realloc=fast.func(cast(wasmtime.Func, ex["cabi_realloc"])))
    table = Table("Canonical ABI: lower + lift over a wasmtime memory (compiled plans), ns per call, "
                  "medians of interleaved rounds",
                  ["value", "ns/call", "spread", "MB/s", "goal"])
    rows: list[tuple[str, int, Callable[[], None]]] = []
    for label, ty, value, nbytes in _cases():
        lower = export_plan(t.Function("echo", (t.Param("v", ty),), ty), opts)
        lift = import_plan(t.Function("take", (t.Param("v", ty),)), opts)

        def once(lower: Any = lower, lift: Any = lift, value: Any = value) -> None:
            lift.lift_args(lower.lower_args([value]))
            reset()

        back = lift.lift_args(lower.lower_args([value]))[0]
        reset()
        assert back == value, f"{label}: round trip changed the value"
        rows.append((label, nbytes, once))
    timings = interleaved([once for _, _, once in rows], quick=args.quick, label="lower + lift")
    for (label, nbytes, _), timing in zip(rows, timings):
        table.add(label, timing.median, spread(timing), timing_mbps(nbytes, timing), "-")
    table.notes.append("each call includes one guest realloc per string/list and one allocator reset "
                       "(core calls and memory through the fast path's binding, connectors.component.fast.CoreSession, "
                       "on an engine of the component connector)")
    table.notes.append("no goal was set for these figures (goal column '-'); they show the engine's cost per "
                       "value kind and size")
    table.notes.append("(list) rows convert a Python list of ints; (NumberList) rows pass what a lift returns")
    table.print(args.json)
    return 0
