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
        self._func = func
        self._raw = (ffi.wasmtime_val_raw * max(1, len(self.params), len(self.results)))()
        self._n = max(len(self.params), len(self.results))

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.params):
            raise TypeError(f"core function takes {len(self.params)} argument(s), got {len(args)}")
        raw = self._raw
        for i, (kind, value) in enumerate(zip(self.params, args)):
            setattr(raw[i], kind, value)
        trap = ctypes.POINTER(ffi.wasm_trap_t)()
        error = ffi.wasmtime_func_call_unchecked(self._store._context(), ctypes.byref(self._func._func),
                                                 raw, self._n, ctypes.byref(trap))
        if error:
            maybe_raise_last_exn()
            raise wasmtime.WasmtimeError._from_ptr(error)
        if trap:
            trap_obj = wasmtime.Trap._from_ptr(trap)
            maybe_raise_last_exn()
            raise trap_obj
        results = self.results
        if not results:
            return None
        if len(results) == 1:
            return getattr(raw[0], results[0])
        return [getattr(raw[i], kind) for i, kind in enumerate(results)]
