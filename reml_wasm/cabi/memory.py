"""Memories the engine reads and writes.

Every memory exposes `view`, a writable byte memoryview indexed by the memory's own
addresses, and the bounds `low` .. `limit` that every guest pointer is checked against.
`refresh()` must be called after anything that may grow the memory (a `realloc` or any
guest call): wasm memories may move when they grow, so the view is rebuilt then.
"""

from __future__ import annotations

import ctypes
from typing import Any, Protocol, runtime_checkable

from .errors import Trap

_FFI: list = []


def _ffi() -> Any:
    """One cffi FFI, made on first use (making one loads cffi's C parser)."""
    if not _FFI:
        import cffi
        _FFI.append(cffi.FFI())
    return _FFI[0]


@runtime_checkable
class Memory(Protocol):
    view: memoryview
    low: int
    limit: int
    ptr_size: int
    fixed_base: bool

    def size(self) -> int: ...
    def refresh(self) -> None: ...
    def read(self, ptr: int, n: int) -> bytes: ...
    def write(self, ptr: int, data: bytes | memoryview) -> None: ...
    def check(self, ptr: int, n: int) -> None: ...


class _ViewMemory:
    """Shared bounds-checked read/write over `view`.

    `fixed_base`: the memory never moves, so `view` never goes stale and `refresh` is not
    needed; `check` then re-reads the size itself when an access passes `limit`."""

    view: memoryview
    low: int = 0
    limit: int = 0
    ptr_size: int = 4
    fixed_base: bool = False
    # the host-side copy budget: bytes lifted out of this memory since the owner last
    # reset `copied` (a component instance does so at each call); past `copy_limit` the
    # lifting traps, so aliasing lists cannot make the host copy far more than exists
    copied: int = 0
    copy_limit: int = 1 << 62

    def charge(self, n: int) -> None:
        """Count `n` bytes about to be copied out; a Trap (`kind` copy-limit) past the budget."""
        self.copied += n
        if self.copied > self.copy_limit:
            raise Trap(f"too much data is being copied out of guest memory: more than {self.copy_limit} bytes "
                       "in one call (Sandbox copy_limit)", kind="copy-limit", limit=self.copy_limit)

    def size(self) -> int:
        self.refresh()
        return self.limit

    def refresh(self) -> None:  # pragma: no cover - overridden
        pass

    def check(self, ptr: int, n: int) -> None:
        if ptr < self.low or n < 0 or ptr + n > self.limit:
            raise Trap(f"access of {n} byte(s) at {ptr:#x} is outside memory [{self.low:#x}, {self.limit:#x})",
                       ptr=ptr, length=n)

    def read(self, ptr: int, n: int) -> bytes:
        self.check(ptr, n)
        return bytes(self.view[ptr:ptr + n])

    def write(self, ptr: int, data: bytes | memoryview) -> None:
        n = len(data) if not isinstance(data, memoryview) else data.nbytes
        self.check(ptr, n)
        self.view[ptr:ptr + n] = data


class BytesMemory(_ViewMemory):
    """A memory over a bytearray (tests, reference runs)."""

    def __init__(self, data: bytearray | bytes | int = 0, *, ptr_size: int = 4) -> None:
        self.data = bytearray(data) if not isinstance(data, int) else bytearray(data)
        self.ptr_size = ptr_size
        self.view = memoryview(self.data)
        self.limit = len(self.data)

    def refresh(self) -> None:
        if self.limit != len(self.data):
            self.view = memoryview(self.data)
            self.limit = len(self.data)

    def grow(self, extra: int) -> int:
        """Append `extra` zero bytes; returns the old size (like memory.grow in bytes)."""
        old = len(self.data)
        self.view.release()
        self.data.extend(bytes(extra))
        self.view = memoryview(self.data)
        self.limit = len(self.data)
        return old


class WasmtimeMemory(_ViewMemory):
    """A wasmtime linear memory.  Growing may move its base: `refresh` re-reads the base
    address and length and rebuilds the view when either changed."""

    def __init__(self, memory: "object", store: "object", *, ptr_size: int = 4) -> None:
        self.memory = memory
        self.store = store
        self.ptr_size = ptr_size
        try:  # the raw C call with a prebuilt reference: refresh runs several times per call
            from wasmtime._bindings import _wasmtime_memory_data_size
            mem_ref = ctypes.byref(memory._memory)  # type: ignore[attr-defined]
            self._data_len = lambda: _wasmtime_memory_data_size(store._context(), mem_ref)  # type: ignore[attr-defined]
        except (ImportError, AttributeError):  # pragma: no cover - other wasmtime-py layouts
            self._data_len = lambda: memory.data_len(store)  # type: ignore[attr-defined]
        self._base = -1
        self.limit = -1
        self.view = memoryview(b"")
        self.refresh()

    def refresh(self) -> None:
        # A linear memory only moves when it grows, and growing changes its length.
        n = self._data_len()
        if n != self.limit:
            base = ctypes.addressof(self.memory.data_ptr(self.store).contents)  # type: ignore[attr-defined]
            self.view = memoryview(_ffi().buffer(_ffi().cast("char *", base), n)) if n else memoryview(bytearray())
            self._base = base
            self.limit = n


class NativeMemory(_ViewMemory):
    """The host process's own memory through cffi: addresses are absolute, pointers are
    8 bytes.  Bounds are the user address space above the null page; native memory
    cannot be checked further, so callers must pass pointers they own."""

    ADDRESS_SPACE = 1 << 47
    NULL_PAGE = 4096

    def __init__(self, *, ptr_size: int = 8) -> None:
        self.ptr_size = ptr_size
        self.view = memoryview(_ffi().buffer(_ffi().cast("char *", 0), self.ADDRESS_SPACE))
        self.low = self.NULL_PAGE
        self.limit = self.ADDRESS_SPACE

    def refresh(self) -> None:
        pass

    def check(self, ptr: int, n: int) -> None:
        if n == 0 and 0 <= ptr <= self.limit:
            return
        super().check(ptr, n)
