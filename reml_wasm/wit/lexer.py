"""WIT lexer: one compiled regex, comments kept for doc strings.

`tokenize(source)` gives `Tokens`: parallel lists of kinds, values and offsets.  A kind is
`id` (value: the name), `explicit-id` (a `%`-escaped name, `%` stripped, never a keyword),
a keyword (value: the keyword), `int`, `version` (a full semantic version), `string`, a
punctuation string such as `{`, `->`, `@`, `error` or `eof`.  The comments written before
a token are kept, already cut into the chunks wit-parser makes of them (`doc_chunk`), for
`docs_from_comments` to turn into its doc string.
"""

from __future__ import annotations

import re

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

# One token per match, after the blanks before it.  The alternatives start with different
# characters (a run of `//` lines and a block comment's opening before any other `/`, a
# version before a plain number, `->` before any other `-`), so their order only decides
# speed: the most frequent first.  They are: a name, punctuation, a run of `//` lines (one
# match for a whole doc block), a block comment's opening (its end is found by
# `_block_end`, as block comments nest), a version, a string's opening quote (read by
# `_string`), a number, and any other character (an error).  Every character that is not a
# blank belongs to a match, so the matches of a text, blanks included, are the text
# itself: offsets are running sums of their lengths.
_SCAN = re.compile(r"""
([ \t\r\n]*)
(%?[a-zA-Z][a-zA-Z0-9-]*
| [{}()<>,:;=.*@_]
| ->
| //[^\n]*(?:\n[ \t\r]*//[^\n]*)*
| /\*
| [0-9]+\.[0-9]+\.[0-9]+
    (?:-(?:[0-9A-Za-z-]|\.(?=[0-9A-Za-z]))*)?(?:\+(?:[0-9A-Za-z-]|\.(?=[0-9A-Za-z]))*)?
| "
| [0-9]+
| [^ \t\r\n])""", re.VERBOSE)

_SEMVER_RE = re.compile(_SEMVER + r"\Z")
_WORD = re.compile(r"[a-z0-9]+\Z|[A-Z0-9]+\Z")
_PUNCT = frozenset("{ } ( ) < > , : ; = . * / @ _ ->".split())
# tokens whose kind is their own text: keywords and punctuation
_SELF_KINDS = {word: word for word in KEYWORDS | _PUNCT}
_CHUNK = 16384  # characters scanned by one regex pass (see `_tokenize`)


class Tokens:
    """The tokens of one source as parallel lists (the parser reads them by index):
    `kinds[i]` is `id`, `explicit-id` (a `%`-escaped name, never a keyword), a keyword,
    `int`, `version`, `string`, a punctuation string, `error` or `eof` (always last);
    `values[i]` the token's text (a name without its `%`, a string's decoded value);
    `offsets[i]` where it starts; `comments[i]` the doc chunks of the comments written
    before it (only for tokens that have some; see `doc_chunk`); `error` the diagnostic
    of the `error` token, if any."""

    __slots__ = ("kinds", "values", "offsets", "comments", "error")

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.values: list[str] = []
        self.offsets: list[int] = []
        self.comments: dict[int, list[str]] = {}
        self.error: DiagnosticError | None = None

    def __len__(self) -> int:
        return len(self.kinds)


_VALID_IDS: dict[str, bool] = {}


def valid_id(name: str) -> bool:
    """kebab-case: words separated by `-`, each all lower-case or all upper-case
    (digits allowed anywhere but at the very start, which the lexer rules out)."""
    ok = _VALID_IDS.get(name)
    if ok is None:
        ok = _VALID_IDS[name] = all(_WORD.match(w) for w in name.split("-"))
    return ok


def tokenize(source: Source) -> Tokens:
    """The tokens of a source, ending with `eof`.  A lexical error becomes a last token of
    kind `error` (then `eof`): the parser raises it only when it gets there, so an earlier
    syntax error is reported first, as wit-parser (which lexes while parsing) does."""
    tokens = Tokens()
    try:
        _tokenize(source, tokens)
    except DiagnosticError as exc:
        loc = exc.diagnostic.location
        offset = tokens.offsets[-1] + 1 if tokens.offsets else 0
        if loc is not None:
            offset = max(offset, source.offset_of(loc.line, loc.column))
        tokens.error = exc
        for kind in ("error", "eof"):
            tokens.kinds.append(kind)
            tokens.values.append("")
            tokens.offsets.append(offset)
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


def _tokenize(source: Source, tokens: Tokens) -> None:
    text = source.text
    forbidden = _forbidden_character(source)
    if forbidden is not None:
        raise forbidden
    kinds, values, offsets = tokens.kinds, tokens.values, tokens.offsets
    add_kind, add_value, add_offset = kinds.append, values.append, offsets.append
    all_comments = tokens.comments
    self_kinds = _SELF_KINDS.get
    known_ids = _VALID_IDS.get
    findall = _SCAN.findall
    comments: list[str] | None = None
    pos, size = 0, len(text)
    while pos < size:
        # a chunk of whole lines (no token but a comment run, a string or a block comment
        # crosses a line break, and those three end up the same when cut there), so that
        # restarting after a string or block comment rescans at most one chunk
        end = text.find("\n", pos + _CHUNK)
        end = size if end < 0 else end + 1
        resume = -1  # where scanning continues after a string or block comment
        for blank, tok in findall(text, pos, end):
            start = pos + len(blank)
            pos = start + len(tok)
            kind = self_kinds(tok)
            if kind is None:
                c = tok[0]
                if c == "/":
                    if tok[1] == "/":  # a run of line comments
                        if comments is None:
                            comments = []
                        if "\n" in tok:
                            comments += [line.lstrip(" \t\r").lstrip("/").rstrip() for line in tok.split("\n")]
                        else:
                            comments.append(tok.lstrip("/").rstrip())
                        continue
                    resume = _block_end(text, start, source)
                    if comments is None:
                        comments = []
                    comments.append(doc_chunk(text[start:resume]))
                    break
                if c == '"':
                    value, resume = _string(text, start, source)
                    if comments is not None:
                        all_comments[len(kinds)] = comments
                        comments = None
                    add_kind("string")
                    add_value(value)
                    add_offset(start)
                    break
                if c == "%" and len(tok) > 1:
                    kind = "explicit-id"
                    name = tok[1:]
                    if not (known_ids(name) or valid_id(name)):
                        raise fail("wit.lex.invalid_identifier", f"invalid identifier `{name}`",
                                   Span(source, start))
                    tok = name
                elif "0" <= c <= "9":
                    kind = "version" if "." in tok else "int"
                elif "a" <= c <= "z" or "A" <= c <= "Z":
                    kind = "id"
                    if not (known_ids(tok) or valid_id(tok)):
                        raise fail("wit.lex.invalid_identifier", f"invalid identifier `{tok}`",
                                   Span(source, start))
                else:
                    raise fail("wit.lex.invalid_character", f"invalid character {tok!r}", Span(source, start))
            if comments is not None:
                all_comments[len(kinds)] = comments
                comments = None
            add_kind(kind)
            add_value(tok)
            add_offset(start)
        pos = end if resume < 0 else resume
    if comments is not None:
        all_comments[len(kinds)] = comments
    add_kind("eof")
    add_value("")
    add_offset(len(text))


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


def doc_chunk(comment: str) -> str:
    """The doc text one comment contributes, following wit-parser: a line comment loses its
    leading slashes, a `/** … */` block its delimiters (any other block only its leading
    slash); trailing space goes.  (The lexer cuts each line of a run of `//` lines so.)"""
    if comment.startswith("/*"):
        if comment.startswith("/**") and comment.endswith("*/") and len(comment) >= 5:
            comment = comment[3:-2]
        elif comment == "/**/":
            comment = ""
        else:
            comment = comment[1:]
    else:
        comment = comment.lstrip("/")
    return comment.rstrip()


def docs_from_comments(chunks: list[str] | None) -> str | None:
    """Doc text from the doc chunks of the comments before an item (`doc_chunk`), as
    wit-parser joins them: the smallest count of leading spaces among non-empty chunks is
    removed from each chunk, and the chunks are joined by newlines."""
    if not chunks:
        return None
    indents = [len(c) - len(c.lstrip(" ")) for c in chunks if c]
    cut = min(indents) if indents else 0
    return "\n".join([c[cut:] for c in chunks] if cut else chunks).rstrip()


PRIMITIVE_KINDS = frozenset(
    "bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 char string error-context".split())
