"""The value convention: validation errors name the path, value classes behave."""

import copy
import math
import pickle
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.values import Err, Ok, Record, Some, ValueTypeError, Variant, check, check_args
from strategies import types, values_equal, values_of

POINT = t.RecordType("point", (t.Field("x", t.S32), t.Field("y", t.S32)))
POLYGON = t.RecordType("polygon", (t.Field("points", t.ListType(POINT)), t.Field("name", t.STRING)))
DRAW = t.Function("draw", (t.Param("shape", POLYGON), t.Param("scale", t.F32)))
SHAPE = t.VariantType("shape", (t.Case("circle", t.F64), t.Case("empty")))
COLOR = t.EnumType("color", ("red", "green"))
PERMS = t.FlagsType("perms", ("read", "write"))


def test_the_path_names_argument_field_index_and_field():
    points = [Record(x=i, y=i) for i in range(3)] + [Record(x="4", y=4)]
    with pytest.raises(ValueTypeError) as exc:
        check_args([Record(points=points, name="p"), 1.0], DRAW)
    assert exc.value.diagnostic.message == "arg 1 .points[3].x: expected s32, got str"
    assert exc.value.code == "ffi.value.type_mismatch"
    assert exc.value.path == "arg 1 .points[3].x"
    assert exc.value.diagnostic.extensions == {"path": "arg 1 .points[3].x", "expected": "s32"}


def test_a_scalar_argument_path_is_just_the_argument():
    with pytest.raises(ValueTypeError) as exc:
        check_args([Record(points=[], name="p"), "big"], DRAW)
    assert exc.value.diagnostic.message == "arg 2: expected f32, got str"


def test_arity_is_its_own_error():
    with pytest.raises(DiagnosticError) as exc:
        check_args([Record(points=[], name="p")], DRAW)
    assert exc.value.code == "ffi.value.arity"
    assert exc.value.diagnostic.extensions == {"expected": 2, "got": 1}


@pytest.mark.parametrize("value, typ, message", [
    (True, t.S32, "value: expected s32, got bool True"),
    (300, t.U8, "value: expected u8 in [0, 255], got int 300"),
    (-1, t.U64, "value: expected u64 in [0, 18446744073709551615], got int -1"),
    (1.5, t.U8, "value: expected u8, got float"),
    (1, t.BOOL, "value: expected bool, got int 1"),
    ("1.0", t.F64, "value: expected f64, got str"),
    ("ab", t.CHAR, "value: expected char (one Unicode scalar value), got str"),
    ("\ud800", t.CHAR, "value: expected char (one Unicode scalar value), got str"),
    ("a\ud800", t.STRING, "value: expected string of Unicode scalar values, got lone surrogate"),
    ("abc", t.ListType(t.CHAR), "value: expected list<char>, got str"),
    (b"ab", t.ListType(t.S8), "value: expected list<s8>, got bytes"),
    ([1, 2, 3], t.ListType(t.U32, 2), "value: expected list<u32, 2> of exactly 2 elements, got 3 elements"),
    ([1, "2"], t.ListType(t.U32), "value[1]: expected u32, got str"),
    ({"a": "b"}, t.MapType(t.STRING, t.U8), "value['a']: expected u8, got str"),
    ({1: 2}, t.MapType(t.STRING, t.U8), "value<key 1>: expected string, got int 1"),
    ((1, "x"), t.TupleType((t.U8, t.U8)), "value.1: expected u8, got str"),
    ([1, 2], t.TupleType((t.U8, t.U8)), "value: expected tuple<u8, u8>, got list"),
    (Record(x=1), POINT, "value.y: expected field of record point, got nothing"),
    ({"x": 1, "y": None}, POINT, "value.y: expected s32, got None"),
    (Variant("square"), SHAPE, "value: expected a case of variant shape (circle, empty), got tag 'square'"),
    (Variant("circle", "r"), SHAPE, "value<circle>: expected f64, got str"),
    (Variant("empty", 1), SHAPE, "value<empty>: expected no payload, got int 1"),
    ("circle", SHAPE, "value: expected variant shape, got str"),
    ("blue", COLOR, "value: expected a case of enum color (red, green), got str"),
    ({"read"}, PERMS, None),
    (frozenset({"exec"}), PERMS, "value: expected flags of perms (read, write), got unknown flag 'exec'"),
    (["read"], PERMS, "value: expected a set of flags of perms, got list"),
    ("x", t.OptionType(t.U8), "value?: expected u8, got str"),
    (5, t.OptionType(t.OptionType(t.U8)), "value: expected None or Some(...) for option<option<u8>>, got int 5"),
    (Some("x"), t.OptionType(t.OptionType(t.U8)), "value??: expected u8, got str"),
    (3, t.ResultType(t.U8), "value: expected Ok(...) or Err(...) for result<u8>, got int 3"),
    (Ok("x"), t.ResultType(t.U8), "value<ok>: expected u8, got str"),
    (Err(1), t.ResultType(t.U8), "value<err>: expected no payload, got int 1"),
])
def test_validation_messages(value, typ, message):
    if message is None:
        check(value, typ)
        return
    with pytest.raises(ValueTypeError) as exc:
        check(value, typ)
    assert exc.value.diagnostic.message == message


@dataclass
class PointObject:
    x: int
    y: int


def test_records_may_be_given_as_record_mapping_or_object():
    for value in (Record(x=1, y=2), {"x": 1, "y": 2}, PointObject(1, 2)):
        check(value, POINT)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_generated_value_is_valid(data):
    typ = data.draw(types(max_depth=3))
    check(data.draw(values_of(typ)), typ)


def test_record_values():
    r = Record(x=1, **{"y-pos": 2})
    assert r.x == 1 and getattr(r, "y-pos") == 2
    assert r.fields() == {"x": 1, "y-pos": 2}
    assert r == Record(x=1, **{"y-pos": 2}) and hash(r) == hash(Record(x=1, **{"y-pos": 2}))
    assert r != Record(**{"y-pos": 2}, x=1)  # field order is part of the value
    assert r != {"x": 1, "y-pos": 2}
    assert repr(r) == "Record(x=1, y-pos=2)"
    with pytest.raises(AttributeError):
        r.x = 3
    with pytest.raises(AttributeError):
        r.z  # noqa: B018


def test_records_copy_and_pickle():
    r = Record(x=1, pts=[Record(y=2)], **{"a-b": Some(None)})
    for clone in (copy.copy(r), copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert clone == r and list(clone.fields()) == ["x", "pts", "a-b"]
    assert copy.deepcopy(r).pts is not r.pts


def test_wrapper_values():
    assert Ok(1) == Ok(1) and Ok(1) != Err(1) and Ok() == Ok(None)
    assert Some(None) != None  # noqa: E711
    assert Variant("a") == Variant("a", None) and Variant("a", 1) != Variant("b", 1)
    assert repr(Variant("a")) == "Variant('a')" and repr(Variant("a", 1)) == "Variant('a', 1)"
    assert repr(Some(Ok(2))) == "Some(Ok(2))" and repr(Err("e")) == "Err('e')"
    assert {Ok(1), Ok(1), Err(1)} == {Ok(1), Err(1)}


def test_values_equal_is_nan_aware_and_strict():
    assert values_equal([math.nan, Record(x=math.nan)], [math.nan, Record(x=math.nan)])
    assert not values_equal(0.0, -0.0)
    assert not values_equal([1], (1,))
    assert not values_equal(1, 1.0)
    assert not values_equal(Record(x=1, y=2), Record(y=2, x=1))
    assert not values_equal(Some(None), None)
    assert values_equal({"a": [Ok(math.inf)]}, {"a": [Ok(math.inf)]})


def test_case_values_are_slotted_immutable_and_pickle():
    """Variant, Ok, Err and Some carry no instance dict (one allocation each; lifted values
    set their slots directly), stay immutable and survive pickle and copy."""
    import dataclasses

    from reml_wasm.values import SET_TAG, SET_VALUE
    for v in (Variant("a", Record(x=1)), Variant("b"), Ok(3), Err("e"), Some(None)):
        assert not hasattr(v, "__dict__")
        assert pickle.loads(pickle.dumps(v)) == v == copy.deepcopy(v)
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.value = 1  # type: ignore[misc]
    made = object.__new__(Variant)
    SET_TAG(made, "a")
    SET_VALUE[Variant](made, 2)
    assert made == Variant("a", 2) and hash(made) == hash(Variant("a", 2))
