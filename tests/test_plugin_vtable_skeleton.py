"""`reml-wasm gen c-plugin` emits a vtable beside the invoke dispatcher: the generated
skeleton, compiled by the C compiler, passes the host's vtable validation and serves the
same handlers on both paths."""

import subprocess

import pytest

from reml_wasm.bid import nyash_toml, yaml_loader
from reml_wasm.cli import main as cli_main
from reml_wasm.connectors.plugin import PluginHost, default_mode
from reml_wasm.connectors.plugin.dynamic import DynamicLibraryConnector
from reml_wasm.tlv import Handle

YAML = """\
version: 1
interfaces:
  - name: demo.store
    box: Store
    type_id: 321
    transport: {type: dynamic_library, location: ./libstore_plugin.so}
    methods:
      - name: put
        params: [ { string: key }, { bytes: value } ]
        returns: { i32: written }
        effects: [mut, io]
      - name: get
        params: [ { string: key } ]
        returns: bytes
        effect: pure
      - name: flag
        params: [ { bool: on }, { f64: x }, { f32: y }, { i64: big } ]
        returns: bool
        effect: control
      - name: name
        returns: string
      - name: touch
        params: [ { handle: other } ]
  - name: demo.clock
    type_id: 100            # what the skeleton gives it; the invoke path needs to know
    transport: {type: dynamic_library, location: ./libstore_plugin.so}
    methods:
      - name: now
        returns: i64
"""

MODES = ["abi"] + (["api"] if default_mode() == "api" else [])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("skeleton")
    doc = out / "store.yaml"
    doc.write_text(YAML)
    assert cli_main(["gen", "c-plugin", str(doc), "-o", str(out)]) == 0
    subprocess.run(["gcc", "-shared", "-fPIC", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{out}",
                    str(out / "store_plugin.c"), "-o", str(out / "libstore_plugin.so")], check=True)
    return out, yaml_loader.load(doc)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", ["vtable", "invoke"])
def test_skeleton_serves_both_paths(built, mode, path):
    _, doc = built
    with DynamicLibraryConnector(doc, mode=mode, path=path) as c:
        assert set(c.vtables) == ({"demo.store", "demo.clock"} if path == "vtable" else set())
        assert {c.served_by(k) for k in c.keys()} == {path}
        assert c.call("demo.store#put", "k", b"v") == 0
        assert c.call("demo.store#get", "k") == b""
        assert c.call("demo.store#flag", True, 1.5, 2.5, 1 << 40) is False
        assert c.call("demo.store#name") == ""
        assert c.call("demo.store#touch", Handle(321, 1)) is None
        assert c.call("demo.clock#now") == 0


def test_skeleton_table_matches_the_document(built):
    _, doc = built
    with DynamicLibraryConnector(doc, mode="abi") as c:
        table = c.vtables["demo.store"]
        assert table.interface_id == b"demo.store".ljust(16, b"\0")
        assert {name: (s.params, s.result) for name, s in table.methods.items()} == {
            "put": (("string", "bytes"), "i32"), "get": (("string",), "bytes"),
            "flag": (("bool", "f64", "f32", "i64"), "bool"), "name": ((), "string"),
            "touch": (("handle",), "void")}


def test_skeleton_still_loads_through_nyash_toml(built):
    out, _ = built
    with PluginHost(nyash_toml.load(out / "nyash.toml")) as host, host.create("Store") as store:
        assert store.put("k", b"v") == 0 and store.get("k") == b""
