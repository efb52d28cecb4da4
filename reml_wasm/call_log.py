"""The audit log of routed calls: one `AuditEnvelope` per call, as JSON Lines.

A routed call is on the hot path, so its record is prepared once per bound function:
`CallLog.template(metadata)` encodes everything but the latency into two JSON pieces.  A
successful call then only appends `(template, latency_ns)` to a list; the list is encoded
and written in one append (whole lines) when it holds `batch` records, before any other
record (failures and events keep their order), at `flush()` and `close()`, and at
interpreter exit.  No record is dropped: a record is either still in the list or written.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import weakref
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any, Mapping

from .audit import FFI_CALL_KEYS, AuditEnvelope, AuditSink, Diagnostic, ordered

DEFAULT_BATCH = 256


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class CallTemplate:
    """The JSON of one bound function's call record, split around `latency_ns`."""

    __slots__ = ("metadata", "head", "tail", "joiner")

    def __init__(self, metadata: Mapping[str, Any]) -> None:
        self.metadata = dict(metadata)
        marker = "\x00latency\x00"
        text = _json(self.envelope(marker, "success").to_json()) + "\n"  # type: ignore[arg-type]
        self.head, _, self.tail = text.partition(_json(marker))
        self.joiner = self.tail + self.head  # between two latencies of consecutive records

    def envelope(self, latency_ns: int, status: str, diagnostics: list[Diagnostic] | None = None) -> AuditEnvelope:
        """The full envelope of one call."""
        ffi = ordered({**self.metadata["ffi"], "latency_ns": latency_ns, "status": status}, FFI_CALL_KEYS)
        return AuditEnvelope({**self.metadata, "ffi": ffi}, diagnostics=list(diagnostics or []))


def _encode(pending: list[tuple[CallTemplate, int]]) -> str:
    """The JSON Lines of pending records, in order.  Consecutive calls of one function
    share their template, so each run is one `join` of the latencies."""
    parts = []
    for template, run in groupby(pending, key=itemgetter(0)):
        parts.append(template.head)
        parts.append(template.joiner.join([str(lat) for _, lat in run]))
        parts.append(template.tail)
    return "".join(parts)


def _close_at_exit(ref: "weakref.ref[CallLog]") -> None:
    """Write what a log still holds when the interpreter exits (if the log is alive)."""
    log = ref()
    if log is not None:
        log.close()


class CallLog:
    """Routed-call records, batched into an `AuditSink`."""

    def __init__(self, sink: AuditSink | str | os.PathLike[str], *, batch: int = DEFAULT_BATCH) -> None:
        self.sink = sink if isinstance(sink, AuditSink) else AuditSink(sink)
        self.path = self.sink.path
        self.batch = max(1, batch)
        self.pending: list[tuple[CallTemplate, int]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._atexit = partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._atexit)

    def template(self, metadata: Mapping[str, Any]) -> CallTemplate:
        """Prepare the record of one bound function (`metadata["ffi"]` is its call record)."""
        return CallTemplate(metadata)

    def success(self, template: CallTemplate, latency_ns: int) -> None:
        """Record a successful call (the hot path: one append)."""
        self.pending.append((template, latency_ns))
        if len(self.pending) >= self.batch:
            self.flush()

    def failure(self, template: CallTemplate, latency_ns: int, diagnostic: Diagnostic) -> None:
        """Record a failed call with its diagnostic."""
        self.write(template.envelope(latency_ns, "failed", [diagnostic]))

    def result_error(self, template: CallTemplate, latency_ns: int, error_value: Any) -> None:
        """Record a call that returned `err(e)`: the call succeeded; the error goes into a
        diagnostic `ffi.wit.result_err` (severity info) with the error value."""
        detail = error_value if isinstance(error_value, (str, int, float, bool)) or error_value is None \
            else repr(error_value)
        diag = Diagnostic("ffi.wit.result_err", f"{template.metadata['ffi']['symbol']} returned err({detail!r})",
                          severity="info", extensions={"error": detail})
        self.write(template.envelope(latency_ns, "success", [diag]))

    def write(self, envelope: AuditEnvelope) -> None:
        """Write any other record, after the pending ones."""
        self.flush()
        self.sink.write(envelope)

    def flush(self) -> None:
        """Encode and write the pending records, in order, in one append."""
        with self._lock:
            n = len(self.pending)  # the list is shared with bound calls: cut it in place,
            pending = self.pending[:n]  # so records appended meanwhile stay for the next flush
            del self.pending[:n]
            if pending:
                self.sink.write_lines(_encode(pending))

    def close(self) -> None:
        """Write what is pending and close the log (may be called more than once)."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self.sink.close()
        atexit.unregister(self._atexit)
