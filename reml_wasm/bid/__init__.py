"""reml_wasm.bid"""
