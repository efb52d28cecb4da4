"""The Nyash BID-1 plugin connector.

`PluginHost(config)` opens every library of a loaded nyash.toml (`reml_wasm.bid.nyash_toml`
produces the config; this module only reads its attributes) and calls its entry points
through the compiled cffi API-mode shim of `call.py` when a C compiler is present, else
through cffi ABI mode (`mode=` chooses; both behave the same): `nyash_plugin_invoke` is
required, `nyash_plugin_init` must return 0, `nyash_plugin_abi` must answer 1, and
`nyash_plugin_shutdown` runs on unload.  Singleton boxes are born at
load and shared.

`PluginBox` is the proxy of one plugin instance: methods by name (`box.open(path, "r")`),
arguments checked against the config before the call, results decoded strictly (garbage
from a plugin is a `tlv.*` error, never a crash), returned handles wrapped as PluginBox
objects, and fini sent exactly once: from `finalise()`, the end of a `with` block, or
garbage collection (`weakref.finalize`), whichever comes first.  Calls into one library
are serialised (by the shim's C mutex around the call in API mode, by a Python lock in
ABI mode), so boxes can be shared between threads.

Results use two-phase buffers: a result buffer (one per thread in API mode, one per
library in ABI mode) grows to whatever size a plugin asks for with -1 (up to
`max_result_bytes`), and the call is retried.  Plain methods (no box arguments) are
generated per box type with everything per method bound once.

`BoxFactoryRegistry` creates boxes by name: plugin boxes first, then Python factories.
"""

from __future__ import annotations

import functools
import queue
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol, Sequence

from ... import tlv
from ...audit import DiagnosticError, error
from ...elf import check_shared_library
from ...values import Err, Ok
from .call import ABI_FFI, BUSY, CLOSED, HELD, HERE_BYTES, api_module, api_unavailable_reason, entry_address

__all__ = ["PluginHost", "PluginLibrary", "PluginBox", "BoxFactoryRegistry", "MAX_RESULT_BYTES",
           "INITIAL_RESULT_BYTES", "default_mode"]

INITIAL_RESULT_BYTES = 256
MAX_RESULT_BYTES = 1 << 28       # a sanity bound on what a plugin may ask for (256 MiB)
MAX_TIMEOUT = 366 * 24 * 3600.0  # a plugin call timeout of at most a year
_MAX_RETRIES = 4

_MODES = ("api", "abi")


# --- what the connector reads from a config (reml_wasm.bid.nyash_toml provides it) -------

# The configuration the host reads (read-only members, so frozen dataclasses holding
# dicts and tuples of their own classes satisfy them).

class _ArgSpec(Protocol):
    @property
    def kind(self) -> str | None: ...
    @property
    def tlv_kind(self) -> str: ...


class _MethodConfig(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def method_id(self) -> int: ...
    @property
    def args(self) -> Sequence[_ArgSpec]: ...
    @property
    def returns_result(self) -> bool: ...


class _BoxConfig(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type_id(self) -> int: ...
    @property
    def abi_version(self) -> int: ...
    @property
    def singleton(self) -> bool: ...
    @property
    def methods(self) -> Mapping[str, _MethodConfig]: ...


class _LibraryConfig(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def boxes(self) -> Sequence[str]: ...
    @property
    def box_configs(self) -> Mapping[str, _BoxConfig]: ...


class _Config(Protocol):
    @property
    def libraries(self) -> Mapping[str, _LibraryConfig]: ...
    @property
    def box_library(self) -> Mapping[str, str]: ...

    def resolve_library(self, lib: Any) -> Path: ...


# --- one library ------------------------------------------------------------------------

class _ResultBuffer:
    """ABI mode: the library's result buffer and its length slot."""

    __slots__ = ("buf", "cap", "len_p")

    def __init__(self, cap: int) -> None:
        self.buf = ABI_FFI.new("char[]", cap)
        self.cap = cap
        self.len_p = ABI_FFI.new("size_t *")


class _Slot:
    """API mode: one thread's result buffer, the C `reml_nyash_slot` describing it, and
    whether a call on this thread is using it (a finaliser may re-enter)."""

    __slots__ = ("buf", "cap", "c", "busy")

    def __init__(self, ffi: Any, cap: int) -> None:
        self.c = ffi.new("reml_nyash_slot *")
        self.busy = False
        self.grow(ffi, cap)

    def grow(self, ffi: Any, cap: int) -> None:
        self.buf = self.c.buf = ffi.new("char[]", cap)
        self.cap = self.c.cap = cap


def default_mode() -> str:
    """"api" when the compiled call module can be built here, else "abi"."""
    return "api" if api_module() is not None else "abi"


class PluginLibrary:
    """One opened plugin library.

    `mode` says how its entry points are called: "api" (the compiled module of
    `call.py`), "abi" (libffi), or None for the faster one available.
    `invoke(type_id, method_id, instance_id, args) -> (return code, result bytes or None)`
    is the one place that calls into the plugin (bound per mode at load)."""

    invoke: Callable[[int, int, int, bytes], "tuple[int, bytes | None]"]
    # API mode without a timeout: the shim's `reml_nyash_call_i32(state, type_id, method_id,
    # instance_id, args, args_len)` (an i32 result as the value itself; see `call.py`), else None
    call_i32: Any = None

    def __init__(self, name: str, path: Path, *, max_result_bytes: int = MAX_RESULT_BYTES,
                 mode: str | None = None, timeout: float | None = None) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0 < timeout <= MAX_TIMEOUT):
            raise error("ffi.plugin.bad_timeout", f"plugin call timeout must be seconds in (0, {MAX_TIMEOUT:g}], "
                        f"not {timeout!r}", library=name)
        self.timeout = timeout
        self.poisoned: str | None = None
        self.name = name
        self.path = path
        self.max_result_bytes = max_result_bytes
        self.closed = False
        self.abi: int | None = None
        self.exports: dict[str, bool] = {}
        if mode is None:
            mode = default_mode()
        elif mode not in _MODES:
            raise error("ffi.plugin.bad_mode", f"plugin call mode {mode!r}: expected one of {', '.join(_MODES)}")
        elif mode == "api" and api_module() is None:
            raise error("ffi.api.unavailable", f"API mode is unavailable here: {api_unavailable_reason()}")
        self.mode = mode
        # Calls into one library are serialised: plugins keep global state (the BID-1 ABI
        # promises no thread safety).  Reentrant, because a garbage-collection finaliser
        # may send fini from inside a call on the same thread.
        self._lock = threading.RLock()
        self._acquire, self._release = self._lock.acquire, self._lock.release   # cheaper than `with`
        self.live: "weakref.WeakValueDictionary[tuple[int, int], PluginBox]" = weakref.WeakValueDictionary()
        self.fini_errors: list[DiagnosticError] = []
        check_shared_library(path, "ffi.plugin")  # a truncated file would crash the loader
        try:
            self._lib = ABI_FFI.dlopen(str(path))
        except OSError as exc:
            raise error("ffi.plugin.load_failed", f"cannot load plugin {name!r} from {path}: {exc}",
                        library=name, path=str(path)) from None
        invoke_fn = self._optional("nyash_plugin_invoke")
        if invoke_fn is None:
            self._dlclose()
            raise error("ffi.plugin.missing_invoke",
                        f"plugin {name!r} ({path}) does not export nyash_plugin_invoke",
                        library=name, path=str(path)) from None
        shutdown_fn = self._optional("nyash_plugin_shutdown")
        abi_fn = self._optional("nyash_plugin_abi")
        init_fn = self._optional("nyash_plugin_init")
        if mode == "api":
            module = api_module()
            shim, self._ffi = module.lib, module.ffi
            state = shim.reml_nyash_open(entry_address(invoke_fn),
                                         0 if shutdown_fn is None else entry_address(shutdown_fn))
            if state == self._ffi.NULL:
                self._dlclose()
                raise error("ffi.plugin.load_failed", f"plugin {name!r}: out of memory for its call state",
                            library=name)
            self._state = self._ffi.gc(state, shim.reml_nyash_free)
            self._shim = shim
            self._call_first = shim.reml_nyash_call
            self._here = shim.reml_nyash_here_slot_get
            if timeout is None:
                self.call_i32 = shim.reml_nyash_call_i32
            self._per_thread = threading.local()
            if abi_fn is not None:
                abi_fn = functools.partial(shim.reml_nyash_abi, entry_address(abi_fn))
            if init_fn is not None:
                init_fn = functools.partial(shim.reml_nyash_init, entry_address(init_fn))
            self.invoke = self._invoke_api
        else:
            self._ffi = ABI_FFI
            self._invoke = invoke_fn
            self._shutdown = shutdown_fn
            self._result: _ResultBuffer | None = _ResultBuffer(INITIAL_RESULT_BYTES)
            self.invoke = self._invoke_abi
        self._unpack = getattr(self._ffi, "_backend", self._ffi).unpack   # skip cffi's Python wrapper
        if timeout is not None:
            self._watchdog = _Watchdog(name)
            self._direct = self.invoke
            self.invoke = self._invoke_watched
        if abi_fn is not None:
            self.abi = int(abi_fn())
            if self.abi != 1:
                self._dlclose()
                raise error("ffi.plugin.abi_mismatch",
                            f"plugin {name!r} answers ABI version {self.abi}; this host speaks 1",
                            library=name, abi=self.abi)
        if init_fn is not None:
            rc = int(init_fn())
            if rc != 0:
                self._dlclose()
                raise error("ffi.plugin.init_refused", f"plugin {name!r}: nyash_plugin_init returned {rc}",
                            library=name, return_code=rc)

    def _optional(self, symbol: str) -> Any:
        try:
            fn = getattr(self._lib, symbol)
        except (AttributeError, NotImplementedError):
            fn = None
        self.exports[symbol] = fn is not None
        return fn

    def _dlclose(self) -> None:
        try:
            ABI_FFI.dlclose(self._lib)
        except Exception:  # noqa: BLE001 - already closed / unsupported: nothing to undo
            pass
        self.closed = True

    # The call paths.  A result buffer is marked busy while a call uses it, so a call
    # re-entered on the same thread (a garbage-collection finaliser) takes a private one.
    def _invoke_api(self, type_id: int, method_id: int, instance_id: int, args: bytes) -> tuple[int, bytes | None]:
        try:
            slot = self._per_thread.slot
        except AttributeError:
            slot = self._per_thread.slot = _Slot(self._ffi, INITIAL_RESULT_BYTES)
        if slot.busy:
            return self._invoke_unusual(type_id, method_id, instance_id, args)
        slot.busy = True
        try:
            n = self._call_first(self._state, slot.c, type_id, method_id, instance_id, args, len(args))
            if n >= 0:                               # the common case: succeeded and fitted
                return 0, self._unpack(slot.buf, n)
            if n == -2:
                raise self._unloaded()
            return self._answer(slot, slot.c.rc, slot.c.len, type_id, method_id, instance_id, args)
        finally:
            slot.busy = False

    def held_answer(self, answer: int, type_id: int, method_id: int, instance_id: int,
                    args: bytes) -> tuple[int, bytes | None]:
        """What `invoke` answers, for a `call_i32` call that answered something other than an
        i32 value (`answer`): its result read from the thread's C buffer (then released),
        the call made the ordinary way when that buffer was busy, or the unloaded error."""
        if answer == HELD:
            here = self._here()
            try:
                rc, need = here.rc, here.len
                res = _Slot(self._ffi, HERE_BYTES)
                self._ffi.memmove(res.buf, here.buf, min(need, HERE_BYTES))
            finally:
                here.held = 0
            return self._answer(res, rc, need, type_id, method_id, instance_id, args)
        if answer == BUSY:
            return self.invoke(type_id, method_id, instance_id, args)
        assert answer == CLOSED, answer
        raise self._unloaded()

    def _invoke_abi(self, type_id: int, method_id: int, instance_id: int, args: bytes) -> tuple[int, bytes | None]:
        self._acquire()
        res = self._result
        try:
            if res is None or self.closed:
                return self._invoke_unusual(type_id, method_id, instance_id, args)
            self._result = None
            len_p = res.len_p
            cap = len_p[0] = res.cap
            copy = self._ffi.new("char[]", args)   # a copy the plugin may scribble on
            rc = self._invoke(type_id, method_id, instance_id, copy, len(args), res.buf, len_p)
            need = len_p[0]
            if rc == 0 and need <= cap:              # the common case: it fitted
                return 0, self._unpack(res.buf, need)
            return self._answer(res, rc, need, type_id, method_id, instance_id, args)
        finally:
            self._result = res
            self._release()

    def _invoke_watched(self, type_id: int, method_id: int, instance_id: int,
                        args: bytes) -> tuple[int, bytes | None]:
        """A call run by the watchdog's thread: past `timeout` seconds the caller gets
        `ffi.plugin.timeout` and the library is poisoned (every later call fails at once;
        it is never unloaded, since the stuck call may still be running its code)."""
        if self.poisoned is not None:
            raise error("ffi.plugin.poisoned", f"plugin {self.name!r} is unusable: {self.poisoned}",
                        library=self.name)
        if self.closed:
            raise self._unloaded()
        timeout = self.timeout
        assert timeout is not None  # this is `invoke` only when there is a timeout
        done, out = self._watchdog.run(self._direct, (type_id, method_id, instance_id, args), timeout)
        if not done:
            self.poisoned = (f"a call (type {type_id}, method {method_id}) did not return within "
                             f"{self.timeout:g} s")
            raise error("ffi.plugin.timeout", f"plugin {self.name!r}: {self.poisoned}; the library is poisoned",
                        library=self.name, type_id=type_id, method_id=method_id, timeout=self.timeout)
        if isinstance(out, BaseException):
            raise out
        result: tuple[int, bytes | None] = out
        return result

    def _unloaded(self) -> DiagnosticError:
        return error("ffi.plugin.unloaded", f"plugin {self.name!r} was unloaded", library=self.name)

    def _invoke_unusual(self, type_id: int, method_id: int, instance_id: int,
                        args: bytes) -> tuple[int, bytes | None]:
        if self.closed:
            raise self._unloaded()
        res = _Slot(self._ffi, 64) if self.mode == "api" else _ResultBuffer(64)
        rc, need = self._attempt(res, type_id, method_id, instance_id, args)
        return self._answer(res, rc, need, type_id, method_id, instance_id, args)

    def _attempt(self, res: Any, type_id: int, method_id: int, instance_id: int, args: bytes) -> tuple[int, int]:
        """One call with the whole of `res` offered: (return code, *result_len)."""
        if self.mode == "api":
            if self._call_first(self._state, res.c, type_id, method_id, instance_id, args, len(args)) == -2:
                raise self._unloaded()
            return res.c.rc, res.c.len
        res.len_p[0] = res.cap
        copy = self._ffi.new("char[]", args)   # a copy the plugin may scribble on
        rc = self._invoke(type_id, method_id, instance_id, copy, len(args), res.buf, res.len_p)
        return rc, res.len_p[0]

    def _answer(self, res: Any, rc: int, need: int, type_id: int, method_id: int,
                instance_id: int, args: bytes) -> tuple[int, bytes | None]:
        """Interpret one call's (rc, *result_len); on -1 grow the buffer and call again."""
        for _ in range(_MAX_RETRIES):
            cap = res.cap
            if rc != tlv.E_SHORT_BUFFER:
                if rc != 0:
                    if need >= cap:       # nothing written (or nonsense): no result to read
                        return rc, None
                elif need > cap:
                    raise tlv.tlv_error("tlv.result_overflow", f"{self.name}: plugin reports a {need}-byte "
                                        f"result in a {cap}-byte buffer", library=self.name, size=need)
                return rc, self._unpack(res.buf, need)
            if need <= cap:
                raise tlv.tlv_error("tlv.short_buffer", f"{self.name}: plugin answered short buffer but "
                                    f"asks for {need} bytes with {cap} offered", library=self.name)
            if need > self.max_result_bytes:
                raise tlv.tlv_error("tlv.out_of_memory", f"{self.name}: plugin asks for a {need}-byte result "
                                    f"(limit {self.max_result_bytes})", library=self.name, size=need)
            if self.mode == "api":
                res.grow(self._ffi, need)
            else:
                res.buf, res.cap = ABI_FFI.new("char[]", need), need
            rc, need = self._attempt(res, type_id, method_id, instance_id, args)
        raise tlv.tlv_error("tlv.short_buffer", f"{self.name}: plugin still answers short buffer after "
                            f"{_MAX_RETRIES} larger buffers", library=self.name)

    def birth(self, type_id: int) -> int:
        rc, data = self.invoke(type_id, tlv.BIRTH_METHOD_ID, 0, tlv.EMPTY)
        if rc != 0:
            raise _call_error(rc, data, f"birth of type {type_id} in {self.name}")
        if data is None or len(data) != 4:
            raise tlv.tlv_error("tlv.bad_size", f"birth of type {type_id} answered "
                                f"{0 if data is None else len(data)} bytes; an instance id is 4",
                                library=self.name)
        instance_id = int.from_bytes(data, "little")
        if instance_id == 0:
            raise tlv.tlv_error("tlv.invalid_handle", f"birth of type {type_id} answered instance id 0",
                                library=self.name)
        return instance_id

    def fini(self, type_id: int, instance_id: int) -> None:
        """Send fini; errors are raised (see `_fini_quietly` for the GC path)."""
        rc, data = self.invoke(type_id, tlv.FINI_METHOD_ID, instance_id, tlv.EMPTY)
        if rc != 0:
            raise _call_error(rc, data, f"fini of instance {instance_id} (type {type_id}) in {self.name}")

    def close(self) -> None:
        """Fini every live instance, call nyash_plugin_shutdown, unload."""
        if self.poisoned is not None:
            # a call is stuck inside the library (holding its lock): no fini, no shutdown,
            # no unload
            if not self.closed:
                self.closed = True
                self._watchdog.stop()
            return
        with self._lock:
            if self.closed:
                return
            if self.timeout is not None:
                # the last finis run on this thread (it may hold the library's call mutex)
                self.invoke = self._direct
                self._watchdog.stop()
            if self.mode == "api":
                # hold the call mutex across the last finis and shutdown: no other thread
                # slips a call in between
                self._shim.reml_nyash_lock(self._state)
                try:
                    for box in list(self.live.values()):
                        box._finalizer()
                    self._shim.reml_nyash_close(self._state)
                finally:
                    self._shim.reml_nyash_unlock(self._state)
            else:
                for box in list(self.live.values()):
                    box._finalizer()
                if self._shutdown is not None:
                    self._shutdown()
            self._dlclose()


class _Watchdog:
    """One daemon thread per library with a call timeout: it runs the calls, and the
    caller waits for each at most the timeout.  A call that never returns keeps the
    thread; being a daemon, it does not hold the process open at exit."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> tuple[bool, Any]:
        """(True, result or exception) when `fn(*args)` finished within `timeout` seconds,
        else (False, None)."""
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=f"reml-plugin-{self._name}", daemon=True)
                self._thread.start()
        done = threading.Event()
        box: list[Any] = [None]
        self._jobs.put((fn, args, box, done))
        if not done.wait(timeout):
            return False, None
        return True, box[0]

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, box, done = job
            try:
                box[0] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                box[0] = exc
            done.set()

    def stop(self) -> None:
        """Let the thread end once the calls queued before have run."""
        self._jobs.put(None)


def _fini_quietly(lib: PluginLibrary, type_id: int, instance_id: int) -> DiagnosticError | None:
    """The finaliser body: never raises (it may run from garbage collection); an error is
    kept on the library and returned to an explicit `finalise()`."""
    if lib.closed:
        return None
    lib.live.pop((type_id, instance_id), None)
    try:
        lib.fini(type_id, instance_id)
    except DiagnosticError as exc:
        lib.fini_errors.append(exc)
        return exc
    return None


def _message(data: bytes | None) -> str | bytes | None:
    if not data:
        return None
    try:
        values = tlv.decode(data)
    except DiagnosticError:
        return None
    if len(values) == 1 and isinstance(values[0], (str, bytes)):
        return values[0]
    return None


def _call_error(rc: int, data: bytes | None, what: str) -> DiagnosticError:
    code = tlv.code_for_return(rc)
    msg = _message(data)
    detail = f": {msg if isinstance(msg, str) else msg!r}" if msg is not None else ""
    return error(code, f"{what} failed with {rc}{detail}", return_code=rc, origin="plugin")


# --- boxes --------------------------------------------------------------------------------

def _encode_nothing() -> bytes:
    return tlv.EMPTY


class _Method:
    """A compiled method plan: id, arity, encoder, which arguments must be boxes."""

    __slots__ = ("name", "method_id", "arity", "encode", "box_positions", "returns_result", "role", "plain")

    def __init__(self, cfg: _MethodConfig) -> None:
        self.name = cfg.name
        self.method_id = cfg.method_id
        self.arity = len(cfg.args)
        kinds = [a.tlv_kind for a in cfg.args]
        self.encode: Callable[..., bytes] = _encode_nothing if not kinds else tlv.compile_encoder(kinds)
        self.box_positions = tuple(i for i, a in enumerate(cfg.args) if a.kind == "box")
        self.returns_result = cfg.returns_result
        self.role = ("constructor" if cfg.method_id == tlv.BIRTH_METHOD_ID else
                     "destructor" if cfg.method_id == tlv.FINI_METHOD_ID else None)
        self.plain = self.role is None and not self.box_positions   # no checks beyond arity


class _BoxType:
    def __init__(self, host: "PluginHost", lib: PluginLibrary, cfg: _BoxConfig) -> None:
        self.host = host
        self.lib = lib
        self.name = cfg.name
        self.type_id = cfg.type_id
        self.singleton = cfg.singleton
        self.methods = {name: _Method(m) for name, m in cfg.methods.items()}
        self.instance: PluginBox | None = None   # the singleton
        self.cls = _proxy_class(self)

    def new(self, instance_id: int) -> "PluginBox":
        return self.cls(self, instance_id)


def _proxy_class(box_type: _BoxType) -> type["PluginBox"]:
    """A PluginBox subclass with one real method per configured method (compiled once per
    box type).  The class has no `__getattr__`, so attribute reads on boxes stay on the
    interpreter's fast path; a name that is no Python identifier is still an attribute
    (`getattr(box, "a-b")`)."""
    namespace: dict[str, Any] = {"__slots__": (), "__qualname__": f"PluginBox[{box_type.name}]"}
    for name, method in box_type.methods.items():
        if name.startswith("__") or hasattr(PluginBox, name):
            continue           # reachable through box.call(name, ...)
        if method.role == "destructor":
            namespace[name] = PluginBox.finalise
            continue
        call = _fast_method(box_type, method) if method.plain else _checked_method(method)
        call.__name__ = call.__qualname__ = name
        namespace[name] = call
    return type(f"PluginBox[{box_type.name}]", (PluginBox,), namespace)


def _checked_method(method: _Method) -> Callable[..., Any]:
    def call(self: PluginBox, *args: Any) -> Any:
        return self._call(method, args)
    return call


def _fast_method(box_type: _BoxType, method: _Method) -> Callable[..., Any]:
    """The method of a plain call (no box arguments): the same steps as `PluginBox._call`
    with everything per method bound once; anything unusual (wrong arity, a finalised box,
    a failed call) goes to the general path, which raises or answers the same way."""
    invoke, type_id, method_id, arity = box_type.lib.invoke, box_type.type_id, method.method_id, method.arity
    encode, returns_result, adopt = method.encode, method.returns_result, box_type.host._adopt_all
    decode, handle_cls, empty = _decode_any, tlv.Handle, tlv.EMPTY

    def finish(self: PluginBox, rc: int, data: bytes | None) -> Any:
        if rc != 0:
            return self._failed(method, rc, data)
        if not data:            # success with no result bytes at all: a void answer
            value = None
        else:
            value = decode(data)
            if value.__class__ is handle_cls or value.__class__ is tuple:
                value = adopt(value)
        return Ok(value) if returns_result else value

    lib, call_i32 = box_type.lib, box_type.lib.call_i32
    if call_i32 is not None:
        # API mode without a timeout: one C call that answers an i32 result as the value
        state, held_answer, held = lib._state, lib.held_answer, HELD
        if arity == 0 and not returns_result:
            def call(self: PluginBox, *args: Any) -> Any:
                if args or self._gone:
                    return self._call(method, args)
                answer = call_i32(state, type_id, method_id, self._instance_id, empty, 4)
                if answer > held:
                    return answer
                return finish(self, *held_answer(answer, type_id, method_id, self._instance_id, empty))
        else:
            def call(self: PluginBox, *args: Any) -> Any:
                if len(args) != arity or self._gone:
                    return self._call(method, args)
                data = encode(*args)
                answer = call_i32(state, type_id, method_id, self._instance_id, data, len(data))
                if answer > held:
                    return Ok(answer) if returns_result else answer
                return finish(self, *held_answer(answer, type_id, method_id, self._instance_id, data))
    elif arity == 0 and not returns_result:
        def call(self: PluginBox, *args: Any) -> Any:
            if args or self._gone:
                return self._call(method, args)
            rc, data = invoke(type_id, method_id, self._instance_id, empty)
            if rc == 0 and data:
                value = decode(data)
                if value.__class__ is not handle_cls and value.__class__ is not tuple:
                    return value
            return finish(self, rc, data)
    else:
        def call(self: PluginBox, *args: Any) -> Any:
            if len(args) != arity or self._gone:
                return self._call(method, args)
            return finish(self, *invoke(type_id, method_id, self._instance_id, encode(*args)))
    return call


class PluginBox:
    """A plugin instance.  Methods from nyash.toml are attributes (`box.read()`); a method
    whose name collides with an attribute below (or starts with two underscores) is
    reachable as `box.call(name, ...)`."""

    __slots__ = ("_type", "_instance_id", "_finalizer", "_gone", "__weakref__")

    def __init__(self, box_type: _BoxType, instance_id: int) -> None:
        self._type = box_type
        self._instance_id = instance_id
        self._gone = False          # set once fini was sent through this object (a cheap test)
        lib = box_type.lib
        self._finalizer = weakref.finalize(self, _fini_quietly, lib, box_type.type_id, instance_id)
        lib.live[(box_type.type_id, instance_id)] = self

    # identity
    @property
    def box_name(self) -> str:
        return self._type.name

    @property
    def type_id(self) -> int:
        return self._type.type_id

    @property
    def instance_id(self) -> int:
        return self._instance_id

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and not self._type.lib.closed

    def __tlv_handle__(self) -> tlv.Handle:
        if not self.alive:
            raise tlv.tlv_error("tlv.invalid_handle", f"{self!r} was finalised")
        return tlv.Handle(self._type.type_id, self._instance_id)

    def __repr__(self) -> str:
        state = "" if self.alive else " finalised"
        return f"<PluginBox {self._type.name}#{self._instance_id}{state}>"

    # calls
    if TYPE_CHECKING:
        # configured methods are attributes of the generated subclass (for type checkers only:
        # a real `__getattr__` would take attribute reads off the interpreter's fast path)
        def __getattr__(self, name: str) -> Callable[..., Any]: ...

    def call(self, name: str, *args: Any) -> Any:
        method = self._type.methods.get(name)
        if method is None:
            raise tlv.tlv_error("tlv.invalid_method", f"{self._type.name} has no method {name!r} in nyash.toml",
                                box=self._type.name, method=name)
        if method.role == "destructor":
            return self.finalise()
        return self._call(method, args)

    def _call(self, method: _Method, args: tuple[Any, ...]) -> Any:
        t = self._type
        if not method.plain or len(args) != method.arity:
            self._check_call(method, args)
        if not self._finalizer.alive:
            if t.lib.closed:
                raise error("ffi.plugin.unloaded", f"plugin {t.lib.name!r} was unloaded", library=t.lib.name)
            raise tlv.tlv_error("tlv.invalid_handle", f"{self!r}.{method.name}: the box was finalised")
        rc, data = t.lib.invoke(t.type_id, method.method_id, self._instance_id, method.encode(*args))
        if rc == 0:
            if not data:        # success with no result bytes at all: a void answer
                value = None
            else:
                value = _decode_any(data)
                if value.__class__ is tlv.Handle or value.__class__ is tuple:
                    value = t.host._adopt_all(value)
            return Ok(value) if method.returns_result else value
        return self._failed(method, rc, data)

    def _failed(self, method: _Method, rc: int, data: bytes | None) -> Any:
        """A non-zero return code: an Err for Result methods, else a coded error."""
        if method.returns_result:
            msg = _message(data)
            return Err(msg if msg is not None else tlv.code_for_return(rc))
        raise _call_error(rc, data, f"{self._type.name}.{method.name}")

    def _check_call(self, method: _Method, args: tuple[Any, ...]) -> None:
        """Arguments against the config, before anything reaches the plugin."""
        t = self._type
        if method.role == "constructor":
            raise tlv.tlv_error("tlv.invalid_method", f"{t.name}.{method.name} is the constructor; "
                                "create boxes through PluginHost.create")
        if len(args) != method.arity:
            raise tlv.tlv_error("tlv.invalid_args", f"{t.name}.{method.name} takes {method.arity} "
                                f"argument(s), got {len(args)}", box=t.name, method=method.name)
        for i in method.box_positions:
            if not isinstance(args[i], PluginBox):
                raise tlv.tlv_error("tlv.invalid_args", f"{t.name}.{method.name}: argument {i + 1} must be a "
                                    f"plugin box, got {type(args[i]).__name__}", box=t.name, method=method.name)

    # lifecycle
    def finalise(self) -> None:
        """Send fini now (once; later calls do nothing).  Singletons live until unload."""
        if self._type.singleton:
            return
        self._gone = True
        problem = self._finalizer()
        if problem is not None:
            raise problem

    def __enter__(self) -> "PluginBox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.finalise()


_decode_any = tlv.compile_decoder(None)


# --- the host -----------------------------------------------------------------------------

class PluginHost:
    """Every library of one nyash.toml, loaded."""

    def __init__(self, config: _Config, *, max_result_bytes: int = MAX_RESULT_BYTES,
                 only: Iterable[str] | None = None, mode: str | None = None,
                 timeout: float | None = None) -> None:
        """Open every library of `config` (or just the library keys in `only`); `mode` as
        for `PluginLibrary` ("api", "abi", or None for the faster one available);
        `timeout`: seconds a call may take before `ffi.plugin.timeout` poisons its library."""
        self.config = config
        wanted = None if only is None else set(only)
        self.libraries: dict[str, PluginLibrary] = {}
        self._types_by_name: dict[str, _BoxType] = {}
        self._types_by_id: dict[int, _BoxType] = {}
        self._lock = threading.Lock()
        try:
            for key, lib_cfg in config.libraries.items():
                if wanted is not None and key not in wanted:
                    continue
                lib = PluginLibrary(key, config.resolve_library(lib_cfg), max_result_bytes=max_result_bytes,
                                    mode=mode, timeout=timeout)
                self.libraries[key] = lib
                for box_name in lib_cfg.boxes:
                    bcfg = lib_cfg.box_configs[box_name]
                    expected_abi = lib.abi if lib.abi is not None else 1
                    if bcfg.abi_version != expected_abi:
                        raise error("ffi.plugin.abi_mismatch",
                                    f"{box_name} wants ABI version {bcfg.abi_version}; {key} speaks {expected_abi}",
                                    library=key, box=box_name)
                    bt = _BoxType(self, lib, bcfg)
                    if config.box_library.get(box_name) == key:   # the first library listing it wins
                        self._types_by_name[box_name] = bt
                    self._types_by_id.setdefault(bcfg.type_id, bt)
            for bt in self._types_by_name.values():
                if bt.singleton:
                    bt.instance = bt.new(bt.lib.birth(bt.type_id))
        except BaseException:
            self.close()
            raise

    def box_names(self) -> list[str]:
        return list(self._types_by_name)

    def has_box(self, name: str) -> bool:
        return name in self._types_by_name

    def create(self, name: str) -> PluginBox:
        """Birth a box (or hand out the shared singleton)."""
        bt = self._types_by_name.get(name)
        if bt is None:
            raise error("ffi.plugin.unknown_box", f"no plugin box {name!r} in the configuration", box=name)
        if bt.singleton:
            assert bt.instance is not None
            return bt.instance
        instance_id = bt.lib.birth(bt.type_id)
        with self._lock:
            live = bt.lib.live.get((bt.type_id, instance_id))
            if live is not None and live._finalizer.alive:
                # two boxes for one instance would send two finis: refuse the second
                raise error("ffi.plugin.duplicate_instance", f"birth of {name} answered instance id "
                            f"{instance_id}, which a live box already has", box=name, instance_id=instance_id)
            return bt.new(instance_id)

    def _adopt(self, handle: tlv.Handle) -> PluginBox:
        """The PluginBox for a handle a plugin returned (the live one if there is one)."""
        bt = self._types_by_id.get(handle.type_id)
        if bt is None:
            raise tlv.tlv_error("tlv.invalid_handle", f"plugin returned a handle of unknown type {handle.type_id}",
                                type_id=handle.type_id)
        if handle.instance_id == 0:
            raise tlv.tlv_error("tlv.invalid_handle", "plugin returned a handle with instance id 0")
        with self._lock:
            box = bt.lib.live.get((handle.type_id, handle.instance_id))
            if box is None or not box._finalizer.alive:
                box = bt.new(handle.instance_id)
            return box

    def _adopt_all(self, value: Any) -> Any:
        if value.__class__ is tlv.Handle:
            return self._adopt(value)
        return tuple(self._adopt(v) if v.__class__ is tlv.Handle else v for v in value)

    def close(self) -> None:
        """Fini every live box (singletons too), shut every library down, unload."""
        for lib in list(self.libraries.values()):
            lib.close()
        for bt in self._types_by_name.values():
            bt.instance = None

    def __enter__(self) -> "PluginHost":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BoxFactoryRegistry:
    """Box creation by name: plugin boxes first, Python builtin factories as fallback."""

    def __init__(self, hosts: Iterable[PluginHost] = ()) -> None:
        self._hosts = list(hosts)
        self._builtins: dict[str, Callable[..., Any]] = {}

    def add_host(self, host: PluginHost) -> None:
        self._hosts.append(host)

    def register(self, name: str, factory: Callable[..., Any]) -> None:
        """A Python factory for `name`, used when no plugin provides the box."""
        self._builtins[name] = factory

    def provider(self, name: str) -> str:
        """"plugin", "builtin", or a coded error."""
        if any(h.has_box(name) for h in self._hosts):
            return "plugin"
        if name in self._builtins:
            return "builtin"
        raise self._unknown(name)

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        for host in self._hosts:
            if host.has_box(name):
                if args or kwargs:
                    raise tlv.tlv_error("tlv.invalid_args", f"plugin box {name!r} is born without arguments",
                                        box=name)
                return host.create(name)
        factory = self._builtins.get(name)
        if factory is not None:
            return factory(*args, **kwargs)
        raise self._unknown(name)

    def names(self) -> list[str]:
        out = dict.fromkeys(n for h in self._hosts for n in h.box_names())
        out.update(dict.fromkeys(self._builtins))
        return list(out)

    def _unknown(self, name: str) -> DiagnosticError:
        return error("ffi.plugin.unknown_box", f"no plugin or builtin box named {name!r} "
                     f"(known: {', '.join(self.names()) or 'none'})", box=name)
