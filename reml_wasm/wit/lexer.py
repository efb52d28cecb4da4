"""WIT lexer: one compiled regex, comments kept for doc strings.

Tokens are `Token(kind, value, offset, comments)`.  `kind` is `id` (value: the name,
`%` stripped), `explicit-id` (a `%`-escaped name, never a keyword), a keyword (value is
the keyword), `int`, `version` (a full semantic version) or a punctuation string such
as `{`, `->`, `@`.  `comments` holds the raw text of the comments between the previous
token and this one: the parser turns them into doc strings the way wit-parser does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..audit import DiagnosticError
from .diagnostics import Source, Span, fail

KEYWORDS = frozenset("""
as async bool borrow char constructor enum export f32 f64 flags from func future import
include interface list map option own package record resource result s16 s32 s64 s8 static
stream string tuple type u16 u32 u64 u8 use variant with world error-context _
""".split())

_NUM = r"(?:0|[1-9][0-9]*)"
# a pre-release identifier: a number without leading zeros, or one with a letter or `-`
_PRE = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = (rf"{_NUM}\.{_NUM}\.{_NUM}"
           rf"(?:-{_PRE}(?:\.{_PRE})*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")

_TOKEN = re.compile(r"""
[ \t\r\n]*(?:
  (?P<line>//[^\n]*(?:\n[ \t\r]*//[^\n]*)*)
| (?P<block>/\*)
| (?P<version>[0-9]+\.[0-9]+\.[0-9]+
    (?:-(?:[0-9A-Za-z-]|\.(?=[0-9A-Za-z]))*)?(?:\+(?:[0-9A-Za-z-]|\.(?=[0-9A-Za-z]))*)?)
| (?P<string>")
| (?P<int>[0-9]+)
| (?P<id>%?[a-zA-Z][a-zA-Z0-9-]*)
| (?P<punct>->|[{}()<>,:;=.*/@_])
| (?P<bad>.)
| (?P<end>\Z)
)""", re.VERBOSE | re.DOTALL)

_SEMVER_RE = re.compile(_SEMVER + r"\Z")
_WORD = re.compile(r"[a-z0-9]+\Z|[A-Z0-9]+\Z")


@dataclass(slots=True)
class Token:
    kind: str
    value: str
    offset: int
    comments: list[str] | None
    error: DiagnosticError | None = None  # kind "error": raised when the parser reaches it


_VALID_IDS: dict[str, bool] = {}


def valid_id(name: str) -> bool:
    """kebab-case: words separated by `-`, each all lower-case or all upper-case
    (digits allowed anywhere but at the very start, which the lexer rules out)."""
    ok = _VALID_IDS.get(name)
    if ok is None:
        ok = _VALID_IDS[name] = all(_WORD.match(w) for w in name.split("-"))
    return ok


def tokenize(source: Source) -> list[Token]:
    """The tokens of a source, ending with `eof`.  A lexical error becomes a last token of
    kind `error` (then `eof`): the parser raises it only when it gets there, so an earlier
    syntax error is reported first, as wit-parser (which lexes while parsing) does."""
    tokens: list[Token] = []
    try:
        _tokenize(source, tokens)
    except DiagnosticError as exc:
        loc = exc.diagnostic.location
        offset = tokens[-1].offset + 1 if tokens else 0
        if loc is not None:
            offset = max(offset, source.offset_of(loc.line, loc.column))
        tokens.append(Token("error", "", offset, None, exc))
        tokens.append(Token("eof", "", offset, None))
    return tokens


# wit-parser refuses these anywhere in a file, comments included, before reading any token:
# control codes other than tab, newline and carriage return, and bidirectional overrides
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _forbidden_character(source: Source) -> DiagnosticError | None:
    m = _FORBIDDEN.search(source.text)
    if m is None:
        return None
    code = f"\\u{{{ord(m.group()):x}}}"
    message = (f"Control code '{code}'" if ord(m.group()) < 0x202a else
               f"Input contains bidirectional override codepoint '{code}'")
    return fail("wit.lex.invalid_character", message, Span(source, m.start()))


def _tokenize(source: Source, tokens: list[Token]) -> list[Token]:
    text = source.text
    forbidden = _forbidden_character(source)
    if forbidden is not None:
        raise forbidden
    append = tokens.append
    comments: list[str] | None = None
    pos = 0
    match = _TOKEN.match
    keywords = KEYWORDS
    while True:
        m = match(text, pos)
        if m is None or m.lastgroup is None:  # never: `bad` and `end` match at any offset
            raise fail("wit.lex.invalid_character", "invalid character", Span(source, pos))
        kind = m.lastgroup
        start = m.start(kind)
        pos = m.end()
        if kind == "id":
            value = m.group(kind)
            if value in keywords:
                append(Token(value, value, start, comments))
            elif value[0] == "%":
                name = value[1:]
                if not valid_id(name):
                    raise fail("wit.lex.invalid_identifier", f"invalid identifier `{name}`",
                               Span(source, start))
                append(Token("explicit-id", name, start, comments))
            else:
                if not valid_id(value):
                    raise fail("wit.lex.invalid_identifier", f"invalid identifier `{value}`",
                               Span(source, start))
                append(Token("id", value, start, comments))
        elif kind == "punct":
            value = m.group(kind)
            append(Token(value, value, start, comments))
        elif kind == "line":
            run = m.group(kind)
            if "\n" in run:
                (comments := comments or []).extend(c.lstrip(" \t\r") for c in run.split("\n"))
            else:
                (comments := comments or []).append(run)
            continue
        elif kind == "block":
            pos = _block_end(text, start, source)
            (comments := comments or []).append(text[start:pos])
            continue
        elif kind == "string":
            value, pos = _string(text, start, source)
            append(Token("string", value, start, comments))
        elif kind == "int" or kind == "version":
            append(Token(kind, m.group(kind), start, comments))
        elif kind == "end":
            append(Token("eof", "", len(text), comments))
            return tokens
        else:
            raise fail("wit.lex.invalid_character", f"invalid character {m.group(kind)!r}",
                       Span(source, start))
        comments = None


_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def _string(text: str, start: int, source: Source) -> tuple[str, int]:
    r"""The value of the string literal whose `"` is at `start`, and the offset after it.
    Escapes: `\\`, `\"`, `\n`, `\t`, `\r` and `\u{hex}`; a line break is not allowed."""
    out: list[str] = []
    pos = start + 1
    while True:
        if pos >= len(text):
            raise fail("wit.lex.unterminated_string", "unterminated string", Span(source, start))
        c = text[pos]
        if c == '"':
            return "".join(out), pos + 1
        if c == "\n":
            raise fail("wit.lex.invalid_string", "invalid string character '\\n'", Span(source, pos))
        if c != "\\":
            out.append(c)
            pos += 1
            continue
        e = text[pos + 1:pos + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            pos += 2
        elif e == "u" and text[pos + 2:pos + 3] == "{":
            close = text.find("}", pos + 3)
            digits = text[pos + 3:close] if close > 0 else ""
            try:
                out.append(chr(int(digits, 16)))
            except (ValueError, OverflowError):
                raise fail("wit.lex.invalid_string", "invalid unicode escape", Span(source, pos)) from None
            pos = close + 1
        else:
            raise fail("wit.lex.invalid_string", f"invalid string escape {e!r}", Span(source, pos))


def _block_end(text: str, start: int, source: Source) -> int:
    """End offset of the (nested) block comment starting at `start`."""
    depth = 0
    pos = start
    while True:
        opened = text.find("/*", pos)
        closed = text.find("*/", pos)
        if closed < 0:
            raise fail("wit.lex.unterminated_comment", "unterminated block comment", Span(source, start))
        if 0 <= opened < closed:
            depth += 1
            pos = opened + 2
        else:
            depth -= 1
            pos = closed + 2
            if depth == 0:
                return pos


def valid_semver(text: str) -> bool:
    return _SEMVER_RE.match(text) is not None


def docs_from_comments(comments: list[str] | None) -> str | None:
    """Doc text from the comments before an item, following wit-parser: a line comment
    loses its leading slashes, a `/** … */` block its delimiters (any other block only
    its leading slash); trailing space goes; the smallest count of leading spaces among
    non-empty chunks is removed from each chunk; chunks are joined by newlines."""
    if not comments:
        return None
    chunks = []
    for c in comments:
        if c.startswith("/*"):
            if c.startswith("/**") and c.endswith("*/") and len(c) >= 5:
                c = c[3:-2]
            elif c == "/**/":
                c = ""
            else:
                c = c[1:]
        else:
            c = c.lstrip("/")
        chunks.append(c.rstrip())
    indents = [len(c) - len(c.lstrip(" ")) for c in chunks if c]
    cut = min(indents) if indents else 0
    return "\n".join(c[cut:] for c in chunks).rstrip()

PRIMITIVE_KINDS = frozenset(
    "bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string error-context".split())
