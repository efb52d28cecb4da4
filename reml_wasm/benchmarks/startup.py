"""`reml-wasm bench startup`: wall time of fresh processes, ms (median of several runs).

Rows: `python -c pass` (the interpreter alone, the baseline of every other row), the
`reml-wasm` command line's `--help` (`python -m reml_wasm`), and process start to the
first call of an export on a small component (native/ctest, on the fast path; the
component is built once before timing, its compiled form is not cached across
processes).  Each row is run in a new process from the interpreter running the bench,
with bytecode caching on (PYTHONDONTWRITEBYTECODE removed), as a user's processes run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Sequence

from . import Table

RUNS = 9
# as a user's processes run: bytecode of imported modules is written once and read after
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GOAL_FIRST_CALL_MS = 150.0

FIRST_CALL = """
import sys
from reml_wasm.connectors.component import Component
inst = Component.from_file(sys.argv[1]).instantiate()
assert inst.path == "fast", inst.diagnostics
assert inst.call("add", 1, 2) == 3
"""


def wall_ms(cmd: Sequence[str], runs: int) -> list[float]:
    """Wall-clock milliseconds of `runs` runs of `cmd` (each must exit 0)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_ENV)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def rows() -> list[tuple[str, list[str], str]]:
    """(label, command, goal) of every row; more command-line rows go here."""
    from .component import build_ctest

    py = sys.executable
    ctest = str(build_ctest())
    return [
        ("python -c pass", [py, "-c", "pass"], ""),
        ("reml-wasm --help", [py, "-m", "reml_wasm", "--help"], ""),
        ("first call: ctest add() on the fast path", [py, "-c", FIRST_CALL, ctest],
         f"<= {GOAL_FIRST_CALL_MS:.0f} ms"),
    ]


def run(args: argparse.Namespace) -> int:
    runs = 3 if getattr(args, "quick", False) else RUNS
    cases = rows()
    wall_ms(cases[-1][1], 1)  # warm: the wasmtime binding's compiled module and its cache index
    samples: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(runs):  # interleaved, one run of each per round
        for label, cmd, _ in cases:
            samples[label] += wall_ms(cmd, 1)
    base = statistics.median(samples[cases[0][0]])
    table = Table(f"process start-up, ms (median of {runs} runs each, interleaved)",
                  ["process", "median ms", "min ms", "over python -c pass", "goal"])
    for label, _, goal in cases:
        med = statistics.median(samples[label])
        table.add(label, med, min(samples[label]), med - base, goal)
    table.notes.append("the first-call row includes importing wasmtime-py and the package, reading and "
                       "parsing the component, compiling its core modules with wasmtime, instantiating "
                       "and one call")
    table.print(getattr(args, "json", False))
    return 0
