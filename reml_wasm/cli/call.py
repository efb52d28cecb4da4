"""`reml-wasm call COMPONENT.wasm 'name(args in WAVE)'`: call one export, print the result."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

from .. import types as t
from .. import wave
from ..audit import error
from ..connectors.component import PATHS, Component
from ..values import Err, Ok, Record, Some, Variant
from .limits import add_limit_arguments, sandbox_from_args
from .wasi_options import add_wasi_arguments, wasi_config, wasi_requested


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("component", help="the component binary (.wasm)")
    parser.add_argument("call", help="the call, e.g. 'add(1, 2)' or 'api#greet(\"x\")' (arguments in WAVE)")
    parser.add_argument("--path", choices=PATHS, default="fast",
                        help="fast: core modules through the cffi binding (default); wasmtime: wasmtime.component")
    parser.add_argument("--json", action="store_true", help="print the result (and diagnostics) as JSON")
    add_limit_arguments(parser)
    parser.add_argument("--allow-wasi", action="store_true",
                        help="grant WASI preview 2 (clocks, random; --dir/--env/--arg grant more and imply it)")
    add_wasi_arguments(parser)


def to_json(value: Any, ty: t.Type | None) -> Any:
    """A JSON form of a value: records as objects, variants as {tag: payload}, results as
    {"ok": v} / {"err": e}, options as null or the value, flags as sorted lists."""
    if ty is None:
        return None
    ty = t.unalias(ty)
    if isinstance(ty, t.PrimitiveType):
        return value
    if isinstance(ty, t.ListType):
        return [to_json(v, ty.element) for v in value]
    if isinstance(ty, t.TupleType):
        return [to_json(v, et) for v, et in zip(value, ty.elements)]
    if isinstance(ty, t.RecordType):
        fields = value.asdict() if isinstance(value, Record) else {f.name: getattr(value, f.name) for f in ty.fields}
        return {f.name: to_json(fields[f.name], f.type) for f in ty.fields}
    if isinstance(ty, t.VariantType):
        assert isinstance(value, Variant)
        case = ty.cases[ty.case_index(value.tag)]
        return {value.tag: to_json(value.value, case.type)}
    if isinstance(ty, t.EnumType):
        return value
    if isinstance(ty, t.FlagsType):
        return sorted(value)
    if isinstance(ty, t.OptionType):
        if value is None:
            return None
        inner = value.value if isinstance(value, Some) else value
        return {"some": to_json(inner, ty.inner)}
    if isinstance(ty, t.ResultType):
        if isinstance(value, Ok):
            return {"ok": to_json(value.value, ty.ok)}
        assert isinstance(value, Err)
        return {"err": to_json(value.value, ty.err)}
    return repr(value)


def run(args: argparse.Namespace) -> int:
    comp = Component.from_file(args.component)
    name, _ = wave.parse_call(args.call)
    full, _, func = comp.resolve(name)
    if func.kind in ("method",) or any(isinstance(t.unalias(p.type), (t.OwnType, t.BorrowType)) for p in func.params):
        raise error("ffi.cli.unsupported", f"{full} takes a resource handle, which cannot be written in WAVE")
    values = wave.parse_call_args(args.call, func)
    # the guest's stdout goes to stderr: stdout carries the result
    wasi = wasi_config(args, Path(args.component).name, list(args.arg), stdout=sys.stderr.buffer,
                       stderr=sys.stderr.buffer) if wasi_requested(args) else False
    inst = comp.instantiate(sandbox=sandbox_from_args(args, wasi=wasi), path=args.path)
    for d in inst.diagnostics:
        print(json.dumps(d.to_json()) if args.json else d.render(), file=sys.stderr)
    path = inst.path
    try:
        result = inst.call(full, *values)
    finally:
        # free the instance (and wasmtime's WASI with its Python output callbacks) now,
        # not during interpreter shutdown, when those callbacks can no longer run
        del inst
        gc.collect()
    if isinstance(t.unalias(func.result) if func.result else None, t.OwnType):
        text = f"<resource {func.result.wit()}>"  # type: ignore[union-attr]
        data: Any = text
    else:
        text = "" if func.result is None else wave.print_value(result, func.result)
        data = to_json(result, func.result)
    if args.json:
        print(json.dumps({"function": full, "path": path, "result": data, "wave": text}, ensure_ascii=False))
    elif func.result is not None:
        print(text)
    return 0
