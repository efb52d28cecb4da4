"""`reml-wasm bench plugin`: the Nyash BID-1 plugin path.

Rows: TLV encode + decode per call (compiled plans and the generic codec); then, in both
call modes side by side ([abi]: cffi ABI mode through libffi; [api]: the compiled shim of
`connectors/plugin/call.py`, when a C compiler is present), the bare C call, the raw call
through PluginLibrary.invoke (no proxy) and CounterBox.inc round trip through the PluginBox
proxy; last, the FileBox open/read/close cycle in the default mode (the original plan's
end-to-end benchmark is 1000 of them).  Goals, judged on the medians of one run: CounterBox.inc
within 1.3x the bare TLV call, and the original plan's targets (host overhead per C call
< 100 ns, primitive conversion < 50 ns; set for a compiled host).

Then the BID dynamic-library rows (`_bid_rows`), all on the C functions of
native/plugins/bidfile.c: `nyash.math.add(i32, i32)` as a raw cffi call (ABI mode, and API
mode through a module linked to the library), through the validated vtable path of
DynamicLibraryConnector, and through its TLV invoke path, in both call modes, each vtable
figure with its ratio to the raw cffi call in the same mode (goal: at most 1.3x), and the
same interface exported by a WebAssembly component (native/plugins/bidmath_component.c);
last, FileBox open/read(1 KiB)/close cycles on every path that serves them (raw cffi,
vtable, invoke, and the generated typed client over the vtable path).  Every group is
timed in interleaved rounds; figures are medians with their spread.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, Callable

from .. import plugin_samples, tlv
from ..bid import nyash_toml
from ..connectors.plugin import PluginHost, default_mode
from ..connectors.plugin.call import api_unavailable_reason
from . import Table, Timing, interleaved, spread, verdict


COLUMNS = ["case", "ns/op", "spread", "compared with", "ratio", "goal"]
GOAL_VTABLE = 1.3   # the vtable path within this factor of a raw cffi call of the same C function
GOAL_PROXY = 1.3    # CounterBox.inc within this factor of the bare TLV call
GOAL_CALL_NS = 100  # the original plan: C ABI call overhead
GOAL_CONVERT_NS = 50  # the original plan: primitive conversion


def _absolute(t: Timing, goal_ns: float) -> str:
    return f"<= {goal_ns:g} ns: {verdict(t.median, goal_ns)}"


def _overhead(t: Timing, floor: Timing, goal_ns: float) -> str:
    added = t.median - floor.median
    return f"+{added:,.0f} ns <= {goal_ns:g}: {verdict(added, goal_ns)}"


def _relative(ratio: float, goal: float) -> str:
    return f"<= {goal:g}x: {verdict(ratio, goal)}"


def run(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    table = Table("plugin: Nyash BID-1 (TLV; cffi ABI mode vs compiled API mode), ns per operation, "
                  "medians of interleaved rounds", COLUMNS)

    encode = tlv.compile_encoder(["i32", "string"])
    decode = tlv.compile_decoder(["i32"])
    result = tlv.encode(42)
    encode_i32 = tlv.compile_encoder(["i32"])
    compiled, generic, one = interleaved(
        [lambda: decode(result) + len(encode(7, "path")),
         lambda: tlv.decode(result)[0] + len(tlv.encode(7, "path")),
         lambda: decode(encode_i32(7))], quick=quick, label="TLV codecs")
    table.add("TLV encode(i32, string) + decode(i32), compiled", compiled.median, spread(compiled), "", "",
              _absolute(compiled, GOAL_CONVERT_NS))
    table.add("TLV encode + decode, generic codec", generic.median, spread(generic), "compiled plan",
              f"{generic.median / compiled.median:.2f}x", "-")
    table.add("TLV one i32 each way (primitive conversion)", one.median, spread(one), "", "",
              _absolute(one, GOAL_CONVERT_NS))

    with tempfile.TemporaryDirectory(prefix="reml-bench-plugin-") as tmp:
        config = nyash_toml.load(plugin_samples.write_config(tmp, ("filebox", "counterbox")))
        modes = ["abi"] + (["api"] if default_mode() == "api" else [])
        for mode in modes:
            with PluginHost(config, mode=mode) as host:
                for row in _call_rows(host, mode, quick):
                    table.add(*row)
        if len(modes) == 1:
            table.notes.append(f"API mode unavailable here: {api_unavailable_reason()}")
        with PluginHost(config) as host:
            mode = next(iter(host.libraries.values())).mode
            data_file = Path(tmp) / "bench.txt"
            data_file.write_bytes(b"x" * 1024)
            path = str(data_file)
            with host.create("FileBox") as f:
                def cycle() -> None:
                    f.open(path, "r")
                    f.read()
                    f.close()
                t, = interleaved([cycle], quick=quick, label="FileBox cycles")
            table.add(f"[{mode}] FileBox open/read(1 KiB)/close cycle (TLV plugin)", t.median, spread(t), "", "",
                      "-")
    _bid_rows(table, quick)
    table.notes.append("ns/op: median over interleaved rounds of timed batches (reml_wasm.benchmarks.interleaved); "
                       "spread: half the range of the rounds; goals judged by verdict on this run's medians: "
                       f"vtable <= {GOAL_VTABLE:g}x raw cffi of the same mode, CounterBox.inc <= {GOAL_PROXY:g}x "
                       f"the bare TLV call, the original plan's {GOAL_CALL_NS} ns of host overhead per C call and "
                       f"{GOAL_CONVERT_NS} ns per primitive conversion (set for a compiled host); the plan's end-to-end "
                       "benchmark, 1000 FileBox cycles, takes 1000 times a cycle row's figure")
    table.print(getattr(args, "json", False))
    return 0


def _call_rows(host: PluginHost, mode: str, quick: bool) -> list[tuple[Any, ...]]:
    """The bare C call, PluginLibrary.invoke and the proxy round trip in one call mode,
    timed in interleaved rounds."""
    counter = host.create("CounterBox")
    lib = host.libraries[plugin_samples.COUNTERBOX_LIB]
    iid, empty = counter.instance_id, tlv.EMPTY
    if mode == "api":
        lib.invoke(7, 2, iid, empty)                 # makes this thread's result slot
        first, state, slot = lib._call_first, lib._state, lib._per_thread.slot.c

        def bare_call() -> int:
            return first(state, slot, 7, 2, iid, empty, 4)
        floor = "compiled shim: mutex + first attempt in C"
    else:
        res = lib._result
        assert res is not None
        call, buf, cap, len_p = lib._invoke, res.buf, res.cap, res.len_p

        def bare_call() -> int:
            len_p[0] = cap
            return call(7, 2, iid, empty, 4, buf, len_p)
        floor = "libffi"
    bare, invoke, inc = interleaved([bare_call, lambda: lib.invoke(7, 2, iid, empty), counter.inc], quick=quick,
                                    label=f"[{mode}] CounterBox calls")
    return [(f"[{mode}] bare TLV call through cffi ({floor})", bare.median, spread(bare), "", "", "-"),
            (f"[{mode}] PluginLibrary.invoke: CounterBox get", invoke.median, spread(invoke), "bare TLV call",
             f"{invoke.median / bare.median:.2f}x", _overhead(invoke, bare, GOAL_CALL_NS)),
            (f"[{mode}] CounterBox.inc() round trip (PluginBox proxy)", inc.median, spread(inc), "bare TLV call",
             f"{inc.median / bare.median:.2f}x", _relative(inc.median / bare.median, GOAL_PROXY))]


def _raw_api_module(library: Path) -> Any:
    """cffi API mode linked to the library, calling its functions by name (the raw baseline)."""
    from ..cffi_api import build_api_module
    from ..libraries import ResolvedLibrary
    cdef = "int32_t nyash_math_add(int32_t a, int32_t b);"
    return build_api_module(cdef, "#include <stdint.h>\n" + cdef + "\n", ResolvedLibrary(library.name, path=library))


def _bid_rows(table: Table, quick: bool) -> None:
    """The vtable path vs TLV invoke vs raw cffi on the same C functions, and the FileBox cycles."""
    from cffi import FFI

    from .. import bid_samples
    from ..bid import yaml_loader
    from ..connectors.plugin.dynamic import DynamicLibraryConnector

    modes = ["abi"] + (["api"] if default_mode() == "api" else [])
    with tempfile.TemporaryDirectory(prefix="reml-bench-bid-") as tmp:
        doc = yaml_loader.load(bid_samples.write_bidfile(tmp))
        library = Path(tmp) / bid_samples.BIDFILE_LIB
        ffi = FFI()
        ffi.cdef("int32_t nyash_math_add(int32_t a, int32_t b); uint64_t nyash_file_open(const char *p, size_t pl, "
                 "const char *m, size_t ml); int32_t nyash_file_read(uint64_t h, char *out, size_t *out_len); "
                 "void nyash_file_close(uint64_t h);")
        raw_lib: Any = ffi.dlopen(str(library))  # the cdef'd functions are attributes made at run time
        raw = {"abi": raw_lib.nyash_math_add}
        if "api" in modes:
            raw["api"] = _raw_api_module(library).lib.nyash_math_add
        from ..connectors.component import Component
        component_add = Component.from_file(bid_samples.build_bidmath_component()).instantiate().func(
            bid_samples.BIDMATH_INTERFACE + "#add")
        for mode in modes:
            with DynamicLibraryConnector(doc, mode=mode) as vt, DynamicLibraryConnector(doc, mode=mode,
                                                                                      path="invoke") as inv:
                fast, slow, direct = vt.bind("nyash.math#add"), inv.bind("nyash.math#add"), raw[mode]
                fns = [lambda: direct(1, 2), lambda: fast(1, 2), lambda: slow(1, 2)]
                if mode == modes[-1]:
                    fns.append(lambda: component_add(1, 2))
                timings = interleaved(fns, quick=quick, label=f"[{mode}] BID add")
                raw_t, vt_t, inv_t = timings[:3]
                base = f"raw cffi [{mode}]"
                table.add(f"[{mode}] BID add(i32, i32): raw cffi call ("
                          + ("ffi.dlopen, by name)" if mode == "abi" else "API module linked to the library)"),
                          raw_t.median, spread(raw_t), "", "", "-")
                table.add(f"[{mode}] BID add: vtable path (DynamicLibraryConnector)", vt_t.median,
                          spread(vt_t), base, f"{vt_t.median / raw_t.median:.2f}x",
                          f"{_relative(vt_t.median / raw_t.median, GOAL_VTABLE)}; "
                          f"{_overhead(vt_t, raw_t, GOAL_CALL_NS)}")
                table.add(f"[{mode}] BID add: TLV invoke path (same C function)", inv_t.median, spread(inv_t),
                          base, f"{inv_t.median / raw_t.median:.2f}x", "-")
                if len(timings) > 3:
                    comp_t = timings[3]
                    table.add("[component] BID add: the same interface exported by a component (wasmtime)",
                              comp_t.median, spread(comp_t), base, f"{comp_t.median / raw_t.median:.2f}x", "-")
        data_file = Path(tmp) / "bench.txt"
        data_file.write_bytes(b"x" * 1024)
        path = str(data_file)
        cycles: list[tuple[str, Callable[[], Any]]] = [
            ("raw cffi [abi] (hand-written calls)", _raw_cycle(ffi, raw_lib, path))]
        connectors = []
        try:
            for mode in modes:
                for way in ("vtable", "invoke"):
                    c = DynamicLibraryConnector(doc, mode=mode, path=way)
                    connectors.append(c)
                    cycles.append((f"[{mode}] BID {way} path", _bound_cycle(c, path)))
            client = _typed_client(Path(tmp), doc)
            typed = DynamicLibraryConnector(doc)              # the connector has call() and bind()
            connectors.append(typed)
            files = client.FileBox(typed)

            def typed_cycle() -> None:
                with files.open(path, "r") as f:
                    f.read()
            cycles.append((f"[{typed.mode}] typed client (gen python) over the vtable path", typed_cycle))
            timings = interleaved([fn for _, fn in cycles], quick=quick, label="BID FileBox cycles")
        finally:
            for c in connectors:
                c.close()
        raw_cycle = timings[0]
        for (label, _), t in zip(cycles, timings):
            table.add(f"{label}: FileBox open/read(1 KiB)/close cycle", t.median, spread(t),
                      "" if t is raw_cycle else "raw cffi [abi]",
                      "" if t is raw_cycle else f"{t.median / raw_cycle.median:.2f}x", "-")


def _bound_cycle(connector: Any, path: str) -> Callable[[], None]:
    """One FileBox open/read/close cycle through `connector`'s bound functions."""
    open_, read, close = (connector.bind(f"nyash.file#{m}") for m in ("open", "read", "close"))

    def cycle() -> None:
        h = open_(path, "r")
        read(h)
        close(h)
    return cycle


def _typed_client(directory: Path, doc: Any) -> Any:
    """The generated typed client of the sample document, imported from `directory`."""
    import importlib.util

    from ..codegen import python_client
    target = directory / "bidfile_client.py"
    target.write_text(python_client.generate(doc.interfaces, doc.boxes, source="bidfile.bid.yaml"))
    spec = importlib.util.spec_from_file_location("reml_bench_bidfile_client", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw_cycle(ffi: Any, lib: Any, path: str) -> Any:
    encoded = path.encode()
    out, out_len = ffi.new("char[]", 4096), ffi.new("size_t *")

    def cycle() -> None:
        h = lib.nyash_file_open(encoded, len(encoded), b"r", 1)
        out_len[0] = 4096
        if lib.nyash_file_read(h, out, out_len) != 0:
            raise RuntimeError("read failed")
        ffi.unpack(out, out_len[0])
        lib.nyash_file_close(h)
    return cycle
