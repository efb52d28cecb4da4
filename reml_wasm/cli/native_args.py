"""Arguments of `reml-wasm call-native`: text -> values a C function may safely receive.

An argument is a C constant (`-3`, `0x10`, `'c'`, `"text"`, `1 << 4`) or a WAVE value
(`[1, 2]`, `{x: 1, y: 2}`, `none`, `some([0])`, `true`), read against the type of the C
parameter it is for.  The pointer rules, the same for every pointer parameter:

* an integer is never taken as a pointer (`0` included);
* NULL (`none`, `null` or `NULL`) only for a nullable parameter: one the header leaves out
  of a `nonnull` attribute that names others, or one given with `--nullable`;
* a pointer to a character type or `void` takes a string (a NUL-terminated copy that
  lives for the call) or a WAVE list of its elements (bytes for `void`);
* a pointer to a number takes a WAVE list (`[0]`): a zero-filled array of at least one
  element;
* every buffer is at least as long as an array parameter's declared length
  (`uuid_t uu`, `unsigned char uu[16]`: 16 bytes whatever the list or string holds), and
  at least as long as the size argument a GCC `access(mode, buffer, size)` attribute
  names (glibc: `strerror_r(34, "", 100)` gets a 100-byte buffer), up to `MAX_BUFFER`;
* a pointer to a struct takes a WAVE record of its fields, when no field is a pointer
  (a pointer field would need an address, which no argument text can give);
* anything else (function pointers, opaque structs, pointers to pointers) only NULL.

What a function does with a buffer beyond that (a size the header does not tie to the
buffer) is the C function's contract, not something an argument can be checked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Sequence

import cffi

from .. import types as t
from .. import wave
from ..audit import DiagnosticError, error
from ..bindgen import consteval as ce
from ..bindgen.cmodel import Array, CModel, FunctionDecl, Pointer, Prim, TagRef
from ..bindgen.to_types import TypeMapper, Unmapped
from ..connectors.native.marshal import struct_init

NULL_WORDS = frozenset({"NULL", "null", "none"})
MAX_BUFFER = 1 << 20  # elements: the largest buffer a size argument may ask for
CHAR_TYPES = frozenset({"char", "signed char", "unsigned char"})
_FFI = cffi.FFI()


def split_call(text: str) -> tuple[str, list[str]]:
    """`name(a, b)` -> (name, argument texts): commas split at bracket depth 0, outside
    string and character literals."""
    head, sep, rest = text.strip().partition("(")
    name = head.strip()
    if not sep or not name.isidentifier() or not rest.rstrip().endswith(")"):
        raise error("ffi.call.invalid", f"expected `name(args)`, got {text!r}")
    body = rest.rstrip()[:-1]
    args: list[str] = []
    depth, quote, escaped, start = 0, "", False, 0
    for i, c in enumerate(body):
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                raise error("ffi.call.invalid", f"unbalanced `{c}` in {text!r}")
        elif c == "," and depth == 0:
            args.append(body[start:i].strip())
            start = i + 1
    if quote or depth:
        raise error("ffi.call.invalid", f"unterminated {'literal' if quote else 'bracket'} in {text!r}")
    last = body[start:].strip()
    if last or args:
        args.append(last)
    for i, a in enumerate(args):
        if not a:
            raise error("ffi.call.invalid", f"argument {i + 1} of {text!r} is empty", argument=i + 1)
    return name, args


def nullable_params(fn: FunctionDecl, model: CModel, extra: Collection[str | int] = ()) -> frozenset[int]:
    """Indices of the pointer parameters that may be NULL: those a `nonnull` attribute
    naming other parameters leaves out, and those `extra` names (by name or from 1)."""
    params = fn.type.params
    pointers = {i for i, p in enumerate(params) if isinstance(model.resolve(p.type), Pointer)}
    out: set[int] = set()
    if fn.nonnull:  # the header says which are not null: the other pointers may be
        out |= pointers - {i - 1 for i in fn.nonnull}
    for e in extra:
        for i, p in enumerate(params):
            if str(e) == str(i + 1) or e == p.name:
                out.add(i)
    return frozenset(out & pointers)


@dataclass
class Converter:
    """Turns argument texts into the values of one function's parameters."""

    model: CModel
    fn: FunctionDecl
    nullable: frozenset[int]

    def __post_init__(self) -> None:
        self.mapper = TypeMapper(self.model)
        self.keep: list[Any] = []  # buffers that must live until the call returns
        self.buffers: dict[int, tuple[str, int]] = {}  # argument -> (element C type, length)

    def _fail(self, i: int, message: str) -> DiagnosticError:
        return error("ffi.call.invalid", f"{self.fn.name}: argument {i + 1}: {message}",
                     symbol=self.fn.name, argument=i + 1)

    def convert(self, texts: Sequence[str]) -> list[Any]:
        params = self.fn.type.params
        if len(texts) != len(params):
            raise error("ffi.call.invalid", f"{self.fn.name} takes {len(params)} argument(s), "
                        f"{len(texts)} given: {self.model.cdecl(self.fn)}", symbol=self.fn.name)
        values = [self.argument(i, text) for i, text in enumerate(texts)]
        self._sized(values)
        return values

    def _sized(self, values: list[Any]) -> None:
        """`access(mode, buffer, size)` in the header: a buffer made here is grown (zero-
        filled) to the length the size argument gives, so the callee stays inside it."""
        for _mode, ptr, size in self.fn.access:
            i, k = ptr - 1, (size or 0) - 1
            if size is None or i not in self.buffers or not 0 <= k < len(values):
                continue
            want = values[k]
            if not isinstance(want, int) or isinstance(want, bool):
                continue
            cname, length = self.buffers[i]
            if want <= length:
                continue
            if want > MAX_BUFFER:
                raise self._fail(k, f"a buffer of {want} elements for argument {ptr} is more than "
                                 f"call-native makes ({MAX_BUFFER})")
            grown = _FFI.new(f"{cname}[]", want)
            _FFI.memmove(grown, values[i], length * _FFI.sizeof(cname))
            self.keep.append(grown)
            values[i] = grown
            self.buffers[i] = (cname, want)

    def argument(self, i: int, text: str) -> Any:
        declared = self.fn.type.params[i].type
        ptype = self.model.resolve(declared)
        if isinstance(ptype, Pointer):
            return self.pointer(i, text, ptype, self.fn.type.params[i])
        if text in NULL_WORDS:
            raise self._fail(i, f"{self.model.c_spelling(declared)} is not a pointer; NULL is not a value of it")
        constant = _c_constant(text)
        if constant is not None and not isinstance(constant, ce.StrVal):
            return constant.value
        return self._wave(i, text, declared)

    def _wave(self, i: int, text: str, ctype: Any, as_list: bool = False) -> Any:
        try:
            typ = self.mapper.value_type(ctype)
            if as_list:
                typ = t.ListType(typ)
        except Unmapped as exc:
            raise self._fail(i, f"{self.model.c_spelling(ctype)} cannot be written as an argument ({exc})") from None
        try:
            return wave.parse_value(text, typ)
        except DiagnosticError as exc:
            raise self._fail(i, f"not a {typ.wit()} value: {exc.diagnostic.message}") from None

    def pointer(self, i: int, text: str, ptype: Pointer, param: Any) -> Any:
        spelled = self.model.c_spelling(param.type)
        if text in NULL_WORDS or text.replace(" ", "") in ("some(none)",):
            if i in self.nullable:
                return _FFI.NULL
            raise self._fail(i, f"{spelled} is not nullable: NULL is passed only where the header "
                             "says so (a `nonnull` attribute naming other parameters) or --nullable names it")
        if text.startswith("some(") and text.endswith(")"):
            text = text[5:-1].strip()
        target = self.model.resolve(ptype.target)
        constant = _c_constant(text)
        if constant is not None and not isinstance(constant, ce.StrVal):
            raise self._fail(i, f"{spelled} is a pointer: an integer is never taken as a pointer")
        if not isinstance(target, Prim):
            pass
        elif (target.name in CHAR_TYPES or target.name == "void") and not text.startswith("["):
            data = self._string(i, text, constant) + b"\0"
            data += bytes(max(0, (param.array_length or 0) - len(data)))
            cname = "char" if target.name == "void" else target.name
            buf = _FFI.new(f"{cname}[]", data)
            self.keep.append(buf)
            self.buffers[i] = (cname, len(data))
            return buf
        else:
            element = ptype.target if target.name != "void" else Prim("unsigned char")
            values = self._wave(i, text, element, as_list=True)
            cname = "unsigned char" if target.name == "void" else target.name
            length = max(len(values), 1, param.array_length or 0)
            try:
                if cname == "char":  # cffi's `char` takes bytes: the list's values as bytes
                    buf = _FFI.new("char[]", bytes(v & 0xFF for v in values) + bytes(length - len(values)))
                else:
                    buf = _FFI.new(f"{cname}[]", length)
                    for k, v in enumerate(values):
                        buf[k] = v
            except (TypeError, OverflowError, ValueError) as exc:
                raise self._fail(i, f"a list element does not fit {cname}: {exc}") from None
            self.keep.append(buf)
            self.buffers[i] = (cname, length)
            return buf
        if isinstance(target, TagRef) and target.kind == "struct" and not self._has_pointer(target):
            return StructArg(self._wave(i, text, ptype.target))
        raise self._fail(i, f"{spelled} cannot be made from an argument: only NULL, and only where nullable")

    def _string(self, i: int, text: str, constant: Any) -> bytes:
        if isinstance(constant, ce.StrVal):
            return constant.value
        try:
            value = wave.parse_value(text, t.STRING)
        except DiagnosticError as exc:
            raise self._fail(i, f"expected a string: {exc.diagnostic.message}") from None
        data = value.encode("utf-8", "surrogateescape")
        if b"\0" in data:
            raise self._fail(i, "a string with a NUL character would be cut short")
        return data


    def _has_pointer(self, ref: TagRef, seen: frozenset[str] = frozenset()) -> bool:
        """Whether the struct holds a pointer anywhere (nested structs and arrays included)."""
        d = self.model.struct(ref)
        if d.fields is None or ref.key in seen:
            return True
        for f in d.fields:
            ft = self.model.resolve(f.type)
            while isinstance(ft, Array):
                ft = self.model.resolve(ft.element)
            if isinstance(ft, Pointer) or (isinstance(ft, TagRef) and ft.kind != "enum"
                                           and self._has_pointer(ft, seen | {ref.key})):
                return True
        return False


@dataclass(frozen=True)
class StructArg:
    """A record for a struct pointer parameter: made into the struct once the function's
    own C type is known (`struct_pointer`)."""

    record: Any


def struct_pointer(ctype: Any, arg: StructArg, symbol: str, index: int) -> Any:
    """A fresh struct of the pointer type `ctype`, initialised from the record."""
    try:
        return _FFI.new(ctype, struct_init(arg.record))
    except (TypeError, OverflowError, ValueError, KeyError, AttributeError) as exc:
        raise error("ffi.call.invalid", f"{symbol}: argument {index + 1}: the record does not fit "
                    f"{ctype.cname}: {exc}", symbol=symbol, argument=index + 1) from None


def _c_constant(text: str) -> ce.Value | None:
    if text in NULL_WORDS:
        return None
    try:
        return ce.evaluate(text)
    except ce.ConstEvalError:
        return None
