"""`resource.new` made in C on the fast path (connectors/component/handles.py): the
oracle guest's `counter` made, read back, moved and dropped in every order gives the same
results -- the same handle indices the guest sees, the same destructor calls -- as the
fast path with `resource.new` in Python and as wasmtime.component."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import cabi, toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.component import Component
from reml_wasm.connectors.component import fast as fast_module

from cabi_helpers import oracle_generator

gen = oracle_generator()
RES = "reml:cabi-oracle/res"


@pytest.fixture(scope="module")
def oracle():
    return Component.from_file(toolchain.build_component([gen.C_PATH], gen.WIT_PATH, "oracle",
                                                         include_dirs=[gen.C_PATH.parent]))


def _python_made(oracle, monkeypatch):
    """A fast instance whose `resource.new` is the Python entry (no C built-in)."""
    with monkeypatch.context() as m:
        m.setattr(fast_module, "native_resource_new", lambda *args: None)
        return oracle.instantiate(path="fast")


def _tables(inst):
    (tables,) = set(inst.backend.resource_tables.values())
    return tables


def test_the_fast_path_makes_handles_in_c(oracle, monkeypatch):
    assert _tables(oracle.instantiate(path="fast")).native_record() is not None
    assert _tables(_python_made(oracle, monkeypatch)).native_record() is None


def _funcs(inst):
    names = ("[constructor]counter", "[method]counter.get", "[method]counter.bump", "take", "pair", "handles",
             "destroyed")
    return {n: inst.func(f"{RES}#{n}") for n in names}


def _run(inst, ops):
    """Apply `ops` to one instance; every result, handle index and error kind in order."""
    f = _funcs(inst)
    held: list = []
    out: list = [f["destroyed"]()]
    for op, k in ops:
        try:
            if op == "new":
                held.append(f["[constructor]counter"](k))
            elif op == "pair":
                held.extend(f["pair"](k, k + 1))
            elif op == "handles":
                out.append(f["handles"]())
            elif held and op == "take":
                out.append(f["take"](held.pop(k % len(held))))
            elif held and op == "get":
                out.append(f["[method]counter.get"](held[k % len(held)]))
            elif held and op == "bump":
                out.append(f["[method]counter.bump"](held[k % len(held)], k))
            elif held and op == "drop":
                inst.drop(held.pop(k % len(held)))
            elif held and op == "drop-twice":
                c = held.pop(k % len(held))
                inst.drop(c)
                inst.drop(c)
        except DiagnosticError as exc:
            out.append(exc.code)
    out.append(f["destroyed"]() - out[0])
    for c in held:
        inst.drop(c)
    out.append(f["destroyed"]() - out[0])
    out[0] = "start"
    return out


SCRIPT = [("handles", 0), ("pair", 3), ("get", 0), ("get", 1), ("new", 5), ("take", 0), ("handles", 0),
          ("take", 1), ("drop", 0), ("handles", 0), ("new", 7), ("new", 8), ("drop", 0), ("handles", 0),
          ("drop-twice", 0), ("new", 9), ("bump", 3), ("get", 0), ("handles", 0)]


def test_a_fixed_script_matches_the_python_table_and_wasmtime(oracle, monkeypatch):
    c_made = _run(oracle.instantiate(path="fast"), SCRIPT)
    python_made = _run(_python_made(oracle, monkeypatch), SCRIPT)
    reference = _run(oracle.instantiate(path="wasmtime"), SCRIPT)
    assert c_made == python_made
    # handle indices: 1 and 2 at first; after two drops the free list gives them back last-in first
    assert c_made[1] == 1 + 65536 * 2
    assert c_made[-1] == 16  # every counter (two from each `handles` call) destroyed exactly once
    assert [x for x in c_made if isinstance(x, str)] == ["start", "cabi.trap"]  # the second drop
    assert c_made[-5:-2] == [None, 9 + 3, 65538]  # bump, get, then the indices of two handles again
    assert reference == c_made

def test_a_handle_made_in_c_is_seen_by_the_table(oracle):
    """The guest's handle made in C and left in its table (a trap ended the call before
    it was returned) is one the Python side knows: counted, droppable by the guest."""
    inst = oracle.instantiate(path="fast")
    tables = _tables(inst)
    new = inst.func(f"{RES}#[constructor]counter")
    c = new(1)
    assert tables.live_handles(c.type) == 0  # moved out to the host
    handle = tables.lower_own(c.type, c)  # given to the guest: Python makes the next handle
    assert handle == 1
    made = inst.func(f"{RES}#handles")()  # two more, made from C then Python, both dropped
    assert made == 2 + 65536 * 3
    assert tables.live_handles(c.type) == 1
    assert tables.lift_own(c.type, handle).rep == c.rep
    assert tables.live_handles(c.type) == 0


ops = st.lists(st.tuples(st.sampled_from(["new", "pair", "handles", "take", "get", "bump", "drop", "drop-twice"]),
                         st.integers(0, 5)), max_size=14)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=ops)
def test_any_script_matches_the_python_table(oracle, monkeypatch, script):
    assert _run(oracle.instantiate(path="fast"), script) == _run(_python_made(oracle, monkeypatch), script)


def test_the_resource_value_keeps_its_rules(oracle):
    inst = oracle.instantiate(path="fast")
    c = inst.func(f"{RES}#[constructor]counter")(4)
    assert isinstance(c, cabi.Resource) and c.own and not c.moved
    inst.func(f"{RES}#[method]counter.bump")(c, 2)
    assert inst.func(f"{RES}#take")(c) == 6
    assert c.moved
    with pytest.raises(DiagnosticError):
        inst.func(f"{RES}#[method]counter.get")(c)
