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


@pytest.mark.parametrize("path, rounds, calls", [("fast", 20, 1000), ("wasmtime", 20, 150)])
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


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_a_second_thread_waits_while_a_call_is_inside_a_host_import(ctest, path):
    import threading
    entered, go = threading.Event(), threading.Event()

    def log(msg):
        entered.set()
        assert go.wait(30)

    inst = ctest.instantiate({"reml:ctest/host@0.1.0": {"log": log}}, path=path)
    results = {}
    a = threading.Thread(target=lambda: results.setdefault("a", inst.call("call-log", "abc")))
    a.start()
    assert entered.wait(30)
    b = threading.Thread(target=lambda: results.setdefault("b", inst.call("add", 40, 2)))
    b.start()
    b.join(0.3)
    assert b.is_alive() and "b" not in results            # serialised: b waits for a's whole call
    go.set()
    a.join(30)
    b.join(30)
    assert results == {"a": 3, "b": 42}


def test_thread_safe_callers_are_handed_out_unwrapped(ctest, monkeypatch):
    """The hook for callers that take `Instance.lock` themselves: `thread_safe = True`."""
    from reml_wasm.connectors.component.instance import FastInstance
    made = FastInstance._make

    def make(self, full, key, func):
        raw = made(self, full, key, func)
        if full == "add":
            def caller(*args):
                with self.lock:
                    return raw(*args)
            caller.thread_safe = True
            return caller
        if full == "echo":  # a callable without the attribute: the instance wraps it
            return lambda *args: raw(*args)
        return raw

    monkeypatch.setattr(FastInstance, "_make", make)
    inst = ctest.instantiate(path="fast")
    add, echo = inst.func("add"), inst.func("echo")
    assert getattr(add, "thread_safe", False) and not hasattr(add, "unserialised")
    assert hasattr(echo, "unserialised")                   # wrapped by the instance
    assert add(1, 2) == 3 and echo("x") == "x"
