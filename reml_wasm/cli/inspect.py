"""`reml-wasm inspect COMPONENT.wasm [--json]`: the component's world as WIT, exactly as
`wasm-tools component wit` prints it (text, or its `--json` form), read from the
types of the binary's imports and exports (cli/component_wit.py)."""

from __future__ import annotations

import argparse
import sys

from ..connectors.component import Component
from .component_wit import component_view


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("component", help="the component binary (.wasm)")
    parser.add_argument("--json", action="store_true", help="the world as `wasm-tools component wit --json` prints it")


def run(args: argparse.Namespace) -> int:
    comp = Component.from_file(args.component)
    view = component_view(comp.ast, comp.source)
    if args.json:
        sys.stdout.write(view.json_text())  # no final newline, as wasm-tools
    else:
        print(view.text(), end="")
    return 0
