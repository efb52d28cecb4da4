"""wasi:sockets: present (so components that import them instantiate) and denying, with
the answers wasmtime's WASI gives a guest that was granted no network: creating a TCP or
UDP socket is `access-denied`, a name lookup is `permanent-resolver-failure` (whatever
the name, an IP literal included), and `instance-network` hands out a network resource
that grants nothing.  No socket can be made, so no socket method is ever reached; they
answer `access-denied` too.  `refusal` also serves wasi:http functions outside `types`."""

from __future__ import annotations

from typing import Any, Callable

from .... import types as t
from ....values import Err, Variant
from .host import Failure, WasiHost


class Network:
    """The (empty) network capability."""


def instance_network(host: WasiHost) -> Network:
    """The network resource every guest may ask for; it grants nothing."""
    return Network()


def _create_socket(host: WasiHost, family: str) -> Any:
    raise Failure("access-denied")


def _resolve_addresses(host: WasiHost, network: Network, name: str) -> Any:
    raise Failure("permanent-resolver-failure")


SOCKETS_INSTANCE_NETWORK = {"instance-network": instance_network}
SOCKETS_TCP_CREATE_SOCKET = {"create-tcp-socket": _create_socket}
SOCKETS_UDP_CREATE_SOCKET = {"create-udp-socket": _create_socket}
SOCKETS_IP_NAME_LOOKUP = {"resolve-addresses": _resolve_addresses}

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
