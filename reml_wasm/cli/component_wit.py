"""A component's world as `wasm-tools component wit` shows it (text and `--json`), for
`reml-wasm inspect`.

The WIT front-end's reader of WIT from binaries (`reml_wasm.wit.decode`, the same one
that reads WIT packages encoded as components in `deps/`) infers the world from the
types of the component's imports and exports (`reml_wasm.wasm_binary.typespace`):
package `root:component`, world `root`, and the packages of the interfaces it uses,
in the order wit-parser's decoder creates them.  Printing and JSON come from the WIT
front-end's printer and JSON exporter.
"""

from __future__ import annotations

from typing import Any

from ..wasm_binary import component as cb
from ..wit.decode import decode_world
from ..wit.json_export import to_json, to_json_bytes
from ..wit.model import Model
from ..wit.printer import print_package


class WitView:
    """The resolved model of a component's world, in decoder order."""

    def __init__(self, model: Model, main: int) -> None:
        self.model = model
        self.main = main

    def text(self) -> str:
        """What `wasm-tools component wit` prints."""
        return print_package(self.model, self.main)

    def json(self) -> dict[str, Any]:
        """What `wasm-tools component wit --json` prints, as a dict."""
        return to_json(self.model)

    def json_text(self) -> str:
        """What `wasm-tools component wit --json` prints, byte for byte."""
        return to_json_bytes(self.model).decode("utf-8")


def component_view(ast: cb.Component, source: str = "<component>") -> WitView:
    """The WIT view of a parsed component binary."""
    decoded = decode_world(ast, source)
    return WitView(decoded.model, decoded.main)
