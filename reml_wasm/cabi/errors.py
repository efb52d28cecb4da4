"""Errors of the Canonical ABI engine."""

from __future__ import annotations

from typing import Any

from ..audit import Diagnostic, DiagnosticError


class Trap(DiagnosticError):
    """The guest broke the Canonical ABI contract (code `cabi.trap`).

    Raised for every hostile or malformed input: pointers outside memory or misaligned,
    bad discriminants, invalid chars or string encodings, lengths past the maximum,
    misused resource handles."""

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(Diagnostic("cabi.trap", message, extensions=extensions))


def unsupported(what: str) -> DiagnosticError:
    """A type or option the engine cannot marshal (a host-side configuration error)."""
    return DiagnosticError(Diagnostic("cabi.unsupported", what))


def bad_options(what: str) -> DiagnosticError:
    """Options lack something the signature needs (memory, realloc)."""
    return DiagnosticError(Diagnostic("cabi.options", what))
