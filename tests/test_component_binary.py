"""The component binary parser and the world it yields, against wasm-tools as the oracle."""

import json
import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reml_wasm import toolchain
from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.wasm_binary import component as cb
from reml_wasm.connectors.component.world import split_interface_key, world_of

ROOT = toolchain.PROJECT_ROOT


@pytest.fixture(scope="module")
def ctest_bytes():
    return build_ctest().read_bytes()


@pytest.fixture(scope="module")
def demo_bytes():
    return toolchain.build_demo()[0].read_bytes()


def _oracle_wit(data: bytes, tmp_path, *extra: str) -> str:
    path = tmp_path / "c.wasm"
    path.write_bytes(data)
    return subprocess.run([toolchain.wasm_tools_path(), "component", "wit", *extra, str(path)],
                          check=True, capture_output=True, text=True).stdout


def test_sections_of_a_wit_component_output(ctest_bytes):
    comp = cb.parse_component(ctest_bytes)
    kinds = [type(d).__name__ for d in comp.definitions]
    # main module + shim + fixup, the nested shim component for the exported interface
    assert kinds.count("CoreModule") == 3
    assert "Component" in kinds and "Instantiate" in kinds
    lifts = [d for d in comp.definitions if isinstance(d, cb.Canon) and d.kind == "lift"]
    lowers = [d for d in comp.definitions if isinstance(d, cb.Canon) and d.kind == "lower"]
    builtins = {d.kind for d in comp.definitions if isinstance(d, cb.Canon) and d.kind.startswith("resource.")}
    assert len(lifts) == 18 and len(lowers) == 4
    assert builtins == {"resource.new", "resource.rep", "resource.drop"}
    echo = next(d for d in lifts if d.options.post_return is not None and d.options.realloc is not None)
    assert echo.options.string_encoding == "utf8" and echo.options.memory == 0


@pytest.mark.parametrize("which", ["ctest", "demo"])
def test_world_matches_wasm_tools(which, ctest_bytes, demo_bytes, tmp_path):
    """The WIT view of the binary is exactly what wasm-tools prints, text and JSON."""
    from reml_wasm.cli.component_wit import component_view
    data = ctest_bytes if which == "ctest" else demo_bytes
    view = component_view(cb.parse_component(data))
    assert view.text() == _oracle_wit(data, tmp_path)
    assert view.json() == json.loads(_oracle_wit(data, tmp_path, "--json"))


def test_world_types_and_resources(ctest_bytes):
    world = world_of(cb.parse_component(ctest_bytes), "ctest")
    counters = world.export("reml:ctest/counters@0.1.0").interface
    assert counters.package == t.PackageName("reml", "ctest", "0.1.0") and counters.name == "counters"
    counter = counters.type("counter")
    assert isinstance(counter, t.ResourceType) and counter.owner == "reml:ctest/counters@0.1.0"
    assert [f.qualified_name for f in counter.functions()] == [
        "[constructor]counter", "[method]counter.bump", "[method]counter.get"]
    finish = counters.function("finish")
    assert finish.params[0].type == t.OwnType(counter) and finish.result == t.S32
    pair = world.export("echo-pair").function.params[0].type
    assert isinstance(pair, t.RecordType) and pair.name == "pair"
    assert [f.name for f in pair.fields] == ["id", "name", "weight", "tags"]
    assert pair.fields[3].type == t.ListType(t.STRING)
    host = world.import_("reml:ctest/host@0.1.0").interface
    assert host.function("scale").result == t.ListType(t.U32)


def test_interface_keys():
    assert split_interface_key("wasi:cli/stdout@0.2.0") == (t.PackageName("wasi", "cli", "0.2.0"), "stdout")
    assert split_interface_key("host") == (None, "host")


@pytest.mark.parametrize("data, code", [
    (b"", "ffi.component.not_component"),
    (b"\x00asm\x01\x00\x00\x00", "ffi.component.not_component"),
    (b"\x00asm\x0d\x00\x01\x00\x63\x00", "ffi.component.malformed"),      # unknown section id
    (b"\x00asm\x0d\x00\x01\x00\x07\x05\x01", "ffi.component.malformed"),  # section past the end
    (b"\x00asm\x0d\x00\x01\x00\x07\x02\x01\x50", "ffi.component.malformed"),  # bad type constructor
])
def test_malformed_inputs_have_codes(data, code):
    with pytest.raises(DiagnosticError) as exc:
        cb.parse_component(data)
    assert exc.value.code == code


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_corrupted_binaries_never_crash(ctest_bytes, data):
    """Any prefix, or a byte flipped anywhere: a parse or a coded error, nothing else."""
    blob = bytearray(ctest_bytes)
    if data.draw(st.booleans()):
        blob = blob[:data.draw(st.integers(0, len(blob) - 1))]
    else:
        i = data.draw(st.integers(8, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    try:
        comp = cb.parse_component(bytes(blob))
    except DiagnosticError as exc:
        assert exc.code.startswith("ffi.component.")
        return
    try:
        world_of(comp)
    except DiagnosticError as exc:
        assert exc.code.startswith(("ffi.component.", "ffi."))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFFFFFF))
def test_leb128_u32_round_trip(n):
    out = bytearray()
    v = n
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            break
    r = cb._Reader(bytes(out))
    assert r.u32() == n and r.pos == len(out)


def test_lift_of_a_core_function_with_the_wrong_type_is_rejected(tmp_path):
    """The fast path calls through wasmtime's *unchecked* entry point, so it must check
    what wasmtime's component validation checks: the lifted core function's type."""
    from reml_wasm.connectors.component import Component
    wasm = tmp_path / "bad.wasm"
    subprocess.run([toolchain.wasm_tools_path(), "parse", str(ROOT / "tests/data/component_bad_lift.wat"),
                    "-o", str(wasm)], check=True)
    comp = Component.from_file(wasm)
    for path in ("fast", "wasmtime"):
        with pytest.raises(DiagnosticError) as exc:
            comp.instantiate(path=path)
        assert exc.value.code == "ffi.component.invalid"


@pytest.mark.parametrize("source, world", [("inspect_shapes.wit", "w"), ("inspect_merged.wit", "beta"),
                                           ("inspect_merged.wit", "data-one"), ("inspect_map.wit", "beta")])
def test_world_shapes_match_wasm_tools(tmp_path, source, world):
    """Inline interfaces, `use iface.{x as y}` in a world, world functions; an interface
    both imported and exported; async functions, streams and futures (components
    wasm-tools makes from tests/data/inspect_*.wit around a dummy module)."""
    from reml_wasm.cli.component_wit import component_view
    tool = toolchain.wasm_tools_path()
    core, comp = tmp_path / "core.wasm", tmp_path / "c.wasm"
    subprocess.run([tool, "component", "embed", "--dummy", str(ROOT / "tests/data" / source),
                    "--world", world, "-o", str(core)], check=True)
    subprocess.run([tool, "component", "new", str(core), "-o", str(comp)], check=True)
    data = comp.read_bytes()
    view = component_view(cb.parse_component(data))
    assert view.text() == _oracle_wit(data, tmp_path)
    assert view.json() == json.loads(_oracle_wit(data, tmp_path, "--json"))
