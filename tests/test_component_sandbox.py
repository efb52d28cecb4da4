"""Sandbox limits on both paths: fuel stops a runaway guest, a memory limit stops growth,
WASI only when granted; and the fast path's fallback to the reference path."""

import pytest

from reml_wasm import cabi
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import capi as wasmtime_capi
from reml_wasm.connectors.component import Component, Sandbox

PATHS = ("fast", "wasmtime")


@pytest.fixture(scope="module")
def ctest():
    return Component.from_file(build_ctest())


@pytest.mark.parametrize("path", PATHS)
def test_fuel_stops_an_endless_loop(ctest, path):
    inst = ctest.instantiate(sandbox=Sandbox(fuel=200_000), path=path)
    assert inst.call("spin", 100) == 100          # a short loop fits
    with pytest.raises(cabi.Trap) as exc:
        inst.call("spin", 0)                       # forever
    assert exc.value.diagnostic.extensions["kind"] == "fuel"
    again = ctest.instantiate(sandbox=Sandbox(fuel=200_000), path=path)
    assert again.call("add", 1, 1) == 2


@pytest.mark.parametrize("path", PATHS)
def test_fuel_is_per_call(ctest, path):
    """Each call starts with the full budget: many short calls never run out."""
    inst = ctest.instantiate(sandbox=Sandbox(fuel=50_000), path=path)
    assert [inst.call("spin", 1000) for _ in range(50)] == [1000] * 50


@pytest.mark.parametrize("path", PATHS)
def test_memory_limit_traps_the_guest_not_the_host(ctest, path):
    inst = ctest.instantiate(sandbox=Sandbox(memory_limit=4 << 20), path=path)
    start = inst.call("grow", 1)                   # room for one more page
    assert start >= 1
    with pytest.raises(cabi.Trap) as exc:
        inst.call("grow", 256)                      # 16 MiB more: refused, the guest traps
    assert exc.value.diagnostic.extensions["kind"] == "unreachable"
    unlimited = ctest.instantiate(path=path)
    assert unlimited.call("grow", 256) >= start    # the host and other instances live on


@pytest.mark.parametrize("path", PATHS)
def test_memory_limit_stops_a_huge_argument(ctest, path):
    """A 8 MiB string needs guest memory the limit refuses: realloc traps."""
    inst = ctest.instantiate(sandbox=Sandbox(memory_limit=4 << 20), path=path)
    assert inst.call("echo", "x" * 1000) == "x" * 1000
    with pytest.raises(cabi.Trap):
        inst.call("echo", "x" * (8 << 20))


def test_wasi_grant_stays_on_the_fast_path(ctest):
    inst = ctest.instantiate(sandbox=Sandbox(wasi=True), path="fast")
    assert inst.path == "fast"
    assert inst.diagnostics == []
    assert inst.call("add", 2, 2) == 4


def test_without_wasi_grant_nothing_is_linked(ctest):
    for path in PATHS:
        inst = ctest.instantiate(path=path)
        assert inst.path == path and not inst.diagnostics


def test_failed_version_check_falls_back_with_a_warning(ctest, monkeypatch):
    monkeypatch.setattr(wasmtime_capi, "_LOADED", None)
    monkeypatch.setattr(wasmtime_capi, "_REASON", "wasmtime 99.0.0 installed; the fast path is built for 50.x")
    inst = ctest.instantiate(path="fast")
    assert inst.path == "wasmtime"
    assert inst.diagnostics[0].code == "ffi.component.fast_path_unavailable"
    assert "99.0.0" in inst.diagnostics[0].message
    assert inst.call("add", 20, 22) == 42


def test_version_check_rejects_another_major(monkeypatch, tmp_path):
    import importlib.metadata
    # another wasmtime is another library file: the cached binding's index does not name it
    monkeypatch.setenv("REML_WASM_CACHE", str(tmp_path))
    monkeypatch.setattr(wasmtime_capi, "_LOADED", None)
    monkeypatch.setattr(wasmtime_capi, "_REASON", None)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "51.0.0")
    capi, why = wasmtime_capi.load()
    assert capi is None and "51.0.0" in why


@pytest.mark.parametrize("path", PATHS)
def test_timeout_stops_an_endless_loop(ctest, path):
    inst = ctest.instantiate(sandbox=Sandbox(timeout=0.2), path=path)
    assert inst.call("spin", 10) == 10
    with pytest.raises(cabi.Trap) as exc:
        inst.call("spin", 0)
    assert exc.value.diagnostic.extensions["kind"] == "timeout"
    assert ctest.instantiate(sandbox=Sandbox(timeout=0.2), path=path).call("echo", "next") == "next"


@pytest.mark.parametrize("path", PATHS)
def test_timeout_is_per_call(ctest, path):
    """The deadline is set at each call: calls spread over more than the timeout all run."""
    import time
    inst = ctest.instantiate(sandbox=Sandbox(timeout=0.15), path=path)
    out = []
    for _ in range(12):
        out.append(inst.call("echo", "tick"))
        time.sleep(0.02)
    assert out == ["tick"] * 12


@pytest.mark.parametrize("bad", [dict(fuel=0), dict(timeout=-1.0), dict(memory_limit=0), dict(fuel=1.5)])
def test_bad_sandbox_values_are_coded(bad):
    from reml_wasm.audit import DiagnosticError
    with pytest.raises(DiagnosticError) as exc:
        Sandbox(**bad)
    assert exc.value.code == "ffi.component.sandbox"
