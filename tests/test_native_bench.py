"""`reml-wasm bench native` runs end to end and reports every row it promises."""

import json

from bench_discipline import check_table, ratio_verdicts_agree

from reml_wasm.cli import main


def test_bench_native_quick_json(capsys):
    assert main(["bench", "native", "--quick", "--json"]) == 0
    direct, canonical = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert direct["columns"] == ["call", "mode", "raw cffi", "connector", "added", "goal", "spread"]
    assert [(r[0].split("(")[0], r[1]) for r in direct["rows"]] == [
        ("inc", "abi"), ("inc", "api"), ("text_len", "abi"), ("text_len", "api")]
    for row in direct["rows"]:
        assert row[2] > 0 and row[3] > 0 and abs(row[4] - (row[3] - row[2])) < 1e-6
    labels = [r[0] for r in canonical["rows"]]
    assert any("string" in label for label in labels) and any("list<u32>" in label for label in labels)
    assert all(r[1] > 0 and r[2] > 0 for r in canonical["rows"])
    assert canonical["columns"][:6] == ["call", "plain cffi", "canonical-native", "native / plain", "goal", "spread"]
    assert ratio_verdicts_agree(check_table(canonical), 3, 4) == len(canonical["rows"])
    assert not canonical["notes"][:-1], canonical["notes"]   # no "differ" notes: same results
