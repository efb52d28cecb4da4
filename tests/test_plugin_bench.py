import json

from bench_discipline import check_table, ratio_verdicts_agree
from reml_wasm.cli import main


def test_bench_plugin_prints_one_table(capsys):
    assert main(["bench", "plugin", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    rows = check_table(table)
    cases = [row[0] for row in rows]
    assert any(c.startswith("TLV encode") for c in cases)
    assert any("CounterBox.inc" in c for c in cases)
    assert any(c.startswith("[abi] PluginLibrary.invoke") for c in cases)
    assert any(c.startswith("[api] PluginLibrary.invoke") for c in cases)
    assert any("FileBox open/read" in c for c in cases)
    assert all(isinstance(row[1], float) and row[1] > 0 for row in rows)
    # the proxy's goal is judged on its ratio to the bare TLV call of the same run
    inc = [row for row in rows if "CounterBox.inc" in row[0]]
    assert inc and all(row[3] == "bare TLV call" and "<= 1.3x" in row[5] for row in inc)
    assert ratio_verdicts_agree(rows, 4, 5) >= len(inc)
