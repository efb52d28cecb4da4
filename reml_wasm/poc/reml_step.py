"""PoC step 2: the Reml bindings of the PoC world and their manifest."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import reml
from .. import types as t
from ..audit import write_atomic
from ..reml.common import render_json
from . import DEFAULT_OUT, WIT_LABEL

REML_FILE = "poc.reml"
MANIFEST_FILE = "bindings.manifest.json"


def write_reml(world: t.World, out: Path) -> tuple[Path, Path]:
    """Write out/poc.reml and out/bindings.manifest.json (inputs named relative to the
    repository, so the files are the same on every machine)."""
    bindings = reml.plan(world)
    reml_path, manifest_path = out / REML_FILE, out / MANIFEST_FILE
    write_atomic(reml_path, reml.render(bindings, "poc"))
    write_atomic(manifest_path, render_json(reml.manifest(bindings, WIT_LABEL, REML_FILE)))
    return reml_path, manifest_path


def main() -> int:
    """`python poc/02_reml_bindings.py [OUT]`"""
    from .parse import parse
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    for path in write_reml(parse(), out):
        print(path)
    return 0
