"""JSON with positions: the parsed value plus the line and column of every value in it.

`load_located(text)` parses with the standard `json` module (so what is accepted and
every syntax error are the standard ones) and then walks the text once more to record,
for each key path such as `("ffi", "libraries", 0)`, where its value starts and where
its key (for object members) starts.  Diagnostics about a field point at those places.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

PathKey = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null")


@dataclass
class LocatedJson:
    """A parsed JSON document and the positions of its values (offsets into `text`)."""

    value: Any
    text: str
    value_at: dict[PathKey, int] = field(default_factory=dict)
    key_at: dict[PathKey, int] = field(default_factory=dict)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column

    def line_text(self, line: int) -> str:
        """The text of 1-based line `line` (empty past the end)."""
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def position(self, path: PathKey) -> tuple[int, int]:
        """Where `path` is, or the nearest enclosing value that exists (the document
        start at worst): a missing key points at the object that should hold it."""
        probe = tuple(path)
        while probe:
            if probe in self.value_at:
                return self.line_col(self.value_at[probe])
            probe = probe[:-1]
        return self.line_col(self.value_at.get((), 0))


def format_path(path: PathKey) -> str:
    """`("ffi", "libraries", 0)` -> `ffi.libraries[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_located(text: str) -> LocatedJson:
    """Parse `text`; raise `json.JSONDecodeError` (with line and column) when it is not JSON."""
    value = json.loads(text)
    doc = LocatedJson(value, text)
    _Walker(text, doc).value(_skip(text, 0), ())
    return doc


def _skip(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


class _Walker:
    """Records positions over text already known to be valid JSON."""

    def __init__(self, text: str, doc: LocatedJson) -> None:
        self.text, self.doc = text, doc

    def value(self, pos: int, path: PathKey) -> int:
        """Record the value starting at `pos` under `path`; return the offset after it."""
        text = self.text
        self.doc.value_at[path] = pos
        ch = text[pos]
        if ch == "{":
            return self._object(pos + 1, path)
        if ch == "[":
            return self._array(pos + 1, path)
        if ch == '"':
            return json.decoder.scanstring(text, pos + 1)[1]  # type: ignore[attr-defined]
        for lit in _LITERALS:
            if text.startswith(lit, pos):
                return pos + len(lit)
        for lit in ("NaN", "Infinity", "-Infinity"):
            if text.startswith(lit, pos):
                return pos + len(lit)
        m = _NUMBER.match(text, pos)
        assert m is not None, "text was checked by json.loads"
        return m.end()

    def _object(self, pos: int, path: PathKey) -> int:
        text = self.text
        pos = _skip(text, pos)
        if text[pos] == "}":
            return pos + 1
        while True:
            key_pos = pos
            key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
            pos = _skip(text, pos)  # at ':'
            pos = _skip(text, pos + 1)
            self.doc.key_at[path + (key,)] = key_pos
            pos = _skip(text, self.value(pos, path + (key,)))
            if text[pos] == "}":
                return pos + 1
            pos = _skip(text, pos + 1)  # after ','

    def _array(self, pos: int, path: PathKey) -> int:
        text = self.text
        pos = _skip(text, pos)
        if text[pos] == "]":
            return pos + 1
        index = 0
        while True:
            pos = _skip(text, self.value(pos, path + (index,)))
            index += 1
            if text[pos] == "]":
                return pos + 1
            pos = _skip(text, pos + 1)
