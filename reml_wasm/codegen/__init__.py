"""reml_wasm.codegen"""
