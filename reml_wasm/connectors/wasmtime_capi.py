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

Calls through an ABI-mode binding go through libffi (about 250 ns of overhead each).  So
`load()` also compiles, once per declaration text and cached under `toolchain.cache_root()`,
an API-mode module declaring the same functions, each a C stub jumping through a function
pointer it is given from the ABI-mode library (nothing is linked against wasmtime); its
calls cost a fraction of that.  Without a C compiler or Python's headers, the ABI-mode
binding is used as it is (`CApi.mode` says which).
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SUPPORTED_MAJOR = 50

TYPES = """
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct { uint64_t store_id; void *private_; } wasmtime_func_t;
typedef struct { struct { uint64_t store_id; uint32_t private1; } anon; uint32_t private2; } wasmtime_memory_t;
typedef union {
    int32_t i32; int64_t i64; float f32; double f64; uint8_t v128[16];
    uint32_t anyref; uint32_t externref; uint32_t exnref; void *funcref;
} wasmtime_val_raw_t;
"""
CDEF = TYPES + """
uintptr_t wasmtime_func_call_unchecked(wasmtime_context_t *store, const wasmtime_func_t *func,
    wasmtime_val_raw_t *args_and_results, size_t args_and_results_len, uintptr_t *trap);
wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *store, uint64_t fuel);
void wasmtime_context_set_epoch_deadline(wasmtime_context_t *store, uint64_t ticks_beyond_current);
uint8_t *wasmtime_memory_data(const wasmtime_context_t *store, const wasmtime_memory_t *memory);
size_t wasmtime_memory_data_size(const wasmtime_context_t *store, const wasmtime_memory_t *memory);
"""

SYMBOLS = ("wasmtime_func_call_unchecked", "wasmtime_context_set_fuel",
           "wasmtime_context_set_epoch_deadline", "wasmtime_memory_data", "wasmtime_memory_data_size")

# The API-mode module: CDEF's types and functions (each a stub calling through a pointer
# set by `reml_bind`), compiled by cffi.
_STUBS = """
typedef uintptr_t (*call_t)(wasmtime_context_t *, const wasmtime_func_t *, wasmtime_val_raw_t *, size_t,
                            uintptr_t *);
typedef wasmtime_error_t *(*fuel_t)(wasmtime_context_t *, uint64_t);
typedef void (*deadline_t)(wasmtime_context_t *, uint64_t);
typedef uint8_t *(*data_t)(const wasmtime_context_t *, const wasmtime_memory_t *);
typedef size_t (*size_t_t)(const wasmtime_context_t *, const wasmtime_memory_t *);
static call_t p_call; static fuel_t p_fuel; static deadline_t p_deadline; static data_t p_data;
static size_t_t p_size;
static void reml_bind(uintptr_t call, uintptr_t fuel, uintptr_t deadline, uintptr_t data, uintptr_t size) {
    p_call = (call_t)call; p_fuel = (fuel_t)fuel; p_deadline = (deadline_t)deadline;
    p_data = (data_t)data; p_size = (size_t_t)size;
}
static uintptr_t wasmtime_func_call_unchecked(wasmtime_context_t *store, const wasmtime_func_t *func,
        wasmtime_val_raw_t *args_and_results, size_t args_and_results_len, uintptr_t *trap) {
    return p_call(store, func, args_and_results, args_and_results_len, trap);
}
static wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *store, uint64_t fuel) {
    return p_fuel(store, fuel);
}
static void wasmtime_context_set_epoch_deadline(wasmtime_context_t *store, uint64_t ticks) {
    p_deadline(store, ticks);
}
static uint8_t *wasmtime_memory_data(const wasmtime_context_t *store, const wasmtime_memory_t *memory) {
    return p_data(store, memory);
}
static size_t wasmtime_memory_data_size(const wasmtime_context_t *store, const wasmtime_memory_t *memory) {
    return p_size(store, memory);
}
"""
# reml_call_iK(store, func, args, len, trap, x0 .. xK-1): the unchecked call with K integer
# arguments stored by C (storing each through a cffi view costs more than the call's
# conversion of a C argument); only in the API-mode module.
_INT_CALLS = 4
_STUBS += "".join(
    f"static uintptr_t reml_call_i{k}(wasmtime_context_t *s, const wasmtime_func_t *f, wasmtime_val_raw_t *a, "
    f"size_t n, uintptr_t *trap{''.join(f', int64_t x{i}' for i in range(k))}) "
    f"{{{''.join(f' a[{i}].i64 = x{i};' for i in range(k))} return p_call(s, f, a, n, trap); }}\n"
    for k in range(_INT_CALLS + 1))
_BIND_CDEF = "void reml_bind(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);\n" + "".join(
    f"uintptr_t reml_call_i{k}(wasmtime_context_t *, const wasmtime_func_t *, wasmtime_val_raw_t *, size_t, "
    f"uintptr_t *{''.join(', int64_t' for _ in range(k))});\n" for k in range(_INT_CALLS + 1))


class CApi:
    """The loaded binding: `ffi`, `lib`, and helpers to get raw pointers."""

    def __init__(self, ffi: Any, lib: Any, path: Path, version: str, mode: str = "abi") -> None:
        self.ffi = ffi
        self.lib = lib
        self.path = path
        self.version = version
        self.mode = mode  # "api": the compiled stubs; "abi": libffi calls

    def int_call(self, nargs: int) -> Any:
        """`reml_call_i<nargs>` (API mode, at most 4 arguments), else None."""
        if self.mode != "api" or nargs > _INT_CALLS:
            return None
        return getattr(self.lib, f"reml_call_i{nargs}")

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
        abi = abi_binding()
        _LOADED = compiled(abi.ffi, abi.lib, abi.path, abi.version) or abi
    except Exception as exc:  # noqa: BLE001 - any failure means: use the reference path
        _REASON = f"{type(exc).__name__}: {exc}"
    return _LOADED, _REASON


def abi_binding() -> CApi:
    """The ABI-mode binding of wasmtime-py's own library, its version and layouts checked;
    raises when they do not fit."""
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
    return CApi(ffi, lib, path, version)


def compiled(abi_ffi: Any, abi_lib: Any, path: Path, version: str) -> CApi | None:
    """The binding through the compiled API-mode stubs, bound to `abi_lib`'s functions;
    None when they cannot be built here (no compiler or headers)."""
    try:
        module = _api_module()
    except Exception:  # noqa: BLE001 - building is an optimisation: fall back to ABI mode
        return None
    module.lib.reml_bind(*(int(abi_ffi.cast("uintptr_t", getattr(abi_lib, sym))) for sym in SYMBOLS))
    return CApi(module.ffi, module.lib, path, version, mode="api")


def _api_module() -> Any:
    """Import the compiled stub module, building it into the cache first if needed."""
    from .. import toolchain
    import cffi

    digest = hashlib.sha256((CDEF + _STUBS + cffi.__version__ + sys.version).encode()).hexdigest()[:16]
    name = f"_reml_wasmtime_{digest}"
    cache = toolchain.cache_root() / "wasmtime-capi"
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    target = cache / (name + suffix)
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache))
        try:
            # in a child process: the compiler's output must not reach the user's terminal
            script = (
                "import cffi, sys\n"
                "b = cffi.FFI()\n"
                f"b.cdef({CDEF + _BIND_CDEF!r})\n"
                f"b.set_source({name!r}, {'#include <stdint.h>' + chr(10) + '#include <stddef.h>' + chr(10) + TYPES + _STUBS!r})\n"
                "print(b.compile(tmpdir=sys.argv[1]))\n")
            done = subprocess.run([sys.executable, "-c", script, str(work)], capture_output=True, text=True,
                                  timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"building the API-mode binding failed: {done.stderr[-500:]}")
            os.replace(done.stdout.strip().splitlines()[-1], target)  # atomic: racers install the same bytes
        finally:
            shutil.rmtree(work, ignore_errors=True)
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
