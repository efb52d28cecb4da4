"""The Canonical ABI oracle guest (native/cabi_oracle, wit/cabi-oracle) through both paths
of the component connector: every echo function with hypothesis values gives identical
results on the fast path and on wasmtime.component, and equals its argument."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.values import Variant
from reml_wasm.connectors.component import Component

from cabi_helpers import glue_without_front, oracle_generator, python_callers
from strategies import same_value, values_of

gen = oracle_generator()

FUNCTIONS = {f.name: f for f in gen.functions()}
RES = "reml:cabi-oracle/res"


@pytest.fixture(scope="module")
def paths():
    comp = Component.from_file(toolchain.build_component([gen.C_PATH], gen.WIT_PATH, "oracle",
                                                         include_dirs=[gen.C_PATH.parent]))
    insts = {p: comp.instantiate(path=p) for p in ("fast", "wasmtime")}
    assert [i.path for i in insts.values()] == ["fast", "wasmtime"]
    insts["fast-python"] = python_callers(comp)
    insts["fast-glue"] = glue_without_front(comp)
    assert getattr(insts["fast"].func("echo-u32"), "glue", None)  # the C glue serves scalars
    assert not getattr(insts["fast-python"].func("echo-u32"), "glue", None)
    assert type(insts["fast"].func("echo-mixed")).__name__ == "ExportFront"  # whole calls in C
    assert type(insts["fast-glue"].func("echo-mixed")).__name__ != "ExportFront"
    return insts


def test_world_functions_match_the_generator(paths):
    world = paths["fast"].component.world
    for name, f in FUNCTIONS.items():
        mine = world.export(name).function
        assert [p.type for p in mine.params] == [p.type for p in f.params]
        assert mine.result == f.result


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_oracle_same_on_both_paths(paths, name, data):
    f = FUNCTIONS[name]
    args = [data.draw(values_of(p.type), label=p.name) for p in f.params]
    fast = paths["fast"].call(name, *args)
    ref = paths["wasmtime"].call(name, *args)
    assert same_value(fast, ref), (fast, ref)
    python = paths["fast-python"].call(name, *args)
    assert same_value(python, ref), (python, ref)
    glued = paths["fast-glue"].call(name, *args)
    assert same_value(glued, ref), (glued, ref)
    echoed = tuple(args) if name == "many" else args[0]
    assert same_value(fast, echoed)


def test_oracle_resource_same_on_both_paths(paths):
    def script(inst):
        new = inst.func(f"{RES}#[constructor]counter")
        get, bump = inst.func(f"{RES}#[method]counter.get"), inst.func(f"{RES}#[method]counter.bump")
        take, destroyed = inst.func(f"{RES}#take"), inst.func(f"{RES}#destroyed")
        before = destroyed()
        a, b = new(5), new(7)
        bump(a, 10)
        out = [get(a), get(b), take(b), destroyed() - before]
        inst.drop(a)
        out.append(destroyed() - before)
        return out
    assert script(paths["fast"]) == script(paths["wasmtime"]) == script(paths["fast-python"]) \
        == script(paths["fast-glue"]) == [15, 7, 7, 1, 2]


BAD_ARGS = [("echo-f64", "1.5"), ("echo-f64", True), ("echo-f32", None), ("echo-char", "ab"), ("echo-char", ""),
            ("echo-char", "\ud800"), ("echo-char", b"a"), ("echo-char", 65), ("echo-color", "purple"),
            ("echo-color", ["red"]), ("echo-flags8", frozenset({"b9"})), ("echo-flags8", ["b1"]),
            ("echo-flags32", {"b40"}), ("echo-shape", Variant("square", 1)), ("echo-shape", "empty"),
            ("echo-result-u32-string", 3), ("echo-option-u32", -1),
            (f"{RES}#[method]counter.get", 5), (f"{RES}#[method]counter.get", None)]


@pytest.mark.parametrize("name,value", BAD_ARGS)
def test_bad_arguments_are_the_same_coded_errors(paths, name, value):
    """The fast path's inline conversions reject what the engine rejects, with its code."""
    codes = []
    for inst in paths.values():
        with pytest.raises(DiagnosticError) as exc:
            inst.call(name, value)
        codes.append(exc.value.code)
    assert len(set(codes)) == 1 and codes[0].startswith("ffi.value"), codes
    assert paths["fast"].call("echo-u32", 5) == 5          # the instance is still usable
