"""WIT -> Reml bindings (`reml-wasm reml`), and what every `.reml` emitter shares.

    from reml_wasm import wit, reml
    world = wit.load("wit/demo").world("demo")
    b = reml.plan(world)                    # names and declarations (reml_wasm.reml.plan)
    text = reml.render(b, "bindings.demo")  # the .reml module
    data = reml.manifest(b, source="wit/demo", generated="bindings/demo.reml")

Modules: `common` (identifier escaping, module names, manifest JSON; shared with
reml-bindgen), `typemap` (the WIT -> Reml table), `plan`, `emit`, `manifest`.
"""

from __future__ import annotations

from .emit import render
from .manifest import manifest
from .plan import Bindings, plan

__all__ = ["plan", "render", "manifest", "Bindings"]
