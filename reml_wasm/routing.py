"""The routing file `reml-wasm.toml`: where each interface of a world runs.

    wit = "wit/poc"                 # the world's source: wit = WIT file or directory,
    world = "poc"                   #   bid = BID YAML, or only `component` (its own world)
    component = "poc.wasm"          # world-wide route: a component,
    native = "build/libpoc.so"      #   a native library built from the same source,
    source = "native/poc/poc.c"     #   or the C source to build it from on first use
    prefer = "component"            # "component" | "native"
    fallback = true                 # use the other one when the preferred cannot serve
    audit = "audit.jsonl"           # the audit log (JSON Lines); absent: no audit
    nyash = "nyash.toml"            # boxes of these plugins route to the plugin connector

    [interface.api]                 # per interface (short name or full key): overrides
    prefer = "native"

Paths are relative to the routing file.  Every mistake is `ffi.router.config` with the
file and, where it can be found, the line of the offending key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import tomllib

from .audit import Location, error

TRANSPORTS = ("component", "native")
ROUTE_KEYS = ("component", "native", "source", "prefer", "fallback")
TOP_KEYS = ("wit", "bid", "world", "audit", "nyash", "interface", *ROUTE_KEYS)
_TOML_POS = re.compile(r"at line (\d+), column (\d+)")


@dataclass(frozen=True)
class RouteConfig:
    """Where one interface (or the whole world) runs."""

    component: str | None = None
    native: str | None = None
    source: str | None = None
    prefer: str = "component"
    fallback: bool = True

    def order(self) -> tuple[str, ...]:
        """The transports to try, preferred first (only those configured)."""
        have = [tr for tr in TRANSPORTS if tr == "component" and self.component
                or tr == "native" and (self.native or self.source)]
        have.sort(key=lambda tr: tr != self.prefer)
        return tuple(have if self.fallback else have[:1])


@dataclass
class RoutingConfig:
    """A parsed routing file."""

    default: RouteConfig = field(default_factory=RouteConfig)
    interfaces: dict[str, RouteConfig] = field(default_factory=dict)
    wit: str | None = None
    bid: str | None = None
    world: str | None = None
    audit: str | None = None
    nyash: str | None = None
    source: str | None = None

    def route(self, interface_key: str | None) -> RouteConfig:
        """The route of an interface (full key `ns:pkg/i@v` or its short name), else the
        world's."""
        if interface_key is None:
            return self.default
        short = interface_key.split("/", 1)[-1].split("@", 1)[0]
        return self.interfaces.get(interface_key) or self.interfaces.get(short) or self.default


def load(path: str | os.PathLike[str]) -> RoutingConfig:
    """Read and check a routing file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error("ffi.router.config", f"cannot read {p}: {exc.strerror or exc}", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise error("ffi.router.config", f"{p} is not UTF-8 text (byte offset {exc.start})", path=str(p),
                    location=Location(str(p), 1, 1)) from None
    return loads(text, p)


def loads(text: str, source: str | os.PathLike[str] | None = None) -> RoutingConfig:
    """Parse routing-file text; relative paths resolve against `source`'s directory."""
    file = None if source is None else str(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        loc = None if m is None else _location(text, file, int(m.group(1)), int(m.group(2)))
        raise error("ffi.router.config", f"invalid TOML: {_TOML_POS.sub('', str(exc)).strip(' ()')}",
                    location=loc) from None
    except RecursionError:  # tomllib has no depth limit of its own
        raise error("ffi.router.config", "the TOML nests too deep to be read",
                    location=None if file is None else Location(file, 1, 1)) from None
    base = Path(file).resolve().parent if file is not None else Path.cwd()
    return from_mapping(data, base, text=text, file=file, need_world=True)


def from_mapping(data: Mapping[str, Any], base: str | os.PathLike[str] = ".", *, text: str = "",
                 file: str | None = None, need_world: bool = False) -> RoutingConfig:
    """A routing configuration from a mapping shaped like the file (paths relative to `base`);
    `need_world`: the mapping must name the world's source (a routing file must)."""
    reader = _Reader(Path(base), text, file)
    reader.known(data, TOP_KEYS, "")
    default = reader.route(data, RouteConfig(), "")
    interfaces: dict[str, RouteConfig] = {}
    table = data.get("interface", {})
    if not isinstance(table, Mapping):
        raise reader.fail("interface", "`interface` must be a table of interface names")
    for name, body in table.items():
        if not isinstance(body, Mapping):
            raise reader.fail(name, f"interface.{name} must be a table")
        reader.known(body, ROUTE_KEYS, f"interface.{name}.")
        interfaces[name] = reader.route(body, default, f"interface.{name}.")
    cfg = RoutingConfig(default, interfaces, world=reader.text_value(data, "world"), source=file,
                        **{k: reader.path(data, k) for k in ("wit", "bid", "audit", "nyash")})
    if cfg.wit and cfg.bid:
        raise reader.fail("bid", "give the world as `wit` or as `bid`, not both")
    if need_world and not (cfg.wit or cfg.bid or default.component or cfg.nyash):
        raise reader.fail("wit", "the routing file names no world: set `wit`, `bid` or `component`")
    return cfg


def _location(text: str, file: str | None, line: int, column: int) -> Location:
    lines = text.splitlines()
    return Location(file, line, column, lines[line - 1] if 0 < line <= len(lines) else None)


class _Reader:
    def __init__(self, base: Path, text: str, file: str | None) -> None:
        self.base, self.text, self.file = base, text, file

    def fail(self, key: str, message: str) -> Exception:
        loc = None
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=|^\s*\[.*{re.escape(key)}.*\]")
        for i, line in enumerate(self.text.splitlines(), 1):
            if pattern.search(line):
                loc = Location(self.file, i, len(line) - len(line.lstrip()) + 1, line)
                break
        if loc is None and self.file is not None:
            loc = Location(self.file, 1, 1)
        return error("ffi.router.config", message, location=loc, key=key)

    def known(self, table: Mapping[str, Any], keys: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in keys:
                raise self.fail(key, f"unknown key {prefix}{key} (known: {', '.join(keys)})")

    def text_value(self, table: Mapping[str, Any], key: str) -> str | None:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise self.fail(key, f"{key} must be a non-empty string")
        return value

    def path(self, table: Mapping[str, Any], key: str) -> str | None:
        value = self.text_value(table, key)
        return None if value is None else str(self.base / value)

    def route(self, table: Mapping[str, Any], parent: RouteConfig, prefix: str) -> RouteConfig:
        changes: dict[str, Any] = {k: self.path(table, k) for k in ("component", "native", "source") if k in table}
        if "prefer" in table:
            prefer = table["prefer"]
            if prefer not in TRANSPORTS:
                raise self.fail("prefer", f"{prefix}prefer must be \"component\" or \"native\", not {prefer!r}")
            changes["prefer"] = prefer
        if "fallback" in table:
            if not isinstance(table["fallback"], bool):
                raise self.fail("fallback", f"{prefix}fallback must be true or false")
            changes["fallback"] = table["fallback"]
        return replace(parent, **changes)
