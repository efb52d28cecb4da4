"""`reml-wasm run COMPONENT.wasm [ARGS...]`: run a wasi:cli/run command, as `wasmtime run`
does: its stdin, stdout and stderr are this process's, it sees ARGS (after its own name),
`--env` variables and `--dir` directories and nothing else; the exit status is the
command's.

With `--json` the command's stdout and stderr are captured instead and printed, with its
exit status, as one JSON document: `{"component", "path", "exit_code", "stdout",
"stdout_encoding", "stderr", "stderr_encoding", "error"}`.  Output that is UTF-8 is given
as text (`"utf-8"`), other bytes in base64 (`"base64"`), so nothing is lost; `error` is
the diagnostic of a command that trapped (exit code 1), else null.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
from pathlib import Path
from typing import Any

from .. import cabi
from . import EXIT_USER_ERROR
from ..connectors.component import PATHS, Component
from ..connectors.component.wasi.command import run_command
from .limits import add_limit_arguments, sandbox_from_args
from .wasi_options import add_wasi_arguments, wasi_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `reml-wasm run`."""
    parser.add_argument("component", help="the command component (.wasm, exporting wasi:cli/run)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the command")
    parser.add_argument("--path", choices=PATHS, default="fast",
                        help="fast: core modules through the cffi binding (default); wasmtime: wasmtime.component")
    parser.add_argument("--json", action="store_true",
                        help="capture the command's stdout and stderr and print them with its exit code as JSON")
    add_limit_arguments(parser)
    add_wasi_arguments(parser, args=False)


def output_json(data: bytes) -> tuple[str, str]:
    """(text, encoding) of captured output: the text itself when it is UTF-8, else base64."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def run(args: argparse.Namespace) -> int:
    """Run the command; its exit status."""
    comp = Component.from_file(args.component)
    if not args.json:
        config = wasi_config(args, Path(args.component).name, list(args.args), stdin="inherit",
                             stdout="inherit", stderr="inherit")
        return run_command(comp, sandbox_from_args(args, wasi=config), args.path)
    out, err = bytearray(), bytearray()
    config = wasi_config(args, Path(args.component).name, list(args.args), stdin="inherit",
                         stdout=out.extend, stderr=err.extend)
    sandbox = sandbox_from_args(args, wasi=config)
    failure: Any = None
    try:
        status = run_command(comp, sandbox, args.path)
    except cabi.Trap as exc:  # the guest trapped: what it wrote before is still reported
        failure, status = exc.diagnostic.to_json(), EXIT_USER_ERROR  # as without --json
    # free the instance (and wasmtime's WASI with its Python output callbacks) now, not
    # during interpreter shutdown, when those callbacks can no longer run
    gc.collect()
    doc: dict[str, Any] = {"component": args.component, "path": args.path, "exit_code": status}
    for name, data in (("stdout", out), ("stderr", err)):
        doc[name], doc[f"{name}_encoding"] = output_json(bytes(data))
    doc["error"] = failure
    print(json.dumps(doc, ensure_ascii=False))
    return status
