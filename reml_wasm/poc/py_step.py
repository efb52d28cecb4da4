"""PoC step 3: the typed Python bindings of the PoC world (package `poc_bindings`)."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import types as t
from ..codegen.python import generate_package
from . import DEFAULT_OUT

PACKAGE = "poc_bindings"


def write_python(world: t.World, out: Path) -> Path:
    """Write out/poc_bindings/ (a package: one module per interface, py.typed)."""
    return generate_package(world, out, PACKAGE)


def main() -> int:
    """`python poc/03_python_bindings.py [OUT]`"""
    from .parse import parse
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    print(write_python(parse(), out))
    return 0
