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
`load()` also builds the same declarations as an API-mode module linked against that very
library file (`reml_wasm.cffi_api.build_api_module`, compiled once and
cached), whose calls cost a fraction of that, plus `reml_call_iK` helpers that store K
integer arguments in C.  Without a C compiler or Python's headers the ABI-mode binding
serves as it is (`CApi.mode` says which).

Host functions the guest imports are made with `wasmtime_func_new_unchecked` over one
C-callable entry (`reml_host_entry`: an `extern "Python"` function of the API-mode module,
or a cffi callback in ABI mode) that receives the raw value slots; `env` is an integer
key into `callbacks.REGISTRY`, so no Python object is handed to C.

Start-up: the API-mode module is found again through a small index file in the cache,
keyed by the wasmtime library's path, size and modification time and by the binding's
declarations, so a process that finds it parses no declarations, hashes no library and
does not look up the package version.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from .handles import RESOURCE_CDEF, RESOURCE_SOURCE

SUPPORTED_MAJOR = 50

TYPES = """
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct { uint64_t store_id; void *private_; } wasmtime_func_t;
typedef struct { struct { uint64_t store_id; uint32_t private1; } anon; uint32_t private2; } wasmtime_memory_t;
typedef union {
    int32_t i32; int64_t i64; float f32; double f64; uint8_t v128[16];
    uint32_t anyref; uint32_t externref; uint32_t exnref; void *funcref;
} wasmtime_val_raw_t;
"""
# the callback's `void *env` and `wasm_trap_t *` result are declared as uintptr_t, and its
# value slots as int64_t (each slot is 16 bytes: slot k is element 2k): the hot path then
# deals in plain Python ints
CALLBACK = "uintptr_t (*)(uintptr_t, wasmtime_caller_t *, int64_t *, size_t)"
FINALIZER = "void (*)(uintptr_t)"
CDEF = TYPES + """
uintptr_t wasmtime_func_call_unchecked(wasmtime_context_t *store, const wasmtime_func_t *func,
    wasmtime_val_raw_t *args_and_results, size_t args_and_results_len, uintptr_t *trap);
wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *store, uint64_t fuel);
void wasmtime_context_set_epoch_deadline(wasmtime_context_t *store, uint64_t ticks_beyond_current);
uint8_t *wasmtime_memory_data(const wasmtime_context_t *store, const wasmtime_memory_t *memory);
size_t wasmtime_memory_data_size(const wasmtime_context_t *store, const wasmtime_memory_t *memory);
void wasmtime_func_new_unchecked(wasmtime_context_t *store, const wasm_functype_t *type,
    uintptr_t (*callback)(uintptr_t, wasmtime_caller_t *, int64_t *, size_t), uintptr_t env,
    void (*finalizer)(uintptr_t), wasmtime_func_t *ret);
uintptr_t wasmtime_trap_new(const char *msg, size_t msg_len);
"""

SYMBOLS = ("wasmtime_func_call_unchecked", "wasmtime_context_set_fuel",
           "wasmtime_context_set_epoch_deadline", "wasmtime_memory_data", "wasmtime_memory_data_size",
           "wasmtime_func_new_unchecked", "wasmtime_trap_new")

# reml_call_iK(store, func, args, len, trap, x0 .. xK-1): the unchecked call with K integer
# arguments stored by C (storing each through a cffi view costs more than the call's
# conversion of a C argument); only in the API-mode module.  Its status is the error
# pointer, or 1 when only the trap slot is set, or 0: one test in Python.
_INT_CALLS = 4
_INT_CALL_CDEF = "".join(
    f"uintptr_t reml_call_i{k}(wasmtime_context_t *, const wasmtime_func_t *, wasmtime_val_raw_t *, size_t, "
    f"uintptr_t *{''.join(', int64_t' for _ in range(k))});\n" for k in range(_INT_CALLS + 1))
_INT_CALL_SOURCE = "".join(
    f"static uintptr_t reml_call_i{k}(wasmtime_context_t *s, const wasmtime_func_t *f, wasmtime_val_raw_t *a, "
    f"size_t n, uintptr_t *trap{''.join(f', int64_t x{i}' for i in range(k))}) "
    f"{{{''.join(f' a[{i}].i64 = x{i};' for i in range(k))} uintptr_t r = wasmtime_func_call_unchecked(s, f, a, n, trap);"
    " return r ? r : (*trap != 0); }\n"
    for k in range(_INT_CALLS + 1))
# reml_put(store, realloc, memory, slots, trap, align, data, n): the guest's realloc(0, 0,
# align, n) and the copy of n bytes to the block it returns, in one crossing.  Returns
# the block (>= 0); -1 when the call failed (slot 0 holds the error pointer, the trap
# slot the trap); -2 when the block is misaligned or outside memory (slot 0 holds it).
_PUT_CDEF = ("int64_t reml_put(wasmtime_context_t *, const wasmtime_func_t *, const wasmtime_memory_t *, "
             "wasmtime_val_raw_t *, uintptr_t *, int32_t, const char *, size_t);\n")
_PUT_SOURCE = """
#include <string.h>
static int64_t reml_put(wasmtime_context_t *s, const wasmtime_func_t *realloc_fn, const wasmtime_memory_t *mem,
                        wasmtime_val_raw_t *a, uintptr_t *trap, int32_t align, const char *data, size_t n) {
    a[0].i64 = 0; a[1].i64 = 0; a[2].i64 = align; a[3].i64 = (int64_t)n;
    uintptr_t r = wasmtime_func_call_unchecked(s, realloc_fn, a, 4, trap);
    if (r || *trap) { a[0].i64 = (int64_t)r; return -1; }
    uint64_t p = (uint32_t)a[0].i32;
    if ((align > 1 && p % (uint64_t)align) || p + n > wasmtime_memory_data_size(s, mem)) {
        a[0].i64 = (int64_t)p;
        return -2;
    }
    if (n) memcpy(wasmtime_memory_data(s, mem) + p, data, n);
    return (int64_t)p;
}
"""
# reml_put_strings(store, realloc, memory, slots, trap, list, data, lens, n): for each of n
# UTF-8 strings (lengths: n little-endian u32 in `lens`, bytes one after another in
# `data`): realloc(0, 0, 1, len), the copy, and its (pointer, length) pair written at
# list + 8 i.  Returns 0; -1 when a call failed (slot 0: error pointer, slot 1: i); -2
# when a block or the pair falls outside memory (slot 0: the block, slot 1: i).
_PUT_STRINGS_CDEF = ("int64_t reml_put_strings(wasmtime_context_t *, const wasmtime_func_t *, "
                     "const wasmtime_memory_t *, wasmtime_val_raw_t *, uintptr_t *, uint32_t, const char *, "
                     "const char *, size_t);\n")
_PUT_STRINGS_SOURCE = """
static int64_t reml_put_strings(wasmtime_context_t *s, const wasmtime_func_t *realloc_fn,
                                const wasmtime_memory_t *mem, wasmtime_val_raw_t *a, uintptr_t *trap,
                                uint32_t list, const char *data, const char *lens, size_t n) {
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len;
        memcpy(&len, lens + 4 * i, 4);
        a[0].i64 = 0; a[1].i64 = 0; a[2].i64 = 1; a[3].i64 = len;
        uintptr_t r = wasmtime_func_call_unchecked(s, realloc_fn, a, 4, trap);
        if (r || *trap) { a[0].i64 = (int64_t)r; a[1].i64 = (int64_t)i; return -1; }
        uint64_t p = (uint32_t)a[0].i32;
        size_t size = wasmtime_memory_data_size(s, mem);
        if (p + len > size || (uint64_t)list + 8 * (i + 1) > size) {
            a[0].i64 = (int64_t)p; a[1].i64 = (int64_t)i;
            return -2;
        }
        uint8_t *base = wasmtime_memory_data(s, mem);
        if (len) memcpy(base + p, data + off, len);
        uint32_t pair[2] = {(uint32_t)p, len};
        memcpy(base + list + 8 * i, pair, 8);
        off += len;
    }
    return 0;
}
"""
# The per-instance store record of the API-mode module: the store's re-entrant lock (a
# mutex with its owner and depth: a host function the guest calls may re-enter the store
# from the same thread), the poisoned flag, fuel and epoch settings, the failure of the
# last failed call (read while the lock is still held) and the wasmtime functions the
# per-signature glue calls (glue.py), so glue modules link no library.  `reml_export_t`:
# one lifted export of one instance (its function, post-return, realloc and memory).
# The same C text is compiled into every glue module: one layout.
STORE_SOURCE = """
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
typedef uintptr_t (*reml_call_fn)(wasmtime_context_t *, const wasmtime_func_t *, wasmtime_val_raw_t *, size_t,
                                  uintptr_t *);
typedef struct reml_store {
    pthread_mutex_t mu;
    uintptr_t owner;
    int64_t depth;
    wasmtime_context_t *ctx;
    int32_t poisoned, has_fuel, has_ticks, fixed_base;
    uint64_t fuel, ticks;
    uintptr_t err, trap;
    int64_t raw[4];
    reml_call_fn call;
    wasmtime_error_t *(*set_fuel)(wasmtime_context_t *, uint64_t);
    void (*set_deadline)(wasmtime_context_t *, uint64_t);
    uint8_t *(*mem_data)(const wasmtime_context_t *, const wasmtime_memory_t *);
    size_t (*mem_size)(const wasmtime_context_t *, const wasmtime_memory_t *);
} reml_store_t;
typedef struct reml_export {
    reml_store_t *st;
    wasmtime_func_t func, post, realloc;
    wasmtime_memory_t mem;
    int64_t copy_limit;
    int64_t out[4];
} reml_export_t;
static inline void reml_lock(reml_store_t *st) {
    uintptr_t self = (uintptr_t)pthread_self();
    if (__atomic_load_n(&st->owner, __ATOMIC_RELAXED) == self) { st->depth++; return; }
    pthread_mutex_lock(&st->mu);
    __atomic_store_n(&st->owner, self, __ATOMIC_RELAXED);
    st->depth = 1;
}
static inline void reml_unlock(reml_store_t *st) {
    if (--st->depth == 0) {
        __atomic_store_n(&st->owner, (uintptr_t)0, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&st->mu);
    }
}
static inline void reml_enter(reml_store_t *st) {
    if (st->has_fuel) { wasmtime_error_t *e = st->set_fuel(st->ctx, st->fuel); (void)e; }
    if (st->has_ticks) st->set_deadline(st->ctx, st->ticks);
}
"""
_STORE_CDEF = """
typedef struct reml_store reml_store_t;
typedef struct reml_export reml_export_t;
reml_store_t *reml_store_new(wasmtime_context_t *, int32_t, uint64_t, int32_t, uint64_t);
void reml_store_free(reml_store_t *);
void reml_store_lock(reml_store_t *);
void reml_store_unlock(reml_store_t *);
int32_t reml_store_owned(reml_store_t *);
void reml_store_poison(reml_store_t *);
void reml_store_cycle(reml_store_t *, int64_t);
uintptr_t reml_store_failure(reml_store_t *, uintptr_t *);
int64_t reml_store_raw(reml_store_t *, int32_t);
reml_export_t *reml_export_new(reml_store_t *, const wasmtime_func_t *, const wasmtime_func_t *,
                               const wasmtime_func_t *, const wasmtime_memory_t *, int64_t);
void reml_export_free(reml_export_t *);
int64_t reml_export_out(reml_export_t *, int32_t);
int64_t reml_core_call1(reml_export_t *, int64_t);
int32_t reml_install_lock_functions(void);
"""
_STORE_FUNCTIONS = """
static reml_store_t *reml_store_new(wasmtime_context_t *ctx, int32_t has_fuel, uint64_t fuel, int32_t has_ticks,
                                    uint64_t ticks) {
    reml_store_t *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    pthread_mutex_init(&st->mu, NULL);
    st->ctx = ctx; st->has_fuel = has_fuel; st->fuel = fuel; st->has_ticks = has_ticks; st->ticks = ticks;
    st->call = wasmtime_func_call_unchecked;
    st->set_fuel = wasmtime_context_set_fuel;
    st->set_deadline = wasmtime_context_set_epoch_deadline;
    st->mem_data = wasmtime_memory_data;
    st->mem_size = wasmtime_memory_data_size;
    return st;
}
static void reml_store_free(reml_store_t *st) { pthread_mutex_destroy(&st->mu); free(st); }
static void reml_store_lock(reml_store_t *st) { reml_lock(st); }
static void reml_store_unlock(reml_store_t *st) { reml_unlock(st); }
static int32_t reml_store_owned(reml_store_t *st) {
    return st->depth > 0 && __atomic_load_n(&st->owner, __ATOMIC_RELAXED) == (uintptr_t)pthread_self();
}
static void reml_store_poison(reml_store_t *st) { st->poisoned = 1; }
/* n acquire/release pairs of the lock as the glue takes it (the bench's lock row) */
static void reml_store_cycle(reml_store_t *st, int64_t n) {
    for (int64_t i = 0; i < n; i++) { reml_lock(st); __asm__ __volatile__("" ::: "memory"); reml_unlock(st); }
}
static uintptr_t reml_store_failure(reml_store_t *st, uintptr_t *trap) {
    uintptr_t err = st->err;
    *trap = st->trap; st->err = 0; st->trap = 0;
    return err;
}
static int64_t reml_store_raw(reml_store_t *st, int32_t k) { return st->raw[k]; }
static reml_export_t *reml_export_new(reml_store_t *st, const wasmtime_func_t *func, const wasmtime_func_t *post,
                                      const wasmtime_func_t *realloc_fn, const wasmtime_memory_t *mem,
                                      int64_t copy_limit) {
    reml_export_t *ex = calloc(1, sizeof *ex);
    if (!ex) return NULL;
    ex->st = st; ex->func = *func;
    if (post) ex->post = *post;
    if (realloc_fn) ex->realloc = *realloc_fn;
    if (mem) ex->mem = *mem;
    ex->copy_limit = copy_limit;
    return ex;
}
static void reml_export_free(reml_export_t *ex) { free(ex); }
static int64_t reml_export_out(reml_export_t *ex, int32_t k) { return ex->out[k]; }
/* a core function (i32) -> () called holding the store's lock (a destructor): 0; 2 poisoned,
   3 failed (error and trap in the record): both return with the lock still held */
static int64_t reml_core_call1(reml_export_t *ex, int64_t x) {
    reml_store_t *st = ex->st;
    reml_lock(st);
    if (st->poisoned) return 2;
    if (st->has_ticks) st->set_deadline(st->ctx, st->ticks);
    wasmtime_val_raw_t a[1];
    uintptr_t trap = 0, err;
    a[0].i64 = x;
    err = st->call(st->ctx, &ex->func, a, 1, &trap);
    if (err || trap) { st->err = err; st->trap = trap; return 3; }
    reml_unlock(st);
    return 0;
}

/* The lock for Python code, as CPython functions bound to a record's address (no cffi
   wrapper: they keep the GIL while the mutex is free, and give it up only to wait). */
static PyObject *reml_py_acquire(PyObject *self, PyObject *unused) {
    reml_store_t *st = (reml_store_t *)PyLong_AsVoidPtr(self);
    uintptr_t me = (uintptr_t)pthread_self();
    if (__atomic_load_n(&st->owner, __ATOMIC_RELAXED) == me) { st->depth++; Py_RETURN_TRUE; }
    if (pthread_mutex_trylock(&st->mu) != 0) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&st->mu);
        Py_END_ALLOW_THREADS
    }
    __atomic_store_n(&st->owner, me, __ATOMIC_RELAXED);
    st->depth = 1;
    Py_RETURN_TRUE;
}
static PyObject *reml_py_release(PyObject *self, PyObject *unused) {
    reml_store_t *st = (reml_store_t *)PyLong_AsVoidPtr(self);
    if (st->depth <= 0 || __atomic_load_n(&st->owner, __ATOMIC_RELAXED) != (uintptr_t)pthread_self()) {
        PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
        return NULL;
    }
    reml_unlock(st);
    Py_RETURN_NONE;
}
static PyMethodDef reml_py_lock_defs[] = {
    {"acquire", reml_py_acquire, METH_NOARGS, NULL},
    {"release", reml_py_release, METH_NOARGS, NULL},
};
static PyObject *reml_py_lock_functions(PyObject *unused, PyObject *address) {
    PyObject *acquire = PyCFunction_New(&reml_py_lock_defs[0], address);
    PyObject *release = acquire ? PyCFunction_New(&reml_py_lock_defs[1], address) : NULL;
    if (!release) { Py_XDECREF(acquire); return NULL; }
    return Py_BuildValue("(NN)", acquire, release);
}
static PyMethodDef reml_py_install_def = {"lock_functions", reml_py_lock_functions, METH_O, NULL};
static int32_t reml_install_lock_functions(void) {
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *m = PyImport_AddModule("_reml_store_lock");
    PyObject *f = m ? PyCFunction_New(&reml_py_install_def, NULL) : NULL;
    int32_t ok = f != NULL && PyModule_AddObject(m, "lock_functions", f) == 0;
    if (!ok) { Py_XDECREF(f); PyErr_Clear(); }
    PyGILState_Release(g);
    return ok;
}
"""
_EXTERN_CDEF = """
extern "Python" uintptr_t reml_host_entry(uintptr_t, wasmtime_caller_t *, int64_t *, size_t);
extern "Python" void reml_host_release(uintptr_t);
"""
# reml_host_scalar: the C entry of a host function whose (at most 3) parameters and result
# are integers: it hands the first three slots to `reml_host_scalar_entry` (extern
# "Python") as C integers and stores the integer it answers in slot 0, so the Python side
# indexes no slot view.  A failed call leaves its trap with `reml_host_set_trap`, which
# the entry returns to wasmtime.
_SCALAR_HOST_CDEF = """
extern "Python" int64_t reml_host_scalar_entry(uintptr_t, int64_t, int64_t, int64_t);
uintptr_t reml_host_scalar(uintptr_t, wasmtime_caller_t *, int64_t *, size_t);
void reml_host_set_trap(uintptr_t);
"""
_SCALAR_HOST_SOURCE = """
static int64_t reml_host_scalar_entry(uintptr_t, int64_t, int64_t, int64_t);
static _Thread_local uintptr_t reml_host_trap;
static void reml_host_set_trap(uintptr_t trap) { reml_host_trap = trap; }
static uintptr_t reml_host_scalar(uintptr_t env, wasmtime_caller_t *caller, int64_t *raw, size_t n) {
    int64_t r;
    uintptr_t trap;
    (void)caller;
    r = reml_host_scalar_entry(env, n > 0 ? raw[0] : 0, n > 1 ? raw[2] : 0, n > 2 ? raw[4] : 0);
    trap = reml_host_trap;
    if (trap) {
        reml_host_trap = 0;
        return trap;
    }
    if (n)
        raw[0] = r;
    return 0;
}
"""
API_CDEF = (CDEF + _INT_CALL_CDEF + _PUT_CDEF + _PUT_STRINGS_CDEF + _STORE_CDEF + _EXTERN_CDEF + _SCALAR_HOST_CDEF
            + RESOURCE_CDEF)
API_SOURCE = ("#include <stdint.h>\n#include <stddef.h>\n" + CDEF + _INT_CALL_SOURCE + _PUT_SOURCE + _PUT_STRINGS_SOURCE
              + STORE_SOURCE + _STORE_FUNCTIONS + _SCALAR_HOST_SOURCE + RESOURCE_SOURCE)


class CApi:
    """The loaded binding: `ffi`, `lib`, helpers to get raw pointers, and `host_entry` /
    `host_release` (the C-callable dispatch of host functions, set by `callbacks.attach`)."""

    def __init__(self, ffi: Any, lib: Any, path: Path, version: str, mode: str = "abi") -> None:
        self.ffi = ffi
        self.lib = lib
        self.path = path
        self.version = version
        self.mode = mode  # "api": the compiled stubs; "abi": libffi calls
        self.host_entry: Any = None
        self.host_release: Any = None
        self.host_scalar: Any = None  # API mode: reml_host_scalar (set by callbacks.attach)
        import wasmtime
        from wasmtime import _ffi as wffi
        self._func_from_raw, self._raw_func = wasmtime.Func._from_raw, wffi.wasmtime_func_t

    def int_call(self, nargs: int) -> Any:
        """`reml_call_i<nargs>` (API mode, at most 4 arguments), else None.  Its status
        is nonzero when the call failed (`take_error` reads either kind of failure)."""
        if self.mode != "api" or nargs > _INT_CALLS:
            return None
        return getattr(self.lib, f"reml_call_i{nargs}")

    @property
    def put(self) -> Any:
        """`reml_put` (API mode), else None."""
        return self.lib.reml_put if self.mode == "api" else None

    @property
    def put_strings(self) -> Any:
        """`reml_put_strings` (API mode), else None."""
        return self.lib.reml_put_strings if self.mode == "api" else None

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

    def new_host_func(self, ctx: Any, functype: Any, key: int, *, scalar: bool = False,
                      callback: Any = None, finalizer: Any = None) -> Any:
        """A wasmtime-py `Func` (usable as a core import) of type `functype` (a wasmtime-py
        FuncType) whose calls reach `callbacks.REGISTRY[key]`; the store releases the key
        when it is deleted.  `scalar` (API mode; at most 3 parameters, all integers, and
        an integer result or none): the entry is called `entry(a0, a1, a2)` with the raw
        slots as ints and answers the result slot's int (`reml_host_scalar`); otherwise
        `entry(raw)` with the slot view.  `callback` and `finalizer` (C functions of the
        API module) replace the Python dispatch: `key` is then their own `env`."""
        ffi = self.ffi
        out = ffi.new("wasmtime_func_t *")
        ty = ffi.cast("wasm_functype_t *", ctypes.cast(functype.ptr(), ctypes.c_void_p).value)
        if callback is None:
            callback = self.host_scalar if scalar else self.host_entry
        self.lib.wasmtime_func_new_unchecked(ctx, ty, callback, key,
                                             self.host_release if finalizer is None else finalizer, out)
        raw = self._raw_func()
        ctypes.memmove(ctypes.addressof(raw), int(ffi.cast("uintptr_t", out)), ffi.sizeof("wasmtime_func_t"))
        return self._func_from_raw(raw)

    def new_trap(self, message: str) -> int:
        """A `wasm_trap_t *` (as an int) a host callback returns to make the guest trap."""
        data = message.encode("utf-8", "replace")
        return self.lib.wasmtime_trap_new(data, len(data))

    def take_error(self, err: int, trap: Any) -> str:
        """The message of a failed call: `err` is the returned error address, `trap` the
        `uintptr_t[1]` trap slot.  Consumes the error or trap object (wasmtime-py frees it)."""
        import wasmtime
        from wasmtime import _ffi as wffi
        if err == 1:  # an int_call status: only the trap slot is set
            err = 0
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
    """(binding, None) or (None, why the fast path is unavailable).  Checked once per
    process; the compiled binding is found through the cache index when it is there."""
    global _LOADED, _REASON
    if _LOADED is not None or _REASON is not None:
        return _LOADED, _REASON
    try:
        capi = cached_binding()
        if capi is None:
            abi = abi_binding()
            capi = compiled(abi) or abi
        from .callbacks import attach
        attach(capi)
        _LOADED = capi
    except Exception as exc:  # noqa: BLE001 - any failure means: use the reference path
        _REASON = f"{type(exc).__name__}: {exc}"
    return _LOADED, _REASON


def _library_path() -> Path:
    from wasmtime import _ffi as wffi
    path = Path(wffi.filename)
    if not path.exists():
        raise RuntimeError(f"wasmtime's shared library {path} not found")
    return path


def _index_file(path: Path) -> Path:
    """The cache index of the compiled binding for this library file (path, size, mtime),
    this Python, this cffi backend and these declarations."""
    import _cffi_backend
    from ...paths import cache_root
    st = path.stat()
    key = "\x1f".join([str(path), str(st.st_size), str(st.st_mtime_ns), sys.version,
                       _cffi_backend.__version__, API_CDEF, API_SOURCE])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return cache_root() / "wasmtime-capi" / f"{digest}.json"


def _check_layouts(ffi: Any) -> None:
    from wasmtime import _ffi as wffi
    if ctypes.sizeof(wffi.wasmtime_func_t) != ffi.sizeof("wasmtime_func_t") \
            or ctypes.sizeof(wffi.wasmtime_val_raw_t) != ffi.sizeof("wasmtime_val_raw_t") \
            or ctypes.sizeof(wffi.wasmtime_memory_t) != ffi.sizeof("wasmtime_memory_t"):
        raise RuntimeError("wasmtime's C structure layouts differ from the binding")


def _check_version(version: str) -> None:
    if int(version.split(".")[0]) != SUPPORTED_MAJOR:
        raise RuntimeError(f"wasmtime {version} installed; the fast path is built for {SUPPORTED_MAJOR}.x")


def cached_binding() -> CApi | None:
    """The compiled binding named by the cache index, or None (no index, or its module is
    gone or does not load: `load` then builds it again)."""
    import importlib.util
    path = _library_path()
    try:
        index = json.loads(_index_file(path).read_text())
        version, target = index["version"], Path(index["module"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _check_version(version)
    spec = importlib.util.spec_from_file_location(target.name.split(".")[0], target)
    if spec is None or spec.loader is None or not target.is_file():
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:
        return None
    _check_layouts(module.ffi)
    return CApi(module.ffi, module.lib, path, version, mode="api")


def abi_binding() -> CApi:
    """The ABI-mode binding of wasmtime-py's own library, its version and layouts checked;
    raises when they do not fit."""
    import importlib.metadata
    version = importlib.metadata.version("wasmtime")
    _check_version(version)
    import cffi
    path = _library_path()
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    lib = ffi.dlopen(str(path))
    for sym in SYMBOLS:
        getattr(lib, sym)
    _check_layouts(ffi)
    return CApi(ffi, lib, path, version)


def compiled(abi: CApi) -> CApi | None:
    """The same functions through a compiled API-mode module linked against wasmtime-py's
    own library file (`reml_wasm.cffi_api.build_api_module`, cached), recorded in the cache
    index for the next process; None when it cannot be built here (no C compiler or
    Python headers)."""
    from ...audit import write_atomic
    from ...cffi_api import build_api_module
    from ...libraries import ResolvedLibrary

    try:
        module = build_api_module(API_CDEF, API_SOURCE, ResolvedLibrary("wasmtime", path=abi.path))
    except Exception:  # noqa: BLE001 - building is an optimisation: ABI mode serves without it
        return None
    try:
        write_atomic(_index_file(abi.path), json.dumps({"version": abi.version, "module": str(module.path)}))
    except OSError:
        pass  # an unwritable cache only costs the next process the lookup
    return CApi(module.ffi, module.lib, abi.path, abi.version, mode="api")
