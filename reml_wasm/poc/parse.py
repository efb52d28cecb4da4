"""PoC step 1: parse and resolve the PoC's WIT into the type model."""

from __future__ import annotations

from .. import types as t
from .. import wit
from . import WIT_DIR, WORLD


def parse() -> t.World:
    """The PoC world, resolved from wit/poc."""
    return wit.load(WIT_DIR).world(WORLD)


def describe(world: t.World) -> str:
    """One line: what the world exports."""
    funcs = [f for _, f in world.exported_functions()]
    kinds = sorted({f.kind for f in funcs})
    return f"world {world.name}: {len(funcs)} functions ({', '.join(kinds)})"


def main() -> int:
    """Print what the world exports, then the resolved package as canonical WIT."""
    print(describe(parse()))
    print(wit.load(WIT_DIR).to_wit())
    return 0
