"""Equivalence: hypothesis-generated values give the same result on the component and on
the native build, through the router, for every function of the PoC world."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm.values import Err, Ok, Record, Variant

from router_support import API, WORLD, router

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
U32 = st.integers(0, 2**32 - 1)
S32 = st.integers(-(2**31), 2**31 - 1)
S64 = st.integers(-(2**63), 2**63 - 1)
F64 = st.floats(allow_nan=True, allow_infinity=True)
LEVEL = st.sampled_from(["low", "medium", "high"])
PERMS = st.frozensets(st.sampled_from(["read", "write", "exec"]))
SHAPE = st.one_of(st.builds(Variant, st.just("circle"), F64), st.builds(Variant, st.just("square"), F64),
                  st.just(Variant("point")))
SETTINGS = settings(max_examples=40, deadline=None)


@pytest.fixture(scope="module")
def both():
    comp, native = router("component"), router("native")
    yield comp, native
    comp.close()
    native.close()


def same(both, name, *args):
    comp, native = both
    a = comp.call(f"{API}#{name}", *args)
    b = native.call(f"{API}#{name}", *args)
    if isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b, (name, args, a, b)
    else:
        assert a == b, (name, args, a, b)
    return a


def test_every_function_is_covered():
    covered = {"greet", "birthday", "area", "raise", "invert", "scale", "reverse-bytes", "find", "parse-level", "peek", "finish",
               "live-counters", "[constructor]counter", "[method]counter.add", "[method]counter.get"}
    assert {f.qualified_name for _, f in WORLD.exported_functions()} == covered


@SETTINGS
@given(name=TEXT)
def test_greet(both, name):
    assert same(both, "greet", name) == f"Hello, {name}!"


@SETTINGS
@given(name=TEXT, age=U32)
def test_birthday(both, name, age):
    assert same(both, "birthday", Record(name=name, age=age)) == Record(name=name, age=(age + 1) % 2**32)


@SETTINGS
@given(shape=SHAPE)
def test_area(both, shape):
    same(both, "area", shape)


@SETTINGS
@given(level=LEVEL, perms=PERMS)
def test_enum_and_flags(both, level, perms):
    same(both, "raise", level)
    assert same(both, "invert", perms) == frozenset({"read", "write", "exec"}) - perms


@SETTINGS
@given(values=st.lists(S32, max_size=40), by=S32)
def test_scale(both, values, by):
    got = same(both, "scale", values, by)
    assert list(got) == [((v * by + 2**31) % 2**32) - 2**31 for v in values]


@SETTINGS
@given(data=st.binary(max_size=300))
def test_reverse_bytes(both, data):
    assert same(both, "reverse-bytes", data) == data[::-1]


@SETTINGS
@given(items=st.lists(TEXT, max_size=8), needle=TEXT)
def test_find(both, items, needle):
    got = same(both, "find", items, needle)
    assert got == (items.index(needle) if needle in items else None)


@SETTINGS
@given(text=st.one_of(LEVEL, TEXT))
def test_parse_level(both, text):
    got = same(both, "parse-level", text)
    assert got == (Ok(text) if text in ("low", "medium", "high") else Err(f'not a level: "{text}"'))


@SETTINGS
@given(start=S64, steps=st.lists(S64, max_size=5), consume=st.booleans())
def test_counter_lifetimes(both, start, steps, consume):
    comp, native = both
    handles = [r.call("api#[constructor]counter", start) for r in both]
    for by in steps:
        assert len({r.call("api#[method]counter.add", h, by) for r, h in zip(both, handles)}) == 1
    assert len({r.call("api#peek", h) for r, h in zip(both, handles)}) == 1
    assert len({r.call("api#[method]counter.get", h) for r, h in zip(both, handles)}) == 1
    if consume:
        assert len({r.call("api#finish", h) for r, h in zip(both, handles)}) == 1
    else:
        for r, h in zip(both, handles):
            r.call("api#[resource-drop]counter", h)
    assert [r.call("api#live-counters") for r in both] == [0, 0]
