"""`reml-wasm build`: run the reml.json ffi build (bindgen, cache, link check, audit).

Exit 0 when the build succeeded (warnings are printed), 1 when it failed.  With
`--format json` one JSON object (status, input hash, cache outcome, audit envelopes,
diagnostics) goes to stdout; otherwise a short summary goes to stdout and the
diagnostics, with their file:line:col, to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..build import DEFAULT_CACHE_DIR, BuildOptions, run_build
from ..build.config import DEFAULT_CONFIG


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `reml-wasm build`."""
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the project file (default reml.json)")
    parser.add_argument("--emit-bindgen", action="store_true",
                        help="run reml-bindgen even when ffi.bindgen.enabled is false")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help=f"cache directory (default <project>/{DEFAULT_CACHE_DIR})")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the cache (always a fresh bindgen run)")
    parser.add_argument("--format", choices=("human", "json"), default="human")
    parser.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def run(args: argparse.Namespace) -> int:
    """Run the build and print its outcome."""
    report = run_build(BuildOptions(config=args.config, emit_bindgen=args.emit_bindgen,
                                    cache_dir=args.cache_dir, use_cache=not args.no_cache))
    if args.format == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for d in report.diagnostics:
            print(d.render(), file=sys.stderr)
        summary = f"build {report.status}"
        if report.input_hash:
            summary += f": input {report.input_hash}, cache {report.cache}"
        for out in report.outputs:
            summary += f"\n  wrote {out}"
        print(summary)
    return 0 if report.status == "success" else 1
