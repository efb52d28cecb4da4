"""What every `.reml` emitter shares: identifier escaping, the module name derived from
an output path, and the JSON layout of manifests.  Used by reml-bindgen (C -> Reml) and
`reml-wasm reml` (WIT -> Reml)."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

__all__ = ["REML_KEYWORDS", "reml_ident", "module_name", "render_json"]

REML_KEYWORDS = frozenset("""
as break const continue do effect else enum extern false fn for handle if impl import in let
loop match module mut perform pub return self Self struct trait true type unsafe use var where
while with
""".split())


def reml_ident(name: str) -> str:
    """`name`, with `_` appended when it is a Reml keyword."""
    return name + "_" if name in REML_KEYWORDS else name


def module_name(output: str) -> str:
    """`a.b.c` for an output path `a/b/c.reml` (as written by the user); an absolute path
    or one leaving its directory (`..`) gives just the file's stem."""
    p = PurePath(output)
    parts = list(p.with_suffix("").parts) if p.suffix == ".reml" else list(p.parts)
    if p.is_absolute() or ".." in parts or not parts:
        return reml_ident(p.stem)
    return ".".join(reml_ident(x) for x in parts if x != ".")


def render_json(data: Any) -> str:
    """A manifest's text: two-space indent, UTF-8 kept, one trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
