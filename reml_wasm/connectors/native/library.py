"""The native connector: calls into C shared libraries through cffi.

Two ways in:

* Direct C calls (`NativeLibrary.bind_c` from a C declaration, `NativeLibrary.bind` from a
  `types.Function` whose parameters C takes as they are).  cffi ABI mode (dlopen, libffi)
  or API mode (an out-of-line module compiled once and cached by content hash, see
  reml_wasm.cffi_api); mode "auto" takes API mode whenever a C compiler is present.  For
  functions of plain numbers the bound callable is cffi's function behind a one-frame
  wrapper that only turns cffi's refusal of bad arguments into `ffi.*` diagnostics.
* Canonical-native calls (`CanonicalNativeLibrary`): a library compiled natively from the
  same C source as a component, called through the Canonical ABI engine at pointer
  width 8 on native memory (see canonical.py).

Codes: ffi.library.not_found, ffi.library.load_failed, ffi.symbol.not_found,
ffi.signature.invalid, ffi.signature.unsupported, ffi.signature.mismatch (API mode with the
library's header), ffi.api.unavailable, ffi.api.build_failed, ffi.value.arity,
ffi.value.type_mismatch, ffi.value.invalid_utf8.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterable, Literal, Mapping, Sequence

import cffi

from ... import types as t
from ...audit import DiagnosticError, error
from ...cffi_api import build_api_module, c_compiler
from ...libraries import ResolvedLibrary, library_file_names, resolve_library
from .cdecl import c_declaration, cdef_checked, function_name, normalise
from .marshal import (Allocator, Converter, check_ownership, diagnose, libc_allocator,
                      param_converter, result_converter)

__all__ = ["NativeLibrary", "Mode", "resolve_mode", "library_file_names", "resolve_library"]

Mode = Literal["auto", "abi", "api"]
MODES = ("auto", "abi", "api")

_C_HEADERS = "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n"


def resolve_mode(mode: str) -> str:
    """"auto" -> "api" when a C compiler is present, else "abi"."""
    if mode not in MODES:
        raise error("ffi.signature.invalid", f"unknown call mode {mode!r} (one of {', '.join(MODES)})")
    if mode == "auto":
        return "api" if c_compiler() is not None else "abi"
    return mode


@dataclass
class NativeLibrary:
    """A native shared library, opened once, binding functions on demand."""

    name: str
    resolved: ResolvedLibrary
    mode: str = "auto"
    headers: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    free_symbol: str | None = None
    malloc_symbol: str | None = None
    _probe: ctypes.CDLL = field(repr=False, default=None)  # type: ignore[assignment]
    _allocator: Allocator | None = field(repr=False, default=None)
    _ffi: cffi.FFI | None = field(repr=False, default=None)
    _pending: list["_PendingBinding"] = field(repr=False, default_factory=list)
    _pending_lock: threading.Lock = field(repr=False, default_factory=threading.Lock)

    @classmethod
    def open(cls, name: str, search_paths: Iterable[str | os.PathLike[str]] = (), *,
             mode: Mode = "auto", headers: Sequence[str] = (), include_dirs: Sequence[str] = (),
             free: str | None = None, malloc: str | None = None) -> "NativeLibrary":
        """Find and load library `name` (`m`, `libfoo.so`, or a path).

        `headers` (with `include_dirs`) are the library's own C headers: API mode compiles
        them next to each declaration, so a declaration that disagrees with the header is
        `ffi.signature.mismatch`.  `free` / `malloc` name the library's own functions for
        memory that changes hands (libc's are used otherwise)."""
        if mode not in MODES:
            raise error("ffi.signature.invalid", f"unknown call mode {mode!r} (one of {', '.join(MODES)})")
        resolved = resolve_library(name, search_paths)
        try:
            probe = ctypes.CDLL(resolved.target)
        except OSError as exc:
            raise error("ffi.library.load_failed", f"library {name!r} ({resolved.target}) cannot be loaded: {exc}",
                        library=name, path=resolved.target) from None
        lib = cls(name, resolved, mode, tuple(headers), tuple(str(d) for d in include_dirs), free, malloc, probe)
        for sym in (free, malloc):
            if sym is not None:
                lib.require_symbol(sym)
        return lib

    @property
    def path(self) -> str:
        return self.resolved.target

    def has_symbol(self, symbol: str) -> bool:
        try:
            getattr(self._probe, symbol)
        except AttributeError:
            return False
        return True

    def require_symbol(self, symbol: str) -> None:
        if not self.has_symbol(symbol):
            raise error("ffi.symbol.not_found", f"symbol {symbol!r} not found in library {self.name!r} "
                        f"({self.path})", library=self.name, symbol=symbol)

    @property
    def allocator(self) -> Allocator:
        """malloc/free for memory that changes hands (the library's own when configured)."""
        if self._allocator is None:
            base = libc_allocator()
            malloc, free = base.malloc, base.free
            if self.free_symbol or self.malloc_symbol:
                ffi = cffi.FFI()
                decls = []
                if self.free_symbol:
                    decls.append(f"void {self.free_symbol}(void *);")
                if self.malloc_symbol:
                    decls.append(f"void *{self.malloc_symbol}(size_t);")
                ffi.cdef("\n".join(decls))
                handle = ffi.dlopen(self.path)
                if self.free_symbol:
                    free = getattr(handle, self.free_symbol)
                if self.malloc_symbol:
                    malloc = getattr(handle, self.malloc_symbol)
            self._allocator = Allocator(malloc, free, self.name if self.free_symbol else "libc")
        return self._allocator

    # --- memory the caller hands to C ------------------------------------------------------

    @property
    def ffi(self) -> cffi.FFI:
        """The cffi `FFI` of this library for memory a caller passes to its functions.

        Primitive and pointer types are shared by every cffi FFI, so what it allocates is
        accepted by functions bound in either call mode."""
        if self._ffi is None:
            self._ffi = cffi.FFI()
        return self._ffi

    def new(self, ctype: str, init: Any = None) -> Any:
        """Allocate C memory owned by Python and freed when the returned cdata is collected.

        `lib.new("unsigned char[]", 64)` is a zeroed 64-byte buffer, `lib.new("int *")` an
        out-parameter read back as `p[0]` after the call.  A type cffi cannot parse is
        `ffi.signature.invalid`."""
        try:
            return self.ffi.new(ctype, init)
        except (cffi.CDefError, cffi.FFIError, TypeError, ValueError, OverflowError) as exc:
            raise error("ffi.signature.invalid", f"cannot allocate {ctype!r}: {exc}") from None

    def buffer(self, cdata: Any, size: int = -1) -> Any:
        """The bytes behind `cdata` as a writable buffer (`bytes(lib.buffer(buf))`, slicing)."""
        try:
            return self.ffi.buffer(cdata, size)
        except (TypeError, ValueError) as exc:
            raise error("ffi.value.type_mismatch", f"no buffer for {cdata!r}: {exc}") from None

    def callback(self, signature: str, func: Callable[..., Any], *, error_value: Any = None) -> Any:
        """A C function pointer calling the Python function `func` (`"int(const void *, const void *)"`).

        Keep the returned object alive as long as C may call it.  An exception raised by
        `func` cannot cross into C: cffi prints it and C sees `error_value` (0 by default)."""
        try:
            return self.ffi.callback(signature, func, error=error_value) if error_value is not None \
                else self.ffi.callback(signature, func)
        except (cffi.CDefError, cffi.FFIError, TypeError) as exc:
            raise error("ffi.signature.invalid", f"cannot make a callback of type {signature!r}: {exc}") from None

    # --- binding --------------------------------------------------------------------------

    def bind_c(self, cdecl: str, *, cdef_prelude: str = "", mode: Mode | None = None,
               returns: str = "borrowed", params: Mapping[int, str] | None = None,
               nullable: Collection[int] | None = None) -> Callable[..., Any]:
        """A Python callable for the C function `cdecl` declares (`"int inc(int);"`).

        `cdef_prelude` holds the typedefs and structs the declaration uses.  `returns` is
        the ownership of a pointer result, `params` that of pointer arguments by index
        (from 0), each borrowed / owned / transferred.  `nullable` lists the pointer
        arguments (from 0) that may be None (NULL); None: every pointer argument may.
        The callable carries `.symbol`, `.mode`, `.raw` (cffi's function) and `.ctype`.

        In API mode each call of `bind_c` compiles one extension module (a few tenths of
        a second the first time; cached afterwards) unless it can wait for the library's
        shared compile (see `compile`); `bind_all` always pays for one compile."""
        return self.bind_all([cdecl], cdef_prelude=cdef_prelude, mode=mode,
                             ownership={0: (returns, params or {})},
                             nullable=None if nullable is None else {0: nullable})[0]

    def bind_all(self, cdecls: Sequence[str], *, cdef_prelude: str = "", mode: Mode | None = None,
                 ownership: Mapping[int, tuple[str, Mapping[int, str]]] | None = None,
                 nullable: Mapping[int, Collection[int]] | None = None) -> list[Callable[..., Any]]:
        """`bind_c` for several declarations at once (one API-mode module for all of them).
        `ownership` maps a declaration's index to (returns, params), `nullable` to its
        nullable pointer arguments."""
        decls = [normalise(d) for d in cdecls]
        symbols = [function_name(d) for d in decls]
        scratch = cffi.FFI()
        cdef_checked(scratch, cdef_prelude, "\n".join(decls))
        for symbol in symbols:
            self.require_symbol(symbol)
        requested = mode or self.mode
        chosen = resolve_mode(requested)
        if chosen == "api" and requested == "auto" and self._deferrable(scratch, symbols, cdef_prelude):
            return self._bind_deferred(scratch, decls, symbols, ownership or {}, nullable)
        if chosen == "api":
            try:
                ffi, handle = self._api_module("\n".join(decls), cdef_prelude)
            except DiagnosticError as exc:
                # "auto" falls back to ABI mode when the declarations are not plain C the
                # compiler takes (a disagreement with the library's header still stops here)
                if requested != "auto" or exc.code != "ffi.api.build_failed":
                    raise
                chosen = "abi"
        if chosen == "abi":
            ffi, handle = scratch, scratch.dlopen(self.path)
        out = []
        for i, symbol in enumerate(symbols):
            returns, params = (ownership or {}).get(i, ("borrowed", {}))
            try:
                raw = self._function(handle, symbol)
                out.append(self._callable(ffi, raw, symbol, chosen, returns, dict(params),
                                          None if nullable is None or i not in nullable else nullable[i]))
            except (cffi.VerificationMissing, cffi.FFIError, cffi.CDefError) as exc:
                raise error("ffi.signature.invalid", f"{symbol}: cffi cannot call it as declared ({exc})",
                            symbol=symbol) from None
        return out

    # --- one API-mode compile for everything bound before the first call ------------------

    def _deferrable(self, scratch: cffi.FFI, symbols: Sequence[str], prelude: str) -> bool:
        """Whether these bindings can wait for one shared compile: in "auto" mode, with no
        header of the library's to check against and no declarations of their own (structs
        and typedefs are private to one cffi FFI; numbers and pointers to them are shared)."""
        if self.headers or prelude.strip():
            return False
        handle = scratch.dlopen(self.path)
        for symbol in symbols:
            ftype = scratch.typeof(self._function(handle, symbol))
            if ftype.kind != "function" or not all(_shared_ctype(c) for c in (*ftype.args, ftype.result)):
                return False
        return True

    def _bind_deferred(self, scratch: cffi.FFI, decls: Sequence[str], symbols: Sequence[str],
                       ownership: Mapping[int, tuple[str, Mapping[int, str]]],
                       nullable: Mapping[int, Collection[int]] | None) -> list[Callable[..., Any]]:
        handle = scratch.dlopen(self.path)
        out = []
        for i, (decl, symbol) in enumerate(zip(decls, symbols)):
            abi_raw = self._function(handle, symbol)
            pending = _PendingBinding(decl, symbol, abi_raw)
            returns, params = ownership.get(i, ("borrowed", {}))
            call = self._callable(scratch, pending.first_call(self), symbol, "api", returns, dict(params),
                                  None if nullable is None or i not in nullable else nullable[i],
                                  ftype=scratch.typeof(abi_raw))
            pending.call = call
            with self._pending_lock:
                self._pending.append(pending)
            out.append(call)
        return out

    def compile(self) -> None:
        """Compile the functions bound so far and not yet called, in one API-mode module.

        In "auto" mode `bind_c` and `bind` of plain functions (numbers and pointers to them)
        wait for the first call of any of them and then compile all of them at once; calling
        this does it ahead of time.  Without a working compiler they are called through
        ABI mode instead (their `.mode` says which)."""
        with self._pending_lock:
            pending, self._pending = self._pending, []
            if not pending:
                return
            # a symbol bound twice (under two declarations) goes into a module of its own
            batches: list[list[_PendingBinding]] = []
            for p in pending:
                batch = next((b for b in batches if all(q.symbol != p.symbol for q in b)), None)
                if batch is None:
                    batches.append(batch := [])
                batch.append(p)
            for batch in batches:
                try:
                    _, handle = self._api_module("\n".join(p.decl for p in batch), "")
                    reals = [(self._function(handle, p.symbol), "api") for p in batch]
                except DiagnosticError as exc:
                    if exc.code not in ("ffi.api.build_failed", "ffi.api.unavailable"):
                        raise
                    reals = [(p.abi_raw, "abi") for p in batch]
                for p, (real, mode) in zip(batch, reals):
                    p.resolve(real, mode)

    def bind(self, func: t.Function, *, symbol: str | None = None, mode: Mode | None = None,
             returns: str = "borrowed", params: Mapping[int, str] | None = None) -> Callable[..., Any]:
        """A Python callable for `func` (primitives, `string` as `char *`, records as structs
        by value); the C symbol is `symbol` or the function's name in C spelling."""
        prelude, decl = c_declaration(func, symbol)
        call = self.bind_c(decl, cdef_prelude=prelude, mode=mode, returns=returns, params=params)
        char_params = [i for i, p in enumerate(func.params) if t.unalias(p.type) == t.CHAR]
        char_result = func.result is not None and t.unalias(func.result) == t.CHAR
        if not char_params and not char_result:
            return call
        return _with_chars(call, char_params, char_result)

    def _function(self, handle: Any, symbol: str) -> Any:
        try:
            return getattr(handle, symbol)
        except AttributeError as exc:
            if "not found in library" in str(exc):
                raise error("ffi.symbol.not_found", f"symbol {symbol!r} not found in library {self.name!r}",
                            library=self.name, symbol=symbol) from None
            raise error("ffi.signature.invalid", f"the declaration does not declare function {symbol!r}",
                        symbol=symbol) from None

    def _api_module(self, cdecls: str, prelude: str) -> tuple[cffi.FFI, Any]:
        cdef = prelude + "\n" + cdecls if prelude.strip() else cdecls
        if self.headers:
            source = _C_HEADERS + "".join(f'#include "{h}"\n' for h in self.headers) + cdecls + "\n"
        else:
            source = _C_HEADERS + cdef + "\n"
        try:
            mod = build_api_module(cdef, source, self.resolved, include_dirs=self.include_dirs)
        except DiagnosticError as exc:
            if exc.code == "ffi.signature.mismatch" and not self.headers:
                # no header of the library's was given: the clash is with a system header
                raise error("ffi.api.build_failed", exc.diagnostic.message.replace(
                    "the declaration disagrees with the library's header", "the declarations clash with C"),
                    location=exc.diagnostic.location) from None
            raise
        return mod.ffi, mod.lib

    def _callable(self, ffi: cffi.FFI, raw: Any, symbol: str, mode: str, returns: str,
                  params: dict[int, str], nullable: Collection[int] | None = None,
                  ftype: Any = None) -> Callable[..., Any]:
        ftype = ffi.typeof(raw) if ftype is None else ftype
        if ftype.kind != "function":
            raise error("ffi.signature.invalid", f"{symbol!r} is not declared as a function", symbol=symbol)
        check_ownership(ftype.result, returns, "the result", symbol)
        ownerships: list[str] = []
        for i, ctype in enumerate(ftype.args):
            own = params.get(i, "borrowed")
            check_ownership(ctype, own, f"argument {i + 1}", symbol)
            ownerships.append(own)
        unknown = [k for k in params if not isinstance(k, int) or not 0 <= k < len(ftype.args)]
        if unknown:
            raise error("ffi.signature.invalid", f"{symbol}: ownership given for unknown argument(s) {unknown}",
                        symbol=symbol)
        alloc = self.allocator if (returns != "borrowed" or "transferred" in ownerships) else libc_allocator()
        convs = [param_converter(ffi, c, o, alloc, i, symbol, nullable is None or i in nullable)
                 for i, (c, o) in enumerate(zip(ftype.args, ownerships))]
        result_conv = result_converter(ffi, ftype.result, returns, alloc, symbol)
        transferred = [i for i, o in enumerate(ownerships) if o == "transferred"]
        call = make_callable(ffi, raw, ftype, symbol, convs, result_conv, transferred, alloc)
        call.symbol, call.mode, call.raw, call.ctype = symbol, mode, raw, ftype  # type: ignore[attr-defined]
        call.library = self.name  # type: ignore[attr-defined]
        return call


def _shared_ctype(ctype: Any) -> bool:
    """A C type every cffi FFI shares: void, a number, or a pointer or array of those."""
    while ctype.kind in ("pointer", "array"):
        ctype = ctype.item
    return ctype.kind in ("primitive", "void")


class _PendingBinding:
    """A bound function waiting for the library's shared compile (see NativeLibrary.compile)."""

    def __init__(self, decl: str, symbol: str, abi_raw: Any) -> None:
        self.decl, self.symbol, self.abi_raw = decl, symbol, abi_raw
        self.call: Any = None
        self.real: Any = None

    def first_call(self, lib: NativeLibrary) -> Callable[..., Any]:
        """What the bound callable calls until the compile: the compile, then the function."""
        def compile_then_call(*args: Any) -> Any:
            lib.compile()
            return self.real(*args)
        return compile_then_call

    def resolve(self, real: Any, mode: str) -> None:
        """Point the bound callable at the compiled (or ABI-mode) function from now on."""
        self.real = real
        fn = self.call
        code = fn.__code__
        if "raw" in code.co_freevars:
            fn.__closure__[code.co_freevars.index("raw")].cell_contents = real
        else:  # generated wrappers keep `raw` in a namespace of their own
            fn.__globals__["raw"] = real
        fn.raw, fn.mode = real, mode


def make_callable(ffi: cffi.FFI, raw: Any, ftype: Any, symbol: str, convs: Sequence[Converter | None],
                  result_conv: Converter | None, transferred: Sequence[int], alloc: Allocator) -> Callable[..., Any]:
    """The bound callable: for plain numbers, cffi's function behind one frame; otherwise
    argument conversion, the call, and result conversion (ownership applied)."""
    if not any(convs) and result_conv is None:
        def call(*args: Any) -> Any:
            try:
                return raw(*args)
            except (TypeError, OverflowError) as exc:
                raise diagnose(ffi, ftype, args, symbol, exc) from None
        return call

    nparams = len(ftype.args)
    if not transferred and not ftype.ellipsis:
        return _generated_call(ffi, raw, ftype, symbol, convs, result_conv)
    variadic = ftype.ellipsis
    steps = [(i, c) for i, c in enumerate(convs) if c is not None]

    def call_converted(*args: Any) -> Any:
        if len(args) != nparams and not (variadic and len(args) > nparams):
            raise diagnose(ffi, ftype, args, symbol, TypeError("arity"))
        cargs = list(args)
        try:
            for i, conv in steps:
                cargs[i] = conv(args[i])
            result = raw(*cargs)
        except (TypeError, OverflowError) as exc:
            _release(cargs, args, transferred, alloc)
            raise diagnose(ffi, ftype, args, symbol, exc) from None
        except BaseException:
            _release(cargs, args, transferred, alloc)
            raise
        return result if result_conv is None else result_conv(result)
    return call_converted


def _generated_call(ffi: cffi.FFI, raw: Any, ftype: Any, symbol: str, convs: Sequence[Converter | None],
                    result_conv: Converter | None) -> Callable[..., Any]:
    """A wrapper written for this signature: `raw(a0, c1(a1))`, no loops, one frame
    per conversion.  Used when no argument allocates (nothing to release on failure)."""
    n = len(ftype.args)
    env: dict[str, Any] = {"raw": raw, "rc": result_conv, "diagnose": diagnose, "ffi": ffi,
                           "ftype": ftype, "symbol": symbol, "ArityError": TypeError}
    names = [f"a{i}" for i in range(n)]
    passed = []
    for i, conv in enumerate(convs):
        if conv is None:
            passed.append(names[i])
        else:
            env[f"c{i}"] = conv
            passed.append(f"c{i}(a{i})")
    unpack = f"    ({', '.join(names)},) = args\n" if n else ""
    src = (
        "def call(*args):\n"
        f"    if len(args) != {n}:\n"
        "        raise diagnose(ffi, ftype, args, symbol, ArityError('arity'))\n"
        f"{unpack}"
        "    try:\n"
        f"        result = raw({', '.join(passed)})\n"
        "    except (TypeError, OverflowError) as exc:\n"
        "        raise diagnose(ffi, ftype, args, symbol, exc) from None\n"
        f"    return {'rc(result)' if result_conv is not None else 'result'}\n")
    exec(compile(src, f"<native call {symbol}>", "exec"), env)  # noqa: S102 - generated from a signature
    call: Callable[..., Any] = env["call"]
    return call


def _release(cargs: list[Any], args: Sequence[Any], transferred: Sequence[int], alloc: Allocator) -> None:
    """Free memory allocated for transferred arguments of a call that never happened."""
    for i in transferred:
        if cargs[i] is not args[i] and isinstance(cargs[i], cffi.FFI.CData):
            alloc.free(cargs[i])


def _with_chars(call: Callable[..., Any], char_params: Sequence[int], char_result: bool) -> Callable[..., Any]:
    """`char` of the type model passes as a code point (uint32_t) in C."""
    def call_chars(*args: Any) -> Any:
        conv = list(args)
        for i in char_params:
            if i < len(conv):
                v = conv[i]
                if not isinstance(v, str) or len(v) != 1 or 0xD800 <= ord(v) <= 0xDFFF:
                    raise error("ffi.value.type_mismatch", f"{call.symbol}: arg {i + 1}: expected char "  # type: ignore[attr-defined]
                                f"(one Unicode scalar value), got {type(v).__name__}", path=f"arg {i + 1}",
                                expected="char")
                conv[i] = ord(v)
        result = call(*conv)
        if char_result:
            if not (0 <= result < 0xD800 or 0xE000 <= result <= 0x10FFFF):
                raise error("ffi.value.type_mismatch", f"{call.symbol}: returned {result:#x}, "  # type: ignore[attr-defined]
                            "not a Unicode scalar value", path="result", expected="char")
            return chr(result)
        return result
    for attr in ("symbol", "mode", "raw", "ctype", "library"):
        setattr(call_chars, attr, getattr(call, attr))
    return call_chars
