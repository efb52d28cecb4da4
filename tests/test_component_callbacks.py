"""Host functions of the fast path reached from C (callbacks.py, entries.py): their
registry entries live as long as the store, instances with host functions are freed,
released entries trap, and a new process finds the compiled wasmtime binding through
its cache index without parsing declarations."""

import gc
import subprocess
import sys
import weakref

import pytest

from reml_wasm import cabi
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component, callbacks

HOST = "reml:ctest/host@0.1.0"


@pytest.fixture(scope="module")
def ctest():
    return Component.from_file(build_ctest())


def _blob_host(store):
    def ctor(data):
        store[len(store) + 1] = bytes(data)
        return len(store)

    return {HOST: {"log": print, "scale": lambda v, by: [x * by for x in v], "[constructor]blob": ctor,
                   "[method]blob.size": lambda self: len(store[self.rep]),
                   "[dtor]blob": lambda rep: store.pop(rep)}}


def test_instances_with_host_functions_are_freed(ctest):
    before = set(callbacks.REGISTRY)
    inst = ctest.instantiate(_blob_host({}))
    assert inst.path == "fast"
    assert list(inst.call("call-scale", [1, 2], 5)) == [5, 10]
    assert inst.call("blob-roundtrip", b"abc") == 3
    mine = set(callbacks.REGISTRY) - before
    assert mine and mine == set(inst.backend.host_keys)
    ref, store_ref = weakref.ref(inst), weakref.ref(inst.store)
    del inst
    gc.collect()
    assert ref() is None and store_ref() is None
    assert not mine & set(callbacks.REGISTRY)   # the store's finalizers released them


def test_a_kept_export_keeps_its_host_functions(ctest):
    scale = ctest.instantiate(_blob_host({})).func("call-scale")
    gc.collect()
    assert list(scale([3], 3)) == [9]


def test_released_host_functions_trap(ctest):
    inst = ctest.instantiate(_blob_host({}))
    assert inst.call("call-log", "hi") == 2
    inst.backend.release_host_functions()
    with pytest.raises(RuntimeError, match="released instance"):
        inst.call("call-log", "hi")
    with pytest.raises(cabi.Trap):
        inst.call("add", 1, 2)                     # the failed call poisoned the instance


def test_host_exception_of_a_resource_method_reaches_the_caller(ctest):
    host = _blob_host({})
    host[HOST]["[method]blob.size"] = lambda self: 1 // 0
    inst = ctest.instantiate(host)
    with pytest.raises(ZeroDivisionError):
        inst.call("blob-roundtrip", b"x")


def test_new_process_uses_the_cached_binding(ctest):
    ctest.instantiate().call("add", 1, 1)         # this process built (or found) the binding
    code = ("import sys\nfrom reml_wasm.connectors.component import capi\n"
            "c, why = capi.load()\n"
            "print(c.mode, 'pycparser' in sys.modules, 'importlib.metadata' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["api", "False", "False"]


@pytest.fixture(scope="module")
def hostbench():
    from reml_wasm.benchmarks.component import build_hostbench
    return Component.from_file(build_hostbench())


TICK = "reml:hostbench/host@0.1.0"


@pytest.mark.parametrize("answer", [lambda x: x, lambda x: 2 ** 32 - 1 - x, lambda x: x * 3])
def test_scalar_host_calls_agree_on_both_paths(hostbench, answer):
    out = [hostbench.instantiate({TICK: {"tick": answer}}, path=p).call("ticks", 100) for p in ("fast", "wasmtime")]
    assert out[0] == out[1] == sum(answer(i) for i in range(100)) % 2 ** 32


@pytest.mark.parametrize("bad", [-1, 2 ** 32, True, 1.0, "1", None])
def test_scalar_host_results_out_of_range_are_coded_errors(hostbench, bad):
    """A host result that is not a u32 is never truncated into one."""
    inst = hostbench.instantiate({TICK: {"tick": lambda x: bad}}, path="fast")
    with pytest.raises(DiagnosticError) as exc:
        inst.call("ticks", 3)
    assert exc.value.code.startswith("ffi.value")


def test_new_process_reuses_the_validation_verdict(ctest):
    """wasmtime compiles a component once to accept it; a later process instantiating the
    same bytes on the fast path finds the verdict in the cache and compiles nothing more."""
    ctest.instantiate().call("add", 1, 1)
    code = ("import sys\nfrom reml_wasm.connectors.component import Component\n"
            "c = Component.from_file(sys.argv[1])\n"
            "i = c.instantiate()\n"
            "print(i.path, i.call('add', 2, 3), len(c._ref_components))\n")
    out = subprocess.run([sys.executable, "-c", code, ctest.source], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["fast", "5", "0"]


def test_new_process_loads_compiled_core_modules(ctest):
    """The core modules' machine code is kept in the cache: a later process deserializes
    it instead of compiling (counted by wrapping wasmtime.Module's constructor)."""
    ctest.instantiate().call("add", 1, 1)
    code = ("import sys, wasmtime\ncompiled = []\ninit = wasmtime.Module.__init__\n"
            "def counting(self, *a, **k):\n    compiled.append(1)\n    init(self, *a, **k)\n"
            "wasmtime.Module.__init__ = counting\n"
            "from reml_wasm.connectors.component import Component\n"
            "i = Component.from_file(sys.argv[1]).instantiate()\n"
            "print(i.path, i.call('add', 2, 3), len(compiled))\n")
    out = subprocess.run([sys.executable, "-c", code, ctest.source], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["fast", "5", "0"]
