"""Buffers, out-parameters and callbacks through the library's own `ffi`, in both call modes."""

import pytest

from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.native import NativeLibrary


@pytest.fixture(params=["abi", "api"])
def libc(request):
    return NativeLibrary.open("c", mode=request.param)


def test_out_parameter():
    for mode in ("abi", "api"):
        libm = NativeLibrary.open("m", mode=mode)
        frexp = libm.bind_c("double frexp(double x, int *exp);")
        exp = libm.new("int *")
        assert frexp(48.0, exp) == 0.75 and exp[0] == 6


def test_buffer_written_by_c_is_read_back(libc):
    memset, = libc.bind_all(["void *memset(void *s, int c, size_t n);"])
    buf = libc.new("unsigned char[]", 8)
    memset(buf, 0x41, 5)
    assert bytes(libc.buffer(buf)) == b"AAAAA\0\0\0"
    view = libc.buffer(buf, 2)
    view[:] = b"xy"
    assert bytes(libc.buffer(buf)) == b"xyAAA\0\0\0"


def test_callback_called_by_c(libc):
    qsort = libc.bind_c("void qsort(void *base, size_t n, size_t size, "
                        "int (*cmp)(const void *, const void *));")
    data = libc.new("int[]", [5, -2, 9, 0, 3])
    seen = []

    def descending(a, b):
        x, y = libc.ffi.cast("int *", a)[0], libc.ffi.cast("int *", b)[0]
        seen.append((x, y))
        return (y > x) - (y < x)

    cmp = libc.callback("int(const void *, const void *)", descending)
    qsort(data, 5, libc.ffi.sizeof("int"), cmp)
    assert list(data) == [9, 5, 3, 0, -2] and seen


def test_bad_type_names_are_coded(libc):
    with pytest.raises(DiagnosticError) as exc:
        libc.new("no such type[]", 3)
    assert exc.value.code == "ffi.signature.invalid"
    with pytest.raises(DiagnosticError) as exc:
        libc.callback("int(", lambda: 0)
    assert exc.value.code == "ffi.signature.invalid"
    with pytest.raises(DiagnosticError) as exc:
        libc.buffer(42)
    assert exc.value.code == "ffi.value.type_mismatch"


def test_auto_mode_compiles_everything_bound_before_the_first_call_once():
    import threading

    from reml_wasm import cffi_api

    libm = NativeLibrary.open("m")                       # auto: API mode with a compiler
    names = ["cbrt", "expm1", "log1p", "hypot", "fdim"]
    decls = {"hypot": "double hypot(double, double);", "fdim": "double fdim(double, double);"}
    funcs = {n: libm.bind_c(decls.get(n, f"double {n}(double);")) for n in names}
    before = len(cffi_api._loaded)
    results = {}

    def first(n):
        results[n] = funcs[n](8.0) if n not in decls else funcs[n](6.0, 8.0)

    threads = [threading.Thread(target=first, args=(n,)) for n in names]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(cffi_api._loaded) - before == 1           # one module for all five
    assert results == {"cbrt": 2.0, "expm1": pytest.approx(2979.957987), "log1p": pytest.approx(2.1972246),
                       "hypot": 10.0, "fdim": 0.0}
    assert all(f.mode == "api" and not isinstance(f.raw, libm.ffi.CData) for f in funcs.values())
    # bound after the compile: a module of its own at its first call
    fmax = libm.bind_c("double fmax(double, double);")
    assert fmax(1.5, -2.0) == 1.5 and len(cffi_api._loaded) - before == 2


def test_one_symbol_under_two_declarations_still_compiles():
    libc = NativeLibrary.open("c")
    a = libc.bind_c("int abs(int);")
    b = libc.bind_c("int abs(int x);")
    assert a(-4) == 4 and b(-5) == 5
