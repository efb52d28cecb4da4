"""The per-signature C glue of export calls against the generated Python callers (the
fallback without a compiler), on a guest whose exports return raw core values as every
scalar kind: the same values (floats bit for bit), the same traps and messages, the same
post-return calls, the same poisoning after a trap.  The oracle guest's differential tests
(test_component_oracle.py) run all three callers too."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.component import Component
from reml_wasm.values import Err, Ok, Record, Variant

from cabi_helpers import area_guest, component_from_wat, python_callers

@pytest.fixture(autouse=True, scope="module", params=["front", "glue-python-half"])
def export_front(request):
    """Every test here runs with the C front serving whole calls, and again with the glue's
    own Python half (REML_WASM_FRONT=0, read when an instance is made)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("REML_WASM_FRONT", "1" if request.param == "front" else "0")
    yield request.param
    patch.undo()


# every export lifts a core identity (or reinterpreting) function at another type, so the
# guest hands back whatever raw value the test chose
WAT = """
(component
  (core module $m
    (memory (export "mem") 1)
    (global $posts (mut i32) (i32.const 0))
    (func (export "id32") (param i32) (result i32) (local.get 0))
    (func (export "id64") (param i64) (result i64) (local.get 0))
    (func (export "idf32") (param f32) (result f32) (local.get 0))
    (func (export "idf64") (param f64) (result f64) (local.get 0))
    (func (export "bitsf32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))
    (func (export "bitsf64") (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))
    (func (export "post") (param i32) (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
    (func (export "posts") (result i32) (global.get $posts))
    (func (export "boom") (param i32) (result i32) unreachable)
    (func (export "none") (param i32)))
  (core instance $i (instantiate $m))
  (alias core export $i "id32" (core func $id32))
  (alias core export $i "id64" (core func $id64))
  (alias core export $i "idf32" (core func $idf32))
  (alias core export $i "idf64" (core func $idf64))
  (alias core export $i "bitsf32" (core func $bitsf32))
  (alias core export $i "bitsf64" (core func $bitsf64))
  (alias core export $i "post" (core func $post))
  (alias core export $i "posts" (core func $posts))
  (alias core export $i "boom" (core func $boom))
  (alias core export $i "none" (core func $none))
  (type $color (enum "red" "green" "blue"))
  (export $color_e "color" (type $color))
  (type $fl (flags "a" "b" "c"))
  (export $fl_e "fl" (type $fl))
  (func $f1 (param "x" u32) (result char) (canon lift (core func $id32)))
  (func $f2 (param "x" u32) (result $color_e) (canon lift (core func $id32)))
  (func $f3 (param "x" u32) (result $fl_e) (canon lift (core func $id32)))
  (func $f4 (param "x" u32) (result bool) (canon lift (core func $id32)))
  (func $f5 (param "x" u32) (result s8) (canon lift (core func $id32)))
  (func $f6 (param "x" u32) (result u8) (canon lift (core func $id32)))
  (func $f7 (param "x" u32) (result s16) (canon lift (core func $id32)))
  (func $f8 (param "x" u32) (result u16) (canon lift (core func $id32)))
  (func $f9 (param "x" s64) (result s64) (canon lift (core func $id64)))
  (func $f10 (param "x" u64) (result u64) (canon lift (core func $id64)))
  (func $f11 (param "x" u32) (result f32) (canon lift (core func $bitsf32)))
  (func $f12 (param "x" u64) (result f64) (canon lift (core func $bitsf64)))
  (func $f13 (param "x" f32) (result f32) (canon lift (core func $idf32)))
  (func $f14 (param "x" f64) (result f64) (canon lift (core func $idf64)))
  (func $f15 (param "x" u32) (result u32) (canon lift (core func $id32) (post-return $post)))
  (func $f16 (result u32) (canon lift (core func $posts)))
  (func $f17 (param "x" u32) (result u32) (canon lift (core func $boom)))
  (func $f18 (param "x" char) (result char) (canon lift (core func $id32)))
  (func $f19 (param "x" $color_e) (result $color_e) (canon lift (core func $id32)))
  (func $f20 (param "x" $fl_e) (result $fl_e) (canon lift (core func $id32)))
  (func $f21 (param "x" bool) (canon lift (core func $none)))
  (func $f22 (param "x" s32) (result s32) (canon lift (core func $id32) (post-return $post)))
  (export "char-of" (func $f1))
  (export "color-of" (func $f2))
  (export "flags-of" (func $f3))
  (export "bool-of" (func $f4))
  (export "s8-of" (func $f5))
  (export "u8-of" (func $f6))
  (export "s16-of" (func $f7))
  (export "u16-of" (func $f8))
  (export "s64-id" (func $f9))
  (export "u64-id" (func $f10))
  (export "f32-of" (func $f11))
  (export "f64-of" (func $f12))
  (export "f32-id" (func $f13))
  (export "f64-id" (func $f14))
  (export "with-post" (func $f15))
  (export "posts" (func $f16))
  (export "boom" (func $f17))
  (export "char-id" (func $f18))
  (export "color-id" (func $f19))
  (export "flags-id" (func $f20))
  (export "bool-sink" (func $f21))
  (export "s32-post" (func $f22))
)
"""


@pytest.fixture(scope="module")
def comp(tmp_path_factory):
    return component_from_wat(tmp_path_factory.mktemp("glue"), WAT)


def outcome(inst, name, *args):
    """What a call gives, comparable across callers: the value (floats as their bits) or
    the error's class, code and message."""
    try:
        v = inst.call(name, *args)
    except DiagnosticError as exc:
        return ("error", type(exc).__name__, exc.code, exc.diagnostic.message)
    if isinstance(v, float):
        return ("float", struct.pack("<d", v))
    return ("value", type(v).__name__, repr(v))  # repr: a NaN field compares equal to itself


@pytest.fixture
def pair(comp):
    glued, python = comp.instantiate(path="fast"), python_callers(comp)
    return glued, python


def test_scalar_exports_run_through_the_glue(comp, pair):
    glued, python = pair
    names = list(comp.exports())
    assert all(getattr(glued.func(n), "glue", None) for n in names), names
    assert not any(getattr(python.func(n), "glue", None) for n in names)


RAW32 = st.integers(0, (1 << 32) - 1) | st.sampled_from([0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0xD7FF, 0xD800, 0xDFFF,
                                                          0xE000, 0x10FFFF, 0x110000, 0x7FC00001, 0xFF800000,
                                                          (1 << 32) - 1])
RAW64 = st.integers(0, (1 << 64) - 1) | st.sampled_from([0, 1 << 63, (1 << 64) - 1, 0x7FF8000000000001,
                                                         0xFFF0000000000000])


@pytest.mark.parametrize("name", ["char-of", "color-of", "flags-of", "bool-of", "s8-of", "u8-of", "s16-of",
                                  "u16-of", "f32-of"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=RAW32)
def test_results_lifted_in_c_equal_the_python_callers(comp, name, raw):
    glued, python = comp.instantiate(path="fast"), python_callers(comp)
    first = outcome(glued, name, raw)
    assert first == outcome(python, name, raw)
    if first[0] == "error":  # a lifting trap poisons both instances alike
        assert outcome(glued, "posts") == outcome(python, "posts")
        assert outcome(glued, "posts")[2] == "cabi.trap"


@pytest.mark.parametrize("name", ["s64-id", "u64-id", "f64-of"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=RAW64)
def test_64_bit_results_and_their_sentinels(pair, name, raw):
    glued, python = pair
    if name == "s64-id":
        raw = raw - (1 << 64) if raw >= 1 << 63 else raw
    assert outcome(glued, name, raw) == outcome(python, name, raw)


ANY = (st.integers(-(1 << 70), 1 << 70) | st.floats(allow_nan=True) | st.booleans() | st.none()
       | st.text(max_size=2) | st.frozensets(st.sampled_from(["a", "b", "c", "d"])) | st.sampled_from(
           ["red", "green", "blue", "purple", "\ud800", "λ", math.inf, -0.0, 1e40, 2**32, 2**63, -2**63, 2**64]))


@pytest.mark.parametrize("name", ["char-id", "color-id", "flags-id", "bool-sink", "s32-post", "s64-id", "u64-id",
                                  "f32-id", "f64-id", "u8-of", "s16-of"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=ANY)
def test_arguments_checked_in_c_and_python_alike(pair, name, value):
    """Good arguments give the same results, bad ones the same coded error, and a bad
    argument leaves the instance usable (the glue takes no lock for it)."""
    glued, python = pair
    assert outcome(glued, name, value) == outcome(python, name, value)
    assert glued.call("s32-post", 4) == 4


def test_post_return_runs_once_per_call(pair):
    for inst in pair:
        before = inst.call("posts")
        assert [inst.call("with-post", k) for k in range(5)] == list(range(5))
        assert inst.call("s32-post", -7) == -7
        assert inst.call("posts") - before == 6


def test_a_trap_poisons_the_instance_for_every_caller(pair):
    outs = []
    for inst in pair:
        first = outcome(inst, "boom", 1)
        assert first[2] == "cabi.trap" and "unreachable" in first[3]
        outs.append((first, outcome(inst, "with-post", 1), outcome(inst, "char-id", "x")))
        assert not inst.lock._is_owned()  # the slow path gave the lock back
    assert outs[0] == outs[1]
    assert outs[0][1][2] == "cabi.trap"


def test_closed_instance_refuses_glue_calls(comp):
    inst = comp.instantiate(path="fast")
    f = inst.func("with-post")
    assert f(3) == 3
    inst.close()
    with pytest.raises(DiagnosticError) as exc:
        f(3)
    assert exc.value.diagnostic.extensions.get("kind") == "closed"


RES = "reml:cabi-oracle/res"


@pytest.fixture(scope="module")
def oracle():
    from reml_wasm.benchmarks.component import build_oracle
    return Component.from_file(build_oracle())


def _drops(inst):
    """Constructor (a held handle result), method (a borrow in C), drops: the second and
    later go the remembered way to the destructor; a repeated drop and a drop after close
    are refused as on the first, general, way."""
    new, bump = inst.func(f"{RES}#[constructor]counter"), inst.func(f"{RES}#[method]counter.bump")
    get, destroyed = inst.func(f"{RES}#[method]counter.get"), inst.func(f"{RES}#destroyed")
    before = destroyed()
    handles = [new(k) for k in range(4)]
    for h in handles:
        bump(h, 10)
    out = [get(h) for h in handles]
    for h in handles:
        inst.drop(h)
    out.append(destroyed() - before)
    for h in (handles[0], handles[3]):
        try:
            inst.drop(h)
        except DiagnosticError as exc:
            out.append((exc.code, exc.diagnostic.message))
    last = new(9)
    inst.close()
    try:
        inst.drop(last)
    except DiagnosticError as exc:
        out.append((exc.code, exc.diagnostic.extensions.get("kind")))
    return out


def test_resources_through_the_glue_equal_the_other_paths(oracle):
    glued = oracle.instantiate(path="fast")
    assert getattr(glued.func(f"{RES}#[constructor]counter"), "glue", None)
    results = [_drops(glued), _drops(python_callers(oracle)), _drops(oracle.instantiate(path="wasmtime"))]
    assert results[0] == results[1], results
    assert results[0][:5] == [10, 11, 12, 13, 4] and results[0][5][0] == results[2][5][0]
    assert len(results[0]) == len(results[2]) == 8


def test_eight_threads_through_the_glue_get_only_their_own_answers(oracle):
    """Scalars, strings (lowered in C, lifted held), options, resources and refused
    arguments from 8 threads on one instance: every answer is the thread's own, and a
    refused argument (no lock taken) or a held result leaves the lock free."""
    import threading
    from reml_wasm.values import Record
    inst = oracle.instantiate(path="fast")
    s32, echo, opt = inst.func("echo-s32"), inst.func("echo-string"), inst.func("echo-option-u32")
    point, new = inst.func("echo-point"), inst.func(f"{RES}#[constructor]counter")
    bump, get = inst.func(f"{RES}#[method]counter.bump"), inst.func(f"{RES}#[method]counter.get")
    wrong, errors = [], []

    def work(k):
        try:
            c = new(k)
            for i in range(400):
                v = k * 100_000 + i
                got = [s32(v), echo(f"t{k}-{i}"), opt(v if i % 2 else None), point(Record(x=v, y=float(k)))]
                want = [v, f"t{k}-{i}", v if i % 2 else None, Record(x=v, y=float(k))]
                if got != want:
                    wrong.append((k, i, got))
                if i % 50 == 0:
                    try:
                        s32(1 << 40)
                        wrong.append((k, i, "accepted"))
                    except DiagnosticError as exc:
                        if exc.code != "ffi.value.type_mismatch":
                            wrong.append((k, i, exc.code))
                bump(c, 1)
            if get(c) != k + 400:
                wrong.append((k, "counter", get(c)))
            inst.drop(c)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and wrong == []
    assert not inst.lock._is_owned() and inst.call("echo-u32", 7) == 7


# a string parameter's realloc that traps when asked for 13 bytes
REALLOC_TRAPS = """
(component
  (core module $m
    (memory (export "mem") 1)
    (global $top (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (if (i32.eq (local.get 3) (i32.const 13)) (then unreachable))
      (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (local.get 3)))
      (local.get $p))
    (func (export "count") (param i32 i32) (result i32) (local.get 1)))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "count" (core func $count))
  (func $str_f (param "s" string) (result u32) (canon lift (core func $count) (memory $mem) (realloc $realloc)))
  (export "str-len" (func $str_f))
)
"""


def test_a_trap_in_realloc_reads_as_the_reference_path_says(tmp_path):
    comp = component_from_wat(tmp_path, REALLOC_TRAPS)
    outs = []
    for inst in (comp.instantiate(path="fast"), python_callers(comp), comp.instantiate(path="wasmtime")):
        outs.append([outcome(inst, "str-len", "abc"), outcome(inst, "str-len", "x" * 13)])
    assert outs[0] == outs[1] == outs[2], outs
    assert outs[0][1][3] == "str-len: wasm trap: wasm `unreachable` instruction executed"


FIELD = ANY | st.integers(-(1 << 33), 1 << 33)
COMPOUND = (st.builds(lambda x, y: Record(x=x, y=y), FIELD, FIELD) | st.builds(lambda y, x: Record(y=y, x=x), FIELD, FIELD)
            | st.builds(lambda x: Record(x=x), FIELD) | st.tuples(FIELD, FIELD) | FIELD
            | st.fixed_dictionaries({"x": FIELD, "y": FIELD}))


@pytest.fixture(scope="module")
def three(oracle):
    return oracle.instantiate(path="fast"), python_callers(oracle), oracle.instantiate(path="wasmtime")


@pytest.mark.parametrize("name", ["echo-point", "echo-option-u32"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=COMPOUND)
def test_records_and_options_read_inline_equal_the_codecs(three, name, value):
    """A record of scalars and an option of one are read field by field by the glue's
    Python half (C checks the ranges); every value gives what the codecs and the
    reference path give."""
    glued, python, ref = three
    assert any(k.startswith("slots:") for k in _glue_kinds(glued, name))
    outs = [outcome(inst, name, value) for inst in three]
    assert outs[0] == outs[1], outs
    assert outs[0][0] == outs[2][0] and (outs[0][0] == "error" or outs[0] == outs[2]), outs


def _glue_kinds(inst, name):
    from reml_wasm.connectors.component import glue
    func = inst.component.resolve(name)[2]
    return glue.signature(func, False).params


def test_glue_modules_are_found_again_through_the_cache_index(oracle):
    """A later process loads a component's glue module through the index without the
    compiler side of cffi; an index whose module file changed (size or time) is a miss
    and the module is built (and verified) again."""
    import json
    from reml_wasm.connectors.component import glue
    sigs = [glue.signature(oracle.resolve(n)[2], False) for n in ("echo-u32", "echo-char")]
    first = glue._build(sigs)
    index = glue.index_file(sigs)
    entry = json.loads(index.read_text())
    assert glue._indexed(index).lib.reml_glue_status() == 0       # found through the index
    index.write_text(json.dumps({**entry, "size": entry["size"] + 1}))
    assert glue._indexed(index) is None                            # a changed file is a miss
    again = glue._build(sigs)                                      # rebuilt or re-verified, indexed again
    assert json.loads(index.read_text())["size"] == entry["size"]
    assert {sigs[0].name, sigs[1].name} <= set(dir(again.lib)) and first is not None


# a record holding strings: its realloc calls are logged (each size + 1, base 64, in call
# order) and handed back with the first byte of the second string, so the order of the
# guest's realloc entries and the bytes copied are both observable; size 13 traps in
# realloc, size 14 returns a block outside memory
STRING_FIELDS = """
(component
  (core module $m
    (memory (export "mem") 1)
    (global $top (mut i32) (i32.const 1024))
    (global $log (mut i32) (i32.const 0))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (if (i32.eq (local.get 3) (i32.const 13)) (then unreachable))
      (if (i32.eq (local.get 3) (i32.const 14)) (then (return (i32.const 0x7FFFFFF0))))
      (global.set $log (i32.add (i32.mul (global.get $log) (i32.const 64)) (i32.add (local.get 3) (i32.const 1))))
      (if (i32.gt_u (global.get $top) (i32.const 60000)) (then (global.set $top (i32.const 1024))))
      (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (local.get 3)))
      (local.get $p))
    (func (export "take") (param i32 i32 i32 i32 i32) (result i32) (local $l i32)
      (local.set $l (global.get $log))
      (global.set $log (i32.const 0))
      (i32.add (i32.mul (local.get $l) (i32.const 256))
               (select (i32.load8_u (local.get 3)) (i32.const 0) (local.get 4)))))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "take" (core func $take))
  (type $r (record (field "a" string) (field "n" u8) (field "b" string)))
  (export $r_e "r" (type $r))
  (func $take_f (param "r" $r_e) (result u32) (canon lift (core func $take) (memory $mem) (realloc $realloc)))
  (export "take" (func $take_f))
)
"""

TEXT = (st.text(max_size=6) | st.sampled_from(["", "\ud800", "é" * 3, "x" * 12])).filter(
    lambda x: len(x.encode("utf-8", "surrogatepass")) not in (13, 14))  # the sizes that fail: tested below
SFIELD = TEXT | st.integers(-2, 300) | st.sampled_from([True, None, 1.5, b"ab"])
STRING_RECORDS = (st.builds(lambda a, n, b: Record(a=a, n=n, b=b), SFIELD, SFIELD, SFIELD)
                  | st.builds(lambda b, a, n: Record(b=b, a=a, n=n), SFIELD, SFIELD, SFIELD)
                  | st.builds(lambda a, n: Record(a=a, n=n), SFIELD, SFIELD)
                  | st.fixed_dictionaries({"a": SFIELD, "n": SFIELD, "b": SFIELD})
                  | st.tuples(SFIELD, SFIELD, SFIELD) | SFIELD)


@pytest.fixture(scope="module")
def string_fields(tmp_path_factory):
    return component_from_wat(tmp_path_factory.mktemp("sf"), STRING_FIELDS)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(STRING_RECORDS, min_size=1, max_size=4))
def test_string_fields_lowered_in_c_equal_the_codecs(string_fields, values):
    """A record holding strings is read by the glue's Python half and its strings lowered
    in C: the same values, the same realloc entries in the same order, the same coded
    errors as the codecs and the reference path; the instance stays usable."""
    insts = (string_fields.instantiate(path="fast"), python_callers(string_fields),
             string_fields.instantiate(path="wasmtime"))
    assert "string" in _glue_kinds(insts[0], "take")[0]
    assert insts[0].func("take").glue is not None
    for value in values:
        outs = [outcome(inst, "take", value) for inst in insts]
        # the values (realloc log included) equal the reference path's; the errors equal the
        # Python callers' (whose codec may call realloc for a field before it refuses a later
        # one: their log is not compared)
        assert outs[0][0] == outs[1][0] == outs[2][0], outs
        assert outs[0] == (outs[1] if outs[0][0] == "error" else outs[2]), outs
    ok = Record(a="ab", n=7, b="xyz")
    assert [inst.call("take", ok) for inst in insts[::2]] == [((3 * 64 + 4) * 256 + ord("x"))] * 2


@pytest.mark.parametrize("a,b", [("x" * 12, "abc"), ("abc", "x" * 13), ("x" * 13, "abc"), ("abc", "x" * 14),
                                 ("x" * 14, "abc")])
def test_a_failing_realloc_inside_a_record_reads_as_the_reference_path_says(string_fields, a, b):
    """A trap in the guest's realloc for a string field, or a block outside memory: the
    same trap message on all three callers, and the instance poisoned alike."""
    insts = (string_fields.instantiate(path="fast"), python_callers(string_fields),
             string_fields.instantiate(path="wasmtime"))
    value = Record(a=a, n=1, b=b)
    outs = [[outcome(inst, "take", value), outcome(inst, "take", Record(a="", n=0, b=""))] for inst in insts]
    assert outs[0] == outs[1], outs
    assert [o[0][0] for o in outs] == [outs[2][0][0]] * 3 and [o[1][0] for o in outs] == [outs[2][1][0]] * 3, outs
    if "x" * 13 in (a, b):
        assert outs[0][0][0] == "error" and outs[0][0][3] == outs[2][0][3] == "take: wasm trap: wasm `unreachable` instruction executed"
    else:
        assert outs[0][0][0] == "error" if "x" * 14 in (a, b) else outs[0][0] == outs[2][0], outs


TUPLE_FIELD = SFIELD | st.floats(allow_nan=True) | st.integers(-(1 << 70), 1 << 70)
TUPLES = st.tuples(TUPLE_FIELD, TUPLE_FIELD, TUPLE_FIELD) | st.tuples(TUPLE_FIELD, TUPLE_FIELD) \
    | st.lists(TUPLE_FIELD, min_size=3, max_size=3) | TUPLE_FIELD


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=TUPLES)
def test_tuples_holding_strings_read_inline_equal_the_codecs(three, value):
    """tuple<u8, string, f64>: fields read by the glue's Python half, the string lowered
    in C; every value gives what the codecs and the reference path give."""
    assert "slots:u8,string,f64" in _glue_kinds(three[0], "echo-tuple")
    outs = [outcome(inst, "echo-tuple", value) for inst in three]
    assert outs[0] == outs[1], outs
    assert outs[0][0] == outs[2][0] and (outs[0][0] == "error" or outs[0] == outs[2]), outs


def _mixed_fields():
    import array
    from reml_wasm.values import Some
    u64 = st.integers(-1, 1 << 64) | st.sampled_from([(1 << 63) - 1, 1 << 63, (1 << 64) - 1])
    lists = (st.lists(st.integers(-1, 65536), max_size=5) | st.lists(st.booleans(), min_size=1, max_size=2)
             | st.lists(st.integers(0, 65535), max_size=5).map(lambda x: array.array("H", x))
             | st.lists(st.integers(0, 65535), max_size=5).map(tuple) | st.sampled_from(["ab", b"ab", None]))
    chars = (st.none() | st.characters() | st.characters().map(Some) | st.sampled_from(["ab", "", "\ud800", 65, Some(None)]))
    return {"a": st.integers(-1, 256) | st.just(True), "b": u64, "c": TEXT | st.just(5), "d": lists,
            "e": chars, "f": st.booleans() | st.just(1)}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_records_with_lists_options_and_64_bit_fields_equal_the_codecs(three, data):
    """record mixed (u8, u64, string, list<u16>, option<char>, bool): read field by field by
    the glue's Python half, the string and the list lowered in C; every value (a Record,
    a dict, a Record missing a field) gives what the codecs and the reference path give."""
    assert _glue_kinds(three[0], "echo-mixed") == ("slots:u8,u64,string,list-u16,opt-char,bool",)
    fields = data.draw(st.fixed_dictionaries(_mixed_fields()))
    shape = data.draw(st.sampled_from(["record", "dict", "short"]))
    value = Record(**fields) if shape == "record" else dict(fields) if shape == "dict" else \
        Record(**{k: v for k, v in fields.items() if k != "e"})
    outs = [outcome(inst, "echo-mixed", value) for inst in three]
    assert outs[0] == outs[1], outs
    assert outs[0][0] == outs[2][0], outs
    if outs[0][0] != "error":  # the reference path lifts lists as plain lists: equal values
        assert three[0].call("echo-mixed", value) == three[2].call("echo-mixed", value)


# a record of a list<u16> and a string: realloc logs (size * 8 + align) per call, base 1024;
# a 6-byte block comes back misaligned
LIST_FIELDS = """
(component
  (core module $m
    (memory (export "mem") 1)
    (global $log (mut i32) (i32.const 0))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (global.set $log (i32.add (i32.mul (global.get $log) (i32.const 1024))
                                (i32.add (i32.mul (local.get 3) (i32.const 8)) (local.get 2))))
      (if (i32.eq (local.get 3) (i32.const 6)) (then (return (i32.const 1025))))
      (i32.const 1024))
    (func (export "take") (param i32 i32 i32 i32) (result i32) (local $l i32)
      (local.set $l (global.get $log))
      (global.set $log (i32.const 0))
      (i32.add (i32.mul (local.get $l) (i32.const 16)) (local.get 1))))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "take" (core func $take))
  (type $r (record (field "l" (list u16)) (field "s" string)))
  (export $r_e "r" (type $r))
  (func $take_f (param "r" $r_e) (result u32) (canon lift (core func $take) (memory $mem) (realloc $realloc)))
  (export "take" (func $take_f))
)
"""


def test_list_fields_lowered_in_c_call_realloc_as_the_codecs_do(tmp_path):
    """A list field lowered in C: realloc(0, 0, align, bytes) in field order, the element
    count as its length; a misaligned block is the same trap as on the Python callers."""
    comp = component_from_wat(tmp_path, LIST_FIELDS)
    insts = (comp.instantiate(path="fast"), python_callers(comp), comp.instantiate(path="wasmtime"))
    assert _glue_kinds(insts[0], "take") == ("slots:list-u16,string",)
    ok = Record(l=[1, 2], s="abc")
    assert [inst.call("take", ok) for inst in insts] == [((4 * 8 + 2) * 1024 + 3 * 8 + 1) * 16 + 2] * 3
    bad = [outcome(inst, "take", Record(l=[1, 2, 3], s="")) for inst in insts]
    assert bad[0] == bad[1] and bad[0][0] == bad[2][0] == "error" and "not aligned to 2" in bad[0][3], bad


# option<K> results read in C from the area the core function points at (its argument):
# the test writes the area's bytes first through `poke`
_OPTION_LIFTS = "".join(f"""  (func $o_{k} (param "at" u32) (result (option {k})) (canon lift (core func $id32) (memory $mem)))
  (export "opt-{k}" (func $o_{k}))
""" for k in ("u8", "s8", "u16", "s16", "u32", "s32", "bool", "char"))
OPTION_AREAS = area_guest(_OPTION_LIFTS)


@pytest.fixture(scope="module")
def option_areas(tmp_path_factory):
    return component_from_wat(tmp_path_factory.mktemp("oa"), OPTION_AREAS)


AREA_WORDS = st.integers(0, 2) | st.integers(0, (1 << 32) - 1) | st.sampled_from([0x101, 0x80, 0xFFFF, 0xD800, 0x110000])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["u8", "s8", "u16", "s16", "u32", "s32", "bool", "char"]), w0=AREA_WORDS, w1=AREA_WORDS,
       at=st.sampled_from([64, 65, 66, 68, 65532, 65535, 65536, 1 << 31]))
def test_option_results_read_in_c_equal_the_codecs(option_areas, kind, w0, w1, at):
    """option<K> results read in C (the area's alignment and bounds, the case, the value,
    a char's validity): the same values, traps and messages as the codecs and the
    reference path, for any bytes and any pointer."""
    insts = (option_areas.instantiate(path="fast"), python_callers(option_areas),
             option_areas.instantiate(path="wasmtime"))
    assert insts[0].func(f"opt-{kind}").glue is not None
    outs = []
    for inst in insts:
        inst.call("poke", 64, w0)
        inst.call("poke", 68, w1)
        outs.append((outcome(inst, f"opt-{kind}", at), outcome(inst, f"opt-{kind}", 64)))
    assert outs[0] == outs[1], outs
    for k in (0, 1):
        assert outs[0][k][0] == outs[2][k][0] and (outs[0][k][0] == "error" or outs[0][k] == outs[2][k]), outs


RESULT_VALUES = (st.builds(Ok, st.integers(-2, 1 << 33) | TEXT | st.sampled_from([True, None, 1.5]))
                 | st.builds(Err, TEXT | st.sampled_from([3, None, b"x", "x" * 40]))
                 | st.sampled_from([None, 3, "ok", (0, 3), Variant("ok", 3)]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(RESULT_VALUES, min_size=1, max_size=3))
def test_result_parameters_lowered_in_c_equal_the_codecs(three, values):
    """result<u32, string> parameters: Ok's value checked in C, Err's string lowered in C;
    every value gives what the codecs and the reference path give, in sequence."""
    assert _glue_kinds(three[0], "echo-result-u32-string") == ("result-u32",)
    for value in values:
        outs = [outcome(inst, "echo-result-u32-string", value) for inst in three]
        assert outs[0] == outs[1], outs
        assert outs[0][0] == outs[2][0] and (outs[0][0] == "error" or outs[0] == outs[2]), outs


RESULT_AREAS = area_guest(_OPTION_LIFTS + "".join(f"""  (func $r_{k} (param "at" u32) (result (result {k} (error string))) (canon lift (core func $id32) (memory $mem)))
  (export "res-{k}" (func $r_{k}))
""" for k in ("u8", "s16", "u32", "s32", "bool", "char")), data="h\\c3\\a9llo\\ff")


@pytest.fixture(scope="module")
def result_areas(tmp_path_factory):
    return component_from_wat(tmp_path_factory.mktemp("ra"), RESULT_AREAS)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["u8", "s16", "u32", "s32", "bool", "char"]), w0=AREA_WORDS,
       w1=AREA_WORDS | st.sampled_from([16, 17, 21, 65530]), w2=st.integers(0, 8) | AREA_WORDS,
       at=st.sampled_from([64, 66, 68, 65524, 65528, 1 << 31]))
def test_result_string_results_read_in_c_equal_the_codecs(result_areas, kind, w0, w1, w2, at):
    """result<K, string> results: Ok read in C, Err held for the codec (its string may be
    anything); the same values, traps and messages as the codecs and the reference path."""
    insts = (result_areas.instantiate(path="fast"), python_callers(result_areas),
             result_areas.instantiate(path="wasmtime"))
    assert insts[0].func(f"res-{kind}").glue is not None
    outs = []
    for inst in insts:
        for addr, word in ((64, w0), (68, w1), (72, w2)):
            inst.call("poke", addr, word)
        outs.append((outcome(inst, f"res-{kind}", at), outcome(inst, f"res-{kind}", 64)))
    assert outs[0] == outs[1], outs
    for k in (0, 1):
        assert outs[0][k][0] == outs[2][k][0] and (outs[0][k][0] == "error" or outs[0][k] == outs[2][k]), outs
