"""to_wasmtime / from_wasmtime against a real component on real wasmtime.

The guest is an echo component: each export `echo-X: func(v: T, pad: P) -> tuple<T, P>`
has more than 16 flat parameters (P is tuple<u8 x 17>), so the Canonical ABI passes the
arguments through guest memory as a tuple<T, P> and returns the result through a pointer
to a tuple<T, P>: the core function returns its argument pointer, and wasmtime lowers the
value into linear memory and lifts it back out.  A value survives the trip only if the
adapters speak wasmtime-py's convention exactly.
"""

import subprocess

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st
from wasmtime import component as wc

from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.values import Err, Ok, Record, Some, Variant, from_wasmtime, to_wasmtime
from strategies import types, values_equal, values_of, wit_package_text

POINT = t.RecordType("point", (t.Field("x", t.S32), t.Field("y-pos", t.F64), t.Field("name", t.STRING)))
SHAPE = t.VariantType("shape", (t.Case("circle", t.F64), t.Case("rect", POINT), t.Case("empty")))
DUP = t.VariantType("dup", (t.Case("a", t.U32), t.Case("b", t.U32), t.Case("c")))
BI = t.VariantType("bi", (t.Case("n", t.S32), t.Case("b", t.BOOL)))
COLOR = t.EnumType("color", ("red", "green", "blue"))
PERMS = t.FlagsType("perms", ("read", "write", "exec"))
PAD = t.TupleType((t.U8,) * 17)

# (type, how wasmtime-py writes one sample value, the sample in our convention)
ECHO_TYPES = {
    "point": POINT,
    "opt-opt": t.OptionType(t.OptionType(t.U32)),
    "opt-str": t.OptionType(t.STRING),
    "res-str-u8": t.ResultType(t.STRING, t.U8),
    "res-u8-u8": t.ResultType(t.U8, t.U8),
    "res-empty": t.ResultType(),
    "res-err-only": t.ResultType(None, t.STRING),
    "res-ok-only": t.ResultType(t.CHAR),
    "res-opt": t.ResultType(t.OptionType(t.S32), t.STRING),
    "shape": SHAPE,
    "dup": DUP,
    "bi": BI,
    "color": COLOR,
    "perms": PERMS,
    "bytes": t.ListType(t.U8),
    "pairs": t.ListType(t.TupleType((t.S8, t.CHAR))),
    "points": t.ListType(POINT),
    "floats": t.TupleType((t.F32, t.F64)),
    "ints": t.TupleType((t.BOOL, t.S64, t.U64, t.S16, t.U16)),
    "nested": t.ListType(t.OptionType(t.ResultType(t.ListType(t.STRING), t.TypeAlias("shade", COLOR)))),
}

CORE_WAT = """
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
        (param $size i32) (result i32)
    (local $p i32)
    ;; bump allocation: round the heap up to $align, grow memory as needed
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (if (local.get $old) (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
    (local.get $p))
  EXPORTS
)
"""


def echo_function(name: str, typ: t.Type) -> t.Function:
    return t.Function(name, (t.Param("v", typ), t.Param("pad", PAD)), t.TupleType((typ, PAD)))


FUNCS = {key: echo_function(f"echo-{key}", typ) for key, typ in ECHO_TYPES.items()}


def build_echo(root, funcs):
    """(store, {name: Func}) for a freshly built echo component exporting `funcs`."""
    (root / "echo.wit").write_text(wit_package_text(funcs=funcs, package="test:echo"))
    exports = "\n  ".join(f'(func (export "test:echo/api#{f.name}") (param i32) (result i32) local.get 0)'
                          for f in funcs)
    (root / "core.wasm").write_bytes(wasmtime.wat2wasm(CORE_WAT.replace("EXPORTS", exports)))
    for cmd in (["wasm-tools", "component", "embed", "echo.wit", "--world", "w", "core.wasm", "-o", "emb.wasm"],
                ["wasm-tools", "component", "new", "emb.wasm", "-o", "echo.wasm"]):
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    component = wc.Component.from_file(engine, str(root / "echo.wasm"))
    instance = wc.Linker(engine).instantiate(store, component)
    api = instance.get_export_index(store, "test:echo/api")
    return store, {f.name: instance.get_func(store, instance.get_export_index(store, f.name, api)) for f in funcs}


def call_echo(store, func, typ, value):
    pad = tuple(range(17))
    raw = func(store, to_wasmtime(value, typ), pad)
    func.post_return(store)
    back, back_pad = from_wasmtime(raw, t.TupleType((typ, PAD)))
    assert back_pad == pad
    return back


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    store, funcs = build_echo(tmp_path_factory.mktemp("echo"), list(FUNCS.values()))
    return store, {key: funcs[f.name] for key, f in FUNCS.items()}


def round_trip(echo, key, value):
    store, funcs = echo
    return call_echo(store, funcs[key], ECHO_TYPES[key], value)


REPRESENTABLE = [k for k in ECHO_TYPES if k not in ("bi", "res-opt")]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(REPRESENTABLE), st.data())
def test_values_survive_a_real_component_call(echo, key, data):
    value = data.draw(values_of(ECHO_TYPES[key]))
    back = round_trip(echo, key, value)
    assert values_equal(back, value), (key, value, back)


@settings(max_examples=15, deadline=None)
@given(types(max_depth=3, maps=False, fixed_lists=False), st.data())
def test_random_types_survive_a_real_component_call(tmp_path_factory, typ, data):
    """A component built for each random type; wasmtime-py has no map or fixed-length
    list values, so those are left out."""
    store, funcs = build_echo(tmp_path_factory.mktemp("echo"), [echo_function("echo", typ)])
    for value in data.draw(st.lists(values_of(typ), min_size=1, max_size=6)):
        try:
            to_wasmtime(value, typ)
        except DiagnosticError as exc:  # wasmtime-py would pass another case: nothing to check
            assert exc.code == "ffi.value.wasmtime_unrepresentable"
            continue
        back = call_echo(store, funcs["echo"], typ, value)
        assert values_equal(back, value), (typ.wit(), value, back)


@pytest.mark.parametrize("key, value, wasmtime_form", [
    ("opt-opt", Some(None), wc.Variant("some", None)),
    ("opt-opt", None, wc.Variant("none", None)),
    ("opt-opt", Some(7), wc.Variant("some", 7)),
    ("opt-str", "x", "x"),
    ("res-str-u8", Err(3), 3),
    ("res-str-u8", Ok("s"), "s"),
    ("res-u8-u8", Err(3), wc.Variant("err", 3)),
    ("res-empty", Ok(), wc.Variant("ok", None)),
    ("res-err-only", Ok(), None),
    ("shape", Variant("empty"), None),
    ("shape", Variant("circle", 1), 1.0),
    ("dup", Variant("b", 2), wc.Variant("b", 2)),
    ("perms", frozenset({"read"}), {"read"}),
    ("bytes", [1, 2], b"\x01\x02"),
])
def test_wasmtime_forms(echo, key, value, wasmtime_form):
    converted = to_wasmtime(value, ECHO_TYPES[key])
    assert converted == wasmtime_form and type(converted) is type(wasmtime_form)
    expected = value if key != "shape" or value.tag != "circle" else Variant("circle", 1.0)
    expected = b"\x01\x02" if key == "bytes" else expected
    assert values_equal(round_trip(echo, key, value), expected)


def test_records_become_wasmtime_records_with_wit_field_names(echo):
    value = Record(x=-1, **{"y-pos": 2.5}, name="p")
    converted = to_wasmtime(value, POINT)
    assert isinstance(converted, wc.Record) and getattr(converted, "y-pos") == 2.5
    assert round_trip(echo, "point", {"x": -1, "y-pos": 2.5, "name": "p"}) == value


@pytest.mark.parametrize("key, value", [
    ("bi", Variant("b", True)),             # True is an int: wasmtime would send case n
    ("res-opt", Err("oops")),               # ok's payload may be None, so it matches anything
])
def test_values_wasmtime_would_misroute_are_refused(echo, key, value):
    with pytest.raises(DiagnosticError) as exc:
        to_wasmtime(value, ECHO_TYPES[key])
    assert exc.value.code == "ffi.value.wasmtime_unrepresentable"


@pytest.mark.parametrize("key, value", [
    ("bi", Variant("n", 5)),
    ("res-opt", Ok(None)),
    ("res-opt", Ok(-4)),
])
def test_unambiguous_cases_of_those_types_still_pass(echo, key, value):
    assert values_equal(round_trip(echo, key, value), value)
