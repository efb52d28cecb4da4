"""`reml-wasm bench cabi` runs end to end in the benchmark discipline."""

import json

from bench_discipline import check_table
from reml_wasm.cli import main


def test_bench_cabi_quick_json(capsys):
    assert main(["bench", "cabi", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    rows = check_table(table, verdicts=False)   # no goal was set for these figures
    assert [r[0] for r in rows][:3] == ["string 10 B", "string 1 KB", "string 100 KB"]
    for label, ns, _, mbps, _ in rows:
        assert ns > 0
        assert mbps == "-" if label.startswith("record") else mbps > 0
