"""`reml-wasm bench bindgen`: the whole reml-bindgen run on sqlite3.h (goal: under 2 s).

Stages (preprocess, parse + C model, plan + emit, layout probe) and the full CLI run end
to end (writing its outputs to a temporary directory) are timed in interleaved rounds;
figures are medians with their spread, and the goal is judged on this run's median."""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from pathlib import Path
from typing import Callable

from . import Table, interleaved, spread, verdict
from ..bindgen import reml_emit
from ..bindgen.extract import extract
from ..bindgen.layout_check import verify
from ..bindgen.plan import plan
from ..bindgen.preprocess import preprocess
from ..cli.bindgen_tool import main as bindgen_main

HEADER = Path("/usr/include/sqlite3.h")
GOAL_S = 2.0


def run(args: argparse.Namespace) -> int:
    if not HEADER.is_file():
        print(f"{HEADER} is missing: apt-get install libsqlite3-dev")
        return 1
    quick = bool(getattr(args, "quick", False))
    rounds = 5
    unit = preprocess([HEADER], [], [])
    model = extract(unit, (str(HEADER),))
    p = plan(model)
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--header", str(HEADER), "--output", f"{tmp}/sqlite3.reml",
                "--manifest", f"{tmp}/bindings.manifest.json"]
        status: list[int] = []

        def whole(extra: list[str]) -> Callable[[], None]:
            def run_cli() -> None:
                with contextlib.redirect_stdout(io.StringIO()):
                    status.append(bindgen_main(argv + extra))
            return run_cli
        pp, parse, emit, probe, full, checked = interleaved([
            lambda: preprocess([HEADER], [], []),
            lambda: extract(unit, (str(HEADER),)),
            lambda: reml_emit.render(plan(model), "sqlite3"),
            lambda: verify(model, [r.struct for r in p.records], [HEADER], [], []),
            whole([]), whole(["--verify-layout"])], rounds=rounds, quick=quick, single=True,
            label="reml-bindgen stages")
    if any(status):
        print("reml-bindgen failed on sqlite3.h")
        return 1
    table = Table(f"reml-bindgen on {HEADER}, ms, medians of interleaved rounds",
                  ["stage", "ms", "spread", "goal"])
    table.add("preprocess (cc -E -dD)", pp.median / 1e6, spread(pp), "-")
    table.add("parse + C model (pycparser)", parse.median / 1e6, spread(parse), "-")
    table.add("plan + .reml text", emit.median / 1e6, spread(emit), "-")
    table.add("layout probe (cc, --verify-layout)", probe.median / 1e6, spread(probe), "-")
    table.add("whole run (reml-bindgen CLI)", full.median / 1e6, spread(full), "-")
    table.add("whole run with --verify-layout", checked.median / 1e6, spread(checked),
              f"< {GOAL_S:g} s: {verdict(checked.median / 1e9, GOAL_S)}")
    table.notes.append(f"{len(model.functions)} functions, {len(p.records)} records, {len(model.macros)} constants; "
                       f"{1 if quick else rounds} rounds, each stage once per round in turn (after one untimed run); "
                       "the goal is judged on this run's median")
    table.print(args.json)
    return 0
