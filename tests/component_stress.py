"""Stress programs for the component connector, run by the tests in their own process
(`python tests/component_stress.py MODE PATH ...`), so that an abort or a crash shows
as a failed subprocess instead of a dead test run.

threads PATH ROUNDS CALLS: 8 threads share one instance (mixed exports, host imports,
    guest resources) and one Component (instantiating from every thread at once, and a
    pool of 3 instances); every answer is checked.  Prints a JSON summary.
soak PATH COUNT: COUNT instances with host imports and a timeout made and dropped one
    after another; prints the process's VmSize/VmRSS/thread count after the first one, at
    10 %, 50 % and at the end (after a collection), and their peaks between collections.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reml_wasm.audit import DiagnosticError  # noqa: E402
from reml_wasm.benchmarks.component import build_ctest  # noqa: E402
from reml_wasm.connectors.component import Component, Sandbox  # noqa: E402

HOST = "reml:ctest/host@0.1.0"
CTR = "reml:ctest/counters@0.1.0"
THREADS = 8


def host() -> dict:
    return {HOST: {"log": lambda msg: None, "scale": lambda v, by: [x * by for x in v]}}


def _wrap(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def worker_calls(call, tid: int, n: int, wrong: list, errors: list, resources: bool) -> None:
    """Mixed calls whose answers depend on the thread and the iteration."""
    for i in range(n):
        try:
            k = i % 5
            if k == 0:
                got, want = call("add", tid * 100_000 + i, i), _wrap(tid * 100_000 + 2 * i)
            elif k == 1:
                s = f"t{tid}-{i}-" + "é" * (i % 17)
                got, want = call("echo", s), s
            elif k == 2:
                v = [tid, i, 2**32 - 1 - i]
                got, want = list(call("echo-list", v)), v
            elif k == 3:
                got, want = list(call("call-scale", [tid, i], 3)), [3 * tid, 3 * i]
            elif resources:
                c = call(f"{CTR}#[constructor]counter", tid * 1000 + i)
                got = [call(f"{CTR}#[method]counter.bump", c), call(f"{CTR}#finish", c)]
                want = [tid * 1000 + i + 1] * 2
            else:
                got, want = call("add", -tid, -i), -tid - i
            if got != want:
                wrong.append(f"thread {tid} call {i}: got {got!r}, want {want!r}")
        except DiagnosticError as exc:
            errors.append(f"{exc.code}: {exc.diagnostic.message}")


def run_threads(target, args_of) -> None:
    threads = [threading.Thread(target=target, args=args_of(tid)) for tid in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def threads_mode(path: str, rounds: int, calls: int) -> dict:
    comp = Component.from_file(build_ctest())
    wrong: list[str] = []
    errors: list[str] = []
    total = 0
    for _ in range(rounds):
        # one shared instance
        inst = comp.instantiate(host(), path=path)
        run_threads(worker_calls, lambda tid: (inst.call, tid, calls, wrong, errors, True))
        total += THREADS * calls
        inst.close()
        # one shared Component, instantiated from every thread at once
        fresh = Component.from_file(build_ctest())

        def instantiate(tid: int) -> None:
            for i in range(3):
                try:
                    with fresh.instantiate(host(), path=path, sandbox=Sandbox(timeout=30)) as mine:
                        got = mine.call("add", tid, i)
                    if got != tid + i:
                        wrong.append(f"instantiate thread {tid}: got {got}")
                except DiagnosticError as exc:
                    errors.append(f"{exc.code}: {exc.diagnostic.message}")
        run_threads(instantiate, lambda tid: (tid,))
        total += THREADS * 3
        # a pool serving all threads
        with comp.pool(3, host(), path=path) as pool:
            run_threads(worker_calls, lambda tid: (pool.call, tid, calls // 4, wrong, errors, False))
        total += THREADS * (calls // 4)
    return {"calls": total, "wrong": wrong[:20], "errors": errors[:20], "n_wrong": len(wrong),
            "n_errors": len(errors)}


def status() -> dict:
    out = {"threads": threading.active_count()}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmSize", "VmRSS"):
            out[key] = int(value.split()[0])  # KiB
    return out


def soak_mode(path: str, count: int) -> dict:
    comp = Component.from_file(build_ctest())
    sandbox = Sandbox(timeout=60, fuel=10**9)
    marks: dict = {"peak": {"VmSize": 0, "VmRSS": 0, "threads": 0}}
    for i in range(count):
        inst = comp.instantiate(host(), path=path, sandbox=sandbox)
        if inst.call("call-scale", [i], 2) != [2 * i]:
            raise SystemExit(f"wrong answer at instance {i}")
        del inst
        if i == 0:
            marks["start"] = status()  # after the first instance (caches still filling)
        if (i + 1) % 100 == 0:  # between collections: what dropped instances hold at most
            now = status()
            marks["peak"] = {key: max(marks["peak"][key], now[key]) for key in now}
        if i + 1 in (count // 10, count // 2):
            gc.collect()
            marks["warm" if i + 1 == count // 10 else "middle"] = status()
    gc.collect()
    marks["end"] = status()
    time.sleep(0.2)  # the epoch ticker stops at its next tick once no instance needs it
    marks["idle"] = status()
    return marks


def main(argv: list[str]) -> int:
    mode, path = argv[0], argv[1]
    if mode == "threads":
        out = threads_mode(path, int(argv[2]), int(argv[3]))
    else:
        out = soak_mode(path, int(argv[2]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
