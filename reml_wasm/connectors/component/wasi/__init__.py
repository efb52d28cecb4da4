"""WASI preview 2 for the fast path: the interfaces real components import, in Python, as
ordinary host functions of `Component.instantiate`'s `imports` mapping.

One module per interface family: cli (environment, exit, stdin/stdout/stderr,
terminal-*), io (error, poll, streams), clocks, random, filesystem (types, preopens) and
network (wasi:sockets, present and denying) and http (wasi:http types working locally,
outgoing requests refused).  `wasi_imports(world, config)`
gives the implementations of every WASI interface `world` imports, matched by package and
interface name, whatever its 0.2.x version.  Nothing outside `config` is reachable.
"""

from __future__ import annotations

import re
from typing import Any

from .... import types as t
from ..sandbox import Preopen, WasiConfig
from . import cli, clocks, filesystem, http, io, network, random
from .cli import WasiExit
from .host import WasiHost, bind, dtor

IMPLEMENTATIONS: dict[str, dict[str, Any]] = {
    "cli/environment": cli.ENVIRONMENT, "cli/exit": cli.EXIT, "cli/stdin": cli.STDIN,
    "cli/stdout": cli.STDOUT, "cli/stderr": cli.STDERR, "cli/terminal-input": {},
    "cli/terminal-output": {}, "cli/terminal-stdin": cli.TERMINAL_STDIN,
    "cli/terminal-stdout": cli.TERMINAL_STDOUT, "cli/terminal-stderr": cli.TERMINAL_STDERR,
    "io/error": io.ERROR, "io/poll": io.POLL, "io/streams": io.STREAMS,
    "clocks/monotonic-clock": clocks.MONOTONIC_CLOCK, "clocks/wall-clock": clocks.WALL_CLOCK,
    "random/random": random.RANDOM, "random/insecure": random.INSECURE,
    "random/insecure-seed": random.INSECURE_SEED,
    "filesystem/types": filesystem.TYPES, "filesystem/preopens": filesystem.PREOPENS,
    "sockets/instance-network": network.SOCKETS_INSTANCE_NETWORK,
    "sockets/tcp-create-socket": network.SOCKETS_TCP_CREATE_SOCKET,
    "sockets/udp-create-socket": network.SOCKETS_UDP_CREATE_SOCKET,
    "sockets/ip-name-lookup": network.SOCKETS_IP_NAME_LOOKUP,
    "http/types": http.TYPES, "http/outgoing-handler": http.OUTGOING_HANDLER,
}
DENYING_PACKAGES = ("sockets", "http")

_WASI_KEY = re.compile(r"^wasi:([a-z-]+)/([a-z-]+)@0\.2\.\d+$")


def wasi_interface(key: str) -> str | None:
    """`wasi:cli/stdout@0.2.3` -> "cli/stdout"; None for keys that are not WASI 0.2.x."""
    m = _WASI_KEY.match(key)
    return None if m is None else f"{m.group(1)}/{m.group(2)}"


def wasi_imports(world: t.World, config: WasiConfig) -> tuple[dict[str, dict[str, Any]], WasiHost]:
    """(imports mapping, host state) implementing every WASI 0.2.x interface `world`
    imports that this host knows; other imports are left out (they trap when called)."""
    host = WasiHost(config)
    out: dict[str, dict[str, Any]] = {}
    for item in world.imports:
        if not isinstance(item, t.InterfaceItem):
            continue
        name = wasi_interface(item.key)
        if name is None:
            continue
        impls = IMPLEMENTATIONS.get(name, {})
        # functions of a denying package this host does not implement refuse when their
        # result can say so; wasi:http's types are all local (the unimplemented ones,
        # incoming requests and responses, cannot be reached)
        denying = name.split("/", 1)[0] in DENYING_PACKAGES and name != "http/types"
        funcs: dict[str, Any] = {}
        for func in item.interface.all_functions():
            impl = impls.get(func.qualified_name)
            if impl is not None:
                funcs[func.qualified_name] = bind(host, func, impl)
            elif denying:
                refuse = network.refusal(func)
                if refuse is not None:
                    funcs[func.qualified_name] = refuse
        for type_name, ty in item.interface.types:
            if isinstance(ty, t.ResourceType):
                funcs[f"[dtor]{type_name}"] = dtor(host)
        if funcs or name in IMPLEMENTATIONS or denying:
            out[item.key] = funcs
    return out, host


__all__ = ["Preopen", "WasiConfig", "WasiExit", "WasiHost", "wasi_imports", "wasi_interface"]
