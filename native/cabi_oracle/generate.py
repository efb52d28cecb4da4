"""Generate the Canonical ABI oracle guest: oracle.c (here) and wit/cabi-oracle/oracle.wit.

Every export `echo-X: func(v: T) -> T` receives T as flat core values and returns it laid
out in memory (or as its single flat value).  The C store code is generated from the
engine's layout rules (offsets, discriminant sizes, variant slot joins) at both pointer
widths: one source, whose `#if` on UINTPTR_MAX picks the layout of the width it is
compiled for, builds the wasm32 component and the native (64-bit) library.  When
wasmtime.component lifts what the guest returns, it checks the wasm32 rules against
wasmtime's own; the engine is held to wasmtime value for value on the component's core
module (tests/test_cabi_oracle.py, tests/test_component_oracle.py) and on the native
library at width 8 (tests/test_native_oracle.py).

Run `python native/cabi_oracle/generate.py` after changing ORACLE_TYPES.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from reml_wasm import types as t  # noqa: E402
from reml_wasm.cabi.flatten import MAX_FLAT_PARAMS  # noqa: E402
from reml_wasm.cabi.layout import (flatten_type, record_fields, record_offsets, size,  # noqa: E402
                                   variant_cases, variant_layout)
from reml_wasm.toolchain import c_symbol  # noqa: E402

C_PATH = ROOT / "native" / "cabi_oracle" / "oracle.c"
WIT_PATH = ROOT / "wit" / "cabi-oracle" / "oracle.wit"


def _flags(name: str, n: int) -> t.FlagsType:
    return t.FlagsType(name, tuple(f"b{i}" for i in range(n)))


POINT = t.RecordType("point", (t.Field("x", t.S32), t.Field("y", t.F32)))
COLOR = t.EnumType("color", ("red", "green", "blue"))
FLAGS = {n: _flags(f"flags{n}", n) for n in (1, 8, 9, 16, 17, 32)}
SHAPE = t.VariantType("shape", (
    t.Case("empty"), t.Case("circle", t.F32), t.Case("rect", POINT), t.Case("named", t.STRING),
    t.Case("big", t.U64), t.Case("precise", t.F64), t.Case("pair", t.TupleType((t.U8, t.F32)))))
MIXED = t.RecordType("mixed", (
    t.Field("a", t.U8), t.Field("b", t.U64), t.Field("c", t.STRING), t.Field("d", t.ListType(t.U16)),
    t.Field("e", t.OptionType(t.CHAR)), t.Field("f", t.BOOL)))
NEST = t.RecordType("nest", (
    t.Field("shapes", t.ListType(SHAPE)),
    t.Field("tags", t.TupleType((COLOR, FLAGS[8], t.OptionType(t.OptionType(t.U8))))),
    t.Field("table", t.ListType(t.OptionType(t.ResultType(POINT, t.ListType(t.STRING)))))))
WIDE = t.RecordType("wide", tuple(t.Field(f"w{i}", t.U16 if i % 2 else t.F64) for i in range(18)))

NAMED: list[t.Type] = [POINT, COLOR, *FLAGS.values(), SHAPE, MIXED, NEST, WIDE]

# (export suffix, type): one echo export per entry.
ORACLE_TYPES: list[tuple[str, t.Type]] = [
    ("bool", t.BOOL), ("s8", t.S8), ("u8", t.U8), ("s16", t.S16), ("u16", t.U16), ("s32", t.S32),
    ("u32", t.U32), ("s64", t.S64), ("u64", t.U64), ("f32", t.F32), ("f64", t.F64), ("char", t.CHAR),
    ("string", t.STRING),
    ("bytes", t.ListType(t.U8)), ("list-u32", t.ListType(t.U32)), ("list-f64", t.ListType(t.F64)),
    ("list-s8", t.ListType(t.S8)), ("list-string", t.ListType(t.STRING)), ("list-point", t.ListType(POINT)),
    ("list-char", t.ListType(t.CHAR)), ("list-bool", t.ListType(t.BOOL)),
    ("point", POINT), ("tuple", t.TupleType((t.U8, t.STRING, t.F64))),
    ("option-u32", t.OptionType(t.U32)), ("option-option-u8", t.OptionType(t.OptionType(t.U8))),
    ("option-option-string", t.OptionType(t.OptionType(t.STRING))),
    ("result-u32-string", t.ResultType(t.U32, t.STRING)), ("result-unit", t.ResultType()),
    ("result-err-u8", t.ResultType(None, t.U8)), ("result-string", t.ResultType(t.STRING)),
    ("result-u32-u32", t.ResultType(t.U32, t.U32)), ("result-f32-f64", t.ResultType(t.F32, t.F64)),
    ("color", COLOR), *((f"flags{n}", f) for n, f in FLAGS.items()),
    ("shape", SHAPE), ("mixed", MIXED), ("nest", NEST), ("wide", WIDE),
    ("list-list-u8", t.ListType(t.ListType(t.U8))),
]

# More than 16 flat parameters: they arrive spilled behind one pointer, and the result
# (a tuple of the same types, so the same layout) is that very pointer.
MANY_PARAMS: list[t.Type] = [t.U32] * 10 + [t.STRING, t.F64, t.U64, POINT, t.ListType(t.U8)]


def many_function() -> t.Function:
    return t.Function("many", tuple(t.Param(f"p{i}", p) for i, p in enumerate(MANY_PARAMS)),
                      t.TupleType(tuple(MANY_PARAMS)))


def echo_function(suffix: str, ty: t.Type) -> t.Function:
    return t.Function(f"echo-{suffix}", (t.Param("v", ty),), ty)


def functions() -> list[t.Function]:
    return [echo_function(s, ty) for s, ty in ORACLE_TYPES] + [many_function()]


# --- WIT ------------------------------------------------------------------------------------

RESOURCE_WIT = """interface res {
  resource counter {
    constructor(start: u32);
    get: func() -> u32;
    bump: func(by: u32);
  }
  take: func(c: counter) -> u32;
  destroyed: func() -> u32;
  /// Two counters made in one call: the second handle is made while the first is fresh.
  pair: func(a: u32, b: u32) -> tuple<counter, counter>;
  /// Makes two counters, reads their reps back and drops both (their destructors run):
  /// the two handle indices (first + 65536 * second), 0 when a rep read back differs.
  handles: func() -> u32;
}
"""


def wit_text() -> str:
    lines = ["// Generated by native/cabi_oracle/generate.py: do not edit.",
             "package reml:cabi-oracle;", "", RESOURCE_WIT, "world oracle {", "  export res;"]
    for named in NAMED:
        lines.append("  " + named.definition_wit().replace("\n", "\n  "))  # type: ignore[attr-defined]
    for f in functions():
        lines.append(f"  export {f.wit()};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- C ----------------------------------------------------------------------------------------

C_TYPES = {"i32": "uint32_t", "i64": "uint64_t", "f32": "float", "f64": "double"}


def _store_code(ty: t.Type, k: int, off: str, ps: int, depth: int = 1) -> list[str]:
    """C statements writing `ty` at `dst + off` from flat bit patterns f[k...], laid out
    for pointer width `ps`."""
    pad = "  " * depth
    ty = t.unalias(ty)
    fields = record_fields(ty)
    if fields is not None:
        out: list[str] = []
        offsets, _ = record_offsets(fields, ps)
        for ft, o in zip(fields, offsets):
            out += _store_code(ft, k, f"{off} + {o}", ps, depth)
            k += len(flatten_type(ft, ps))
        return out
    cases = variant_cases(ty)
    if cases is not None:
        disc, payload_off, _ = variant_layout(cases, ps)
        out = [f"{pad}switch ((uint32_t)f[{k}]) {{"]
        for i, c in enumerate(cases):
            out.append(f"{pad}case {i}:")
            out.append(f"{pad}  put(dst + {off}, {i}u, {disc});")
            if c is not None:
                out += _store_code(c, k + 1, f"{off} + {payload_off}", ps, depth + 1)
            out.append(f"{pad}  break;")
        out += [f"{pad}default: __builtin_trap();", f"{pad}}}"]
        return out
    if isinstance(ty, t.ListType) and ty.length is not None:
        out = []
        es, nf = size(ty.element, ps), len(flatten_type(ty.element, ps))
        for i in range(ty.length):
            out += _store_code(ty.element, k + i * nf, f"{off} + {i * es}", ps, depth)
        return out
    flat = flatten_type(ty, ps)
    if len(flat) == 2:  # string / list: pointer and length, ps bytes each
        return [f"{pad}put(dst + {off}, f[{k}], {ps});", f"{pad}put(dst + {off} + {ps}, f[{k + 1}], {ps});"]
    return [f"{pad}put(dst + {off}, f[{k}], {size(ty, ps)});"]


def _export(f: t.Function, index: int, ps: int) -> list[str]:
    name = c_symbol(f.name)
    params = [x for p in f.params for x in flatten_type(p.type, ps)]
    results = flatten_type(f.result, ps)  # type: ignore[arg-type]
    if len(params) > MAX_FLAT_PARAMS:
        # spilled parameters: the tuple in memory already is the result's layout
        return [f'REML_EXPORT("{f.name}")', f"void *{name}(void *args) {{ return args; }}", ""]
    args = ", ".join(f"{C_TYPES[c]} p{i}" for i, c in enumerate(params))
    if len(results) == 1:
        return [f'REML_EXPORT("{f.name}")', f"{C_TYPES[results[0]]} {name}({args}) {{ return p0; }}", ""]
    body = [f'REML_EXPORT("{f.name}")', f"void *{name}({args}) {{", f"  uint64_t f[{len(params)}];"]
    body += [f"  f[{i}] = bits_{c}(p{i});" for i, c in enumerate(params)]
    body += [f"  store_{index}(f, ret_area);", "  return ret_area;", "}"]
    return [f"static void store_{index}(const uint64_t *f, uint8_t *dst) {{",
            *_store_code(f.result, 0, "0", ps), "}", "", *body, ""]  # type: ignore[arg-type]


def c_text() -> str:
    funcs = functions()
    area = max(size(f.result, 8) for f in funcs if f.result is not None)  # type: ignore[arg-type]
    out = ["/* Generated by native/cabi_oracle/generate.py: do not edit. */",
           '#include "reml_guest.h"', "",
           f"static uint64_t ret_area_words[{(area + 7) // 8}];",
           "static uint8_t *const ret_area = (uint8_t *)ret_area_words;", "",
           "/* little-endian: the low n bytes of a flat value's bit pattern */",
           "static inline void put(uint8_t *dst, uint64_t bits, int n) { reml_copy(dst, &bits, (size_t)n); }",
           "static inline uint64_t bits_i32(uint32_t x) { return x; }",
           "static inline uint64_t bits_i64(uint64_t x) { return x; }",
           "static inline uint64_t bits_f32(float x) { uint32_t b; reml_copy(&b, &x, 4); return b; }",
           "static inline uint64_t bits_f64(double x) { uint64_t b; reml_copy(&b, &x, 8); return b; }", "",
           "#if UINTPTR_MAX == 0xFFFFFFFFu  /* wasm32: the component */"]
    for i, f in enumerate(funcs):
        out += _export(f, i, 4)
    # the resource interface (written by hand for wasm) is in the component only:
    # resources are not on the canonical-native path
    out += ['#include "counter.h"', "#else  /* 64-bit: the native library */"]
    for i, f in enumerate(funcs):
        out += _export(f, i, 8)
    out.append("#endif")
    return "\n".join(out) + "\n"


def main() -> None:
    C_PATH.write_text(c_text())
    WIT_PATH.parent.mkdir(parents=True, exist_ok=True)
    WIT_PATH.write_text(wit_text())


if __name__ == "__main__":
    main()
