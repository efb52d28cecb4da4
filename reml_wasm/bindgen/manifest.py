"""`bindings.manifest.json` and the input hash.

Keys in the order Reml's tools read them: version, headers, generated, input_hash, types,
diagnostics.  The hash covers the header contents, the effective configuration, the
target profile and the tool version, so any change that could alter the output
changes it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Any, Iterable, Mapping, Sequence

from .. import __version__
from ..audit import Diagnostic
from ..reml.common import render_json

MANIFEST_VERSION = "0.1"
TOOL_VERSION = f"reml-bindgen {__version__}"


def target_profile() -> str:
    """The data model the bindings are generated for (layout and type sizes)."""
    return f"{platform.machine().lower()}-{platform.system().lower()}-lp64"


def input_hash(headers: Iterable[tuple[str, bytes]], config: Mapping[str, Any],
               target: str, tool_version: str = TOOL_VERSION) -> str:
    """16 lowercase hex digits over everything that shapes the output."""
    h = hashlib.sha256()

    def part(label: str, data: bytes) -> None:
        # names as the system gave them: surrogateescape gives back the bytes of a name that is not UTF-8
        h.update(label.encode("utf-8", "surrogateescape") + b"\0" + len(data).to_bytes(8, "little") + data)

    for name, content in headers:
        part("header:" + name, content)
    part("config", json.dumps(config, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    part("target", target.encode())
    part("tool", tool_version.encode())
    return h.hexdigest()[:16]


DIAGNOSTIC_KEYS = ("code", "symbol", "c_type", "reason", "hint")


def manifest_diagnostic(d: Diagnostic) -> dict[str, Any]:
    """A diagnostic as the manifest lists it: `code`, then `symbol`, `c_type`, `reason`,
    `hint` where they apply (flat, as Reml's manifest names them), then `severity`,
    `message`, `location` and any other detail."""
    ext = dict(d.extensions)
    out: dict[str, Any] = {"code": d.code}
    for key in DIAGNOSTIC_KEYS[1:]:
        if key in ext:
            out[key] = ext.pop(key)
    out["severity"] = d.severity
    out["message"] = d.message
    if d.location is not None:
        out["location"] = {"file": d.location.file, "line": d.location.line,
                           "column": d.location.column}
    out.update(ext)
    return out


def manifest(headers: Sequence[str], generated: str, digest: str, types: Sequence[Mapping[str, Any]],
             diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    return {"version": MANIFEST_VERSION, "headers": list(headers), "generated": generated,
            "input_hash": digest, "types": [dict(t) for t in types],
            "diagnostics": [manifest_diagnostic(d) for d in diagnostics]}


render = render_json
