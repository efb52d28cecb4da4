"""Shared measuring and table printing for `reml-wasm bench …`.

Every benchmark follows one discipline: what it compares is timed in interleaved rounds
(`interleaved`), each figure is the median of those rounds with their spread (`Timing`,
`spread`), and each goal is judged by `verdict` on a figure or ratio of that one run.
Processes are started as a user's are (`USER_ENV`: bytecode caching on).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .. import progress

# as a user's processes run: bytecode of imported modules is written once and read after
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def ns_per_call(fn: Callable[[], Any], *, quick: bool = False, batch_seconds: float = 0.05,
                batches: int = 7) -> float:
    """Median nanoseconds per call of `fn()` over several batches."""
    if quick:
        batch_seconds, batches = 0.01, 3
    fn()  # warm up (and compile plans)
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter_ns() - t0
        if elapsed >= batch_seconds * 1e9 or n >= 1 << 24:
            break
        n *= 2 if elapsed == 0 else max(2, min(10, int(batch_seconds * 1e9 / max(elapsed, 1)) + 1))
    samples = [elapsed / n]
    for _ in range(batches - 1):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(samples)


@dataclass(frozen=True)
class Timing:
    """Nanoseconds per call over repeated rounds: the median, and the lowest and highest round."""

    median: float
    low: float
    high: float

    @property
    def spread(self) -> float:
        """(highest - lowest) / median: how much the rounds disagreed (0.05 = 5 %)."""
        return (self.high - self.low) / self.median if self.median else 0.0

    def __str__(self) -> str:
        return f"{self.median:,.0f} ±{self.spread * 50:.0f}%"


def interleaved(fns: Sequence[Callable[[], Any]], *, rounds: int = 5, quick: bool = False,
                single: bool = False, label: str = "") -> list[Timing]:
    """Time every function in `fns` over `rounds` rounds, taken in turn (A B C, A B C, ...).

    A slow phase of a shared machine then falls on all of them alike, so ratios between
    them are steadier than their absolute figures; compare goals on those ratios.
    Each round times a median of batches (`ns_per_call`); with `single`, one call (for
    work that takes milliseconds or more: processes, builds), after one untimed call of
    each.  Figures are nanoseconds per call.  `label` names the work in the progress
    display."""
    rounds = 1 if quick else max(1, rounds)
    samples: list[list[float]] = [[] for _ in fns]
    if single:
        for fn in fns:
            fn()  # warm: caches, bytecode, compiled modules
    for r in range(rounds):
        if label:
            progress.note(f"{label} (round {r + 1} of {rounds})")
        for i, fn in enumerate(fns):
            if single:
                t0 = time.perf_counter_ns()
                fn()
                samples[i].append(float(time.perf_counter_ns() - t0))
            else:
                samples[i].append(ns_per_call(fn, quick=quick))
    return [Timing(statistics.median(s), min(s), max(s)) for s in samples]


def spread(*timings: Timing) -> str:
    """The widest spread of `timings` as a table cell: "±N%" (half of (high - low) / median)."""
    return f"±{max(t.spread for t in timings) * 50:.0f}%"


def verdict(ratio: float, goal: float, *, at_most: bool = True) -> str:
    """"met" or "MISSED" for a ratio measured in one run against its goal
    (`at_most`: the ratio must not exceed the goal; otherwise it must reach it)."""
    ok = ratio <= goal if at_most else ratio >= goal
    return "met" if ok else "MISSED"


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append(list(cells))
        progress.note(f"{self.title}: {cells[0]}" if cells else self.title)

    def render(self) -> str:
        def fmt(v: Any) -> str:
            if isinstance(v, float):
                if v >= 100:
                    return f"{v:,.0f}"
                return f"{v:.2f}"
            return str(v)

        cells = [[fmt(c) for c in row] for row in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(self.columns)]
        line = "  ".join(h.ljust(w) for h, w in zip(self.columns, widths))
        out = [self.title, line, "  ".join("-" * w for w in widths)]
        for r in cells:
            out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        out.extend(self.notes)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns), "rows": self.rows, "notes": self.notes}

    def print(self, as_json: bool = False) -> None:
        print(json.dumps(self.to_json()) if as_json else self.render())
