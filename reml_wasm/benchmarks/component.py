"""`reml-wasm bench component`: ns per call of wasmtime-py, our reference path and the
fast path, next to the floor measured in the same run, with both ratios.

The floor of a case is what a correct host cannot avoid: the guest entries the call
needs (the export, each realloc, post-return, destructors; each timed as one bare
`wasmtime_func_call_unchecked` from Python through cffi), plus copying the payload in
and out.  Host calls are measured per call inside a guest loop (native/hostbench), and
their floor is the same loop calling a bare cffi callback.  Guests: native/ctest
(wit/ctest), the Canonical ABI oracle (native/cabi_oracle) and native/hostbench.

`--cases a,b` picks rows by id (`--cases list` prints the ids).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any, Callable, cast

import wasmtime
import wasmtime.component as wc

from . import Table, Timing, interleaved, verdict
from .. import toolchain
from ..connectors.component import Component
from ..values import Ok, Record, Variant, to_wasmtime

CTEST_WIT = toolchain.PROJECT_ROOT / "wit" / "ctest" / "ctest.wit"
CTEST_SOURCE = toolchain.PROJECT_ROOT / "native" / "ctest" / "ctest.c"
ORACLE_DIR = toolchain.PROJECT_ROOT / "native" / "cabi_oracle"
ORACLE_WIT = toolchain.PROJECT_ROOT / "wit" / "cabi-oracle" / "oracle.wit"
HOSTBENCH_WIT = toolchain.PROJECT_ROOT / "wit" / "hostbench" / "hostbench.wit"
HOSTBENCH_SOURCE = toolchain.PROJECT_ROOT / "native" / "hostbench" / "hostbench.c"
ORACLE_RES = "reml:cabi-oracle/res"

ROUNDS = 3
PROCESS_ROUNDS = 7  # rounds of one new process each (the cold-start row)
HOST_LOOP = 1000  # host calls per guest call in the host-call case


def build_ctest() -> Any:
    return toolchain.build_component([CTEST_SOURCE], CTEST_WIT, "ctest")


def build_oracle() -> Any:
    return toolchain.build_component([ORACLE_DIR / "oracle.c"], ORACLE_WIT, "oracle", include_dirs=[ORACLE_DIR])


def build_hostbench() -> Any:
    return toolchain.build_component([HOSTBENCH_SOURCE], HOSTBENCH_WIT, "hostbench")


@dataclass
class Case:
    """One row: `guest` (ctest / oracle), the export and its arguments; `goal_floor`: the
    fast path within this factor of the floor; `goal_speedup`: at least this many times
    wasmtime-py."""

    id: str
    label: str
    guest: str
    export: str
    args: tuple
    goal_floor: float | None = 2.0
    goal_speedup: float | None = None
    payload: int = 0  # bytes copied each way (the copy floor)
    convert: Callable[[], Any] | None = None  # the host-side conversion no host avoids (bulk rows)


def _u32_conversion(values: list[int]) -> Callable[[], Any]:
    """Python ints to packed u32 and back (the conversion a list<u32> call cannot skip)."""
    import array

    def convert() -> Any:
        out = array.array("I")
        out.frombytes(array.array("I", values).tobytes())
        return out
    return convert


def _cases() -> list[Case]:
    pair = Record(id=7, name="seven", weight=7.5, tags=["a", "bb", "ccc"])
    mixed = Record(a=1, b=2, c="three", d=[4, 5], e="x", f=True)
    return [
        Case("add", "add(s32, s32)", "ctest", "add", (1, 2), goal_speedup=50.0),
        Case("f64", "roundtrip f64", "oracle", "echo-f64", (1.5,), goal_speedup=30.0),
        Case("char", "roundtrip char", "oracle", "echo-char", ("λ",), goal_speedup=30.0),
        Case("flags8", "roundtrip flags8", "oracle", "echo-flags8", (frozenset({"b0", "b5"}),), goal_speedup=30.0),
        Case("flags32", "roundtrip flags32", "oracle", "echo-flags32", (frozenset({"b1", "b17", "b31"}),),
             goal_speedup=30.0),
        Case("enum", "roundtrip enum", "oracle", "echo-color", ("green",), goal_speedup=30.0),
        Case("variant", "variant shape rect(point)", "oracle", "echo-shape",
             (Variant("rect", Record(x=1, y=2.0)),), goal_speedup=30.0),
        Case("option", "option<u32>", "oracle", "echo-option-u32", (7,), goal_speedup=30.0),
        Case("result", "result<u32, string> ok", "oracle", "echo-result-u32-string", (Ok(3),), goal_speedup=30.0),
        Case("tuple", "tuple<u8, string, f64>", "oracle", "echo-tuple", ((1, "ab", 2.5),), goal_speedup=30.0),
        Case("point", "record point (2 scalars)", "oracle", "echo-point", (Record(x=1, y=2.0),), goal_speedup=30.0),
        Case("record", "record mixed (6 fields)", "oracle", "echo-mixed", (mixed,), goal_speedup=30.0),
        Case("pair", "record pair (ctest)", "ctest", "echo-pair", (pair,)),
        Case("str10", "string echo 10 B", "ctest", "echo", ("x" * 10,), goal_speedup=30.0, payload=10),
        Case("str1k", "string echo 1 KB", "ctest", "echo", ("x" * 1000,), payload=1000),
        Case("str100k", "string echo 100 KB", "ctest", "echo", ("x" * 100_000,), payload=100_000),
        Case("u32x1k", "list<u32> echo 1k", "ctest", "echo-list", (list(range(1000)),), payload=4000,
             convert=_u32_conversion(list(range(1000)))),
        Case("strx1k", "list<string> 1k (5 B each)", "oracle", "echo-list-string", (["abcde"] * 1000,),
             payload=5000 + 8000),
    ]


SPECIAL = {
    "resource": "resource ctor + method + drop",
    "host": f"guest->host import (per host call, loop of {HOST_LOOP})",
    "instantiate": "instantiate (ctest, already loaded)",
    "lock": "store lock acquire + release (in every call)",
    "cold": "cold start to first call (new process; ns)",
}


def case_ids() -> list[str]:
    return [c.id for c in _cases()] + list(SPECIAL)


def _raw_wasmtime(comp: Component, imports: Callable[[wc.Linker], None] | None = None) -> Any:
    """wasmtime-py used directly (its own value classes, prepared outside the timing)."""
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    wcomp = wc.Component(engine, comp.data)
    linker = wc.Linker(engine)
    if imports is not None:
        imports(linker)
    linker.define_unknown_imports_as_traps(wcomp)
    return store, linker.instantiate(store, wcomp)


def _raw_call(comp: Component, raw: Any, name: str, call_args: tuple) -> Callable[[], Any]:
    store, instance = raw
    func = comp.world.export(name).function  # type: ignore[union-attr]
    f = instance.get_func(store, name)
    wargs = [to_wasmtime(a, p.type) for a, p in zip(call_args, func.params)]
    return lambda: f(store, *wargs)


class Floor:
    """Bare guest entries through the fast path's binding, in one fast instance."""

    def __init__(self, inst: Any, export: str = "add") -> None:
        caller = inst.func(export)
        self.inst = inst  # the entries below point into its store: it must outlive them
        env = caller.keep_alive
        int_call, ctx, fn, buf, trap = env.get("int_call"), env["ctx"], env["fn"], env["bufp"], env["trap"]
        call = env["call_unchecked"]
        if int_call is not None:
            if len(caller.plan.flat.params) == 2:
                self.entry: Callable[[], Any] = lambda: int_call(ctx, fn, buf, 2, trap, 1, 2)
            else:
                self.entry = lambda: int_call(ctx, fn, buf, 1, trap, 5)
        else:
            self.entry = lambda: call(ctx, fn, buf, 2, trap)

    @staticmethod
    def copy(payload: int) -> Callable[[], Any] | None:
        """Copying `payload` bytes in and out (None for no payload)."""
        if not payload:
            return None
        src, dst = bytes(payload), bytearray(payload)
        view = memoryview(dst)

        def copy() -> bytes:
            view[:] = src
            return bytes(view)
        return copy


def _entries_of(inst: Any, export: str, args: tuple) -> int:
    """Guest entries one call makes: the export, post-return, and every realloc (counted
    by wrapping the options' realloc for one call)."""
    caller = inst.func(export)
    plan = getattr(caller, "plan", None)
    if plan is None:
        return 1
    opts = plan.opts
    n = 1 + (opts.post_return is not None)
    realloc, put_bytes, put_strings = opts.realloc, opts.put_bytes, opts.put_strings
    if realloc is None:
        return n
    count = [0]

    def counting(*a: Any) -> Any:
        count[0] += 1
        return realloc(*a)

    def counting_put(*a: Any) -> Any:
        count[0] += 1
        return put_bytes(*a)  # type: ignore[misc]

    def counting_strings(list_ptr: int, datas: list) -> Any:
        count[0] += len(datas)  # one realloc per string, made from C
        return put_strings(list_ptr, datas)  # type: ignore[misc]
    opts.realloc = counting
    if put_bytes is not None:
        opts.put_bytes = counting_put
    if put_strings is not None:
        opts.put_strings = counting_strings
    try:
        caller(*args)
    finally:
        opts.realloc, opts.put_bytes, opts.put_strings = realloc, put_bytes, put_strings
    # the C glue calls realloc itself for its string parameters (one entry each); the
    # front counts the entries it made in the call
    return n + count[0] + getattr(caller, "reallocs", getattr(caller, "glue_reallocs", 0))


@dataclass
class Row:
    """One table row: medians (ns) of wasmtime-py, the reference path, the fast path and
    the floor; `spread` the widest spread of the timings behind them; `goals` pairs of
    (kind, bound): "floor" (fast/floor at most), "speedup" (wasmtime-py/fast at least),
    "ns" (the fast figure at most)."""

    label: str
    raw: float | None
    ref: float | None
    fast: float
    floor: float | None
    spread: float = 0.0
    goals: list[tuple[str, float]] = field(default_factory=list)
    note: str = ""
    same_work: bool = True  # False: the wasmtime-py column times other work (no ratio shown)

    def goal_cell(self) -> str:
        """Each goal with its verdict on this row's figures, or "-"."""
        cells = []
        for kind, bound in self.goals:
            if kind == "floor" and self.floor:
                cells.append(f"<= {bound:g}x floor: {verdict(self.fast / self.floor, bound)}")
            elif kind == "speedup" and self.raw:
                cells.append(f">= {bound:g}x wasmtime-py: {verdict(self.raw / self.fast, bound, at_most=False)}")
            elif kind == "ns":
                shown = f"{bound / 1e6:g} ms" if bound >= 1e6 else f"{bound:g} ns"
                cells.append(f"<= {shown}: {verdict(self.fast, bound)}")
        return ", ".join(cells) or "-"


def _timed(fns: list[Callable[[], Any] | None], quick: bool, label: str,
           single: bool = False) -> tuple[list[float | None], float]:
    """Medians (ns per call) of `fns` timed in ROUNDS interleaved rounds (None stays None),
    and the widest spread among them; `single`: one call per round (processes)."""
    present = [fn for fn in fns if fn is not None]
    rounds = PROCESS_ROUNDS if single else ROUNDS
    timings = iter(interleaved(present, rounds=rounds, quick=quick, single=single, label=label))
    out: list[Timing | None] = [None if fn is None else next(timings) for fn in fns]
    return [None if t is None else t.median for t in out], max((t.spread for t in out if t is not None), default=0.0)


def _call_rows(selected: list[Case], comps: dict[str, Component], quick: bool) -> list[Row]:
    rows = []
    insts: dict[str, tuple[Any, Any, Any]] = {}
    for case in selected:
        comp = comps[case.guest]
        if case.guest not in insts:
            insts[case.guest] = (_raw_wasmtime(comp), comp.instantiate(path="wasmtime"), comp.instantiate(path="fast"))
        raw, ref, fast = insts[case.guest]
        f_ref, f_fast = ref.func(case.export), fast.func(case.export)
        note = "" if _plain(f_fast(*case.args)) == _plain(f_ref(*case.args)) else "results differ between the paths"
        a = case.args
        floor = Floor(insts["ctest"][2] if "ctest" in insts else comps["ctest"].instantiate())
        n = _entries_of(fast, case.export, a)
        # the floor's parts are timed in the same interleaved rounds as the paths
        (t_raw, t_ref, t_fast, t_entry, t_copy, t_convert), spread = _timed(
            [_raw_call(comp, raw, case.export, a), lambda: f_ref(*a), lambda: f_fast(*a),
             floor.entry, Floor.copy(case.payload), case.convert], quick, case.label)
        t_floor = n * (t_entry or 0.0) + (t_copy or 0.0) + (t_convert or 0.0)
        goals = []
        if case.goal_floor is not None:
            goals.append(("floor", case.goal_floor))
        if case.goal_speedup is not None:
            goals.append(("speedup", case.goal_speedup))
        rows.append(Row(case.label, t_raw, t_ref, t_fast, t_floor, spread,  # type: ignore[arg-type]
                        goals, note or f"{n} entries"))
    return rows


def _resource_row(oracle: Component, quick: bool) -> Row:
    """The oracle's guest-defined `counter`: constructor (which calls resource.new),
    one method, and the host's drop (which runs the guest destructor)."""
    fast = oracle.instantiate(path="fast")
    ref = oracle.instantiate(path="wasmtime")

    def script(inst: Any) -> Callable[[], Any]:
        new, bump = inst.func(f"{ORACLE_RES}#[constructor]counter"), inst.func(f"{ORACLE_RES}#[method]counter.bump")
        drop = inst.drop

        def run() -> Any:
            c = new(5)
            bump(c, 1)
            drop(c)
        return run

    store, instance = _raw_wasmtime(oracle)
    iface = instance.get_export_index(store, ORACLE_RES)
    w_new = instance.get_func(store, instance.get_export_index(store, "[constructor]counter", iface))
    w_bump = instance.get_func(store, instance.get_export_index(store, "[method]counter.bump", iface))

    def raw_run() -> Any:
        c = w_new(store, 5)
        w_bump(store, c, 1)
        c.drop(store)

    floor = Floor(oracle.instantiate(path="fast"), "echo-u32")
    (t_raw, t_ref, t_fast, t_entry), spread = _timed([raw_run, script(ref), script(fast), floor.entry], quick,
                                                     SPECIAL["resource"])
    assert t_fast is not None  # the fast path is always measured
    t_floor = 3 * (t_entry or 0.0)
    return Row(SPECIAL["resource"], t_raw, t_ref, t_fast, t_floor, spread, [("floor", 2.0), ("speedup", 15.0)],
               "3 entries (constructor, method, destructor)")


def _host_row(quick: bool) -> Row:
    """Per host call: (ticks(n) - ticks(0)) / n on each path; the floor runs the same
    core module with `tick` a bare cffi callback."""
    from ..connectors.component import capi as wasmtime_capi, callbacks
    from ..connectors.component.fast import CoreSession

    comp = Component.from_file(build_hostbench())
    host = {"reml:hostbench/host@0.1.0": {"tick": lambda x: x}}
    fast, ref = comp.instantiate(host, path="fast"), comp.instantiate(host, path="wasmtime")
    n = HOST_LOOP

    def per_call(f: Callable[[int], Any]) -> tuple[Callable[[], Any], Callable[[], Any]]:
        return (lambda: f(n)), (lambda: f(0))

    def raw_imports(linker: wc.Linker) -> None:
        with linker.root() as root:
            with root.add_instance("reml:hostbench/host@0.1.0") as inst:
                inst.add_func("tick", lambda store, x: x)
    store, instance = _raw_wasmtime(comp, raw_imports)
    w_ticks = instance.get_func(store, "ticks")

    # the floor: the guest's core module, `tick` a bare callback (its argument is its result)
    capi, why = wasmtime_capi.load()
    if capi is None:
        raise RuntimeError(f"the wasmtime C API is not usable: {why}")
    core = wasmtime.Module(comp.engine(), toolchain.build_core_module([HOSTBENCH_SOURCE]).read_bytes())
    bare_store = wasmtime.Store(comp.engine())
    session = CoreSession(bare_store, capi)
    callbacks.attach(capi)
    key = callbacks.register(lambda raw: 0)
    i32 = wasmtime.ValType.i32()
    tick = capi.new_host_func(session.ctx, wasmtime.FuncType([i32], [i32]), key)
    imports = [tick if imp.name == "tick" else None for imp in core.imports]
    if any(i is None for i in imports):
        raise RuntimeError("the hostbench core module imports more than tick")
    bare_exports = wasmtime.Instance(bare_store, core, cast(list[wasmtime.Func], imports)).exports(bare_store)
    bare_ticks = session.func(cast(wasmtime.Func, bare_exports["ticks"]))

    fns: list[Callable[[], Any] | None] = []
    for f in (lambda k: w_ticks(store, k), ref.func("ticks"), fast.func("ticks"), bare_ticks):
        fns.extend(per_call(f))
    t, spread = _timed(fns, quick, SPECIAL["host"])
    per = [((t[i] or 0) - (t[i + 1] or 0)) / n for i in range(0, len(t), 2)]
    return Row(SPECIAL["host"], per[0], per[1], per[2], per[3], spread, [("floor", 1.5)],
               "floor: the same guest loop calling a bare cffi callback")


def _instantiate_row(ctest: Component, quick: bool) -> Row:
    ctest.instantiate(path="fast")
    ctest.instantiate(path="wasmtime")
    engine = ctest.engine()
    wcomp = ctest.compiled()

    def raw() -> Any:
        store = wasmtime.Store(engine)
        linker = wc.Linker(engine)
        linker.define_unknown_imports_as_traps(wcomp)
        return linker.instantiate(store, wcomp)

    def first_call(path: str) -> Callable[[], Any]:
        return lambda: ctest.instantiate(path=path).call("add", 1, 2)

    (t_raw, t_ref, t_fast), spread = _timed([raw, first_call("wasmtime"), first_call("fast")], quick,
                                            SPECIAL["instantiate"])
    assert t_fast is not None  # the fast path is always measured
    return Row(SPECIAL["instantiate"], t_raw, t_ref, t_fast, None, spread, [("ns", 2e6)],
               "instantiate + first call (ours); wasmtime-py: linker.instantiate only", same_work=False)


def _lock_row(ctest: Component, quick: bool) -> Row:
    """What the store lock costs a call: in the C glue (API mode) an acquire/release pair
    of the record's mutex, timed as 1,000 pairs per crossing in C minus an empty crossing;
    the Python callers' pair (`Instance.lock`, the fallback) is in the note."""
    inst = ctest.instantiate(path="fast")
    acquire, release = inst.lock.acquire, inst.lock.release

    def locked() -> None:
        acquire()
        release()

    def empty() -> None:
        pass
    add = inst.func("add")
    backend: Any = getattr(inst, "backend", None)
    record = None if backend is None else backend.state.record
    if record is None:  # ABI mode: the Python callers' threading.RLock is the lock
        (t_lock, t_empty, t_add), spread = _timed([locked, empty, lambda: add(1, 2)], quick, SPECIAL["lock"])
        return Row(SPECIAL["lock"], None, None, max((t_lock or 0.0) - (t_empty or 0.0), 0.0), None, spread,
                   [("ns", 50.0)],
                   f"of {t_add:,.0f} ns per add() call (an empty Python call, {t_empty:,.0f} ns, subtracted)")
    cycle = backend.capi.lib.reml_store_cycle
    (t_c1000, t_c0, t_lock, t_empty, t_add), spread = _timed(
        [lambda: cycle(record, 1000), lambda: cycle(record, 0), locked, empty, lambda: add(1, 2)], quick,
        SPECIAL["lock"])
    in_c = max((t_c1000 or 0.0) - (t_c0 or 0.0), 0.0) / 1000
    py = max((t_lock or 0.0) - (t_empty or 0.0), 0.0)
    return Row(SPECIAL["lock"], None, None, in_c, None, spread, [("ns", 50.0)],
               f"in the C glue, of {t_add:,.0f} ns per add() call; Python callers' pair {py:,.0f} ns")


def _cold_row(quick: bool) -> Row:
    """The first-call row of `bench startup` (new processes, interleaved rounds), next to
    `python -c pass` as its floor."""
    import sys

    from . import startup
    first = startup.first_call_command()
    (t_pass, t_first), spread = _timed([lambda: startup.wall_ms([sys.executable, "-c", "pass"], 1),
                                        lambda: startup.wall_ms(first, 1)], quick, SPECIAL["cold"], single=True)
    assert t_first is not None
    return Row(SPECIAL["cold"], None, None, t_first, t_pass, spread, [("ns", startup.GOAL_FIRST_CALL_S * 1e9)],
               "floor column: python -c pass (see `bench startup`)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "startup", False):
        return run_startup(args)
    wanted = getattr(args, "cases", None)
    ids = case_ids()
    if wanted == "list":
        print("\n".join(ids))
        return 0
    selected_ids = ids if not wanted else [c.strip() for c in wanted.split(",") if c.strip()]
    unknown = [c for c in selected_ids if c not in ids]
    if unknown:
        from ..audit import error
        raise error("bench.unknown_case", f"unknown case(s) {', '.join(unknown)} (known: {', '.join(ids)})")
    quick = bool(getattr(args, "quick", False))
    t0 = time.perf_counter()
    comps = {"ctest": Component.from_file(build_ctest())}
    selected = [c for c in _cases() if c.id in selected_ids]
    if any(c.guest == "oracle" for c in selected):
        comps["oracle"] = Component.from_file(build_oracle())
    rows = _call_rows(selected, comps, quick)
    if "resource" in selected_ids:
        comps.setdefault("oracle", Component.from_file(build_oracle()))
        rows.append(_resource_row(comps["oracle"], quick))
    if "host" in selected_ids:
        rows.append(_host_row(quick))
    if "instantiate" in selected_ids:
        rows.append(_instantiate_row(comps["ctest"], quick))
    if "lock" in selected_ids:
        rows.append(_lock_row(comps["ctest"], quick))
    if "cold" in selected_ids:
        rows.append(_cold_row(quick))
    table = Table("component calls, ns per call (median of interleaved rounds): wasmtime-py (its own values) / "
                  "our reference path (wasmtime.component + value conversion) / fast path / floor (bare entries + "
                  "copies)",
                  ["case", "wasmtime-py", "reference", "fast", "floor", "fast/floor", "wasmtime-py/fast", "spread",
                   "goal", "note"])
    for r in rows:
        table.add(r.label, _cell(r.raw), _cell(r.ref), r.fast, _cell(r.floor),
                  "" if r.floor is None or r.floor <= 0 else f"{r.fast / r.floor:.2f}x",
                  "" if r.raw is None or not r.same_work else f"{r.raw / r.fast:.1f}x", f"±{r.spread * 50:.0f}%",
                  r.goal_cell(), r.note)
    rounds = 1 if quick else ROUNDS
    table.notes.append(f"each figure is the median of {rounds} interleaved rounds (each round a median of "
                       f"batches; the cold-start row: {1 if quick else PROCESS_ROUNDS} rounds of one process); spread: the widest (high - low) / 2 / median of "
                       "the timings behind a row; goals are judged on the ratios of this run; "
                       f"the run took {time.perf_counter() - t0:.0f} s")
    table.print(getattr(args, "json", False))
    return 0


def _cell(v: float | None) -> Any:
    return "" if v is None else v


def _plain(v: Any) -> Any:
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Record):
        return {k: _plain(x) for k, x in v.fields().items()}
    return v


# --- start-up: first vs cached `reml-wasm call` -------------------------------------------

STARTUP_GOAL_SECONDS = 1.0
CACHED_RUNS = 3  # cached calls per path (the first call compiles once)


def build_python_guest() -> Any:
    """The componentize-py build of wit/wasi-real (an ~18 MB component)."""
    root = toolchain.PROJECT_ROOT
    return toolchain.build_python_component(root / "native" / "wasi-real" / "py", "app",
                                            root / "wit" / "wasi-real", "real")


def _timed_call(wasm: Any, path: str, cache_dir: str) -> tuple[float, str]:
    """Wall-clock seconds of one `reml-wasm call` process (interpreter start included)."""
    import os
    import subprocess
    import sys
    import time

    env = dict(os.environ, REML_WASM_CACHE=cache_dir)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "call", "--allow-wasi", "--path", path, str(wasm),
                           'api#greet("bench")'], capture_output=True, text=True, env=env,
                          cwd=str(toolchain.PROJECT_ROOT), timeout=900)
    elapsed = time.perf_counter() - t0
    return elapsed, proc.stdout.strip() if proc.returncode == 0 else f"failed: {proc.stderr.strip()[-200:]}"


def run_startup(args: argparse.Namespace) -> int:
    """`reml-wasm bench component --startup`: seconds of a first `reml-wasm call` on the
    componentize-py component (empty compiled cache: wasmtime compiles) and of the second
    one (compiled code loaded from the cache), per path, in one run."""
    import tempfile

    wasm = build_python_guest()
    size = wasm.stat().st_size / 1e6
    table = Table(f"reml-wasm call start-up, seconds per process (cached: median of {CACHED_RUNS} runs): "
                  f"componentize-py component ({size:.1f} MB)",
                  ["path", "first (compiles)", "cached", "speed-up", "spread", "goal"])
    for path in ("fast", "wasmtime"):
        with tempfile.TemporaryDirectory(prefix="reml-wasm-startup-") as cache_dir:
            first, out1 = _timed_call(wasm, path, cache_dir)
            cached = [_timed_call(wasm, path, cache_dir) for _ in range(CACHED_RUNS)]
        seconds = sorted(t for t, _ in cached)
        second = seconds[len(seconds) // 2]
        outs = {out for _, out in cached} | {out1}
        if len(outs) != 1 or out1.startswith("failed"):
            table.notes.append(f"{path}: outputs differ or failed: {sorted(outs)!r}")
        table.add(path, first, second, f"{first / second:.1f}x", f"±{(seconds[-1] - seconds[0]) / second * 50:.0f}%",
                  f"cached <= {STARTUP_GOAL_SECONDS:.0f} s: {verdict(second, STARTUP_GOAL_SECONDS)}")
    table.notes.append("each figure is one process (python -m reml_wasm call --allow-wasi ... "
                       "'api#greet(\"bench\")'), interpreter start-up included; the compiled cache starts empty "
                       "for the first call of each path")
    table.print(getattr(args, "json", False))
    return 0
