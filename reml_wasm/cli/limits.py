"""Sandbox limits as command-line options, shared by the commands that run guests.

Every number is read as text and range-checked here, so a value the runtime cannot hold
(`--fuel 2**70`, `--memory-limit` past 64 bits, `--timeout inf`) is the coded error
`ffi.cli.bad_argument` instead of a wrapped-around limit or an argparse usage message.
A call runs under DEFAULT_TIMEOUT seconds unless `--timeout`/`--fuel` set a limit of
their own or `--no-limit` lifts it, so a looping guest never hangs the command.
"""

from __future__ import annotations

import argparse
from typing import Any
import math
import re

from ..audit import error
from ..connectors.component import Sandbox
from ..connectors.component.sandbox import MAX_TIMEOUT

DEFAULT_TIMEOUT = 60.0
MAX_FUEL = (1 << 64) - 1
MAX_MEMORY = (1 << 63) - 1
_UNITS = {"": 1, "k": 1000, "ki": 1 << 10, "m": 1000 ** 2, "mi": 1 << 20, "g": 1000 ** 3, "gi": 1 << 30}
_BYTES = re.compile(r"^\s*([0-9][0-9_]*)\s*([kKmMgG]i?)?[bB]?\s*$")


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """--fuel, --timeout, --memory-limit and --no-limit."""
    parser.add_argument("--fuel", default=None, metavar="N",
                        help="fuel for the call, 1 to 2**64-1 (stops runaway guests)")
    parser.add_argument("--timeout", default=None, metavar="SECONDS",
                        help=f"wall-clock seconds for the call (default {DEFAULT_TIMEOUT:g} unless --fuel "
                             f"is given; at most {MAX_TIMEOUT:g})")
    parser.add_argument("--memory-limit", default=None, metavar="BYTES",
                        help="linear memory limit in bytes (suffixes Ki, Mi, Gi, K, M, G)")
    parser.add_argument("--no-limit", action="store_true",
                        help="run without the default timeout (explicit limits still apply)")


def _bad(option: str, text: str, why: str) -> Exception:
    return error("ffi.cli.bad_argument", f"{option} {text!r}: {why}", option=option)


def parse_count(text: str, option: str, high: int) -> int:
    """A positive integer up to `high`."""
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise _bad(option, text, "not a whole number") from None
    if not 1 <= value <= high:
        raise _bad(option, text, f"must be between 1 and {high}")
    return value


def parse_seconds(text: str, option: str, high: float) -> float:
    """Positive, finite seconds up to `high`."""
    try:
        value = float(text.strip())
    except ValueError:
        raise _bad(option, text, "not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= high:
        raise _bad(option, text, f"must be finite seconds above 0 and at most {high:g}")
    return value


def parse_bytes(text: str, option: str, high: int) -> int:
    """A positive byte count up to `high`, with an optional unit suffix."""
    m = _BYTES.match(text)
    if not m:
        raise _bad(option, text, "not a byte count (a whole number, optionally with Ki, Mi, Gi, K, M or G)")
    value = int(m.group(1).replace("_", "")) * _UNITS[(m.group(2) or "").lower()]
    if not 1 <= value <= high:
        raise _bad(option, text, f"must be between 1 and {high} bytes")
    return value


def sandbox_from_args(args: argparse.Namespace, *, wasi: Any = False) -> Sandbox:
    """The Sandbox the options ask for (the default timeout unless lifted or replaced)."""
    fuel = None if args.fuel is None else parse_count(args.fuel, "--fuel", MAX_FUEL)
    timeout = None if args.timeout is None else parse_seconds(args.timeout, "--timeout", MAX_TIMEOUT)
    memory = None if args.memory_limit is None else parse_bytes(args.memory_limit, "--memory-limit", MAX_MEMORY)
    if timeout is None and fuel is None and not args.no_limit:
        timeout = DEFAULT_TIMEOUT
    return Sandbox(fuel=fuel, timeout=timeout, memory_limit=memory, wasi=wasi)
