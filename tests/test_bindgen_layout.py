"""--verify-layout: our LP64 layout model against gcc, on random structs (hypothesis) and
on a struct whose real layout we cannot know (packed), which must be reported."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from bindgen_support import bind_header

from reml_wasm.bindgen.extract import extract
from reml_wasm.bindgen.layout_check import verify
from reml_wasm.bindgen.plan import plan
from reml_wasm.bindgen.preprocess import preprocess

SCALARS = ["char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int",
           "long", "unsigned long", "long long", "float", "double", "_Bool", "void *", "char *",
           "const int *", "long double"]
BITFIELD_TYPES = {"unsigned char": 8, "unsigned short": 16, "unsigned int": 32, "int": 32,
                  "unsigned long long": 64, "_Bool": 1}


@st.composite
def field_decl(draw, idx: int, earlier: list[str]) -> str:
    kind = draw(st.sampled_from(["scalar", "scalar", "array", "bitfield", "nested", "anon", "zero"]))
    name = f"f{idx}"
    if kind == "scalar" or (kind == "nested" and not earlier):
        member_attr = draw(st.sampled_from(["", "", "", " __attribute__((packed))",
                                            " __attribute__((aligned(4)))", " __attribute__((aligned(16)))"]))
        return f"{draw(st.sampled_from(SCALARS))} {name}{member_attr};"
    if kind == "array":
        return f"{draw(st.sampled_from(SCALARS[:12]))} {name}[{draw(st.integers(1, 5))}];"
    if kind == "bitfield":
        t = draw(st.sampled_from(sorted(BITFIELD_TYPES)))
        return f"{t} {name} : {draw(st.integers(1, BITFIELD_TYPES[t]))};"
    if kind == "zero":
        return f"{draw(st.sampled_from(['unsigned int', 'unsigned char', 'long long']))} : 0;"
    if kind == "nested":
        return f"struct {draw(st.sampled_from(earlier))} {name};"
    members = draw(st.lists(st.sampled_from(SCALARS[:12]), min_size=1, max_size=3))
    body = " ".join(f"{m} {name}_{j};" for j, m in enumerate(members))
    if draw(st.booleans()):
        return f"{draw(st.sampled_from(['struct', 'union']))} {{ {body} }};"  # anonymous member
    return f"{draw(st.sampled_from(['struct', 'union']))} {{ {body} }} {name};"


@st.composite
def header(draw) -> str:
    earlier: list[str] = []
    out = []
    for s in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["struct", "struct", "union"]))
        n = draw(st.integers(1, 7))
        fields = [draw(field_decl(i, earlier)) for i in range(n)]
        if not any(" : 0;" not in f for f in fields):
            fields.append("int last;")
        attr = draw(st.sampled_from(["", "", "", "__attribute__((packed))", "__attribute__((aligned(8)))",
                                     "__attribute__((packed, aligned(2)))", "__attribute__((aligned))"]))
        pack = draw(st.sampled_from([None, None, None, 1, 2, 4]))
        if pack:
            out.append(f"#pragma pack(push, {pack})")
        if kind == "struct" and draw(st.integers(0, 4)) == 0:
            fields.append(f"{draw(st.sampled_from(['int', 'char', 'double']))} flex[];")
            out.append(f"struct {attr} s{s} {{ {' '.join(fields)} }};")  # a flexible struct is never nested
        else:
            out.append(f"{kind} s{s} {{ {' '.join(fields)} }} {attr};")
            if kind == "struct":
                earlier.append(f"s{s}")
        if pack:
            out.append("#pragma pack(pop)")
        continue
    return "\n".join(out) + "\n"


def _verify(path):
    unit = preprocess([path], [], [])
    model = extract(unit, (str(path),))
    p = plan(model)
    return verify(model, [r.struct for r in p.records], [path], [], [])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=header())
def test_random_structs_match_gcc(text, tmp_path):
    path = tmp_path / "random.h"
    path.write_text(text)
    checks, mismatches = _verify(path)
    assert checks >= 2
    assert mismatches == [], (text, [d.message for d in mismatches])


def test_known_layouts(tmp_path):
    path = tmp_path / "known.h"
    path.write_text("struct bits { unsigned a : 3; unsigned b : 30; char c; };\n"
                    "struct mix { char c; struct { short s; long l; } in; union { int i; char b[5]; }; };\n"
                    "union u { char c[9]; double d; };\n")
    checks, mismatches = _verify(path)
    assert mismatches == [] and checks >= 12


def test_member_declarations_that_declare_nothing(tmp_path):
    """`enum e;`, `struct tag;` and a tagged struct definition inside a struct add no
    member (found by the mutated-header test); an untagged union does."""
    path = tmp_path / "nothing.h"
    path.write_text("struct s { enum origin; struct fwd; struct named { int z; }; char c;"
                    " union { int i; float f; }; double d; };\n")
    checks, mismatches = _verify(path)
    assert mismatches == [] and checks >= 4


def test_unmodelled_layout_is_reported_with_both_values(tmp_path, capsys):
    """A packed enum (1 byte in gcc) is outside the model: every difference is reported."""
    rc, events, out = bind_header(tmp_path, "enum __attribute__((packed)) kind { K0, K1 };\n"
                                  "struct wire { enum kind k; char tag; };\n"
                                  "struct wire *decode(const char *bytes);\n", capsys, "--verify-layout")
    assert rc == 1 and not out.exists()
    diags = events[-1]["diagnostics"]
    by_check = {d["extensions"]["check"]: d for d in diags}
    assert set(by_check) == {"size", "align", "size of k", "offset of tag"}
    assert all(d["code"] == "ffi.bindgen.layout_mismatch" for d in diags)
    assert by_check["size"]["extensions"]["expected"] == 8 and by_check["size"]["extensions"]["actual"] == 2
    assert by_check["offset of tag"]["extensions"] == {"symbol": "struct wire", "check": "offset of tag",
                                                      "expected": 4, "actual": 1}
    assert "the C compiler says 2" in by_check["size"]["message"]
    assert by_check["size"]["location"]["line"] == 2


def test_packed_aligned_and_pragma_pack_are_modelled(tmp_path):
    path = tmp_path / "attrs.h"
    path.write_text(
        "struct __attribute__((packed)) p1 { char a; int b : 4; int c : 30; char d; };\n"
        "struct p2 { char a; int b; } __attribute__((packed, aligned(4)));\n"
        "struct p3 { char a; int b __attribute__((packed)); char c __attribute__((aligned(8))); };\n"
        "#pragma pack(push, 2)\n"
        "struct q1 { char a; int x; char z : 1; long long w : 60; };\n"
        "struct q2 { char a; int b __attribute__((aligned(8))); };\n"
        "#pragma pack(pop)\n"
        "struct q3 { char a; double d; };\n"
        "typedef struct { void *p[3]; } t1 __attribute__((aligned));\n"
        "struct a1 { char c; _Alignas(16) int i; _Alignas(double) char e; };\n")
    unit = preprocess([path], [], [])
    model = extract(unit, (str(path),))
    structs = {s.tag or s.typedef_names[0]: s for s in model.structs() if s.target}
    assert structs["p1"].packed and structs["p2"].packed and structs["p2"].aligned == 4
    assert [(f.packed, f.aligned) for f in structs["p3"].fields] == [(False, None), (True, None), (False, 8)]
    assert structs["q1"].pack == 2 and structs["q3"].pack is None
    assert model.typedefs["t1"].aligned == 16
    assert structs["a1"].fields[1].aligned == 16 and structs["a1"].fields[2].aligned == 8
    checks, mismatches = verify(model, list(structs.values()), [path], [], [])
    assert mismatches == [] and checks > 30


def test_pragma_pack_forms(tmp_path):
    path = tmp_path / "pack.h"
    path.write_text("#pragma pack(push, r1, 2)\nstruct a { char c; int i; };\n#pragma pack(pop, r1)\n"
                    "struct b { char c; int i; };\n#pragma pack(1)\nstruct c { char c; int i; };\n"
                    "#pragma pack()\nstruct d { char c; int i; };\n")
    model = extract(preprocess([path], [], []), (str(path),))
    packs = {s.tag: s.pack for s in model.structs() if s.target}
    assert packs == {"a": 2, "b": None, "c": 1, "d": None}
    checks, mismatches = verify(model, [s for s in model.structs() if s.target], [path], [], [])
    assert mismatches == [] and checks == 4 * 6  # size, align, offset and size of both fields
