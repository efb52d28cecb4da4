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
