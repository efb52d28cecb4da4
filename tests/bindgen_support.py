"""Helpers shared by the reml-bindgen tests (run the real tool on real headers)."""

from __future__ import annotations

import json
from pathlib import Path

from reml_wasm.cli.bindgen_tool import main

DATA = Path(__file__).parent / "data" / "bindgen"
ROOT = Path(__file__).resolve().parent.parent


def run_tool(args: list[str], capsys) -> tuple[int, list[dict]]:
    """Run reml-bindgen; (exit code, the JSON Lines events it printed)."""
    capsys.readouterr()
    rc = main(args)
    out = capsys.readouterr().out
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    return rc, events


def bind_header(tmp_path: Path, header_text: str, capsys, *extra: str, name: str = "h") -> tuple[int, list[dict], Path]:
    """Write a header into tmp_path and bind it; outputs go to tmp_path/out."""
    header = tmp_path / f"{name}.h"
    header.write_text(header_text)
    out = tmp_path / "out"
    rc, events = run_tool(["--header", str(header), "--output", str(out / f"{name}.reml"),
                           "--manifest", str(out / "bindings.manifest.json"), *extra], capsys)
    return rc, events, out
