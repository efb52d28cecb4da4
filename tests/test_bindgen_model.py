"""The C model and the Reml output for a header using every C feature reml-bindgen handles."""

from __future__ import annotations

import json
import subprocess

import cffi
import pytest
from bindgen_support import DATA

from reml_wasm.bindgen.cmodel import Array, FuncType, Pointer, TagRef
from reml_wasm.bindgen.extract import extract
from reml_wasm.bindgen.layout import Layouts
from reml_wasm.bindgen.preprocess import preprocess
from reml_wasm.bindgen.to_types import to_types
from reml_wasm import types as t

FEATURES = DATA / "features.h"


@pytest.fixture(scope="module")
def model():
    return extract(preprocess([FEATURES], [], []), (str(FEATURES),))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("features")
    from reml_wasm.cli.bindgen_tool import main
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["--header", str(FEATURES), "--output", str(out / "features.reml"),
                   "--manifest", str(out / "bindings.manifest.json"), "--verify-layout"])
    events = [json.loads(line) for line in buf.getvalue().splitlines()]
    return rc, events, (out / "features.reml").read_text(), json.loads((out / "bindings.manifest.json").read_text())


def _fn(model, name):
    return next(f for f in model.functions if f.name == name)


def test_functions_only_from_the_target_header(model):
    names = [f.name for f in model.functions]
    assert names[:3] == ["feat_version", "feat_add", "feat_scale"]
    assert "printf" not in names and "memcpy" not in names
    assert all(n.startswith("feat_") for n in names)


def test_variadic_is_marked_not_dropped(model, generated):
    assert _fn(model, "feat_log").variadic and not _fn(model, "feat_add").variadic
    assert "  fn feat_log(fmt: Ptr<i8>, ...) -> i32;" in generated[2]


def test_enums_fold_constant_expressions_and_negative_values(model):
    color = model.enum(TagRef("enum", "feat_color"))
    assert [(c.name, c.value) for c in color.constants] == [
        ("FEAT_RED", 0), ("FEAT_GREEN", 5), ("FEAT_BLUE", 6), ("FEAT_NEGATIVE", -7), ("FEAT_SHIFTED", 1024)]
    assert model.enum_values["FEAT_A"] == 12 and model.enum_values["FEAT_B"] == 13  # uses FEAT_BLUE


def test_struct_features(model):
    shape = next(s for s in model.structs() if s.tag == "feat_shape")
    fields = {f.name: f for f in shape.fields}
    assert shape.typedef_names == ["feat_shape"]
    assert fields["visible"].bit_width == 1 and fields["layer"].bit_width == 7
    assert any(f.name is None and f.bit_width == 0 for f in shape.fields)  # `unsigned int : 0`
    anon = [f for f in shape.fields if f.name is None and f.bit_width is None]
    assert len(anon) == 1 and isinstance(anon[0].type, TagRef) and anon[0].type.kind == "union"
    assert isinstance(fields["size"].type, TagRef) and fields["size"].type.anonymous
    counters = fields["counters"].type
    assert isinstance(counters, Array) and counters.length == 4 and "volatile" in model.resolve(counters.element).quals
    assert isinstance(model.resolve(fields["on_draw"].type), Pointer)
    assert isinstance(model.resolve(fields["on_draw"].type).target, FuncType)
    buf = next(s for s in model.structs() if s.tag == "feat_buffer")
    assert buf.fields[-1].flexible and buf.fields[-1].type.length is None
    opaque = next(s for s in model.structs() if s.tag == "feat_opaque")
    assert opaque.opaque


def test_layout_model(model):
    lay = Layouts(model)
    shape = lay.struct(next(s for s in model.structs() if s.tag == "feat_shape"))
    assert (shape.size, shape.align) == (88, 8)  # as gcc says (see --verify-layout)
    by_name = {f.name: f for f in shape.fields}
    assert by_name["visible"].bit_offset == 8 * 36 and by_name["layer"].bit_offset == 8 * 36 + 1
    assert by_name["tag"].offset == 40  # after `: 0` the next unit starts
    buf = lay.struct(next(s for s in model.structs() if s.tag == "feat_buffer"))
    assert (buf.size, buf.fields[-1].offset) == (8, 8)
    value = lay.struct(next(s for s in model.structs() if s.tag == "feat_value"))
    assert (value.size, value.align) == (16, 8)


def test_macros_constants_and_complex_ones_reported(model):
    consts = {m.name: (m.kind, m.value, m.c_kind) for m in model.macros}
    assert consts["FEAT_VERSION"] == ("string", b"1.2", "char[]")
    assert consts["FEAT_MAX"] == ("int", 0x7FFFFFFF, "int")
    assert consts["FEAT_BIG"] == ("int", 4294967296, "unsigned long long")
    assert consts["FEAT_NEG"] == ("int", -16, "int")
    assert consts["FEAT_PI"] == ("float", 3.25, "double") and consts["FEAT_HALF"][2] == "float"
    assert consts["FEAT_DERIVED"][1] == 0x7FFFFFFE
    skipped = {m.name: m.reason for m in model.skipped_macros}
    assert "function-like" in skipped["FEAT_SQUARE"] and "FEAT_CALL" in skipped
    assert "FEATURES_H" not in consts and "FEATURES_H" not in skipped  # include guard


def test_static_inline_and_variables_are_reported(model, generated):
    assert [f.name for f in model.inline_functions] == ["feat_twice"]
    assert [v.name for v in model.variables] == ["feat_counter"]
    diags = {d["symbol"]: d for d in generated[3]["diagnostics"]}
    assert diags["feat_twice"]["code"] == "ffi.bindgen.unresolved_symbol"
    assert diags["feat_twice"]["reason"] == "static_inline"
    assert diags["feat_counter"]["code"] == "ffi.bindgen.unresolved_symbol"
    assert diags["feat_vlog"]["code"] == "ffi.bindgen.unknown_type"
    assert diags["feat_vlog"]["reason"] == "unsupported_variadic"
    precise = diags["feat_precise"]
    assert list(precise)[:7] == ["code", "symbol", "c_type", "reason", "hint", "severity", "message"]
    assert (precise["c_type"], precise["reason"], precise["severity"]) == ("long double", "unsupported_type", "warning")
    assert precise["location"]["line"] == 55 and precise["location"]["file"].endswith("features.h")
    assert "feat_vlog" not in generated[2] and "feat_precise" not in generated[2]


def test_reml_output(generated):
    rc, events, text, _ = generated
    assert rc == 0 and events[-1]["status"] == "success"
    assert 'pub const FEAT_VERSION: Str = "1.2"' in text
    assert "pub const FEAT_BIG: u64 = 4294967296" in text
    assert "  | FEAT_NEGATIVE = -7" in text
    assert "pub type feat_opaque = opaque" in text
    assert "  @bits(7) layer: u32," in text
    assert "pub type feat_value = union {" in text
    assert "  on_draw: FnPtr<(VoidPtr, Ptr<i8>), i32>," in text
    assert "  counters: [i32; 4]," in text
    assert "  fn feat_mid(a: feat_point, b: feat_point) -> feat_point;" in text
    assert "  fn feat_sum(values: Ptr<i32>, n: usize) -> i32;" in text  # array parameter decays
    assert "feat_precise" not in text
    assert events[2]["layout_checks"] > 20


def test_manifest_types_dedup_order_and_qualifiers(generated):
    types = generated[3]["types"]
    assert types[0] == {"c": "const char *", "reml": "Ptr<I8>", "qualifiers": ["const"]}
    assert types[1] == {"c": "int", "reml": "I32"}
    pairs = [(e["c"], e["reml"]) for e in types]
    assert len(pairs) == len(set(pairs))
    assert {"c": "const char *restrict", "reml": "Ptr<I8>", "qualifiers": ["const", "restrict"]} in types
    assert {"c": "size_t", "reml": "USize"} in types and {"c": "feat_size", "reml": "U64"} in types
    assert all(list(e)[:2] == ["c", "reml"] for e in types)


def test_cdecl_and_prelude_are_accepted_by_cffi(model):
    for fn in model.functions:
        if fn.name in ("feat_vlog", "feat_precise"):
            continue
        ffi = cffi.FFI()
        ffi.cdef(model.cdef_prelude([fn]) + "\n" + model.cdecl(fn))  # raises CDefError if not
    assert model.cdecl(_fn(model, "feat_open")) == \
        "feat_opaque *feat_open(const char *path, feat_cb cb, void *ctx);"
    prelude = model.cdef_prelude([_fn(model, "feat_area")])
    assert "struct feat_shape;" in prelude and "unsigned int visible : 1" not in prelude  # by pointer
    prelude = model.cdef_prelude([_fn(model, "feat_mid")])
    assert "struct feat_point { int32_t x; int32_t y; };" in prelude  # by value: defined


def test_to_types(model):
    m = to_types(model)
    by_name = {f.name: f for f in m.functions}
    assert by_name["feat_add"].params == (t.Param("a", t.S32), t.Param("b", t.S32))
    assert by_name["feat_version"].result == t.STRING
    assert by_name["feat_scale"].param_types() == (t.F64, t.F32)
    point = m.records["feat_point"]
    assert point.fields == (t.Field("x", t.S32), t.Field("y", t.S32))
    assert by_name["feat_mid"].result == point
    assert "feat_log" in m.unmapped and m.unmapped["feat_log"] == "variadic"
    assert "feat_close" in m.unmapped  # an opaque pointer


def test_functions_are_callable_through_the_native_connector(model, tmp_path):
    """Build a real library implementing part of features.h and call it from the model."""
    src = tmp_path / "features.c"
    src.write_text(f'#include "{FEATURES}"\n'
                   'const char *feat_version(void) { return "feat 1.2"; }\n'
                   'int feat_add(int a, int b) { return a + b; }\n'
                   'double feat_scale(double v, float by) { return v * by; }\n'
                   'struct feat_point feat_mid(struct feat_point a, struct feat_point b)\n'
                   '{ struct feat_point m = { (a.x + b.x) / 2, (a.y + b.y) / 2 }; return m; }\n'
                   'int feat_sum(const int v[], size_t n) { int s = 0; for (size_t i = 0; i < n; i++) s += v[i]; return s; }\n')
    so = tmp_path / "libfeatures.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    from reml_wasm.cli.call_native import bind
    from reml_wasm.connectors.native import NativeLibrary
    lib = NativeLibrary.open(str(so))
    assert bind(lib, model, _fn(model, "feat_version"))() == "feat 1.2"
    assert bind(lib, model, _fn(model, "feat_add"))(40, 2) == 42
    assert bind(lib, model, _fn(model, "feat_scale"))(1.5, 4.0) == 6.0
    mid = bind(lib, model, _fn(model, "feat_mid"))
    ffi = cffi.FFI()
    got = mid({"x": 2, "y": 10}, {"x": 4, "y": 20})
    assert (got.x, got.y) == (3, 15)
    total = bind(lib, model, _fn(model, "feat_sum"))
    arr = ffi.new("int[]", [1, 2, 3, 4])
    assert total(arr, 4) == 10


def test_layout_attributes_reach_the_reml_records(tmp_path, capsys):
    from bindgen_support import bind_header
    rc, _, out = bind_header(tmp_path, "struct __attribute__((packed)) w { char a; int b __attribute__((aligned(2))); };\n"
                             "#pragma pack(push, 2)\nstruct p { char c; _Alignas(8) long l; };\n#pragma pack(pop)\n"
                             "struct q { char c; } __attribute__((aligned(16)));\n"
                             "void f(struct w *a, struct p *b, struct q *c);\n", capsys, "--verify-layout")
    assert rc == 0
    text = (out / "h.reml").read_text()
    assert '@repr("C") @packed\npub type w = {\n  a: i8,\n  @align(2) b: i32,\n}' in text
    assert '@repr("C") @pack(2)\npub type p = {\n  c: i8,\n  @align(8) l: i64,\n}' in text
    assert '@repr("C") @align(16)\npub type q = {' in text


def test_unsupported_field_keeps_size_and_alignment(tmp_path, capsys):
    from bindgen_support import bind_header
    rc, events, out = bind_header(tmp_path, "struct s { char c; long double x; int i; };\nvoid f(struct s *p);\n",
                                  capsys, "--verify-layout")
    assert rc == 0
    assert "  @align(16) x: [u8; 16],\n  i: i32," in (out / "h.reml").read_text()
    d = events[-1]["diagnostics"][0]
    assert d["extensions"]["symbol"] == "s.x" and "kept as bytes" in d["message"]
