"""Canonical options (`canonopt`) and the allocation helper every store path uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .errors import Trap, bad_options
from .memory import Memory

if TYPE_CHECKING:
    from .resources import ResourceTables

STRING_ENCODINGS = ("utf8", "utf16", "latin1+utf16")


@dataclass
class CanonicalOptions:
    memory: Memory | None = None
    realloc: Callable[[int, int, int, int], int] | None = None  # (old_ptr, old_size, align, new_size) -> ptr
    post_return: Callable[..., None] | None = None
    string_encoding: str = "utf8"  # "utf8" | "utf16" | "latin1+utf16"
    ptr_size: int = 4  # 4 = wasm32, 8 = memory64 / native
    resources: "ResourceTables | None" = None
    # put_bytes(align, data) -> ptr: realloc(0, 0, align, len(data)) and the copy of data
    # to the block, checked, in one step (a connector's C helper); None: `realloc`, then a
    # copy through the memory's view.  Either way realloc is called the same way.
    put_bytes: Callable[[int, bytes], int] | None = None
    # put_strings(list_ptr, datas): for each UTF-8 `bytes` in datas, realloc(0, 0, 1, len),
    # the copy, and its (pointer, length) pair stored at list_ptr + 8 i (a list<string>'s
    # elements, in the order and with the realloc calls of the one-by-one path); None: one by one
    put_strings: Callable[[int, list], None] | None = None

    def __post_init__(self) -> None:
        if self.string_encoding not in STRING_ENCODINGS:
            raise bad_options(f"string encoding {self.string_encoding!r} (must be one of {', '.join(STRING_ENCODINGS)})")
        if self.ptr_size not in (4, 8):
            raise bad_options(f"pointer size {self.ptr_size} (must be 4 or 8)")
        if self.memory is not None and getattr(self.memory, "ptr_size", self.ptr_size) != self.ptr_size:
            raise bad_options(f"memory has pointer size {self.memory.ptr_size}, options say {self.ptr_size}")


def need_memory(opts: CanonicalOptions) -> Memory:
    if opts.memory is None:
        raise bad_options("this type needs a memory in the canonical options")
    return opts.memory


def need_resources(opts: CanonicalOptions) -> "ResourceTables":
    if opts.resources is None:
        raise bad_options("resource handles need `resources` (a ResourceTables) in the canonical options")
    return opts.resources


def allocate(opts: CanonicalOptions, align: int, nbytes: int) -> int:
    """Call the guest's realloc for a fresh block and check what it returns.

    The memory is refreshed afterwards: realloc may have grown (and moved) it."""
    mem = need_memory(opts)
    if opts.realloc is None:
        raise bad_options("this value needs `realloc` in the canonical options")
    ptr = opts.realloc(0, 0, align, nbytes)
    mem.refresh()
    return check_allocation(opts, ptr, align, nbytes)


def check_allocation(opts: CanonicalOptions, ptr: object, align: int, nbytes: int) -> int:
    """The pointer realloc returned, checked: an integer, aligned, inside memory."""
    mem = need_memory(opts)
    if not isinstance(ptr, int):
        raise Trap(f"realloc returned {type(ptr).__name__}, not a pointer")
    if opts.ptr_size == 4:
        ptr &= 0xFFFFFFFF
    else:
        ptr &= 0xFFFFFFFFFFFFFFFF
    if ptr % align:
        raise Trap(f"realloc returned {ptr:#x}, not aligned to {align}", ptr=ptr, align=align)
    mem.check(ptr, nbytes)
    return ptr


def check_aligned(ptr: int, align: int, what: str) -> None:
    if ptr % align:
        raise Trap(f"{what} pointer {ptr:#x} is not aligned to {align}", ptr=ptr, align=align)


