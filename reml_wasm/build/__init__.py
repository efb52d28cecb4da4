"""`reml-wasm build`: the reml.json `ffi` section, reml-bindgen driven from the build,
the bindgen cache and the `ffi.build` / `ffi.bindgen` audit records (docs/build.md).

Stages, one module each: `jsonpos` (JSON with positions), `config` (load and validate
the section), `bindgen_step` (bindgen configuration, input hash, generation),
`cache` (entries written whole or not at all), `libraries` (names, de-duplication,
link check), `flow` (the build from end to end).
"""

from .cache import BindgenCache
from .config import FfiSection, load_section
from .flow import DEFAULT_CACHE_DIR, BuildOptions, BuildReport, run_build

__all__ = ["BindgenCache", "FfiSection", "load_section", "BuildOptions", "BuildReport",
           "run_build", "DEFAULT_CACHE_DIR"]
