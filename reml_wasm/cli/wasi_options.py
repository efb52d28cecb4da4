"""The WASI grant options shared by `reml-wasm call` and `reml-wasm run`: `--dir
HOST[::GUEST]`, `--env K=V`, `--arg A` (and `--allow-wasi` for a bare grant)."""

from __future__ import annotations

import argparse
from typing import Any

from ..audit import error
from ..connectors.component import Preopen, WasiConfig


def add_wasi_arguments(parser: argparse.ArgumentParser, *, args: bool = True) -> None:
    """--dir, --dir-ro, --env and (with `args`) --arg."""
    parser.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                        help="grant a host directory (read-write) as GUEST inside the guest (default: the "
                             "same path)")
    parser.add_argument("--dir-ro", action="append", default=[], metavar="HOST[::GUEST]",
                        help="grant a host directory read-only")
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="set a guest environment variable")
    if args:
        parser.add_argument("--arg", action="append", default=[], metavar="A",
                            help="a guest command-line argument (after the program name)")


def _preopen(spec: str, readonly: bool) -> Preopen:
    host, sep, guest = spec.partition("::")
    if not host:
        raise error("ffi.cli.bad_argument", f"--dir {spec!r}: no host directory")
    return Preopen(host, guest if sep else host, readonly)


def wasi_config(args: argparse.Namespace, program: str, guest_args: list[str], *, stdout: Any,
                stderr: Any, stdin: Any = None) -> WasiConfig:
    """The WasiConfig the options grant (`program` is the guest's args[0])."""
    env = []
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise error("ffi.cli.bad_argument", f"--env {item!r}: expected K=V")
        env.append((key, value))
    dirs = [_preopen(d, False) for d in args.dir] + [_preopen(d, True) for d in args.dir_ro]
    return WasiConfig(args=(program, *guest_args), env=tuple(env), dirs=tuple(dirs), stdin=stdin, stdout=stdout,
                      stderr=stderr)


def wasi_requested(args: argparse.Namespace) -> bool:
    """True when any option grants WASI."""
    return bool(getattr(args, "allow_wasi", False) or args.dir or args.dir_ro or args.env
                or getattr(args, "arg", None))
