"""`reml-wasm poc [--out DIR]`: the WIT PoC end to end (scenario FFI-WIT-001).

Writes DIR/poc.reml, DIR/bindings.manifest.json, DIR/poc_bindings/, DIR/run-log.md and
DIR/audit.jsonl (DIR defaults to ./poc-out) and prints the summary table.  Exit 1 when a
call gives different results on the two connectors.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="poc-out", help="output directory (default: ./poc-out)")
    parser.add_argument("--json", action="store_true",
                        help="print the calls as one JSON document (progress lines go to stderr)")


def run(args: argparse.Namespace) -> int:
    from ..audit import error
    from ..poc.pipeline import run as run_poc
    try:
        return run_poc(Path(args.out), as_json=args.json)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise error("ffi.poc.output", f"cannot write the PoC's outputs to {args.out}: {exc.strerror or exc}",
                    path=str(args.out)) from None
