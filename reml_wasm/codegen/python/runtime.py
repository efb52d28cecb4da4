"""The text of `_runtime.py`, the part every generated binding package shares."""

RUNTIME = '''"""Shared by the generated bindings: Ok / Err / Some, and the router the calls go through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from reml_wasm import values as _values
from reml_wasm.router import Router

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class Ok(Generic[T]):
    """The success case of a `result`."""

    value: T


class Err(Generic[E], Exception):
    """The error case of a `result`; raised by functions whose result is a `result`."""

    def __init__(self, value: E) -> None:
        super().__init__(value)
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Err) and bool(other.value == self.value)

    def __hash__(self) -> int:
        return hash(("Err", repr(self.value)))

    def __repr__(self) -> str:
        return f"Err({self.value!r})"


Result = Union[Ok[T], Err[E]]


@dataclass(frozen=True)
class Some(Generic[T]):
    """`some(v)` of a nested option."""

    value: T


_router: Optional[Router] = None


def use(router: Router) -> None:
    """Send every call of these bindings through `router`."""
    global _router
    _router = router


def router() -> Router:
    """The router set by `use`."""
    if _router is None:
        raise RuntimeError("call use(router) before calling the bindings")
    return _router


def call(key: str, *args: Any) -> Any:
    """One routed call."""
    return router().call(key, *args)


def lower_result(value: Any, ok: Callable[[Any], Any], err: Callable[[Any], Any]) -> Any:
    if isinstance(value, Ok):
        return _values.Ok(ok(value.value))
    if isinstance(value, Err):
        return _values.Err(err(value.value))
    raise TypeError(f"expected Ok or Err, got {type(value).__name__}")


def lift_result(value: Any, ok: Callable[[Any], Any], err: Callable[[Any], Any]) -> Any:
    if isinstance(value, _values.Ok):
        return Ok(ok(value.value))
    return Err(err(value.value))


def lower_option(value: Any, inner: Callable[[Any], Any]) -> Any:
    return None if value is None else inner(value)


def lift_option(value: Any, inner: Callable[[Any], Any]) -> Any:
    return None if value is None else inner(value)
'''
