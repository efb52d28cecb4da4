"""Source files and `wit.*` diagnostics with file:line:col and a snippet."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..audit import DiagnosticError, Location, error


@dataclass
class Source:
    """One WIT file's text, with a line index for turning offsets into locations."""

    path: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def offset_of(self, line: int, column: int) -> int:
        """The offset of a 1-based line and column."""
        self.location(0)  # builds the line index
        return self._line_starts[min(line, len(self._line_starts)) - 1] + column - 1

    def location(self, offset: int) -> Location:
        if not self._line_starts:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        start = self._line_starts[line]
        end = self.text.find("\n", start)
        snippet = self.text[start:] if end < 0 else self.text[start:end]
        return Location(self.path, line + 1, offset - start + 1, snippet)


class Span:
    """A position in a source: used by every AST node for diagnostics.  (A plain slotted
    class: the parser makes one per name, and a frozen dataclass is several times slower
    to construct.)"""

    __slots__ = ("source", "offset")

    def __init__(self, source: Source, offset: int) -> None:
        self.source = source
        self.offset = offset

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and self.source == other.source and self.offset == other.offset

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Span({self.source.path!r}, {self.offset})"

    def location(self) -> Location:
        return self.source.location(self.offset)


def fail(code: str, message: str, span: Span | None = None) -> DiagnosticError:
    """Build a `wit.*` diagnostic error (raise it)."""
    return error(code, message, location=None if span is None else span.location())


# Stable diagnostic codes (documented in docs/wit.md).
CODES = {
    "wit.lex.invalid_character": "a character that starts no WIT token",
    "wit.lex.unterminated_comment": "a block comment without its closing */",
    "wit.lex.invalid_identifier": "an identifier that is not kebab-case (lower or UPPER words)",
    "wit.lex.unterminated_string": "a string literal without its closing quote",
    "wit.lex.invalid_string": "a line break or an unknown escape in a string literal",
    "wit.parse.unexpected_token": "the parser expected something else here",
    "wit.parse.invalid_version": "a malformed semantic version",
    "wit.parse.invalid_gate": "an unknown or malformed @since/@unstable/@deprecated gate",
    "wit.package.docs": "doc comments on the `package` line of more than one file",
    "wit.package.binary_invalid": "a WIT package encoded as a component (.wasm/.wat) that cannot be read",
    "wit.package.merge_conflict": "two encoded packages disagree about a package they both carry",
    "wit.package.missing": "no package name for the files given",
    "wit.package.mismatch": "files of one package declare different package names",
    "wit.package.duplicate": "the same package is defined twice",
    "wit.package.cycle": "packages depend on each other in a cycle",
    "wit.package.not_found": "a referenced package is not in deps/",
    "wit.io.read_failed": "a path that cannot be read",
    "wit.name.duplicate": "a name defined twice in one scope",
    "wit.name.case_conflict": "two names of one scope that differ only in letter case",
    "wit.name.unresolved": "a name that refers to nothing",
    "wit.name.not_interface": "a name used as an interface that is not one",
    "wit.name.not_world": "a name used as a world that is not one",
    "wit.type.too_deep": "type expressions nested deeper than 100 levels",
    "wit.type.cycle": "a type that contains itself",
    "wit.type.not_resource": "own/borrow/constructor on something that is not a resource",
    "wit.type.borrow_in_result": "a borrow<T> in a function result",
    "wit.type.invalid": "a type used where it is not allowed (empty variant, zero-length list ...)",
    "wit.use.cycle": "interfaces or worlds that use/include each other in a cycle",
    "wit.world.conflict": "two world items with the same name",
    "wit.gate.invalid": "a feature gate that is not allowed where it is written",
}
