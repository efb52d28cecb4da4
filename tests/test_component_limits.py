"""Guest-side abuse the component connector must turn into coded traps on both paths
(guest: native/amplify/amplify.c, wit/amplify/amplify.wit): lists whose strings all
alias one region (the host-side copy budget, `Sandbox(copy_limit=...)`, kind
`copy-limit`), pointers forged outside memory (kind `memory`, naming the export, also
when the forged pointer is the return area of a host import), and host results of the
wrong type (a precise `ffi.value.type_mismatch`)."""

import pytest

from reml_wasm import cabi, toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component, Sandbox

ROOT = toolchain.PROJECT_ROOT
PATHS = ("fast", "wasmtime")
HOST = "reml:ctest/host@0.1.0"


@pytest.fixture(scope="module")
def amplify():
    return Component.from_file(toolchain.build_component([ROOT / "native" / "amplify" / "amplify.c"],
                                                         ROOT / "wit" / "amplify" / "amplify.wit", "amplify"))


def _imports(seen=None):
    return {"sink": lambda items: (seen.append(len(items)) if seen is not None else None) or len(items),
            "give": lambda: "hello"}


def _trap(call):
    with pytest.raises(cabi.Trap) as exc:
        call()
    return exc.value.diagnostic


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("export", ["many", "push"])
def test_aliasing_lists_hit_the_copy_budget(amplify, path, export):
    """4,096 strings aliasing one 64 KiB region: 256 MiB of copies from a guest of a few
    hundred KiB, refused on both paths (wasmtime's own budget on the reference path)."""
    seen = []
    inst = amplify.instantiate(_imports(seen), path=path)
    diag = _trap(lambda: inst.call(export, 4096, 65536))
    assert diag.extensions["kind"] == "copy-limit", diag.message
    assert diag.message.startswith(f"{export}: "), diag.message
    assert seen == []                                                    # the host function never ran


@pytest.mark.parametrize("path", PATHS)
def test_the_budget_is_per_call(amplify, path):
    inst = amplify.instantiate(_imports(), path=path)
    for _ in range(4):                                                   # 4 x 48 MiB, each call under 128 MiB
        assert len(inst.call("many", 768, 65536)) == 768
    for _ in range(3):                                                   # the host function's copies too
        assert inst.call("push", 768, 65536) == 768


def test_copy_limit_is_configurable(amplify):
    inst = amplify.instantiate(_imports(), sandbox=Sandbox(copy_limit=1 << 20))
    assert len(inst.call("many", 15, 65536)) == 15                       # 960 KiB
    diag = _trap(lambda: inst.call("many", 17, 65536))
    assert diag.extensions["kind"] == "copy-limit" and f"more than {1 << 20} bytes" in diag.message
    big = amplify.instantiate(_imports(), sandbox=Sandbox(copy_limit=1 << 29))
    assert len(big.call("many", 4096, 65536)) == 4096                    # allowed when asked for


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_bad_copy_limit_is_coded(bad):
    with pytest.raises(DiagnosticError) as exc:
        Sandbox(copy_limit=bad)
    assert exc.value.code == "ffi.component.sandbox"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("export, args", [("forged", (0xFFFFFF00, 1000)), ("forged-return", (0xFFFFFFF0,))])
def test_forged_pointers_are_memory_traps_naming_the_export(amplify, path, export, args):
    inst = amplify.instantiate(_imports(), path=path)
    diag = _trap(lambda: inst.call(export, *args))
    assert diag.extensions["kind"] == "memory", diag.message
    assert diag.message.startswith(f"{export}: wasm trap: ")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("bad, where, got", [(None, "result", "got None"), ("x", "result", "got str"),
                                             ([1, "a"], "result[1]", "got str"),
                                             ([2**40], "result[0]", "got int 1099511627776")])
def test_wrong_host_results_are_precise(path, bad, where, got):
    comp = Component.from_file(build_ctest())
    inst = comp.instantiate({HOST: {"log": print, "scale": lambda v, by: bad}}, path=path)
    with pytest.raises(DiagnosticError) as exc:
        inst.call("call-scale", [1], 2)
    assert exc.value.code == "ffi.value.type_mismatch"
    # the message names the host function, then the place in its result
    assert exc.value.diagnostic.message.startswith(f"{HOST}#scale: {where}: expected ")
    assert exc.value.diagnostic.message.endswith(got)
