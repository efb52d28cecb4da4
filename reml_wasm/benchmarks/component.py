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
    if getattr(args, "startup", False):
        return run_startup(args)
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


# --- start-up: first vs cached `reml-wasm call` -------------------------------------------

STARTUP_GOAL_SECONDS = 1.0


def build_python_guest() -> Any:
    """The componentize-py build of wit/wasi-real (an ~18 MB component)."""
    root = toolchain.PROJECT_ROOT
    return toolchain.build_python_component(root / "native" / "wasi-real" / "py", "app",
                                            root / "wit" / "wasi-real", "real")


def _timed_call(wasm: Any, path: str, cache_dir: str) -> tuple[float, str]:
    """Wall-clock seconds of one `reml-wasm call` process (interpreter start included)."""
    import os
    import subprocess
    import sys
    import time

    env = dict(os.environ, REML_WASM_CACHE=cache_dir)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "call", "--allow-wasi", "--path", path, str(wasm),
                           'api#greet("bench")'], capture_output=True, text=True, env=env,
                          cwd=str(toolchain.PROJECT_ROOT), timeout=900)
    elapsed = time.perf_counter() - t0
    return elapsed, proc.stdout.strip() if proc.returncode == 0 else f"failed: {proc.stderr.strip()[-200:]}"


def run_startup(args: argparse.Namespace) -> int:
    """`reml-wasm bench component --startup`: seconds of a first `reml-wasm call` on the
    componentize-py component (empty compiled cache: wasmtime compiles) and of the second
    one (compiled code loaded from the cache), per path, in one run."""
    import tempfile

    wasm = build_python_guest()
    size = wasm.stat().st_size / 1e6
    table = Table(f"reml-wasm call start-up, seconds per process: componentize-py component ({size:.1f} MB)",
                  ["path", "first (compiles)", "second (cached)", "speed-up", "goal"])
    for path in ("fast", "wasmtime"):
        with tempfile.TemporaryDirectory(prefix="reml-wasm-startup-") as cache_dir:
            first, out1 = _timed_call(wasm, path, cache_dir)
            second, out2 = _timed_call(wasm, path, cache_dir)
        if out1 != out2 or out1.startswith("failed"):
            table.notes.append(f"{path}: outputs differ or failed: {out1!r} / {out2!r}")
        table.add(path, first, second, f"{first / second:.1f}x", f"second <= {STARTUP_GOAL_SECONDS:.0f} s")
    table.notes.append("each figure is one process (python -m reml_wasm call --allow-wasi ... "
                       "'api#greet(\"bench\")'), interpreter start-up included; the compiled cache starts empty")
    table.print(getattr(args, "json", False))
    return 0
