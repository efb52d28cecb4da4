"""Running a command body in a forked child, so that native code that crashes (a C
function called with an argument outside its domain: `isalpha(1 << 40)`, a pointer
made from a number) ends in a coded diagnostic instead of killing the command.

The child runs the body under the usual diagnostic handling with its Python output
captured; it sends its exit status and output back through a pipe and the parent
prints them.  Output native code writes to the file descriptors directly passes
through as it would in one process.  Where `fork` is missing, or other threads run (a
fork copies only the calling thread, and the locks the others hold), the body runs in
this process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
from typing import Callable

from ..audit import error


def run_isolated(body: Callable[[], int], as_json: bool, what: str) -> int:
    """Run `body` (which prints and returns an exit status; diagnostics it raises are
    printed as usual) in a child process; a child killed by a signal raises
    `ffi.call.crashed` naming `what` and the signal."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return body()
    from . import guarded

    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 70
        try:
            os.close(read_end)
            out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
            err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
            sys.stdout, sys.stderr = out, err
            status = guarded(body, as_json)
            _flush_c_streams()
            report = {"status": status, "out": _text(out), "err": _text(err)}
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(json.dumps(report).encode())
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, wait_status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(wait_status):
        name = signal.Signals(os.WTERMSIG(wait_status)).name
        raise error("ffi.call.crashed", f"{what}: the native code crashed ({name}); "
                    "check the arguments against the function's documented domain", signal=name)
    try:
        report = json.loads(data)
    except ValueError:
        raise error("ffi.call.crashed", f"{what}: the process running the call ended without a result "
                    f"(exit status {os.waitstatus_to_exitcode(wait_status)})") from None
    sys.stdout.write(report["out"])
    sys.stderr.write(report["err"])
    child_status: int = report["status"]
    return child_status


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8")


def _flush_c_streams() -> None:
    """What C code printed with stdio is still in its buffers: `os._exit` would drop it."""
    import ctypes
    ctypes.CDLL(None).fflush(None)
