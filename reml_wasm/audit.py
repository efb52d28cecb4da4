"""Diagnostics, audit envelopes and the JSON Lines audit sink.

Key names and their order are those of Reml's audit records (docs/audit.md).  Every failure a user or a
guest can cause is raised as `DiagnosticError` carrying one or more `Diagnostic`s with a
stable code (`ffi.*`, `wit.*`, `tlv.*`, `cabi.*`).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

SCHEMA_VERSION = "3.0.0-alpha"

Severity = Literal["error", "warning", "info"]

# Keys of metadata["ffi"] in their required order.
FFI_CALL_KEYS = ("event", "library", "symbol", "call_site", "effect_flags", "latency_ns", "status",
                 "capability", "capability_stage", "wrapper")
FFI_WRAPPER_KEYS = ("name", "null_check", "call_mode", "ownership", "error_map")
FFI_BINDGEN_KEYS = ("event", "status", "input_hash", "manifest_path", "headers", "config_path",
                    "output_path", "cache_path", "duration_ms", "tool_version", "error.code",
                    "error.message")
FFI_BUILD_KEYS = ("event", "status", "input_hash", "manifest_path", "libraries", "linker_paths",
                  "frameworks", "extra_args", "duration_ms")
WIT_REQUIRED_KEYS = ("ffi.wit.package", "ffi.wit.world", "ffi.wit.interface", "ffi.wit.direction")
WIT_RECOMMENDED_KEYS = ("ffi.wit.function", "ffi.wit.type.kind", "ffi.wit.resource",
                        "ffi.wit.ownership", "ffi.wit.lift_lower")
CALL_STATUSES = ("success", "failed", "stubbed", "leak")


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column count from 1."""

    file: str | None
    line: int
    column: int
    snippet: str | None = None  # the source line, for the caret display

    def __str__(self) -> str:
        return f"{self.file or '<input>'}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    severity: Severity = "error"
    location: Location | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": self.schema_version, "code": self.code,
                               "severity": self.severity, "message": self.message}
        if self.location is not None:
            out["location"] = {"file": self.location.file, "line": self.location.line,
                               "column": self.location.column}
        if self.extensions:
            out["extensions"] = dict(self.extensions)
        return out

    def render(self) -> str:
        """Human form: `file:line:col: error[code]: message`, then the line and a caret."""
        head = f"{self.severity}[{self.code}]: {self.message}"
        if self.location is None:
            return head
        text = f"{self.location}: {head}"
        if self.location.snippet is not None:
            gutter = f"{self.location.line} | "
            caret = " " * (len(gutter) + max(self.location.column - 1, 0)) + "^"
            text += f"\n{gutter}{self.location.snippet.rstrip()}\n{caret}"
        return text


class DiagnosticError(Exception):
    """An error a user or a guest can cause, with its diagnostics."""

    def __init__(self, *diagnostics: Diagnostic) -> None:
        if not diagnostics:
            raise ValueError("DiagnosticError needs at least one diagnostic")
        self.diagnostics: tuple[Diagnostic, ...] = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))

    @property
    def code(self) -> str:
        return self.diagnostics[0].code

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]


def error(code: str, message: str, *, location: Location | None = None,
          **extensions: Any) -> DiagnosticError:
    """Shorthand: `raise error("ffi.call.failed", "…")`."""
    return DiagnosticError(Diagnostic(code, message, location=location, extensions=extensions))


def ordered(data: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """`data` restricted to `keys`, in that order, absent and None values omitted.
    Unknown keys are a programming error and raise."""
    keys = tuple(keys)
    unknown = set(data) - set(keys)
    if unknown:
        raise KeyError(f"unknown audit keys: {sorted(unknown)}")
    return {k: data[k] for k in keys if k in data and data[k] is not None}


def ffi_call_metadata(*, library: str, symbol: str, status: str, effect_flags: Iterable[str],
                      call_site: str | None = None, latency_ns: int | None = None,
                      capability: str | None = None, capability_stage: str | None = None,
                      wrapper: str | None = None) -> dict[str, Any]:
    if status not in CALL_STATUSES:
        raise ValueError(f"status must be one of {CALL_STATUSES}")
    return ordered({"event": "ffi.call", "library": library, "symbol": symbol,
                    "call_site": call_site, "effect_flags": sorted(set(effect_flags)),
                    "latency_ns": latency_ns, "status": status, "capability": capability,
                    "capability_stage": capability_stage, "wrapper": wrapper}, FFI_CALL_KEYS)


def ffi_wrapper_metadata(*, name: str, null_check: bool, call_mode: str,
                         ownership: str | None = None, error_map: str | None = None) -> dict[str, Any]:
    if call_mode not in ("wrapped", "raw"):
        raise ValueError("call_mode must be wrapped or raw")
    return ordered({"name": name, "null_check": null_check, "call_mode": call_mode,
                    "ownership": ownership, "error_map": error_map}, FFI_WRAPPER_KEYS)


@dataclass
class AuditEnvelope:
    metadata: dict[str, Any] = field(default_factory=dict)
    audit_id: str | None = None
    change_set: str | None = None
    capability: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("audit_id", "change_set", "capability"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["metadata"] = self.metadata
        if self.diagnostics:
            out["diagnostics"] = [d.to_json() for d in self.diagnostics]
        return out

    def check(self) -> list[Diagnostic]:
        """Warnings (`ffi.wrap.audit_missing`, `ffi.wit.audit_missing`) for required keys that are missing."""
        found: list[Diagnostic] = []
        call = self.metadata.get("ffi")
        if isinstance(call, Mapping) and call.get("wrapper") and "ffi.wrapper" not in self.metadata:
            found.append(Diagnostic("ffi.wrap.audit_missing",
                                    "call went through a wrapper but ffi.wrapper metadata is missing",
                                    severity="warning"))
        if any(k.startswith("ffi.wit.") for k in self.metadata):
            missing = [k for k in WIT_REQUIRED_KEYS if k not in self.metadata]
            if missing:
                found.append(Diagnostic("ffi.wit.audit_missing",
                                        f"WIT audit record lacks {', '.join(missing)}",
                                        severity="warning", extensions={"missing": missing}))
        return found


class AuditSink:
    """Appends one JSON object per line.  Each record is written with a single
    `os.write` on a file opened with O_APPEND, so a crash never leaves half a line
    and concurrent writers do not interleave."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, envelope: AuditEnvelope | Mapping[str, Any]) -> None:
        record = envelope.to_json() if isinstance(envelope, AuditEnvelope) else dict(envelope)
        try:
            data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        except UnicodeEncodeError:  # a name that is not UTF-8 (a lone surrogate): kept as a JSON escape
            data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._lock:
            written = os.write(self._fd, data)
            if written != len(data):  # pragma: no cover - only on a full disk
                raise OSError(f"short write to audit log {self.path}")

    def write_lines(self, text: str) -> None:
        """Append already-encoded records (whole lines, each ending in a newline) in one
        write, so a batch is never split."""
        data = text.encode()
        with self._lock:
            written = os.write(self._fd, data)
            if written != len(data):  # pragma: no cover - only on a full disk
                raise OSError(f"short write to audit log {self.path}")

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> "AuditSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_audit_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete record of a JSON Lines audit log.  Text after the last newline is
    a write that never finished (the process died mid-record), not a record."""
    records = []
    text = Path(path).read_text(encoding="utf-8")
    for line in text[:text.rfind("\n") + 1].splitlines():
        if line.strip():
            records.append(json.loads(line))
    return records


def encode_text(text: str) -> bytes:
    """UTF-8 bytes of generated text.  Names the system gave as bytes that are not UTF-8
    (paths, arguments) reach text as lone surrogates; they are written as `\\udcXX`
    escapes, so the file stays UTF-8 and still says which byte it was."""
    return text.encode("utf-8", "backslashreplace")


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write a file through a temporary sibling and rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    payload = encode_text(data) if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()



def write_atomic_group(files: Mapping[str | os.PathLike[str], bytes | str]) -> None:
    """Write several files that belong together (bindings and their manifest) so they
    appear together or not at all: every file is written to a temporary sibling first,
    then each is renamed into place; if a rename fails, the files already replaced get
    their previous contents back (or are removed when they are new).  Raises OSError."""
    tag = f"{os.getpid()}.{threading.get_ident()}"
    items = [(Path(p), encode_text(d) if isinstance(d, str) else d) for p, d in files.items()]
    temps: list[Path] = []
    backups: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for target, payload in items:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{tag}.tmp")
            temps.append(tmp)
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
        for target, _ in items:
            if target.is_file():
                bak = target.with_name(f".{target.name}.{tag}.bak")
                os.link(target, bak)  # the old version, kept until every rename succeeded
                backups[target] = bak
        for (target, _), tmp in zip(items, temps):
            os.replace(tmp, target)
            done.append(target)
    except BaseException:
        for target in reversed(done):
            try:
                if target in backups:
                    os.replace(backups.pop(target), target)
                else:
                    target.unlink()
            except OSError:
                pass
        raise
    finally:
        for leftover in [*temps, *backups.values()]:
            try:
                leftover.unlink()
            except OSError:
                pass
