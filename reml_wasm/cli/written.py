"""What a file-writing subcommand (`reml`, `gen …`) prints once its files are written:
their paths, one per line, or with `--json` one JSON document listing them."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Iterable


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    """`--json`: report the written files (and any diagnostics) as JSON."""
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document listing the files written (diagnostics as JSON too)")


def report_written(command: str, paths: Iterable[str | os.PathLike[str]], as_json: bool) -> None:
    """Print the files `command` wrote: each path on a line, or (`as_json`) the document
    `{"command": …, "ok": true, "files": [{"path": …, "bytes": …}, …]}`."""
    files = [Path(p) for p in paths]
    if not as_json:
        for path in files:
            print(path)
        return
    doc = {"command": command, "ok": True,
           "files": [{"path": str(p), "bytes": p.stat().st_size} for p in files]}
    print(json.dumps(doc, ensure_ascii=False, indent=2))
