"""The C front of export calls (connectors/component/front.py) against the glue's Python
half, the generated Python callers and the reference path (wasmtime.component): hostile
result areas of every compound kind lifted alike (values, traps, messages), arguments
lowered with the same realloc entries in the same order, values of other classes handed
to the Python caller, and the realloc count the front reports."""

from __future__ import annotations

import struct
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm.audit import DiagnosticError
from reml_wasm.cabi.layout import flatten_type
from reml_wasm.values import Err, Ok, Record, Some, Variant

from cabi_helpers import area_guest, component_from_wat, glue_without_front, python_callers
from strategies import same_value

TYPES = """
  (type $fl (flags "a" "b" "c"))
  (export $fl_e "fl" (type $fl))
  (type $en (enum "x" "y" "z"))
  (export $en_e "en" (type $en))
  (type $rec (record (field "s" string) (field "l" (list u16)) (field "o" (option char)) (field "f" $fl_e)
                     (field "e" $en_e)))
  (export $rec_e "rec" (type $rec))
  (type $var (variant (case "none") (case "str" string) (case "num" f32) (case "pair" (tuple u8 s64))))
  (export $var_e "var" (type $var))
"""
# result types lifted from the area at the argument (each needs more than one flat value)
AREA_TYPES = {"rec": "$rec_e", "var": "$var_e", "ls": "(list string)", "lu": "(list u32)", "ll": "(list (list u8))",
              "oo": "(option (option u8))", "rs": "(result string (error (list s16)))",
              "tp": "(tuple char f32 f64 bool)", "lv": "(list $var_e)", "lf": "(list f32)"}

AREAS = area_guest(TYPES + "".join(f"""  (func $a_{k} (param "at" u32) (result {ty}) (canon lift (core func $id32) (memory $mem)))
  (export "area-{k}" (func $a_{k}))
""" for k, ty in AREA_TYPES.items()), data="h\\c3\\a9llo\\ff")


def outcome(inst, name, *args):
    """What a call gives, comparable across callers: the value (its class and repr, so a
    NaN equals itself) or the error's class, code and message."""
    try:
        v = inst.call(name, *args)
    except DiagnosticError as exc:
        return ("error", type(exc).__name__, exc.code, exc.diagnostic.message)
    return ("value", type(v).__name__, repr(v), v)


def agree(mine, ref):
    """An outcome of ours against the reference path's: both errors, or values equal as
    the Canonical ABI delivers them (NumberList where the reference gives a list)."""
    if mine[0] == "error" or ref[0] == "error":
        return mine[0] == ref[0]
    return mine[2] == ref[2] or same_value(mine[3], ref[3])


def callers(comp):
    """(front, glue's Python half, Python callers, reference) instances of `comp`."""
    return (comp.instantiate(path="fast"), glue_without_front(comp), python_callers(comp),
            comp.instantiate(path="wasmtime"))


@pytest.fixture(scope="module")
def areas(tmp_path_factory):
    return component_from_wat(tmp_path_factory.mktemp("fa"), AREAS)


def test_area_exports_are_served_by_the_front(areas):
    front, half, python, _ = callers(areas)
    for k in AREA_TYPES:
        assert type(front.func(f"area-{k}")).__name__ == "ExportFront", k
        assert type(half.func(f"area-{k}")).__name__ != "ExportFront", k
    assert type(python.func("area-rec")).__name__ != "ExportFront"


# small words (cases, lengths), pointers into the poked region or the text at 16, and
# anything at all
WORDS = (st.integers(0, 4) | st.sampled_from([16, 17, 19, 64, 66, 68, 72, 80, 96, 0x10000, 0xFFFFFFF0])
         | st.integers(0, (1 << 32) - 1) | st.sampled_from([0x3FC00000, 0x7FC00001, 0xD800, 0x10FFFF, 0x110000]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(AREA_TYPES)), words=st.lists(WORDS, min_size=12, max_size=12),
       at=st.sampled_from([64, 64, 64, 66, 68, 72, 65532, 65528, 1 << 31]))
def test_hostile_areas_lift_alike_on_every_caller(areas, kind, words, at):
    """Any bytes at any address, lifted as a record, variant, list, nested option, result
    or tuple: the front gives the value, or the trap and message, the others give; the
    instances stay usable (a lifting trap poisons them all alike)."""
    outs = []
    for inst in callers(areas):
        for k, w in enumerate(words):
            inst.call("poke", 64 + 4 * k, w)
        outs.append(outcome(inst, f"area-{kind}", at))
    assert outs[0][:3] == outs[1][:3] == outs[2][:3], outs
    assert agree(outs[0], outs[3]), outs


def test_copy_budget_and_canonical_values(areas, tmp_path):
    """A list of lists aliasing one region is charged per copy (the Sandbox budget); NaN
    payloads come back canonical; nested options keep `Some`."""
    from reml_wasm.connectors.component import Sandbox
    small = areas.instantiate(path="fast", sandbox=Sandbox(copy_limit=64))
    python = python_callers(areas)
    for inst in (small, python):
        inst.call("poke", 64, 72)  # the outer list: 8 entries at 72
        inst.call("poke", 68, 8)
        for k in range(8):  # eight list<u8> entries of 16 bytes, all at 16
            inst.call("poke", 72 + 8 * k, 16)
            inst.call("poke", 76 + 8 * k, 16)
    with pytest.raises(DiagnosticError) as exc:
        small.call("area-ll", 64)
    assert exc.value.diagnostic.extensions.get("kind") == "copy-limit", exc.value
    assert python.call("area-ll", 64) == [b"h\xc3\xa9llo\xff" + bytes(9)] * 8
    for inst in callers(areas):
        inst.call("poke", 64, 2)  # num(NaN with a payload)
        inst.call("poke", 72, 0x7FC00123)  # the payload sits at 8 (the s64 case aligns it)
        got = inst.call("area-var", 64)
        assert got.tag == "num" and got.value != got.value
        if inst.path == "fast":  # canonical on every fast caller (wasmtime keeps the payload)
            assert struct.pack("<f", got.value) == struct.pack("<f", float("nan"))
        inst.call("poke", 64, 0x0101)
        assert inst.call("area-oo", 64) == Some(0)
        inst.call("poke", 64, 0x0001)
        assert inst.call("area-oo", 64) == Some(None)
        inst.call("poke", 64, 0)
        assert inst.call("area-oo", 64) is None


# lowering: the guest's realloc logs (size, align) of every call in order; `take` hands
# the log back and clears it
LOG_TYPES = {"ls": "(list string)", "var": "$var_e", "os": "(option string)", "ll": "(list (list u16))",
             "rr": "(result string (error string))", "rec": "$rec_e", "lv": "(list $var_e)"}
def _log_component(tmp):
    from reml_wasm import types as t
    shapes = {
        "ls": t.ListType(t.STRING), "os": t.OptionType(t.STRING), "ll": t.ListType(t.ListType(t.PRIMITIVES["u16"])),
        "rr": t.ResultType(t.STRING, t.STRING),
    }
    funcs, exports = [], []
    for k, ty in LOG_TYPES.items():
        flat = flatten_type(shapes[k]) if k in shapes else None
        if flat is None:
            flat = {"var": ["i32", "i32", "i64"], "rec": ["i32"] * 8, "lv": ["i32", "i32"]}[k]
        params = " ".join(flat)
        funcs.append(f'    (func (export "take-{k}") (param {params}) (result i32) (local $l i32)\n'
                     '      (local.set $l (global.get $log)) (global.set $log (i32.const 0)) (local.get $l))\n')
        exports.append(f'  (alias core export $i "take-{k}" (core func $t_{k}))\n'
                       f'  (func $f_{k} (param "v" {ty}) (result u32) (canon lift (core func $t_{k}) (memory $mem)'
                       ' (realloc $realloc)))\n'
                       f'  (export "take-{k}" (func $f_{k}))\n')
    wat = ("(component\n  (core module $m\n    (memory (export \"mem\") 1)\n"
           "    (global $top (mut i32) (i32.const 1024))\n    (global $log (mut i32) (i32.const 0))\n"
           "    (func (export \"realloc\") (param i32 i32 i32 i32) (result i32) (local $p i32)\n"
           "      (if (i32.eq (local.get 3) (i32.const 13)) (then unreachable))\n"
           "      (global.set $log (i32.add (i32.mul (global.get $log) (i32.const 131))\n"
           "        (i32.add (i32.mul (local.get 3) (i32.const 8)) (local.get 2))))\n"
           "      (if (i32.gt_u (global.get $top) (i32.const 60000)) (then (global.set $top (i32.const 1024))))\n"
           "      (local.set $p (i32.and (i32.add (global.get $top) (i32.const 7)) (i32.const -8)))\n"
           "      (global.set $top (i32.add (local.get $p) (local.get 3)))\n"
           "      (local.get $p))\n" + "".join(funcs) + "  )\n  (core instance $i (instantiate $m))\n"
           "  (alias core export $i \"mem\" (core memory $mem))\n"
           "  (alias core export $i \"realloc\" (core func $realloc))\n" + TYPES + "".join(exports) + ")\n")
    return component_from_wat(tmp, wat)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    return _log_component(tmp_path_factory.mktemp("fl"))


TEXT = (st.text(max_size=5) | st.sampled_from(["", "\ud800", "é", "x" * 13])).filter(lambda s: len(s) != 13 or s == "x" * 13)
VARS = (st.builds(Variant, st.just("none")) | st.builds(Variant, st.just("str"), TEXT)
        | st.builds(Variant, st.just("num"), st.floats(width=32) | st.integers(-3, 3))
        | st.builds(Variant, st.just("pair"), st.tuples(st.integers(-1, 256), st.integers(-(1 << 63), (1 << 63) - 1)))
        | st.sampled_from([Variant("bad"), Variant("none", 1), "none", None]))
U16S = st.lists(st.integers(-1, 65536), max_size=3) | st.sampled_from([(1, 2), b"ab", "ab"])
RECS = st.builds(lambda s, l, o, f, e: Record(s=s, l=l, o=o, f=f, e=e), TEXT, U16S,
                 st.none() | st.sampled_from(["c", "\ud800", "ab", Some("d")]),
                 st.sampled_from([frozenset(), frozenset({"a", "c"}), frozenset({"q"}), {"a"}]),
                 st.sampled_from(["x", "z", "w", 1])) | st.sampled_from([{"s": "a"}, ("a", [], None, frozenset(), "x")])
RESET = {"ls": [], "var": Variant("none"), "os": None, "ll": [], "rr": Ok(""), "lv": [],
         "rec": Record(s="", l=[], o=None, f=frozenset(), e="x")}
LOG_VALUES = {
    "ls": st.lists(TEXT, max_size=4) | st.tuples(TEXT, TEXT) | st.sampled_from(["ab", None]),
    "var": VARS,
    "os": st.none() | TEXT | st.sampled_from([Some("a"), 3]),
    "ll": st.lists(U16S, max_size=3),
    "rr": st.builds(Ok, TEXT) | st.builds(Err, TEXT) | st.sampled_from([Ok(None), Err(3), "x"]),
    "rec": RECS,
    "lv": st.lists(VARS, max_size=3),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(sorted(LOG_TYPES)))
def test_arguments_lower_with_the_reference_paths_realloc_entries(logs, data, kind):
    """Lists of strings, variants, options, results and records lowered by the front call
    the guest's realloc exactly as the reference path does (sizes, alignments, order);
    refused values give the coded error the Python callers give; a trap in realloc is the
    same trap on every caller."""
    values = data.draw(st.lists(LOG_VALUES[kind], min_size=1, max_size=3))
    insts = callers(logs)
    for value in values:
        outs = [outcome(inst, f"take-{kind}", value) for inst in insts]
        # the same value or coded error as the Python callers; the glue's Python half
        # gives the same value or an error too (on a poisoned instance it may name the
        # poisoning before a bad argument)
        assert outs[0][:3] == outs[2][:3], outs
        assert outs[1][0] == outs[0][0] and (outs[0][0] == "error" or outs[1][:3] == outs[0][:3]), outs
        # the reference path takes the same values (a payload given to a case without one
        # is refused everywhere: it would be lost), with the same realloc log
        assert outs[3][0] == outs[0][0] and (outs[0][0] == "error" or outs[0][:3] == outs[3][:3]), outs
        if outs[0][2] == "cabi.trap":
            break  # poisoned: which error a later bad argument meets first differs by path
        if "error" in (outs[0][0], outs[3][0]):  # a refusal may leave realloc entries in the log: clear it
            for inst in insts:
                outcome(inst, f"take-{kind}", RESET[kind])  # (a trap poisoned them all alike)


def test_other_classes_go_to_the_python_caller(logs):
    """Values whose classes are not the exact ones the convention names are still taken
    (the front hands them to the Python caller, which converts them as the codecs do)."""
    class Text(str):
        pass
    front, _, _, ref = callers(logs)
    for kind, value in [("ls", (Text("ab"), "c")), ("rec", {"s": "a", "l": [1], "o": None, "f": {"b"}, "e": "y"}),
                        ("os", Text("q")), ("ll", [(1, 2), []])]:
        assert front.call(f"take-{kind}", value) == ref.call(f"take-{kind}", value)


def test_the_front_counts_its_realloc_entries(logs):
    f = logs.instantiate(path="fast").func("take-ls")
    f(["a", "bc", ""])
    assert f.reallocs == 4          # the list's block and one per string
    f(())
    assert f.reallocs == 1


EDGES = [0, 1, -1, 127, -128, 128, 255, 256, (1 << 30) - 1, 1 << 30, -(1 << 30), (1 << 32) - 1, 1 << 32, 1 << 70, True]


@pytest.fixture(scope="module")
def oracle_paths():
    from reml_wasm.benchmarks.component import build_oracle
    from reml_wasm.connectors.component import Component
    comp = Component.from_file(build_oracle())
    return comp.instantiate(path="fast"), python_callers(comp), comp.instantiate(path="wasmtime")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["echo-list-u32", "echo-list-s8", "echo-list-bool", "echo-list-char", "echo-list-f64"]),
       items=st.lists(st.sampled_from(EDGES) | st.integers() | st.floats() | st.sampled_from(["a", "\ud800", False]),
                      max_size=6))
def test_number_lists_take_every_edge_as_the_codecs_do(oracle_paths, name, items):
    """Lists of numbers packed by the front (small ints read in place, larger ones and
    other classes converted in general or handed to the Python caller): the values or the
    coded errors of the Python callers, and the reference path's values."""
    outs = [outcome(inst, name, items) for inst in oracle_paths]
    assert outs[0][:3] == outs[1][:3], outs
    assert agree(outs[0], outs[2]), outs


def test_arguments_mutated_by_another_thread_during_a_call_are_safe(oracle_paths):
    """The front copies what it needs before it releases the GIL (string objects held,
    numbers packed), so another thread rewriting the very list being lowered never
    corrupts a call: every result is the list as it was at some moment, whole."""
    import threading
    inst = oracle_paths[0]
    f = inst.func("echo-list-string")
    assert type(f).__name__ == "ExportFront"
    shared = ["a" * 50] * 200
    stop = threading.Event()

    def mutate():
        k = 0
        while not stop.is_set():
            k += 1
            shared[:] = [chr(97 + k % 26) * 50] * 200  # a whole new content, new string objects

    t = threading.Thread(target=mutate)
    t.start()
    try:
        for _ in range(500):
            out = f(shared)
            assert len(out) == 200 and len(set(out)) == 1 and len(out[0]) == 50, out[:2]
    finally:
        stop.set()
        t.join()


def test_the_type_description_is_made_once_per_component(areas, monkeypatch):
    """Instances share their component's front plans: a later instance describes no type."""
    import reml_wasm.connectors.component.caller as caller_module
    made = []
    real = caller_module.plan_front
    monkeypatch.setattr(caller_module, "plan_front", lambda *a: made.append(a[0].name) or real(*a))
    for _ in range(3):
        inst = areas.instantiate(path="fast")
        assert type(inst.func("area-rec")).__name__ == "ExportFront"
    assert made.count("area-rec") <= 1
