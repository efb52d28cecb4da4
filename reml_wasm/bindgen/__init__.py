"""reml-bindgen: C headers -> C model (pycparser) -> Reml bindings + manifest.

Entry points: `generate(config, verify_layout=…)` for the whole run (see docs/bindgen.md),
`model_from_headers(headers, …)` for the C model alone (`CModel.cdecl(fn)` and
`CModel.cdef_prelude([fn])` give cffi-ready declarations), `to_types.to_types(model)` for
the type-model view.
"""
