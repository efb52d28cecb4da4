"""`reml-wasm wit PATH [--json]`: resolve WIT; print canonical WIT or the JSON that
`wasm-tools component wit --json` prints for the same input."""

from __future__ import annotations

import argparse
import gc
import sys

from .. import wit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a .wit file, or a directory of .wit files with deps/")
    parser.add_argument("--json", action="store_true",
                        help="print the resolved packages as wasm-tools JSON (diagnostics as JSON too)")
    parser.add_argument("--features", default="",
                        help="comma-separated features that enable @unstable(feature = …) items")
    parser.add_argument("--all-features", action="store_true", help="enable every @unstable feature")


def run(args: argparse.Namespace) -> int:
    features = [f for f in args.features.split(",") if f]
    # The cyclic collector stays off until the graph is released: turned back on while the
    # model is alive, it would walk every object allocated since (a few ms per pass).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        resolved = wit.load(args.path, features, all_features=args.all_features)
        # bytes, so that the output does not depend on the locale's encoding
        data = resolved.to_json_bytes() if args.json else resolved.to_wit().encode("utf-8")
        del resolved
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    finally:
        if was_enabled:
            gc.enable()
    return 0
