"""`reml-wasm bench plugin`: the Nyash BID-1 plugin path.

Rows: TLV encode + decode per call (compiled plans and the generic codec); then, in both
call modes side by side ([abi]: cffi ABI mode through libffi; [api]: the compiled shim of
`connectors/plugin/call.py`, when a C compiler is present), the bare C call, the raw call
through PluginLibrary.invoke (no proxy) and CounterBox.inc round trip through the PluginBox
proxy, timed in interleaved rounds (medians), with CounterBox.inc's ratio to the bare call; last, 1000 FileBox open/read/close cycles in the default mode (the original plan's
end-to-end benchmark).  The original plan's targets (C ABI call < 100 ns, primitive conversion
< 50 ns) are shown beside the figures; they were set for a compiled host.

Then the BID dynamic-library rows (`_bid_rows`), all on the C functions of
native/plugins/bidfile.c: `nyash.math.add(i32, i32)` as a raw cffi call (ABI mode, and API
mode through a module linked to the library), through the validated vtable path of
DynamicLibraryConnector, and through its TLV invoke path, in both call modes, each vtable
figure with its ratio to the raw cffi call in the same mode, and the same interface
exported by a WebAssembly component (native/plugins/bidmath_component.c); last, 1000 FileBox
open/read(1 KiB)/close cycles on every path that serves them (raw cffi, vtable, invoke,
and the generated typed client over the vtable path).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import plugin_samples, tlv
from ..bid import nyash_toml
from ..connectors.plugin import PluginHost, default_mode
from ..connectors.plugin.call import api_unavailable_reason
from . import Table, interleaved, ns_per_call, verdict


def run(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    table = Table("plugin: Nyash BID-1 (TLV; cffi ABI mode vs compiled API mode)",
                  ["case", "ns/op", "target ns", "note"])

    encode = tlv.compile_encoder(["i32", "string"])
    decode = tlv.compile_decoder(["i32"])
    result = tlv.encode(42)
    table.add("TLV encode(i32, string) + decode(i32), compiled",
              ns_per_call(lambda: decode(result) + len(encode(7, "path")), quick=quick), 50, "per call")
    table.add("TLV encode + decode, generic codec",
              ns_per_call(lambda: tlv.decode(result)[0] + len(tlv.encode(7, "path")), quick=quick), "", "")
    encode_i32 = tlv.compile_encoder(["i32"])
    table.add("TLV one i32 each way (primitive conversion)",
              ns_per_call(lambda: decode(encode_i32(7)), quick=quick), 50, "")

    with tempfile.TemporaryDirectory(prefix="reml-bench-plugin-") as tmp:
        config = nyash_toml.load(plugin_samples.write_config(tmp, ("filebox", "counterbox")))
        modes = ["abi"] + (["api"] if default_mode() == "api" else [])
        per_mode = []
        for mode in modes:
            with PluginHost(config, mode=mode) as host:
                per_mode.append(_call_rows(host, mode, quick))
        for rows in zip(*per_mode):          # each case in ABI mode, then API mode
            for row in rows:
                table.add(*row)
        if len(modes) == 1:
            table.notes.append(f"API mode unavailable here: {api_unavailable_reason()}")
        with PluginHost(config) as host:
            mode = next(iter(host.libraries.values())).mode
            data_file = Path(tmp) / "bench.txt"
            data_file.write_bytes(b"x" * 1024)
            path = str(data_file)
            cycles = 200 if quick else 1000
            samples = []
            with host.create("FileBox") as f:
                for _ in range(1 if quick else 3):
                    t0 = time.perf_counter_ns()
                    for _ in range(cycles):
                        f.open(path, "r")
                        f.read()
                        f.close()
                    samples.append(time.perf_counter_ns() - t0)
            best = min(samples)
            table.add(f"[{mode}] {cycles} FileBox open/read(1 KiB)/close cycles", best / cycles, "",
                      f"total {best / 1e6:.1f} ms (best of {len(samples)})")
    _bid_rows(table, quick)
    table.notes.append("ns/op: median of timed batches (reml_wasm.benchmarks.ns_per_call); targets from the "
                       "original Nyash plan.")
    table.print(getattr(args, "json", False))
    return 0


def _call_rows(host: PluginHost, mode: str, quick: bool) -> list[tuple[str, float, Any, str]]:
    """The bare C call, PluginLibrary.invoke and the proxy round trip in one call mode."""
    counter = host.create("CounterBox")
    lib = host.libraries[plugin_samples.COUNTERBOX_LIB]
    iid, empty = counter.instance_id, tlv.EMPTY
    if mode == "api":
        lib.invoke(7, 2, iid, empty)                 # makes this thread's result slot
        first, state, slot = lib._call_first, lib._state, lib._per_thread.slot.c

        def bare_call() -> int:
            return first(state, slot, 7, 2, iid, empty, 4)
        floor = "compiled shim: mutex + first attempt in C"
        host_work = "per-thread buffer + call + copy"
    else:
        res = lib._result
        assert res is not None
        call, buf, cap, len_p = lib._invoke, res.buf, res.cap, res.len_p

        def bare_call() -> int:
            len_p[0] = cap
            return call(7, 2, iid, empty, 4, buf, len_p)
        floor = "libffi"
        host_work = "Python lock + call + copy"
    bare, invoke, inc = interleaved([bare_call, lambda: lib.invoke(7, 2, iid, empty), counter.inc], quick=quick)
    ratio = inc.median / bare.median
    goal = f" (goal <= 1.3x: {verdict(ratio, 1.3)})" if mode == "api" else ""
    return [(f"[{mode}] C call through cffi alone (no host logic)", bare.median, 100, floor),
            (f"[{mode}] PluginLibrary.invoke: CounterBox get", invoke.median, 100, host_work),
            (f"[{mode}] CounterBox.inc() round trip (PluginBox proxy)", inc.median, "",
             f"{ratio:.2f}x the bare call{goal}")]


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
        for mode in modes:
            with DynamicLibraryConnector(doc, mode=mode) as vt, DynamicLibraryConnector(doc, mode=mode,
                                                                                      path="invoke") as inv:
                fast, slow, direct = vt.bind("nyash.math#add"), inv.bind("nyash.math#add"), raw[mode]
                # the compared pair alternates, and each keeps its best median: a busy
                # machine slows whichever happens to run during a burst
                rounds = [(ns_per_call(lambda: direct(1, 2), quick=quick), ns_per_call(lambda: fast(1, 2), quick=quick))
                          for _ in range(1 if quick else 5)]
                raw_ns, vt_ns = min(r for r, _ in rounds), min(v for _, v in rounds)
                table.add(f"[{mode}] BID add(i32, i32): raw cffi call", raw_ns, 100,
                          "ffi.dlopen, by name" if mode == "abi" else "API module linked to the library")
                table.add(f"[{mode}] BID add: vtable path (DynamicLibraryConnector)", vt_ns, 100,
                          f"{vt_ns / raw_ns:.2f}x raw cffi [{mode}] (target <= 1.3x)")
                table.add(f"[{mode}] BID add: TLV invoke path (same C function)",
                          ns_per_call(lambda: slow(1, 2), quick=quick), "", "encode, invoke, decode")
        from ..connectors.component import Component
        component_add = Component.from_file(bid_samples.build_bidmath_component()).instantiate().func(
            bid_samples.BIDMATH_INTERFACE + "#add")
        table.add("[component] BID add: the same interface exported by a component",
                  ns_per_call(lambda: component_add(1, 2), quick=quick), "", "wasmtime, nyash:bid/math")
        data_file = Path(tmp) / "bench.txt"
        data_file.write_bytes(b"x" * 1024)
        path = str(data_file)
        cycles = 200 if quick else 1000
        table.add(*_cycles("raw cffi [abi] (hand-written calls)", _raw_cycle(ffi, raw_lib, path), cycles, quick))
        for mode in modes:
            for way in ("vtable", "invoke"):
                with DynamicLibraryConnector(doc, mode=mode, path=way) as c:
                    open_, read, close = (c.bind(f"nyash.file#{m}") for m in ("open", "read", "close"))

                    def cycle() -> None:
                        h = open_(path, "r")
                        read(h)
                        close(h)
                    table.add(*_cycles(f"[{mode}] BID {way} path", cycle, cycles, quick))
        client = _typed_client(Path(tmp), doc)
        with DynamicLibraryConnector(doc) as c:              # the connector has call() and bind()
            files = client.FileBox(c)

            def typed_cycle() -> None:
                with files.open(path, "r") as f:
                    f.read()
            table.add(*_cycles(f"[{c.mode}] typed client (gen python) over the vtable path", typed_cycle, cycles,
                               quick))


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


def _cycles(label: str, cycle: Any, cycles: int, quick: bool) -> tuple[str, float, Any, str]:
    samples = []
    for _ in range(1 if quick else 3):
        t0 = time.perf_counter_ns()
        for _ in range(cycles):
            cycle()
        samples.append(time.perf_counter_ns() - t0)
    best = min(samples)
    return (f"{label}: {cycles} FileBox open/read(1 KiB)/close cycles", best / cycles, "",
            f"total {best / 1e6:.1f} ms (best of {len(samples)})")
