"""reml_wasm.cabi"""
