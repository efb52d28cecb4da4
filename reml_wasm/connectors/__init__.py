"""reml_wasm.connectors"""
