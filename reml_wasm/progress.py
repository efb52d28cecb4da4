"""Progress on the terminal for work that can take more than a second.

Long work (guest builds, compiles, benchmarks, bindgen over many headers, the PoC) runs
inside `activity("what")`: after `delay` seconds a transient spinner with the elapsed time
appears on stderr, and `note("detail")` updates its text.  Nothing is shown when stderr is
not a terminal, when `set_quiet(True)` was called (the CLI's `--quiet`), or when the
environment variable REML_WASM_QUIET is set to a non-empty value; work that ends before
`delay` shows nothing either.  Output on stdout is never touched.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["activity", "note", "quiet", "set_quiet"]

_quiet = False
_lock = threading.Lock()
_current: list["_Activity"] = []


def set_quiet(flag: bool) -> None:
    """Turn progress display off (True) or back on (False) for this process."""
    global _quiet
    _quiet = flag


def quiet() -> bool:
    """Whether progress is suppressed: `set_quiet`, REML_WASM_QUIET, or stderr not a terminal."""
    return _quiet or bool(os.environ.get("REML_WASM_QUIET")) or not sys.stderr.isatty()


class _Activity:
    def __init__(self, description: str, delay: float) -> None:
        self.description = description
        self.detail = ""
        self._status: Any = None
        self._timer = threading.Timer(delay, self._show)
        self._timer.daemon = True

    def _text(self) -> str:
        return f"{self.description}: {self.detail}" if self.detail else self.description

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with _lock:
            if self._status is not None:
                return
            progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True,
                                redirect_stdout=False, redirect_stderr=False)
            self._task = progress.add_task(self._text(), total=None)
            progress.start()
            self._status = progress

    def update(self, detail: str) -> None:
        self.detail = detail
        with _lock:
            if self._status is not None:
                self._status.update(self._task, description=self._text())

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()
        with _lock:
            if self._status is not None:
                self._status.stop()
            self._status = False  # never shown after this


@contextmanager
def activity(description: str, *, delay: float = 1.0) -> Iterator[None]:
    """Show a spinner for `description` if the work inside takes longer than `delay` s.

    Activities nest: an inner one shows only when no outer one is displayed, and `note`
    always updates the innermost."""
    if quiet() or _current:
        if _current:
            outer = _current[-1]
            saved = outer.detail
            outer.update(description)
            try:
                yield
            finally:
                outer.update(saved)
        else:
            yield
        return
    act = _Activity(description, delay)
    _current.append(act)
    act.start()
    try:
        yield
    finally:
        act.stop()
        _current.remove(act)


def note(detail: str) -> None:
    """Update the text of the activity in progress (a no-op when there is none)."""
    if _current:
        _current[-1].update(detail)
