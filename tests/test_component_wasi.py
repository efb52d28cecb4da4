"""WASI only when granted: a guest importing wasi:cli/environment (native/ctest-wasi) runs
without WASI as long as it does not call it; granted, WASI answers on both paths."""

import pytest

from reml_wasm import cabi, toolchain
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component, Sandbox, WasiConfig

ROOT = toolchain.PROJECT_ROOT


@pytest.fixture(scope="module")
def wasi_user():
    return Component.from_file(toolchain.build_component([ROOT / "native/ctest-wasi/wasi.c"],
                                                         ROOT / "wit/ctest-wasi", "wasi-user"))


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_without_grant_wasi_traps_only_when_called(wasi_user, path):
    inst = wasi_user.instantiate(path=path)
    assert inst.path == path
    assert inst.call("ping") == 7
    with pytest.raises(cabi.Trap) as exc:
        inst.call("arg-count")
    d = exc.value.diagnostic
    assert d.extensions["kind"] == "unprovided-import"
    assert d.message.startswith("arg-count: ") and "wasi:cli/environment@0.2.0#get-arguments" in d.message


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_granted_wasi_answers(wasi_user, path):
    inst = wasi_user.instantiate(sandbox=Sandbox(wasi=True), path=path)
    assert inst.path == path and inst.diagnostics == []
    assert inst.call("arg-count") == 0          # WASI's (empty) argument list, not a trap
    assert inst.call("ping") == 7
    granted = wasi_user.instantiate(sandbox=Sandbox(wasi=WasiConfig(args=["prog", "a", "b"])), path=path)
    assert granted.call("arg-count") == 3


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_granted_wasi_keeps_other_imports_trapping(wasi_user, path):
    """With WASI granted, imports that are not WASI and not provided still trap when called."""
    ctest = Component.from_file(build_ctest())
    inst = ctest.instantiate(sandbox=Sandbox(wasi=True), path=path)
    assert inst.call("add", 1, 2) == 3
    with pytest.raises(cabi.Trap) as exc:
        inst.call("call-log", "x")
    assert exc.value.diagnostic.extensions["kind"] == "unprovided-import"
    assert exc.value.diagnostic.message.startswith("call-log: ")
