import math
import struct

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError


def entry(tag, payload, reserved=0):
    return struct.pack("<BBH", tag, reserved, len(payload)) + payload


def buf(*entries, version=1, argc=None):
    return struct.pack("<HH", version, len(entries) if argc is None else argc) + b"".join(entries)


def code_of(data):
    with pytest.raises(DiagnosticError) as info:
        tlv.decode(data)
    return info.value.code


# --- exact bytes ----------------------------------------------------------------------------

def test_void_result_and_empty_args_are_the_documented_bytes():
    assert tlv.encode(None) == bytes.fromhex("0100010009000000") == tlv.VOID_RESULT
    assert tlv.encode() == bytes.fromhex("01000000") == tlv.EMPTY


@pytest.mark.parametrize("kind, value, payload", [
    ("bool", True, b"\x01"),
    ("bool", False, b"\x00"),
    ("i32", -2, struct.pack("<i", -2)),
    ("i64", 1 << 40, struct.pack("<q", 1 << 40)),
    ("f32", 1.5, struct.pack("<f", 1.5)),
    ("f64", -0.25, struct.pack("<d", -0.25)),
    ("string", "héllo", "héllo".encode()),
    ("bytes", b"\x00\xff", b"\x00\xff"),
    ("handle", tlv.Handle(6, 3), struct.pack("<II", 6, 3)),
    ("void", None, b""),
])
def test_every_tag_encodes_and_decodes(kind, value, payload):
    data = tlv.encode_tagged([(kind, value)])
    assert data == buf(entry(tlv.TAGS[kind], payload))
    assert tlv.decode_tagged(data) == [(tlv.TAGS[kind], value)]
    assert tlv.compile_encoder([kind])(value) == data
    assert tlv.compile_decoder([kind])(data) == value
    assert tlv.compile_decoder(None)(data) == value


def test_tag_numbers_match_the_facts():
    assert tlv.TAGS == {"bool": 1, "i32": 2, "i64": 3, "f32": 4, "f64": 5, "string": 6, "bytes": 7,
                        "handle": 8, "void": 9}


def test_inferred_kinds():
    assert tlv.decode_tagged(tlv.encode(True, 5, 1 << 33, 2.5, "s", b"b", tlv.Handle(1, 2), None)) == [
        (1, True), (2, 5), (3, 1 << 33), (5, 2.5), (6, "s"), (7, b"b"), (8, (1, 2)), (9, None)]


def test_bool_payload_nonzero_is_true():
    assert tlv.decode(buf(entry(1, b"\x07"))) == [True]


# --- strictness --------------------------------------------------------------------------

@pytest.mark.parametrize("data, code", [
    (b"", "tlv.truncated"),
    (b"\x01\x00\x01", "tlv.truncated"),
    (buf(version=2), "tlv.version_mismatch"),
    (buf(entry(42, b"x")), "tlv.invalid_type"),
    (buf(entry(20, b"")), "tlv.invalid_type"),
    (buf(entry(2, b"\x01\x02\x03")), "tlv.bad_size"),
    (buf(entry(8, b"\x00" * 4)), "tlv.bad_size"),
    (buf(entry(9, b"\x00")), "tlv.bad_size"),
    (buf(entry(1, b"")), "tlv.bad_size"),
    (buf(entry(6, b"\xc3\x28")), "tlv.invalid_utf8"),
    (buf(entry(6, b"ab"), argc=2), "tlv.truncated"),
    (buf(entry(7, b"abc"))[:-1], "tlv.truncated"),
    (buf(entry(9, b"")) + b"\x00", "tlv.trailing_bytes"),
    (buf(entry(9, b"", reserved=1)), "tlv.invalid_args"),
])
def test_strict_decoding_codes(data, code):
    assert code_of(data) == code


def test_error_codes_map_to_plugin_return_codes():
    assert tlv.return_code_for("tlv.version_mismatch") == -9
    assert tlv.return_code_for("tlv.invalid_type") == -2
    assert tlv.return_code_for("tlv.bad_size") == -4
    assert tlv.return_code_for("tlv.truncated") == -4
    assert tlv.return_code_for("tlv.invalid_utf8") == -7
    assert tlv.code_for_return(-8) == "tlv.invalid_handle"
    assert tlv.code_for_return(-1234) == "tlv.plugin_error"
    for code, rc in tlv.RETURN_CODES.items():
        assert code.startswith("tlv.") and -9 <= rc <= -1
    for rc in range(-9, 0):
        assert tlv.RETURN_CODES[tlv.code_for_return(rc)] == rc
    # the return code travels with the diagnostic
    with pytest.raises(DiagnosticError) as info:
        tlv.decode(buf(version=3))
    assert info.value.diagnostic.extensions["return_code"] == -9


def test_payload_over_65535_is_an_error_not_truncation():
    tlv.encode("x" * 65535)
    for encode in (lambda: tlv.encode("x" * 65536), lambda: tlv.encode(b"\0" * 70000),
                   lambda: tlv.compile_encoder(["string"])("é" * 40000),
                   lambda: tlv.compile_encoder(["bytes", "i32"])(b"\0" * 65536, 1),
                   lambda: tlv.compile_encoder(["any"])(b"\0" * 65536)):
        with pytest.raises(DiagnosticError) as info:
            encode()
        assert info.value.code == "tlv.payload_too_large"
        assert info.value.diagnostic.extensions["return_code"] == -4


@pytest.mark.parametrize("kinds, values", [
    (["i32"], [1 << 31]),
    (["i32"], [True]),
    (["i64"], [1 << 63]),
    (["bool"], [1]),
    (["string"], [b"bytes"]),
    (["handle"], [5]),
    (["i32", "string"], ["x", 1]),
])
def test_compiled_encoder_rejects_values_that_do_not_fit(kinds, values):
    with pytest.raises(DiagnosticError) as info:
        tlv.compile_encoder(kinds)(*values)
    assert info.value.code in ("tlv.invalid_args", "tlv.invalid_type")


def test_compiled_encoder_arity_and_lone_surrogate():
    with pytest.raises(DiagnosticError):
        tlv.compile_encoder(["i32", "i32"])(1)
    with pytest.raises(DiagnosticError) as info:
        tlv.compile_encoder(["string"])("\ud800")
    assert info.value.code == "tlv.invalid_utf8"


def test_compiled_decoder_checks_kinds():
    with pytest.raises(DiagnosticError) as info:
        tlv.compile_decoder(["i32"])(tlv.encode("not an int"))
    assert info.value.code == "tlv.invalid_type"
    assert tlv.compile_decoder(["i32", "string"])(tlv.encode(3, "x")) == (3, "x")
    assert tlv.compile_decoder(None)(tlv.EMPTY) is None
    # the fast path must not accept a prefix match with the wrong total length
    good = tlv.encode(7)
    with pytest.raises(DiagnosticError):
        tlv.compile_decoder(None)(good + b"\x00")
    with pytest.raises(DiagnosticError):
        tlv.compile_decoder(["i32"])(good[:-1])


# --- properties ----------------------------------------------------------------------------

values = st.one_of(
    st.tuples(st.just("bool"), st.booleans()),
    st.tuples(st.just("i32"), st.integers(-(1 << 31), (1 << 31) - 1)),
    st.tuples(st.just("i64"), st.integers(-(1 << 63), (1 << 63) - 1)),
    st.tuples(st.just("f32"), st.floats(width=32, allow_nan=False)),
    st.tuples(st.just("f64"), st.floats(allow_nan=False)),
    st.tuples(st.just("string"), st.text(st.characters(blacklist_characters="\x00"), max_size=40)),
    st.tuples(st.just("bytes"), st.binary(max_size=40)),
    st.tuples(st.just("handle"), st.builds(tlv.Handle, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))),
    st.tuples(st.just("void"), st.none()),
)


@settings(max_examples=400)
@given(st.lists(values, max_size=8))
def test_round_trip(entries):
    entries = [(k, v) for k, v in entries if not (isinstance(v, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in v))]
    data = tlv.encode_tagged(entries)
    assert [(tlv.KINDS[t], v) for t, v in tlv.decode_tagged(data)] == entries
    kinds = [k for k, _ in entries]
    assert tlv.compile_encoder(kinds)(*[v for _, v in entries]) == data
    decoded = tlv.compile_decoder(kinds)(data)
    expected = None if not entries else entries[0][1] if len(entries) == 1 else tuple(v for _, v in entries)
    assert decoded == expected


@settings(max_examples=300)
@given(st.lists(values, min_size=1, max_size=4), st.data())
def test_any_truncation_is_rejected(entries, data):
    entries = [(k, v) for k, v in entries if not (isinstance(v, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in v))]
    encoded = tlv.encode_tagged(entries)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(DiagnosticError) as info:
        tlv.decode(encoded[:cut])
    assert info.value.code.startswith("tlv.")


def test_f32_rounds_like_c_float():
    out = tlv.decode(tlv.encode_tagged([("f32", 0.1)]))[0]
    assert out == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert math.isinf(tlv.decode(tlv.encode_tagged([("f32", float("inf"))]))[0])


def test_f32_out_of_range_is_a_diagnostic():
    for encode in (lambda: tlv.encode_tagged([("f32", 1e300)]), lambda: tlv.compile_encoder(["f32"])(1e300),
                   lambda: tlv.compile_encoder(["f32", "string"])(1e300, "x")):
        with pytest.raises(DiagnosticError) as info:
            encode()
        assert info.value.code == "tlv.invalid_args"
