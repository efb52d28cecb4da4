"""`reml-wasm bench native`: the native connector's cost over raw cffi, and the
canonical-native path next to the component path.

Table 1: ns per call of `int inc(int)` from native/direct/direct.c: raw cffi ABI (a
dlopen'ed lib), raw cffi API (the compiled module's own function) and the connector in
each mode, same run; the goal is connector - raw <= 100 ns in the same mode.  A `char *`
argument row shows what string conversion adds.
Table 2: string and list<u32> calls of the demo guest through the canonical-native path
(Canonical ABI engine at pointer width 8 on the native build), next to the component
connector's fast path and its wasmtime-py reference path.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, cast

import cffi

from .. import toolchain
from ..connectors.native import NativeLibrary
from ..connectors.native import CanonicalNativeLibrary
from . import Table, interleaved, ns_per_call, verdict

DIRECT = toolchain.PROJECT_ROOT / "native" / "direct"
GOAL_NS = 100.0


def direct_table(quick: bool) -> Table:
    path = toolchain.build_native([DIRECT / "direct.c"], include_dirs=[DIRECT], name="direct")
    ffi = cffi.FFI()
    ffi.cdef("int inc(int); size_t text_len(const char *);")
    raw_abi_lib = ffi.dlopen(str(path))
    lib = NativeLibrary.open(str(path))
    table = Table("native: direct C calls (ns/call, medians of interleaved rounds)",
                  ["call", "mode", "raw cffi", "connector", "added", "goal", "spread"])
    for decl, name, args, raw_args in (("int inc(int);", "inc(int) -> int", (41,), (41,)),
                                       ("size_t text_len(const char *);", "text_len(char *) <- str",
                                        ("hello, world",), (b"hello, world",))):
        symbol = decl.split("(")[0].split()[-1].lstrip("*")
        for mode in ("abi", "api"):
            bound: Any = lib.bind_c(decl, mode=mode)  # a callable carrying its raw cffi function as `raw`
            raw = getattr(raw_abi_lib, symbol) if mode == "abi" else bound.raw
            t_raw, t_conn = interleaved([lambda: raw(*raw_args), lambda: bound(*args)], quick=quick)
            added = t_conn.median - t_raw.median
            goal = verdict(added, GOAL_NS) if symbol == "inc" else "-"
            table.add(name, mode, t_raw.median, t_conn.median, added, goal,
                      f"±{max(t_raw.spread, t_conn.spread) * 50:.0f}%")
    table.notes.append(f"goal: the connector adds <= {GOAL_NS:.0f} ns to int(int) in the same mode; "
                       "raw API = the compiled cffi module's own function; the str row encodes UTF-8 per call")
    return table


def _plain_calls(native: CanonicalNativeLibrary) -> dict[str, Callable[[Any], Any]]:
    """The same C functions called by hand through their raw cffi functions, with no
    engine and no checks: realloc, copy in, the call, read the result into the same Python
    values the connector gives (a `str`, an `int`, a `list` of ints), post-return (the
    floor of a canonical-native call)."""
    import array
    import struct

    view, realloc = native.memory.view, getattr(native._realloc, "raw", native._realloc)
    pair = struct.Struct("<QQ")
    # the bound exports carry their raw `core` and `post` functions as attributes
    greet, sum_, reverse = (cast(Any, native.function(n)) for n in ("greet", "sum", "reverse"))

    def plain_greet(name: str) -> str:
        data = name.encode()
        n = len(data)
        p = realloc(0, 0, 1, n)
        view[p:p + n] = data
        r = greet.core(p, n)
        sp, sn = pair.unpack_from(view, r)
        out = str(view[sp:sp + sn], "utf-8")
        greet.post(r)
        return out

    def put_u32(values: list[int]) -> tuple[int, int]:
        # the quickest packing by hand: one struct call for a short list, an array filled
        # by `fromlist` otherwise (quicker than the array constructor and ffi.new)
        n = len(values)
        if n <= 64:
            data: Any = struct.pack(f"<{n}I", *values)
        else:
            numbers = array.array("I")
            numbers.fromlist(values)
            data = memoryview(numbers).cast("B")
        p = realloc(0, 0, 4, 4 * n)
        view[p:p + 4 * n] = data
        return p, n

    def plain_sum(values: list[int]) -> int:
        return sum_.core(*put_u32(values))

    def plain_reverse(values: list[int]) -> list[int]:
        r = reverse.core(*put_u32(values))
        sp, sn = pair.unpack_from(view, r)
        # the quickest list of ints by hand (both quicker than `ffi.unpack` here): the
        # block's memoryview cast to u32 for a short list, an array's `tolist` otherwise
        if sn <= 64:
            out = view[sp:sp + 4 * sn].cast("I").tolist()
        else:
            numbers = array.array("I")
            numbers.frombytes(view[sp:sp + 4 * sn])
            out = numbers.tolist()
        reverse.post(r)
        return out
    return {"greet": plain_greet, "sum": plain_sum, "reverse": plain_reverse}


def canonical_table(quick: bool) -> Table:
    from ..connectors.component import Component

    component_path, native_path = toolchain.build_demo()
    component = Component.from_file(component_path)
    native = CanonicalNativeLibrary.open(str(native_path), component.world)
    fast = component.instantiate(path="fast")
    reference = component.instantiate(path="wasmtime")
    plain = _plain_calls(native)

    table = Table("native: canonical-native vs plain cffi on the same C functions, and the component "
                  "paths (ns/call, medians of interleaved rounds)",
                  ["call", "plain cffi", "canonical-native", "native / plain", "goal", "spread",
                   "component fast path", "component wasmtime-py", "fast / native"])
    small, big = list(range(16)), list(range(1000))
    cases = (("greet(string) -> string", "greet", ("Reml",)),
             ("greet 1 KiB string", "greet", ("x" * 1024,)),
             ("sum(list<u32> x16) -> u64", "sum", (small,)),
             ("sum(list<u32> x1000) -> u64", "sum", (big,)),
             ("reverse(list<u32> x16) -> list<u32>", "reverse", (small,)),
             ("reverse(list<u32> x1000) -> list<u32>", "reverse", (big,)))
    for label, name, args in cases:
        nfn, ffn, rfn, pfn = native.function(name), fast.func(name), reference.func(name), plain[name]
        if pfn(*args) != nfn(*args):
            table.notes.append(f"{label}: the plain call and the canonical-native call differ")
        plain_t, native_t, fast_t = interleaved([lambda: pfn(*args), lambda: nfn(*args), lambda: ffn(*args)],
                                                quick=quick)
        t_plain, t_native, t_fast = plain_t.median, native_t.median, fast_t.median
        t_ref = ns_per_call(lambda: rfn(*args), quick=True)  # information only: far slower, timed briefly
        table.add(label, t_plain, t_native, f"{t_native / t_plain:.2f}x",
                  f"<= 1.5x: {verdict(t_native / t_plain, 1.5)}", f"±{max(plain_t.spread, native_t.spread) * 50:.0f}%",
                  t_fast, t_ref, t_fast / t_native)
    table.notes.append("one C source (native/demo/demo.c): the native build through the Canonical ABI "
                       "engine at pointer width 8, the wasm build through the component connector; "
                       "the world comes from the component binary; plain cffi = the same realloc, "
                       "export and post-return functions called by hand, giving the same Python values "
                       "(str, int, a list of ints: a u32 memoryview's tolist up to 64 items, an array's "
                       "tolist past that; both quicker than ffi.unpack), with none of the connector's "
                       "checks; the connector packs and reads integer lists in C (cabi.scan), which is "
                       "why it may beat the plain calls on them")
    return table


def run(args: argparse.Namespace) -> int:
    quick = getattr(args, "quick", False)
    as_json = getattr(args, "json", False)
    direct_table(quick).print(as_json)
    if not as_json:
        print()
    canonical_table(quick).print(as_json)
    return 0
