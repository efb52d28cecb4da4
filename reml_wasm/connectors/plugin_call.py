"""How the plugin connector calls a plugin's C entry points: compiled (cffi API mode) or
through libffi (cffi ABI mode).

Every plugin library is opened with `dlopen` in ABI mode (that finds which of the four
entry points it exports, and keeps it loaded).  When a C compiler is present, one small
API-mode module (`native_api.build_api_module`, compiled once, cached by content hash,
linked against no library) calls those entry points through their addresses; a call
through it costs a fraction of a libffi call.  Its `reml_nyash_call` does the first
attempt of the two-phase protocol in C: it sets `*result_len` to the buffer's capacity,
calls `nyash_plugin_invoke`, and answers the result length when the call succeeded and
the result fitted, else -1 (the return code is then in `*rc_out`, and the caller runs the
retry loop).  Without a compiler (or Python's headers) ABI mode serves alone.
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

SHIM_CDEF = """
int64_t reml_nyash_call(uintptr_t fn, uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                        const char *args, size_t args_len, char *result, size_t cap,
                        size_t *result_len, int32_t *rc_out);
int32_t reml_nyash_invoke(uintptr_t fn, uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                          const char *args, size_t args_len, char *result, size_t *result_len);
int32_t reml_nyash_init(uintptr_t fn);
uint32_t reml_nyash_abi(uintptr_t fn);
void reml_nyash_shutdown(uintptr_t fn);
"""

SHIM_SOURCE = r"""
#include <stdint.h>
#include <stddef.h>

typedef int32_t (*reml_nyash_invoke_fn)(uint32_t, uint32_t, uint32_t, const uint8_t *, size_t,
                                        uint8_t *, size_t *);

static int32_t reml_nyash_invoke(uintptr_t fn, uint32_t type_id, uint32_t method_id,
                                 uint32_t instance_id, const char *args, size_t args_len,
                                 char *result, size_t *result_len) {
    return ((reml_nyash_invoke_fn)fn)(type_id, method_id, instance_id, (const uint8_t *)args,
                                      args_len, (uint8_t *)result, result_len);
}

/* The first attempt with the caller's buffer: the result length when it succeeded and
   fitted, else -1 with the return code in *rc_out and the plugin's length in *result_len. */
static int64_t reml_nyash_call(uintptr_t fn, uint32_t type_id, uint32_t method_id,
                               uint32_t instance_id, const char *args, size_t args_len,
                               char *result, size_t cap, size_t *result_len, int32_t *rc_out) {
    int32_t rc;
    *result_len = cap;
    rc = reml_nyash_invoke(fn, type_id, method_id, instance_id, args, args_len, result, result_len);
    *rc_out = rc;
    if (rc == 0 && *result_len <= cap)
        return (int64_t)*result_len;
    return -1;
}

static int32_t reml_nyash_init(uintptr_t fn) { return ((int32_t (*)(void))fn)(); }
static uint32_t reml_nyash_abi(uintptr_t fn) { return ((uint32_t (*)(void))fn)(); }
static void reml_nyash_shutdown(uintptr_t fn) { ((void (*)(void))fn)(); }
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
            from .native_api import build_api_module
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
