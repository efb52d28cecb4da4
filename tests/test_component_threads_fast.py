"""One fast-path instance called from many threads: every call gets its own answer (the
generated callers share one argument buffer per export and release the GIL inside the
call, so they hold the instance's store lock), host functions the guest calls re-enter
the instance from the same thread without deadlock, and the lock is the instance's."""

import threading

import pytest

from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component

HOST = "reml:ctest/host@0.1.0"


@pytest.fixture(scope="module")
def ctest():
    return Component.from_file(build_ctest())


def _hammer(work, n_threads=8):
    errors = []

    def run(k):
        try:
            work(k)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


def test_eight_threads_on_one_instance_get_their_own_results(ctest):
    log = []
    inst = ctest.instantiate({HOST: {"log": log.append, "scale": lambda v, by: [x * by for x in v]}})
    assert inst.path == "fast"
    add, echo, scale, call_log = (inst.func(n) for n in ("add", "echo", "call-scale", "call-log"))
    wrong = []

    def work(k):
        for j in range(400):
            if add(k, j) != k + j:
                wrong.append(("add", k, j))
            s = f"{k}-{j}-" + "é" * (j % 7)
            if echo(s) != s:
                wrong.append(("echo", s))
            if list(scale([k, j], 3)) != [3 * k, 3 * j]:
                wrong.append(("scale", k, j))
            if j % 50 == 0 and call_log(s) != len(s.encode()):
                wrong.append(("log", s))

    assert _hammer(work) == []
    assert wrong == []
    assert len(log) == 8 * 8


def test_host_function_reenters_the_instance_while_others_wait(ctest):
    box = {}

    def scale(v, by):
        # the guest is inside call-scale: this thread holds the store lock and re-enters it
        assert box["inst"].lock._is_owned()
        return [box["inst"].call("add", x, by) for x in v]

    inst = box["inst"] = ctest.instantiate({HOST: {"log": print, "scale": scale}})
    wrong = []

    def work(k):
        for j in range(200):
            if list(inst.call("call-scale", [k, j], 1)) != [k + 1, j + 1]:
                wrong.append((k, j))

    assert _hammer(work) == []
    assert wrong == []


def test_the_lock_is_shared_by_the_instance_callers(ctest):
    """Holding `instance.lock` keeps every other thread out of the store."""
    inst = ctest.instantiate()
    entered = threading.Event()
    done = []

    def other():
        entered.set()
        done.append(inst.call("add", 2, 3))

    with inst.lock:
        th = threading.Thread(target=other)
        th.start()
        entered.wait()
        th.join(0.2)
        assert done == []            # blocked on the lock we hold
    th.join()
    assert done == [5]
