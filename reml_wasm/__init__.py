"""reml_wasm: one interface definition, run as a WebAssembly component or a native library."""

__version__ = "0.1.0"
