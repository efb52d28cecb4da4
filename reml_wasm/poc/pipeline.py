"""`reml-wasm poc`: every PoC step in order, with a progress line per step."""

from __future__ import annotations

import dataclasses
import json
import sys

from pathlib import Path
from typing import Callable

from ..audit import read_audit_log
from . import SOURCE
from .calls import AUDIT_FILE, run_calls
from .parse import describe, parse
from .py_step import describe as describe_python, write_python
from .reml_step import write_reml
from .report import summary_table, write_run_log

STEPS = ("parse the WIT", "write the Reml bindings and the manifest", "generate the typed Python bindings",
         "call every function through both connectors", "compare the results", "write the run log and the audit log")


def run(out: Path, echo: Callable[[str], None] = print, *, source: Path = SOURCE, as_json: bool = False) -> int:
    """Run the PoC into `out`; 0 when every call gave the same result on both connectors.
    `source`: the C file the native side is built from (the PoC's own by default).
    `as_json`: the progress lines go to stderr and stdout gets one JSON document instead
    of the summary table (`{"native_connector", "mismatches", "notes", "calls": [...]}`)."""
    if as_json:
        echo = lambda line: print(line, file=sys.stderr)  # noqa: E731
    out.mkdir(parents=True, exist_ok=True)
    done: list[tuple[str, str]] = []

    def step(result: str) -> None:
        name = STEPS[len(done)]
        done.append((name, result))
        echo(f"[{len(done)}/{len(STEPS)}] {name}: {result}")

    world = parse()
    step(describe(world))
    reml_path, manifest_path = write_reml(world, out)
    step(f"{reml_path.name}, {manifest_path.name}")
    package = write_python(world, out)
    step(describe_python(package))
    report = run_calls(world, out, source)
    for note in report.notes:
        echo(f"      note: {note}")
    step(f"{len(report.rows)} calls on the component and on the {report.native_connector} connector")
    n = len(report.rows)
    step(f"{n - report.mismatches} of {n} equal")
    records = read_audit_log(out / AUDIT_FILE)
    step(f"run-log.md, {AUDIT_FILE} ({len(records)} records)")
    write_run_log(report, done, out)
    if as_json:
        print(json.dumps({"native_connector": report.native_connector, "mismatches": report.mismatches,
                          "notes": report.notes, "calls": [dataclasses.asdict(r) for r in report.rows]},
                         ensure_ascii=False))
    else:
        echo("")
        echo(summary_table(report))
    return 1 if report.mismatches else 0
