"""The router: routing files, both connectors, resources, audit records, fallbacks caused by
real failures (a deleted library, a missing symbol, no compiler on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reml_wasm import cabi, toolchain
from reml_wasm import types as t
from reml_wasm.audit import FFI_CALL_KEYS, WIT_REQUIRED_KEYS, DiagnosticError, read_audit_log
from reml_wasm.connectors import Connector
from reml_wasm.connectors.component import ComponentConnector
from reml_wasm.connectors.native import NativeConnector
from reml_wasm.connectors.plugin import PluginConnector
from reml_wasm.poc import COMPONENT, SOURCE
from reml_wasm.router import Router
from reml_wasm.values import Err, Ok, Record, ValueTypeError, Variant

from router_support import API, WORLD, native_library, router

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("prefer", ["component", "native"])
def test_calls_run_on_the_preferred_connector(prefer):
    with router(prefer) as r:
        assert r.call(f"{API}#greet", "Ada") == "Hello, Ada!"
        assert r.call("api#greet", "Bo") == "Hello, Bo!"          # the short key
        assert r.connector_for("api#greet") == prefer
        assert r.call("api#birthday", Record(name="x", age=1)) == Record(name="x", age=2)
        assert r.call("api#area", Variant("square", 3.0)) == 9.0
        assert r.call("api#invert", frozenset({"write"})) == frozenset({"read", "exec"})
        assert r.call("api#parse-level", "high") == Ok("high")
        assert r.call("api#parse-level", "x") == Err('not a level: "x"')
        assert list(r.call("api#scale", [5, -1], 3)) == [15, -3]
        assert r.call("api#find", ["a", "b"], "c") is None


def test_bound_callable_is_the_same_each_time():
    with router("component") as r:
        f = r.bind("api#greet")
        assert r.bind("api#greet") is f
        assert f("z") == "Hello, z!"


def test_connectors_satisfy_the_protocol(tmp_path):
    comp = ComponentConnector(COMPONENT)
    native = NativeConnector(WORLD, library=native_library())
    plugin = PluginConnector(tmp_path / "nyash.toml")
    for c in (comp, native, plugin):
        assert isinstance(c, Connector)
    assert comp.available() and native.available()
    why = plugin.available()
    assert not why and "nyash.toml" in why.reason
    assert native.symbol(f"{API}#parse-level") == "api_parse_level"
    assert native.symbol(f"{API}#[resource-drop]counter") == "api_dtor_counter"


@pytest.mark.parametrize("prefer", ["component", "native"])
def test_own_is_dropped_exactly_once(prefer):
    with router(prefer) as r:
        c = r.call("api#[constructor]counter", 10)
        assert r.call("api#[method]counter.add", c, 5) == 15
        assert r.call("api#live-counters") == 1
        r.call("api#[resource-drop]counter", c)
        assert r.call("api#live-counters") == 0
        with pytest.raises(DiagnosticError):
            r.call("api#[resource-drop]counter", c)        # a second drop never reaches the guest
        assert r.call("api#live-counters") == 0
        d = r.call("api#[constructor]counter", 1)
        assert r.call("api#finish", d) == 1                 # own passed in: the guest drops it
        assert r.call("api#live-counters") == 0
        with pytest.raises(DiagnosticError):
            r.call("api#[resource-drop]counter", d)         # moved: cannot be dropped again


@pytest.mark.parametrize("prefer", ["component", "native"])
def test_borrow_does_not_outlive_the_call(prefer):
    with router(prefer) as r:
        c = r.call("api#[constructor]counter", 3)
        assert r.call("api#peek", c) == 3                   # lent for the call, still ours
        assert r.call("api#peek", c) == 3
        assert not c.moved
        r.call("api#finish", c)
        with pytest.raises(ValueTypeError):
            r.call("api#peek", c)                           # gone: cannot be lent any more
        lent = cabi.Resource(c.type, c.rep, own=False)
        with pytest.raises(DiagnosticError):
            r.call("api#[resource-drop]counter", lent)      # a borrow is never dropped by the host


def test_closing_releases_what_the_native_library_still_owns():
    with router("native") as r:
        r.call("api#[constructor]counter", 1)
        r.call("api#[constructor]counter", 2)
        assert r.call("api#live-counters") == 2
    with router("native") as r:                  # the same library, loaded once per process
        assert r.call("api#live-counters") == 0


def test_native_rejects_handles_it_did_not_give_out():
    with router("native") as r:
        c = r.call("api#[constructor]counter", 3)
        forged = cabi.Resource(c.type, c.rep + 1000, own=True)
        with pytest.raises(ValueTypeError):
            r.call("api#peek", forged)
        with pytest.raises(ValueTypeError):
            r.call("api#finish", forged)
        assert r.call("api#finish", c) == 3


def test_routing_file(tmp_path):
    shutil.copy(COMPONENT, tmp_path / "poc.wasm")
    (tmp_path / "reml-wasm.toml").write_text(
        f'wit = "{ROOT / "wit" / "poc"}"\ncomponent = "poc.wasm"\nnative = "{native_library()}"\n'
        'audit = "logs/audit.jsonl"\n\n[interface.api]\nprefer = "native"\n')
    with Router.from_file(tmp_path / "reml-wasm.toml") as r:
        assert r.call("api#greet", "A") == "Hello, A!"
        assert r.connector_for("api#greet") == "native"
    records = read_audit_log(tmp_path / "logs" / "audit.jsonl")
    assert len(records) == 1 and records[0]["metadata"]["ffi.router"]["connector"] == "native"


@pytest.mark.parametrize("text, where", [
    ('wit = "w"\nprefer = "fast"\n', 2),
    ('wit = "w"\ncolour = "red"\n', 2),
    ('wit = "w"\n[interface.api]\nfallback = "yes"\n', 3),
    ('component = "c.wasm"\nwit = \n', 2),
    ('prefer = "native"\n', 1),
])
def test_routing_file_errors_are_coded_with_a_line(tmp_path, text, where):
    path = tmp_path / "reml-wasm.toml"
    path.write_text(text)
    with pytest.raises(DiagnosticError) as exc:
        Router.from_file(path)
    d = exc.value.diagnostic
    assert d.code == "ffi.router.config"
    assert d.location is not None and d.location.file == str(path) and d.location.line == where


@pytest.mark.parametrize("audit", [False, True])
def test_a_wrong_argument_count_is_coded(tmp_path, audit):
    with router("component", audit=tmp_path / "a.jsonl" if audit else None) as r:
        with pytest.raises(DiagnosticError) as exc:
            r.call("api#greet", "a", "b")
        assert exc.value.code == "ffi.value.arity"
        assert r.call("api#greet", "a") == "Hello, a!"


def test_unknown_function_is_coded():
    with router("component") as r:
        with pytest.raises(DiagnosticError) as exc:
            r.call("api#nope")
        assert exc.value.code == "ffi.router.unknown_function"


# --- audit ------------------------------------------------------------------------------

def test_every_call_is_one_complete_envelope(tmp_path):
    log = tmp_path / "audit.jsonl"
    with router("native", audit=log) as r:
        for i in range(300):                                # more than one batch
            r.call("api#greet", str(i))
        with pytest.raises(DiagnosticError):
            r.call("api#scale", [1], "not a number")
        r.call("api#live-counters")
    lines = log.read_text().splitlines()
    assert len(lines) == 302
    records = [json.loads(line) for line in lines]
    for rec in records:
        meta = rec["metadata"]
        assert all(k in meta for k in WIT_REQUIRED_KEYS)
        assert list(meta["ffi"]) == [k for k in FFI_CALL_KEYS if k in meta["ffi"]]
        assert meta["ffi"]["event"] == "ffi.call" and meta["ffi"]["latency_ns"] > 0
        assert meta["ffi.wit.package"] == "reml:poc@0.1.0" and meta["ffi.wit.world"] == "poc"
        assert meta["ffi.wit.interface"] == "api" and meta["ffi.wit.direction"] == "export"
        assert meta["ffi.router"] == {"connector": "native"}
    assert [r["metadata"]["ffi.wit.function"] for r in records[:2]] == ["greet", "greet"]
    failed = records[300]
    assert failed["metadata"]["ffi"]["status"] == "failed"
    assert failed["metadata"]["ffi.wit.function"] == "scale"
    assert failed["diagnostics"][0]["code"] == "ffi.call.failed"
    assert failed["diagnostics"][0]["extensions"]["cause"] == "ffi.value.type_mismatch"
    assert records[301]["metadata"]["ffi.wit.function"] == "live-counters"   # order kept


def test_result_errors_are_recorded_with_the_error(tmp_path):
    log = tmp_path / "a.jsonl"
    with router("native", audit=log) as r:
        assert r.call("api#parse-level", "low") == Ok("low")
        assert r.call("api#parse-level", "odd") == Err('not a level: "odd"')
    ok, err = read_audit_log(log)
    assert "diagnostics" not in ok
    assert err["metadata"]["ffi"]["status"] == "success"
    assert err["diagnostics"][0]["code"] == "ffi.wit.result_err"
    assert err["diagnostics"][0]["extensions"]["error"] == 'not a level: "odd"'


def test_audit_names_symbols_per_connector(tmp_path):
    log = tmp_path / "a.jsonl"
    with router("component", audit=log) as r:
        c = r.call("api#[constructor]counter", 1)
        r.call("api#[resource-drop]counter", c)
    with router("native", audit=log) as r:
        c = r.call("api#[constructor]counter", 1)
        r.call("api#[method]counter.get", c)
    recs = [x["metadata"] for x in read_audit_log(log)]
    assert recs[0]["ffi"]["symbol"] == f"{API}#[constructor]counter"
    assert recs[0]["ffi"]["effect_flags"] == ["ffi"]
    assert recs[0]["ffi.wit.ownership"] == "own" and recs[0]["ffi.wit.resource"] == "counter"
    assert recs[1]["ffi.wit.function"] == "[resource-drop]counter"
    assert recs[2]["ffi"]["symbol"] == "api_constructor_counter"
    assert recs[2]["ffi"]["effect_flags"] == ["ffi", "unsafe"]
    assert recs[3]["ffi.wit.ownership"] == "borrow" and recs[3]["ffi.wit.type.kind"] == "method"


def test_audit_off_returns_the_connector_callable():
    with router("native") as r:
        f = r.bind("api#greet")
        assert getattr(f, "export_name", None) == f"{API}#greet"


# --- fallback, with real failures ---------------------------------------------------------

def _fallback_router(tmp_path, audit=True, **route):
    seen = []
    config = {"component": str(COMPONENT), "prefer": "native", "fallback": True, **route}
    r = Router(WORLD, config, audit=tmp_path / "audit.jsonl" if audit else None, on_diagnostic=seen.append)
    return r, seen


def test_fallback_when_the_library_was_deleted(tmp_path):
    lib = tmp_path / "libpoc.so"
    shutil.copy(native_library(), lib)
    lib.unlink()
    r, seen = _fallback_router(tmp_path, native=str(lib))
    with r:
        assert r.call("api#greet", "x") == "Hello, x!"
        assert r.call("api#raise", "low") == "medium"
        assert r.connector_for("api#greet") == "component"
    assert len(seen) == 1 and seen[0].code == "ffi.router.fallback" and seen[0].severity == "warning"
    assert "does not exist" in seen[0].message and str(lib) in seen[0].message
    assert r.diagnostics == seen
    records = read_audit_log(tmp_path / "audit.jsonl")
    assert records[0]["metadata"]["ffi.router"]["event"] == "ffi.router.fallback"
    assert records[0]["diagnostics"][0]["code"] == "ffi.router.fallback"
    assert all(k in records[0]["metadata"] for k in WIT_REQUIRED_KEYS)
    assert [rec["metadata"]["ffi.router"]["connector"] for rec in records[1:]] == ["component", "component"]


def test_fallback_when_a_symbol_is_missing(tmp_path):
    source = SOURCE.read_text()
    cut = source.index('REML_EXPORT(API "#find")')
    end = source.index("/* --- result", cut)
    broken = tmp_path / "poc_nofind.c"
    broken.write_text(source[:cut] + source[end:])
    lib = toolchain.build_native([broken], name="poc_nofind")
    r, seen = _fallback_router(tmp_path, native=str(lib))
    with r:
        assert r.call("api#find", ["a"], "a") == 0
        assert r.connector_for("api#find") == "component"
    assert len(seen) == 1 and "api_find" in seen[0].message


def test_fallback_when_the_library_does_not_load(tmp_path):
    lib = tmp_path / "libpoc.so"
    lib.write_bytes(b"\x7fELF not really a shared object")
    r, seen = _fallback_router(tmp_path, native=str(lib))
    with r:
        assert r.call("api#invert", frozenset()) == frozenset({"read", "write", "exec"})
    assert len(seen) == 1 and "damaged ELF" in seen[0].message   # refused before dlopen


def test_fallback_from_a_broken_component_to_the_native_build(tmp_path):
    wasm = tmp_path / "poc.wasm"
    wasm.write_bytes(COMPONENT.read_bytes()[:1000])            # truncated: does not parse
    seen = []
    r = Router(WORLD, {"component": str(wasm), "native": str(native_library()), "prefer": "component"},
               on_diagnostic=seen.append)
    with r:
        assert r.call("api#greet", "n") == "Hello, n!"
        assert r.connector_for("api#greet") == "native"
    assert len(seen) == 1 and seen[0].extensions["preferred"] == "component"
    assert seen[0].extensions["used"] == "native" and str(wasm) in seen[0].message


def test_no_fallback_means_a_coded_error(tmp_path):
    r = Router(WORLD, {"native": str(tmp_path / "gone.so"), "component": str(COMPONENT), "prefer": "native",
                       "fallback": False})
    with r, pytest.raises(DiagnosticError) as exc:
        r.call("api#greet", "x")
    assert exc.value.code == "ffi.router.unavailable"
    assert "gone.so" in exc.value.diagnostic.message


NO_CC_SCRIPT = """
import sys
from reml_wasm import wit
from reml_wasm.router import Router
world = wit.load(sys.argv[1]).world("poc")
with Router(world, {"source": sys.argv[2], "component": sys.argv[3], "prefer": "native"}) as r:
    print(r.call("api#greet", "no cc"))
    print(r.connector_for("api#greet"))
"""


def test_fallback_when_no_compiler_is_on_path(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(sys.executable, bin_dir / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "PYTHONPATH")}
    env["PATH"] = str(bin_dir)
    env["PYTHONPATH"] = str(ROOT)
    # a fresh cache, so no native build from an earlier run can serve
    env["REML_WASM_CACHE"] = str(tmp_path / "cache")
    proc = subprocess.run([str(bin_dir / "python"), "-c", NO_CC_SCRIPT, str(ROOT / "wit" / "poc"), str(SOURCE),
                           str(COMPONENT)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["Hello, no cc!", "component"]
    assert "warning[ffi.router.fallback]" in proc.stderr and "no C compiler" in proc.stderr
    assert proc.stderr.count("ffi.router.fallback") == 1


def test_plugin_boxes_route_to_the_plugin_connector(tmp_path):
    from reml_wasm import plugin_samples
    config = plugin_samples.write_config(tmp_path, ("counterbox",))
    log = tmp_path / "audit.jsonl"
    with Router(WORLD, {"component": str(COMPONENT), "nyash": str(config)}, audit=log) as r:
        box = r.call("CounterBox#[constructor]CounterBox")
        before = r.call("CounterBox#get", box)
        r.call("CounterBox#[method]CounterBox.inc", box)
        assert r.call("CounterBox#get", box) == before + 1
        assert r.connector_for("CounterBox#get") == "plugin"
        assert r.call("api#greet", "p") == "Hello, p!"
    recs = [x["metadata"] for x in read_audit_log(log)]
    assert recs[0]["ffi.router"]["connector"] == "plugin"
    assert recs[1]["ffi"]["symbol"] == "CounterBox.get"
    assert recs[-1]["ffi.router"]["connector"] == "component"


def test_bid_yaml_transport_is_honoured(tmp_path):
    shutil.copy(COMPONENT, tmp_path / "poc.wasm")
    (tmp_path / "api.yaml").write_text(
        "version: 1\ninterfaces:\n  - name: api\n    transport: { type: wasm_component, location: poc.wasm }\n"
        "    methods:\n      - name: greet\n        params: [ { string: name } ]\n        returns: string\n"
        "  - name: lib\n    transport: { type: dynamic_library, location: ./libx.so }\n"
        "    methods:\n      - name: f\n        returns: i32\n")
    (tmp_path / "reml-wasm.toml").write_text('bid = "api.yaml"\n')
    with Router.from_file(tmp_path / "reml-wasm.toml") as r:
        assert r.call("api#greet", "bid") == "Hello, bid!"
        assert r.connector_for("api#greet") == "component"
        with pytest.raises(DiagnosticError) as exc:   # the Nyash dynamic-library connector: no libx.so
            r.call("lib#f")
        assert exc.value.code == "ffi.plugin.load_failed" and "libx.so" in str(exc.value)
    # a connector registered for the transport name serves it
    (tmp_path / "lib.c").write_text('#include "reml_guest.h"\nREML_EXPORT("lib#f") int32_t lib_f(void) { return 42; }\n')
    native = NativeConnector({"lib#f": t.Function("f", result=t.PrimitiveType("s32"))}, source=tmp_path / "lib.c")
    with Router.from_file(tmp_path / "reml-wasm.toml", connectors={"dynamic_library": native}) as r:
        assert r.call("lib#f") == 42
        assert r.connector_for("lib#f") == "native"


def test_routing_file_with_only_a_component_uses_its_world(tmp_path):
    shutil.copy(COMPONENT, tmp_path / "poc.wasm")
    (tmp_path / "reml-wasm.toml").write_text('component = "poc.wasm"\n')
    with Router.from_file(tmp_path / "reml-wasm.toml") as r:
        assert r.world.exports[0].key == API
        assert r.call("api#greet", "w") == "Hello, w!"
        c = r.call("api#[constructor]counter", 2)
        assert r.call("api#peek", c) == 2
        r.call("api#[resource-drop]counter", c)


def test_no_record_is_lost_when_threads_call_at_once(tmp_path):
    import threading
    log = tmp_path / "audit.jsonl"
    with router("native", audit=log) as r:
        raise_ = r.bind("api#raise")              # int in, int out: no guest memory involved
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(2000):
                    assert raise_("low") == "medium"
            except BaseException as exc:          # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors
    lines = log.read_text().splitlines()
    assert len(lines) == 8000
    assert all(json.loads(line)["metadata"]["ffi.wit.function"] == "raise" for line in lines)


def test_bid_dynamic_library_transport_routes_to_the_nyash_connector(tmp_path):
    """A BID document whose interfaces name a real library: the router serves them through
    the dynamic-library connector (vtable or invoke per method) and audits each call."""
    from reml_wasm import bid_samples
    from reml_wasm.audit import read_audit_log

    document = bid_samples.write_bidfile(tmp_path)
    (tmp_path / "reml-wasm.toml").write_text(f'bid = "{document.name}"\naudit = "audit.jsonl"\n')
    with Router.from_file(tmp_path / "reml-wasm.toml") as r:
        assert r.call("nyash.math#add", 2, 3) == 5
        add = r.bind("nyash.math#add")
        assert [add(i, i) for i in range(3)] == [0, 2, 4]
        assert r.connector_for("nyash.math#add") == "dynamic_library"
    records = [e for e in read_audit_log(tmp_path / "audit.jsonl") if "ffi" in e["metadata"]]
    assert len(records) == 4
    assert all(e["metadata"]["ffi"]["status"] == "success" for e in records)
    assert records[0]["metadata"]["ffi.wit.interface"] == "nyash.math"
