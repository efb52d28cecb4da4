"""`reml-wasm bench NAME`: each benchmark lives in reml_wasm.benchmarks.NAME."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from .. import progress
from ..audit import error


def _benchmarks() -> tuple[str, ...]:
    """Every module of reml_wasm.benchmarks is one `bench` table."""
    from .. import benchmarks
    return tuple(sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")))


BENCHMARKS = _benchmarks()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=BENCHMARKS, help="which benchmark to run")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions (for smoke tests; figures are noisier)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument("--cases", metavar="IDS",
                        help="comma-separated row ids of the benchmark (`--cases list` prints them)")
    parser.add_argument("--startup", action="store_true",
                        help="component: first vs cached start-up of `reml-wasm call` on a componentize-py component")


def run(args: argparse.Namespace) -> int:
    try:
        mod = importlib.import_module(f"reml_wasm.benchmarks.{args.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"reml_wasm.benchmarks.{args.name}":
            raise
        raise error("bench.unavailable", f"benchmark {args.name!r} is not yet available") from None
    with progress.activity(f"bench {args.name}", delay=0.0):
        return mod.run(args)
