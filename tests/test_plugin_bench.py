import json

from reml_wasm.cli import main


def test_bench_plugin_prints_one_table(capsys):
    assert main(["bench", "plugin", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    cases = [row[0] for row in table["rows"]]
    assert any(c.startswith("TLV encode") for c in cases)
    assert any("CounterBox.inc" in c for c in cases)
    assert any(c.startswith("[abi] PluginLibrary.invoke") for c in cases)
    assert any(c.startswith("[api] PluginLibrary.invoke") for c in cases)
    assert any("FileBox open/read" in c for c in cases)
    assert all(isinstance(row[1], float) and row[1] > 0 for row in table["rows"])
