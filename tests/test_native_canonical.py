"""The canonical-native fallback: the demo guest (native/demo/demo.c) built as a component
and as a native library gives the same answers through wasmtime.component (the oracle)
and through the native library called with the Canonical ABI engine at pointer width 8."""

import math
from pathlib import Path

import pytest
import wasmtime
import wasmtime.component as wc
from hypothesis import given, settings, strategies as st

from reml_wasm import toolchain, types as t, wit
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.native import CanonicalNativeLibrary
from reml_wasm.values import Err, Ok, Record, Variant, from_wasmtime, to_wasmtime

ROOT = Path(__file__).resolve().parent.parent
DEMO_WORLD = wit.load(ROOT / "wit" / "demo" / "demo.wit").world("demo")   # the WIT the guest is built from


def fn(name, params, result):
    return t.Function(name, tuple(t.Param(n, ty) for n, ty in params), result)


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
U32S = st.lists(st.integers(0, 2**32 - 1), max_size=40)
I32 = st.integers(-(2**31), 2**31 - 1)


@pytest.fixture(scope="module")
def both():
    component, native = toolchain.build_demo()
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wc.Linker(engine).instantiate(store, wc.Component.from_file(engine, str(component)))
    funcs = {}
    types = {item.function.name: item.function for item in DEMO_WORLD.exports}

    def oracle(name, *args):
        """The component's answer, with values converted both ways by reml_wasm.values."""
        if name not in funcs:
            funcs[name] = instance.get_func(store, name)
        f = types[name]
        out = funcs[name](store, *[to_wasmtime(a, p.type) for a, p in zip(args, f.params)])
        return from_wasmtime(out, f.result)

    return oracle, CanonicalNativeLibrary.open(str(native), DEMO_WORLD)


def same(oracle, native, name, *args):
    expected = oracle(name, *args)
    got = native.call(name, *args)
    assert got == expected, (name, args)
    return got


@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_strings(both, text):
    oracle, native = both
    assert same(oracle, native, "greet", text) == f"Hello, {text}!"
    same(oracle, native, "parse-u32", text)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 2**33))
def test_parse_numbers(both, n):
    oracle, native = both
    got = same(oracle, native, "parse-u32", str(n))
    assert got == (Ok(n) if n < 2**32 else Err("overflow"))


@settings(max_examples=60, deadline=None)
@given(values=U32S)
def test_lists(both, values):
    oracle, native = both
    assert same(oracle, native, "sum", values) == sum(values)
    assert same(oracle, native, "reverse", values) == values[::-1]


@settings(max_examples=40, deadline=None)
@given(x=I32, y=I32, dx=I32, dy=I32)
def test_records(both, x, y, dx, dy):
    oracle, native = both
    same(oracle, native, "translate", Record(x=x, y=y), dx, dy)


@settings(max_examples=40, deadline=None)
@given(shape=st.one_of(
    st.builds(lambda r: Variant("circle", r), st.floats(-1e100, 1e100)),
    st.builds(lambda x, y: Variant("rect", Record(x=x, y=y)), I32, I32),
    st.just(Variant("empty"))))
def test_variants(both, shape):
    oracle, native = both
    got = native.call("area", shape)
    expected = oracle("area", shape)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


@settings(max_examples=40, deadline=None)
@given(hay=st.lists(TEXT, max_size=8), needle=TEXT)
def test_lists_of_strings_and_options(both, hay, needle):
    oracle, native = both
    got = same(oracle, native, "find", hay, needle)
    assert got == (hay.index(needle) if needle in hay else None)


def test_memory_is_returned(both):
    """Arguments are freed by the guest and results by its cabi_post_*: 20,000 calls with
    64 KiB strings leave the process's heap where it was (a leak would be 1.3 GB)."""
    _, native = both
    import resource
    greet = native.function("greet")
    big = "y" * 65536
    greet(big)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(20000):
        assert len(greet(big)) == 65536 + 8
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_bad_input_is_diagnosed_before_native_code(both):
    _, native = both
    for args in ((), ("a", "b"), (5,), (None,), ("lone \ud800 surrogate",)):
        with pytest.raises(DiagnosticError) as exc:
            native.call("greet", *args)
        assert exc.value.code.startswith("ffi.value.")
    for values in ([1, -1], [1, True], [0] * 100 + [True], [2**32]):   # short lists inline, long ones by the codec
        with pytest.raises(DiagnosticError) as exc:
            native.call("sum", values)
        assert exc.value.code == "ffi.value.type_mismatch"
    with pytest.raises(DiagnosticError) as exc:
        native.call("nope")
    assert exc.value.code == "ffi.symbol.not_found"


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.integers(0, 2**32 - 1), min_size=60, max_size=300))
def test_long_lists(both, values):
    """Lists past the generated call's inline packing (64 items), and around it."""
    oracle, native = both
    same(oracle, native, "sum", values)
    assert list(same(oracle, native, "reverse", values)) == values[::-1]


def test_str_subclasses_and_long_strings(both):
    """Strings the generated call does not copy itself (a str subclass) and long ones
    answer like plain strings."""
    oracle, native = both

    class Name(str):
        pass
    assert same(oracle, native, "greet", Name("sub")) == "Hello, sub!"
    text = "\u00e9" * 5000
    assert same(oracle, native, "greet", text) == f"Hello, {text}!"


def test_missing_export_symbol(both):
    _, native = both
    world = t.World("w", exports=(t.FunctionItem(fn("not-there", [], t.U32)),))
    with pytest.raises(DiagnosticError) as exc:
        CanonicalNativeLibrary.open(native.library.path, world)
    assert exc.value.code == "ffi.symbol.not_found"
    assert exc.value.diagnostic.extensions["symbol"] == "not_there"
