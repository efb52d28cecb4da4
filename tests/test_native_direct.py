"""Direct C calls through the native connector, in cffi ABI and API mode, against a real
library (native/direct/direct.c) built by the system C compiler."""

from pathlib import Path

import cffi
import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import toolchain, types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.native import NativeLibrary, resolve_mode
from reml_wasm.connectors.native.marshal import OwnedCString
from reml_wasm.values import Record

ROOT = Path(__file__).resolve().parent.parent
DIRECT = ROOT / "native" / "direct"
POINT = "typedef struct { int32_t x; int32_t y; } point;"
SEGMENT = POINT + " typedef struct { point a; point b; double weight; } segment;"
I32 = st.integers(-(2**31), 2**31 - 1)
I64 = st.integers(-(2**63), 2**63 - 1)


def wrap(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


@pytest.fixture(scope="module")
def libpath():
    return toolchain.build_native([DIRECT / "direct.c"], include_dirs=[DIRECT], name="direct")


@pytest.fixture(scope="module", params=["abi", "api"])
def lib(request, libpath):
    return NativeLibrary.open(str(libpath), mode=request.param, free="lib_free", malloc="lib_alloc")


def test_auto_mode_picks_api_with_a_compiler(libpath):
    assert resolve_mode("auto") == "api"  # gcc is on this machine
    inc = NativeLibrary.open(str(libpath)).bind_c("int inc(int);")
    assert inc.mode == "api" and inc(1) == 2


def test_modes_are_really_different(lib):
    inc = lib.bind_c("int inc(int);")
    assert inc.mode == lib.mode
    # ABI mode calls a cdata function pointer through libffi; API mode a compiled builtin
    assert isinstance(inc.raw, cffi.FFI.CData) == (lib.mode == "abi")


@settings(max_examples=60, deadline=None)
@given(x=I32, a=I64, b=I64)
def test_integers(lib, x, a, b):
    assert lib.bind_c("int inc(int);")(x) == wrap(x + 1, 32)
    assert lib.bind_c("int64_t add_i64(int64_t a, int64_t b);")(a, b) == wrap(a + b, 64)


@settings(max_examples=40, deadline=None)
@given(x=st.floats(allow_nan=False, allow_infinity=False, width=32), by=st.floats(-1e3, 1e3, width=32))
def test_floats(lib, x, by):
    assert lib.bind_c("double scale(double, float);")(x, by) == x * by


def test_small_ints_bool_and_ranges(lib):
    add_u8 = lib.bind_c("uint8_t add_u8(uint8_t, uint8_t);")
    assert add_u8(200, 100) == 44
    assert lib.bind_c("bool is_even(int32_t);")(10) is True
    with pytest.raises(DiagnosticError) as exc:
        add_u8(256, 1)
    assert exc.value.code == "ffi.value.type_mismatch" and "arg 1" in str(exc.value)
    with pytest.raises(DiagnosticError) as exc:
        add_u8(1, -1)
    assert exc.value.diagnostic.extensions["path"] == "arg 2"


@settings(max_examples=40, deadline=None)
@given(ax=I32, ay=I32, bx=I32, by=I32)
def test_structs_by_value(lib, ax, ay, bx, by):
    add = lib.bind_c("point point_add(point a, point b);", cdef_prelude=POINT)
    dot = lib.bind_c("int64_t point_dot(point, point);", cdef_prelude=POINT)
    assert add(Record(x=ax, y=ay), {"x": bx, "y": by}) == Record(x=wrap(ax + bx, 32), y=wrap(ay + by, 32))
    assert dot((ax >> 1, ay >> 1), (bx, by)) == (ax >> 1) * bx + (ay >> 1) * by  # no int64 overflow


def test_nested_struct_round_trip(lib):
    flip = lib.bind_c("segment segment_flip(segment);", cdef_prelude=SEGMENT)
    out = flip(Record(a=Record(x=1, y=2), b=Record(x=3, y=4), weight=0.5))
    assert out == Record(a=Record(x=3, y=4), b=Record(x=1, y=2), weight=-0.5)
    with pytest.raises(DiagnosticError) as exc:
        flip({"a": (1, 2), "c": (3, 4)})
    assert exc.value.code == "ffi.value.type_mismatch"


@settings(max_examples=50, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40))
def test_borrowed_string_argument(lib, text):
    assert lib.bind_c("size_t text_len(const char *s);")(text) == len(text.encode())


def test_borrowed_string_results(lib):
    assert lib.bind_c("const char *greeting(void);")() == "héllo"
    maybe = lib.bind_c("const char *maybe_text(int);")
    assert maybe(1) == "some" and maybe(0) is None
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("const char *bad_utf8(void);")()
    assert exc.value.code == "ffi.value.invalid_utf8"


@settings(max_examples=30, deadline=None)
@given(a=st.text(st.characters(min_codepoint=1, blacklist_categories=("Cs",)), max_size=20),
       b=st.text(st.characters(min_codepoint=1, blacklist_categories=("Cs",)), max_size=20))
def test_transferred_result_is_freed_with_the_library_free(lib, a, b):
    live = lib.bind_c("int lib_live(void);")
    concat = lib.bind_c("char *lib_concat(const char *, const char *);", returns="transferred")
    before = live()
    assert concat(a, b) == a + b
    assert live() == before  # lib_free ran exactly once


def test_transferred_result_with_libc_free(libpath):
    plain = NativeLibrary.open(str(libpath), mode="abi")  # no library free: libc free
    assert plain.bind_c("char *upper_dup(const char *);", returns="transferred")("abc-é") == "ABC-é"


def test_owned_result_is_freed_once(lib):
    live = lib.bind_c("int lib_live(void);")
    concat = lib.bind_c("char *lib_concat(const char *, const char *);", returns="owned")
    before = live()
    with concat("x", "y") as owned:
        assert isinstance(owned, OwnedCString) and owned.value == "xy"
        assert live() == before + 1  # still native, owned by us
    assert owned.freed and live() == before
    with pytest.raises(DiagnosticError) as exc:
        owned.free()
    assert exc.value.code == "ffi.ownership.double_free"


def test_transferred_argument_is_freed_by_the_callee(lib):
    live = lib.bind_c("int lib_live(void);")
    take = lib.bind_c("size_t lib_take(char *);", params={0: "transferred"})
    before = live()
    assert take("hello") == 5
    assert live() == before  # allocated with lib_alloc, freed by the callee
    with pytest.raises(DiagnosticError):
        take(7)
    assert live() == before  # nothing allocated for a refused call


def test_pointers_need_pointers(lib):
    cell = lib.bind_c("int32_t *counter_cell(void);")()
    read = lib.bind_c("int32_t read_cell(const int32_t *);")
    assert read(cell) == 41
    for bad in (0, 12345, 2**40, "x"):
        with pytest.raises(DiagnosticError) as exc:
            read(bad)
        assert exc.value.code == "ffi.value.type_mismatch"
        assert "never taken as a pointer" in exc.value.diagnostic.message


def test_wrong_argument_count_and_types(lib):
    inc = lib.bind_c("int inc(int);")
    with pytest.raises(DiagnosticError) as exc:
        inc()
    assert exc.value.code == "ffi.value.arity" and exc.value.diagnostic.extensions["expected"] == 1
    with pytest.raises(DiagnosticError) as exc:
        inc(1, 2)
    assert exc.value.code == "ffi.value.arity"
    for bad in (1.5, "1", None, b"x"):
        with pytest.raises(DiagnosticError) as exc:
            inc(bad)
        assert exc.value.code == "ffi.value.type_mismatch"
    text_len = lib.bind_c("size_t text_len(const char *);")
    with pytest.raises(DiagnosticError) as exc:
        text_len("a\0b")
    assert exc.value.code == "ffi.value.type_mismatch"
    with pytest.raises(DiagnosticError) as exc:
        text_len("a", "b")
    assert exc.value.code == "ffi.value.arity"


def test_bind_from_type_model(lib):
    point = t.RecordType("point", (t.Field("x", t.S32), t.Field("y", t.S32)))
    add = lib.bind(t.Function("point-add", (t.Param("a", point), t.Param("b", point)), point))
    assert add(Record(x=1, y=2), Record(x=10, y=20)) == Record(x=11, y=22)
    nxt = lib.bind(t.Function("next-char", (t.Param("c", t.CHAR),), t.CHAR))
    assert nxt("a") == "b" and nxt("\ud7ff") == "\ue000"
    with pytest.raises(DiagnosticError) as exc:
        nxt("ab")
    assert exc.value.code == "ffi.value.type_mismatch"
    text_len = lib.bind(t.Function("text-len", (t.Param("s", t.STRING),), t.U64))
    assert text_len("é") == 2
    with pytest.raises(DiagnosticError) as exc:
        lib.bind(t.Function("inc", (t.Param("xs", t.ListType(t.U32)),), t.S32))
    assert exc.value.code == "ffi.signature.unsupported"


def test_bad_declarations(lib):
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("int inc(int x")
    assert exc.value.code == "ffi.signature.invalid"
    assert exc.value.diagnostic.location.file == "<cdecl>"
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("int no_such_function(int);")
    assert exc.value.code == "ffi.symbol.not_found"
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("int inc(int);", returns="transferred")
    assert exc.value.code == "ffi.signature.invalid"
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("point point_add(point, point);", cdef_prelude="typedef struct { int x; } point")
    assert exc.value.code == "ffi.signature.invalid"
    assert exc.value.diagnostic.location.file == "<cdef_prelude>"


def test_signature_mismatch_against_the_header(libpath):
    lib = NativeLibrary.open(str(libpath), mode="api", headers=["direct.h"], include_dirs=[DIRECT])
    assert lib.bind_c("int inc(int x);")(1) == 2  # agrees with direct.h
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("int64_t inc(int64_t x, int64_t y);")
    assert exc.value.code == "ffi.signature.mismatch"
    assert exc.value.diagnostic.location.file.endswith("direct.h")


def test_libm_by_name():
    m = NativeLibrary.open("m", mode="abi")
    assert m.bind_c("double cos(double);")(0.0) == 1.0


def test_bind_all_shares_one_module(lib):
    inc, concat, live = lib.bind_all(
        ["int inc(int);", "char *lib_concat(const char *, const char *);", "int lib_live(void);"],
        ownership={1: ("transferred", {})})
    before = live()
    assert inc(1) == 2 and concat("a", "b") == "ab" and live() == before
    if lib.mode == "api":  # one compiled module holds all three
        assert inc.raw.__self__ is concat.raw.__self__ is live.raw.__self__


def test_auto_mode_falls_back_to_abi_when_the_declarations_are_not_plain_c(libpath):
    lib = NativeLibrary.open(str(libpath))  # auto
    inc = lib.bind_c("int inc(int);", cdef_prelude="typedef int int64_t;")  # clashes with <stdint.h>
    assert inc.mode == "abi" and inc(1) == 2
    with pytest.raises(DiagnosticError) as exc:
        lib.bind_c("int inc(int);", cdef_prelude="typedef int int64_t;", mode="api")
    assert exc.value.code == "ffi.api.build_failed"
    with pytest.raises(DiagnosticError) as exc:  # a partial struct needs a header cffi can verify
        lib.bind_c("point point_add(point, point);", cdef_prelude="typedef struct { int32_t x; ...; } point;",
                   mode="abi")
    assert exc.value.code == "ffi.signature.invalid"


def test_variadic_call(lib):
    snprintf = NativeLibrary.open("c", mode=lib.mode).bind_c("int snprintf(char *, size_t, const char *, ...);")
    ffi = cffi.FFI()
    buf = ffi.new("char[32]")
    assert snprintf(buf, 32, "%d-%s", ffi.cast("int", 42), ffi.new("char[]", b"x")) == 4
    assert ffi.string(buf) == b"42-x"
    with pytest.raises(DiagnosticError) as exc:  # variadic ints must be typed cdata
        snprintf(buf, 32, "%d", 42)
    assert exc.value.code == "ffi.value.type_mismatch"
