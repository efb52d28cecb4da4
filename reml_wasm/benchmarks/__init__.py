"""Shared measuring and table printing for `reml-wasm bench …`.

Figures are medians of several timed batches, each batch long enough to dwarf the
timer; comparisons named by an issue are measured side by side in one run.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


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
