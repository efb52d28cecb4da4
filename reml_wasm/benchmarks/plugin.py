"""`reml-wasm bench plugin`: the Nyash BID-1 plugin path.

Rows: TLV encode + decode per call (compiled plans and the generic codec); the raw C
call through cffi (PluginLibrary.invoke, no proxy); CounterBox.inc round trip through
the PluginBox proxy; 1000 FileBox open/read/close cycles (the original plan's end-to-end
benchmark).  The original plan's targets (C ABI call < 100 ns, primitive conversion
< 50 ns) are shown beside the figures; they were set for a compiled host.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from .. import plugin_samples, tlv
from ..bid import nyash_toml
from ..connectors.plugin import PluginHost, _ffi
from . import Table, ns_per_call


def run(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    table = Table("plugin: Nyash BID-1 (TLV, cffi ABI mode)", ["case", "ns/op", "target ns", "note"])

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
        config = plugin_samples.write_config(tmp, ("filebox", "counterbox"))
        with PluginHost(nyash_toml.load(config)) as host:
            counter = host.create("CounterBox")
            lib = host.libraries[plugin_samples.COUNTERBOX_LIB]
            iid = counter.instance_id
            buf, len_p, call = _ffi.new("char[]", 256), _ffi.new("size_t *"), lib._invoke

            def bare_call() -> int:
                len_p[0] = 256
                return call(7, 2, iid, tlv.EMPTY, 4, buf, len_p)

            table.add("C call through cffi alone (no host logic)", ns_per_call(bare_call, quick=quick), 100,
                      "libffi floor")
            table.add("PluginLibrary.invoke: CounterBox get",
                      ns_per_call(lambda: lib.invoke(7, 2, iid, tlv.EMPTY), quick=quick), 100,
                      "lock + call + copy")
            table.add("CounterBox.inc() round trip (PluginBox proxy)",
                      ns_per_call(counter.inc, quick=quick), "", "encode, call, decode")

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
            table.add(f"{cycles} FileBox open/read(1 KiB)/close cycles", best / cycles, "",
                      f"total {best / 1e6:.1f} ms (best of {len(samples)})")
    table.notes.append("ns/op: median of timed batches (reml_wasm.benchmarks.ns_per_call); targets from the "
                       "original Nyash plan.")
    table.print(getattr(args, "json", False))
    return 0
