import subprocess
import sys
from pathlib import Path

import pytest

from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml, yaml_loader
from reml_wasm.cli import main as cli_main
from reml_wasm.connectors.plugin import PluginHost

FACTS_YAML = """\
version: 1
interfaces:
  - name: env.console          # dotted
    box: Console               # optional Box name
    methods:
      - name: log
        params: [ { string: msg } ]     # one-key maps: type -> name
        returns: void                   # or { i32: written }
        effect: io                      # pure | mut | io | control
"""

RICH_YAML = """\
version: 1
interfaces:
  - name: demo.store
    box: Store
    type_id: 321
    transport: {type: dynamic_library, location: ./libx.so}
    methods:
      - name: put
        params: [ { string: key }, { bytes: value } ]
        returns: { i32: written }
        effects: [mut, io]
        errors: [full, denied]
      - name: get
        params: [ { string: key } ]
        returns: bytes
        effect: pure
      - name: flag
        params: [ { bool: on }, { f64: x }, { f32: y }, { i64: big } ]
        returns: bool
        effect: control
      - name: self_ref
        returns: handle
  - name: demo.clock
    methods:
      - name: now
        returns: i64
"""


def load_error(text):
    with pytest.raises(DiagnosticError) as info:
        yaml_loader.loads(text, source="bid.yaml")
    return info.value.diagnostic


def test_facts_example_into_the_type_model():
    doc = yaml_loader.loads(FACTS_YAML)
    iface = doc.interface("env.console")
    assert isinstance(iface, t.Interface)
    assert iface.functions == (t.Function("log", (t.Param("msg", t.STRING),), None),)
    assert doc.boxes == {"env.console": "Console"}
    assert doc.effects == {("env.console", "log"): ("io",)}


def test_rich_document():
    doc = yaml_loader.loads(RICH_YAML)
    store = doc.interface("demo.store")
    put = store.function("put")
    assert put.params == (t.Param("key", t.STRING), t.Param("value", t.ListType(t.U8)))
    assert put.result == t.S32
    assert store.function("get").result == t.ListType(t.U8)
    assert [p.type for p in store.function("flag").params] == [t.BOOL, t.F64, t.F32, t.S64]
    assert isinstance(store.function("self_ref").result, t.OwnType)
    assert doc.effects[("demo.store", "put")] == ("mut", "io")
    assert doc.errors[("demo.store", "put")] == ("full", "denied")
    assert doc.transports["demo.store"] == {"type": "dynamic_library", "location": "./libx.so"}
    assert doc.type_ids == {"demo.store": 321}
    assert doc.boxes["demo.clock"] is None


HEAD = "version: 1\ninterfaces:\n"


@pytest.mark.parametrize("text, code, line, col", [
    (HEAD + "  - name: a.b\n  - name: a.b\n", "ffi.bid.duplicate_interface", 4, 11),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n      - name: m\n", "ffi.bid.duplicate_method", 6, 15),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        params: [ { i32: x }, { i64: x } ]\n",
     "ffi.bid.duplicate_param", 6, 38),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        params: [ { u128: x } ]\n",
     "ffi.bid.unknown_type", 6, 21),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        returns: array\n", "ffi.bid.unknown_type", 6, 18),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        returns: { f16: r }\n", "ffi.bid.unknown_type", 6, 20),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        effect: fast\n", "ffi.bid.unknown_effect", 6, 17),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        params: [ { void: x } ]\n", "ffi.bid.unknown_type", 6, 21),
    ("version: 2\ninterfaces: []\n", "ffi.bid.version", 1, 10),
    ("interfaces: []\n", "ffi.bid.schema", 1, 1),
    (HEAD + "  - name: 1bad\n", "ffi.bid.bad_name", 3, 11),
    (HEAD + "  - name: a\n    name: b\n", "ffi.bid.duplicate_key", 4, 5),
    (HEAD + "  - name: a\n    colour: red\n", "ffi.bid.schema", 4, 5),
    (HEAD + "  - name: a\n    methods:\n      - name: m\n        params: [ { i32: x, i64: y } ]\n",
     "ffi.bid.schema", 6, 19),
    ("version: 1\ninterfaces: [\n", "ffi.bid.syntax", 3, 1),
])
def test_validation_errors_have_codes_and_positions(text, code, line, col):
    d = load_error(text)
    assert d.code == code
    assert (d.location.file, d.location.line, d.location.column) == ("bid.yaml", line, col)


def test_generated_skeleton_compiles_loads_and_answers_defaults(tmp_path):
    bid = tmp_path / "store.yaml"
    bid.write_text(RICH_YAML)
    out = tmp_path / "out"
    assert cli_main(["gen", "c-plugin", str(bid), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["build.sh", "nyash.toml", "nyash_bid.h", "nyash_plugin.h",
                                                     "store_plugin.c"]
    subprocess.run(["gcc", "-shared", "-fPIC", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{out}",
                    str(out / "store_plugin.c"), "-o", str(out / "libstore_plugin.so")], check=True)
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host:
        store = host.create("Store")
        assert store.type_id == 321
        assert store.put("k", b"v") == 0
        assert store.get("k") == b""
        assert store.flag(True, 1.5, 2.5, 1 << 40) is False
        assert store.self_ref() is store
        clock = host.create("DemoClock")              # no box name: a singleton named after it
        assert clock is host.create("DemoClock") and clock.type_id == 100
        assert clock.now() == 0
        with pytest.raises(DiagnosticError) as info:
            store.put("k", "not bytes but a string is accepted", "extra")
        assert info.value.code == "tlv.invalid_args"
        with pytest.raises(DiagnosticError) as info:      # i64 declared: a bool is refused
            store.flag(True, 1.5, 2.5, True)
        assert info.value.code == "tlv.invalid_args"


def test_generated_build_script_works(tmp_path):
    bid = tmp_path / "c.yaml"
    bid.write_text(FACTS_YAML)
    out = tmp_path / "out"
    assert cli_main(["gen", "c-plugin", str(bid), "-o", str(out), "--name", "console"]) == 0
    subprocess.run(["sh", str(out / "build.sh")], check=True, env={"PATH": "/usr/bin:/bin", "CC": "gcc"})
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host:
        with host.create("Console") as console:
            assert console.log("hello") is None


def test_gen_errors_are_diagnostics(tmp_path, capsys):
    wit = tmp_path / "x.wit"
    wit.write_text("package a:b;\n")
    assert cli_main(["gen", "c-plugin", str(wit), "-o", str(tmp_path / "o")]) == 1
    assert "ffi.gen.empty" in capsys.readouterr().err          # WIT with nothing to make a Box of
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "  - name: a\n  - name: a\n")
    assert cli_main(["gen", "c-plugin", str(bad), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "ffi.bid.duplicate_interface" in err and "bad.yaml:4:11" in err
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "gen", "c-plugin", str(bad), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_skeleton_survives_c_keywords_and_internal_names(tmp_path):
    bid = tmp_path / "kw.yaml"
    bid.write_text("version: 1\ninterfaces:\n  - name: kw\n    box: Kw\n    methods:\n"
                   "      - name: default\n"
                   "        params: [ { i32: int }, { string: r }, { bytes: rc }, { handle: self }, { bool: out } ]\n"
                   "        returns: { string: s }\n")
    out = tmp_path / "out"
    assert cli_main(["gen", "c-plugin", str(bid), "-o", str(out)]) == 0
    subprocess.run(["gcc", "-shared", "-fPIC", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{out}",
                    str(out / "kw_plugin.c"), "-o", str(out / "libkw_plugin.so")], check=True)
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host:
        with host.create("Kw") as kw:
            assert kw.default(1, "r", b"rc", kw, True) == ""


def test_generator_reports_c_name_clashes(tmp_path, capsys):
    bid = tmp_path / "clash.yaml"
    bid.write_text("version: 1\ninterfaces:\n  - name: c\n    methods:\n"
                   "      - name: m\n        params: [ { string: x }, { i32: x_len } ]\n")
    assert cli_main(["gen", "c-plugin", str(bid), "-o", str(tmp_path / "o")]) == 1
    assert "ffi.gen.name_clash" in capsys.readouterr().err
    bid.write_text("version: 1\ninterfaces:\n  - name: a.b\n  - name: a_b\n")
    assert cli_main(["gen", "c-plugin", str(bid), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "ffi.gen.duplicate_box" in err and "clash.yaml:4:11" in err


from hypothesis import given, settings, strategies as st  # noqa: E402

_YAML_VALUES = ["1", "x", "i32", "void", "[]", "{}", "[ { i32: a } ]", "[ { i32: a }, { i32: a } ]", "{ u8: q }",
                "io", "fast", "[pure, io]", "null", "'1.x'", "[1, 2]", "{ string: s }"]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.sampled_from(_YAML_VALUES)), min_size=1, max_size=3))
def test_mutated_bid_documents_load_or_fail_with_a_bid_code(mutations):
    lines = RICH_YAML.splitlines()
    for index, value in mutations:
        candidates = [i for i, line in enumerate(lines) if ": " in line]
        i = candidates[index % len(candidates)]
        lines[i] = lines[i].split(": ", 1)[0] + ": " + value
    try:
        doc = yaml_loader.loads("\n".join(lines) + "\n", source="m.yaml")
    except DiagnosticError as exc:
        assert exc.code.startswith("ffi.bid.")
        assert exc.diagnostic.location is not None
    else:
        names = [i.name for i in doc.interfaces]
        assert len(names) == len(set(names))
