"""`reml-wasm gen c-plugin WIT -o DIR`: a WIT package becomes a BID-1 C plugin skeleton that
compiles, loads through the plugin loader and answers the skeleton's defaults."""

import subprocess

import pytest

from reml_wasm import types as t, wit
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml
from reml_wasm.cli import main as cli_main
from reml_wasm.codegen.plugin_from_wit import specs_from_wit
from reml_wasm.connectors.plugin import PluginHost

STORE_WIT = """\
package demo:store@1.0.0;

interface store {
  type key = string;
  put: func(k: key, value: list<u8>) -> u32;
  get: func(k: string) -> list<u8>;
  flag: func(on: bool, x: f64, y: f32, big: s64) -> bool;
  count: func() -> u64;
  touch: func(n: s32);
}

interface files {
  resource file {
    constructor();
    size: func() -> s64;
    name: func() -> string;
    same: func(other: borrow<file>) -> bool;
  }
}

world plugin {
  export store;
  export files;
  export version: func() -> u32;
}
"""


def _build(tmp_path, *extra):
    src = tmp_path / "store.wit"
    src.write_text(STORE_WIT)
    out = tmp_path / "out"
    assert cli_main(["gen", "c-plugin", str(src), "-o", str(out), *extra]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["build.sh", "nyash.toml", "nyash_bid.h", "nyash_plugin.h",
                                                     "store_plugin.c"]
    subprocess.run(["gcc", "-shared", "-fPIC", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{out}",
                    str(out / "store_plugin.c"), "-o", str(out / "libstore_plugin.so")], check=True)
    return out


def test_wit_skeleton_compiles_loads_and_answers_defaults(tmp_path):
    out = _build(tmp_path)
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host:
        store = host.create("Store")
        assert store is host.create("Store") and store.type_id == 100     # an interface: a singleton Box
        assert store.put("k", b"v") == 0
        assert store.get("k") == b""
        assert store.flag(True, 1.5, 2.5, 1 << 40) is False
        assert store.count() == 0
        assert store.touch(-3) is None
        with pytest.raises(DiagnosticError) as info:                    # s64 declared: a bool is refused
            store.flag(True, 1.5, 2.5, True)
        assert info.value.code == "tlv.invalid_args"
        with host.create("File") as f:                                  # a resource: a Box per instance
            assert f.type_id == 101 and f is not host.create("File")
            assert f.size() == 0 and f.name() == "" and f.same(f) is False


def test_world_selects_its_exports(tmp_path):
    out = _build(tmp_path, "--world", "plugin")
    text = (out / "nyash.toml").read_text()
    assert 'boxes = ["Store", "File", "Plugin"]' in text
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host:
        assert host.create("Plugin").version() == 0


def test_types_are_narrowed_to_tlv_kinds():
    specs = specs_from_wit(wit.parse_text(STORE_WIT, "s.wit").main)
    put = specs[0].interface.functions[0]
    assert [p.type for p in put.params] == [t.STRING, t.ListType(t.U8)] and put.result == t.S32
    assert specs[0].interface.function("count").result == t.S64
    same = specs[1].interface.function("same")
    assert [p.name for p in same.params] == ["other"] and isinstance(same.params[0].type, t.BorrowType)


@pytest.mark.parametrize("body, needle", [
    ("f: func(x: u8);", "`u8`"),
    ("f: func() -> option<string>;", "`option<string>`"),
    ("record r { a: s32 }\n  f: func(x: r);", "`r`"),
    ("f: func(x: list<s32>);", "`list<s32>`"),
    ("f: func() -> result<s32, string>;", "`result<s32, string>`"),
])
def test_untransportable_types_are_coded(tmp_path, capsys, body, needle):
    src = tmp_path / "bad.wit"
    src.write_text(f"package a:b;\ninterface api {{\n  {body}\n}}\n")
    assert cli_main(["gen", "c-plugin", str(src), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "ffi.gen.unsupported_type" in err and needle in err and "api.f" in err


def test_a_package_with_only_a_world_uses_it(tmp_path):
    src = tmp_path / "w.wit"
    src.write_text("package a:b;\nworld calc {\n  export add: func(a: s32, b: s32) -> s32;\n}\n")
    out = tmp_path / "out"
    assert cli_main(["gen", "c-plugin", str(src), "-o", str(out)]) == 0
    subprocess.run(["sh", str(out / "build.sh")], check=True, env={"PATH": "/usr/bin:/bin", "CC": "gcc"})
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host:
        assert host.create("Calc").add(2, 3) == 0


def test_constructor_with_parameters_is_coded(tmp_path, capsys):
    src = tmp_path / "c.wit"
    src.write_text("package a:b;\ninterface api {\n  resource r { constructor(x: s32); }\n}\n")
    assert cli_main(["gen", "c-plugin", str(src), "-o", str(tmp_path / "o")]) == 1
    assert "ffi.gen.unsupported_constructor" in capsys.readouterr().err
    src.write_text("package a:b;\ninterface api {\n  f: func(x: nope);\n}\n")
    assert cli_main(["gen", "c-plugin", str(src), "-o", str(tmp_path / "o")]) == 1
    assert "wit." in capsys.readouterr().err
