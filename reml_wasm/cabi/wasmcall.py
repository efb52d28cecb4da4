"""A fast caller for core wasm functions in wasmtime (realloc, post-return, exports).

`wasmtime.Func.__call__` re-reads the function type and boxes every value on each call
(tens of microseconds).  `CoreCall` reads the type once and calls through wasmtime's
unchecked raw entry point with a preallocated value array: the types cannot mismatch
because they come from the function itself."""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._func import maybe_raise_last_exn

try:  # the ctypes function itself, skipping wasmtime's Python wrapper around it
    from wasmtime._bindings import _wasmtime_func_call_unchecked as _raw_call_unchecked
except ImportError:  # pragma: no cover - other wasmtime-py layouts
    _raw_call_unchecked = ffi.wasmtime_func_call_unchecked


class CoreCall:
    """`CoreCall(store, func)(*flat_args)` -> None, one value, or a list (like Func)."""

    def __init__(self, store: wasmtime.Store, func: wasmtime.Func) -> None:
        ty = func.type(store)
        self.params = [str(p) for p in ty.params]
        self.results = [str(r) for r in ty.results]
        for k in self.params + self.results:
            if k not in ("i32", "i64", "f32", "f64"):
                raise TypeError(f"CoreCall handles numeric core types only, not {k}")
        self._store = store
        self._func = func  # keeps the function alive
        n = max(1, len(self.params), len(self.results))
        self._raw = (ffi.wasmtime_val_raw * n)()
        self._slots = [self._raw[i] for i in range(n)]
        self._n = max(len(self.params), len(self.results))
        self._func_ref = ctypes.byref(func._func)
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
        self._trap_ref = ctypes.byref(self._trap)
        self._call = _raw_call_unchecked

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.params):
            raise TypeError(f"core function takes {len(self.params)} argument(s), got {len(args)}")
        slots = self._slots
        for slot, kind, value in zip(slots, self.params, args):
            setattr(slot, kind, value)
        error = self._call(self._store._context(), self._func_ref, self._raw, self._n, self._trap_ref)
        if error:
            maybe_raise_last_exn()
            raise wasmtime.WasmtimeError._from_ptr(error)
        if self._trap:
            trap_obj = wasmtime.Trap._from_ptr(self._trap)
            self._trap = ctypes.POINTER(ffi.wasm_trap_t)()  # the trap object owns the old pointer
            self._trap_ref = ctypes.byref(self._trap)
            maybe_raise_last_exn()
            raise trap_obj
        results = self.results
        if not results:
            return None
        if len(results) == 1:
            return getattr(slots[0], results[0])
        return [getattr(slot, kind) for slot, kind in zip(slots, results)]
