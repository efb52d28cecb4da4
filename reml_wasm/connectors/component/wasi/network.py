"""wasi:sockets and wasi:http: present (so components that import them instantiate) and
denying: every call that could reach a network answers its interface's refusal
(`access-denied`, `HTTP-request-denied`); `instance-network` hands out a network
resource that grants nothing."""

from __future__ import annotations

from typing import Any, Callable

from .... import types as t
from ....values import Err, Variant
from .host import WasiHost


class Network:
    """The (empty) network capability."""


def instance_network(host: WasiHost) -> Network:
    """The network resource every guest may ask for; it grants nothing."""
    return Network()


SOCKETS_INSTANCE_NETWORK = {"instance-network": instance_network}

_REFUSALS = ("access-denied", "HTTP-request-denied")


def refusal(func: t.Function) -> Callable[..., Any] | None:
    """A host function (reml values in, out) returning `err(<refusal>)` whatever its
    arguments, when `func`'s result is a result whose error type has a refusal case; else
    None (the import traps when called)."""
    result = None if func.result is None else t.unalias(func.result)
    if not isinstance(result, t.ResultType) or result.err is None:
        return None
    err = t.unalias(result.err)
    if isinstance(err, t.EnumType):
        case = next((c for c in _REFUSALS if c in err.cases), None)
        value: Any = case
    elif isinstance(err, t.VariantType):
        case = next((c.name for c in err.cases if c.name in _REFUSALS and c.type is None), None)
        value = None if case is None else Variant(case)
    else:
        return None
    if case is None:
        return None
    return lambda *args: Err(value)
