"""What a BID method's effects mean to a host that calls it.

* `pure`: no observable effect, so calls may run at the same time, be reordered, or be
  answered from a memo (only when the caller asks for memoisation: `memoise=True`).
* `mut`: changes the resource it is called on (its first handle argument, or the whole
  interface when it has none): calls on one resource are serialised, so they take effect
  one after another in the order they acquire the resource's lock; other resources
  usually proceed in parallel (64 lock stripes chosen by the handle's hash).
* `io` and `control` (and a method that declares no effect): keep program order, so all
  such calls into one library are serialised.

The strongest effect a method declares decides: io/control over mut over pure.  Paths
that already serialise every call into a library (the TLV invoke path) need only the
memo; `guard` is told so with `serialised=True`.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

__all__ = ["ORDERING", "MEMO_LIMIT", "ordering", "guard", "ResourceLocks"]

ORDERING = ("pure", "mut", "io")   # weakest to strongest
MEMO_LIMIT = 4096


def ordering(effects: Sequence[str]) -> str:
    """"pure", "mut" or "io": the ordering a method with these effects needs."""
    if not effects or any(e in ("io", "control") for e in effects):
        return "io"
    return "mut" if "mut" in effects else "pure"


class ResourceLocks:
    """Locks for resources, by handle: a fixed set of stripes, the resource's hash picking
    one.  One resource always gets the same lock (its calls are serialised); different
    resources usually get different ones; memory stays bounded however many handles
    come and go."""

    STRIPES = 64

    def __init__(self) -> None:
        self._stripes = tuple(threading.Lock() for _ in range(self.STRIPES))

    def lock(self, resource: Any) -> threading.Lock:
        """The lock serialising calls on `resource`."""
        try:
            return self._stripes[hash(resource) % self.STRIPES]
        except TypeError:                   # an unhashable argument: by identity
            return self._stripes[id(resource) % self.STRIPES]


def _memoised(call: Callable[..., Any]) -> Callable[..., Any]:
    memo: dict[tuple[Any, ...], Any] = {}

    def pure(*args: Any) -> Any:
        try:
            return memo[args]
        except KeyError:
            pass
        except TypeError:               # unhashable arguments: no memo
            return call(*args)
        value = call(*args)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[args] = value
        return value
    pure.__wrapped__ = call             # type: ignore[attr-defined]
    return pure


def guard(call: Callable[..., Any], effects: Sequence[str], *, memoise: bool, library_lock: Any,
          resource_locks: ResourceLocks, resource_index: int | None, serialised: bool = False) -> Callable[..., Any]:
    """`call` wrapped so its effects are honoured (see the module doc)."""
    kind = ordering(effects)
    if kind == "pure":
        return _memoised(call) if memoise else call
    if serialised:
        return call
    if kind == "io":
        acquire, release = library_lock.acquire, library_lock.release

        def in_order(*args: Any) -> Any:
            acquire()
            try:
                return call(*args)
            finally:
                release()
        in_order.__wrapped__ = call     # type: ignore[attr-defined]
        return in_order
    whole = resource_locks.lock(("interface", id(call))) if resource_index is None else None
    index = resource_index if resource_index is not None else 0
    lock_for = resource_locks.lock

    def per_resource(*args: Any) -> Any:
        lock = whole if whole is not None else lock_for(args[index] if len(args) > index else None)
        with lock:
            return call(*args)
    per_resource.__wrapped__ = call     # type: ignore[attr-defined]
    return per_resource
