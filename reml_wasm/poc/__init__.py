"""The WIT PoC: one world, implemented once in C, run as a component and natively.

Steps (each a module with a `main()`, and a script under the repository's `poc/`):

1. `parse`     - parse and resolve wit/poc into the type model;
2. `reml_step` - write the Reml bindings (poc.reml) and bindings.manifest.json;
3. `py_step`   - generate the typed Python bindings (package `poc_bindings`);
4. `calls`     - call every function through the router on both connectors, compare;
5. `report`    - write the Markdown run log, print the summary table.

`run(out_dir)` runs them in order (what `reml-wasm poc` does).  The component is the
committed native/poc/poc.wasm, so no compiler is needed for it; the native library is
built from native/poc/poc.c with the system C compiler on first use, and without one the
run says so and both columns come from the component.
"""

from __future__ import annotations

from pathlib import Path

from ..toolchain import PROJECT_ROOT

WIT_DIR = PROJECT_ROOT / "wit" / "poc"
WIT_FILE = WIT_DIR / "poc.wit"
SOURCE = PROJECT_ROOT / "native" / "poc" / "poc.c"
COMPONENT = PROJECT_ROOT / "native" / "poc" / "poc.wasm"
WORLD = "poc"
DEFAULT_OUT = Path("poc-out")

# What the run log shows as inputs (paths relative to the repository: deterministic).
WIT_LABEL = "wit/poc"
SOURCE_LABEL = "native/poc/poc.c"
COMPONENT_LABEL = "native/poc/poc.wasm"


def build_component() -> Path:
    """Rebuild the PoC component from its C source and WIT (needs zig and wasm-tools)."""
    from .. import toolchain
    return toolchain.build_component([SOURCE], WIT_FILE, WORLD)
