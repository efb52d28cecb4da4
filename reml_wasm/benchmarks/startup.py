"""`reml-wasm bench startup`: process start-up of every console script, and of a first call.

Each console script's `--version` and `--help`, run as a process, next to the bare
interpreter (`python -c pass`) in the same run; the goal is at most 0.2 s more than the
bare interpreter for each.  The last row is process start to the first call of an export
on a small component (native/ctest on the fast path, built before timing); its goal is
150 ms in all.  Processes run with bytecode caching on (PYTHONDONTWRITEBYTECODE removed),
as a user's processes do.  Figures are medians (and spread) of interleaved rounds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from . import USER_ENV, Table, verdict

GOAL_EXTRA_S = 0.2
GOAL_FIRST_CALL_S = 0.15
FIRST_CALL = """
import sys
from reml_wasm.connectors.component import Component
inst = Component.from_file(sys.argv[1]).instantiate()
assert inst.path == "fast", inst.diagnostics
assert inst.call("add", 1, 2) == 3
"""
SCRIPTS = (("reml-wasm", "reml_wasm"), ("reml-bindgen", "reml_wasm.cli.bindgen_tool"),
           ("reml-plugin-tester", "reml_wasm.cli.plugin_tester"))


def _command(script: str, module: str) -> list[str]:
    """The console script installed next to this interpreter, or `python -m` of its module."""
    installed = Path(sys.executable).parent / script
    return [str(installed)] if installed.exists() else [sys.executable, "-m", module]


def _seconds(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=USER_ENV)
    return time.perf_counter() - t0


FIRST_CALL_LABEL = "first call: ctest add() on the fast path"


def first_call_command() -> list[str]:
    """A new process that instantiates a small component and calls one export."""
    from .component import build_ctest
    return [sys.executable, "-c", FIRST_CALL, str(build_ctest())]


def wall_ms(cmd: list[str], runs: int) -> list[float]:
    """Wall-clock milliseconds of `runs` runs of `cmd`."""
    return [_seconds(cmd) * 1000 for _ in range(runs)]


def run(args: argparse.Namespace) -> int:
    rounds = 3 if args.quick else 11
    cases: list[tuple[str, list[str]]] = [("python -c pass", [sys.executable, "-c", "pass"])]
    for script, module in SCRIPTS:
        for flag in ("--version", "--help"):
            cases.append((f"{script} {flag}", [*_command(script, module), flag]))
    cases.append((FIRST_CALL_LABEL, first_call_command()))
    _seconds(cases[-1][1])  # warm: the binding's compiled module, generated code, compiled modules
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(rounds):
        for i, (_, cmd) in enumerate(cases):
            samples[i].append(_seconds(cmd))
    medians = [sorted(s)[len(s) // 2] for s in samples]
    bare = medians[0]
    table = Table("process start-up, ms (median of interleaved rounds)",
                  ["command", "ms", "spread", "over bare python", "goal"])
    for (label, _), s, med in zip(cases, samples, medians):
        extra = med - bare
        goal = "-" if label.startswith("python") else verdict(med, GOAL_FIRST_CALL_S) \
            if label == FIRST_CALL_LABEL else verdict(extra, GOAL_EXTRA_S)
        table.add(label, med * 1000, f"{(max(s) - min(s)) * 1000:.0f} ms", f"{extra * 1000:+.0f} ms", goal)
    table.notes.append(f"goal: the first call within {GOAL_FIRST_CALL_S * 1000:.0f} ms in all (it includes importing "
                       "wasmtime-py and the package, parsing the component, instantiating, one call)")
    table.notes.append(f"goal: each console script within {GOAL_EXTRA_S * 1000:.0f} ms of the bare interpreter; "
                       f"{rounds} rounds, each command run once per round in turn")
    table.print(getattr(args, "json", False))
    return 0
