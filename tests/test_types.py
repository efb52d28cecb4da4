"""The type model renders as WIT: fixed expectations, and wasm-tools as the oracle that
the printed text parses back to the same structure."""

import json
import subprocess

import pytest
from hypothesis import given, settings

from reml_wasm import types as t
from strategies import functions, types, wit_package_text

FILE = t.ResourceType("file", owner="test:gen/api")
FILE.define(
    constructor=t.Function("file", (t.Param("path", t.STRING),), t.OwnType(FILE), kind="constructor",
                           resource="file"),
    methods=[t.Function("read", (t.Param("self", t.BorrowType(FILE)), t.Param("n", t.U32)),
                        t.ListType(t.U8), kind="method", resource="file"),
             t.Function("type", (t.Param("self", t.BorrowType(FILE)),), None, kind="method", resource="file",
                        is_async=True)],
    statics=[t.Function("open", (t.Param("from", t.STRING),), t.ResultType(t.OwnType(FILE), t.STRING),
                        kind="static", resource="file")])


@pytest.mark.parametrize("typ, wit", [
    (t.BOOL, "bool"), (t.S8, "s8"), (t.U64, "u64"), (t.F32, "f32"), (t.F64, "f64"), (t.CHAR, "char"),
    (t.STRING, "string"), (t.ERROR_CONTEXT, "error-context"),
    (t.ListType(t.U8), "list<u8>"),
    (t.ListType(t.ListType(t.S32), 3), "list<list<s32>, 3>"),
    (t.MapType(t.STRING, t.OptionType(t.U8)), "map<string, option<u8>>"),
    (t.TupleType((t.U8, t.STRING)), "tuple<u8, string>"),
    (t.OptionType(t.OptionType(t.CHAR)), "option<option<char>>"),
    (t.ResultType(), "result"),
    (t.ResultType(t.U8), "result<u8>"),
    (t.ResultType(None, t.STRING), "result<_, string>"),
    (t.ResultType(t.U8, t.STRING), "result<u8, string>"),
    (t.StreamType(), "stream"), (t.StreamType(t.U8), "stream<u8>"),
    (t.FutureType(), "future"), (t.FutureType(t.STRING), "future<string>"),
    (t.OwnType(FILE), "file"), (t.BorrowType(FILE), "borrow<file>"),
    (t.RecordType("record", (t.Field("x", t.U8),)), "%record"),
    (t.EnumType("color", ("red",)), "color"),
    (t.TypeAlias("error-context", t.U8), "%error-context"),
])
def test_references_render_as_wit(typ, wit):
    assert typ.wit() == wit
    assert str(typ) == wit


def test_definitions_render_as_wit_with_keyword_escapes():
    rec = t.RecordType("point", (t.Field("x", t.S32), t.Field("type", t.ListType(t.U8))))
    assert rec.definition_wit() == "record point {\n  x: s32,\n  %type: list<u8>,\n}"
    var = t.VariantType("shape", (t.Case("circle", t.F64), t.Case("list"), t.Case("rect", rec)))
    assert var.definition_wit() == "variant shape {\n  circle(f64),\n  %list,\n  rect(point),\n}"
    assert t.EnumType("e", ("a", "enum")).definition_wit() == "enum e {\n  a,\n  %enum,\n}"
    assert t.FlagsType("f", ("read", "own")).definition_wit() == "flags f {\n  read,\n  %own,\n}"
    assert t.TypeAlias("bytes", t.ListType(t.U8)).definition_wit() == "type bytes = list<u8>;"
    assert t.ResourceType("empty").definition_wit() == "resource empty;"
    assert FILE.definition_wit() == (
        "resource file {\n"
        "  constructor(path: string);\n"
        "  read: func(n: u32) -> list<u8>;\n"
        "  %type: async func();\n"
        "  open: static func(%from: string) -> result<file, string>;\n"
        "}")


def test_functions_and_gates_render_as_wit():
    f = t.Function("add", (t.Param("a", t.S32), t.Param("b", t.S32)), t.S32,
                   stability=t.Stability("since", version="1.2.0"))
    assert f.wit() == "@since(version = 1.2.0)\nadd: func(a: s32, b: s32) -> s32"
    assert t.Function("go", is_async=True).wit() == "go: async func()"
    assert t.Stability("unstable", feature="fancy").wit() == "@unstable(feature = fancy)"
    assert t.Stability("deprecated", version="2.0.0").wit() == "@deprecated(version = 2.0.0)"
    assert [f.qualified_name for f in FILE.functions()] == [
        "[constructor]file", "[method]file.read", "[method]file.type", "[static]file.open"]


def test_types_are_immutable_and_compare_structurally():
    a = t.RecordType("p", [t.Field("x", t.ListType(t.U8))])
    b = t.RecordType("p", (t.Field("x", t.ListType(t.U8), docs="ignored"),))
    assert a == b and hash(a) == hash(b)
    assert a != t.RecordType("q", (t.Field("x", t.ListType(t.U8)),))
    with pytest.raises(AttributeError):
        a.name = "z"  # type: ignore[misc]
    assert t.ResourceType("r", owner="x") == t.ResourceType("r", owner="x")
    assert t.ResourceType("r", owner="x") != t.ResourceType("r", owner="y")


# --- wasm-tools as the oracle ------------------------------------------------------------

def wasm_tools_json(tmp_path, text):
    path = tmp_path / "gen.wit"
    path.write_text(text)
    proc = subprocess.run(["wasm-tools", "component", "wit", "--json", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, f"wasm-tools rejected:\n{text}\n{proc.stderr}"
    return json.loads(proc.stdout)


def same(typ, ref, doc) -> bool:
    """Does wit-parser's JSON type reference `ref` describe model type `typ`?"""
    if isinstance(typ, t.PrimitiveType):
        return ref == typ.name
    return isinstance(ref, int) and same_node(typ, doc["types"][ref], doc)


def same_node(typ, node, doc, *, named: bool = True) -> bool:
    """Does the JSON type `node` describe `typ`?  `named=False` skips the name check (for
    an alias whose structural type wit-parser stores under the alias's own name)."""
    kind = node["kind"]
    if named and isinstance(typ, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType, t.TypeAlias,
                                  t.ResourceType)):
        if node["name"] != typ.name:
            return False
    if isinstance(typ, t.TypeAlias):
        if isinstance(kind, dict) and "type" in kind:
            return same(typ.target, kind["type"], doc)
        return same_node(t.unalias(typ), node, doc, named=False)
    if isinstance(typ, t.RecordType):
        fields = kind["record"]["fields"]
        return [f["name"] for f in fields] == list(typ.field_names()) and all(
            same(f.type, j["type"], doc) for f, j in zip(typ.fields, fields))
    if isinstance(typ, t.VariantType):
        cases = kind["variant"]["cases"]
        return [c["name"] for c in cases] == [c.name for c in typ.cases] and all(
            (c.type is None and j["type"] is None) or (c.type is not None and same(c.type, j["type"], doc))
            for c, j in zip(typ.cases, cases))
    if isinstance(typ, t.EnumType):
        return [c["name"] for c in kind["enum"]["cases"]] == list(typ.cases)
    if isinstance(typ, t.FlagsType):
        return [c["name"] for c in kind["flags"]["flags"]] == list(typ.labels)
    if isinstance(typ, t.ResourceType):
        return kind == "resource"
    if isinstance(kind, dict) and "type" in kind and node["name"] is None:
        return same(typ, kind["type"], doc)
    if isinstance(typ, t.ListType):
        if typ.length is None:
            return "list" in kind and same(typ.element, kind["list"], doc)
        return "fixed-length-list" in kind and kind["fixed-length-list"][1] == typ.length and same(
            typ.element, kind["fixed-length-list"][0], doc)
    if isinstance(typ, t.MapType):
        return "map" in kind and same(typ.key, kind["map"][0], doc) and same(typ.value, kind["map"][1], doc)
    if isinstance(typ, t.TupleType):
        elems = kind.get("tuple", {}).get("types")
        return elems is not None and len(elems) == len(typ.elements) and all(
            same(e, j, doc) for e, j in zip(typ.elements, elems))
    if isinstance(typ, t.OptionType):
        return "option" in kind and same(typ.inner, kind["option"], doc)
    if isinstance(typ, t.ResultType):
        res = kind.get("result")
        return res is not None and all(
            (m is None and j is None) or (m is not None and same(m, j, doc))
            for m, j in ((typ.ok, res["ok"]), (typ.err, res["err"])))
    if isinstance(typ, (t.OwnType, t.BorrowType)):
        handle = kind.get("handle", {})
        key = "own" if isinstance(typ, t.OwnType) else "borrow"
        return key in handle and same(typ.resource, handle[key], doc)
    if isinstance(typ, (t.StreamType, t.FutureType)):
        key = "stream" if isinstance(typ, t.StreamType) else "future"
        return key in kind and ((typ.element is None and kind[key] is None)
                                or (typ.element is not None and same(typ.element, kind[key], doc)))
    raise AssertionError(f"unhandled {typ!r}")


@settings(max_examples=40, deadline=None)
@given(types(max_depth=3, async_types=True))
def test_wasm_tools_parses_printed_types_to_the_same_structure(tmp_path_factory, typ):
    tmp = tmp_path_factory.mktemp("wit")
    doc = wasm_tools_json(tmp, wit_package_text({"root-type-0": typ}))
    (iface,) = doc["interfaces"]
    alias = doc["types"][iface["types"]["root-type-0"]]
    assert alias["name"] == "root-type-0"
    if isinstance(alias["kind"], dict) and "type" in alias["kind"]:
        assert same(typ, alias["kind"]["type"], doc), (typ.wit(), doc["types"])
    else:
        assert same_node(typ, alias, doc, named=False), (typ.wit(), doc["types"])


@settings(max_examples=20, deadline=None)
@given(functions(max_params=3, max_depth=2))
def test_wasm_tools_parses_printed_functions(tmp_path_factory, func):
    tmp = tmp_path_factory.mktemp("wit")
    doc = wasm_tools_json(tmp, wit_package_text(funcs=[func]))
    (iface,) = doc["interfaces"]
    (jf,) = iface["functions"].values()
    assert jf["name"] == func.name
    assert [p["name"] for p in jf["params"]] == [p.name for p in func.params]
    assert all(same(p.type, j["type"], doc) for p, j in zip(func.params, jf["params"]))
    assert (func.result is None and jf.get("result") is None) or same(func.result, jf["result"], doc)


def test_wasm_tools_parses_a_printed_resource_and_interface(tmp_path):
    iface = t.Interface("api", types=(("file", FILE),), package=t.PackageName("test", "gen"),
                        functions=(t.Function("touch", (t.Param("f", t.BorrowType(FILE)),)),))
    text = f"package test:gen;\n\n{iface.definition_wit()}\n"
    doc = wasm_tools_json(tmp_path, text)
    funcs = doc["interfaces"][0]["functions"]
    assert sorted(funcs) == ["[constructor]file", "[method]file.read", "[method]file.type",
                             "[static]file.open", "touch"]
    assert funcs["[method]file.type"]["kind"] == {"async-method": doc["interfaces"][0]["types"]["file"]}
    assert [p["name"] for p in funcs["[static]file.open"]["params"]] == ["from"]


def test_every_wit_keyword_is_escaped(tmp_path):
    """Each WIT keyword used as a field name must come out `%`-escaped, or wasm-tools
    rejects the record; the field names must read back unescaped."""
    words = ("as async bool borrow char constructor enum export f32 f64 flags from func future import "
             "include interface list map option own package record resource result s16 s32 s64 s8 static "
             "stream string tuple type u16 u32 u64 u8 use variant with world error-context").split()
    rec = t.RecordType("kw", tuple(t.Field(w, t.U8) for w in words))
    doc = wasm_tools_json(tmp_path, wit_package_text({"x": rec}))
    kw = next(x for x in doc["types"] if x["name"] == "kw")
    assert [f["name"] for f in kw["kind"]["record"]["fields"]] == words
