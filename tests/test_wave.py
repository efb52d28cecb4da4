"""WAVE: round trips (property), every syntax form, and error codes with columns."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.values import Err, Ok, Record, Some, ValueTypeError, Variant
from reml_wasm.wave import (float_text, parse_args, parse_call, parse_call_args, parse_value,
                            print_value)
from strategies import functions, types, values_equal, values_of

POINT = t.RecordType("point", (t.Field("x", t.S32), t.Field("y", t.S32)))
OPTS = t.RecordType("opts", (t.Field("must-have", t.U8), t.Field("optional", t.OptionType(t.U8))))
ALL_OPT = t.RecordType("all-optional", (t.Field("optional", t.OptionType(t.U8)),))
SHAPE = t.VariantType("shape", (t.Case("circle", t.F64), t.Case("rect", POINT), t.Case("empty"),
                                t.Case("none"), t.Case("err", t.STRING)))
COLOR = t.EnumType("color", ("red", "green", "ok", "record"))
PERMS = t.FlagsType("perms", ("read", "write", "exec"))
OPT_OPT = t.OptionType(t.OptionType(t.U32))


# --- property: print -> parse is the identity ----------------------------------------------

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_print_then_parse_gives_the_same_value(data):
    typ = data.draw(types(max_depth=3))
    value = data.draw(values_of(typ))
    text = print_value(value, typ)
    back = parse_value(text, typ)
    assert values_equal(back, value), (typ.wit(), text, back, value)
    assert print_value(back, typ) == text


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_printed_calls_parse_back_to_the_arguments(data):
    func = data.draw(functions(max_params=3, max_depth=2))
    args = [data.draw(values_of(p.type)) for p in func.params]
    call = f"{func.name}(" + ", ".join(print_value(a, p.type) for a, p in zip(args, func.params)) + ")"
    name, raw = parse_call(call)
    assert name == func.name and len(raw) == len(args)
    for parsed in (parse_call_args(call, func), parse_args(raw, func)):
        assert all(values_equal(x, y) for x, y in zip(parsed, args)), (call, parsed, args)


@given(st.floats(width=32))
def test_f32_text_is_shortest_that_reads_back(x):
    text = float_text(x, single=True)
    assert values_equal(parse_value(text, t.F32), x)
    if not math.isnan(x) and not math.isinf(x) and x != 0:
        # one significant digit fewer does not read back as the same f32
        mantissa = text.lstrip("-").split("e")[0].replace(".", "").strip("0")
        if len(mantissa) > 1:
            assert parse_value(f"{x:.{len(mantissa) - 1}g}", t.F32) != x


# --- every form ------------------------------------------------------------------------

@pytest.mark.parametrize("text, typ, value", [
    ("true", t.BOOL, True),
    ("false", t.BOOL, False),
    ("-9", t.S8, -9),
    ("18446744073709551615", t.U64, 2**64 - 1),
    ("-9223372036854775808", t.S64, -2**63),
    ("3.5", t.F64, 3.5),
    ("6.022e+23", t.F64, 6.022e23),
    ("1E-3", t.F64, 0.001),
    ("7", t.F32, 7.0),
    ("inf", t.F64, math.inf),
    ("-inf", t.F32, -math.inf),
    ("-0.0", t.F64, -0.0),
    ("'x'", t.CHAR, "x"),
    ("'\\''", t.CHAR, "'"),
    ("'\\u{0}'", t.CHAR, "\0"),
    ("'☃'", t.CHAR, "☃"),
    ('"esc\\u{1F600}"', t.STRING, "esc\U0001F600"),
    ('"a\\tb\\n\\r\\\\\\"\'"', t.STRING, "a\tb\n\r\\\"'"),
    ('""', t.STRING, ""),
    ('"""\n    Indentation determined\n      by ending delimiter\n  """', t.STRING,
     "  Indentation determined\n    by ending delimiter"),
    ('"""\nA single line\n"""', t.STRING, "A single line"),
    ('"""\r\n  crlf \\r\r\n  ""\\""\r\n  """', t.STRING, 'crlf \r\n""""'),
    ("[1, 2, 3]", t.ListType(t.U32), [1, 2, 3]),
    ("[1, 2,]", t.ListType(t.U8), b"\x01\x02"),
    ("[]", t.ListType(t.CHAR), []),
    ("[1, 2]", t.ListType(t.U16, 2), [1, 2]),
    ('(123, "abc")', t.TupleType((t.U8, t.STRING)), (123, "abc")),
    ("{x: 1, y: -2}", POINT, Record(x=1, y=-2)),
    ("{ y: -2, %x: 1, }", POINT, Record(x=1, y=-2)),
    ("{must-have: 123}", OPTS, Record(**{"must-have": 123, "optional": None})),
    ("{must-have: 1, optional: 7}", OPTS, Record(**{"must-have": 1, "optional": 7})),
    ("{:}", ALL_OPT, Record(optional=None)),
    ("circle(2.5)", SHAPE, Variant("circle", 2.5)),
    ("rect({x: 0, y: 1})", SHAPE, Variant("rect", Record(x=0, y=1))),
    ("empty", SHAPE, Variant("empty")),
    ("%none", SHAPE, Variant("none")),
    ('%err("oops")', SHAPE, Variant("err", "oops")),
    ("%circle(1)", SHAPE, Variant("circle", 1.0)),
    ("red", COLOR, "red"),
    ("%ok", COLOR, "ok"),
    ("record", COLOR, "record"),
    ("{read, write}", PERMS, frozenset({"read", "write"})),
    ("{write, read,}", PERMS, frozenset({"read", "write"})),
    ("{}", PERMS, frozenset()),
    ("some(5)", t.OptionType(t.U8), 5),
    ("5", t.OptionType(t.U8), 5),
    ("none", t.OptionType(t.U8), None),
    ('"flat some"', t.OptionType(t.STRING), "flat some"),
    ("some(none)", OPT_OPT, Some(None)),
    ("some(some(3))", OPT_OPT, Some(3)),
    ("some(3)", OPT_OPT, Some(3)),
    ("none", OPT_OPT, None),
    ("ok(1)", t.ResultType(t.U8), Ok(1)),
    ("1", t.ResultType(t.U8), Ok(1)),
    ("ok", t.ResultType(None, t.STRING), Ok()),
    ('err("oops")', t.ResultType(None, t.STRING), Err("oops")),
    ("ok", t.ResultType(), Ok()),
    ("err", t.ResultType(), Err()),
    ("err(2)", t.ResultType(t.U8, t.U8), Err(2)),
    ("ok(none)", t.ResultType(t.OptionType(t.U8)), Ok(None)),
    ('[("a", 1), ("b", 2)]', t.MapType(t.STRING, t.U32), {"a": 1, "b": 2}),
    ("// a comment\n [1, // one\n 2]", t.ListType(t.S32), [1, 2]),
    ("5", t.TypeAlias("n", t.U8), 5),
])
def test_parse_forms(text, typ, value):
    assert values_equal(parse_value(text, typ), value)


@pytest.mark.parametrize("value, typ, text", [
    (Record(x=1, y=-2), POINT, "{x: 1, y: -2}"),
    (Record(**{"must-have": 1, "optional": None}), OPTS, "{must-have: 1}"),
    (Record(optional=None), ALL_OPT, "{:}"),
    (Variant("none"), SHAPE, "%none"),
    (Variant("err", "x"), SHAPE, '%err("x")'),
    ("ok", COLOR, "%ok"),
    ("record", COLOR, "record"),
    (frozenset({"exec", "read"}), PERMS, "{read, exec}"),
    (Some(None), OPT_OPT, "some(none)"),
    (Some(4), OPT_OPT, "some(some(4))"),
    (4, t.OptionType(t.U8), "some(4)"),
    (Ok(), t.ResultType(), "ok"),
    (Err("e"), t.ResultType(t.U8, t.STRING), 'err("e")'),
    ("tab\there\n\u0007'\"\\😀", t.STRING, "\"tab\\there\\n\\u{7}\\'\\\"\\\\😀\""),
    ("'", t.CHAR, "'\\''"),
    (math.nan, t.F64, "nan"),
    (-math.inf, t.F64, "-inf"),
    (0.1, t.F64, "0.1"),
    (0.1, t.F32, "0.1"),
    (16777217, t.F32, "16777216.0"),
    (100, t.F32, "100.0"),
    (1e-5, t.F32, "1e-05"),
    (3.4028235e38, t.F32, "3.4028235e+38"),
    (b"\x00\xff", t.ListType(t.U8), "[0, 255]"),
    ({1: "a"}, t.MapType(t.U8, t.STRING), '[(1, "a")]'),
])
def test_print_forms(value, typ, text):
    assert print_value(value, typ) == text


def test_print_checks_the_value_first():
    with pytest.raises(ValueTypeError) as exc:
        print_value(Record(x=1, y="two"), POINT)
    assert "value.y: expected s32, got str" in str(exc.value)


# --- errors: code and column -----------------------------------------------------------

@pytest.mark.parametrize("text, typ, code, column", [
    ('{x: 1, y: "a"}', POINT, "wave.type_mismatch", 11),
    ("{x: 1}", POINT, "wave.record.missing_field", 6),
    ("{x: 1, z: 2}", POINT, "wave.label", 8),
    ("{x: 1, x: 2}", POINT, "wave.record.duplicate_field", 8),
    ("{x 1}", POINT, "wave.syntax", 4),
    ("{}", ALL_OPT, "wave.syntax", 2),
    ("[1, 2 3]", t.ListType(t.U8), "wave.syntax", 7),
    ("[1, 256]", t.ListType(t.U8), "wave.range", 5),
    ("-1", t.U32, "wave.range", 1),
    ("1.5", t.S32, "wave.type_mismatch", 1),
    ("01", t.S32, "wave.syntax", 2),
    ("  true", t.S32, "wave.type_mismatch", 3),
    ("[1, 2, 3]", t.ListType(t.U8, 2), "wave.list.length", 1),
    ("(1, 2, 3)", t.TupleType((t.U8, t.U8)), "wave.tuple.length", 8),
    ("(1)", t.TupleType((t.U8, t.U8)), "wave.tuple.length", 3),
    ("'ab'", t.CHAR, "wave.syntax", 1),
    ("''", t.CHAR, "wave.syntax", 1),
    ('"abc', t.STRING, "wave.syntax", 1),
    ('"a\nb"', t.STRING, "wave.syntax", 1),
    ('"ab\\q"', t.STRING, "wave.escape", 4),
    ('"\\u{D800}"', t.STRING, "wave.escape", 2),
    ('"\\u{110000}"', t.STRING, "wave.escape", 2),
    ('"\\u{1234567}"', t.STRING, "wave.escape", 2),
    ('x"', t.STRING, "wave.type_mismatch", 1),
    ("circle", SHAPE, "wave.syntax", 7),
    ("empty(1)", SHAPE, "wave.syntax", 6),
    ("none", SHAPE, "wave.label", 1),
    ("square", SHAPE, "wave.label", 1),
    ("ok", COLOR, "wave.label", 1),
    ("blue", COLOR, "wave.label", 1),
    ("{read, read}", PERMS, "wave.flags.duplicate", 8),
    ("{read, sing}", PERMS, "wave.label", 8),
    ("3", OPT_OPT, "wave.type_mismatch", 1),
    ("some 3", t.OptionType(t.U8), "wave.syntax", 5),
    ("ok(1)", t.ResultType(), "wave.syntax", 3),
    ("ok", t.ResultType(t.U8), "wave.syntax", 3),
    ("none", t.ResultType(t.OptionType(t.U8)), "wave.type_mismatch", 1),
    ("1 2", t.U8, "wave.syntax", 3),
    ("", t.U8, "wave.type_mismatch", 1),
    ("@", t.U8, "wave.syntax", 1),
    ('[(1, "a"), (1, "b")]', t.MapType(t.U8, t.STRING), "wave.map.duplicate_key", 12),
])
def test_error_codes_and_columns(text, typ, code, column):
    with pytest.raises(DiagnosticError) as exc:
        parse_value(text, typ)
    d = exc.value.diagnostic
    assert d.code == code, d.render()
    assert d.location is not None and d.location.file is None
    if "\n" not in text:
        assert (d.location.line, d.location.column) == (1, column), d.render()


def test_error_on_a_later_line_reports_line_and_column():
    with pytest.raises(DiagnosticError) as exc:
        parse_value("[\n  1,\n  x]", t.ListType(t.U8))
    loc = exc.value.diagnostic.location
    assert (loc.line, loc.column, loc.snippet) == (3, 3, "  x]")
    assert exc.value.diagnostic.render().endswith("3 |   x]\n      ^")


def test_handles_have_no_wave_form():
    res = t.ResourceType("file")
    with pytest.raises(DiagnosticError) as exc:
        parse_value("file(1)", t.OwnType(res))
    assert exc.value.code == "wave.unsupported"


# --- calls -----------------------------------------------------------------------------

MOVE = t.Function("move", (t.Param("p", POINT), t.Param("by", t.S32), t.Param("label", t.OptionType(t.STRING)),
                           t.Param("tag", t.OptionType(t.U8))))


def test_parse_call_splits_top_level_commas_only():
    assert parse_call(' move( {x: 1, y: 2}, -3, "a, (b"  ,) ') == ("move", ["{x: 1, y: 2}", "-3", '"a, (b"'])
    assert parse_call("f()") == ("f", [])
    assert parse_call("[method]file.read(7)") == ("[method]file.read", ["7"])


def test_trailing_option_arguments_may_be_left_out():
    assert parse_call_args("move({x: 1, y: 2}, 5)", MOVE) == [Record(x=1, y=2), 5, None, None]
    assert parse_call_args('move({x: 1, y: 2}, 5, "l", some(3))', MOVE) == [Record(x=1, y=2), 5, "l", 3]
    assert parse_args(["{x: 1, y: 2}", "5", "none"], MOVE) == [Record(x=1, y=2), 5, None, None]


@pytest.mark.parametrize("text, code, column, arg", [
    ('move({x: 1, y: 2}, "five")', "wave.type_mismatch", 20, 2),
    ("move({x: 1, y: 2})", "wave.call.arity", 18, None),
    ("move({x: 1, y: 2}, 1, none, none, 9)", "wave.call.arity", 35, None),
    ("move({x: 1, y: 2}, 1", "wave.call.syntax", 21, None),
    ("move({x: 1, y: 2}, , 1)", "wave.call.syntax", 20, None),
    ("move({x: 1, y: 2]}, 1)", "wave.call.syntax", 17, None),
    ("move(1) extra", "wave.syntax", 9, None),
    ("(1)", "wave.call.syntax", 1, None),
    ("move({x: 1, y: 2} 3, 1)", "wave.syntax", 19, 1),
])
def test_call_errors_have_columns_in_the_call_text(text, code, column, arg):
    with pytest.raises(DiagnosticError) as exc:
        parse_call_args(text, MOVE)
    d = exc.value.diagnostic
    assert (d.code, d.location.line, d.location.column) == (code, 1, column), d.render()
    assert d.extensions.get("arg") == arg
    if arg is not None:
        assert d.message.startswith(f"arg {arg}: ")


def test_parse_args_columns_count_within_the_argument():
    with pytest.raises(DiagnosticError) as exc:
        parse_args(["{x: 1, y: 2}", '  "five"'], MOVE)
    d = exc.value.diagnostic
    assert (d.code, d.location.column, d.extensions["arg"]) == ("wave.type_mismatch", 3, 2)
    with pytest.raises(DiagnosticError) as exc:
        parse_args([], MOVE)
    assert exc.value.code == "wave.call.arity"


# --- robustness: any text gives a value or a diagnostic, never another exception ----------

_WAVE_CHARS = st.sampled_from(list("{}()[]:,'\"\\%-+.0123456789eE \n/_") + ["u{", "some", "none", "ok",
                                                                            "err", "inf", "nan", '"""\n'])


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_text_gives_a_value_or_a_diagnostic(data):
    typ = data.draw(types(max_depth=3))
    text = print_value(data.draw(values_of(typ)), typ)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()) and at < len(text):
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + data.draw(_WAVE_CHARS) + text[at:]
    try:
        parse_value(text, typ)
    except DiagnosticError as exc:
        loc = exc.diagnostic.location
        assert exc.code.startswith("wave.") and loc is not None
        assert 1 <= loc.column <= len(text) + 1
    try:
        parse_call(f"f({text})")
    except DiagnosticError as exc:
        assert exc.code.startswith("wave.")
