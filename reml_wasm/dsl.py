"""Core.Ffi.Dsl, Reml's FFI surface in Python: bind_library, FfiLibrary.bind_fn, fn_sig, wrap.

Results follow the value convention: `Ok(v)` / `Err(FfiError)`.  A raw function
(`bind_fn`) is the unsafe call: bad input raises, and its audit record carries
`effect_flags ["ffi", "unsafe"]`.  A wrapped function (`wrap`) checks argument count and
kinds, a NULL return (`null_check`) and ownership before handing back `Ok(value)` or
`Err(FfiError)`, and its audit record carries `effect_flags ["ffi"]`, `wrapper: "ffi.wrap"`
and the `ffi.wrapper` block.  Every call writes one `AuditEnvelope` to the library's sink
(if any) and keeps it as `last_audit`.

`error_map` of a wrap spec names how a successful C return is read as an error:
  "errno"     errno set by the call (it is cleared first) -> Err(CallFailed)
  "negative"  a negative integer result -> Err(CallFailed)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import cffi

from .audit import (AuditEnvelope, Diagnostic, DiagnosticError, ffi_call_metadata,
                    ffi_wrapper_metadata)
from .connectors.native import NativeLibrary
from .connectors.native.marshal import OWNERSHIPS
from .values import Err, Ok, Record

__all__ = [
    "FfiType", "Void", "Bool", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "F32", "F64",
    "Ptr", "ConstPtr", "Struct", "Enum", "Fn", "FfiFnSig", "fn_sig", "FfiErrorKind", "FfiError",
    "FfiWrapSpec", "FfiLibrary", "FfiRawFn", "FfiWrappedFn", "bind_library", "wrap", "ERROR_MAPS",
]

ERROR_MAPS = ("errno", "negative")


# --- FfiType -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FfiType:
    kind: str                      # Void Bool I8 .. U64 F32 F64 Ptr ConstPtr Struct Enum Fn
    target: "FfiType | None" = None
    name: str | None = None
    fields: tuple[tuple[str, "FfiType"], ...] = ()
    sig: "FfiFnSig | None" = None

    def reml(self) -> str:
        """The Reml spelling, for messages (`f64`, `Ptr<u8>`)."""
        if self.kind in ("Ptr", "ConstPtr"):
            return f"{self.kind}<{self.target.reml()}>"  # type: ignore[union-attr]
        if self.kind in ("Struct", "Enum"):
            return str(self.name)
        if self.kind == "Fn":
            return f"FnPtr<{self.sig.reml() if self.sig else '?'}>"
        if self.kind == "Void":
            return "()"
        return self.kind.lower()

    @property
    def is_pointer(self) -> bool:
        return self.kind in ("Ptr", "ConstPtr", "Fn")


Void, Bool = FfiType("Void"), FfiType("Bool")
I8, U8, I16, U16 = FfiType("I8"), FfiType("U8"), FfiType("I16"), FfiType("U16")
I32, U32, I64, U64 = FfiType("I32"), FfiType("U32"), FfiType("I64"), FfiType("U64")
F32, F64 = FfiType("F32"), FfiType("F64")

_C_SCALARS = {"Void": "void", "Bool": "_Bool", "I8": "int8_t", "U8": "uint8_t", "I16": "int16_t",
              "U16": "uint16_t", "I32": "int32_t", "U32": "uint32_t", "I64": "int64_t",
              "U64": "uint64_t", "F32": "float", "F64": "double"}
_INTEGER_KINDS = {"I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "Enum"}


def Ptr(target: FfiType) -> FfiType:  # noqa: N802 - the DSL's own names
    return FfiType("Ptr", target)


def ConstPtr(target: FfiType) -> FfiType:  # noqa: N802
    return FfiType("ConstPtr", target)


def Struct(name: str, fields: Sequence[tuple[str, FfiType]]) -> FfiType:  # noqa: N802
    return FfiType("Struct", name=name, fields=tuple(fields))


def Enum(name: str) -> FfiType:  # noqa: N802 - a C enum: an I32
    return FfiType("Enum", name=name)


def Fn(sig: "FfiFnSig") -> FfiType:  # noqa: N802
    return FfiType("Fn", sig=sig)


@dataclass(frozen=True)
class FfiFnSig:
    params: tuple[FfiType, ...]
    returns: FfiType
    variadic: bool = False

    def reml(self) -> str:
        params = [p.reml() for p in self.params] + (["..."] if self.variadic else [])
        return f"fn({', '.join(params)}) -> {self.returns.reml()}"


def fn_sig(params: Sequence[FfiType], returns: FfiType, variadic: bool = False) -> FfiFnSig:
    return FfiFnSig(tuple(params), returns, variadic)


def _c_type(typ: FfiType, structs: dict[str, str], declarator: str = "") -> str:
    sep = " " if declarator and not declarator.startswith("(") else ""
    if typ.kind in _C_SCALARS:
        return f"{_C_SCALARS[typ.kind]}{sep}{declarator}"
    if typ.kind == "Enum":
        return f"int32_t{sep}{declarator}"
    if typ.kind == "Struct":
        if typ.name not in structs:
            body = "".join(f" {_c_type(ft, structs, fname)};" for fname, ft in typ.fields)
            structs[str(typ.name)] = f"typedef struct {typ.name} {{{body} }} {typ.name};"
        return f"{typ.name}{sep}{declarator}"
    if typ.kind in ("Ptr", "ConstPtr"):
        const = "const " if typ.kind == "ConstPtr" else ""
        inner = typ.target or Void
        if inner.kind == "Fn":
            return _c_type(inner, structs, f"*{declarator}")
        return f"{const}{_c_type(inner, structs)} *{declarator}"
    if typ.kind == "Fn":
        sig = typ.sig or fn_sig((), Void)
        params = ", ".join(_c_type(p, structs) for p in sig.params) or "void"
        return f"{_c_type(sig.returns, structs)} (*{declarator})({params})"
    raise ValueError(f"unknown FfiType kind {typ.kind}")


def c_declaration(name: str, sig: FfiFnSig) -> tuple[str, str]:
    """(prelude, declaration) in C for `name` with signature `sig`."""
    structs: dict[str, str] = {}
    params = [_c_type(p, structs, f"a{i}") for i, p in enumerate(sig.params)]
    if sig.variadic:
        params.append("...")
    ret = _c_type(sig.returns, structs)
    return "\n".join(structs.values()), f"{ret} {name}({', '.join(params) or 'void'});"


# --- errors --------------------------------------------------------------------------------

class FfiErrorKind(enum.Enum):
    LibraryNotFound = "LibraryNotFound"
    SymbolNotFound = "SymbolNotFound"
    InvalidSignature = "InvalidSignature"
    InvalidArgument = "InvalidArgument"
    NullReturn = "NullReturn"
    OwnershipViolation = "OwnershipViolation"
    CallFailed = "CallFailed"
    SecurityViolation = "SecurityViolation"
    UnsupportedPlatform = "UnsupportedPlatform"


@dataclass(frozen=True)
class FfiError:
    kind: FfiErrorKind
    diagnostic: Diagnostic

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def message(self) -> str:
        return self.diagnostic.message


_KIND_BY_PREFIX = (
    ("ffi.library.", FfiErrorKind.LibraryNotFound), ("ffi.symbol.", FfiErrorKind.SymbolNotFound),
    ("ffi.signature.", FfiErrorKind.InvalidSignature), ("ffi.value.", FfiErrorKind.InvalidArgument),
    ("ffi.wrap.invalid_argument", FfiErrorKind.InvalidArgument),
    ("ffi.wrap.null_return", FfiErrorKind.NullReturn),
    ("ffi.wrap.ownership_violation", FfiErrorKind.OwnershipViolation),
    ("ffi.ownership.", FfiErrorKind.OwnershipViolation),
    ("ffi.api.unavailable", FfiErrorKind.UnsupportedPlatform),
)


def _from_diagnostic(diag: Diagnostic) -> FfiError:
    for prefix, kind in _KIND_BY_PREFIX:
        if diag.code.startswith(prefix):
            return FfiError(kind, diag)
    return FfiError(FfiErrorKind.CallFailed, diag)


def _fail(kind: FfiErrorKind, code: str, message: str, **extensions: Any) -> FfiError:
    return FfiError(kind, Diagnostic(code, message, extensions=extensions))


# --- library and raw functions -------------------------------------------------------------

@dataclass
class FfiLibrary:
    name: str
    native: NativeLibrary
    audit: Any = None  # anything with .write(AuditEnvelope), e.g. audit.AuditSink

    def bind_fn(self, name: str, sig: FfiFnSig) -> "Ok[FfiRawFn] | Err[FfiError]":
        """effect {ffi, unsafe}: the raw function `name` with signature `sig`."""
        prelude, decl = c_declaration(name, sig)
        try:
            call = self.native.bind_c(decl, cdef_prelude=prelude)
        except DiagnosticError as exc:
            return Err(_from_diagnostic(exc.diagnostic))
        return Ok(FfiRawFn(self, name, sig, call))

    def _record(self, envelope: AuditEnvelope) -> None:
        if self.audit is not None:
            self.audit.write(envelope)


def bind_library(name: str, search_paths: Sequence[str] = (), *, audit: Any = None,
                 mode: str = "auto") -> "Ok[FfiLibrary] | Err[FfiError]":
    """effect {ffi}: open library `name` (`m` -> libm.so / .dylib / .dll)."""
    try:
        native = NativeLibrary.open(name, search_paths, mode=mode)  # type: ignore[arg-type]
    except DiagnosticError as exc:
        return Err(_from_diagnostic(exc.diagnostic))
    return Ok(FfiLibrary(name, native, audit))


class FfiRawFn:
    """The unsafe call: arguments go straight to C (bad ones raise ffi.* diagnostics)."""

    def __init__(self, library: FfiLibrary, name: str, sig: FfiFnSig, call: Callable[..., Any]) -> None:
        self.library, self.name, self.sig, self._call = library, name, sig, call
        self.last_audit: AuditEnvelope | None = None

    def __call__(self, *args: Any) -> Any:
        try:
            result = self._call(*args)
        except DiagnosticError as exc:
            self._audit("failed", _call_failed(list(exc.diagnostics)))
            raise
        self._audit("success", [])
        return result

    def _audit(self, status: str, diagnostics: list[Diagnostic]) -> None:
        meta = {"ffi": ffi_call_metadata(library=self.library.name, symbol=self.name, status=status,
                                         effect_flags=("ffi", "unsafe"))}
        self.last_audit = AuditEnvelope(metadata=meta, diagnostics=diagnostics)
        self.library._record(self.last_audit)


# --- wrap ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FfiWrapSpec:
    name: str
    null_check: bool = False
    ownership: str | None = None   # borrowed | owned | transferred
    error_map: str | None = None   # see ERROR_MAPS


def wrap(raw: FfiRawFn, spec: FfiWrapSpec) -> "Ok[FfiWrappedFn] | Err[FfiError]":
    """The safe form of `raw`: returns Ok(result) / Err(FfiError) and audits as wrapped."""
    returns = raw.sig.returns
    if spec.ownership is not None and spec.ownership not in OWNERSHIPS:
        return Err(_fail(FfiErrorKind.OwnershipViolation, "ffi.wrap.ownership_violation",
                         f"{spec.name}: unknown ownership {spec.ownership!r}",
                         **{"ffi.wrap": {"symbol": raw.name, "ownership": spec.ownership}}))
    if spec.ownership is not None and not returns.is_pointer:
        return Err(_fail(FfiErrorKind.OwnershipViolation, "ffi.wrap.ownership_violation",
                         f"{spec.name}: ownership {spec.ownership!r} on a non-pointer return "
                         f"({returns.reml()})", **{"ffi.wrap": {"symbol": raw.name, "ownership": spec.ownership}}))
    if spec.null_check and not returns.is_pointer:
        return Err(_fail(FfiErrorKind.InvalidSignature, "ffi.wrap.invalid_signature",
                         f"{spec.name}: null_check on a non-pointer return ({returns.reml()})"))
    if spec.error_map is not None and spec.error_map not in ERROR_MAPS:
        return Err(_fail(FfiErrorKind.InvalidSignature, "ffi.wrap.invalid_signature",
                         f"{spec.name}: unknown error_map {spec.error_map!r} (one of {', '.join(ERROR_MAPS)})"))
    if spec.error_map == "negative" and returns.kind not in _INTEGER_KINDS:
        return Err(_fail(FfiErrorKind.InvalidSignature, "ffi.wrap.invalid_signature",
                         f"{spec.name}: error_map 'negative' needs an integer return ({returns.reml()})"))
    call = raw._call
    if spec.ownership not in (None, "borrowed"):
        prelude, decl = c_declaration(raw.name, raw.sig)
        try:
            call = raw.library.native.bind_c(decl, cdef_prelude=prelude, returns=spec.ownership)
        except DiagnosticError as exc:
            return Err(_from_diagnostic(exc.diagnostic))
    return Ok(FfiWrappedFn(raw, spec, call))


class FfiWrappedFn:
    """fn(Args) -> Result<Ret, FfiError>."""

    def __init__(self, raw: FfiRawFn, spec: FfiWrapSpec, call: Callable[..., Any]) -> None:
        self.raw, self.spec, self._call = raw, spec, call
        self._ffi: cffi.FFI = cffi.FFI()
        self.last_audit: AuditEnvelope | None = None

    def __call__(self, *args: Any) -> "Ok[Any] | Err[FfiError]":
        problem = self._check_args(args)
        if problem is not None:
            return self._done(Err(problem))
        if self.spec.error_map == "errno":
            self._ffi.errno = 0
        try:
            result = self._call(*args)
        except DiagnosticError as exc:
            diag = exc.diagnostic
            if diag.code.startswith("ffi.value."):
                return self._done(Err(self._invalid(diag.message)))
            return self._done(Err(_from_diagnostic(diag)))
        return self._done(self._check_result(result))

    def _check_args(self, args: Sequence[Any]) -> FfiError | None:
        sig = self.raw.sig
        if len(args) != len(sig.params) and not (sig.variadic and len(args) > len(sig.params)):
            return self._invalid(f"{self.spec.name}: expected {len(sig.params)} argument(s), got {len(args)}")
        for i, (value, typ) in enumerate(zip(args, sig.params), start=1):
            if not _kind_fits(value, typ):
                return self._invalid(f"{self.spec.name}: argument {i}: expected {typ.reml()}, "
                                     f"got {type(value).__name__}")
        return None

    def _invalid(self, message: str) -> FfiError:
        return _fail(FfiErrorKind.InvalidArgument, "ffi.wrap.invalid_argument", message,
                     **{"ffi.wrap": {"expected_signature": self.raw.sig.reml()}})

    def _check_result(self, result: Any) -> "Ok[Any] | Err[FfiError]":
        spec, symbol = self.spec, self.raw.name
        if self.raw.sig.returns.is_pointer and (result is None or result == self._ffi.NULL):
            ext = {"ffi.wrap": {"symbol": symbol, "ownership": spec.ownership or "borrowed"}}
            if spec.null_check:
                return Err(_fail(FfiErrorKind.NullReturn, "ffi.wrap.null_return",
                                 f"{spec.name}: {symbol} returned NULL", **ext))
            if spec.ownership in ("owned", "transferred"):
                return Err(_fail(FfiErrorKind.OwnershipViolation, "ffi.wrap.ownership_violation",
                                 f"{spec.name}: {symbol} returned NULL for an {spec.ownership} pointer", **ext))
        if spec.error_map == "errno" and self._ffi.errno != 0:
            code = self._ffi.errno
            return Err(_fail(FfiErrorKind.CallFailed, "ffi.call.failed",
                             f"{spec.name}: {symbol} set errno {code}", errno=code))
        if spec.error_map == "negative" and result < 0:
            return Err(_fail(FfiErrorKind.CallFailed, "ffi.call.failed",
                             f"{spec.name}: {symbol} returned {result}", result=result))
        return Ok(result)

    def _done(self, outcome: "Ok[Any] | Err[FfiError]") -> "Ok[Any] | Err[FfiError]":
        failed = isinstance(outcome, Err)
        meta = {
            "ffi": ffi_call_metadata(library=self.raw.library.name, symbol=self.raw.name,
                                     status="failed" if failed else "success", effect_flags=("ffi",),
                                     wrapper="ffi.wrap"),
            "ffi.wrapper": ffi_wrapper_metadata(name=self.spec.name, null_check=self.spec.null_check,
                                                call_mode="wrapped", ownership=self.spec.ownership,
                                                error_map=self.spec.error_map),
        }
        self.last_audit = AuditEnvelope(metadata=meta, diagnostics=_failure_diagnostics(outcome))
        self.raw.library._record(self.last_audit)
        return outcome


def _call_failed(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A failed call's diagnostics, led by the cause and ending in `ffi.call.failed`."""
    if any(d.code == "ffi.call.failed" for d in diagnostics):
        return diagnostics
    cause = diagnostics[0]
    return diagnostics + [Diagnostic("ffi.call.failed", cause.message, extensions={"cause": cause.code})]


def _failure_diagnostics(outcome: Any) -> list[Diagnostic]:
    return _call_failed([outcome.value.diagnostic]) if isinstance(outcome, Err) else []


def _kind_fits(value: Any, typ: FfiType) -> bool:
    kind = typ.kind
    if kind == "Bool":
        return isinstance(value, bool)
    if kind in _INTEGER_KINDS:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("F32", "F64"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ.is_pointer:
        return value is None or isinstance(value, cffi.FFI.CData)
    if kind == "Struct":
        return isinstance(value, (Record, Mapping, tuple, list))
    return False
