"""`reml-wasm bench router` runs end to end and reports every row it promises."""

import json

from bench_discipline import check_table
from reml_wasm.cli import main


def test_bench_router_quick_json(capsys):
    assert main(["bench", "router", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    rows = check_table(table)
    assert table["columns"] == ["connector", "call", "direct", "routed", "routed + audit", "added", "spread", "goal"]
    assert [(r[0], r[1].split("(")[0]) for r in rows] == [
        (c, f) for c in ("component", "native") for f in ("live-counters", "raise", "greet")]
    for row in rows:
        assert row[2] > 0 and row[3] > 0 and row[4] > 0 and abs(row[5] - (row[4] - row[2])) < 1e-6
        if row[0] == "component":   # judged on the added time of this run
            assert row[7] == f"<= 1000: {'met' if row[5] <= 1000 else 'MISSED'}"
