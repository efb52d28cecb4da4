"""Pointer safety of `call-native` and the native connector, on real library functions.

No integer is ever a pointer, NULL goes only to a nullable parameter (the header's
`nonnull` attribute or `--nullable`), and buffers are made only from values that say
what they hold.  The hypothesis test throws any argument text the WAVE grammar (and C
constants) can express at functions with pointer parameters, in this process: a crash
would end the test run; every refusal must be a coded diagnostic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm.audit import DiagnosticError
from reml_wasm.cli.call_native import call_native
from reml_wasm.connectors.native import NativeLibrary

# (library, headers, function, arity): each has pointer parameters that no argument
# text can make the function read or write out of bounds: no separate size argument, or
# one the header ties to the buffer with an `access` attribute (strerror_r, gethostname)
FUNCTIONS = [
    ("c", ["string.h"], "strerror_r", 3), ("c", ["unistd.h"], "gethostname", 2),
    ("c", ["string.h"], "strlen", 1), ("c", ["string.h"], "strcmp", 2),
    ("c", ["string.h"], "strchr", 2), ("c", ["stdlib.h"], "atoi", 1),
    ("c", ["stdlib.h"], "strtol", 3), ("m", ["math.h"], "frexp", 2),
    ("m", ["math.h"], "modf", 2), ("gmp", ["gmp.h"], "__gmpz_sizeinbase", 2),
    ("gmp", ["gmp.h"], "__gmpz_get_si", 1), ("uuid", ["uuid/uuid.h"], "uuid_parse", 2),
    ("uuid", ["uuid/uuid.h"], "uuid_is_null", 1), ("z", ["zlib.h"], "deflateEnd", 1),
    ("z", ["zlib.h"], "zError", 1),
]

_label = st.sampled_from(["a", "x", "none", "null", "NULL", "true", "false", "red", "_mp_size",
                          "_mp_alloc", "_mp_d", "some", "ok", "err", "nan", "inf"])
_scalar = st.one_of(
    st.integers(-2**70, 2**70).map(str), st.sampled_from(["0", "-1", "1", "0x10", "'c'", "1 << 62"]),
    st.floats(allow_nan=False).map(repr), _label,
    st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\'), max_size=12)
    .map(lambda s: f'"{s}"'))
_wave = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(st.tuples(_label, inner), max_size=3).map(
        lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: "(" + ", ".join(xs) + ")"),
    inner.map(lambda x: f"some({x})")), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(FUNCTIONS), st.lists(_wave, min_size=0, max_size=3), st.booleans())
def test_no_argument_text_crashes_the_process(function, args, right_arity):
    lib, headers, name, arity = function
    if right_arity:
        args = (args + ["0"] * arity)[:arity]
    try:
        call_native(lib, f"{name}({', '.join(args)})", headers)
    except DiagnosticError as exc:
        assert exc.diagnostic.code.startswith(("ffi.", "wave."))


@pytest.mark.parametrize("call, headers", [("strlen(0)", ["string.h"]), ("strlen(NULL)", ["string.h"]),
                                           ("strlen(none)", ["string.h"]),
                                           ("__gmpz_sizeinbase(0, 10)", ["gmp.h"]),
                                           ("__gmpz_sizeinbase(null, 10)", ["gmp.h"]),
                                           ("__gmpz_sizeinbase({_mp_alloc: 1, _mp_size: 1}, 10)", ["gmp.h"]),
                                           ("frexp(2.0, 0)", ["math.h"]), ("frexp(2.0, none)", ["math.h"])])
def test_integers_and_null_are_refused_for_non_nullable_pointers(call, headers):
    lib = {"string.h": "c", "gmp.h": "gmp", "math.h": "m"}[headers[0]]
    with pytest.raises(DiagnosticError) as info:
        call_native(lib, call, headers)
    assert info.value.diagnostic.code == "ffi.call.invalid"
    assert "pointer" in info.value.diagnostic.message or "nullable" in info.value.diagnostic.message


def test_null_where_the_header_or_the_user_says_nullable():
    # strtol: `__nonnull ((1))` leaves the end pointer nullable
    assert call_native("c", 'strtol("42x", NULL, 10)', ["stdlib.h"])[0] == 42
    assert call_native("c", 'strtol("42x", none, 16)', ["stdlib.h"])[0] == 0x42
    with pytest.raises(DiagnosticError):
        call_native("c", 'strtol(NULL, NULL, 10)', ["stdlib.h"])
    # time(): no attribute, so NULL only with --nullable
    with pytest.raises(DiagnosticError):
        call_native("c", "time(NULL)", ["time.h"])
    assert call_native("c", "time(NULL)", ["time.h"], nullable=["1"])[0] > 1_700_000_000
    assert call_native("c", "time(none)", ["time.h"], nullable=["__timer"])[0] > 1_700_000_000


def test_buffers_from_values():
    assert call_native("m", "frexp(8.0, [0])", ["math.h"])[0] == 0.5
    assert call_native("m", "modf(2.5, [0.0])", ["math.h"])[0] == 0.5
    # uuid_t is `unsigned char[16]`: the parameter decays to a pointer to a 16-byte buffer
    assert call_native("uuid", 'uuid_parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427", [])',
                       ["uuid/uuid.h"])[0] == 0
    assert call_native("uuid", "uuid_is_null([])", ["uuid/uuid.h"])[0] == 1
    assert call_native("uuid", "uuid_is_null([0, 0, 7])", ["uuid/uuid.h"])[0] == 0
    assert call_native("c", 'strchr("hello", 108)', ["string.h"])[1] == '"llo"'


def test_connector_refuses_none_for_pointers_not_nullable():
    lib = NativeLibrary.open("c")
    strlen = lib.bind_c("size_t strlen(const char *s);", mode="abi", nullable=())
    assert strlen("abcd") == 4
    with pytest.raises(DiagnosticError) as info:
        strlen(None)
    assert info.value.diagnostic.code == "ffi.value.null_pointer"
    with pytest.raises(DiagnosticError):
        strlen(0)
    memchr = lib.bind_c("void *memchr(const void *s, int c, size_t n);", mode="abi", nullable={})
    with pytest.raises(DiagnosticError) as info:
        memchr(lib_null(), 0, 0)
    assert info.value.diagnostic.code == "ffi.value.null_pointer"
    # without a nullable set every pointer argument may be None, as before
    time = lib.bind_c("long time(long *t);", mode="abi")
    assert time(None) > 1_700_000_000


def lib_null():
    import cffi
    return cffi.FFI().NULL


def test_access_attributes_size_the_buffers():
    """glibc ties strerror_r's buffer to its length argument: the buffer is made that long."""
    text = call_native("c", 'strerror_r(2, "", 100)', ["string.h"], defines=["_GNU_SOURCE"])[1]
    assert text == '"No such file or directory"'
    assert call_native("c", "strerror_r(2, [], 64)", ["string.h"])[0] == 0  # the XSI one: 0 = done
    assert call_native("c", "gethostname([], 256)", ["unistd.h"])[0] == 0
    with pytest.raises(DiagnosticError) as info:
        call_native("c", 'strerror_r(2, "", 100000000)', ["string.h"])
    assert info.value.diagnostic.code == "ffi.call.invalid"


def test_asm_label_redirects_reach_the_real_symbol():
    """crypt.h declares crypt_gensalt_r as a __REDIRECT to crypt_gensalt_rn; long double
    results come back as numbers."""
    zeros = "[" + ", ".join(["0"] * 64) + "]"
    value, text = call_native("crypt", f'crypt_gensalt_r("$5$", 0, NULL, 0, {zeros}, 64)', ["crypt.h"],
                              nullable=["__rbytes"])
    assert value.startswith("$5$") and text == f'"{value}"'
    assert call_native("m", "cosl(0.0)", ["math.h"]) == (1.0, "1.0")
    assert call_native("m", "frexpl(8.0, [0])", ["math.h"])[1] == "0.5"
