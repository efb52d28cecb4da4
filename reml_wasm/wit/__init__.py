"""reml_wasm.wit"""
