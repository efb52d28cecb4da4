"""`reml-wasm bench router`: ns per call, the connector called directly against the same
call through the router, without and with the audit log, side by side in one run.

The guest is the PoC (native/poc/poc.wasm, and its native build from native/poc/poc.c).
Goal: routing plus audit adds at most 1 µs to a component fast-path call.  The audit log
is written to a temporary file; its batched writes are part of the measured cost.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, Callable

from . import Table, interleaved, spread, verdict
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


def run(args: argparse.Namespace) -> int:
    world = wit.load(WIT_DIR).world("poc")
    table = Table("routed calls, ns per call: the connector called directly / through the router / "
                  "through the router with the audit log (medians of interleaved rounds)",
                  ["connector", "call", "direct", "routed", "routed + audit", "added", "spread", "goal"])
    with tempfile.TemporaryDirectory() as tmp:
        for name, conn, route in _connectors(world):
            plain = Router(world, {**route, "fallback": False})
            audited = Router(world, {**route, "fallback": False}, audit=Path(tmp) / f"{name}.jsonl")
            for label, func, call_args in CASES:
                key = f"{API}#{func}"
                direct: Callable[..., Any] = conn.bind(key)
                routed, logged = plain.bind(key), audited.bind(key)
                timed = (lambda: direct(*call_args), lambda: routed(*call_args), lambda: logged(*call_args))
                d, r, a = interleaved(timed, rounds=7, quick=args.quick, label=f"{name} {label}")
                added = a.median - d.median
                goal = f"<= {GOAL_NS:.0f}: {verdict(added, GOAL_NS)}" if name == "component" else "-"
                table.add(name, label, d.median, r.median, a.median, added, spread(d, r, a), goal)
            plain.close()
            audited.close()
            conn.close()
    table.notes.append("added = (routed + audit) - direct; each figure is the median of "
                       f"{1 if args.quick else 7} interleaved rounds (each a median of timed batches of every "
                       "column in turn); the goal is judged on this run's medians")
    table.print(getattr(args, "json", False))
    return 0
