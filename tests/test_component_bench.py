"""`reml-wasm bench component` and `bench startup` run end to end: every requested row,
its floor and both ratios (figures are not asserted: timings belong to the benches)."""

import json
import re

from bench_discipline import check_table

from reml_wasm.benchmarks import component as bench
from reml_wasm.cli import main


def test_bench_component_cases_quick_json(capsys):
    cases = ["add", "variant", "str10", "resource", "host", "instantiate", "lock"]
    assert main(["bench", "component", "--cases", ",".join(cases), "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["columns"] == ["case", "wasmtime-py", "reference", "fast", "floor", "fast/floor",
                                "wasmtime-py/fast", "spread", "goal", "note"]
    rows = check_table(table)
    labels = [r[0] for r in rows]
    assert len(labels) == len(cases)
    assert labels[-4:] == [bench.SPECIAL[k] for k in ("resource", "host", "instantiate", "lock")]
    for row in rows[:3]:
        assert row[3] > 0 and row[4] > 0 and row[5].endswith("x") and row[6].endswith("x")
        assert "differ" not in row[9]
    assert rows[0][9] == "1 entries" and rows[2][9] == "3 entries"
    for row in rows:  # every verdict agrees with the figures of its own row
        for bound, word in re.findall(r"<= ([0-9.]+)x floor: (met|MISSED)", row[8]):
            assert (word == "met") == (float(row[5].rstrip("x")) <= float(bound)), row
        for bound, word in re.findall(r">= ([0-9.]+)x wasmtime-py: (met|MISSED)", row[8]):
            assert (word == "met") == (float(row[6].rstrip("x")) >= float(bound)), row
        for bound, word in re.findall(r"<= ([0-9.]+) ns: (met|MISSED)", row[8]):
            assert (word == "met") == (row[3] <= float(bound)), row
    assert "ms: " in rows[-2][8] and " ns: " in rows[-1][8]  # instantiate and lock are judged


def test_bench_component_lists_and_rejects_cases(capsys):
    assert main(["bench", "component", "--cases", "list"]) == 0
    assert capsys.readouterr().out.split() == bench.case_ids()
    assert main(["bench", "component", "--cases", "add,nope"]) == 1
    assert "bench.unknown_case" in capsys.readouterr().err


def test_bench_startup_quick_json(capsys):
    assert main(["bench", "startup", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [r[0] for r in table["rows"]][0] == "python -c pass"
    assert all(r[1] > 0 for r in table["rows"])
