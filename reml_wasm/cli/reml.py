"""`reml-wasm reml PATH --world W -o out.reml`: Reml bindings + type manifest for a world."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .. import wit
from ..audit import error, write_atomic
from ..reml.wit_bindings import emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a .wit file, or a directory of .wit files with deps/")
    parser.add_argument("--world", help="world name (`w`, or `ns:pkg/w`); optional when there is one")
    parser.add_argument("-o", "--output", required=True, help="the .reml file to write")
    parser.add_argument("--manifest", help="manifest path (default: OUTPUT with .manifest.json)")
    parser.add_argument("--features", default="", help="comma-separated @unstable features to enable")


def module_path(output: Path) -> str:
    """`module a.b.c` from the output path (relative to the working directory when inside it)."""
    try:
        rel = output.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        rel = Path(output.name)
    parts = [p.replace("-", "_") for p in rel.with_suffix("").parts]
    return ".".join(parts)


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix != ".reml":
        raise error("wit.reml.output_invalid", f"output must end in .reml: {output}")
    resolved = wit.load(args.path, [f for f in args.features.split(",") if f])
    if args.world:
        world = resolved.world(args.world)
    elif len(resolved.main.worlds) == 1:
        world = resolved.main.worlds[0]
    else:
        names = ", ".join(w.name for w in resolved.main.worlds) or "none"
        raise error("wit.reml.world_required", f"name a world with --world (worlds: {names})")
    text, manifest = emit(world, module_path(output), os.fspath(args.path))
    manifest_path = Path(args.manifest) if args.manifest else output.with_suffix(".manifest.json")
    write_atomic(output, text)
    write_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {output} and {manifest_path}")
    return 0
