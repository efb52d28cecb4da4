"""Every Canonical ABI oracle export (the cabi issue's function list), compiled from one C
source as a component and as a native library, answers alike: wasmtime.component on the
component is the oracle; the native library runs through the engine at pointer width 8."""

from __future__ import annotations

import struct

import pytest
import wasmtime
import wasmtime.component as wc
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import toolchain
from reml_wasm.cabi import scan
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.native import CanonicalNativeLibrary
from reml_wasm.values import from_wasmtime, to_wasmtime
from cabi_helpers import oracle_generator
from strategies import same_value, values_of

gen = oracle_generator()
FUNCTIONS = {f.name: f for f in gen.functions()}


class Both:
    def __init__(self) -> None:
        include = [gen.C_PATH.parent]
        component = toolchain.build_component([gen.C_PATH], gen.WIT_PATH, "oracle", include_dirs=include)
        native = toolchain.build_native([gen.C_PATH], name="oracle", include_dirs=include)
        engine = wasmtime.Engine()
        self.store = wasmtime.Store(engine)
        self.instance = wc.Linker(engine).instantiate(self.store, wc.Component.from_file(engine, str(component)))
        self.native_path = native
        self.native = CanonicalNativeLibrary.open(str(native), FUNCTIONS)

    def via_component(self, name: str, args: list) -> object:
        func = self.instance.get_func(self.store, name)
        f = FUNCTIONS[name]
        wargs = [to_wasmtime(a, p.type) for a, p in zip(args, f.params)]
        return from_wasmtime(func(self.store, *wargs), f.result)


@pytest.fixture(scope="module")
def both() -> Both:
    return Both()


def test_one_source_has_both_layouts() -> None:
    text = gen.C_PATH.read_text()
    assert "#if UINTPTR_MAX == 0xFFFFFFFFu" in text and "#else" in text
    # echo-string takes (ptr, len): 32-bit words in wasm32, 64-bit natively
    assert "void *echo_string(uint32_t p0, uint32_t p1)" in text
    assert "void *echo_string(uint64_t p0, uint64_t p1)" in text


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_native_matches_component(both: Both, name: str, data: st.DataObject) -> None:
    f = FUNCTIONS[name]
    args = [data.draw(values_of(p.type), label=p.name) for p in f.params]
    expected = both.via_component(name, args)
    got = both.native.call(name, *args)
    assert same_value(got, expected), (got, expected)
    echoed = tuple(args) if name == "many" else args[0]
    assert same_value(got, echoed)


NAN_PAYLOADS = [struct.unpack("<d", struct.pack("<Q", bits))[0]
                for bits in (0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001)]
LIST_ELEMENTS = {
    "echo-list-u32": st.integers(0, 2**32 - 1),
    "echo-list-s8": st.integers(-128, 127),
    "echo-list-f64": st.one_of(st.floats(allow_nan=False, width=64), st.sampled_from(NAN_PAYLOADS)),
}


@pytest.mark.parametrize("name", sorted(LIST_ELEMENTS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lists_of_numbers_around_the_short_path(both: Both, name: str, data: st.DataObject) -> None:
    """Lists of numbers of every length around the generated call's struct packing (64
    items) and past it (array + bool scan + one copy) answer as the component does, as a
    NumberList, NaNs (with any payload) made canonical; a list, a tuple and an array in
    give the same list out."""
    values = data.draw(st.lists(LIST_ELEMENTS[name], min_size=0, max_size=150), label="values")
    got = both.native.call(name, values)
    assert type(got).__name__ == "NumberList"
    assert same_value(got, both.via_component(name, [values]))
    assert same_value(got, values)
    if name == "echo-list-f64":
        assert all(struct.pack("<d", x) == struct.pack("<Q", 0x7FF8000000000000) for x in got if x != x)
    assert got == both.native.call(name, tuple(values))


@pytest.mark.parametrize("size", [3, 64, 65, 200])
def test_bad_numbers_in_a_list_are_diagnosed(both: Both, size: int) -> None:
    """A bool, an out-of-range integer, a float among integers or a str among floats is
    refused with the value diagnostic, at every length of the generated call's paths."""
    for name, bad in (("echo-list-u32", True), ("echo-list-u32", -1), ("echo-list-u32", 2**32),
                      ("echo-list-u32", 1.5), ("echo-list-s8", 128), ("echo-list-s8", False),
                      ("echo-list-f64", "x"), ("echo-list-f64", True)):
        values = [0] * (size - 1) + [bad] if name != "echo-list-f64" else [0.5] * (size - 1) + [bad]
        with pytest.raises(DiagnosticError) as exc:
            both.native.call(name, values)
        assert exc.value.code == "ffi.value.type_mismatch", (name, bad, size)


def test_lists_of_numbers_without_the_c_conversions(both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no compiler builds the C conversions of integer lists, the generated calls
    pack with struct / array and read with struct / array, and answer alike."""
    monkeypatch.setattr(scan, "_c_ints", None)
    plain = CanonicalNativeLibrary.open(str(both.native_path), FUNCTIONS)
    for size in (0, 3, 64, 65, 200):
        for name, values in (("echo-list-u32", [(k * 2654435761) % 2**32 for k in range(size)]),
                             ("echo-list-s8", [(k * 37) % 256 - 128 for k in range(size)]),
                             ("echo-list-f64", [k / 7 for k in range(size)] + NAN_PAYLOADS)):
            got = plain.call(name, values)
            assert type(got).__name__ == "NumberList" and same_value(got, values)
            assert same_value(got, both.native.call(name, values))
            assert same_value(got, both.via_component(name, [values]))
        for bad in (True, -1, 2**32, 1.5):
            with pytest.raises(DiagnosticError) as exc:
                plain.call("echo-list-u32", [0] * size + [bad])
            assert exc.value.code == "ffi.value.type_mismatch"
