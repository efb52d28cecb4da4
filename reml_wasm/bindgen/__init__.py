"""reml_wasm.bindgen"""
