"""The oracle: project-written guest echo functions (native/cabi_oracle, generated C and
WIT) called with hypothesis values through wasmtime.component and through the same
component's core module marshalled by this engine.  Results must be identical."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import wasmtime
import wasmtime.component as wc
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import toolchain
from reml_wasm.cabi import CanonicalOptions, WasmtimeMemory, export_plan
from reml_wasm.cabi.reference import reference_export_plan
from reml_wasm.cabi.wasmcall import CoreCall

from strategies_cabi import same_value, values_of
from wasmtime_values import from_wasmtime, to_wasmtime

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("cabi_oracle_generate", ROOT / "native/cabi_oracle/generate.py")
gen = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(gen)  # type: ignore[union-attr]

FUNCTIONS = {f.name: f for f in gen.functions()}


def test_generated_guest_is_current() -> None:
    assert gen.C_PATH.read_text() == gen.c_text()
    assert gen.WIT_PATH.read_text() == gen.wit_text()


class Oracle:
    def __init__(self) -> None:
        component = toolchain.build_component([gen.C_PATH], gen.WIT_PATH, "oracle")
        core = toolchain.build_core_module([gen.C_PATH])
        engine = wasmtime.Engine()
        self.cstore = wasmtime.Store(engine)
        self.component = wc.Linker(engine).instantiate(self.cstore, wc.Component.from_file(engine, str(component)))
        self.store = wasmtime.Store(engine)
        self.core = wasmtime.Instance(self.store, wasmtime.Module.from_file(engine, str(core)), [])
        ex = self.core.exports(self.store)
        self.exports = {name: CoreCall(self.store, ex[name]) for name in FUNCTIONS}
        self.opts = CanonicalOptions(memory=WasmtimeMemory(ex["memory"], self.store),
                                     realloc=CoreCall(self.store, ex["cabi_realloc"]))
        self.plans = {name: export_plan(f, self.opts) for name, f in FUNCTIONS.items()}
        self.reference = {name: reference_export_plan(f, self.opts) for name, f in FUNCTIONS.items()}

    def via_wasmtime(self, name: str, args: list) -> object:
        func = self.component.get_func(self.cstore, name)
        fty = func.type(self.cstore)
        f = FUNCTIONS[name]
        wargs = [to_wasmtime(a, p.type, wp) for a, p, (_, wp) in zip(args, f.params, fty.params)]
        result = func(self.cstore, *wargs)
        return from_wasmtime(result, f.result, fty.result)

    def via_engine(self, name: str, args: list, reference: bool = False) -> object:
        plan = (self.reference if reference else self.plans)[name]
        return plan.call(self.exports[name], args)


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return Oracle()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_engine_matches_wasmtime(oracle: Oracle, name: str, data: st.DataObject) -> None:
    f = FUNCTIONS[name]
    args = [data.draw(values_of(p.type), label=p.name) for p in f.params]
    expected = oracle.via_wasmtime(name, args)
    got = oracle.via_engine(name, args)
    assert same_value(got, expected), (got, expected)
    assert same_value(oracle.via_engine(name, args, reference=True), expected)
    echoed = tuple(args) if name == "many" else args[0]
    assert same_value(got, echoed)


def test_many_params_really_spill(oracle: Oracle) -> None:
    plan = oracle.plans["many"]
    assert plan.flat.params == ["i32"] and plan.flat.params_spilled
    assert plan.flat.results == ["i32"]
