"""Host functions as both component paths call them.

A host function takes and returns reml values; for an `own<R>` result it may return a bare
representation, which is wrapped into a `cabi.Resource` of `R` here.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

from ... import cabi
from ... import types as t
from ...values import check


def host_result(func: t.Function, impl: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """`impl` with its result checked against the function's result type (host results
    are never trusted: the same `ffi.value.type_mismatch` on both paths, before anything
    reaches wasmtime), and a bare rep returned for an `own<R>` result made into a
    `cabi.Resource` (host functions may return either)."""
    if func.result is None:
        return impl
    result_type = func.result
    result = t.unalias(result_type)
    where = f"{name or func.qualified_name}: result"
    if isinstance(result, t.OwnType):
        rt = result.resource

        def own_result(*args: Any) -> Any:
            out = impl(*args)
            return out if isinstance(out, cabi.Resource) else cabi.Resource(rt, out)
        return own_result

    def checked(*args: Any) -> Any:
        out = impl(*args)
        check(out, result_type, where)
        return out
    # a caller that checks the result itself (the fast path's scalar entries) calls `impl`
    # directly and `check`s with `where` only when its own test fails: the same message
    checked.unchecked = impl  # type: ignore[attr-defined]
    checked.where = where  # type: ignore[attr-defined]
    return checked


def host_call(func: t.Function, impl: Callable[..., Any], name: str | None = None) -> Callable[[list], Any]:
    """A host function as the paths call it: one list of lifted arguments in, a reml value out."""
    f = host_result(func, impl, name)
    return lambda args: f(*args)


def weak_callback(target: Callable[..., Any], keep: list[Any], what: str = "host function") -> Callable[..., Any]:
    """`target` as a callback for wasmtime that does not keep it alive.

    wasmtime-py holds every host callback in a process-wide table until the store that
    uses it is deleted; a callback that refers (through its closure) to its own store
    would keep the store, its instances and their memory reservations alive forever.
    The callback given to wasmtime holds `target` only weakly; `keep` (a list the
    instance owns) holds it strongly, so it lives exactly as long as the instance.
    Called after the instance is gone, the callback traps."""
    keep.append(target)
    ref = weakref.ref(target)

    def callback(*args: Any) -> Any:
        f = ref()
        if f is None:
            raise cabi.Trap(f"{what}: the instance was closed", kind="closed")
        return f(*args)
    return callback
