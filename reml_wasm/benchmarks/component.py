"""`reml-wasm bench component`: ns per call, wasmtime-py's component calls (the reference
path) against the fast path, side by side in one run, with the ratio.

The guest is native/ctest/ctest.c (wit/ctest/ctest.wit), built by reml_wasm.toolchain.
Goals (issue 5): at least 20x on scalar calls, at least 50x on list<u32> of 1k.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

import wasmtime
import wasmtime.component as wc

from . import Table, ns_per_call
from .. import toolchain
from ..connectors.component import Component
from ..values import Record, to_wasmtime

CTEST_WIT = toolchain.PROJECT_ROOT / "wit" / "ctest" / "ctest.wit"
CTEST_SOURCE = toolchain.PROJECT_ROOT / "native" / "ctest" / "ctest.c"

ROUNDS = 3
GOALS = {"add(s32, s32)": 20.0, "list<u32> echo 1k": 50.0}


def build_ctest() -> Any:
    return toolchain.build_component([CTEST_SOURCE], CTEST_WIT, "ctest")


def cases() -> list[tuple[str, str, tuple]]:
    pair = Record(id=7, name="seven", weight=7.5, tags=["a", "bb", "ccc"])
    return [
        ("add(s32, s32)", "add", (1, 2)),
        ("string echo 10 B", "echo", ("x" * 10,)),
        ("string echo 1 KB", "echo", ("x" * 1000,)),
        ("string echo 100 KB", "echo", ("x" * 100_000,)),
        ("list<u32> echo 1k", "echo-list", (list(range(1000)),)),
        ("record echo", "echo-pair", (pair,)),
    ]


def _raw_wasmtime(comp: Component) -> Callable[[str, tuple], Callable[[], Any]]:
    """wasmtime-py used directly (its own value classes, prepared outside the timing):
    the baseline the issue measures."""
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    wcomp = wc.Component(engine, comp.data)
    linker = wc.Linker(engine)
    linker.define_unknown_imports_as_traps(wcomp)
    instance = linker.instantiate(store, wcomp)

    def make(name: str, call_args: tuple) -> Callable[[], Any]:
        func = comp.world.export(name).function  # type: ignore[union-attr]
        f = instance.get_func(store, name)
        wargs = [to_wasmtime(a, p.type) for a, p in zip(call_args, func.params)]
        return lambda: f(store, *wargs)
    return make


def run(args: argparse.Namespace) -> int:
    comp = Component.from_file(build_ctest())
    raw = _raw_wasmtime(comp)
    ref = comp.instantiate(path="wasmtime")
    fast = comp.instantiate(path="fast")
    table = Table("component calls, ns per call: wasmtime-py (its own values) / our reference path "
                  "(wasmtime.component + value conversion) / fast path",
                  ["call", "wasmtime-py", "reference path", "fast path", "speed-up", "goal"])
    if fast.path != "fast":
        table.notes.extend(d.message for d in fast.diagnostics)
    for label, name, call_args in cases():
        f_ref: Callable[..., Any] = ref.func(name)
        f_fast: Callable[..., Any] = fast.func(name)
        if _plain(f_fast(*call_args)) != _plain(f_ref(*call_args)):
            table.notes.append(f"{label}: results differ between the paths")
        timed = (raw(name, call_args), lambda: f_ref(*call_args), lambda: f_fast(*call_args))
        a, r, b = (min(col) for col in zip(*(
            [ns_per_call(fn, quick=args.quick) for fn in timed] for _ in range(1 if args.quick else ROUNDS))))
        goal = GOALS.get(label)
        table.add(label, a, r, b, f"{a / b:.1f}x", "" if goal is None else f">= {goal:.0f}x")
    table.notes.append("speed-up = wasmtime-py / fast path; each figure is the lowest of "
                       f"{1 if args.quick else ROUNDS} interleaved rounds of ns_per_call medians "
                       "(the machine is shared: the least disturbed round is the one to compare)")
    table.print(getattr(args, "json", False))
    return 0


def _plain(v: Any) -> Any:
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Record):
        return {k: _plain(x) for k, x in v.fields().items()}
    return v
