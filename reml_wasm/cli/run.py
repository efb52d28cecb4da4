"""`reml-wasm run COMPONENT.wasm [ARGS...]`: run a wasi:cli/run command, as `wasmtime run`
does: its stdin, stdout and stderr are this process's, it sees ARGS (after its own name),
`--env` variables and `--dir` directories and nothing else; the exit status is the
command's."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    add_limit_arguments(parser)
    add_wasi_arguments(parser, args=False)


def run(args: argparse.Namespace) -> int:
    """Run the command; its exit status."""
    comp = Component.from_file(args.component)
    config = wasi_config(args, Path(args.component).name, list(args.args), stdin="inherit",
                         stdout="inherit", stderr="inherit")
    sandbox = sandbox_from_args(args, wasi=config)
    return run_command(comp, sandbox, args.path)
