"""PoC step 5: the Markdown run log and the summary table.

Everything in the run log is deterministic except the cells of the latency columns
(their headers contain the word "latency"), so it can be compared with a golden copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..audit import write_atomic
from . import COMPONENT_LABEL, SOURCE_LABEL, WIT_LABEL
from .calls import CallReport

RUN_LOG_FILE = "run-log.md"
HEADERS = ("#", "function", "arguments", "component result", "native result", "equal",
           "component latency", "native latency")


def _micro(ns: int) -> str:
    return f"{ns / 1000:.1f} µs"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(report: CallReport) -> list[tuple[str, ...]]:
    """The table's rows, cells as text."""
    return [(str(i), r.function, r.arguments, r.component, r.native, "yes" if r.equal else "NO",
             _micro(r.component_ns), _micro(r.native_ns)) for i, r in enumerate(report.rows, 1)]


def markdown_table(headers: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def summary_table(report: CallReport) -> str:
    """The summary as aligned plain text (for the terminal)."""
    body = rows(report)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(HEADERS)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(HEADERS), line(["-" * w for w in widths]), *map(line, body)])


def run_log(report: CallReport, steps: Sequence[tuple[str, str]]) -> str:
    """The run log: inputs, steps, the comparison table, the verdict."""
    native = ("the native build of " + SOURCE_LABEL if report.native_connector == "native"
              else "the component (the native library could not serve)")
    out = ["# WIT PoC run log (scenario FFI-WIT-001)", "",
           f"- WIT: `{WIT_LABEL}`, world `poc`, interface `reml:poc/api@0.1.0`",
           f"- component column: `{COMPONENT_LABEL}` (committed; built from `{SOURCE_LABEL}`)",
           f"- native column: {native}", "", "## Steps", ""]
    out += [f"{i}. {name}: {result}" for i, (name, result) in enumerate(steps, 1)]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    out += ["", "## Calls", "", markdown_table(HEADERS, rows(report)).rstrip(), "",
            "## Verdict", ""]
    n = len(report.rows)
    out.append(f"{n - report.mismatches} of {n} calls gave the same result on both connectors."
               + (" MISMATCH." if report.mismatches else ""))
    return "\n".join(out) + "\n"


def write_run_log(report: CallReport, steps: Sequence[tuple[str, str]], out: Path) -> Path:
    """Write out/run-log.md."""
    path = out / RUN_LOG_FILE
    write_atomic(path, run_log(report, steps))
    return path
