"""The demo guest (native/demo/demo.c, wit/demo/demo.wit) built both ways and called.

The component is called through wasmtime.component (the oracle); the native library
through raw cffi with the Canonical ABI laid out by hand at pointer width 8, so this test
stands on its own, before the engine and connectors exist."""

import math
import struct

import cffi
import pytest
import wasmtime
import wasmtime.component as wc

from reml_wasm import toolchain


@pytest.fixture(scope="module")
def demo():
    component, native = toolchain.build_demo()
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wc.Linker(engine).instantiate(store, wc.Component.from_file(engine, str(component)))

    def call(name, *args):
        return instance.get_func(store, name)(store, *args)

    return call, native


def test_component_answers(demo):
    call, _ = demo
    assert call("greet", "Reml") == "Hello, Reml!"
    assert call("greet", "é🎉") == "Hello, é🎉!"
    assert call("sum", [1, 2, 2**32 - 1]) == 2**32 + 2
    assert call("sum", []) == 0
    assert call("reverse", [1, 2, 3, 4]) == [4, 3, 2, 1]
    p = wc.Record()
    p.x, p.y = 2**31 - 1, -5
    moved = call("translate", p, 1, 10)
    assert (moved.x, moved.y) == (-(2**31), 5)
    assert call("area", 2.0) == pytest.approx(math.pi * 4)  # circle (untagged in wasmtime-py)
    r = wc.Record()
    r.x, r.y = -3, 7
    assert call("area", r) == 21.0
    assert call("area", None) == 0.0
    assert call("find", ["a", "bb", "c", "bb"], "bb") == 1
    assert call("find", ["a"], "z") is None
    assert call("parse-u32", "4294967295") == 4294967295
    assert call("parse-u32", "4294967296") == "overflow"
    assert call("parse-u32", "12x") == "not a digit"
    assert call("parse-u32", "") == "empty"


def test_guest_allocator_reuses_memory():
    """2,000 calls with 64 KiB strings under a 4 MiB memory limit: the guest frees what
    post-return hands back, so memory stays bounded (a leak would need 256 MiB)."""
    component, _ = toolchain.build_demo()
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_limits(memory_size=4 << 20)
    instance = wc.Linker(engine).instantiate(store, wc.Component.from_file(engine, str(component)))
    greet = instance.get_func(store, "greet")
    big = "x" * 65536
    for _ in range(2000):
        assert len(greet(store, big)) == 65536 + 8


@pytest.fixture(scope="module")
def native(demo):
    _, path = demo
    ffi = cffi.FFI()
    ffi.cdef("""
        typedef struct { char *ptr; size_t len; } reml_string;
        void *cabi_realloc(void *, size_t, size_t, size_t);
        reml_string *greet(char *, size_t);
        void cabi_post_greet(reml_string *);
        uint64_t sum(uint32_t *, size_t);
        double area(int32_t, int64_t, int32_t);
        void *parse_u32(char *, size_t);
        void cabi_post_parse_u32(void *);
    """)
    return ffi, ffi.dlopen(str(path))


def _guest_bytes(ffi, lib, data: bytes):
    ptr = lib.cabi_realloc(ffi.NULL, 0, 1, len(data))
    ffi.memmove(ptr, data, len(data))
    return ffi.cast("char *", ptr)


def test_native_library_answers(native):
    ffi, lib = native
    out = lib.greet(_guest_bytes(ffi, lib, b"Reml"), 4)
    assert ffi.unpack(out.ptr, out.len) == b"Hello, Reml!"
    lib.cabi_post_greet(out)

    values = struct.pack("<3I", 1, 2, 2**32 - 1)
    buf = ffi.cast("uint32_t *", lib.cabi_realloc(ffi.NULL, 0, 4, len(values)))
    ffi.memmove(buf, values, len(values))
    assert lib.sum(buf, 3) == 2**32 + 2

    bits = struct.unpack("<q", struct.pack("<d", 2.0))[0]
    assert lib.area(0, bits, 0) == pytest.approx(math.pi * 4)
    assert lib.area(1, -3, 7) == 21.0


def test_native_result_layout_is_pointer_width_8(native):
    """result<u32, string> at pointer width 8: tag at 0, payload at 8, string {ptr, len}."""
    ffi, lib = native
    area = lib.parse_u32(_guest_bytes(ffi, lib, b"oops"), 4)
    raw = ffi.buffer(ffi.cast("char *", area), 24)[:]
    tag, ptr, length = raw[0], *struct.unpack("<QQ", raw[8:24])
    assert tag == 1
    assert ffi.unpack(ffi.cast("char *", ptr), length) == b"not a digit"
    lib.cabi_post_parse_u32(area)
    area = lib.parse_u32(_guest_bytes(ffi, lib, b"77"), 2)
    raw = ffi.buffer(ffi.cast("char *", area), 12)[:]
    assert raw[0] == 0 and struct.unpack("<I", raw[8:12])[0] == 77
