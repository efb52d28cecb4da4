"""A cffi binding (ABI mode) of the few wasmtime C functions the fast path calls directly.

The library is the one wasmtime-py ships and has already loaded, so stores and functions
made by wasmtime-py are valid here.  Raw pointers are taken from wasmtime-py objects by
reading their ctypes structures (wasmtime/_store.py, _func.py, _bindings.py):
`Store._context()` is a `wasmtime_context_t *`; `Func._func` is a `wasmtime_func_t`
(`{uint64_t store_id; void *private}`).  `load()` checks the package version and the
symbols once; a failed check returns a reason, and the connector uses the reference path.

`wasmtime_func_call_unchecked` is declared with its `wasmtime_error_t *` result and its
`wasm_trap_t **` out-parameter as `uintptr_t` (the same registers and sizes on every
64-bit ABI wasmtime supports): the hot path then tests plain Python ints instead of
allocating a pointer object per call.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
from pathlib import Path
from typing import Any

SUPPORTED_MAJOR = 50

CDEF = """
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct { uint64_t store_id; void *private_; } wasmtime_func_t;
typedef struct { struct { uint64_t store_id; uint32_t private1; } anon; uint32_t private2; } wasmtime_memory_t;
typedef union {
    int32_t i32; int64_t i64; float f32; double f64; uint8_t v128[16];
    uint32_t anyref; uint32_t externref; uint32_t exnref; void *funcref;
} wasmtime_val_raw_t;
uintptr_t wasmtime_func_call_unchecked(wasmtime_context_t *store, const wasmtime_func_t *func,
    wasmtime_val_raw_t *args_and_results, size_t args_and_results_len, uintptr_t *trap);
wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *store, uint64_t fuel);
void wasmtime_context_set_epoch_deadline(wasmtime_context_t *store, uint64_t ticks_beyond_current);
uint8_t *wasmtime_memory_data(const wasmtime_context_t *store, const wasmtime_memory_t *memory);
size_t wasmtime_memory_data_size(const wasmtime_context_t *store, const wasmtime_memory_t *memory);
"""

SYMBOLS = ("wasmtime_func_call_unchecked", "wasmtime_context_set_fuel",
           "wasmtime_context_set_epoch_deadline", "wasmtime_memory_data", "wasmtime_memory_data_size")


class CApi:
    """The loaded binding: `ffi`, `lib`, and helpers to get raw pointers."""

    def __init__(self, ffi: Any, lib: Any, path: Path, version: str) -> None:
        self.ffi = ffi
        self.lib = lib
        self.path = path
        self.version = version

    def context(self, store: Any) -> Any:
        """The `wasmtime_context_t *` of a wasmtime-py Store, as cffi."""
        addr = ctypes.cast(store._context(), ctypes.c_void_p).value
        return self.ffi.cast("wasmtime_context_t *", addr)

    def func(self, func: Any) -> Any:
        """A cffi-owned copy of a wasmtime-py core Func's `wasmtime_func_t`."""
        raw = ctypes.string_at(ctypes.addressof(func._func), ctypes.sizeof(func._func))
        out = self.ffi.new("wasmtime_func_t *")
        self.ffi.memmove(out, raw, len(raw))
        return out

    def memory(self, memory: Any) -> Any:
        raw = ctypes.string_at(ctypes.addressof(memory._memory), ctypes.sizeof(memory._memory))
        out = self.ffi.new("wasmtime_memory_t *")
        self.ffi.memmove(out, raw, len(raw))
        return out

    def take_error(self, err: int, trap: Any) -> str:
        """The message of a failed call: `err` is the returned error address, `trap` the
        `uintptr_t[1]` trap slot.  Consumes the error or trap object (wasmtime-py frees it)."""
        import wasmtime
        from wasmtime import _ffi as wffi
        if err:
            if trap[0]:  # both set: free the trap too
                self.take_error(0, trap)
            return str(wasmtime.WasmtimeError._from_ptr(ctypes.cast(err, ctypes.POINTER(wffi.wasmtime_error_t))))
        ptr = ctypes.cast(trap[0], ctypes.POINTER(wffi.wasm_trap_t))
        trap[0] = 0
        return str(wasmtime.Trap._from_ptr(ptr))


_LOADED: CApi | None = None
_REASON: str | None = None


def load() -> tuple[CApi | None, str | None]:
    """(binding, None) or (None, why the fast path is unavailable).  Checked once."""
    global _LOADED, _REASON
    if _LOADED is not None or _REASON is not None:
        return _LOADED, _REASON
    try:
        version = importlib.metadata.version("wasmtime")
        major = int(version.split(".")[0])
        if major != SUPPORTED_MAJOR:
            raise RuntimeError(f"wasmtime {version} installed; the fast path is built for {SUPPORTED_MAJOR}.x")
        import cffi
        from wasmtime import _ffi as wffi
        path = Path(wffi.filename)
        if not path.exists():
            raise RuntimeError(f"wasmtime's shared library {path} not found")
        ffi = cffi.FFI()
        ffi.cdef(CDEF)
        lib = ffi.dlopen(str(path))
        for sym in SYMBOLS:
            getattr(lib, sym)
        # the layouts this module relies on
        if ctypes.sizeof(wffi.wasmtime_func_t) != ffi.sizeof("wasmtime_func_t") \
                or ctypes.sizeof(wffi.wasmtime_val_raw_t) != ffi.sizeof("wasmtime_val_raw_t") \
                or ctypes.sizeof(wffi.wasmtime_memory_t) != ffi.sizeof("wasmtime_memory_t"):
            raise RuntimeError("wasmtime's C structure layouts differ from the binding")
        _LOADED = CApi(ffi, lib, path, version)
    except Exception as exc:  # noqa: BLE001 - any failure means: use the reference path
        _REASON = f"{type(exc).__name__}: {exc}"
    return _LOADED, _REASON
