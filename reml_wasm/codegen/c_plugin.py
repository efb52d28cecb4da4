"""C plugin skeletons (Nyash BID-1) from interfaces of the type model.

Each interface becomes one Box: a C source with one handler per method (each answers a
default value: 0, false, "", no bytes, the box itself for a handle, nothing for void),
the invoke dispatcher that decodes the TLV arguments and encodes the answer, birth/fini
bookkeeping, and a nyash.toml naming every method with its id and typed arguments.  The
same handlers also serve the direct path: `nyash_bid_version()` and one
`nyash_<interface>_vtable` per interface (nyash_bid.h) whose entries are wrappers taking
native arguments and calling the handler on the Box's interface-level state, which is
also what invoke uses for instance id 0.  The skeleton compiles and loads as is, through
a nyash.toml (PluginHost) or a BID document with a dynamic_library transport; a plugin
author fills in the handlers.

Type ids: the interface's `type_id` when given, else 100, 101, ... in order.  Method ids:
1, 2, ... in declaration order (0 = birth, 0xFFFFFFFF = fini).  An interface without a
Box name is a singleton Box named after the interface (`env.console` -> `EnvConsole`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from .. import types as t
from ..audit import error
from ..connectors.plugin.vtable import vtable_symbol
from ..tlv import kind_for_type

if TYPE_CHECKING:
    from ..bid.yaml_loader import BidDocument

__all__ = ["PluginBoxSpec", "generate", "box_name_for", "HEADER_PATH", "BID_HEADER_PATH", "FIRST_TYPE_ID"]

HEADER_PATH = Path(__file__).resolve().parent.parent.parent / "native" / "include" / "nyash_plugin.h"
BID_HEADER_PATH = HEADER_PATH.with_name("nyash_bid.h")
FIRST_TYPE_ID = 100


@dataclass(frozen=True)
class PluginBoxSpec:
    interface: t.Interface
    box: str
    type_id: int
    singleton: bool
    effects: Mapping[str, tuple[str, ...]]


def box_name_for(interface_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._-]+", interface_name) if part)


def _kind(typ: t.Type | None, where: str) -> str:
    try:
        return kind_for_type(typ)
    except KeyError:
        raise error("ffi.gen.unsupported_type",
                    f"{where}: type {typ.wit() if typ else 'void'} has no TLV form (BID-1 carries "
                    "bool, s32, s64, f32, f64, string, list<u8> and handles)") from None


_C_PARAM = {
    "bool": "int {n}", "i32": "int32_t {n}", "i64": "int64_t {n}", "f32": "float {n}",
    "f64": "double {n}", "string": "const char *{n}, size_t {n}_len",
    "bytes": "const uint8_t *{n}, size_t {n}_len", "handle": "uint32_t {n}_type, uint32_t {n}_instance",
}
_C_OUT = {
    "bool": "int *out", "i32": "int32_t *out", "i64": "int64_t *out", "f32": "float *out",
    "f64": "double *out", "string": "const char **out, size_t *out_len",
    "bytes": "const uint8_t **out, size_t *out_len", "handle": "uint32_t *out_type, uint32_t *out_instance",
}
_C_DECL = {
    "bool": "int {n} = 0;", "i32": "int32_t {n} = 0;", "i64": "int64_t {n} = 0;", "f32": "float {n} = 0;",
    "f64": "double {n} = 0;", "string": "const char *{n} = NULL; size_t {n}_len = 0;",
    "bytes": "const uint8_t *{n} = NULL; size_t {n}_len = 0;",
    "handle": "uint32_t {n}_type = 0, {n}_instance = 0;",
}
_C_READ = {
    "bool": "nyash_tlv_read_bool(&r, &{n})", "i32": "nyash_tlv_read_i32(&r, &{n})",
    "i64": "nyash_tlv_read_i64(&r, &{n})", "f32": "nyash_tlv_read_f32(&r, &{n})",
    "f64": "nyash_tlv_read_f64(&r, &{n})", "string": "nyash_tlv_read_string(&r, &{n}, &{n}_len)",
    "bytes": "nyash_tlv_read_data(&r, &{n}, &{n}_len)",
    "handle": "nyash_tlv_read_handle(&r, &{n}_type, &{n}_instance)",
}
_C_ARGS = {"string": "{n}, {n}_len", "bytes": "{n}, {n}_len", "handle": "{n}_type, {n}_instance"}
_FIXED_RESULT = {"void": 0, "bool": 1, "i32": 4, "i64": 8, "f32": 4, "f64": 8, "handle": 8}
_DEFAULT = {
    "bool": "*out = 0;", "i32": "*out = 0;", "i64": "*out = 0;", "f32": "*out = 0.0f;", "f64": "*out = 0.0;",
    "string": '*out = ""; *out_len = 0;', "bytes": "*out = NULL; *out_len = 0;",
    "handle": "*out_type = {type_id}u; *out_instance = self_id;",
}
_PUT = {
    "bool": "nyash_tlv_put_bool(&w, out);", "i32": "nyash_tlv_put_i32(&w, out);",
    "i64": "nyash_tlv_put_i64(&w, out);", "f32": "nyash_tlv_put_f32(&w, out);",
    "f64": "nyash_tlv_put_f64(&w, out);", "string": "nyash_tlv_put_string(&w, out, out_len);",
    "bytes": "nyash_tlv_put_bytes(&w, out, out_len);", "handle": "nyash_tlv_put_handle(&w, out_type, out_instance);",
    "void": "nyash_tlv_put_void(&w);",
}
_OUT_DECL = {
    "bool": "int out = 0;", "i32": "int32_t out = 0;", "i64": "int64_t out = 0;", "f32": "float out = 0;",
    "f64": "double out = 0;", "string": "const char *out = \"\"; size_t out_len = 0;",
    "bytes": "const uint8_t *out = NULL; size_t out_len = 0;", "handle": "uint32_t out_type = 0, out_instance = 0;",
}
_OUT_ARGS = {"string": ", &out, &out_len", "bytes": ", &out, &out_len", "handle": ", &out_type, &out_instance",
             "void": ""}


def _c_ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


_C_RESERVED = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline
int long register restrict return short signed sizeof static struct switch typedef union unsigned
void volatile while bool true false _Bool _Complex _Imaginary self self_id out out_len out_type
out_instance NULL
""".split())


def _c_param(name: str) -> str:
    """A parameter's C name in a handler: the BID name unless C or the skeleton uses it."""
    ident = _c_ident(name)
    return ident + "_" if ident in _C_RESERVED or ident.startswith("__") else ident


def _box_source(spec: PluginBoxSpec) -> str:
    b = _c_ident(spec.box)
    tid = spec.type_id
    lines: list[str] = []
    add = lines.append
    add(f"/* ---- {spec.box} (type {tid}{', singleton' if spec.singleton else ''}): "
        f"interface {spec.interface.name} ---- */\n")
    add(f"typedef struct {{\n    int used;\n    /* TODO: the state of one {spec.box} */\n}} {b}State;\n")
    add(f"static {b}State *{b}_table = NULL;   /* slot i holds instance id i + 1 */")
    add(f"static size_t {b}_table_len = 0;")
    add(f"static {b}State {b}_static;             /* interface-level calls: the vtable, instance id 0 */\n")
    methods = []
    for index, fn in enumerate(spec.interface.functions, start=1):
        where = f"{spec.interface.name}.{fn.name}"
        kinds = [(_c_param(p.name), _kind(p.type, f"{where}({p.name})")) for p in fn.params]
        c_names = [x for n, k in kinds for x in _C_ARGS.get(k, "{n}").format(n=n).split(", ")]
        if len(set(c_names)) != len(c_names):
            raise error("ffi.gen.name_clash", f"{where}: parameter names clash in C ({', '.join(c_names)}); "
                        "rename one (a string or bytes parameter `x` also uses `x_len`)")
        ret = _kind(fn.result, f"{where} result")
        methods.append((index, fn, kinds, ret))
        sig = ", ".join([f"{b}State *self", "uint32_t self_id"] + [_C_PARAM[k].format(n=n) for n, k in kinds]
                        + ([] if ret == "void" else [_C_OUT[ret]]))
        effect = spec.effects.get(fn.name)
        decl = ", ".join(f"{p.name}: {_kind(p.type, where)}" for p in fn.params)
        add(f"/* {fn.name}({decl}) -> {ret}{'  [effect: ' + ', '.join(effect) + ']' if effect else ''}")
        if ret in ("string", "bytes"):
            add(" * The answer must stay valid until the next call; this handler may run twice per call")
            add(" * (once to learn the size when the host's buffer is short), so keep it free of side effects.")
        add(" */")
        add(f"static int32_t {b}_method_{_c_ident(fn.name)}({sig}) {{")
        unused = ["self", "self_id"] + [x for n, k in kinds for x in _C_ARGS.get(k, "{n}").format(n=n).split(", ")]
        add("    " + " ".join(f"(void){u};" for u in unused))
        add(f"    /* TODO: implement {fn.name} */")
        if ret != "void":
            add("    " + _DEFAULT[ret].format(type_id=tid))
        add("    return NYB_SUCCESS;\n}\n")

    add(f"static int32_t {b}_invoke(uint32_t method_id, uint32_t instance_id, const uint8_t *args, size_t args_len,")
    add("                          uint8_t *result, size_t *result_len) {")
    add("    int32_t rc;")
    add("    if (method_id == NYASH_METHOD_BIRTH) {")
    add("        if ((rc = nyash_tlv_expect_empty(args, args_len)) != NYB_SUCCESS) return rc;")
    add("        if ((rc = nyash_result_reserve(result, result_len, 4)) != NYB_SUCCESS) return rc;")
    add(f"        for (size_t i = 0; i < {b}_table_len; i++) {{")
    add(f"            if (!{b}_table[i].used) {{")
    add(f"                memset(&{b}_table[i], 0, sizeof {b}_table[i]);")
    add(f"                {b}_table[i].used = 1;")
    add("                return nyash_write_instance_id(result, result_len, (uint32_t)(i + 1));")
    add("            }")
    add("        }")
    add(f"        {b}State *grown = realloc({b}_table, ({b}_table_len + 1) * sizeof *grown);")
    add("        if (grown == NULL) return NYB_E_OUT_OF_MEMORY;")
    add(f"        {b}_table = grown;")
    add(f"        memset(&{b}_table[{b}_table_len], 0, sizeof *grown);")
    add(f"        {b}_table[{b}_table_len].used = 1;")
    add(f"        {b}_table_len++;")
    add(f"        return nyash_write_instance_id(result, result_len, (uint32_t){b}_table_len);")
    add("    }")
    add(f"    if (instance_id > {b}_table_len || (instance_id != 0 && !{b}_table[instance_id - 1].used))")
    add("        return NYB_E_INVALID_HANDLE;")
    add("    if (instance_id == 0 && method_id == NYASH_METHOD_FINI) return NYB_E_INVALID_HANDLE;")
    add(f"    {b}State *self = instance_id == 0 ? &{b}_static : &{b}_table[instance_id - 1];")
    add("    NyashTlvReader r;")
    add("    NyashTlvWriter w;")
    add("    switch (method_id) {")
    for index, fn, kinds, ret in methods:
        add(f"    case {index}: {{  /* {fn.name} */")
        for n, k in kinds:
            add("        " + _C_DECL[k].format(n="a_" + n))
        add("        if ((rc = nyash_tlv_reader_init(&r, args, args_len)) != NYB_SUCCESS) return rc;")
        for n, k in kinds:
            add(f"        if ((rc = {_C_READ[k].format(n='a_' + n)}) != NYB_SUCCESS) return rc;")
        add("        if ((rc = nyash_tlv_reader_done(&r)) != NYB_SUCCESS) return rc;")
        if ret in _FIXED_RESULT:
            add(f"        if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, {_FIXED_RESULT[ret]}))) != NYB_SUCCESS) return rc;")
        if ret != "void":
            add("        " + _OUT_DECL[ret])
        call_args = ", ".join(["self", "instance_id"] + [_C_ARGS.get(k, "{n}").format(n="a_" + n) for n, k in kinds])
        add(f"        if ((rc = {b}_method_{_c_ident(fn.name)}({call_args}{_OUT_ARGS.get(ret, ', &out')})) != NYB_SUCCESS) return rc;")
        if ret in ("string", "bytes"):
            add("        if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, out_len))) != NYB_SUCCESS) return rc;")
        add("        nyash_tlv_begin(&w, result, *result_len);")
        add("        " + _PUT[ret])
        add("        return nyash_tlv_end(&w, result_len);")
        add("    }")
    add("    case NYASH_METHOD_FINI:")
    add("        if ((rc = nyash_tlv_expect_empty(args, args_len)) != NYB_SUCCESS) return rc;")
    add("        if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0))) != NYB_SUCCESS) return rc;")
    add("        /* TODO: release what the instance holds */")
    add("        self->used = 0;")
    add("        return nyash_result_void(result, result_len);")
    add("    default:")
    add("        return NYB_E_INVALID_METHOD;")
    add("    }")
    add("}\n")
    return "\n".join(lines)


# The vtable path: native forms of each kind (nyash_bid.h) and how a wrapper turns them
# into the handler's arguments.
_VT_PARAM = {
    "bool": "int32_t {n}", "i32": "int32_t {n}", "i64": "int64_t {n}", "f32": "float {n}", "f64": "double {n}",
    "string": "const char *{n}, size_t {n}_len", "bytes": "const uint8_t *{n}, size_t {n}_len",
    "handle": "uint64_t {n}",
}
_VT_ARG = {"bool": "{n} != 0", "string": "{n}, {n}_len", "bytes": "{n}, {n}_len",
           "handle": "NYASH_BID_HANDLE_TYPE({n}), NYASH_BID_HANDLE_INSTANCE({n})"}
_VT_RETURN = {"bool": "int32_t", "i32": "int32_t", "i64": "int64_t", "f32": "float", "f64": "double",
              "handle": "uint64_t", "void": "void", "string": "int32_t", "bytes": "int32_t"}
_BID_TYPE = {"bool": "BID_TYPE_BOOL", "i32": "BID_TYPE_I32", "i64": "BID_TYPE_I64", "f32": "BID_TYPE_F32",
             "f64": "BID_TYPE_F64", "string": "BID_TYPE_STRING", "bytes": "BID_TYPE_BYTES",
             "handle": "BID_TYPE_HANDLE", "void": "BID_TYPE_VOID"}


def _vtable_source(spec: PluginBoxSpec) -> str:
    """The interface's vtable: one wrapper per method calling its handler with native
    arguments on the Box's interface-level state (instance id 0), and the table itself."""
    b = _c_ident(spec.box)
    lines = [f"/* ---- {spec.box}: the vtable of {spec.interface.name} (direct calls, nyash_bid.h) ---- */\n"]
    add = lines.append
    entries = []
    for fn in spec.interface.functions:
        where = f"{spec.interface.name}.{fn.name}"
        kinds = [_kind(p.type, where) for p in fn.params]
        ret = _kind(fn.result, where)
        names = [f"p{i}" for i in range(len(kinds))]
        params = [_VT_PARAM[k].format(n=n) for n, k in zip(names, kinds)]
        if ret in ("string", "bytes"):
            params += ["uint8_t *out_buf", "size_t *out_cap"]
        wrapper = f"{b}_vt_{_c_ident(fn.name)}"
        args = ", ".join([f"&{b}_static", "0"] + [_VT_ARG.get(k, "{n}").format(n=n) for n, k in zip(names, kinds)])
        add(f"static {_VT_RETURN[ret]} {wrapper}({', '.join(params) or 'void'}) {{")
        handler = f"{b}_method_{_c_ident(fn.name)}"
        if ret == "void":
            add(f"    (void){handler}({args});")
        elif ret in ("string", "bytes"):
            add("    " + _OUT_DECL[ret])
            add(f"    int32_t rc = {handler}({args}, &out, &out_len);")
            add("    if (rc != NYB_SUCCESS) return rc;")
            add("    if (out_cap == NULL) return NYB_E_INVALID_ARGS;")
            add("    if (out_buf == NULL || *out_cap < out_len) { *out_cap = out_len; return NYB_E_SHORT_BUFFER; }")
            add("    if (out_len) memcpy(out_buf, out, out_len);")
            add("    *out_cap = out_len;")
            add("    return NYB_SUCCESS;")
        elif ret == "handle":
            add("    " + _OUT_DECL[ret])
            add(f"    if ({handler}({args}, &out_type, &out_instance) != NYB_SUCCESS) return 0;")
            add("    return NYASH_BID_HANDLE(out_type, out_instance);")
        else:
            add("    " + _OUT_DECL[ret])
            add(f"    (void){handler}({args}, &out);")
            add(f"    return ({_VT_RETURN[ret]})out;")
        add("}\n")
        types = f"{b}_vt_types_{_c_ident(fn.name)}"
        if kinds:
            add(f"static const BidTypeId {types}[] = {{{', '.join(_BID_TYPE[k] for k in kinds)}}};")
        entries.append(f'    {{"{fn.name}", NYASH_BID_FN({wrapper}), {len(kinds)}, {types if kinds else "NULL"}, '
                       f"{_BID_TYPE[ret]}}},")
    name = spec.interface.name or ""   # a plugin's interfaces are always named (as the host assumes)
    symbol = _c_ident(vtable_symbol(name))
    ident = ", ".join(f"0x{c:02x}" for c in name.encode()[:16])
    if entries:
        add(f"static const MethodEntry {b}_vt_methods[] = {{")
        lines.extend(entries)
        add("};")
    add(f"NYASH_EXPORT const InterfaceVTable {symbol} = {{")
    add(f"    NYASH_VTABLE_VERSION, {{{ident}}}, {len(entries)}, {f'{b}_vt_methods' if entries else 'NULL'}}};\n")
    return "\n".join(lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def generate(specs: Sequence[PluginBoxSpec], *, stem: str, source: str | None = None) -> dict[str, str]:
    """Files of the skeleton: `<stem>_plugin.c`, `nyash.toml`, `nyash_plugin.h`, `build.sh`."""
    if not specs:
        raise error("ffi.gen.empty", "no interfaces to generate a plugin from")
    stem = _c_ident(stem)
    lib = f"lib{stem}_plugin.so"
    origin = f" from {Path(source).name}" if source else ""
    c = [f"/*\n * {stem}_plugin.c - a Nyash BID-1 plugin skeleton generated by `reml-wasm gen c-plugin`{origin}.",
         " * Fill in the TODO handlers; the dispatcher, TLV decoding/encoding and the lifecycle are done.",
         f" * Build: cc -shared -fPIC -O2 -I. {stem}_plugin.c -o {lib}   (or ./build.sh)",
         " */",
         "#include \"nyash_plugin.h\"", "#include \"nyash_bid.h\"\n", "#include <stdlib.h>\n"]
    for spec in specs:
        c.append(_box_source(spec))
        c.append(_vtable_source(spec))
    c.append("NYASH_EXPORT uint32_t nyash_bid_version(void) { return NYASH_BID_VERSION; }\n")
    c.append("NYASH_EXPORT uint32_t nyash_plugin_abi(void) { return NYASH_ABI_VERSION; }\n")
    c.append("NYASH_EXPORT int32_t nyash_plugin_init(void) { return NYB_SUCCESS; }\n")
    c.append("NYASH_EXPORT void nyash_plugin_shutdown(void) {")
    for spec in specs:
        b = _c_ident(spec.box)
        c.append(f"    free({b}_table); {b}_table = NULL; {b}_table_len = 0;")
    c.append("}\n")
    c.append("NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,")
    c.append("                                         const uint8_t *args, size_t args_len,")
    c.append("                                         uint8_t *result, size_t *result_len) {")
    c.append("    if (result_len == NULL) return NYB_E_INVALID_ARGS;")
    c.append("    switch (type_id) {")
    for spec in specs:
        c.append(f"    case {spec.type_id}u: return {_c_ident(spec.box)}_invoke(method_id, instance_id, args, args_len, result, result_len);")
    c.append("    default: return NYB_E_INVALID_TYPE;")
    c.append("    }")
    c.append("}")

    key = _toml_key(lib)
    toml = [f"# nyash.toml for {lib}, generated by `reml-wasm gen c-plugin`{origin}.",
            f"[libraries.{key}]",
            "boxes = [" + ", ".join(f'"{s.box}"' for s in specs) + "]",
            f'path = "./{lib}"', ""]
    for spec in specs:
        toml.append(f"[libraries.{key}.{spec.box}]")
        toml.append(f"type_id = {spec.type_id}")
        toml.append("abi_version = 1")
        toml.append(f"singleton = {'true' if spec.singleton else 'false'}")
        toml.append("")
        toml.append(f"[libraries.{key}.{spec.box}.methods]")
        toml.append("birth = { method_id = 0 }")
        for index, fn in enumerate(spec.interface.functions, start=1):
            args = ", ".join(f'{{ name = "{p.name}", kind = "{_kind(p.type, fn.name)}" }}' for p in fn.params)
            toml.append(f"{_toml_key(fn.name)} = {{ method_id = {index}" + (f", args = [{args}]" if args else "") + " }")
        toml.append("fini = { method_id = 4294967295 }")
        toml.append("")
    build = ("#!/bin/sh\n# Build the plugin next to this script.\nset -e\ncd \"$(dirname \"$0\")\"\n"
             f"${{CC:-cc}} -shared -fPIC -O2 -std=c99 -Wall -I. {stem}_plugin.c -o {lib}\n")
    return {f"{stem}_plugin.c": "\n".join(c) + "\n", "nyash.toml": "\n".join(toml),
            "nyash_plugin.h": HEADER_PATH.read_text(encoding="utf-8"),
            "nyash_bid.h": BID_HEADER_PATH.read_text(encoding="utf-8"), "build.sh": build}


def specs_from_bid(doc: BidDocument) -> list[PluginBoxSpec]:
    """PluginBoxSpecs of a `reml_wasm.bid.yaml_loader.BidDocument`."""
    specs: list[PluginBoxSpec] = []
    used: set[int] = set()
    next_id = FIRST_TYPE_ID
    for iface in doc.interfaces:
        name = iface.name or "plugin"
        type_id = doc.type_ids.get(name)
        if type_id is None:
            while next_id in used or next_id in doc.type_ids.values():
                next_id += 1
            type_id = next_id
        if type_id in used:
            raise error("ffi.gen.duplicate_type_id", f"type_id {type_id} is used by two interfaces",
                        location=doc.locations.get((name,)))
        used.add(type_id)
        box = doc.boxes.get(name)
        box_name = box or box_name_for(name)
        if any(spec.box == box_name for spec in specs):
            raise error("ffi.gen.duplicate_box", f"two interfaces become Box {box_name!r}; give one a `box:` name",
                        location=doc.locations.get((name,)))
        effects = {m: e for (i, m), e in doc.effects.items() if i == name}
        specs.append(PluginBoxSpec(iface, box_name, type_id, box is None, effects))
    return specs
