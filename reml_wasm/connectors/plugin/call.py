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
plugin's shutdown.  Without a compiler (or Python's headers) ABI mode serves alone.
"""

from __future__ import annotations

import threading
from typing import Any

from cffi import FFI

__all__ = ["ABI_FFI", "api_module", "api_unavailable_reason", "entry_address"]

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
"""

SHIM_CDEF = SLOT_TYPE + """
typedef struct reml_nyash_lib reml_nyash_lib;
reml_nyash_lib *reml_nyash_open(uintptr_t invoke, uintptr_t shutdown);
int64_t reml_nyash_call(reml_nyash_lib *lib, reml_nyash_slot *slot, uint32_t type_id, uint32_t method_id,
                        uint32_t instance_id, const char *args, size_t args_len);
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

/* One attempt with the slot's buffer: the result length when it succeeded and fitted;
   else -1 with the return code in slot->rc and the plugin's length in slot->len; -2 when
   the library was shut down (nothing called). */
static int64_t reml_nyash_call(reml_nyash_lib *lib, reml_nyash_slot *slot, uint32_t type_id,
                               uint32_t method_id, uint32_t instance_id, const char *args,
                               size_t args_len) {
    int32_t rc;
    uint8_t small[256];
    /* the plugin gets a copy of the arguments: one that writes into its const buffer
       must not change the caller's bytes (shared constants such as the empty list) */
    uint8_t *copy = args_len <= sizeof small ? small : malloc(args_len);
    if (copy == NULL) {
        slot->rc = -6;
        slot->len = slot->cap;
        return -1;
    }
    if (args_len)
        memcpy(copy, args, args_len);
    slot->len = slot->cap;
    pthread_mutex_lock(&lib->mu);
    if (lib->closed) {
        pthread_mutex_unlock(&lib->mu);
        if (copy != small)
            free(copy);
        return -2;
    }
    rc = lib->invoke(type_id, method_id, instance_id, copy, args_len, (uint8_t *)slot->buf, &slot->len);
    pthread_mutex_unlock(&lib->mu);
    if (copy != small)
        free(copy);
    slot->rc = rc;
    if (rc == 0 && slot->len <= slot->cap)
        return (int64_t)slot->len;
    return -1;
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
