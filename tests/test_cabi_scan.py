"""`cabi.scan.has_bool`: the C scan (long lists and tuples) answers as the Python pass,
and number lists with a bool are refused on every path that packs them."""

import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reml_wasm.cabi import scan
from reml_wasm.cabi.numbers import pack_numbers

ITEMS = st.one_of(st.integers(-2**63, 2**64 - 1), st.booleans(), st.floats(allow_nan=False))


def test_the_c_scan_is_built_here():
    scan.has_bool(list(range(scan.C_SCAN_FROM)))
    assert scan._c_scan is not None          # a compiler is part of the dev set-up


@settings(max_examples=80, deadline=None)
@given(st.lists(ITEMS, max_size=200), st.booleans())
def test_c_and_python_answer_alike(values, as_tuple):
    seq = tuple(values) if as_tuple else values
    assert scan.has_bool(seq) == scan.has_bool_python(seq) == any(type(v) is bool for v in values)


@pytest.mark.parametrize("n", [0, 1, scan.C_SCAN_FROM - 1, scan.C_SCAN_FROM, 1000])
@pytest.mark.parametrize("where", [None, 0, -1])
def test_positions(n, where):
    values = list(range(n))
    if where is not None and n:
        values[where] = True
    expected = where is not None and n > 0
    assert scan.has_bool(values) is expected
    assert scan.has_bool(tuple(values)) is expected


def test_other_sequences_use_the_python_pass():
    assert scan.has_bool(array.array("I", range(100))) is False
    assert scan.has_bool(range(100)) is False


@pytest.mark.parametrize("values", [[1, True], [0] * 100 + [False], (5,) * 60 + (True,)])
def test_pack_numbers_refuses_bools(values):
    with pytest.raises(TypeError):
        pack_numbers("I", values)
