"""`reml-wasm gen python BID.yaml -o DIR`: the BID YAML branch of the typed-Python generator.

`run_python(args)` answers for a .yaml/.yml input (a typed client module written into
DIR, named after the file: `file.bid.yaml` -> `file_bid.py`) and returns None for any
other input, so the WIT generator can take the rest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..audit import error, write_atomic
from .written import report_written

__all__ = ["BID_SUFFIXES", "is_bid", "run_python"]

BID_SUFFIXES = (".yaml", ".yml")


def is_bid(path: str) -> bool:
    """Whether `path` names a BID YAML document (by its suffix)."""
    return Path(path).suffix in BID_SUFFIXES


def run_python(args: argparse.Namespace) -> int | None:
    """Write the typed client of the BID document `args.input` into `args.output`
    (`--name` overrides the module name); None when the input is not BID YAML."""
    if not is_bid(args.input):
        return None
    from ..bid import yaml_loader
    from ..codegen import python_client

    source = Path(args.input)
    doc = yaml_loader.load(source)
    module = getattr(args, "name", None)
    if module is None:
        module = python_client.module_name_for(source.name)
    elif not module.isidentifier():
        raise error("ffi.gen.input", f"{module!r} is not a Python module name (use --name)")
    text = python_client.generate(doc.interfaces, doc.boxes, source=source.name, effects=doc.effects)
    target = Path(args.output) / f"{module}.py"
    write_atomic(target, text)
    report_written("gen python", [target], bool(getattr(args, "json", False)))
    return 0
