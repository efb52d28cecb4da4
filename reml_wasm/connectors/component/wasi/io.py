"""wasi:io — error, poll and streams.

Output streams write into a sink (a Python callable, a file object, a host file); input
streams read from bytes in memory or a host file.  Every stream is always ready (the host
never makes a guest wait for I/O), so a stream's pollable is ready at once; clock
pollables (clocks.py) are ready when their instant has passed.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ....values import Ok, Variant
from .host import Failure, WasiHost

MAX_WRITE = 1 << 20  # bytes a guest may write per `write` (the answer of check-write)


class IoError:
    """An error resource: a message, and the filesystem error code when there is one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        self.message = message
        self.code = code


def failed(message: str, code: str | None = None) -> Failure:
    """`err(last-operation-failed(error))` for a stream operation."""
    return Failure(Variant("last-operation-failed", IoError(message, code)))


CLOSED = Failure(Variant("closed"))


class Pollable:
    """Ready when `deadline_ns` (monotonic) has passed; None: always ready."""

    def __init__(self, deadline_ns: int | None = None) -> None:
        self.deadline_ns = deadline_ns

    def ready(self) -> bool:
        return self.deadline_ns is None or time.monotonic_ns() >= self.deadline_ns

    def block(self) -> None:
        if self.deadline_ns is not None:
            wait = self.deadline_ns - time.monotonic_ns()
            if wait > 0:
                time.sleep(wait / 1e9)


class OutputStream:
    """Writes to `sink(bytes)`; `closer` runs when the guest drops the stream."""

    def __init__(self, sink: Callable[[bytes], Any] | None, closer: Callable[[], None] | None = None) -> None:
        self.sink = sink
        self.closer = closer

    def write(self, data: bytes) -> None:
        if len(data) > MAX_WRITE:
            raise failed(f"write of {len(data)} bytes exceeds check-write's {MAX_WRITE}")
        if data and self.sink is not None:
            try:
                self.sink(bytes(data))
            except OSError as exc:
                raise failed(str(exc), "io") from None

    def close(self) -> None:
        if self.closer is not None:
            self.closer()
            self.closer = None


class InputStream:
    """Reads through `reader(n) -> bytes` (b"" at the end)."""

    def __init__(self, reader: Callable[[int], bytes], closer: Callable[[], None] | None = None) -> None:
        self.reader = reader
        self.closer = closer

    def read(self, n: int) -> bytes:
        if n == 0:
            return b""
        try:
            data = self.reader(min(n, MAX_WRITE))
        except OSError as exc:
            raise failed(str(exc), "io") from None
        if not data:
            raise CLOSED
        return data

    def close(self) -> None:
        if self.closer is not None:
            self.closer()
            self.closer = None


def memory_reader(data: bytes) -> Callable[[int], bytes]:
    """A reader handing out `data` front to back (b"" once it is used up)."""
    pos = [0]

    def read(n: int) -> bytes:
        chunk = data[pos[0]:pos[0] + n]
        pos[0] += len(chunk)
        return chunk
    return read


# --- wasi:io/error ----------------------------------------------------------------------

def _error_to_debug_string(host: WasiHost, err: IoError) -> str:
    return err.message


ERROR = {"[method]error.to-debug-string": _error_to_debug_string}


# --- wasi:io/poll -----------------------------------------------------------------------

def _pollable_ready(host: WasiHost, p: Pollable) -> bool:
    return p.ready()


def _pollable_block(host: WasiHost, p: Pollable) -> None:
    p.block()


def _poll(host: WasiHost, pollables: list[Pollable]) -> list[int]:
    if not pollables:
        from .... import cabi
        raise cabi.Trap("wasi:io/poll#poll: an empty list of pollables would block forever")
    while True:
        ready = [i for i, p in enumerate(pollables) if p.ready()]
        if ready:
            return ready
        soonest = min(p.deadline_ns for p in pollables if p.deadline_ns is not None)
        Pollable(soonest).block()


POLL = {"[method]pollable.ready": _pollable_ready, "[method]pollable.block": _pollable_block, "poll": _poll}


# --- wasi:io/streams --------------------------------------------------------------------

def _read(host: WasiHost, s: InputStream, n: int) -> Any:
    return Ok(s.read(n))


def _skip(host: WasiHost, s: InputStream, n: int) -> Any:
    return Ok(len(s.read(n)))


def _check_write(host: WasiHost, s: OutputStream) -> Any:
    return Ok(MAX_WRITE)


def _write(host: WasiHost, s: OutputStream, data: bytes) -> Any:
    s.write(data)
    return Ok(None)


def _flush(host: WasiHost, s: OutputStream) -> Any:
    return Ok(None)


def _write_zeroes(host: WasiHost, s: OutputStream, n: int) -> Any:
    s.write(bytes(n))
    return Ok(None)


def _splice(host: WasiHost, dst: OutputStream, src: InputStream, n: int) -> Any:
    try:
        data = src.read(min(n, MAX_WRITE))
    except Failure:
        raise
    dst.write(data)
    return Ok(len(data))


def _subscribe(host: WasiHost, s: Any) -> Pollable:
    return Pollable()


STREAMS = {
    "[method]input-stream.read": _read, "[method]input-stream.blocking-read": _read,
    "[method]input-stream.skip": _skip, "[method]input-stream.blocking-skip": _skip,
    "[method]input-stream.subscribe": _subscribe,
    "[method]output-stream.check-write": _check_write, "[method]output-stream.write": _write,
    "[method]output-stream.blocking-write-and-flush": _write, "[method]output-stream.flush": _flush,
    "[method]output-stream.blocking-flush": _flush, "[method]output-stream.subscribe": _subscribe,
    "[method]output-stream.write-zeroes": _write_zeroes,
    "[method]output-stream.blocking-write-zeroes-and-flush": _write_zeroes,
    "[method]output-stream.splice": _splice, "[method]output-stream.blocking-splice": _splice,
}
