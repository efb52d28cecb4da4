"""`reml-wasm bench router`: ns per call, the connector called directly against the same
call through the router, without and with the audit log, side by side in one run.

The guest is the PoC (native/poc/poc.wasm, and its native build from native/poc/poc.c).
Goal: routing plus audit adds at most 1 µs to a component fast-path call.  The audit log
is written to a temporary file; its batched writes are part of the measured cost.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from . import Table, ns_per_call
from .. import toolchain
from .. import wit
from ..connectors import Connector
from ..connectors.component import ComponentConnector
from ..connectors.native import NativeConnector
from ..poc import COMPONENT, SOURCE, WIT_DIR
from ..router import Router

API = "reml:poc/api@0.1.0"
GOAL_NS = 1000.0
CASES: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("live-counters() -> u32", "live-counters", ()),
    ("raise(enum) -> enum", "raise", ("low",)),
    ("greet(string) -> string", "greet", ("Ada",)),
)


def _connectors(world: Any) -> list[tuple[str, Connector, dict[str, Any]]]:
    out: list[tuple[str, Connector, dict[str, Any]]] = [
        ("component", ComponentConnector(COMPONENT), {"component": str(COMPONENT), "prefer": "component"})]
    try:
        lib = toolchain.build_native([SOURCE], name="poc")
    except toolchain.ToolchainError:
        return out
    out.append(("native", NativeConnector(world, library=lib), {"native": str(lib), "prefer": "native"}))
    return out


def paired(fns: tuple[Callable[[], Any], ...], *, quick: bool = False) -> list[float]:
    """ns per call of each of `fns`, measured in alternation: many short rounds, each timing
    one batch of every function back to back; the figure is each function's median.  The
    machine's load drifts between rounds but hardly within one, so differences between the
    functions survive the noise better than in separate runs."""
    for fn in fns:
        fn()
    n = max(1, int(2_000_000 // max(ns_per_call(fns[0], quick=True), 1.0)))  # ~2 ms per batch
    rounds = 15 if quick else 61
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, out in zip(fns, samples):
            start = time.perf_counter_ns()
            for _ in range(n):
                fn()
            out.append((time.perf_counter_ns() - start) / n)
    return [statistics.median(out) for out in samples]


def run(args: argparse.Namespace) -> int:
    world = wit.load(WIT_DIR).world("poc")
    table = Table("routed calls, ns per call: the connector called directly / through the router / "
                  "through the router with the audit log",
                  ["connector", "call", "direct", "routed", "routed + audit", "added", "goal"])
    with tempfile.TemporaryDirectory() as tmp:
        for name, conn, route in _connectors(world):
            plain = Router(world, {**route, "fallback": False})
            audited = Router(world, {**route, "fallback": False}, audit=Path(tmp) / f"{name}.jsonl")
            for label, func, call_args in CASES:
                key = f"{API}#{func}"
                direct: Callable[..., Any] = conn.bind(key)
                routed, logged = plain.bind(key), audited.bind(key)
                timed = (lambda: direct(*call_args), lambda: routed(*call_args), lambda: logged(*call_args))
                d, r, a = paired(timed, quick=args.quick)
                table.add(name, label, d, r, a, a - d, f"<= {GOAL_NS:.0f}" if name == "component" else "")
            plain.close()
            audited.close()
            conn.close()
    table.notes.append("added = (routed + audit) - direct; each figure is the median of "
                       f"{15 if args.quick else 61} rounds that time ~2 ms of each column back to back")
    table.print(getattr(args, "json", False))
    return 0
