"""`reml-wasm inspect COMPONENT.wasm`: the component's world as WIT (from the binary)."""

from __future__ import annotations

import argparse
import json

from .. import types as t
from ..connectors.component import Component
from ..connectors.component.world import world_wit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("component", help="the component binary (.wasm)")
    parser.add_argument("--json", action="store_true", help="imports and exports as JSON")


def _item(item: t.WorldItem) -> dict:
    if isinstance(item, t.InterfaceItem):
        return {"kind": "interface", "name": item.key,
                "functions": [f.qualified_name for f in item.interface.all_functions()]}
    if isinstance(item, t.FunctionItem):
        return {"kind": "function", "name": item.key, "wit": item.function.wit()}
    return {"kind": "type", "name": item.key, "wit": item.type.wit()}


def run(args: argparse.Namespace) -> int:
    world = Component.from_file(args.component).world
    if args.json:
        print(json.dumps({"world": world.name, "imports": [_item(i) for i in world.imports],
                          "exports": [_item(i) for i in world.exports], "wit": world_wit(world)}))
    else:
        print(world_wit(world), end="")
    return 0
