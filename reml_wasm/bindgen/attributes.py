"""GNU attributes that change layout (`packed`, `aligned`) and `__asm__` labels, taken
out of the C text.

pycparser cannot read `__attribute__((…))`, so every attribute is blanked (replaced by
spaces, so line and column numbers stay right).  The ones that change layout are
recorded with the place they apply to, found from the braces around them:

* right after a struct/union's closing brace, or between the keyword and the opening
  brace: the struct itself (`body` span: from `{` to `}`);
* inside a struct body: the member declaration containing it (`member` span, from the
  previous `;`/`{` to the next `;` at that depth);
* at file scope: the declaration containing it (`decl` span; used for typedefs).

`__asm__` / `__asm` (with `volatile`, `inline`, `goto` qualifiers) and its parenthesis
are blanked the same way: a statement in a function body is dropped, and a label after
a declarator (`int f(void) __asm__("" "f_v2");`, as glibc's `__REDIRECT` writes it) is
recorded like an attribute of the declaration, as the symbol it links to.

The extractor looks a declaration's coordinates up in these spans.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Callable

# `__attribute__` then its parenthesis, possibly after line markers (macro expansions
# spread over several lines)
_ATTR = re.compile(r"\b__attribute(?:__)?(?:\s|\n#[^\n]*)*\(", re.M)
_ASM = re.compile(r"\b(?:__asm__|__asm)\b(?:\s|\n#[^\n]*|\b(?:__volatile__|volatile|__volatile|"
                  r"inline|__inline__|__inline|goto)\b)*\(", re.M)
_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_STRUCT_BEFORE = re.compile(r"\b(?:struct|union)\s*(?:[A-Za-z_$][\w$]*\s*)?$")


@dataclass(frozen=True)
class LayoutAttr:
    packed: bool = False
    aligned: str | None = None  # the alignment expression ("" for plain `aligned`)
    label: str | None = None    # an `__asm__("name")` label: the symbol the declaration links to
    nonnull: tuple[int, ...] | None = None  # `nonnull(1, 2)`: parameters from 1; () all
    vector_size: str | None = None  # `vector_size(16)`: the expression
    mode: str | None = None         # `mode(__word__)` -> "word"
    access: tuple[tuple[str, int, int | None], ...] = ()  # `access(write_only, 2, 3)`

    def merge(self, other: "LayoutAttr") -> "LayoutAttr":
        nonnull = self.nonnull if other.nonnull is None else other.nonnull if self.nonnull is None \
            else (() if not self.nonnull or not other.nonnull else tuple(sorted({*self.nonnull, *other.nonnull})))
        return LayoutAttr(self.packed or other.packed,
                          other.aligned if other.aligned is not None else self.aligned,
                          other.label if other.label is not None else self.label, nonnull,
                          other.vector_size or self.vector_size, other.mode or self.mode,
                          self.access + other.access)


@dataclass
class Span:
    kind: str          # body | member | decl
    start: int         # text offsets, inclusive
    end: int
    attr: LayoutAttr
    body: int = -1     # for a member: the offset of its struct's `{`


@dataclass
class AttributeTable:
    text: str = ""
    spans: list[Span] = field(default_factory=list)
    # for mapping pycparser coordinates (file, line, column) back to text offsets
    line_starts: list[int] = field(default_factory=list)
    line_keys: dict[tuple[str, int], int] = field(default_factory=dict)
    _decl_list: list[Span] | None = field(default=None, repr=False)
    _decl_starts: list[int] = field(default_factory=list, repr=False)
    _kinds: dict[str, list[Span]] = field(default_factory=dict, repr=False)

    def _of_kind(self, kind: str) -> list[Span]:
        spans = self._kinds.get(kind)
        if spans is None:
            spans = self._kinds[kind] = [s for s in self.spans if s.kind == kind]
        return spans

    def _decls(self) -> list[Span]:
        if self._decl_list is None:
            self._decl_list = sorted((s for s in self.spans if s.kind == "decl"), key=lambda s: s.start)
            self._decl_starts = [s.start for s in self._decl_list]
        return self._decl_list

    def offset(self, file: str, line: int, column: int) -> int | None:
        idx = self.line_keys.get((file, line))
        if idx is None:
            return None
        return self.line_starts[idx] + column - 1

    def struct_attr(self, file: str | None, line: int, column: int | None) -> LayoutAttr | None:
        """The attributes of the struct whose keyword is at the coordinate (the body
        span starting at the first `{` after it)."""
        if not self.spans or file is None:
            return None
        off = self.offset(file, line, column or 1)
        if off is None:
            return None
        brace = self.text.find("{", off)
        attr = None
        for s in self._of_kind("body"):
            if s.start == brace:
                attr = s.attr if attr is None else attr.merge(s.attr)
        return attr

    def lookup(self, kind: str, file: str | None, line: int, column: int | None) -> LayoutAttr | None:
        """The merged attributes of the innermost span(s) of `kind` containing the
        coordinate; body and member spans only count for a member directly inside that
        struct body (not one of a struct nested in it)."""
        if not self.spans or file is None:
            return None
        off = self.offset(file, line, column or 1)
        if off is None:
            return None
        if kind == "decl":  # file-scope declarations do not nest: the last one starting before
            decls = self._decls()
            j = bisect.bisect_right(self._decl_starts, off) - 1
            hits = []
            first = decls[j].start if j >= 0 else -1
            while j >= 0 and decls[j].start == first:
                if decls[j].end >= off:
                    hits.append(decls[j])
                j -= 1
        else:
            hits = [s for s in self._of_kind(kind) if s.start <= off <= s.end]
        if not hits:
            return None
        if kind == "member":
            body = _enclosing_open(self.text, off)
            hits = [s for s in hits if s.body == body]
        elif kind == "body":  # the struct whose own braces enclose the member
            body = _enclosing_open(self.text, off)
            hits = [s for s in hits if s.start == body]
        else:
            inner = max(s.start for s in hits)
            hits = [s for s in hits if s.start == inner]
        attr = None
        for s in hits:
            attr = s.attr if attr is None else attr.merge(s.attr)
        return attr


def _parse_attr_list(text: str) -> LayoutAttr:
    """`packed, aligned(8)` -> LayoutAttr (other attributes are ignored)."""
    items: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur.append(ch)
    items.append("".join(cur))
    packed, aligned, nonnull, vector, mode = False, None, None, None, None
    access: list[tuple[str, int, int | None]] = []
    for item in items:
        item = item.strip()
        name = item.split("(", 1)[0].strip().strip("_")
        args = item[item.index("(") + 1:item.rindex(")")].strip() if "(" in item and ")" in item else None
        if name == "packed":
            packed = True
        elif name == "aligned":
            aligned = args if args is not None else ""
        elif name == "nonnull":
            numbers = [int(a, 0) for a in (args or "").replace(" ", "").split(",") if a.isdigit()]
            nonnull = tuple(numbers)
        elif name == "vector_size" and args:
            vector = args
        elif name == "mode" and args:
            mode = args.strip("_ ")
        elif name == "access" and args:
            parts = [a.strip() for a in args.split(",")]
            if len(parts) >= 2 and parts[1].isdigit():
                size = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
                access.append((parts[0].strip("_"), int(parts[1]), size))
    return LayoutAttr(packed, aligned, None, nonnull, vector, mode, tuple(access))


def _match_forward(text: str, open_pos: int, opening: str = "{", closing: str = "}") -> int:
    """The bracket closing the one at `open_pos` (the end of the text when unbalanced)."""
    depth = 0
    for i in range(open_pos, len(text)):
        c = text[i]
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i
    return len(text) - 1


def _prev_nonspace(text: str, pos: int) -> int:
    """The last non-space character before `pos`, skipping line-marker lines (a macro
    expansion can put one between a struct's `}` and its attribute)."""
    i = pos - 1
    while i >= 0:
        while i >= 0 and text[i].isspace():
            i -= 1
        line_start = text.rfind("\n", 0, i + 1) + 1
        if i >= 0 and text.startswith("#", line_start):
            i = line_start - 1
            continue
        return i
    return i


def _match_back(text: str, close: int) -> int:
    """The `{` matching the `}` at `close`."""
    depth = 0
    for i in range(close, -1, -1):
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            depth -= 1
            if depth == 0:
                return i
    return 0


def _enclosing_open(text: str, pos: int) -> int | None:
    depth = 0
    for i in range(pos - 1, -1, -1):
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                return i
            depth -= 1
    return None


def _statement_bounds(text: str, pos: int, floor: int, ceiling: int) -> tuple[int, int]:
    """From after the previous `;`/`{`/`}` at this depth to the next `;` at this depth."""
    depth, start = 0, floor
    for i in range(pos - 1, floor - 1, -1):
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                start = i + 1
                break
            depth -= 1
        elif c == ";" and depth == 0:
            start = i + 1
            break
    depth, end = 0, ceiling
    for i in range(pos, ceiling + 1):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                end = i
                break
            depth -= 1
        elif c == ";" and depth == 0:
            end = i
            break
    return start, end


_LINE_MARKER = re.compile(r"^#[^\n]*$", re.M)


def _blank(segment: str) -> str:
    """Spaces for everything but newlines and line-marker lines (which must stay so
    pycparser keeps counting lines right)."""
    return "\n".join(line if line.startswith("#") else " " * len(line)
                     for line in segment.split("\n"))


def _strip(text: str, pattern: re.Pattern[str],
           read: Callable[[str], LayoutAttr | None]) -> tuple[str, list[tuple[int, LayoutAttr]]]:
    """Blank every match of `pattern` with the parenthesis it opens; what `read` makes of
    a parenthesis' contents (line markers taken out) is kept with the match's offset."""
    out: list[str] = []
    found: list[tuple[int, LayoutAttr]] = []
    last = 0
    for m in pattern.finditer(text):
        if m.start() < last:
            continue  # inside one already blanked
        open_pos = m.end() - 1
        end = _match_forward(text, open_pos, "(", ")")
        attr = read(_LINE_MARKER.sub(" ", text[open_pos + 1:end]))
        if attr is not None:
            found.append((m.start(), attr))
        out.append(text[last:m.start()])
        out.append(_blank(text[m.start():end + 1]))
        last = end + 1
    out.append(text[last:])
    return "".join(out), found


def _read_attributes(body: str) -> LayoutAttr | None:
    if not any(word in body for word in ("packed", "aligned", "nonnull", "vector_size", "mode", "access")):
        return None
    inner = body.strip()
    attr = _parse_attr_list(inner[1:-1] if inner.startswith("(") and inner.endswith(")") else inner)
    return attr if attr != LayoutAttr() else None


def _read_label(body: str) -> LayoutAttr | None:
    if ":" in body or _STRING.sub("", body).strip():
        return None  # an asm statement, not a label
    label = "".join(part.group(1) for part in _STRING.finditer(body))
    return LayoutAttr(label=label) if label else None


def strip_attributes(text: str) -> tuple[str, list[tuple[int, LayoutAttr]]]:
    """Blank every `__attribute__((…))`; the ones read here with their text offsets."""
    return _strip(text, _ATTR, _read_attributes) if "__attribute" in text else (text, [])


def strip_asm(text: str) -> tuple[str, list[tuple[int, LayoutAttr]]]:
    """Blank every `__asm__(…)`; the labels (string literals only) with their offsets."""
    return _strip(text, _ASM, _read_label) if "__asm" in text else (text, [])


def place(text: str, found: list[tuple[int, LayoutAttr]]) -> list[Span]:
    """Find what each layout attribute applies to (in the blanked text)."""
    spans: list[Span] = []
    for pos, attr in found:
        prev = _prev_nonspace(text, pos)
        if prev >= 0 and text[prev] == "}":
            spans.append(Span("body", _match_back(text, prev), prev, attr))
            continue
        if _STRUCT_BEFORE.search(text[max(0, pos - 128):pos]):
            brace = text.find("{", pos)
            semi = text.find(";", pos)
            if brace != -1 and (semi == -1 or brace < semi):
                spans.append(Span("body", brace, _match_forward(text, brace), attr))
                continue
        open_ = _enclosing_open(text, pos)
        if open_ is None:
            start, end = _statement_bounds(text, pos, 0, len(text) - 1)
            spans.append(Span("decl", start, end, attr))
        elif _STRUCT_BEFORE.search(text[max(0, open_ - 128):open_]):
            close = _match_forward(text, open_)
            start, end = _statement_bounds(text, pos, open_ + 1, close)
            spans.append(Span("member", start, end, attr, open_))
        # else: inside a function body; nothing to lay out
    return spans


_MARKER = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"')


def build_table(text: str, found: list[tuple[int, LayoutAttr]]) -> AttributeTable:
    """Place the attributes and index the text's lines by (file, line) as pycparser will
    see them (following the line markers)."""
    table = AttributeTable(text, place(text, found))
    if not table.spans:
        return table
    offset, file, line = 0, "", 1
    for i, raw in enumerate(text.split("\n")):
        table.line_starts.append(offset)
        m = _MARKER.match(raw) if raw.startswith("#") else None
        if m is not None:
            file, line = m.group(2), int(m.group(1))
        else:
            table.line_keys.setdefault((file, line), i)
            line += 1
        offset += len(raw) + 1
    return table
