"""The dynamic-library connector: a BID document's interfaces served by a shared library.

An interface whose BID document says `transport: {type: dynamic_library, location:
./libx.so}` is connected by loading that library (once, however many interfaces name it;
a relative location is relative to the document), calling its `nyash_bid_version()` and
refusing a library whose answer differs from the document's `version`
(`ffi.bid.version_mismatch`, naming both).  Each interface is then registered under its
dotted name, and its methods are bound as `"<interface>#<method>"` keys
(`"nyash.file#open"`).

A method is served one of two ways:

* the **vtable path**: when the library exports `nyash_<interface>_vtable` (dots as
  underscores), the table is read and validated as untrusted input (`vtable.py`), each
  entry is checked against the document's signature, and calls go straight to the C
  function with native arguments (`direct.py`);
* the **invoke path**: otherwise, `nyash_plugin_invoke(type_id, method_id, 0, TLV args)`,
  with the interface's `type_id` and the method's `method_id` (its position, from 1, unless
  the document gives one), through `PluginLibrary` (two-phase results, both call modes).

On the vtable path a `pure` method with numbers only (i32, i64, f32, f64) in and out is
bound as the C call itself: cffi converts and checks its arguments, so through `bind` a
wrong argument raises cffi's TypeError or OverflowError; `call(key, ...)` and
`checked=True` turn those into coded `tlv.invalid_args` errors (the latter at the cost of
one Python frame per call).  Every other method always gives coded errors.

`path="vtable"` or `"invoke"` forces one way (an interface the forced way cannot serve is
an error); the default takes the vtable where there is one.  Effects are honoured as
`effects.py` describes; `memoise=True` lets `pure` calls be answered from a memo.  With an
`audit` sink every call writes an `AuditEnvelope` whose `ffi` record carries the method's
effects in `effect_flags`, and whose `ffi.bid` record names the interface, the method,
the effects and the path.

The connector reads a BID document through the attributes listed in `_Document` (what
`reml_wasm.bid.yaml_loader` produces); it never imports the loader.  Libraries stay mapped
until the process ends (a bound function kept after `close()` must never jump into
unmapped code); `close()` shuts down the invoke path's plugin libraries.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from cffi import FFI

from ... import tlv
from ... import types as t
from ...audit import AuditEnvelope, DiagnosticError, error, ffi_call_metadata
from .. import Availability
from . import direct
from .effects import ResourceLocks, guard, ordering
from .host import PluginLibrary, _call_error, _encode_nothing, default_mode
from .vtable import LibraryMemory, VTable, bid_kinds, check_against, read_vtable, vtable_symbol

__all__ = ["DynamicLibraryConnector", "TRANSPORT", "PATHS"]

TRANSPORT = "dynamic_library"
PATHS = ("auto", "vtable", "invoke")
VERSION_SYMBOL = "nyash_bid_version"
_RTLD_NOW = 2

_dl_ffi = FFI()
_dl_ffi.cdef("void *dlopen(const char *file, int mode); void *dlsym(void *handle, const char *name);"
             "char *dlerror(void);")
# The process's own symbols; its functions are the ones declared above, which cffi makes
# into attributes at run time (its type stubs cannot know them).
_dl: Any = _dl_ffi.dlopen(None)
_dl_lock = threading.Lock()


class _Document(Protocol):
    """What the connector reads of a BID document (read-only, so any document whose
    members have these shapes will do: `reml_wasm.bid.yaml_loader.BidDocument`)."""

    @property
    def source(self) -> str | None: ...

    @property
    def version(self) -> int: ...

    @property
    def interfaces(self) -> Sequence[t.Interface]: ...

    @property
    def type_ids(self) -> Mapping[str, int]: ...

    @property
    def effects(self) -> Mapping[tuple[str, str], tuple[str, ...]]: ...

    @property
    def transports(self) -> Mapping[str, Mapping[str, Any]]: ...

    @property
    def method_ids(self) -> Mapping[tuple[str, str], int]: ...


@dataclass
class _Library:
    """One loaded library: its handle, memory map, and (when needed) its invoke path."""

    path: Path
    handle: Any
    memory: LibraryMemory
    version: int
    plugin: PluginLibrary | None = None
    lock: Any = field(default_factory=threading.Lock)     # io/control calls: nothing re-enters

    @property
    def name(self) -> str:
        return self.path.name

    def symbol(self, name: str) -> int:
        with _dl_lock:
            return int(_dl_ffi.cast("uintptr_t", _dl.dlsym(self.handle, name.encode())))


@dataclass(frozen=True)
class _Binding:
    """Everything known about one bound method."""

    interface: str
    method: str
    function: t.Function
    effects: tuple[str, ...]
    path: str                 # "vtable" or "invoke"
    library: str
    call: Callable[..., Any]


def _name(iface: t.Interface) -> str:
    """A BID interface's dotted name (BID interfaces always have one)."""
    return iface.name or ""


def _load(path: Path) -> Any:
    with _dl_lock:
        handle = _dl.dlopen(str(path).encode(), _RTLD_NOW)
        if handle == _dl_ffi.NULL:
            reason = _dl.dlerror()
            detail = _c_text(reason) if reason != _dl_ffi.NULL else "unknown"
            raise error("ffi.plugin.load_failed", f"cannot load BID library {path}: {detail}", path=str(path))
        return handle


def _c_text(pointer: Any) -> str:
    """The text of a NUL-terminated `char *` (undecodable bytes replaced)."""
    raw = _dl_ffi.string(pointer)
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


class DynamicLibraryConnector:
    """The interfaces of one BID document with `dynamic_library` transports, connected.

    `mode` is the call mode ("api", "abi", or None for the faster available), `path` one of
    `PATHS`, `memoise` allows memoising `pure` methods, `audit` an `AuditSink`."""

    name = "dynamic_library"

    def __init__(self, document: _Document, *, mode: str | None = None, path: str = "auto",
                 memoise: bool = False, audit: Any = None, base_dir: str | os.PathLike[str] | None = None,
                 checked: bool = False) -> None:
        if path not in PATHS:
            raise error("ffi.bid.bad_path", f"path {path!r}: expected one of {', '.join(PATHS)}")
        self.document = document
        self.mode = default_mode() if mode is None else mode
        if self.mode not in ("api", "abi"):
            raise error("ffi.plugin.bad_mode", f"call mode {self.mode!r}: expected api or abi")
        self.path = path
        self.memoise = memoise
        self.checked = checked
        self.audit = audit
        self.closed = False
        self.libraries: dict[Path, _Library] = {}
        self.interfaces: dict[str, _Library] = {}
        self.vtables: dict[str, VTable] = {}
        self._bindings: dict[str, _Binding] = {}
        self._resources = ResourceLocks()
        base = Path(base_dir) if base_dir is not None else (
            Path(document.source).resolve().parent if document.source else Path.cwd())
        try:
            self._connect(base)
        except BaseException:
            self.close()
            raise

    # --- connecting ---------------------------------------------------------------------

    def _connect(self, base: Path) -> None:
        doc = self.document
        # interfaces with another transport (a component, say) are other connectors' to serve
        served = [i for i in doc.interfaces
                  if i.name in doc.transports and doc.transports[_name(i)].get("type") == TRANSPORT]
        if not served:
            raise error("ffi.bid.transport", f"{doc.source or 'the BID document'}: no interface has a "
                        f"`transport: {{type: {TRANSPORT}, location: ...}}`", source=doc.source)
        for iface in served:
            transport = doc.transports[_name(iface)]
            location = transport.get("location")
            if not location:
                raise error("ffi.bid.transport", f"interface {_name(iface)}: transport {dict(transport)!r} is not "
                            f"`{{type: {TRANSPORT}, location: PATH}}`", interface=_name(iface))
            self.interfaces[_name(iface)] = self._library(base / Path(str(location)))
        tables: dict[str, VTable] = {}
        if self.path != "invoke":
            for iface in served:
                lib = self.interfaces[_name(iface)]
                address = lib.symbol(vtable_symbol(_name(iface)))
                if address:
                    table = read_vtable(lib.memory, address, _name(iface), lib.name)
                    check_against(table, iface.functions, lib.name)
                    tables[_name(iface)] = table
        self.vtables = tables
        targets: dict[tuple[str, str], Any] = {}
        for name, table in tables.items():
            slots = list(table.methods.values())
            if self.mode == "api":
                found, ffi = direct.api_targets(self.interfaces[name].memory.base, slots)
                targets.update({(name, m): (fn, ffi) for m, fn in found.items()})
            else:
                targets.update({(name, s.name): (direct.abi_target(s), direct.ABI_FFI) for s in slots})
        for iface in served:
            for fn in iface.functions:
                self._bind(iface, fn, tables.get(_name(iface)), targets)

    def _library(self, location: Path) -> _Library:
        try:
            path = location.resolve(strict=True)
        except OSError:
            raise error("ffi.plugin.load_failed", f"BID library {location} does not exist",
                        path=str(location)) from None
        lib = self.libraries.get(path)
        if lib is not None:
            return lib
        handle = _load(path)
        memory = LibraryMemory(path)
        probe = _Library(path, handle, memory, 0)
        address = probe.symbol(VERSION_SYMBOL)
        if not address:
            raise error("ffi.bid.no_version", f"{path.name} does not export {VERSION_SYMBOL}(); a BID library "
                        "must say which BID version it implements", library=path.name, path=str(path))
        if not memory.unavailable and not memory.is_code(address):
            raise error("ffi.bid.vtable.pointer", f"{path.name}: {VERSION_SYMBOL} is not in the library's code",
                        library=path.name)
        version = int(_dl_ffi.cast("uint32_t (*)(void)", address)())
        wanted = self.document.version
        if version != wanted:
            raise error("ffi.bid.version_mismatch",
                        f"{path.name} implements BID version {version}, but {self.document.source or 'the document'} "
                        f"is BID version {wanted}", library=path.name, library_version=version,
                        document_version=wanted)
        probe.version = version
        self.libraries[path] = probe
        return probe

    def _bind(self, iface: t.Interface, fn: t.Function, table: VTable | None,
              targets: Mapping[tuple[str, str], Any]) -> None:
        lib = self.interfaces[_name(iface)]
        key = f"{_name(iface)}#{fn.name}"
        where = f"{_name(iface)}.{fn.name}"
        effects = tuple(getattr(fn, "effects", ()) or self.document.effects.get((_name(iface), fn.name), ()))
        slot = table.methods.get(fn.name) if table is not None else None
        if slot is not None:
            bare = not self.checked and ordering(effects) == "pure" and not self.memoise
            target, ffi = targets[(_name(iface), fn.name)]
            call = direct.compile_direct(slot, where, target=target, ffi=ffi, checked=not bare)
            path, serialised = "vtable", False
        elif self.path == "vtable":
            raise error("ffi.bid.no_vtable", f"{where}: the library has no vtable entry for it and the invoke "
                        "path was not allowed", interface=_name(iface), method=fn.name, library=lib.name)
        else:
            call = self._invoke_call(iface, fn, lib, where)
            path, serialised = "invoke", True
        handles = [i for i, p in enumerate(fn.params) if tlv.kind_for_type(p.type) == "handle"]
        call = guard(call, effects, memoise=self.memoise, library_lock=lib.lock, resource_locks=self._resources,
                     resource_index=handles[0] if handles else None, serialised=serialised)
        binding = _Binding(_name(iface), fn.name, fn, effects, path, lib.name, call)
        if self.audit is not None:
            binding = _Binding(_name(iface), fn.name, fn, effects, path, lib.name, self._audited(binding))
        self._bindings[key] = binding

    def _invoke_call(self, iface: t.Interface, fn: t.Function, lib: _Library, where: str) -> Callable[..., Any]:
        type_id = self.document.type_ids.get(_name(iface))
        if type_id is None:
            raise error("ffi.bid.unserved", f"{where}: no vtable entry, and the interface has no `type_id` for "
                        "the invoke path", interface=_name(iface), method=fn.name)
        if lib.plugin is None:
            lib.plugin = PluginLibrary(lib.name, lib.path, mode=self.mode)
        method_id = self.document.method_ids.get((_name(iface), fn.name))
        if method_id is None:
            method_id = 1 + [f.name for f in iface.functions].index(fn.name)
        kinds, result = bid_kinds(fn)
        encode: Callable[..., bytes] = tlv.compile_encoder(kinds) if kinds else _encode_nothing
        decode = tlv.compile_decoder([result])
        invoke, arity = lib.plugin.invoke, len(kinds)

        def call(*args: Any) -> Any:
            if len(args) != arity:
                raise tlv.tlv_error("tlv.invalid_args", f"{where} takes {arity} argument(s), got {len(args)}")
            rc, data = invoke(type_id, method_id, 0, encode(*args))
            if rc != 0:
                raise _call_error(rc, data, where)
            return decode(data if data is not None else b"")
        call.__name__ = call.__qualname__ = fn.name
        return call

    def _audited(self, binding: _Binding) -> Callable[..., Any]:
        call, key, sink = binding.call, f"{binding.interface}#{binding.method}", self.audit

        def audited(*args: Any) -> Any:
            t0 = time.perf_counter_ns()
            try:
                value = call(*args)
            except DiagnosticError as exc:
                sink.write(self.audit_envelope(key, "failed", time.perf_counter_ns() - t0, exc.diagnostics))
                raise
            sink.write(self.audit_envelope(key, "success", time.perf_counter_ns() - t0))
            return value
        return audited

    # --- the Connector protocol -----------------------------------------------------------

    def available(self) -> Availability:
        """Connected and not closed (construction fails with a coded error otherwise)."""
        if self.closed:
            return Availability(False, "the connector was closed")
        return Availability(True)

    def bind(self, key: str) -> Callable[..., Any]:
        """The function `"<interface>#<method>"`, taking and returning reml values."""
        return self._binding(key).call

    def call(self, key: str, *args: Any) -> Any:
        """Call `key` once (`bind(key)(*args)`), a wrong argument always a coded error."""
        binding = self._binding(key)
        try:
            return binding.call(*args)
        except (TypeError, OverflowError) as exc:     # from a bare C call (see the module doc)
            raise direct._bad_args(f"{binding.interface}.{binding.method}", exc, args) from None

    def close(self) -> None:
        """Shut the invoke path's plugins down; the libraries stay mapped (see the module doc)."""
        self.closed = True
        for lib in self.libraries.values():
            if lib.plugin is not None:
                lib.plugin.close()

    def __enter__(self) -> "DynamicLibraryConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what a caller (the router, the audit) may ask ---------------------------------------

    def keys(self) -> list[str]:
        """Every bound key, `"<interface>#<method>"`."""
        return list(self._bindings)

    def served_by(self, key: str) -> str:
        """"vtable" or "invoke"."""
        return self._binding(key).path

    def effects(self, key: str) -> tuple[str, ...]:
        """The effects the document declares for `key` (empty: none declared)."""
        return self._binding(key).effects

    def audit_envelope(self, key: str, status: str, latency_ns: int | None = None,
                       diagnostics: Sequence[Any] = ()) -> AuditEnvelope:
        """The audit record of one call of `key`."""
        b = self._binding(key)
        flags = ["ffi", *b.effects] + (["unsafe"] if b.path == "vtable" else [])
        return AuditEnvelope(metadata={
            "ffi": ffi_call_metadata(library=b.library, symbol=key, status=status, effect_flags=flags,
                                     latency_ns=latency_ns),
            "ffi.bid": {"interface": b.interface, "method": b.method, "effects": list(b.effects), "path": b.path},
        }, diagnostics=list(diagnostics))

    def _binding(self, key: str) -> _Binding:
        if self.closed:
            raise error("ffi.plugin.unloaded", "the dynamic-library connector was closed", key=key)
        try:
            return self._bindings[key]
        except KeyError:
            raise error("ffi.bid.no_method", f"no method {key!r} in the connected BID document "
                        f"(keys look like 'interface#method')", key=key) from None
