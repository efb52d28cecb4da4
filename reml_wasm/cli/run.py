"""`reml-wasm run COMPONENT.wasm [ARGS...]`: run a wasi:cli/run command, as `wasmtime run`
does: its stdin, stdout and stderr are this process's, it sees ARGS (after its own name),
`--env` variables and `--dir` directories and nothing else; the exit status is the
command's."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..connectors.component import PATHS, Component, Sandbox
from ..connectors.component.wasi.command import run_command
from .call import check_limits
from .wasi_options import add_wasi_arguments, wasi_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `reml-wasm run`."""
    parser.add_argument("component", help="the command component (.wasm, exporting wasi:cli/run)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the command")
    parser.add_argument("--path", choices=PATHS, default="fast",
                        help="fast: core modules through the cffi binding (default); wasmtime: wasmtime.component")
    parser.add_argument("--fuel", type=int, default=None, help="fuel for the run (stops runaway guests)")
    parser.add_argument("--timeout", type=float, default=None, help="wall-clock seconds for the run")
    parser.add_argument("--memory-limit", type=int, default=None, help="linear memory limit in bytes")
    add_wasi_arguments(parser, args=False)


def run(args: argparse.Namespace) -> int:
    """Run the command; its exit status."""
    check_limits(args)
    comp = Component.from_file(args.component)
    config = wasi_config(args, Path(args.component).name, list(args.args), stdin="inherit",
                         stdout="inherit", stderr="inherit")
    sandbox = Sandbox(fuel=args.fuel, timeout=args.timeout, memory_limit=args.memory_limit, wasi=config)
    return run_command(comp, sandbox, args.path)
