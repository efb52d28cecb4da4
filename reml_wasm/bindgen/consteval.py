"""C constant expressions: tokenize and fold them with C's integer types (LP64).

Used for enum values, array lengths, bit-field widths (their text comes from the
pycparser AST) and for `#define` bodies.  Integers carry their C type so that
unsigned wrap-around, the usual arithmetic conversions and shifts give what the C
compiler gives; anything undefined (signed overflow, division by zero, bad shift)
raises `ConstEvalError` instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Union

__all__ = ["IntVal", "FloatVal", "StrVal", "Value", "ConstEvalError", "tokenize", "evaluate",
           "INT_KINDS", "int_literal"]


class ConstEvalError(Exception):
    """The text is not a constant expression this evaluator can fold."""


# kind -> (bits, signed, rank)
INT_KINDS: dict[str, tuple[int, bool, int]] = {
    "int": (32, True, 1), "unsigned int": (32, False, 1),
    "long": (64, True, 2), "unsigned long": (64, False, 2),
    "long long": (64, True, 3), "unsigned long long": (64, False, 3),
}
# narrower C types a cast may name; the value is truncated, then promoted to int
_NARROW = {"char": (8, True), "signed char": (8, True), "unsigned char": (8, False),
           "short": (16, True), "unsigned short": (16, False), "_Bool": (1, False)}


@dataclass(frozen=True)
class IntVal:
    value: int
    kind: str = "int"


@dataclass(frozen=True)
class FloatVal:
    value: float
    kind: str = "double"  # or "float"


@dataclass(frozen=True)
class StrVal:
    value: bytes


Value = Union[IntVal, FloatVal, StrVal]

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<float>(?:0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP][+-]?[0-9]+
              |(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)[fFlL]?)
  | (?P<int>(?:0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)[uUlL]*)
  | (?P<char>L?'(?:[^'\\\n]|\\.)+')
  | (?P<str>L?"(?:[^"\\\n]|\\.)*")
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<punct><<=|>>=|\.\.\.|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|->|\#\#|[-+*/%&|^~!?:(),<>\[\].=;{}\#])
""", re.VERBOSE)


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kinds: float int char str ident punct."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConstEvalError(f"unexpected character {text[pos]!r}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))  # type: ignore[arg-type]
    return out


def _wrap(value: int, kind: str) -> int:
    bits, signed, _ = INT_KINDS[kind]
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _fits(value: int, kind: str) -> bool:
    bits, signed, _ = INT_KINDS[kind]
    if signed:
        return -(1 << (bits - 1)) <= value < (1 << (bits - 1))
    return 0 <= value < (1 << bits)


def int_literal(text: str) -> IntVal:
    """The value and C type of an integer literal (C11 6.4.4.1, LP64)."""
    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uUlL]*)", text)
    if m is None:
        raise ConstEvalError(f"bad integer literal {text!r}")
    digits, suffix = m.group(1), m.group(2).lower()
    if suffix not in ("", "u", "l", "ul", "lu", "ll", "ull", "llu"):
        raise ConstEvalError(f"bad integer suffix in {text!r}")
    if digits[:2].lower() == "0x":
        value, decimal = int(digits, 16), False
    elif digits[:2].lower() == "0b":
        value, decimal = int(digits[2:], 2), False
    elif len(digits) > 1 and digits[0] == "0":
        if any(c in "89" for c in digits):
            raise ConstEvalError(f"bad octal literal {text!r}")
        value, decimal = int(digits, 8), False
    else:
        value, decimal = int(digits), True
    unsigned = "u" in suffix
    longs = suffix.count("l")
    order = ["int", "long", "long long"][longs:]
    candidates: list[str] = []
    for k in order:
        if unsigned:
            candidates.append("unsigned " + k)
        elif decimal:
            candidates.append(k)
        else:
            candidates += [k, "unsigned " + k]
    for k in candidates:
        if _fits(value, k):
            return IntVal(value, k)
    raise ConstEvalError(f"integer literal {text!r} is too large")


_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92,
            "'": 39, '"': 34, "?": 63, "e": 27}


def _unescape(body: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        c = body[i]
        if c in "xX":
            m = re.match(r"[0-9a-fA-F]+", body[i + 1:])
            if m is None:
                raise ConstEvalError("bad \\x escape")
            out.append(int(m.group(), 16) & 0xFF)
            i += 1 + m.end()
        elif c in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i:])
            assert m is not None
            out.append(int(m.group(), 8) & 0xFF)
            i += m.end()
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
            i += 1
        else:
            raise ConstEvalError(f"unknown escape \\{c}")
    return bytes(out)


def _common(a: str, b: str) -> str:
    """The usual arithmetic conversions for two integer kinds (after promotion)."""
    if a == b:
        return a
    ba, sa, ra = INT_KINDS[a]
    bb, sb, rb = INT_KINDS[b]
    if sa == sb:
        return a if ra >= rb else b
    u, s = (a, b) if not sa else (b, a)
    if INT_KINDS[u][2] >= INT_KINDS[s][2]:
        return u
    if INT_KINDS[s][0] > INT_KINDS[u][0]:
        return s
    return "unsigned " + s


Lookup = Callable[[str], "Value | None"]
TypeKind = Callable[[str], "str | None"]
SizeOf = Callable[[list[str]], "int | None"]  # ["sizeof" | "_Alignof", type words...]

_BINARY_PREC = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7,
                "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}
_TYPE_WORDS = {"int", "unsigned", "signed", "long", "short", "char", "float", "double", "_Bool",
               "const", "volatile"}


def _cast_kind(words: list[str]) -> str:
    """Canonical kind for a cast to a builtin arithmetic type."""
    ws = [w for w in words if w not in ("const", "volatile")]
    if "double" in ws:
        return "double"
    if "float" in ws:
        return "float"
    if "_Bool" in ws:
        return "_Bool"
    unsigned = "unsigned" in ws
    if "char" in ws:
        return "unsigned char" if unsigned else ("signed char" if "signed" in ws else "char")
    if "short" in ws:
        return "unsigned short" if unsigned else "short"
    longs = ws.count("long")
    base = "long long" if longs >= 2 else ("long" if longs == 1 else "int")
    return "unsigned " + base if unsigned else base


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], lookup: Lookup, type_kind: TypeKind,
                 size_of: SizeOf) -> None:
        self.toks = tokens
        self.i = 0
        self.lookup = lookup
        self.type_kind = type_kind
        self.size_of = size_of

    def peek(self, k: int = 0) -> tuple[str, str] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (text is not None and tok[1] != text):
            raise ConstEvalError(f"expected {text or 'a token'}, found {tok[1] if tok else 'end'}")
        self.i += 1
        return tok

    def expr(self, min_prec: int = 0) -> Value:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None or tok[0] != "punct":
                if tok is not None and min_prec == 0:
                    raise ConstEvalError(f"unexpected {tok[1]!r}")
                return left
            op = tok[1]
            if op == "?" and min_prec == 0:
                self.take()
                yes = self.expr()
                self.take(":")
                no = self.expr()
                return _ternary(left, yes, no)
            prec = _BINARY_PREC.get(op)
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.expr(prec + 1)
            left = _binary(op, left, right)

    def _cast_words(self) -> list[str] | None:
        """If a parenthesised type name starts here, its words (without the parens)."""
        j = self.i + 1
        words: list[str] = []
        while j < len(self.toks) and self.toks[j][0] == "ident":
            words.append(self.toks[j][1])
            j += 1
        if not words or j >= len(self.toks) or self.toks[j][1] != ")":
            return None
        if all(w in _TYPE_WORDS for w in words):
            return words
        if len(words) == 1 and self.type_kind(words[0]) is not None:
            return words
        return None

    def unary(self) -> Value:
        tok = self.peek()
        if tok is None:
            raise ConstEvalError("unexpected end of expression")
        kind, text = tok
        if kind == "punct" and text in ("-", "+", "~", "!"):
            self.take()
            return _unary(text, self.unary())
        if kind == "punct" and text == "(":
            words = self._cast_words()
            if words is not None:
                self.i += len(words) + 2
                target = _cast_kind(words) if all(w in _TYPE_WORDS for w in words) \
                    else self.type_kind(words[0])
                return _cast(self.unary(), target)  # type: ignore[arg-type]
            self.take("(")
            value = self.expr()
            self.take(")")
            return value
        if kind == "ident" and text in ("sizeof", "_Alignof", "__alignof__", "__alignof", "alignof",
                                        "offsetof", "__builtin_offsetof"):
            return self.sizeof()
        return self.primary()

    def sizeof(self) -> Value:
        """`sizeof(type name)` / `_Alignof(type name)` / `offsetof(type, member)`: the
        words up to the matching parenthesis go to `size_of` (with the operator as the
        first word)."""
        op = self.take()[1]
        op = op if op == "sizeof" else "offsetof" if op.endswith("offsetof") else "_Alignof"
        self.take("(")
        words: list[str] = []
        depth = 0
        while True:
            tok = self.take()
            if tok[1] == "(":
                depth += 1
            elif tok[1] == ")":
                if depth == 0:
                    break
                depth -= 1
            words.append(tok[1])
        size = self.size_of([op] + words)
        if size is None:
            raise ConstEvalError(f"{op}({' '.join(words)}) is not folded")
        return IntVal(size, "unsigned long")

    def primary(self) -> Value:
        kind, text = self.take()
        if kind == "int":
            return int_literal(text)
        if kind == "float":
            return _float_literal(text)
        if kind == "char":
            data = _unescape(text[text.index("'") + 1:-1])
            if len(data) != 1:
                raise ConstEvalError(f"multi-character constant {text}")
            v = data[0]
            return IntVal(v - 256 if v > 127 else v, "int")
        if kind in ("str", "ident"):
            self.i -= 1
            return self.strings_or_name()
        raise ConstEvalError(f"unexpected {text!r}")

    def strings_or_name(self) -> Value:
        parts: list[bytes] = []
        first: Value | None = None
        while (tok := self.peek()) is not None and tok[0] in ("str", "ident"):
            kind, text = tok
            if kind == "str":
                if text.startswith("L"):
                    raise ConstEvalError("wide strings are not folded")
                parts.append(_unescape(text[1:-1]))
                self.i += 1
                continue
            nxt = self.peek(1)
            if nxt is not None and nxt[1] == "(":
                raise ConstEvalError(f"call of {text} is not a constant")
            value = self.lookup(text)
            if value is None:
                raise ConstEvalError(f"unknown name {text}")
            if isinstance(value, StrVal):
                parts.append(value.value)
                self.i += 1
                continue
            if parts or first is not None:
                raise ConstEvalError("unexpected name after a value")
            self.i += 1
            first = value
            break
        if first is not None:
            return first
        if not parts:
            raise ConstEvalError("expected a value")
        return StrVal(b"".join(parts))


def _float_literal(text: str) -> FloatVal:
    kind = "float" if text[-1] in "fF" else "double"
    body = text.rstrip("fFlL")
    value = float.fromhex(body) if body[:2].lower() == "0x" else float(body)
    return FloatVal(value, kind)


def _as_number(v: Value) -> IntVal | FloatVal:
    if isinstance(v, StrVal):
        raise ConstEvalError("a string is not a number")
    return v


def _unary(op: str, v: Value) -> Value:
    v = _as_number(v)
    if op == "!":
        return IntVal(int(not v.value), "int")
    if isinstance(v, FloatVal):
        if op == "~":
            raise ConstEvalError("~ on a floating value")
        return FloatVal(-v.value if op == "-" else v.value, v.kind)
    if op == "+":
        return v
    if op == "~":
        return IntVal(_wrap(~v.value, v.kind), v.kind)
    result = -v.value
    if INT_KINDS[v.kind][1]:
        if not _fits(result, v.kind):
            raise ConstEvalError("overflow in constant expression")
        return IntVal(result, v.kind)
    return IntVal(_wrap(result, v.kind), v.kind)


def _cast(v: Value, target: str) -> Value:
    v = _as_number(v)
    if target in ("double", "float"):
        return FloatVal(float(v.value), target)
    value = int(v.value) if isinstance(v, FloatVal) else v.value
    if target in _NARROW:
        bits, signed = _NARROW[target]
        if target == "_Bool":
            return IntVal(int(value != 0), "int")
        value &= (1 << bits) - 1
        if signed and value >> (bits - 1):
            value -= 1 << bits
        return IntVal(value, "int")
    if target not in INT_KINDS:
        raise ConstEvalError(f"cast to {target} is not folded")
    return IntVal(_wrap(value, target), target)


def _ternary(cond: Value, yes: Value, no: Value) -> Value:
    c = _as_number(cond)
    y, n = _as_number(yes), _as_number(no)
    if isinstance(y, FloatVal) or isinstance(n, FloatVal):
        both_float = isinstance(y, FloatVal) and isinstance(n, FloatVal) and y.kind == n.kind == "float"
        pick = y if c.value else n
        return FloatVal(float(pick.value), "float" if both_float else "double")
    kind = _common(y.kind, n.kind)
    pick = y if c.value else n
    return IntVal(_wrap(pick.value, kind), kind)


def _binary(op: str, a: Value, b: Value) -> Value:
    a, b = _as_number(a), _as_number(b)
    if op in ("&&", "||"):
        truth = (bool(a.value) and bool(b.value)) if op == "&&" else (bool(a.value) or bool(b.value))
        return IntVal(int(truth), "int")
    if isinstance(a, FloatVal) or isinstance(b, FloatVal):
        return _binary_float(op, float(a.value), float(b.value),
                             "float" if all(getattr(x, "kind", "") == "float" for x in (a, b)) else "double")
    if op in ("<<", ">>"):
        kind = a.kind
        bits, signed, _ = INT_KINDS[kind]
        if b.value < 0 or b.value >= bits:
            raise ConstEvalError("shift count out of range")
        if op == ">>":
            return IntVal(a.value >> b.value, kind)
        if signed and a.value < 0:
            raise ConstEvalError("left shift of a negative value")
        result = a.value << b.value
        if signed:
            if result >= (1 << bits):
                raise ConstEvalError("overflow in constant expression")
            return IntVal(_wrap(result, kind), kind)
        return IntVal(_wrap(result, kind), kind)
    kind = _common(a.kind, b.kind)
    x, y = _wrap(a.value, kind), _wrap(b.value, kind)
    signed = INT_KINDS[kind][1]
    if op in ("==", "!=", "<", ">", "<=", ">="):
        truth = {"==": x == y, "!=": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
        return IntVal(int(truth), "int")
    if op in ("/", "%"):
        if y == 0:
            raise ConstEvalError("division by zero")
        q = abs(x) // abs(y)
        if (x < 0) != (y < 0):
            q = -q
        result = q if op == "/" else x - q * y
    elif op == "+":
        result = x + y
    elif op == "-":
        result = x - y
    elif op == "*":
        result = x * y
    elif op == "&":
        result = x & y
    elif op == "|":
        result = x | y
    elif op == "^":
        result = x ^ y
    else:  # pragma: no cover - every operator of _BINARY_PREC is handled above
        raise ConstEvalError(f"operator {op}")
    if signed and not _fits(result, kind):
        raise ConstEvalError("overflow in constant expression")
    return IntVal(_wrap(result, kind), kind)


def _binary_float(op: str, x: float, y: float, kind: str) -> Value:
    if op in ("==", "!=", "<", ">", "<=", ">="):
        truth = {"==": x == y, "!=": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
        return IntVal(int(truth), "int")
    if op == "+":
        return FloatVal(x + y, kind)
    if op == "-":
        return FloatVal(x - y, kind)
    if op == "*":
        return FloatVal(x * y, kind)
    if op == "/":
        if y == 0:
            raise ConstEvalError("division by zero")
        return FloatVal(x / y, kind)
    raise ConstEvalError(f"operator {op} on floating values")


def _no_names(name: str) -> Value | None:
    return None


def _no_types(name: str) -> str | None:
    return None


def _no_sizes(words: list[str]) -> int | None:
    return None


def evaluate(text: str | list[tuple[str, str]], lookup: Lookup = _no_names,
             type_kind: TypeKind = _no_types, size_of: SizeOf = _no_sizes) -> Value:
    """Fold a C constant expression.  `lookup` gives the value of a name (enum constant
    or object-like macro); `type_kind` gives the arithmetic kind a typedef name stands
    for (for casts such as `(lua_Integer)1`)."""
    tokens = tokenize(text) if isinstance(text, str) else text
    if not tokens:
        raise ConstEvalError("empty expression")
    parser = _Parser(tokens, lookup, type_kind, size_of)
    value = parser.expr()
    if parser.i != len(tokens):
        raise ConstEvalError(f"unexpected {tokens[parser.i][1]!r}")
    return value
