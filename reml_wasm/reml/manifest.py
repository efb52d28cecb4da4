"""The manifest of WIT -> Reml bindings: each WIT type and the Reml type it became.

Keys, in this order: `version`, `generator`, `source` (the WIT path as given), `world`
(`ns:pkg/world@v`), `generated` (the .reml path as given), `types` (one entry per named
definition, in the order of the .reml file: `name`, `kind`, `interface`, `wit`, `reml`,
`reml_definition`, and for flags `flag_enum`), `structural` (anonymous types, `{wit,
reml}` in order of first use), `functions` (`name`, `wit_name`, `direction`,
`interface`, `wit`, `reml`, `reml_signature`).
"""

from __future__ import annotations

from typing import Any

from .. import types as t
from .emit import signature, type_definition
from .plan import Bindings, TypeEntry

MANIFEST_VERSION = "0.1"
GENERATOR = "reml-wasm reml"


def _definition_wit(typ: t.Type) -> str:
    return typ.definition_wit()  # type: ignore[attr-defined]


def _function_wit(fn: t.Function) -> str:
    return fn.wit() if fn.kind == "freestanding" else fn.member_wit()


def _type(e: TypeEntry, b: Bindings) -> dict[str, Any]:
    out: dict[str, Any] = {"name": e.wit_name, "kind": e.kind, "interface": e.interface,
                           "wit": _definition_wit(e.type), "reml": e.reml_name,
                           "reml_definition": type_definition(e, b)}
    if e.flag_enum is not None:
        out["flag_enum"] = e.flag_enum
    return out


def manifest(b: Bindings, source: str, generated: str) -> dict[str, Any]:
    functions = [{"name": f.function.name, "wit_name": f.function.qualified_name, "direction": f.direction,
                  "interface": f.interface, "wit": _function_wit(f.function), "reml": f.reml_name,
                  "reml_signature": signature(f)}
                 for g in b.groups for f in g.functions]
    return {"version": MANIFEST_VERSION, "generator": GENERATOR, "source": source, "world": b.world_key,
            "generated": generated, "types": [_type(e, b) for e in b.types],
            "structural": [{"wit": w, "reml": r} for w, r in b.structural], "functions": functions}
