"""Core.Ffi.Dsl against libm and the direct test library, with the audit records the
Reml FFI specification expects (docs/audit.md)."""

import math
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import dsl, toolchain
from reml_wasm.audit import AuditSink, read_audit_log
from reml_wasm.values import Err, Ok

ROOT = Path(__file__).resolve().parent.parent
DIRECT = ROOT / "native" / "direct"


@pytest.fixture(scope="module")
def libm():
    opened = dsl.bind_library("m")
    assert isinstance(opened, Ok)
    return opened.value


@pytest.fixture(scope="module")
def direct():
    path = toolchain.build_native([DIRECT / "direct.c"], include_dirs=[DIRECT], name="direct")
    opened = dsl.bind_library(str(path))
    assert isinstance(opened, Ok)
    return opened.value


def test_wrapped_cos_audit_is_exactly_the_expected_record(tmp_path, libm):
    log = tmp_path / "audit.jsonl"
    with AuditSink(log) as sink:
        libm.audit = sink
        raw = libm.bind_fn("cos", dsl.fn_sig([dsl.F64], dsl.F64)).value
        cos = dsl.wrap(raw, dsl.FfiWrapSpec(name="libm.cos")).value
        assert cos(0.0) == Ok(1.0)
        assert raw(math.pi) == -1.0
        libm.audit = None
    wrapped, unsafe = read_audit_log(log)
    assert wrapped == {"metadata": {
        "ffi": {"event": "ffi.call", "library": "m", "symbol": "cos", "effect_flags": ["ffi"],
                "status": "success", "wrapper": "ffi.wrap"},
        "ffi.wrapper": {"name": "libm.cos", "null_check": False, "call_mode": "wrapped"}}}
    assert list(wrapped["metadata"]["ffi"]) == ["event", "library", "symbol", "effect_flags", "status", "wrapper"]
    assert unsafe == {"metadata": {
        "ffi": {"event": "ffi.call", "library": "m", "symbol": "cos", "effect_flags": ["ffi", "unsafe"],
                "status": "success"}}}
    assert cos.last_audit.check() == []


@settings(max_examples=50, deadline=None)
@given(x=st.floats(-1e6, 1e6))
def test_wrapped_matches_math(libm, x):
    cos = dsl.wrap(libm.bind_fn("cos", dsl.fn_sig([dsl.F64], dsl.F64)).value, dsl.FfiWrapSpec("libm.cos")).value
    assert cos(x) == Ok(math.cos(x))


def test_wrapped_invalid_argument_never_calls(libm):
    cos = dsl.wrap(libm.bind_fn("cos", dsl.fn_sig([dsl.F64], dsl.F64)).value, dsl.FfiWrapSpec("libm.cos")).value
    for args in ((), (1.0, 2.0), ("x",), (True,), (None,)):
        out = cos(*args)
        assert isinstance(out, Err) and out.value.kind is dsl.FfiErrorKind.InvalidArgument
        assert out.value.code == "ffi.wrap.invalid_argument"
        assert out.value.diagnostic.extensions == {"ffi.wrap": {"expected_signature": "fn(f64) -> f64"}}
    meta = cos.last_audit.to_json()
    assert meta["metadata"]["ffi"]["status"] == "failed"
    assert [d["code"] for d in meta["diagnostics"]] == ["ffi.wrap.invalid_argument", "ffi.call.failed"]


def test_library_and_symbol_errors(libm):
    missing = dsl.bind_library("reml_surely_missing")
    assert isinstance(missing, Err) and missing.value.kind is dsl.FfiErrorKind.LibraryNotFound
    assert missing.value.code == "ffi.library.not_found"
    nosym = libm.bind_fn("no_such_cos", dsl.fn_sig([dsl.F64], dsl.F64))
    assert isinstance(nosym, Err) and nosym.value.kind is dsl.FfiErrorKind.SymbolNotFound


def test_null_check_and_ownership(direct):
    text = dsl.Ptr(dsl.I8)
    maybe = direct.bind_fn("maybe_text", dsl.fn_sig([dsl.I32], text)).value
    checked = dsl.wrap(maybe, dsl.FfiWrapSpec("direct.maybe_text", null_check=True)).value
    assert isinstance(checked(1), Ok)
    out = checked(0)
    assert isinstance(out, Err) and out.value.kind is dsl.FfiErrorKind.NullReturn
    assert out.value.diagnostic.extensions == {"ffi.wrap": {"symbol": "maybe_text", "ownership": "borrowed"}}
    assert checked.last_audit.metadata["ffi.wrapper"] == {"name": "direct.maybe_text", "null_check": True,
                                                          "call_mode": "wrapped"}
    owned = dsl.wrap(maybe, dsl.FfiWrapSpec("direct.maybe_text", ownership="transferred")).value
    out = owned(0)
    assert isinstance(out, Err) and out.value.kind is dsl.FfiErrorKind.OwnershipViolation
    assert out.value.code == "ffi.wrap.ownership_violation"
    inc = direct.bind_fn("inc", dsl.fn_sig([dsl.I32], dsl.I32)).value
    bad = dsl.wrap(inc, dsl.FfiWrapSpec("direct.inc", ownership="owned"))
    assert isinstance(bad, Err) and bad.value.code == "ffi.wrap.ownership_violation"


def test_transferred_pointer_is_freed_with_the_audit_naming_it(direct):
    concat = direct.bind_fn("upper_dup", dsl.fn_sig([dsl.ConstPtr(dsl.I8)], dsl.Ptr(dsl.I8))).value
    wrapped = dsl.wrap(concat, dsl.FfiWrapSpec("direct.upper_dup", null_check=True, ownership="transferred")).value
    ffi = __import__("cffi").FFI()
    src = ffi.new("int8_t[]", b"abc\0")
    out = wrapped(src)
    assert isinstance(out, Ok)
    assert ffi.string(ffi.cast("char *", out.value)) == b"ABC"
    assert wrapped.last_audit.metadata["ffi.wrapper"] == {
        "name": "direct.upper_dup", "null_check": True, "call_mode": "wrapped", "ownership": "transferred"}


def test_error_maps(direct, libm):
    inc = direct.bind_fn("inc", dsl.fn_sig([dsl.I32], dsl.I32)).value
    neg = dsl.wrap(inc, dsl.FfiWrapSpec("direct.inc", error_map="negative")).value
    assert neg(4) == Ok(5)
    out = neg(-10)
    assert isinstance(out, Err) and out.value.kind is dsl.FfiErrorKind.CallFailed
    assert neg.last_audit.metadata["ffi.wrapper"]["error_map"] == "negative"
    log = libm.bind_fn("log", dsl.fn_sig([dsl.F64], dsl.F64)).value
    checked = dsl.wrap(log, dsl.FfiWrapSpec("libm.log", error_map="errno")).value
    assert checked(1.0) == Ok(0.0)
    failed = checked(-1.0)  # EDOM
    assert isinstance(failed, Err) and failed.value.diagnostic.extensions["errno"] != 0
    assert isinstance(dsl.wrap(inc, dsl.FfiWrapSpec("x", error_map="bogus")), Err)


def test_structs_and_signature_text(direct):
    point = dsl.Struct("point", [("x", dsl.I32), ("y", dsl.I32)])
    sig = dsl.fn_sig([point, point], dsl.I64)
    assert sig.reml() == "fn(point, point) -> i64"
    dot = dsl.wrap(direct.bind_fn("point_dot", sig).value, dsl.FfiWrapSpec("direct.point_dot")).value
    assert dot({"x": 2, "y": 3}, (4, 5)) == Ok(23)
    assert dsl.c_declaration("f", dsl.fn_sig([dsl.Fn(dsl.fn_sig([dsl.I32], dsl.Void))], dsl.Void))[1] == \
        "void f(void (*a0)(int32_t));"
