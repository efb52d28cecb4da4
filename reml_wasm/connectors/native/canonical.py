"""Canonical-native calls: a component's exports, run from the native build of its C source.

The same C file is built as a wasm component and as a shared library
(`toolchain.build_component` / `build_native`).  In the library each export is the C
function `toolchain.c_symbol(export_name)` taking and returning the export's *flat* core
values at pointer width 8 (i32 -> int32_t, i64 -> int64_t, f32 -> float, f64 -> double;
pointers and lengths are i64).  The Canonical ABI engine lowers the arguments into native
memory with the library's own `cabi_realloc`, the flat function runs, the engine lifts the
result, and the library's `cabi_post_<symbol>` (when it has one) frees what the result
owned: exactly the sequence a component host performs, on `NativeMemory`.
"""

from __future__ import annotations

import array
import os
import struct
from typing import Any, Callable, Iterable, Mapping

from ... import cabi
from ... import types as t
from ...audit import error
from ...cabi.codecs import number_packer
from ...cabi.generated import define
from ...cabi.numbers import ARRAY_CODE, LITTLE, NUMBER_TYPES, SMALL_LIST, NumberList, number_list, struct_packers, \
    struct_unpackers
from ...cabi.options import check_allocation
from ...cabi.scan import int_bulk, list_bool_scan
from ...cabi.strings import MAX_LIST_BYTES, MAX_STRING_BYTES, list_too_long, string_too_long
from ...toolchain import c_symbol
from .handles import NativeHandles
from .library import Mode, NativeLibrary

_C_FLAT = {"i32": "int32_t", "i64": "int64_t", "f32": "float", "f64": "double"}
# what a codec's conversions raise on a host value of the wrong shape
_VALUE_ERRORS = (TypeError, ValueError, OverflowError, KeyError, AttributeError, IndexError, struct.error)
_PAIR = struct.Struct("<QQ")  # a (pointer, length) record in native memory
# integer results read from the C function's (signed) return value
_INT_RESULT = {t.S32: "r", t.S64: "r", t.U32: "r & 0xFFFFFFFF", t.U64: "r & 0xFFFFFFFFFFFFFFFF"}
# list<u8> is bytes in the value convention: the codec handles it
_NUMBER_LIST_ELEMENTS = NUMBER_TYPES - {t.U8}


def _int_result(ty: t.Type) -> str | None:
    """The expression of an integer result of type `ty` from the C return value `r`."""
    ty = t.unalias(ty)
    return _INT_RESULT.get(ty) if isinstance(ty, t.PrimitiveType) else None


def _number_list_element(ty: t.Type) -> t.PrimitiveType | None:
    """The element type of a list of numbers (integers other than u8, floats), else None."""
    ty = t.unalias(ty)
    if isinstance(ty, t.ListType) and ty.length is None:
        elem = t.unalias(ty.element)
        if isinstance(elem, t.PrimitiveType) and elem in _NUMBER_LIST_ELEMENTS:
            return elem
    return None


def export_functions(world: t.World) -> dict[str, t.Function]:
    """Export name -> function for every function `world` exports (`greet`,
    `ns:pkg/iface@1.0.0#func`)."""
    out: dict[str, t.Function] = {}
    for key, func in world.exported_functions():
        out[func.qualified_name if key is None else f"{key}#{func.qualified_name}"] = func
    return out


def flat_declaration(symbol: str, flat: cabi.FlatSignature) -> str:
    params = ", ".join(_C_FLAT[p] for p in flat.params) or "void"
    if len(flat.results) > 1:  # pragma: no cover - flatten spills >1 result at this width
        raise error("ffi.signature.unsupported", f"{symbol}: more than one flat result")
    result = _C_FLAT[flat.results[0]] if flat.results else "void"
    return f"{result} {symbol}({params});"


class CanonicalNativeLibrary:
    """The exports of a component, called in its native build."""

    def __init__(self, library: NativeLibrary, functions: Mapping[str, t.Function], *,
                 mode: Mode | None = None) -> None:
        """Bind every export (and `cabi_realloc`, and each `cabi_post_*` the library has)
        at once: in API mode that is one compiled module for the whole component."""
        self.library = library
        self.functions = dict(functions)
        self.mode = mode
        self.memory = cabi.NativeMemory()
        self.handles = NativeHandles()
        library.require_symbol("cabi_realloc")
        decls = ["int64_t cabi_realloc(int64_t, int64_t, int64_t, int64_t);"]
        plans: dict[str, tuple[cabi.ExportPlan, cabi.CanonicalOptions, int, int | None]] = {}
        dtors: dict[t.ResourceType, int] = {}
        for name, func in self.functions.items():
            for rt in resource_types(name, func):
                if rt not in dtors:
                    dtor = dtor_symbol(rt)
                    library.require_symbol(dtor)
                    dtors[rt] = len(decls)
                    decls.append(f"void {dtor}(int32_t);")
            symbol = c_symbol(name)
            library.require_symbol(symbol)
            opts = cabi.CanonicalOptions(memory=self.memory, ptr_size=8, resources=self.handles)  # type: ignore[arg-type]
            plan = cabi.export_plan(func, opts)
            core_index = len(decls)
            decls.append(flat_declaration(symbol, plan.flat))
            post_symbol = c_symbol("cabi_post_" + name)
            post_index = None
            if plan.flat.results and library.has_symbol(post_symbol):
                post_index = len(decls)
                decls.append(f"void {post_symbol}({', '.join(_C_FLAT[r] for r in plan.flat.results)});")
            plans[name] = (plan, opts, core_index, post_index)
        bound = library.bind_all(decls, mode=mode)
        # compiled now (the first call would do it): the generated calls take the compiled
        # functions themselves, not the stand-ins that wait for the compile
        library.compile()
        self._realloc: Callable[[int, int, int, int], int] = bound[0]
        for rt, index in dtors.items():
            self.handles.dtors[rt] = bound[index]
        self._bound: dict[str, Callable[..., Any]] = {}
        for name, (plan, opts, core_index, post_index) in plans.items():
            opts.realloc = self._realloc
            opts.post_return = None if post_index is None else bound[post_index]
            self._bound[name] = _export_call(name, plan, bound[core_index], opts.post_return)

    @classmethod
    def open(cls, name: str, exports: t.World | Mapping[str, t.Function],
             search_paths: Iterable[str | os.PathLike[str]] = (), *, mode: Mode = "auto") -> "CanonicalNativeLibrary":
        """Open the native build `name` of a component whose exports are `exports` (a world,
        or export name -> function)."""
        functions = export_functions(exports) if isinstance(exports, t.World) else exports
        return cls(NativeLibrary.open(name, search_paths, mode=mode), functions, mode=mode)

    def function(self, export_name: str) -> Callable[..., Any]:
        """A callable taking and returning values of the value convention."""
        try:
            return self._bound[export_name]
        except KeyError:
            raise error("ffi.symbol.not_found", f"the component exports no function {export_name!r}",
                        export=export_name, library=self.library.name) from None

    def call(self, export_name: str, *args: Any) -> Any:
        return self.function(export_name)(*args)

    def drop(self, handle: Any) -> None:
        """Drop an owned resource handle the library gave out (its destructor runs once)."""
        self.handles.drop_resource(handle)


def _export_call(export_name: str, plan: cabi.ExportPlan, core: Callable[..., Any],
                 post: Callable[..., None] | None) -> Callable[..., Any]:
    """lower -> flat native call -> lift -> post-return, as a component host does: one
    generated function per export calling the raw cffi functions (the plan's lowering
    produces core values of the declared C types, so the bound wrappers' checks are not
    needed); strings and lists go straight from their codec's `put` to the call."""
    raw_core = getattr(core, "raw", core)
    raw_post = None if post is None else getattr(post, "raw", post)
    # realloc as the raw cffi function too: the engine checks every pointer it returns
    plan.opts.realloc = getattr(plan.opts.realloc, "raw", plan.opts.realloc)
    codecs = plan.param_codecs
    n = len(plan.func.params)
    if plan.borrows or plan.flat.params_spilled or len(codecs) != n:
        call = _general_call(plan, raw_core, raw_post)
    else:
        env: dict[str, Any] = {"lower_args": plan.lower_args, "lift": plan.lift_result, "core": raw_core,
                               "post": raw_post, "VALUE_ERRORS": _VALUE_ERRORS}
        names = [f"a{i}" for i in range(n)]
        lines = ["def call(*args):", f"    if len(args) != {n}:", "        lower_args(args)"]
        if n:
            lines.append(f"    {', '.join(names)}, = args")
        lines.append("    try:")
        flat: list[str] = []
        mem = plan.opts.memory
        inline_strings = (isinstance(mem, cabi.NativeMemory) and plan.opts.string_encoding == "utf8"
                          and plan.opts.put_bytes is None)
        if inline_strings:
            assert isinstance(mem, cabi.NativeMemory)
            env.update(realloc=plan.opts.realloc, view=mem.view, check_allocation=check_allocation, opts=plan.opts,
                       string_too_long=string_too_long)
        for i, c in enumerate(codecs):
            if inline_strings and t.unalias(plan.func.params[i].type) == t.STRING:
                assert isinstance(mem, cabi.NativeMemory)
                # the string codec's `put`, inline: encode, realloc, bounds, copy (anything
                # unusual: the codec's own `put`, or the allocation check's diagnostic on the
                # block as the codec sees it, masked to 64 bits; a block in bounds is positive)
                env[f"put{i}"] = c.put
                lines += [f"        if a{i}.__class__ is str:",
                          f"            d{i} = a{i}.encode('utf-8')",
                          f"            n{i} = len(d{i})",
                          f"            if n{i} > {MAX_STRING_BYTES}:",
                          f"                raise string_too_long(n{i})",
                          f"            s{i} = realloc(0, 0, 1, n{i})",
                          f"            if not {mem.low} <= s{i} <= {mem.limit} - n{i}:",
                          f"                s{i} = check_allocation(opts, s{i} & {(1 << 64) - 1}, 1, n{i})",
                          f"            view[s{i}:s{i} + n{i}] = d{i}",
                          "        else:",
                          f"            s{i}, n{i} = put{i}(a{i})"]
                flat += [f"s{i}", f"n{i}"]
            elif inline_strings and _number_list_element(plan.func.params[i].type) is not None:
                # a list of numbers: packed (integers: one cached struct call when short,
                # one array conversion otherwise, then one bool scan; floats: the codec's
                # packer, which makes NaNs canonical), then realloc, bounds and one copy
                # inline; anything that is not a plain list: the codec
                assert isinstance(mem, cabi.NativeMemory)
                elem = _number_list_element(plan.func.params[i].type)
                assert elem is not None
                es, code = cabi.size(elem, 8), ARRAY_CODE[elem.name]
                env.update({f"put{i}": c.put, f"pack{i}": number_packer(elem.name), "list_too_long": list_too_long})
                lines += [f"        if a{i}.__class__ is list:",
                          f"            n{i} = len(a{i})"]
                bulk = int_bulk() if code not in "fd" and LITTLE else None
                if bulk is not None:
                    # packed in C (anything it does not take: the codec's packer, which
                    # packs an int subclass or refuses the list with its diagnostic)
                    env["pack_ints"] = bulk.pack
                    lines += [f"            if n{i} > {MAX_LIST_BYTES // es}:",
                              f"                raise list_too_long(n{i}, {es} * n{i})",
                              f"            d{i} = pack_ints(a{i}, {code!r})",
                              f"            if d{i} is None:",
                              f"                d{i} = pack{i}(a{i})"]
                elif code in "fd" or not LITTLE:
                    lines += [f"            if n{i} > {MAX_LIST_BYTES // es}:",
                              f"                raise list_too_long(n{i}, {es} * n{i})",
                              f"            d{i} = pack{i}(a{i})"]
                else:
                    # struct and array take True as 1: a list holding a bool goes to the
                    # plan's lowering for its diagnostic
                    env.update(packers=struct_packers(code), new_array=array.array, bool_scan=list_bool_scan())
                    lines += [f"            if n{i} <= {SMALL_LIST}:",
                              f"                d{i} = packers[n{i}](*a{i})",
                              f"            elif n{i} > {MAX_LIST_BYTES // es}:",
                              f"                raise list_too_long(n{i}, {es} * n{i})",
                              "            else:",
                              f"                d{i} = new_array({code!r})",
                              f"                d{i}.fromlist(a{i})",
                              f"                d{i} = memoryview(d{i}).cast('B')",
                              f"            if bool_scan(a{i}):",
                              "                lower_args(args)"]
                lines += [f"            s{i} = realloc(0, 0, {es}, {es} * n{i})",
                          f"            if s{i} % {es} or not {mem.low} <= s{i} or s{i} + {es} * n{i} > {mem.limit}:",
                          f"                s{i} = check_allocation(opts, s{i} & {(1 << 64) - 1}, {es}, {es} * n{i})",
                          f"            view[s{i}:s{i} + {es} * n{i}] = d{i}",
                          "        else:",
                          f"            s{i}, n{i} = put{i}(a{i})"]
                flat += [f"s{i}", f"n{i}"]
            elif c.put is not None and len(c.flat) == 2:
                env[f"put{i}"] = c.put
                lines.append(f"        s{i}, n{i} = put{i}(a{i})")
                flat += [f"s{i}", f"n{i}"]
            else:
                env[f"c{i}"] = c.lower
                lines += [f"        o{i} = []", f"        c{i}(a{i}, o{i})"]
                flat += [f"o{i}[{j}]" for j in range(len(c.flat))]
        lines += ["        pass", "    except VALUE_ERRORS:", "        lower_args(args)", "        raise"]
        if inline_strings and plan.func.result is not None and t.unalias(plan.func.result) == t.STRING:
            # the string result's (pointer, length) record and its bytes read inline, with
            # the codec's checks (native memory has no sandbox, so no copy budget); anything
            # unusual goes to the plan's lifting for its diagnostic
            assert isinstance(mem, cabi.NativeMemory)
            env.update(pair=_PAIR.unpack_from)
            low, limit = mem.low, mem.limit
            # (a pointer in bounds is positive as the C function's signed result: no mask)
            lines += [f"    r = core({', '.join(flat)})",
                      f"    if {low} <= r <= {limit - 16} and not r & 7:",
                      "        sp, sn = pair(view, r)",
                      f"        if sn <= {MAX_STRING_BYTES} and {low} <= sp <= {limit} - sn:",
                      "            try:",
                      "                v = str(view[sp:sp + sn], 'utf-8')",
                      "            except UnicodeDecodeError:",
                      "                v = lift((r,))",
                      "        else:",
                      "            v = lift((r,))",
                      "    else:",
                      "        v = lift((r,))"]
            if raw_post is not None:
                lines.append("    post(r)")
            lines.append("    return v")
        elif (inline_strings and plan.func.result is not None and plan.flat.results_spilled
              and _number_list_element(plan.func.result) is not None):
            # a list-of-numbers result: its (pointer, length) record read inline, the
            # numbers by one bulk copy (`number_list`: NaNs made canonical), with the
            # codec's checks; anything unusual: the plan's lifting
            assert isinstance(mem, cabi.NativeMemory)
            elem = _number_list_element(plan.func.result)
            assert elem is not None
            es, code = cabi.size(elem, 8), ARRAY_CODE[elem.name]
            env.update(pair=_PAIR.unpack_from, number_list=number_list)
            low, limit = mem.low, mem.limit
            lines += [f"    r = core({', '.join(flat)})",
                      f"    if not r % 8 and {low} <= r and r + 16 <= {limit}:",
                      "        sp, sn = pair(view, r)",
                      f"        nb = sn * {es}",
                      f"        if nb <= {MAX_LIST_BYTES} and not sp % {es} and {low} <= sp and sp + nb <= {limit}:"]
            bulk = int_bulk() if code not in "fd" and LITTLE else None
            if bulk is not None:
                # integers read in C straight into the NumberList (what `number_list`
                # makes of them, without its dispatch)
                env.update(fill_ints=bulk.fill, new_list=NumberList.__new__, NumberList=NumberList)
                lines += ["            v = new_list(NumberList)",
                          f"            fill_ints(v, view[sp:sp + nb], {code!r})",
                          f"            v.typecode = {code!r}"]
            elif code not in "fd":
                # a short list of integers: one cached struct call straight into the
                # NumberList (what `number_list` makes of it, without its dispatch)
                env.update(unpackers=struct_unpackers(code), new_list=NumberList.__new__, NumberList=NumberList)
                lines += [f"            if sn <= {SMALL_LIST}:",
                          "                v = new_list(NumberList)",
                          f"                v.typecode = {code!r}",
                          "                v.extend(unpackers[sn](view, sp))",
                          "            else:",
                          f"                v = number_list({code!r}, view[sp:sp + nb])"]
            else:
                lines.append(f"            v = number_list({code!r}, view[sp:sp + nb])")
            lines += ["        else:",
                      "            v = lift((r,))",
                      "    else:",
                      "        v = lift((r,))"]
            if raw_post is not None:
                lines.append("    post(r)")
            lines.append("    return v")
        elif plan.func.result is not None and _int_result(plan.func.result) is not None:
            # an integer result from its C return value (the declared C type is signed)
            lines += [f"    r = core({', '.join(flat)})", f"    v = {_int_result(plan.func.result)}"]
            if raw_post is not None:
                lines.append("    post(r)")
            lines.append("    return v")
        elif plan.flat.results_spilled and plan.result_codec is not None:
            # the result's record in native memory, read by the codec's load (anything
            # unusual goes to the plan's lifting for its diagnostic)
            rc = plan.result_codec
            assert mem is not None  # a spilled result is read from the memory
            env.update(mem=mem, view=mem.view, load_result=rc.load)
            lines += [f"    r = core({', '.join(flat)})", f"    p = r & {(1 << 64) - 1}",
                      f"    if not p % {rc.align} and mem.low <= p and p + {rc.size} <= mem.limit:",
                      "        v = load_result(view, p)", "    else:", "        v = lift((r,))"]
            if raw_post is not None:
                lines.append("    post(r)")
            lines.append("    return v")
        elif plan.flat.results:
            lines += [f"    r = core({', '.join(flat)})", "    v = lift((r,))"]
            if raw_post is not None:
                lines.append("    post(r)")
            lines.append("    return v")
        else:
            lines += [f"    core({', '.join(flat)})", "    return lift(())"]
        call = define("\n".join(lines) + "\n", env, "canonical-native call")["call"]
    call.symbol, call.export_name, call.function = core.symbol, export_name, plan.func  # type: ignore[attr-defined]
    call.core, call.post = raw_core, raw_post  # type: ignore[attr-defined]
    return call


def _general_call(plan: cabi.ExportPlan, core: Callable[..., Any],
                  post: Callable[..., None] | None) -> Callable[..., Any]:
    lower, lift = plan.lower_args, plan.lift_result

    def call(*args: Any) -> Any:
        flat = lower(args)
        raw = core(*flat)
        results = () if raw is None else (raw,)
        value = lift(results)
        if post is not None:
            post(*results)
        return value
    return call


def dtor_symbol(rt: t.ResourceType) -> str:
    """The C symbol of a resource's destructor in the native build."""
    return c_symbol(f"{rt.owner}#[dtor]{rt.name}" if rt.owner else f"[dtor]{rt.name}")


def symbols_needed(name: str, func: t.Function) -> list[str]:
    """Every C symbol the native build must have to serve export `name`."""
    return [c_symbol(name), *dict.fromkeys(dtor_symbol(rt) for rt in resource_types(name, func))]


def resource_types(name: str, func: t.Function) -> list[t.ResourceType]:
    """The resource types `func` passes (own or borrow); streams and futures have no native
    form and are refused."""
    found: list[t.ResourceType] = []
    for typ in [*func.param_types(), *([func.result] if func.result is not None else [])]:
        for inner in t.walk(typ):
            inner = t.unalias(inner)
            if isinstance(inner, (t.StreamType, t.FutureType)):
                raise error("ffi.signature.unsupported",
                            f"{name}: {inner.wit()} is not supported by the canonical-native path", export=name)
            if isinstance(inner, (t.OwnType, t.BorrowType)):
                found.append(inner.resource)
    return found
