"""The oracle: project-written guest echo functions (native/cabi_oracle, generated C and
WIT) called with hypothesis values through wasmtime.component and through the same
component's core module marshalled by this engine.  Results must be identical."""

from __future__ import annotations

import pytest
import wasmtime
import wasmtime.component as wc
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import toolchain
from reml_wasm import types as t
from reml_wasm.cabi import CanonicalOptions, Resource, ResourceTables, WasmtimeMemory, export_plan
from reml_wasm.cabi.reference import reference_export_plan
from reml_wasm.values import from_wasmtime, to_wasmtime
from reml_wasm.connectors.component.fast import CoreSession

from cabi_helpers import oracle_generator
from strategies import same_value, values_of

gen = oracle_generator()

FUNCTIONS = {f.name: f for f in gen.functions()}

# The exported resource `counter` (native/cabi_oracle/counter.h).
RES = "reml:cabi-oracle/res"
COUNTER = t.ResourceType("counter", owner=RES)
RES_FUNCS = {
    "[constructor]counter": t.Function("counter", (t.Param("start", t.U32),), t.OwnType(COUNTER),
                                       kind="constructor", resource="counter"),
    "[method]counter.get": t.Function("get", (t.Param("self", t.BorrowType(COUNTER)),), t.U32,
                                      kind="method", resource="counter"),
    "[method]counter.bump": t.Function("bump", (t.Param("self", t.BorrowType(COUNTER)), t.Param("by", t.U32)),
                                       kind="method", resource="counter"),
    "take": t.Function("take", (t.Param("c", t.OwnType(COUNTER)),), t.U32),
    "destroyed": t.Function("destroyed", (), t.U32),
}


def test_generated_guest_is_current() -> None:
    assert gen.C_PATH.read_text() == gen.c_text()
    assert gen.WIT_PATH.read_text() == gen.wit_text()


class Oracle:
    def __init__(self) -> None:
        component = toolchain.build_component([gen.C_PATH], gen.WIT_PATH, "oracle", include_dirs=[gen.C_PATH.parent])
        engine = wasmtime.Engine()
        self.cstore = wasmtime.Store(engine)
        self.component = wc.Linker(engine).instantiate(self.cstore, wc.Component.from_file(engine, str(component)))
        core = CoreGuest()
        self.exports = {name: core.fast.func(core.exports[name], name) for name in FUNCTIONS}
        self.opts = core.opts
        self.plans = {name: export_plan(f, self.opts) for name, f in FUNCTIONS.items()}
        self.reference = {name: reference_export_plan(f, self.opts) for name, f in FUNCTIONS.items()}

    def via_wasmtime(self, name: str, args: list) -> object:
        func = self.component.get_func(self.cstore, name)
        f = FUNCTIONS[name]
        wargs = [to_wasmtime(a, p.type) for a, p in zip(args, f.params)]
        result = func(self.cstore, *wargs)
        return from_wasmtime(result, f.result)

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


class ComponentCounters:
    def __init__(self) -> None:
        component = toolchain.build_component([gen.C_PATH], gen.WIT_PATH, "oracle", include_dirs=[gen.C_PATH.parent])
        engine = wasmtime.Engine()
        self.store = wasmtime.Store(engine)
        inst = wc.Linker(engine).instantiate(self.store, wc.Component.from_file(engine, str(component)))
        iface = inst.get_export_index(self.store, RES)
        self.funcs = {n: inst.get_func(self.store, inst.get_export_index(self.store, n, iface)) for n in RES_FUNCS}

    def call(self, name: str, *args):
        return self.funcs[name](self.store, *args)

    def drop(self, res) -> None:
        res.drop(self.store)


class CoreGuest:
    """The oracle's core module on plain wasmtime, resource intrinsics served by this
    engine's ResourceTables."""

    def __init__(self) -> None:
        core = toolchain.build_core_module([gen.C_PATH], include_dirs=[gen.C_PATH.parent])
        engine = wasmtime.Engine()
        self.store = wasmtime.Store(engine)
        self.tables = ResourceTables(implements={COUNTER})
        i32 = wasmtime.ValType.i32()
        new = wasmtime.Func(self.store, wasmtime.FuncType([i32], [i32]),
                            lambda rep: self.tables.new(COUNTER, rep))
        rep = wasmtime.Func(self.store, wasmtime.FuncType([i32], [i32]),
                            lambda h: self.tables.rep(COUNTER, h))
        drop = wasmtime.Func(self.store, wasmtime.FuncType([i32], []),
                             lambda h: (self.tables.drop(COUNTER, h), None)[1])
        module = wasmtime.Module.from_file(engine, str(core))
        imports = {f"[export]{RES}": {"[resource-new]counter": new, "[resource-rep]counter": rep,
                                      "[resource-drop]counter": drop}}
        externs = [imports[imp.module][imp.name] for imp in module.imports]
        ex = wasmtime.Instance(self.store, module, externs).exports(self.store)
        self.fast = CoreSession(self.store)
        opts = CanonicalOptions(memory=WasmtimeMemory(ex["memory"], self.store),
                                realloc=self.fast.func(ex["cabi_realloc"]), resources=self.tables)
        dtor = self.fast.func(ex[f"{RES}#[dtor]counter"])
        self.tables.dtors[COUNTER] = lambda rep: dtor(rep)
        self.exports, self.opts = ex, opts


class EngineCounters:
    def __init__(self) -> None:
        core = CoreGuest()
        self.tables = core.tables
        self.plans = {n: (export_plan(f, core.opts), core.fast.func(core.exports[f"{RES}#{n}"], n))
                      for n, f in RES_FUNCS.items()}

    def call(self, name: str, *args):
        plan, core = self.plans[name]
        return plan.call(core, list(args))

    def drop(self, res) -> None:
        self.tables.drop_resource(res)


ops = st.lists(st.one_of(
    st.tuples(st.just("new"), st.integers(0, 1000)),
    st.tuples(st.just("bump"), st.integers(0, 7), st.integers(0, 1000)),
    st.tuples(st.just("get"), st.integers(0, 7)),
    st.tuples(st.just("take"), st.integers(0, 7)),
    st.tuples(st.just("drop"), st.integers(0, 7))), max_size=25)


def run_ops(world, script) -> list:
    live: list = []
    log: list = []
    for op in script:
        if op[0] == "new":
            live.append(world.call("[constructor]counter", op[1]))
            continue
        if not live:
            continue
        i = op[1] % len(live)
        if op[0] == "bump":
            world.call("[method]counter.bump", live[i], op[2])
        elif op[0] == "get":
            log.append(("get", world.call("[method]counter.get", live[i])))
        elif op[0] == "take":
            log.append(("take", world.call("take", live.pop(i))))
        else:
            world.drop(live.pop(i))
        log.append(("destroyed", world.call("destroyed")))
    return log


@settings(max_examples=30, deadline=None)
@given(ops)
def test_resources_match_wasmtime(script) -> None:
    assert run_ops(EngineCounters(), script) == run_ops(ComponentCounters(), script)


def test_engine_resource_handles_are_owned_once() -> None:
    world = EngineCounters()
    c = world.call("[constructor]counter", 5)
    assert isinstance(c, Resource) and c.own and world.tables.live_handles(COUNTER) == 0
    assert world.call("take", c) == 5 and world.call("destroyed") == 1
    from reml_wasm.values import ValueTypeError
    with pytest.raises(ValueTypeError):
        world.call("take", c)  # moved already
    with pytest.raises(ValueTypeError):
        world.drop(c)
