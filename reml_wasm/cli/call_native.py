"""`reml-wasm call-native LIB 'f(args)'`: call a native library function bound from its
C header.

The header is read by reml-bindgen's front end into the C model; the function's C
declaration and the type declarations it needs go to the native connector
(`NativeLibrary.bind_c`).  Arguments are C constants or WAVE values, read against the
parameter types under the pointer rules of `native_args` (no integer is a pointer;
NULL only for a nullable parameter).  The result is printed as a C literal (strings
quoted, pointers in hex, nothing for void).
"""

from __future__ import annotations

import argparse
import functools

import cffi

from typing import Any, Callable, Collection, Sequence

from ..audit import error
from ..bindgen.cmodel import CModel, FunctionDecl, Prim
from ..bindgen.generate import model_from_headers
from ..connectors.native import NativeLibrary
from .native_args import Converter, StructArg, nullable_params, split_call, struct_pointer

# Headers of libraries that do not follow the `<name>.h` convention.
KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "c": ("stdlib.h", "string.h", "stdio.h", "ctype.h"),
    "m": ("math.h",),
    "z": ("zlib.h",),
    "sqlite3": ("sqlite3.h",),
    "cjson": ("cjson/cJSON.h",),
    "lua5.4": ("lua5.4/lua.h", "lua5.4/lauxlib.h", "lua5.4/lualib.h"),
}
_FFI = cffi.FFI()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("library", help="library name (c, m, z, sqlite3, ...) or path")
    parser.add_argument("call", help="the call: C constants or WAVE values as arguments, e.g. "
                        "'cos(0.0)', 'strtol(\"42\", none, 10)', 'frexp(8.0, [0])'")
    parser.add_argument("--header", action="append", dest="headers", metavar="HEADER",
                        help="header(s) declaring the function (default: from the library name)")
    parser.add_argument("-I", "--include-path", action="append", dest="include_paths", metavar="DIR",
                        default=[])
    parser.add_argument("-D", "--define", action="append", dest="defines", metavar="NAME[=VALUE]",
                        default=[])
    parser.add_argument("-L", "--search-path", action="append", dest="search_paths", metavar="DIR",
                        default=[], help="directories searched for the library first")
    parser.add_argument("--mode", choices=("auto", "abi", "api"), default="abi",
                        help="cffi call mode (default abi)")
    parser.add_argument("--json", action="store_true",
                        help='print {"library", "call", "result"} as JSON (result: the printed value, or null)')
    parser.add_argument("--nullable", action="append", default=[], metavar="PARAM",
                        help="a pointer parameter (name, or position from 1) that may be NULL")


def load_model(headers: Sequence[str], include_paths: Sequence[str], defines: Sequence[str]) -> CModel:
    """The C model of the headers (looked up on `include_paths`, then where the compiler
    looks); read once per process for the same arguments (the model is not changed)."""
    return _model(tuple(headers), tuple(include_paths), tuple(defines))


@functools.lru_cache(maxsize=8)
def _model(headers: tuple[str, ...], include_paths: tuple[str, ...], defines: tuple[str, ...]) -> CModel:
    return model_from_headers(headers, include_paths, defines)


def find_function(model: CModel, name: str) -> FunctionDecl:
    for fn in model.functions:
        if fn.name == name:
            return fn
    inline = [f for f in model.inline_functions if f.name == name]
    if inline:
        raise error("ffi.bindgen.unresolved_symbol", f"{name} is a static inline function: no library "
                    "exports it", symbol=name)
    raise error("ffi.bindgen.unresolved_symbol", f"{name} is not declared in {', '.join(model.headers)}",
                symbol=name)


def bind(lib: NativeLibrary, model: CModel, fn: FunctionDecl, mode: str = "abi",
         nullable: Collection[int] | None = None) -> Callable[..., Any]:
    """The native callable for `fn` from the C model: its declaration plus the typedefs and
    structs it needs, handed to the native connector (`nullable`: the pointer parameters
    that may be NULL; None: every one)."""
    call = lib.bind_c(model.cdecl(fn), cdef_prelude=model.cdef_prelude([fn]), mode=mode,  # type: ignore[arg-type]
                      nullable=nullable)
    ftype = call.ctype  # type: ignore[attr-defined]
    pointers = [i for i, a in enumerate(ftype.args) if a.kind == "pointer"]
    if not pointers:
        return call

    def call_with_pointers(*args: Any) -> Any:
        # Each binding has its own cffi declarations, so a `lua_State *` returned by one
        # function is a different ctype for the next: re-type pointers (same address).
        conv = list(args)
        for i in pointers:
            if i < len(conv) and isinstance(conv[i], _FFI.CData):
                have = _FFI.typeof(conv[i])
                if have is not ftype.args[i] and have.kind in ("pointer", "array"):
                    conv[i] = _FFI.cast(ftype.args[i], conv[i])
        return call(*conv)
    for attr in ("symbol", "mode", "raw", "ctype", "library"):
        setattr(call_with_pointers, attr, getattr(call, attr, None))
    return call_with_pointers


def render_result(model: CModel, fn: FunctionDecl, value: Any) -> str | None:
    rtype = model.resolve(fn.type.result)
    if isinstance(rtype, Prim) and rtype.name == "void":
        return None
    if value is None:
        return "NULL"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    try:
        address = int(_FFI.cast("uintptr_t", value))
    except (TypeError, cffi.FFIError):
        return str(value)
    return "NULL" if address == 0 else f"0x{address:x}"


def call_native(library: str, call_text: str, headers: Sequence[str] = (),
                include_paths: Sequence[str] = (), defines: Sequence[str] = (),
                search_paths: Sequence[str] = (), mode: str = "abi",
                nullable: Sequence[str | int] = ()) -> tuple[Any, str | None]:
    """Call `call_text` in `library`; (Python result, result as a C literal).  The
    arguments follow the pointer rules of `native_args`; `nullable` names pointer
    parameters that may be NULL beyond those the header marks."""
    prepared = prepare_call(library, call_text, headers, include_paths, defines, nullable)
    return perform_call(library, prepared, search_paths, mode)


def prepare_call(library: str, call_text: str, headers: Sequence[str] = (), include_paths: Sequence[str] = (),
                 defines: Sequence[str] = (), nullable: Sequence[str | int] = ()) -> tuple[Any, ...]:
    """Everything before the library is loaded: the header model, the function and the
    converted arguments (model, function, converter, values)."""
    name, texts = split_call(call_text)
    headers = list(headers) or list(KNOWN_HEADERS.get(library, (f"{library}.h",)))
    model = load_model(headers, include_paths, defines)
    fn = find_function(model, name)
    if fn.variadic:
        raise error("ffi.call.invalid", f"{name} is variadic: call it from C with fixed arguments",
                    symbol=name)
    conv = Converter(model, fn, nullable_params(fn, model, nullable))
    return model, fn, conv, conv.convert(texts)


def perform_call(library: str, prepared: tuple[Any, ...], search_paths: Sequence[str] = (),
                 mode: str = "abi") -> tuple[Any, str | None]:
    """Load the library and make the call `prepare_call` prepared."""
    model, fn, conv, values = prepared
    lib = NativeLibrary.open(library, search_paths)
    func = bind(lib, model, fn, mode, conv.nullable)
    ftype = func.ctype  # type: ignore[attr-defined]
    values = [struct_pointer(ftype.args[i], v, fn.name, i) if isinstance(v, StructArg) else v
              for i, v in enumerate(values)]
    result = func(*values)
    if isinstance(result, _FFI.CData) and _FFI.typeof(result).kind == "primitive":
        result = float(result)  # `long double`: cffi keeps it as cdata
    return result, render_result(model, fn, result)


def run(args: argparse.Namespace) -> int:
    """The headers are read here; the library is loaded and called in a child process
    (`isolate`), so a C function that crashes on its arguments is `ffi.call.crashed`."""
    from .isolate import run_isolated
    prepared = prepare_call(args.library, args.call, args.headers or (), args.include_paths, args.defines,
                            args.nullable)

    def body() -> int:
        _, text = perform_call(args.library, prepared, args.search_paths, args.mode)
        if args.json:
            import json
            print(json.dumps({"library": args.library, "call": args.call, "result": text}, ensure_ascii=False))
        elif text is not None:
            print(text)
        return 0
    return run_isolated(body, args.json, f"{args.library}: {args.call}")
