"""Python names for WIT names: UpperCamel types, snake_case functions and fields,
UPPER_SNAKE enum and flag members; a Python keyword or builtin-shadowing name gets a
trailing underscore (componentize-py's spelling)."""

from __future__ import annotations

import keyword

_RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | {"self", "router", "type", "list", "str", "int",
                                                            "float", "bool", "bytes", "tuple", "object"}


def _parts(name: str) -> list[str]:
    return [p for p in name.lstrip("%").replace("_", "-").split("-") if p]


def _safe(text: str) -> str:
    if not text or not (text[0].isalpha() or text[0] == "_"):
        text = "_" + text
    return text + "_" if text in _RESERVED else text


def type_name(name: str) -> str:
    """`http-request` -> `HttpRequest`."""
    return _safe("".join(p[:1].upper() + p[1:] for p in _parts(name)))


def value_name(name: str) -> str:
    """`parse-u32` -> `parse_u32`."""
    return _safe("_".join(p.lower() for p in _parts(name)))


def const_name(name: str) -> str:
    """`read-only` -> `READ_ONLY`."""
    return _safe("_".join(p.upper() for p in _parts(name)))


def module_name(name: str) -> str:
    """An interface name as a module name."""
    return value_name(name)
