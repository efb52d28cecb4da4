"""Running a `wasi:cli/run` command, as `wasmtime run` does: instantiate with the WASI
grant, call `run`, and give the exit status (0 for ok, 1 for err, or the status the guest
passed to wasi:cli/exit) — the same on both paths."""

from __future__ import annotations

import re
from typing import Any

from .... import cabi
from ....audit import error
from ....values import Ok
from .cli import WasiExit

_RUN = re.compile(r"^wasi:cli/run@0\.2\.\d+$")
_EXIT_STATUS = re.compile(r"[Ee]xit(?:ed with i32 exit)? status (\d+)")


def run_export(component: Any) -> str:
    """The full name of the command's `run` function."""
    for full in component.exports():
        key, _, func = full.partition("#")
        if _RUN.match(key) and func == "run":
            return full
    raise error("ffi.component.no_export", f"{component.source} is not a command: it exports no wasi:cli/run")


def run_command(component: Any, sandbox: Any, path: str = "fast") -> int:
    """Run the command; its output goes where `sandbox.wasi` sends it."""
    name = run_export(component)
    inst = component.instantiate(sandbox=sandbox, path=path)
    try:
        result = inst.call(name)
    except WasiExit as exc:
        return exc.code
    except cabi.Trap as exc:
        m = _EXIT_STATUS.search(exc.diagnostic.message)
        if m is None:
            raise
        return int(m.group(1))
    return 0 if isinstance(result, Ok) else 1
