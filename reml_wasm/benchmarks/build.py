"""`reml-wasm bench build`: a cold `reml-wasm build` against a cache hit, side by side, on
a project binding sqlite3.h (goal: a hit costs at most 10% of a cold build).

The project (a copy of /usr/include/sqlite3.h, a reml.json binding it and linking
libsqlite3) lives in a temporary directory.  Each cold build gets an empty cache
directory; each hit reuses the entry the first cold build stored.  Both are timed in
process (`run_build`, the whole flow including the link check and the audit log) and
as the CLI (`python -m reml_wasm build`, interpreter start included).  A hit is timed
twice: with the outputs already in place (the usual case) and with them deleted first
(the entry's files are written out again).  The cases are timed in interleaved rounds;
figures are medians with their spread, and the goal is judged on this run's medians."""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import USER_ENV, Table, Timing, interleaved, spread, verdict
from ..build import BuildOptions, run_build

HEADER = Path("/usr/include/sqlite3.h")
GOAL = 0.10


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
    """Time cold builds and cache hits in interleaved rounds and print the table."""
    if not HEADER.is_file():
        print(f"{HEADER} is missing: apt-get install libsqlite3-dev")
        return 1
    quick = bool(getattr(args, "quick", False))
    rounds = 7
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        config = _project(Path(tmp) / "project")
        caches = Path(tmp) / "caches"
        hot = str(Path(tmp) / "hot")
        generated = config.parent / "generated"
        fresh = itertools.count()

        def build(cache_dir: str) -> None:
            """One in-process build with `cache_dir`."""
            report = run_build(BuildOptions(config=str(config), cache_dir=cache_dir))
            if report.status != "success":
                raise SystemExit(f"build failed: {[d.render() for d in report.diagnostics]}")

        def cli(cache_dir: str) -> None:
            """One `python -m reml_wasm build` with `cache_dir`, as a user's process."""
            subprocess.run([sys.executable, "-m", "reml_wasm", "build", "--config", str(config),
                            "--cache-dir", cache_dir], check=True, capture_output=True, env=USER_ENV)

        def restore() -> None:
            """A hit with the outputs deleted first (the entry's files are written out again).  The cases are timed in interleaved rounds;
figures are medians with their spread, and the goal is judged on this run's medians."""
            shutil.rmtree(generated, ignore_errors=True)
            build(hot)

        build(hot)  # store the entry the hits use
        cold, hit, restored, cli_cold, cli_hit = interleaved([
            lambda: build(str(caches / f"cold-{next(fresh)}")),
            lambda: build(hot),
            restore,
            lambda: cli(str(caches / f"cli-cold-{next(fresh)}")),
            lambda: cli(hot)], rounds=rounds, quick=quick, single=True, label="cold builds and hits")
        functions = (generated / "sqlite3.reml").read_text().count("\n  fn ")
    table = Table(f"reml-wasm build on a project binding {HEADER}, ms, medians of interleaved rounds",
                  ["path", "cold ms", "cache hit ms", "spread", "hit / cold", "goal"])

    def row(label: str, c: Timing, h: Timing, judged: bool) -> None:
        ratio = h.median / c.median
        table.add(label, c.median / 1e6, h.median / 1e6, spread(c, h), f"{ratio:.1%}",
                  f"<= {GOAL:.0%}: {verdict(ratio, GOAL)}" if judged else "-")
    row("run_build (in process)", cold, hit, True)
    row("run_build, outputs deleted before the hit", cold, restored, True)
    row("python -m reml_wasm build (process)", cli_cold, cli_hit, False)
    table.notes.append(f"{functions} functions bound; {1 if quick else rounds} rounds, each case once per round in "
                       "turn (after one untimed run); each cold build gets an empty cache directory; a hit leaves "
                       "outputs that already hold the right bytes alone; the goal is judged in process (the "
                       "process row adds the interpreter's start to both)")
    table.print(args.json)
    return 0
