"""wasi:cli — environment, exit, stdin/stdout/stderr and terminal-*: what `WasiConfig`
grants (arguments, environment, the three standard streams); no terminal is ever
exposed."""

from __future__ import annotations

import sys
from typing import Any, Callable

from ....values import Ok
from .host import WasiHost
from .io import InputStream, OutputStream, memory_reader


class WasiExit(Exception):
    """The guest called wasi:cli/exit: `code` is its exit status.  The instance cannot be
    entered again (as after a trap)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"the guest exited with status {code}")
        self.code = code


def output_sink(target: Any, inherit: Callable[[], Any]) -> Callable[[bytes], Any] | None:
    """A `WasiConfig` stdout/stderr value as a function taking bytes."""
    if target is None:
        return None
    if target == "inherit":
        def write(data: bytes) -> None:
            stream = inherit()
            stream.write(data)
            stream.flush()
        return write
    if callable(target):
        return target
    return target.write


def _get_environment(host: WasiHost) -> list[tuple[str, str]]:
    return list(host.env_pairs)


def _get_arguments(host: WasiHost) -> list[str]:
    return list(host.config.args)


def _initial_cwd(host: WasiHost) -> None:
    return None


ENVIRONMENT = {"get-environment": _get_environment, "get-arguments": _get_arguments, "initial-cwd": _initial_cwd}


def _exit_(host: WasiHost, status: Any) -> None:
    raise WasiExit(0 if isinstance(status, Ok) else 1)


def _exit_with_code(host: WasiHost, code: int) -> None:
    raise WasiExit(code)


EXIT = {"exit": _exit_, "exit-with-code": _exit_with_code}


def _get_stdin(host: WasiHost) -> InputStream:
    data = host.config.stdin
    if isinstance(data, str):  # "inherit", the one text WasiConfig accepts
        return InputStream(_process_stdin)
    return InputStream(memory_reader(bytes(data or b"")))


def _process_stdin(n: int) -> bytes:
    """Up to `n` bytes of this process's stdin (b"", the end, when it has none)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        return b""
    try:
        return stream.read1(n)
    except ValueError:  # closed
        return b""


def _get_stdout(host: WasiHost) -> OutputStream:
    return OutputStream(output_sink(host.config.stdout, lambda: sys.stdout.buffer))


def _get_stderr(host: WasiHost) -> OutputStream:
    return OutputStream(output_sink(host.config.stderr, lambda: sys.stderr.buffer))


STDIN = {"get-stdin": _get_stdin}
STDOUT = {"get-stdout": _get_stdout}
STDERR = {"get-stderr": _get_stderr}


def _no_terminal(host: WasiHost) -> None:
    return None


TERMINAL_STDIN = {"get-terminal-stdin": _no_terminal}
TERMINAL_STDOUT = {"get-terminal-stdout": _no_terminal}
TERMINAL_STDERR = {"get-terminal-stderr": _no_terminal}

