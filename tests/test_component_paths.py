"""The fast path and the wasmtime reference path give identical results on the same calls:
the ctest guest (native/ctest), the project's demo guest, resources and traps."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reml_wasm import cabi, toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import capi as wasmtime_capi
from reml_wasm.connectors.component import Component
from reml_wasm.values import Err, Ok, Record, Variant

HOST = "reml:ctest/host@0.1.0"
CTR = "reml:ctest/counters@0.1.0"


@pytest.fixture(scope="module")
def ctest():
    return Component.from_file(build_ctest())


@pytest.fixture(scope="module")
def demo():
    return Component.from_file(toolchain.build_demo()[0])


def _host(log):
    return {HOST: {"log": log.append, "scale": lambda v, by: [x * by for x in v]}}


def _plain(v):
    """Comparable form (the engine may return list subclasses for number lists)."""
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Record):
        return Record(**{k: _plain(x) for k, x in v.fields().items()})
    return v


@pytest.fixture(scope="module")
def both(ctest):
    logs = {"fast": [], "wasmtime": []}
    insts = {p: ctest.instantiate(_host(logs[p]), path=p) for p in ("fast", "wasmtime")}
    assert insts["fast"].path == "fast" and insts["wasmtime"].path == "wasmtime"
    return insts, logs


def test_fast_path_binding_loads():
    capi, why = wasmtime_capi.load()
    assert capi is not None, why
    assert capi.version.split(".")[0] == str(wasmtime_capi.SUPPORTED_MAJOR)
    # this machine has a C compiler and Python's headers: the compiled stubs are in use
    assert capi.mode == "api" and capi.int_call(4) is not None


def test_abi_mode_binding_gives_the_same_results(ctest, monkeypatch):
    """Without the compiled stubs (no compiler), the libffi binding serves the fast path."""
    capi, _ = wasmtime_capi.load()
    abi = wasmtime_capi.abi_binding()
    assert abi.mode == "abi" and abi.int_call(1) is None
    monkeypatch.setattr(wasmtime_capi, "_LOADED", abi)
    inst = ctest.instantiate(_host([]), path="fast")
    assert inst.path == "fast"
    for name, args, expected in CALLS:
        assert _plain(inst.call(name, *args)) == expected, name


def test_memory_grown_by_the_guest_is_seen(ctest):
    """Connector engines never move a memory: the fast path keeps its view and re-reads
    the size only when a pointer passes it.  Strings far larger than the initial memory
    (grown inside realloc) round-trip, then small ones again."""
    inst = ctest.instantiate(path="fast")
    before = inst.call("echo", "small")
    for n in (70_000, 1 << 20, 3 << 20):
        text = "é" * n
        assert inst.call("echo", text) == text
    assert inst.call("echo", "small") == before == "small"


CALLS = [
    ("add", (1, 2), 3),
    ("add", (2**31 - 1, 1), -(2**31)),
    ("echo", ("", ), ""),
    ("echo", ("héllo 🎉",), "héllo 🎉"),
    ("echo-list", ([],), []),
    ("echo-list", ([0, 1, 2**32 - 1],), [0, 1, 2**32 - 1]),
    ("echo-pair", (Record(id=3, name="n", weight=-0.5, tags=["a", "", "ccc"]),),
     Record(id=3, name="n", weight=-0.5, tags=["a", "", "ccc"])),
    ("call-log", ("to the host",), 11),
    ("call-scale", ([1, 2, 3], 10), [10, 20, 30]),
    ("divide", (-7, 2), -3),
    ("spin", (1000,), 1000),
]


@pytest.mark.parametrize("name, args, expected", CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_same_results(both, name, args, expected):
    insts, logs = both
    got = {p: _plain(inst.call(name, *args)) for p, inst in insts.items()}
    assert got["fast"] == got["wasmtime"] == expected
    assert logs["fast"] == logs["wasmtime"]


DEMO_CALLS = [
    ("greet", ("Reml",), "Hello, Reml!"),
    ("sum", ([1, 2, 2**32 - 1],), 2**32 + 2),
    ("reverse", ([1, 2, 3, 4],), [4, 3, 2, 1]),
    ("translate", (Record(x=2**31 - 1, y=-5), 1, 10), Record(x=-(2**31), y=5)),
    ("area", (Variant("circle", 2.0),), math.pi * 4),
    ("area", (Variant("rect", Record(x=-3, y=7)),), 21.0),
    ("area", (Variant("empty"),), 0.0),
    ("find", (["a", "bb", "c", "bb"], "bb"), 1),
    ("find", (["a"], "z"), None),
    ("parse-u32", ("4294967295",), Ok(4294967295)),
    ("parse-u32", ("4294967296",), Err("overflow")),
    ("parse-u32", ("12x",), Err("not a digit")),
]


@pytest.mark.parametrize("name, args, expected", DEMO_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(DEMO_CALLS)])
def test_demo_guest_same_results(demo, name, args, expected):
    got = [_plain(demo.instantiate(path=p).call(name, *args)) for p in ("fast", "wasmtime")]
    assert got[0] == got[1]
    assert got[0] == pytest.approx(expected) if isinstance(expected, float) else got[0] == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.integers(-(2**31), 2**31 - 1), b=st.integers(-(2**31), 2**31 - 1),
       s=st.text(max_size=40), v=st.lists(st.integers(0, 2**32 - 1), max_size=40),
       tags=st.lists(st.text(max_size=5), max_size=4), w=st.floats(allow_nan=False))
def test_property_both_paths_agree(both, a, b, s, v, tags, w):
    insts, _ = both
    for name, args in (("add", (a, b)), ("echo", (s,)), ("echo-list", (v,)),
                       ("echo-pair", (Record(id=len(s), name=s, weight=w, tags=tags),))):
        fast, ref = (_plain(insts[p].call(name, *args)) for p in ("fast", "wasmtime"))
        assert fast == ref


@pytest.mark.parametrize("name, args", [("add", (1,)), ("add", (1, "2")), ("add", (2**31, 0)),
                                        ("echo", (5,)), ("echo-list", ([-1],)),
                                        ("echo-pair", (Record(id=1),))])
def test_bad_arguments_are_coded_errors_on_both_paths(both, name, args):
    insts, _ = both
    for p in ("fast", "wasmtime"):
        with pytest.raises((DiagnosticError, TypeError, ValueError, AttributeError, OverflowError)) as exc:
            insts[p].call(name, *args)
        if p == "fast":
            assert isinstance(exc.value, DiagnosticError) and exc.value.code.startswith("ffi.value.")
    # the instances are still usable
    assert [insts[p].call("add", 2, 3) for p in ("fast", "wasmtime")] == [5, 5]


def _resource_script(comp, path):
    log = []
    inst = comp.instantiate(_host(log), path=path)
    new, bump, get = (inst.func(f"{CTR}#{n}") for n in ("[constructor]counter", "[method]counter.bump",
                                                         "[method]counter.get"))
    finish, peek = inst.func(f"{CTR}#finish"), inst.func(f"{CTR}#peek")
    a, b, c = new(10), new(20), new(30)
    out = [bump(a), bump(a), get(a), peek(b), bump(c)]
    out.append(finish(b))           # moved into the guest, dropped there (dtor logs)
    inst.drop(c)                    # host drops its own: the guest dtor runs
    out.append(get(a))
    inst.drop(a)
    misuse = []
    for attempt in (lambda: inst.drop(a), lambda: finish(b), lambda: get(c)):
        try:
            attempt()
            misuse.append("ok")
        except (DiagnosticError, ValueError, TypeError, RuntimeError):
            misuse.append("error")
    return out, log, misuse


def test_resources_behave_the_same(ctest):
    fast = _resource_script(ctest, "fast")
    ref = _resource_script(ctest, "wasmtime")
    assert fast[0] == ref[0] == [11, 12, 12, 20, 31, 20, 12]
    assert fast[1] == ref[1] == ["drop 20", "drop 31", "drop 12"]   # drop order
    assert fast[2] == ["error", "error", "error"]
    assert ref[2] == ["error", "error", "error"]


def test_traps_and_poisoning_match(ctest):
    for path in ("fast", "wasmtime"):
        inst = ctest.instantiate(path=path)
        with pytest.raises(cabi.Trap) as exc:
            inst.call("divide", 1, 0)
        assert exc.value.diagnostic.extensions["kind"] == "unreachable"
        assert "divide" in exc.value.diagnostic.message
        with pytest.raises(cabi.Trap) as exc:
            inst.call("add", 1, 2)
        assert exc.value.diagnostic.extensions["kind"] == "poisoned"
        assert ctest.instantiate(path=path).call("add", 1, 2) == 3


def test_unprovided_imports_trap_only_when_called(ctest):
    for path in ("fast", "wasmtime"):
        inst = ctest.instantiate({}, path=path)
        assert inst.call("add", 4, 5) == 9            # runs although nothing provides `host`
        with pytest.raises(cabi.Trap) as exc:
            inst.call("call-log", "x")
        assert exc.value.diagnostic.extensions["kind"] == "unprovided-import"
        assert f"{HOST}#log" in exc.value.diagnostic.message


def test_host_exceptions_propagate(ctest):
    class Boom(Exception):
        pass

    def scale(v, by):
        raise Boom("host failed")

    for path in ("fast", "wasmtime"):
        inst = ctest.instantiate({HOST: {"log": print, "scale": scale}}, path=path)
        with pytest.raises(Boom):
            inst.call("call-scale", [1], 2)


def test_host_result_of_the_wrong_type_is_an_error(ctest):
    for path in ("fast", "wasmtime"):
        inst = ctest.instantiate({HOST: {"log": print, "scale": lambda v, by: "nope"}}, path=path)
        with pytest.raises(Exception) as exc:
            inst.call("call-scale", [1], 2)
        if path == "fast":
            assert isinstance(exc.value, DiagnosticError)


def test_export_lookup(ctest):
    inst = ctest.instantiate(path="fast")
    assert inst.func("counters#[method]counter.get") is inst.func("counters#[method]counter.get")
    with pytest.raises(DiagnosticError) as exc:
        inst.func("missing")
    assert exc.value.code == "ffi.component.no_export"
    with pytest.raises(DiagnosticError) as exc:
        ctest.instantiate(path="elsewhere")
    assert exc.value.code == "ffi.component.path"


def test_call_buffers_stay_alive(ctest):
    """The preallocated argument buffers live as long as the callers: after a collection,
    fresh allocations of the same size must not be the memory the calls write into."""
    import gc

    import cffi
    ffi = cffi.FFI()
    inst = ctest.instantiate(path="fast")
    add, echo = inst.func("add"), inst.func("echo")
    gc.collect()
    junk = [ffi.new("char[32]", b"\x55" * 31) for _ in range(2000)]
    assert [add(i, 1) for i in range(200)] == [i + 1 for i in range(200)]
    assert echo("still here") == "still here"
    assert all(ffi.string(j) == b"\x55" * 31 for j in junk)


def test_poisoned_instance_refuses_destructors_too(ctest):
    for path in ("fast", "wasmtime"):
        inst = ctest.instantiate(_host([]), path=path)
        c = inst.call(f"{CTR}#[constructor]counter", 1)
        with pytest.raises(cabi.Trap):
            inst.call("divide", 1, 0)
        with pytest.raises(DiagnosticError):
            inst.drop(c)


def test_host_may_call_back_into_the_instance(ctest):
    box = {}

    def scale(v, by):
        return [box["inst"].call("add", x, by) for x in v]

    for path in ("fast", "wasmtime"):
        box["inst"] = inst = ctest.instantiate({HOST: {"log": print, "scale": scale}}, path=path)
        assert _plain(inst.call("call-scale", [1, 2], 3)) == [4, 5]
        assert inst.call("add", 1, 1) == 2


def _blob_host(log, store):
    def ctor(data):
        rep = 100 + len(log)
        store[rep] = bytes(data)
        log.append(f"new {rep}")
        return rep                                  # a bare rep: the connector makes the handle

    def size(self):
        log.append(f"size {self.rep} {'own' if self.own else 'borrow'}")
        return len(store[self.rep])

    def dtor(rep):
        log.append(f"dtor {rep}")
        del store[rep]

    return {HOST: {"log": log.append, "scale": None, "[constructor]blob": ctor,
                   "[method]blob.size": size, "[dtor]blob": dtor}}


def _blob_script(comp, path):
    log, store = [], {}
    inst = comp.instantiate(_blob_host(log, store), path=path)
    out = [inst.call("blob-roundtrip", b"hello")]          # made, asked, dropped by the guest
    b = inst.call("make-blob", 7)                            # made by the guest, owned by us
    out += [isinstance(b, cabi.Resource), b.own, b.type.name, inst.call("blob-size", b)]
    inst.drop(b)                                             # our drop runs the host dtor
    for misuse in (lambda: inst.call("blob-size", b), lambda: inst.drop(b)):
        with pytest.raises(DiagnosticError):
            misuse()
    c = inst.call("make-blob", 3)
    with pytest.raises(cabi.Trap):
        inst.call("blob-size-leaky", c)                      # a lent handle left undropped
    with pytest.raises(cabi.Trap) as exc:
        inst.call("add", 1, 2)
    out.append(exc.value.diagnostic.extensions["kind"])
    return out, log, sorted(store)


def test_host_resources_behave_the_same(ctest):
    fast = _blob_script(ctest, "fast")
    ref = _blob_script(ctest, "wasmtime")
    assert fast == ref
    assert fast[0] == [5, True, True, "blob", 7, "poisoned"]
    assert fast[1][:6] == ["new 100", "size 100 borrow", "dtor 100", "new 103", "size 103 borrow", "dtor 103"]


def test_imports_by_short_name_and_unknown_keys(ctest):
    for path in ("fast", "wasmtime"):
        log = []
        inst = ctest.instantiate({"host": {"log": log.append}}, path=path)
        assert inst.call("call-log", "short") == 5 and log == ["short"]
    with pytest.raises(DiagnosticError) as exc:
        ctest.instantiate({"hots": {"log": print}})
    assert exc.value.code == "ffi.component.no_import"


def test_callers_keep_their_store_alive(ctest):
    import gc
    f = ctest.instantiate(path="fast").func("add")
    echo = ctest.instantiate(path="fast").func("echo")
    gc.collect()
    assert f(20, 22) == 42 and echo("alive") == "alive"
