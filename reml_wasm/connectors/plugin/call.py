"""How the plugin connector calls a plugin's C entry points: compiled (cffi API mode) or
through libffi (cffi ABI mode).

Every plugin library is opened with `dlopen` in ABI mode (that finds which of the four
entry points it exports, and keeps it loaded).  When a C compiler is present, one small
API-mode module (`reml_wasm.cffi_api.build_api_module`, compiled once, cached by content hash,
linked against no library) calls those entry points through their addresses; a call
through it costs a fraction of a libffi call.  Per library it keeps the entry points and
a mutex (`reml_nyash_open`): the plugin ABI promises no thread safety, so calls into one
library are serialised there, in C, around the call alone; the caller's result buffers
(`reml_nyash_slot`) are its own (one per thread), so nothing else needs a lock.  The
plugin is handed a copy of the argument bytes (in both modes), which it may scribble on.
`reml_nyash_call` is one attempt of the two-phase protocol: it sets the length to the
slot's capacity, calls `nyash_plugin_invoke`, and answers the result length when the
call succeeded and the result fitted, else -1 (return code and wanted length are then in
the slot, and the caller runs the retry loop), or -2 once `reml_nyash_close` has run the
plugin's shutdown.  `reml_nyash_call_i32` is the same attempt into a result buffer of
the calling thread kept in C (`reml_nyash_here`): when the call succeeded with exactly one
i32 entry it answers the value itself (no bytes object, no decoding in Python); otherwise
it answers `HELD` (also for the few i32 values at or below it) and keeps the thread's buffer, return code and length for the caller to
read and release (a call re-entered meanwhile on the same thread gets `BUSY` and calls
nothing), or `CLOSED` after the shutdown.  Without a compiler (or Python's headers) ABI
mode serves alone.
"""

from __future__ import annotations

import threading
from typing import Any

from cffi import FFI

__all__ = ["ABI_FFI", "api_module", "api_unavailable_reason", "entry_address", "HELD", "BUSY", "CLOSED",
           "HERE_BYTES"]

# Answers of reml_nyash_call_i32 that are not a value: every answer above HELD is the
# value (small enough for the interpreter's quick integer comparison); an i32 result at
# or below it is answered HELD and decoded the ordinary way.
HELD = -(1 << 30) + 3
BUSY = HELD - 1
CLOSED = HELD - 2
HERE_BYTES = 256      # the size of the calling thread's C result buffer

# `const char *` / `char *` are ABI-identical to the header's `uint8_t *` and let cffi
# pass Python bytes without a copy.
ENTRY_CDEF = """
int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                            const char *args, size_t args_len, char *result, size_t *result_len);
int32_t nyash_plugin_init(void);
uint32_t nyash_plugin_abi(void);
void nyash_plugin_shutdown(void);
"""

ABI_FFI = FFI()
ABI_FFI.cdef(ENTRY_CDEF)

SLOT_TYPE = """
typedef struct { char *buf; size_t cap; size_t len; int32_t rc; } reml_nyash_slot;
typedef struct { char buf[256]; size_t len; int32_t rc; int32_t held; } reml_nyash_here_slot;
"""

SHIM_CDEF = SLOT_TYPE + """
typedef struct reml_nyash_lib reml_nyash_lib;
reml_nyash_lib *reml_nyash_open(uintptr_t invoke, uintptr_t shutdown);
int64_t reml_nyash_call(reml_nyash_lib *lib, reml_nyash_slot *slot, uint32_t type_id, uint32_t method_id,
                        uint32_t instance_id, const char *args, size_t args_len);
int32_t reml_nyash_call_i32(reml_nyash_lib *lib, uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                            const char *args, size_t args_len);
reml_nyash_here_slot *reml_nyash_here_slot_get(void);
void reml_nyash_lock(reml_nyash_lib *lib);
void reml_nyash_unlock(reml_nyash_lib *lib);
void reml_nyash_close(reml_nyash_lib *lib);
void reml_nyash_free(reml_nyash_lib *lib);
int32_t reml_nyash_init(uintptr_t fn);
uint32_t reml_nyash_abi(uintptr_t fn);
"""

SHIM_SOURCE = r"""
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
""" + SLOT_TYPE + r"""
typedef int32_t (*reml_nyash_invoke_fn)(uint32_t, uint32_t, uint32_t, const uint8_t *, size_t,
                                        uint8_t *, size_t *);

/* One loaded library: its entry points and the mutex that serialises calls into it
   (recursive: the host holds it while it sends the last finis on unload). */
typedef struct reml_nyash_lib {
    reml_nyash_invoke_fn invoke;
    void (*shutdown)(void);
    pthread_mutex_t mu;
    int closed;
} reml_nyash_lib;

static reml_nyash_lib *reml_nyash_open(uintptr_t invoke, uintptr_t shutdown) {
    pthread_mutexattr_t attr;
    reml_nyash_lib *lib = calloc(1, sizeof *lib);
    if (lib == NULL)
        return NULL;
    lib->invoke = (reml_nyash_invoke_fn)invoke;
    lib->shutdown = (void (*)(void))shutdown;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&lib->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    return lib;
}

#define REML_NYASH_HELD (-(INT32_C(1) << 30) + 3)
#define REML_NYASH_BUSY (REML_NYASH_HELD - 1)
#define REML_NYASH_CLOSED (REML_NYASH_HELD - 2)
#define REML_NYASH_GONE INT32_MIN    /* reml_nyash_invoke: the library was shut down */

/* nyash_plugin_invoke with a copy of the arguments (one that writes into its const buffer
   must not change the caller's bytes, such as the shared empty list), under the library's
   mutex; *len holds the capacity on entry and the plugin's length on return.  -6 when the
   copy cannot be made, REML_NYASH_GONE after the shutdown (nothing called). */
static int32_t reml_nyash_invoke(reml_nyash_lib *lib, uint32_t type_id, uint32_t method_id,
                                 uint32_t instance_id, const char *args, size_t args_len,
                                 char *buf, size_t *len) {
    int32_t rc;
    uint8_t small[256];
    uint8_t *copy = args_len <= sizeof small ? small : malloc(args_len);
    if (copy == NULL)
        return -6;
    if (args_len)
        memcpy(copy, args, args_len);
    pthread_mutex_lock(&lib->mu);
    if (lib->closed)
        rc = REML_NYASH_GONE;
    else
        rc = lib->invoke(type_id, method_id, instance_id, copy, args_len, (uint8_t *)buf, len);
    pthread_mutex_unlock(&lib->mu);
    if (copy != small)
        free(copy);
    return rc;
}

/* One attempt with the slot's buffer: the result length when it succeeded and fitted;
   else -1 with the return code in slot->rc and the plugin's length in slot->len; -2 when
   the library was shut down (nothing called). */
static int64_t reml_nyash_call(reml_nyash_lib *lib, reml_nyash_slot *slot, uint32_t type_id,
                               uint32_t method_id, uint32_t instance_id, const char *args,
                               size_t args_len) {
    int32_t rc;
    slot->len = slot->cap;
    rc = reml_nyash_invoke(lib, type_id, method_id, instance_id, args, args_len, slot->buf, &slot->len);
    if (rc == REML_NYASH_GONE)
        return -2;
    slot->rc = rc;
    if (rc == 0 && slot->len <= slot->cap)
        return (int64_t)slot->len;
    return -1;
}

/* The calling thread's result buffer for reml_nyash_call_i32. */
static _Thread_local reml_nyash_here_slot reml_nyash_here;

static reml_nyash_here_slot *reml_nyash_here_slot_get(void) { return &reml_nyash_here; }

/* One attempt into the thread's buffer: the value when the plugin succeeded with exactly
   one i32 entry (01 00 01 00 02 00 04 00 + 4 bytes, little-endian) above REML_NYASH_HELD;
   REML_NYASH_HELD when it answered anything else (the buffer, code and length stay for the caller, who clears
   `held`); REML_NYASH_BUSY when the buffer is held (nothing called); REML_NYASH_CLOSED
   after the shutdown (nothing called). */
static int32_t reml_nyash_call_i32(reml_nyash_lib *lib, uint32_t type_id, uint32_t method_id,
                                   uint32_t instance_id, const char *args, size_t args_len) {
    static const uint8_t i32_prefix[8] = {1, 0, 1, 0, 2, 0, 4, 0};
    reml_nyash_here_slot *here = &reml_nyash_here;
    const uint8_t *b = (const uint8_t *)here->buf;
    int32_t rc;
    if (here->held)
        return REML_NYASH_BUSY;
    here->len = sizeof here->buf;
    rc = reml_nyash_invoke(lib, type_id, method_id, instance_id, args, args_len, here->buf, &here->len);
    if (rc == REML_NYASH_GONE)
        return REML_NYASH_CLOSED;
    if (rc == 0 && here->len == 12 && memcmp(b, i32_prefix, 8) == 0) {
        int32_t value = (int32_t)((uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                                  (uint32_t)b[11] << 24);
        if (value > REML_NYASH_HELD)
            return value;
    }
    here->rc = rc;
    here->held = 1;
    return REML_NYASH_HELD;
}

static void reml_nyash_lock(reml_nyash_lib *lib) { pthread_mutex_lock(&lib->mu); }
static void reml_nyash_unlock(reml_nyash_lib *lib) { pthread_mutex_unlock(&lib->mu); }

/* nyash_plugin_shutdown once; every later call answers -2. */
static void reml_nyash_close(reml_nyash_lib *lib) {
    pthread_mutex_lock(&lib->mu);
    if (!lib->closed) {
        lib->closed = 1;
        if (lib->shutdown != NULL)
            lib->shutdown();
    }
    pthread_mutex_unlock(&lib->mu);
}

static void reml_nyash_free(reml_nyash_lib *lib) {
    pthread_mutex_destroy(&lib->mu);
    free(lib);
}

static int32_t reml_nyash_init(uintptr_t fn) { return ((int32_t (*)(void))fn)(); }
static uint32_t reml_nyash_abi(uintptr_t fn) { return ((uint32_t (*)(void))fn)(); }
"""

_lock = threading.Lock()
_module: Any = None
_reason: str | None = None


def api_module() -> Any:
    """The compiled shim module (`.ffi`, `.lib`), or None when it cannot be built here
    (`api_unavailable_reason()` says why).  Built once per process (and cached on disk)."""
    global _module, _reason
    with _lock:
        if _module is None and _reason is None:
            from ...cffi_api import build_api_module
            try:
                _module = build_api_module(SHIM_CDEF, SHIM_SOURCE, None)
            except Exception as exc:  # noqa: BLE001 - an optimisation: ABI mode serves without it
                _reason = f"{type(exc).__name__}: {exc}"
        return _module


def api_unavailable_reason() -> str | None:
    api_module()
    return _reason


def entry_address(fn: Any) -> int:
    """The address of a function an ABI-mode `dlopen` library exposes."""
    return int(ABI_FFI.cast("uintptr_t", fn))
