"""Core wasm signatures of component functions (flattening with spilling)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import types as t
from .errors import unsupported
from .layout import flatten_type, ptr_type

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1


@dataclass
class FlatSignature:
    """The core function type: lists of "i32" / "i64" / "f32" / "f64"."""

    params: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    params_spilled: bool = False   # the parameters travel in memory behind one pointer
    results_spilled: bool = False  # the result travels in memory (return pointer or retptr param)


def flat_params(func: t.Function, ptr_size: int = 4) -> list[str]:
    return [x for p in func.params for x in flatten_type(p.type, ptr_size)]


def flatten(func: t.Function, context: str, ptr_size: int = 4) -> FlatSignature:
    """Flatten `func` as `canon lift` ("lift": the host calls a guest export) or
    `canon lower` ("lower": the guest calls a host import) sees it."""
    if context not in ("lift", "lower"):
        raise unsupported(f"flatten context {context!r} (must be 'lift' or 'lower')")
    if func.is_async:
        # an async function's core signature and calling protocol (task.return, callbacks,
        # waitables) differ from the synchronous ones: flattening it as sync would be wrong
        raise unsupported(f"async function `{func.qualified_name}`: the async Canonical ABI is not "
                          "implemented")
    ptr = ptr_type(ptr_size)
    params = flat_params(func, ptr_size)
    params_spilled = len(params) > MAX_FLAT_PARAMS
    if params_spilled:
        params = [ptr]
    results = [] if func.result is None else flatten_type(func.result, ptr_size)
    results_spilled = len(results) > MAX_FLAT_RESULTS
    if results_spilled:
        if context == "lift":
            results = [ptr]
        else:
            params.append(ptr)
            results = []
    return FlatSignature(params, results, params_spilled, results_spilled)
