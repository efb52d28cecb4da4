"""reml_wasm.reml"""
