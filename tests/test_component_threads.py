"""The threading model of the component connector: one instance shared by 8 threads
(mixed exports, host imports, guest resources), one Component instantiated from every
thread at once, and a pool serving all threads give only right answers -- run in a
subprocess, so an abort is a failed run rather than a dead test session.  The pool's
own rules (a trapped instance is replaced) are checked in-process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reml_wasm import cabi
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component

STRESS = Path(__file__).with_name("component_stress.py")


@pytest.mark.parametrize("path, rounds, calls", [("fast", 20, 1000), ("wasmtime", 3, 400)])
def test_threads_get_only_right_answers(path, rounds, calls):
    proc = subprocess.run([sys.executable, str(STRESS), "threads", path, str(rounds), str(calls)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-3000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["n_wrong"] == 0 and out["n_errors"] == 0, out
    assert out["calls"] >= rounds * 8 * calls


@pytest.fixture(scope="module")
def ctest():
    return Component.from_file(build_ctest())


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_pool_replaces_a_trapped_instance(ctest, path):
    with ctest.pool(2, path=path) as pool:
        first = set(map(id, pool._all))
        assert pool.call("add", 40, 2) == 42
        with pytest.raises(cabi.Trap):
            pool.call("divide", 1, 0)
        assert len(pool._all) == 2 and set(map(id, pool._all)) != first
        assert [pool.call("divide", 9, 3) for _ in range(4)] == [3] * 4
        add = pool.func("add")
        assert add(1, 2) == 3
    assert all(inst.closed for inst in (pool._idle.get(), pool._idle.get()))


@pytest.mark.parametrize("n", [0, -1, 5000, 2.0, True])
def test_pool_size_is_checked(ctest, n):
    with pytest.raises(DiagnosticError) as exc:
        ctest.pool(n)
    assert exc.value.code == "ffi.component.pool"
