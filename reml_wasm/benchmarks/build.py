"""`reml-wasm bench build`: a cold `reml-wasm build` against a cache hit, side by side, on
a project binding sqlite3.h (goal: a hit costs at most 10% of a cold build).

The project (a copy of /usr/include/sqlite3.h, a reml.json binding it and linking
libsqlite3) lives in a temporary directory.  Each cold build gets an empty cache
directory; each hit reuses the entry the first cold build stored.  Both are timed in
process (`run_build`, the whole flow including the link check and the audit log) and
as the CLI (`python -m reml_wasm build`, interpreter start included).  A hit is timed
twice: with the outputs already in place (the usual case) and with them deleted first
(the entry's files are written out again)."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from . import Table
from ..build import BuildOptions, run_build

HEADER = Path("/usr/include/sqlite3.h")
GOAL = 0.10


def _median_ms(fn: Callable[[int], object], repeat: int,
               setup: Callable[[], object] = lambda: None) -> float:
    samples = []
    for i in range(repeat):
        setup()
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def _project(root: Path) -> Path:
    (root / "include").mkdir(parents=True)
    shutil.copy(HEADER, root / "include" / "sqlite3.h")
    config = root / "reml.json"
    config.write_text(json.dumps({"ffi": {
        "libraries": ["sqlite3"], "headers": ["include/sqlite3.h"],
        "bindgen": {"enabled": True, "output": "generated/sqlite3.reml",
                    "manifest": "generated/bindings.manifest.json"}}}, indent=2))
    return config


def run(args: argparse.Namespace) -> int:
    """Time cold builds and cache hits side by side and print the table."""
    if not HEADER.is_file():
        print(f"{HEADER} is missing: apt-get install libsqlite3-dev")
        return 1
    repeat = 3 if args.quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        config = _project(Path(tmp) / "project")
        caches = Path(tmp) / "caches"
        hot = str(Path(tmp) / "hot")

        def build(cache_dir: str) -> None:
            """One in-process build with `cache_dir`."""
            report = run_build(BuildOptions(config=str(config), cache_dir=cache_dir))
            if report.status != "success":
                raise SystemExit(f"build failed: {[d.render() for d in report.diagnostics]}")

        def cli(cache_dir: str) -> None:
            """One `python -m reml_wasm build` with `cache_dir`."""
            subprocess.run([sys.executable, "-m", "reml_wasm", "build", "--config", str(config),
                            "--cache-dir", cache_dir], check=True, capture_output=True)

        build(hot)  # store the entry the hits use
        cold_ms = _median_ms(lambda i: build(str(caches / f"cold-{i}")), repeat)
        hit_ms = _median_ms(lambda i: build(hot), repeat)
        generated = config.parent / "generated"
        restore_ms = _median_ms(lambda i: build(hot), repeat,
                                setup=lambda: shutil.rmtree(generated, ignore_errors=True))
        cli_cold_ms = _median_ms(lambda i: cli(str(caches / f"cli-cold-{i}")), repeat)
        cli_hit_ms = _median_ms(lambda i: cli(hot), repeat)
        functions = (config.parent / "generated" / "sqlite3.reml").read_text().count("\n  fn ")
    table = Table(f"reml-wasm build on a project binding {HEADER} (median of {repeat})",
                  ["path", "cold ms", "cache hit ms", "hit / cold"])
    table.add("run_build (in process)", cold_ms, hit_ms, f"{hit_ms / cold_ms:.1%}")
    table.add("run_build, outputs deleted before the hit", cold_ms, restore_ms, f"{restore_ms / cold_ms:.1%}")
    table.add("python -m reml_wasm build", cli_cold_ms, cli_hit_ms, f"{cli_hit_ms / cli_cold_ms:.1%}")
    worst = max(hit_ms, restore_ms) / cold_ms
    verdict = "meets" if worst <= GOAL else "MISSES"
    table.notes.append(f"{functions} functions bound; a hit in process costs at most {worst:.1%} "
                       f"of a cold build: {verdict} the {GOAL:.0%} goal (a hit leaves outputs that "
                       "already hold the right bytes alone; the CLI row adds the interpreter's start "
                       "to both)")
    table.print(args.json)
    return 0
