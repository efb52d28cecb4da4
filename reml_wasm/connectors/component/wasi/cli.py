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


def get_environment(host: WasiHost) -> list[tuple[str, str]]:
    return list(host.env_pairs)


def get_arguments(host: WasiHost) -> list[str]:
    return list(host.config.args)


def initial_cwd(host: WasiHost) -> None:
    return None


ENVIRONMENT = {"get-environment": get_environment, "get-arguments": get_arguments, "initial-cwd": initial_cwd}


def exit_(host: WasiHost, status: Any) -> None:
    raise WasiExit(0 if isinstance(status, Ok) else 1)


def exit_with_code(host: WasiHost, code: int) -> None:
    raise WasiExit(code)


EXIT = {"exit": exit_, "exit-with-code": exit_with_code}


def get_stdin(host: WasiHost) -> InputStream:
    data = host.config.stdin
    if data == "inherit":
        return InputStream(lambda n: sys.stdin.buffer.read1(n))
    return InputStream(memory_reader(bytes(data or b"")))


def get_stdout(host: WasiHost) -> OutputStream:
    return OutputStream(output_sink(host.config.stdout, lambda: sys.stdout.buffer))


def get_stderr(host: WasiHost) -> OutputStream:
    return OutputStream(output_sink(host.config.stderr, lambda: sys.stderr.buffer))


STDIN = {"get-stdin": get_stdin}
STDOUT = {"get-stdout": get_stdout}
STDERR = {"get-stderr": get_stderr}


def no_terminal(host: WasiHost) -> None:
    return None


TERMINAL_STDIN = {"get-terminal-stdin": no_terminal}
TERMINAL_STDOUT = {"get-terminal-stdout": no_terminal}
TERMINAL_STDERR = {"get-terminal-stderr": no_terminal}

