"""C constant folding (enum values, array lengths, #define constants) against gcc.

Hypothesis draws integer constant expressions; our value *and* C type must be what gcc
computes (checked with _Static_assert and _Generic in one compile per batch).  The ones
that fit an int also go through the whole front end as enum values."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from reml_wasm.bindgen import consteval as ce
from reml_wasm.bindgen.cmodel import TagRef
from reml_wasm.bindgen.extract import extract
from reml_wasm.bindgen.preprocess import preprocess

LITERALS = st.sampled_from([
    "0", "1", "2", "3", "7", "31", "100", "255", "0x7f", "0xff", "0x7fffffff", "0x80000000",
    "0xffffffff", "2147483647", "2147483648", "4294967295", "1u", "3U", "10l", "5L", "1ul", "2ll",
    "1ULL", "0x10", "017", "0b101", "9223372036854775807", "0xffffffffffffffff", "'a'", "'\\n'"])
CASTS = ["(int)", "(unsigned)", "(unsigned int)", "(long)", "(unsigned long)", "(long long)",
         "(unsigned char)", "(signed char)", "(short)", "(unsigned short)", "(char)"]


def _expr():
    return st.recursive(
        LITERALS,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(["-", "~", "!", "+"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(CASTS), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^",
                                              "&&", "||", "<", ">", "<=", ">=", "==", "!="]), inner)
              .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        ),
        max_leaves=8)


KIND_CODE = {"int": 1, "unsigned int": 2, "long": 3, "unsigned long": 4, "long long": 5,
             "unsigned long long": 6}
# `+(e)`: the type after integer promotion, which is what every further operation sees
# (a cast to unsigned char has that type until it is used, then it is an int)
GENERIC = ("_Generic(+({e}), int: 1, unsigned int: 2, long: 3, unsigned long: 4, long long: 5, "
           "unsigned long long: 6, default: 0)")


def _literal(v: ce.IntVal) -> str:
    if v.value == -(1 << 63):
        return "(-9223372036854775807LL - 1)"
    return f"({v.value}{'ULL' if v.value >= (1 << 63) else 'LL'})"


def _gcc_agrees(items: list[tuple[str, ce.IntVal]]) -> None:
    lines = []
    for i, (text, v) in enumerate(items):
        lines.append(f'_Static_assert(({text}) == ({v.kind}){_literal(v)}, "value#{i}");')
        lines.append(f'_Static_assert({GENERIC.format(e=text)} == {KIND_CODE[v.kind]}, "type#{i}");')
    proc = subprocess.run(["cc", "-fsyntax-only", "-x", "c", "-"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, (items, proc.stderr[:2000])


@settings(max_examples=25, deadline=None)
@given(exprs=st.lists(_expr(), min_size=1, max_size=12))
def test_folding_matches_gcc(exprs):
    items = []
    for text in exprs:
        try:
            v = ce.evaluate(text)
        except ce.ConstEvalError:
            continue  # undefined in C (overflow, division by zero, bad shift): gcc rejects it too
        assert isinstance(v, ce.IntVal)
        items.append((text, v))
    assume(items)
    _gcc_agrees(items)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exprs=st.lists(_expr(), min_size=1, max_size=8))
def test_enum_values_through_the_front_end_match_gcc(exprs, tmp_path):
    fitting = []
    for text in exprs:
        try:
            v = ce.evaluate(text)
        except ce.ConstEvalError:
            continue
        if -(1 << 31) <= v.value < (1 << 31) - 1:  # room for P_NEXT
            fitting.append(text)
    assume(fitting)
    header = tmp_path / "e.h"
    header.write_text("enum probe { " + ", ".join(f"P{i} = {t}" for i, t in enumerate(fitting))
                      + ", P_NEXT };\n")
    model = extract(preprocess([header], [], []), (str(header),))
    consts = model.enum(TagRef("enum", "probe")).constants
    checks = [f'#include "{header}"']
    checks += [f'_Static_assert({c.name} == {c.value}, "{c.name}");' for c in consts]
    proc = subprocess.run(["cc", "-fsyntax-only", "-x", "c", "-"], input="\n".join(checks) + "\n",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:2000]
    assert consts[-1].value == consts[-2].value + 1


@pytest.mark.parametrize("text,value,kind", [
    ("-1U", 0xFFFFFFFF, "unsigned int"), ("1u << 31", 1 << 31, "unsigned int"),
    ("-7 / 2", -3, "int"), ("-7 % 2", -1, "int"), ("-8 >> 1", -4, "int"),
    ("2147483648", 2147483648, "long"), ("0x80000000", 0x80000000, "unsigned int"),
    ("(unsigned char)300", 44, "int"), ("1 ? 2u : -1", 2, "unsigned int"),
    ("-1 < 0u", 0, "int"), ("-1L < 0u", 1, "int"), ("'\\xff'", -1, "int"),
])
def test_known_folds(text, value, kind):
    assert ce.evaluate(text) == ce.IntVal(value, kind)


def test_strings_floats_and_names():
    names = {"MAJOR": ce.StrVal(b"5"), "BASE": ce.IntVal(10)}
    assert ce.evaluate('"Lua " MAJOR "." "4"', names.get) == ce.StrVal(b"Lua 5.4")
    assert ce.evaluate("(-BASE - 1000)", names.get) == ce.IntVal(-1010)
    assert ce.evaluate("1.5e3f") == ce.FloatVal(1500.0, "float")
    assert ce.evaluate("0x1p-2") == ce.FloatVal(0.25)
    assert ce.evaluate("((lua_Integer)1 << 40)", type_kind={"lua_Integer": "long long"}.get) == \
        ce.IntVal(1 << 40, "long long")
    sizes = {("sizeof", "long"): 8, ("_Alignof", "double"): 8}
    assert ce.evaluate("sizeof(long) * 2", size_of=lambda w: sizes.get(tuple(w))) == \
        ce.IntVal(16, "unsigned long")
    assert ce.evaluate("__alignof__(double)", size_of=lambda w: sizes.get(tuple(w))) == \
        ce.IntVal(8, "unsigned long")


@pytest.mark.parametrize("text", ["1 / 0", "2147483647 + 1", "1 << 32", "-1 << 1", "f(1)", "x",
                                  "1 +", "(1", '"a" + 1', "1 2"])
def test_not_constants(text):
    with pytest.raises(ce.ConstEvalError):
        ce.evaluate(text)
