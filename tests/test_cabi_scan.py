"""`cabi.scan.has_bool`: the C scan (long lists and tuples) answers as the Python pass,
and number lists with a bool are refused on every path that packs them; the C packing and
reading of integer lists agree with `array`."""

import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reml_wasm.cabi import scan
from reml_wasm.cabi.numbers import NumberList, pack_numbers

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


INT_RANGES = {"b": (-2**7, 2**7 - 1), "B": (0, 2**8 - 1), "h": (-2**15, 2**15 - 1), "H": (0, 2**16 - 1),
              "i": (-2**31, 2**31 - 1), "I": (0, 2**32 - 1), "q": (-2**63, 2**63 - 1), "Q": (0, 2**64 - 1)}


class Small(int):
    """An int subclass: not an exact int, so the C packing leaves it to `array`."""


def test_the_c_int_conversions_are_built_here():
    assert scan.int_bulk() is not None          # a compiler is part of the dev set-up


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(sorted(INT_RANGES)), data=st.data())
def test_c_packing_and_reading_match_array(code, data):
    """Exact ints in range pack as `array` packs them and read back as `array` reads
    them; a list with anything else (a bool, an int out of range, a float, an int
    subclass, None) is left to the slower path (None)."""
    bulk = scan.int_bulk()
    lo, hi = INT_RANGES[code]
    values = data.draw(st.lists(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, 0])), max_size=150))
    packed = bulk.pack(values, code)
    assert packed == array.array(code, values).tobytes()
    out = NumberList.__new__(NumberList)
    bulk.fill(out, packed, code)
    assert type(out) is NumberList and list.__eq__(out, values)
    bad = data.draw(st.sampled_from([lo - 1, hi + 1, True, False, 1.0, Small(1), None, 2**70, -2**70]))
    at = data.draw(st.integers(0, len(values)))
    assert bulk.pack(values[:at] + [bad] + values[at:], code) is None
    assert bulk.pack(tuple(values), code) is None


def test_c_reading_refuses_a_used_list_and_a_ragged_buffer():
    bulk = scan.int_bulk()
    with pytest.raises(TypeError):
        bulk.fill([1], b"\0\0\0\0", "I")
    with pytest.raises(ValueError):
        bulk.fill(NumberList.__new__(NumberList), b"\0\0\0", "I")
    with pytest.raises(ValueError):
        bulk.pack([1], "f")
