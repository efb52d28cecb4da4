import json

from bench_discipline import check_table, ratio_verdicts_agree
from reml_wasm.cli import main
from reml_wasm.connectors.plugin import default_mode


def test_bench_plugin_has_the_bid_rows(capsys):
    assert main(["bench", "plugin", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    check_table(table)
    rows = {row[0]: row for row in table["rows"]}
    for mode in ["abi"] + (["api"] if default_mode() == "api" else []):
        raw = next(row for key, row in rows.items() if key.startswith(f"[{mode}] BID add(i32, i32): raw cffi call"))
        vtable = rows[f"[{mode}] BID add: vtable path (DynamicLibraryConnector)"]
        assert vtable[3] == f"raw cffi [{mode}]"
        assert float(vtable[4].rstrip("x")) == round(vtable[1] / raw[1], 2)
        assert ratio_verdicts_agree([vtable], 4, 5) == 1      # judged on this run's ratio
        assert f"[{mode}] BID add: TLV invoke path (same C function)" in rows
        for way in ("vtable", "invoke"):
            assert any(k.startswith(f"[{mode}] BID {way} path: FileBox open/read") for k in rows)
    assert any(k.startswith("raw cffi [abi] (hand-written calls): FileBox") for k in rows)
    assert any(k.startswith("[component] BID add: the same interface exported by a component") for k in rows)
    assert any("typed client (gen python) over the vtable path: FileBox" in k for k in rows)
