"""WAVE, the WebAssembly Value Encoding: the value syntax of `wasmtime run --invoke`.

`parse_value(text, typ)` reads the WAVE text of one value of a `reml_wasm.types` type and
returns it under the value convention of `reml_wasm.values`; `print_value(value, typ)` does
the reverse.  `parse_call` / `parse_args` / `parse_call_args` read a call written as
`name(arg, ...)`, the form `reml-wasm call COMP 'name(args)'` takes.

The grammar follows the wasm-wave README (bytecodealliance/wasm-tools):

    true false                     bools            123 -9           integers
    3.5 6.0e+23 nan inf -inf       floats           'x' '\\u{1F600}'  chars
    "a\\tb" and \"\"\"-multiline   strings          (1, "a")         tuples
    [1, 2]                         lists            {x: 1, y: -2}    records
    circle(2.0) / empty            variants         red              enums
    {read, write} / {}             flags            some(1) / none   options (flat `1` too)
    ok(1) / err("e") / ok / err    results (flat `1` for ok too)

Comments run from `//` to the end of the line; trailing commas are allowed.  Record fields
whose option value is `none` may be left out; a record with every field left out is `{:}`.
A variant or enum case spelled like a WAVE keyword (`true false inf nan some none ok err`)
is written with a `%` prefix (`%none`); any label may carry one.  WAVE has no map syntax:
`map<K, V>` is written as its Canonical ABI shape, a list of pairs `[("a", 1), ("b", 2)]`.

Every error is a `DiagnosticError` with a `wave.*` code and the line and column of the
offending token (line 1 for one-line input).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Any, Sequence

from . import types as t
from .audit import Diagnostic, DiagnosticError, Location
from .values import Err, Ok, Record, Some, Variant, check, nests_option, record_field

__all__ = ["KEYWORDS", "parse_value", "print_value", "parse_call", "parse_args",
           "parse_call_args", "label", "float_text", "round_f32"]

KEYWORDS = frozenset({"true", "false", "inf", "nan", "some", "none", "ok", "err"})

_PUNCT = frozenset("{}()[]:,")
_NUMBER = re.compile(r"-inf|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_LABEL = re.compile(r"%?(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)(?:-(?:[a-z0-9]+|[A-Z0-9]+))*")
_SKIP = re.compile(r"(?:[ \t\n\r]+|//[^\n]*)*")
_CALL_NAME = re.compile(r"[^\s(),]+")
_UNICODE_ESCAPE = re.compile(r"\{([0-9a-fA-F]{1,6})\}")
_SIMPLE_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def label(name: str) -> str:
    """A variant or enum case as WAVE writes it: `%` before a WAVE keyword."""
    return "%" + name if name in KEYWORDS else name


# --- lexer ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str        # "punct", "number", "label", "char", "string", "eof"
    text: str        # the source text of the token
    start: int
    end: int
    value: Any = None  # decoded char/string; label name without `%`

    @property
    def escaped(self) -> bool:
        return self.text.startswith("%")

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "label" and not self.escaped and self.value in words

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of input"
        if self.kind == "punct":
            return f"`{self.text}`"
        if self.kind == "label" and self.is_keyword(*KEYWORDS):
            return f"keyword `{self.text}`"
        shown = self.text if len(self.text) <= 24 else self.text[:21] + "..."
        return f"{self.kind} `{shown}`"


MAX_DEPTH = 100
"""How deep a WAVE value may nest."""


class _Parser:
    """A lazy lexer plus the type-directed recursive descent over `text[start:end]`."""

    def __init__(self, text: str, start: int = 0, end: int | None = None) -> None:
        self.text = text
        self.pos = start
        self.end = len(text) if end is None else end
        self._peeked: _Token | None = None
        self.depth = 0

    # errors -------------------------------------------------------------------------
    def error(self, code: str, message: str, offset: int, **extensions: Any) -> DiagnosticError:
        line = self.text.count("\n", 0, offset) + 1
        line_start = self.text.rfind("\n", 0, offset) + 1
        line_end = self.text.find("\n", offset)
        snippet = self.text[line_start:] if line_end < 0 else self.text[line_start:line_end]
        loc = Location(None, line, offset - line_start + 1, snippet=snippet)
        return DiagnosticError(Diagnostic(code, message, location=loc, extensions=extensions))

    def mismatch(self, tok: _Token, expected: str) -> DiagnosticError:
        return self.error("wave.type_mismatch", f"expected {expected}, found {tok.describe()}", tok.start)

    # tokens -------------------------------------------------------------------------
    def peek(self) -> _Token:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> _Token:
        tok = self.peek()
        self._peeked = None
        return tok

    def expect(self, punct: str, context: str) -> _Token:
        tok = self.next()
        if tok.kind != "punct" or tok.text != punct:
            raise self.error("wave.syntax", f"expected `{punct}` {context}, found {tok.describe()}", tok.start)
        return tok

    def at(self, punct: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.text == punct

    def _lex(self) -> _Token:
        m = _SKIP.match(self.text, self.pos, self.end)
        pos = m.end() if m else self.pos
        self.pos = pos
        if pos >= self.end:
            return _Token("eof", "", self.end, self.end)
        c = self.text[pos]
        if c in _PUNCT:
            return self._token("punct", pos, pos + 1)
        if c == '"':
            if self.text.startswith('"""', pos) and pos + 3 <= self.end:
                return self._multiline_string(pos)
            return self._string(pos)
        if c == "'":
            return self._char(pos)
        if c == "-" or c.isdigit():
            m = _NUMBER.match(self.text, pos, self.end)
            if m is None:
                raise self.error("wave.syntax", f"malformed number at `{self.text[pos:pos + 8]}`", pos)
            return self._token("number", pos, m.end())
        if c == "%" or ("a" <= c <= "z") or ("A" <= c <= "Z"):
            m = _LABEL.match(self.text, pos, self.end)
            if m is None:
                raise self.error("wave.syntax", "`%` must be followed by a label", pos)
            text = m.group()
            return self._token("label", pos, m.end(), text.lstrip("%"))
        raise self.error("wave.syntax", f"unexpected character {c!r}", pos)

    def _token(self, kind: str, start: int, end: int, value: Any = None) -> _Token:
        self.pos = end
        return _Token(kind, self.text[start:end], start, end, value)

    def _escape(self, pos: int) -> tuple[str, int]:
        """Decode the escape starting at the backslash at `pos`; return (char, next pos)."""
        nxt = self.text[pos + 1] if pos + 1 < self.end else ""
        if nxt in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[nxt], pos + 2
        if nxt == "u":
            m = _UNICODE_ESCAPE.match(self.text, pos + 2, self.end)
            if m is None:
                raise self.error("wave.escape", "a \\u escape is written \\u{hex digits} (1 to 6 digits)", pos)
            code = int(m.group(1), 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self.error("wave.escape", f"\\u{{{m.group(1)}}} is not a Unicode scalar value", pos)
            return chr(code), m.end()
        raise self.error("wave.escape", f"unknown escape `\\{nxt}` (known: \\' \\\" \\\\ \\t \\n \\r \\u{{…}})", pos)

    def _literal_char(self, pos: int) -> str:
        ch = self.text[pos]
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise self.error("wave.escape", "lone surrogate: not a Unicode scalar value", pos)
        return ch

    def _char(self, start: int) -> _Token:
        pos = start + 1
        if pos >= self.end:
            raise self.error("wave.syntax", "unterminated char literal", start)
        c = self.text[pos]
        if c == "\\":
            value, pos = self._escape(pos)
        elif c in "'\n":
            raise self.error("wave.syntax", "a char literal holds exactly one character", start)
        else:
            value, pos = self._literal_char(pos), pos + 1
        if pos >= self.end or self.text[pos] != "'":
            raise self.error("wave.syntax", "a char literal holds exactly one character (escape `'` as `\\'`)",
                             start)
        return self._token("char", start, pos + 1, value)

    def _string(self, start: int) -> _Token:
        pos = start + 1
        out: list[str] = []
        while True:
            if pos >= self.end or self.text[pos] == "\n":
                raise self.error("wave.syntax", "unterminated string (write a newline as \\n)", start)
            c = self.text[pos]
            if c == '"':
                return self._token("string", start, pos + 1, "".join(out))
            if c == "\\":
                ch, pos = self._escape(pos)
                out.append(ch)
            else:
                out.append(self._literal_char(pos))
                pos += 1

    def _multiline_string(self, start: int) -> _Token:
        body = start + 3
        if self.text.startswith("\n", body):
            body += 1
        elif self.text.startswith("\r\n", body):
            body += 2
        else:
            raise self.error("wave.syntax", 'a multiline string starts with """ and a line break', start)
        close = self.text.find('"""', body, self.end)
        if close < 0:
            raise self.error("wave.syntax", 'unterminated multiline string (no closing """)', start)
        last_break = self.text.rfind("\n", body - 1, close)
        indent_text = self.text[last_break + 1:close]
        if indent_text.strip(" "):
            raise self.error("wave.syntax", 'the closing """ of a multiline string goes on its own line', close)
        indent = len(indent_text)
        lines: list[str] = []
        line_start = body
        while last_break >= body:  # else the body is empty: `"""` / `"""`
            line_end = self.text.find("\n", line_start, last_break)
            line_end = last_break if line_end < 0 else line_end
            stop = line_end - 1 if line_end > line_start and self.text[line_end - 1] == "\r" else line_end
            raw = self.text[line_start:stop]
            if raw.strip(" ") and not raw.startswith(" " * indent):
                raise self.error("wave.syntax", "multiline string line indented less than its closing "
                                 f'""" ({indent} spaces)', line_start)
            pos, out = line_start + min(indent, len(raw)), []
            while pos < stop:
                if self.text[pos] == "\\":
                    ch, pos = self._escape(pos)
                    out.append(ch)
                else:
                    out.append(self._literal_char(pos))
                    pos += 1
            lines.append("".join(out))
            if line_end == last_break:
                break
            line_start = line_end + 1
        return self._token("string", start, close + 3, "\n".join(lines))

    # values -------------------------------------------------------------------------
    def value(self, typ: t.Type) -> Any:
        """One value of `typ`, nested at most MAX_DEPTH deep (`wave.too_deep`)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error("wave.too_deep", f"values nest more than {MAX_DEPTH} deep", self.peek().start)
            return self._value(typ)
        finally:
            self.depth -= 1

    def _value(self, typ: t.Type) -> Any:
        typ = t.unalias(typ)
        if isinstance(typ, t.PrimitiveType):
            return self._primitive(typ)
        if isinstance(typ, t.ListType):
            return self._list(typ)
        if isinstance(typ, t.MapType):
            return self._map(typ)
        if isinstance(typ, t.TupleType):
            return self._tuple(typ)
        if isinstance(typ, t.RecordType):
            return self._record(typ)
        if isinstance(typ, t.VariantType):
            return self._variant(typ)
        if isinstance(typ, t.EnumType):
            return self._case_label(typ.name, "enum", typ.cases)[0]
        if isinstance(typ, t.FlagsType):
            return self._flags(typ)
        if isinstance(typ, t.OptionType):
            return self._option(typ)
        if isinstance(typ, t.ResultType):
            return self._result(typ)
        tok = self.peek()
        raise self.error("wave.unsupported", f"{typ.wit()} values have no WAVE form", tok.start)

    def _primitive(self, typ: t.PrimitiveType) -> Any:
        tok = self.next()
        if typ == t.BOOL:
            if tok.is_keyword("true", "false"):
                return tok.value == "true"
            raise self.mismatch(tok, "bool (`true` or `false`)")
        if typ in t.INTEGER_RANGES:
            if tok.kind != "number" or not _INTEGER.match(tok.text):
                raise self.mismatch(tok, f"{typ.name} (an integer)")
            value = int(tok.text)
            lo, hi = t.INTEGER_RANGES[typ]
            if not lo <= value <= hi:
                raise self.error("wave.range", f"{value} is out of range for {typ.name} [{lo}, {hi}]", tok.start)
            return value
        if typ in (t.F32, t.F64):
            number: float
            if tok.kind == "number":
                number = float(tok.text)
            elif tok.is_keyword("nan", "inf"):
                number = math.nan if tok.value == "nan" else math.inf
            else:
                raise self.mismatch(tok, f"{typ.name} (a number, `nan`, `inf` or `-inf`)")
            return round_f32(number) if typ == t.F32 else number
        if typ == t.CHAR:
            if tok.kind != "char":
                raise self.mismatch(tok, "char (`'c'`)")
            return tok.value
        if typ == t.STRING:
            if tok.kind != "string":
                raise self.mismatch(tok, 'string (`"…"`)')
            return tok.value
        raise self.error("wave.unsupported", f"{typ.wit()} values have no WAVE form", tok.start)

    def _sequence(self, close: str, what: str, item: Any) -> int:
        """Items separated by commas (a trailing comma allowed) up to `close`; returns the
        offset of the closing bracket."""
        while not self.at(close):
            item()
            if self.at(","):
                self.next()
            elif not self.at(close):
                tok = self.peek()
                raise self.error("wave.syntax", f"expected `,` or `{close}` in {what}, found {tok.describe()}",
                                 tok.start)
        return self.next().start

    def _list(self, typ: t.ListType) -> Any:
        open_tok = self.peek()
        if not self.at("["):
            raise self.mismatch(open_tok, f"a list `[…]` for {typ.wit()}")
        self.next()
        items: list[Any] = []
        self._sequence("]", typ.wit(), lambda: items.append(self.value(typ.element)))
        if typ.length is not None and len(items) != typ.length:
            raise self.error("wave.list.length", f"{typ.wit()} needs exactly {typ.length} elements, "
                             f"found {len(items)}", open_tok.start)
        return bytes(items) if t.unalias(typ.element) == t.U8 else items

    def _map(self, typ: t.MapType) -> dict[Any, Any]:
        open_tok = self.peek()
        if not self.at("["):
            raise self.mismatch(open_tok, f"a list of pairs `[(k, v), …]` for {typ.wit()}")
        self.next()
        out: dict[Any, Any] = {}
        pair = t.TupleType((typ.key, typ.value))

        def entry() -> None:
            start = self.peek().start
            key, value = self._tuple(pair)
            if key in out:
                raise self.error("wave.map.duplicate_key", f"duplicate key {key!r} in {typ.wit()}", start)
            out[key] = value
        self._sequence("]", typ.wit(), entry)
        return out

    def _tuple(self, typ: t.TupleType) -> tuple[Any, ...]:
        tok = self.peek()
        if not self.at("("):
            raise self.mismatch(tok, f"a tuple `(…)` for {typ.wit()}")
        self.next()
        items: list[Any] = []

        def element() -> None:
            if len(items) == len(typ.elements):
                extra = self.peek()
                raise self.error("wave.tuple.length", f"{typ.wit()} has {len(typ.elements)} elements; "
                                 f"found more", extra.start)
            items.append(self.value(typ.elements[len(items)]))
        close = self._sequence(")", "a tuple", element)
        if len(items) != len(typ.elements):
            raise self.error("wave.tuple.length", f"{typ.wit()} has {len(typ.elements)} elements, "
                             f"found {len(items)}", close)
        return tuple(items)

    def _record(self, typ: t.RecordType) -> Record:
        tok = self.peek()
        if not self.at("{"):
            raise self.mismatch(tok, f"a record `{{…}}` for {typ.wit()}")
        self.next()
        fields = {f.name: f for f in typ.fields}
        found: dict[str, Any] = {}
        if self.at(":"):
            self.next()
            close = self.expect("}", "after `{:`").start
        elif self.at("}"):
            close = self.peek().start
            raise self.error("wave.syntax", "a record with every field left out is written `{:}`", close)
        else:
            def entry() -> None:
                name_tok = self.next()
                if name_tok.kind != "label":
                    raise self.error("wave.syntax", f"expected a field name of record {typ.name}, "
                                     f"found {name_tok.describe()}", name_tok.start)
                field = fields.get(name_tok.value)
                if field is None:
                    raise self.error("wave.label", f"record {typ.name} has no field `{name_tok.value}` "
                                     f"(fields: {', '.join(fields)})", name_tok.start)
                if field.name in found:
                    raise self.error("wave.record.duplicate_field", f"field `{field.name}` given twice",
                                     name_tok.start)
                self.expect(":", f"after field name `{field.name}`")
                found[field.name] = self.value(field.type)
            close = self._sequence("}", f"record {typ.name}", entry)
        values = {}
        for f in typ.fields:
            if f.name in found:
                values[f.name] = found[f.name]
            elif isinstance(t.unalias(f.type), t.OptionType):
                values[f.name] = None
            else:
                raise self.error("wave.record.missing_field",
                                 f"record {typ.name} is missing field `{f.name}`", close)
        return Record(**values)

    def _case_label(self, name: str, kind: str, cases: Sequence[str]) -> tuple[str, _Token]:
        tok = self.next()
        listing = ", ".join(label(c) for c in cases)
        if tok.kind != "label":
            raise self.mismatch(tok, f"a case of {kind} {name} ({listing})")
        if tok.value not in cases:
            raise self.error("wave.label", f"{kind} {name} has no case `{tok.value}` (cases: {listing})",
                             tok.start)
        if tok.is_keyword(*KEYWORDS):
            raise self.error("wave.label", f"case `{tok.value}` of {kind} {name} is a WAVE keyword: "
                             f"write it `%{tok.value}`", tok.start)
        return tok.value, tok

    def _variant(self, typ: t.VariantType) -> Variant:
        name, tok = self._case_label(typ.name, "variant", [c.name for c in typ.cases])
        case = typ.cases[typ.case_index(name)]
        return Variant(name, self._payload(case.type, f"case `{name}`", tok))

    def _payload(self, typ: t.Type | None, what: str, tok: _Token) -> Any:
        if typ is None:
            if self.at("("):
                raise self.error("wave.syntax", f"{what} has no payload", self.peek().start)
            return None
        if not self.at("("):
            raise self.error("wave.syntax", f"{what} needs a payload: `{tok.text}(…)`", tok.end)
        self.next()
        value = self.value(typ)
        self.expect(")", f"after the payload of {what}")
        return value

    def _flags(self, typ: t.FlagsType) -> frozenset[str]:
        tok = self.peek()
        if not self.at("{"):
            raise self.mismatch(tok, f"flags `{{…}}` for {typ.wit()}")
        self.next()
        found: set[str] = set()

        def flag() -> None:
            ftok = self.next()
            if ftok.kind != "label":
                raise self.mismatch(ftok, f"a flag of {typ.name} ({', '.join(typ.labels)})")
            if ftok.value not in typ.labels:
                raise self.error("wave.label", f"flags {typ.name} has no flag `{ftok.value}` "
                                 f"(flags: {', '.join(typ.labels)})", ftok.start)
            if ftok.value in found:
                raise self.error("wave.flags.duplicate", f"flag `{ftok.value}` given twice", ftok.start)
            found.add(ftok.value)
        self._sequence("}", f"flags {typ.name}", flag)
        return frozenset(found)

    def _option(self, typ: t.OptionType) -> Any:
        tok = self.peek()
        if tok.is_keyword("none"):
            self.next()
            return None
        if tok.is_keyword("some"):
            self.next()
            inner = self._payload(typ.inner, "`some`", tok)
        elif _flat_allowed(typ.inner):
            inner = self.value(typ.inner)
        else:
            raise self.mismatch(tok, f"`some(…)` or `none` for {typ.wit()}")
        return Some(inner) if nests_option(typ) else inner

    def _result(self, typ: t.ResultType) -> Any:
        tok = self.peek()
        if tok.is_keyword("ok", "err"):
            self.next()
            payload_type = typ.ok if tok.value == "ok" else typ.err
            payload = self._payload(payload_type, f"`{tok.value}` of {typ.wit()}", tok)
            return Ok(payload) if tok.value == "ok" else Err(payload)
        if typ.ok is not None and _flat_allowed(typ.ok):
            return Ok(self.value(typ.ok))
        raise self.mismatch(tok, f"`ok…` or `err…` for {typ.wit()}")

    def finish(self) -> None:
        tok = self.peek()
        if tok.kind != "eof":
            raise self.error("wave.syntax", f"unexpected {tok.describe()} after the value", tok.start)


def _flat_allowed(payload: t.Type) -> bool:
    """A `some`/`ok` payload may be written bare unless it is itself an option or result."""
    return not isinstance(t.unalias(payload), (t.OptionType, t.ResultType))


def round_f32(value: float) -> float:
    """`value` rounded to the nearest f32 (overflow gives an infinity, as IEEE rounding does)."""
    try:
        rounded: float = struct.unpack("<f", struct.pack("<f", value))[0]
        return rounded
    except OverflowError:
        return math.copysign(math.inf, value)


# --- public parsing ---------------------------------------------------------------------

def parse_value(text: str, typ: t.Type) -> Any:
    """The value of type `typ` that the WAVE `text` denotes."""
    parser = _Parser(text)
    value = parser.value(typ)
    parser.finish()
    return value


def _split_call(text: str) -> tuple[str, list[tuple[int, int]], int]:
    """(name, [(start, end) of each argument's text], offset of the closing paren)."""
    parser = _Parser(text)
    m = _SKIP.match(text)
    start = m.end() if m else 0
    name_match = _CALL_NAME.match(text, start)
    if name_match is None:
        raise parser.error("wave.call.syntax", "expected a call `name(arg, …)`", start)
    parser.pos = name_match.end()
    parser.expect("(", f"after the function name `{name_match.group()}`")
    closers = {"(": ")", "[": "]", "{": "}"}
    spans: list[tuple[int, int]] = []
    stack: list[str] = []  # closing brackets still expected
    arg_start = arg_end = -1
    while True:
        tok = parser.next()
        if tok.kind == "eof":
            raise parser.error("wave.call.syntax", "unterminated argument list (missing `)`)", tok.start)
        if tok.kind == "punct" and not stack and tok.text in ",)":
            if arg_start >= 0:
                spans.append((arg_start, arg_end))
            elif tok.text == ",":
                raise parser.error("wave.call.syntax", "empty argument", tok.start)
            arg_start = -1
            if tok.text == ")":
                break
            continue
        if tok.kind == "punct" and tok.text in closers:
            stack.append(closers[tok.text])
        elif tok.kind == "punct" and tok.text in ")]}":
            if not stack or stack[-1] != tok.text:
                raise parser.error("wave.call.syntax", f"unbalanced `{tok.text}`", tok.start)
            stack.pop()
        if arg_start < 0:
            arg_start = tok.start
        arg_end = tok.end
    parser.finish()
    return name_match.group(), spans, tok.start


def parse_call(text: str) -> tuple[str, list[str]]:
    """Split `name(arg, …)` into the name and the raw WAVE text of each argument."""
    name, spans, _ = _split_call(text)
    return name, [text[a:b] for a, b in spans]


def _arity(func: t.Function, given: int, parser: _Parser | None, offset: int) -> None:
    """Too many arguments, or a left-out trailing argument that is not an option."""
    params = func.params
    missing = [p.name for p in params[given:] if not isinstance(t.unalias(p.type), t.OptionType)]
    if given <= len(params) and not missing:
        return
    message = f"{func.name} takes {len(params)} argument(s), found {given}"
    if missing:
        message += f" (missing `{missing[0]}`)"
    if parser is None:
        raise DiagnosticError(Diagnostic("wave.call.arity", message,
                                         extensions={"expected": len(params), "got": given}))
    raise parser.error("wave.call.arity", message, offset, expected=len(params), got=given)


def _arg(parser: _Parser, typ: t.Type, index: int) -> Any:
    try:
        value = parser.value(typ)
        parser.finish()
        return value
    except DiagnosticError as exc:
        d = exc.diagnostic
        raise DiagnosticError(Diagnostic(d.code, f"arg {index}: {d.message}", location=d.location,
                                         extensions={**d.extensions, "arg": index})) from None


def parse_args(args: Sequence[str], func: t.Function) -> list[Any]:
    """Parse raw WAVE argument texts (as `parse_call` returns them) against `func`'s
    parameters; columns in errors count within each argument's text.  Trailing option
    arguments may be left out (they are `none`)."""
    _arity(func, len(args), None, 0)
    values = [_arg(_Parser(arg), p.type, i) for i, (arg, p) in enumerate(zip(args, func.params), start=1)]
    return values + [None] * (len(func.params) - len(args))


def parse_call_args(text: str, func: t.Function) -> list[Any]:
    """Parse the arguments of a call `name(arg, …)` against `func`'s parameters; columns
    in errors count within the whole call text."""
    _, spans, close = _split_call(text)
    offset = spans[len(func.params)][0] if len(spans) > len(func.params) else close
    _arity(func, len(spans), _Parser(text), offset)
    values = [_arg(_Parser(text, a, b), p.type, i)
              for i, ((a, b), p) in enumerate(zip(spans, func.params), start=1)]
    return values + [None] * (len(func.params) - len(spans))


# --- printing ---------------------------------------------------------------------------

def print_value(value: Any, typ: t.Type) -> str:
    """The WAVE text of `value` (checked against `typ` first: a `ValueTypeError` names the
    path of a value that does not fit)."""
    check(value, typ)
    out: list[str] = []
    _write(value, typ, out)
    return "".join(out)


def _write(value: Any, typ: t.Type, out: list[str]) -> None:
    typ = t.unalias(typ)
    if isinstance(typ, t.PrimitiveType):
        out.append(_primitive_text(value, typ))
    elif isinstance(typ, t.ListType):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _write(item, typ.element, out)
        out.append("]")
    elif isinstance(typ, t.MapType):
        out.append("[")
        for i, (k, v) in enumerate(value.items()):
            out.append(", (" if i else "(")
            _write(k, typ.key, out)
            out.append(", ")
            _write(v, typ.value, out)
            out.append(")")
        out.append("]")
    elif isinstance(typ, t.TupleType):
        out.append("(")
        for i, (item, et) in enumerate(zip(value, typ.elements)):
            if i:
                out.append(", ")
            _write(item, et, out)
        out.append(")")
    elif isinstance(typ, t.RecordType):
        written = 0
        out.append("{")
        for f in typ.fields:
            item = record_field(value, f.name)
            if item is None and isinstance(t.unalias(f.type), t.OptionType):
                continue
            out.append(", " if written else "")
            out.append(f"{f.name}: ")
            _write(item, f.type, out)
            written += 1
        out.append("}" if written else ":}")
    elif isinstance(typ, t.VariantType):
        case = typ.cases[typ.case_index(value.tag)]
        out.append(label(case.name))
        if case.type is not None:
            out.append("(")
            _write(value.value, case.type, out)
            out.append(")")
    elif isinstance(typ, t.EnumType):
        out.append(label(value))
    elif isinstance(typ, t.FlagsType):
        out.append("{" + ", ".join(name for name in typ.labels if name in value) + "}")
    elif isinstance(typ, t.OptionType):
        if value is None:
            out.append("none")
        else:
            out.append("some(")
            _write(value.value if isinstance(value, Some) else value, typ.inner, out)
            out.append(")")
    elif isinstance(typ, t.ResultType):
        ok = isinstance(value, Ok)
        payload_type = typ.ok if ok else typ.err
        out.append("ok" if ok else "err")
        if payload_type is not None:
            out.append("(")
            _write(value.value, payload_type, out)
            out.append(")")
    else:
        raise DiagnosticError(Diagnostic("wave.unsupported", f"{typ.wit()} values have no WAVE form"))


def _primitive_text(value: Any, typ: t.PrimitiveType) -> str:
    if typ == t.BOOL:
        return "true" if value else "false"
    if typ in t.INTEGER_RANGES:
        return str(int(value))
    if typ in (t.F32, t.F64):
        return float_text(float(value), single=typ == t.F32)
    if typ == t.CHAR:
        return "'" + _escape_text(value) + "'"
    if typ == t.STRING:
        return '"' + _escape_text(value) + '"'
    raise DiagnosticError(Diagnostic("wave.unsupported", f"{typ.wit()} values have no WAVE form"))


def float_text(value: float, *, single: bool = False) -> str:
    """The shortest decimal text that reads back as the same f64 (or f32 when `single`)."""
    if value != value:
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if not single:
        return repr(value)
    value = round_f32(value)  # the f32 the value stands for
    for digits in range(1, 10):  # nine significant digits always round-trip an f32
        shortest = float(f"{value:.{digits}g}")
        if round_f32(shortest) == value:
            return repr(shortest)  # the same digits, written as f64s are (`100.0`, `1e-05`)
    raise AssertionError(f"no f32 text for {value!r}")  # pragma: no cover


def _escape_text(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in "'\"":
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return "".join(out)
