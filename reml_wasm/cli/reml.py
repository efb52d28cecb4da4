"""`reml-wasm reml PATH --world W -o out.reml [--manifest out.json] [--json]`: Reml bindings
and a type manifest for a WIT world (`--json`: the files written, as one JSON document)."""

from __future__ import annotations

import argparse

from .. import reml, wit
from ..audit import error, write_atomic_group
from ..reml.common import module_name, render_json
from .written import add_json_argument, report_written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a .wit file, or a directory of .wit files with deps/")
    parser.add_argument("--world", help="the world to bind (`w`, or `ns:pkg/w` in another package); "
                        "default: the main package's only world")
    parser.add_argument("-o", "--output", required=True, help="the .reml file to write (its path gives the module name)")
    parser.add_argument("--manifest", help="also write the JSON manifest here")
    parser.add_argument("--features", default="",
                        help="comma-separated features that enable @unstable(feature = …) items")
    add_json_argument(parser)


def run(args: argparse.Namespace) -> int:
    if not args.output.endswith(".reml"):
        raise error("ffi.reml.output", f"{args.output}: the output must be a .reml file")
    resolved = wit.load(args.path, [f for f in args.features.split(",") if f])
    if args.world is None:
        worlds = resolved.main.worlds
        if len(worlds) != 1:
            names = ", ".join(w.name for w in worlds) or "none"
            raise error("ffi.reml.world", f"{args.path}: choose a world with --world (package "
                        f"{resolved.main.name} has: {names})")
        world = worlds[0]
    else:
        world = resolved.world(args.world)
    bindings = reml.plan(world)
    outputs = {args.output: reml.render(bindings, module_name(args.output))}
    if args.manifest:
        outputs[args.manifest] = render_json(reml.manifest(bindings, args.path, args.output))
    try:
        write_atomic_group(outputs)  # the bindings and their manifest appear together or not at all
    except OSError as exc:
        raise error("ffi.reml.write_failed", f"cannot write {exc.filename or args.output}: "
                    f"{exc.strerror or exc}; nothing was written") from None
    report_written("reml", outputs, args.json)
    return 0
