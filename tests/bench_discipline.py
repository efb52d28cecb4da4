"""The one discipline every `reml-wasm bench` table follows, checked on its JSON form:
figures are medians of interleaved rounds (the title says so), each row has its spread
("±N%"), and a goal column holds either "-" (no goal for that row) or a verdict ("met" /
"MISSED") judged on a figure of the same run."""

from __future__ import annotations

import re
from typing import Any

SPREAD = re.compile(r"±\d+%")
RATIO_GOAL = re.compile(r"<= ([0-9.]+)x: (met|MISSED)")


def check_table(table: dict[str, Any], *, verdicts: bool = True) -> list[list[Any]]:
    """Assert the discipline on one table; its rows."""
    assert "median" in table["title"], table["title"]
    columns = table["columns"]
    assert "spread" in columns and "goal" in columns, columns
    s, g = columns.index("spread"), columns.index("goal")
    rows = table["rows"]
    assert rows
    for row in rows:
        assert len(row) == len(columns), row
        assert SPREAD.fullmatch(row[s]), row
        assert row[g] == "-" or re.search(r"\b(met|MISSED)\b", row[g]), row
    if verdicts:
        assert any(row[g] != "-" for row in rows), "no goal judged"
    return rows


def ratio_verdicts_agree(rows: list[list[Any]], ratio_col: int, goal_col: int) -> int:
    """Every "<= Gx: met|MISSED" goal cell agrees with the ratio ("R.RRx") of its row;
    the number of such cells."""
    n = 0
    for row in rows:
        m = RATIO_GOAL.search(str(row[goal_col]))
        if m is None:
            continue
        ratio = float(str(row[ratio_col]).rstrip("x"))
        assert (m.group(2) == "met") == (ratio <= float(m.group(1))), row
        n += 1
    return n
