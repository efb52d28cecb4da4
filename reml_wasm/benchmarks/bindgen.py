"""`reml-wasm bench bindgen`: the whole reml-bindgen run on sqlite3.h (goal: under 2 s).

Stages are timed separately (preprocess, parse + C model, plan + emit, layout probe) and
the full CLI run end to end, writing its outputs to a temporary directory."""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar, cast

from . import Table
from ..bindgen import reml_emit
from ..bindgen.extract import extract
from ..bindgen.layout_check import verify
from ..bindgen.plan import plan
from ..bindgen.preprocess import preprocess
from ..cli.bindgen_tool import main as bindgen_main

HEADER = Path("/usr/include/sqlite3.h")
GOAL_S = 2.0


_T = TypeVar("_T")


def _time(fn: Callable[[], _T], repeat: int) -> tuple[float, _T]:
    samples: list[float] = []
    result: _T | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000, cast(_T, result)  # repeat >= 1: `fn` has run


def run(args: argparse.Namespace) -> int:
    if not HEADER.is_file():
        print(f"{HEADER} is missing: apt-get install libsqlite3-dev")
        return 1
    repeat = 1 if args.quick else 5
    table = Table(f"reml-bindgen on {HEADER} (median of {repeat})", ["stage", "ms"])
    pp_ms, unit = _time(lambda: preprocess([HEADER], [], []), repeat)
    table.add("preprocess (cc -E -dD)", pp_ms)
    parse_ms, model = _time(lambda: extract(unit, (str(HEADER),)), repeat)
    table.add("parse + C model (pycparser)", parse_ms)
    emit_ms, p = _time(lambda: plan(model), repeat)
    text_ms, _ = _time(lambda: reml_emit.render(p, "sqlite3"), repeat)
    table.add("plan + .reml text", emit_ms + text_ms)
    probe_ms, _ = _time(lambda: verify(model, [r.struct for r in p.records], [HEADER], [], []),
                        repeat)
    table.add("layout probe (cc, --verify-layout)", probe_ms)
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--header", str(HEADER), "--output", f"{tmp}/sqlite3.reml",
                "--manifest", f"{tmp}/bindings.manifest.json"]

        def whole(extra: list[str]) -> int:
            with contextlib.redirect_stdout(io.StringIO()):
                return bindgen_main(argv + extra)
        full_ms, rc = _time(lambda: whole([]), repeat)
        verify_ms, rc2 = _time(lambda: whole(["--verify-layout"]), repeat)
    if rc != 0 or rc2 != 0:
        print("reml-bindgen failed on sqlite3.h")
        return 1
    table.add("whole run (reml-bindgen CLI)", full_ms)
    table.add("whole run with --verify-layout", verify_ms)
    verdict = "meets" if verify_ms / 1000 < GOAL_S else "MISSES"
    table.notes.append(f"{len(model.functions)} functions, {len(p.records)} records, "
                       f"{len(model.macros)} constants; whole run with layout check "
                       f"{verify_ms / 1000:.2f} s: {verdict} the {GOAL_S:.0f} s goal")
    table.print(args.json)
    return 0
