"""Deterministic release of component instances: `close()` and `with`, instances freed by
the garbage collector although wasmtime holds their host functions, one shared epoch
ticker thread that stops when unused, and a soak run of tens of thousands of instances
(in a subprocess, whose address space, RSS and thread count must stay flat)."""

import gc
import json
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

from reml_wasm import cabi
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component, Sandbox
from reml_wasm.connectors.component.sandbox import TICKER

HOST = "reml:ctest/host@0.1.0"
STRESS = Path(__file__).with_name("component_stress.py")
PATHS = ("fast", "wasmtime")


@pytest.fixture(scope="module")
def ctest():
    return Component.from_file(build_ctest())


def _host(log=None):
    log = [] if log is None else log
    return {HOST: {"log": log.append, "scale": lambda v, by: [x * by for x in v]}}


def _store(inst):
    return inst.store if inst.path == "fast" else inst._ref.store


def _wait_for(cond, seconds=5.0):
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


@pytest.mark.parametrize("path", PATHS)
def test_close_frees_the_store_and_later_calls_trap(ctest, path):
    inst = ctest.instantiate(_host(), path=path)
    add = inst.func("add")
    assert add(2, 3) == 5
    store = _store(inst)
    inst.close()
    inst.close()  # idempotent
    for attempt in (lambda: add(1, 1), lambda: inst.call("echo", "x"), lambda: inst.func("echo-list")):
        with pytest.raises(cabi.Trap) as exc:
            attempt()
        assert exc.value.diagnostic.extensions["kind"] == "closed"
    with pytest.raises(ValueError, match="closed"):
        store._context()  # wasmtime's store is deleted, not left to the collector


@pytest.mark.parametrize("path", PATHS)
def test_with_block_closes(ctest, path):
    with ctest.instantiate(_host(), path=path) as inst:
        assert inst.call("call-scale", [1, 2], 5) == [5, 10]
    assert inst.closed
    with pytest.raises(cabi.Trap):
        inst.call("add", 1, 2)


@pytest.mark.parametrize("path", PATHS)
def test_close_from_inside_a_call_is_refused(ctest, path):
    box = {}

    def log(msg):
        with pytest.raises(DiagnosticError) as exc:
            box["inst"].close()
        box["code"] = exc.value.code

    inst = box["inst"] = ctest.instantiate({HOST: {"log": log}}, path=path)
    assert inst.call("call-log", "hello") == 5
    assert box["code"] == "ffi.component.busy" and not inst.closed
    assert inst.call("add", 1, 1) == 2


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("timeout", [None, 30.0])
def test_unreachable_instance_with_imports_is_collected(ctest, path, timeout):
    """The host functions wasmtime keeps in its process-wide tables do not keep the
    instance (and its 4 GiB memory reservation) alive."""
    inst = ctest.instantiate(_host(), path=path, sandbox=Sandbox(timeout=timeout))
    assert inst.call("call-scale", [3], 3) == [9]
    refs = [weakref.ref(inst), weakref.ref(_store(inst))]
    del inst
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_one_ticker_thread_for_many_components_stopped_when_unused():
    base = threading.active_count()
    comps = [Component.from_file(build_ctest()) for _ in range(12)]
    insts = [c.instantiate(_host(), sandbox=Sandbox(timeout=10), path=p) for c in comps for p in PATHS]
    assert TICKER.running
    assert threading.active_count() <= base + 1
    assert insts[0].call("spin", 1000) == 1000
    insts[1].close()  # released at once, the others by the collector
    del insts
    gc.collect()
    assert _wait_for(lambda: not TICKER.running)
    assert threading.active_count() <= base
    # and it starts again with the next instance that needs it; timeouts still work
    inst = comps[0].instantiate(sandbox=Sandbox(timeout=0.2))
    with pytest.raises(cabi.Trap) as exc:
        inst.call("spin", 0)
    assert exc.value.diagnostic.extensions["kind"] == "timeout"


def _run_stress(*args, timeout=900):
    proc = subprocess.run([sys.executable, str(STRESS), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", PATHS)
def test_soak_instances_with_imports_and_timeouts(path):
    """50,000 instances with host imports, fuel and a timeout made and dropped one after
    another: after the first tenth the address space and RSS stay flat (one instance
    that is not freed keeps a 4 GiB reservation), the thread count never grows, and the
    ticker thread is gone once nothing needs it."""
    marks = _run_stress("soak", path, 50_000)
    warm, middle, end, idle = marks["warm"], marks["middle"], marks["end"], marks["idle"]
    for later in (middle, end):
        assert later["VmSize"] - warm["VmSize"] < 256 * 1024, marks      # KiB: far below one 4 GiB leak
        assert later["VmRSS"] - warm["VmRSS"] < 24 * 1024, marks
    # the main thread and at most the ticker, which stops once nothing needs it
    assert max(warm["threads"], middle["threads"], end["threads"], marks["peak"]["threads"]) <= 2, marks
    assert idle["threads"] == 1, marks


@pytest.mark.parametrize("path", PATHS)
def test_drop_long_after_the_last_call_runs_under_a_fresh_deadline(ctest, path):
    """A guest destructor run by `drop` gets its own deadline (and fuel), like a call:
    dropping a handle more than `timeout` after the last call must not trap."""
    log = []
    inst = ctest.instantiate(_host(log), sandbox=Sandbox(timeout=0.1, fuel=10**8), path=path)
    handle = inst.call("reml:ctest/counters@0.1.0#[constructor]counter", 1)
    time.sleep(0.4)
    inst.drop(handle)
    assert any("drop" in line or "dtor" in line or "counter" in line for line in log), log


def test_close_unless_busy_leaves_an_instance_with_a_running_call_open(ctest):
    """What interpreter exit uses on the wasmtime path: an instance whose call is running
    (on another thread, or the caller's own host import) is left open; an idle one is
    closed, and later calls trap with kind `closed`."""
    entered, go, seen = threading.Event(), threading.Event(), []

    def scale(v, by):
        seen.append(inst.close_unless_busy())  # from inside its own call
        entered.set()
        go.wait(30)
        return [x * by for x in v]
    inst = ctest.instantiate({HOST: {"log": lambda s: None, "scale": scale}}, path="wasmtime")
    worker = threading.Thread(target=lambda: seen.append(inst.call("call-scale", [2], 5)))
    worker.start()
    assert entered.wait(30)
    assert inst.close_unless_busy() is False and not inst.closed
    go.set()
    worker.join(30)
    assert seen == [False, [10]]
    assert inst.close_unless_busy() is True and inst.closed
    with pytest.raises(cabi.Trap) as exc:
        inst.call("call-scale", [1], 1)
    assert exc.value.diagnostic.extensions["kind"] == "closed"
