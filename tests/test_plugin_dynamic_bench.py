import json

from reml_wasm.cli import main
from reml_wasm.connectors.plugin import default_mode


def test_bench_plugin_has_the_bid_rows(capsys):
    assert main(["bench", "plugin", "--quick", "--json"]) == 0
    rows = {row[0]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    for mode in ["abi"] + (["api"] if default_mode() == "api" else []):
        raw, vtable = rows[f"[{mode}] BID add(i32, i32): raw cffi call"], rows[f"[{mode}] BID add: vtable path "
                                                                               "(DynamicLibraryConnector)"]
        assert f"x raw cffi [{mode}]" in vtable[3]
        assert float(vtable[3].split("x")[0]) == round(vtable[1] / raw[1], 2)
        assert f"[{mode}] BID add: TLV invoke path (same C function)" in rows
        for way in ("vtable", "invoke"):
            assert any(k.startswith(f"[{mode}] BID {way} path: 200 FileBox open/read") for k in rows)
    assert any(k.startswith("raw cffi [abi] (hand-written calls): 200 FileBox") for k in rows)
    assert "[component] BID add: the same interface exported by a component" in rows
    assert any("typed client (gen python) over the vtable path: 200 FileBox" in k for k in rows)
