"""wasi:http without a network: the types work locally, requests are never sent.

A guest can build fields (headers and trailers), outgoing requests and responses, request
options and bodies, with the answers wasmtime's wasi:http host gives: the same syntax
rules for header names and values, methods, schemes, paths and authorities, the same
forbidden headers, the same order of entries, immutable headers once a request or
response owns them, and a body that must match its `content-length`.  Handing a request
to `outgoing-handler.handle` drops it unsent and answers `HTTP-request-denied`.  Incoming
requests and responses never exist here (nothing is received), so their methods are never
reached.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .... import cabi
from ....values import Ok, Variant
from .host import Failure, WasiHost
from .io import IoError, OutputStream

# the headers a guest may not set (connection management belongs to the host)
FORBIDDEN = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                       "proxy-connection", "transfer-encoding", "upgrade", "host", "http2-settings"})
MAX_NAME = (1 << 16) - 1
# what mutable fields may hold: wasmtime's accounting, each name and value costing its
# length plus a fixed overhead; more traps
FIELDS_LIMIT = 128 * 1024
NAME_COST, VALUE_COST = 32, 40
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DIGITS = re.compile(rb"[0-9]+")
_SCHEME = re.compile(r"[A-Za-z0-9+\-.]*")
MAX_SCHEME = 64
_PATH_BYTE = frozenset([0x21, 0x22, *range(0x24, 0x3C), 0x3D, *range(0x40, 0x60), *range(0x61, 0x7B), 0x7B, 0x7C,
                        0x7D, 0x7E, *range(0x80, 0x100)])
_QUERY_BYTE = frozenset([0x21, *range(0x24, 0x3C), 0x3D, *range(0x3F, 0x7F), *range(0x80, 0x100)])
_AUTHORITY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]+")
_PORT = re.compile(r"\+?[0-9]+")


def _syntax() -> Failure:
    return Failure(Variant("invalid-syntax"))


def header_name(name: str) -> str:
    """A field name as stored (lower case); `invalid-syntax` unless it is an HTTP token."""
    raw = name.encode("utf-8")
    if not raw or len(raw) > MAX_NAME or not _TOKEN.fullmatch(raw):
        raise _syntax()
    return name.lower()


def _checked_name(name: str) -> str:
    key = header_name(name)
    if key in FORBIDDEN:
        raise Failure(Variant("forbidden"))
    return key


def _checked_value(key: str, value: bytes) -> bytes:
    value = bytes(value)
    if any(b != 9 and (b < 32 or b == 127) for b in value):
        raise _syntax()
    if key == "content-length":  # a decimal length, stored in its shortest form
        if not (_DIGITS.fullmatch(value) and int(value) < 1 << 64):
            raise _syntax()
        return str(int(value)).encode()
    return value


def _cost(name: str, values: list[bytes]) -> int:
    return len(name) + NAME_COST + sum(len(v) + VALUE_COST for v in values)


class Fields:
    """Header or trailer fields: entries in order, each a name and its values.  Removing
    an entry moves the last one into its place (so entries keep wasmtime's order).
    Mutable fields hold at most FIELDS_LIMIT (wasmtime's accounting, `size`)."""

    def __init__(self, entries: list[list[Any]] | None = None, mutable: bool = True) -> None:
        self.entries: list[list[Any]] = [[n, list(vs)] for n, vs in entries or []]
        self.mutable = mutable
        self.size = sum(_cost(n, vs) for n, vs in self.entries)

    def copy(self, mutable: bool) -> "Fields":
        """An independent copy (a request's or response's headers are handed out as
        immutable copies; `clone` gives a mutable one)."""
        return Fields(self.entries, mutable)

    def _resize(self, size: int) -> None:
        if size > FIELDS_LIMIT:
            raise cabi.Trap("total size of fields exceeds limit")
        self.size = size

    def _find(self, key: str) -> int:
        return next((i for i, (n, _) in enumerate(self.entries) if n == key), -1)

    def _remove_at(self, i: int) -> None:
        last = self.entries.pop()
        if i < len(self.entries):
            self.entries[i] = last

    def _writable(self) -> None:
        if not self.mutable:
            raise Failure(Variant("immutable"))

    def values(self, name: str) -> list[bytes]:
        """The values of `name` (none for a name that is not a valid field name)."""
        try:
            key = header_name(name)
        except Failure:
            return []
        i = self._find(key)
        return [] if i < 0 else list(self.entries[i][1])

    def append(self, name: str, value: bytes) -> None:
        """Add a value (after the name's others, or as a new last entry)."""
        key = _checked_name(name)
        value = _checked_value(key, value)
        i = self._find(key)
        if key == "content-length" and i >= 0:  # one content-length only
            raise _syntax()
        self._writable()
        self._resize(self.size + len(value) + VALUE_COST + (len(key) + NAME_COST if i < 0 else 0))
        if i < 0:
            self.entries.append([key, [value]])
        else:
            self.entries[i][1].append(value)

    def set(self, name: str, values: list[bytes]) -> None:
        """Replace the name's values in place (a new entry goes last; no values removes it)."""
        key = _checked_name(name)
        checked = [_checked_value(key, v) for v in values]
        if key == "content-length" and len(checked) > 1:
            raise _syntax()
        self._writable()
        i = self._find(key)
        old = 0 if i < 0 else _cost(key, self.entries[i][1])
        if not checked:
            if i >= 0:
                self._resize(self.size - old)
                self._remove_at(i)
            return
        self._resize(self.size - old + _cost(key, checked))
        if i < 0:
            self.entries.append([key, checked])
        else:
            self.entries[i][1] = checked

    def delete(self, name: str) -> None:
        """Remove the name and its values."""
        key = _checked_name(name)
        self._writable()
        i = self._find(key)
        if i >= 0:
            self.size -= _cost(key, self.entries[i][1])
            self._remove_at(i)

    def items(self) -> list[tuple[str, bytes]]:
        """Every (name, value), entry by entry."""
        return [(n, v) for n, vs in self.entries for v in vs]


class BodyStream(OutputStream):
    """The output stream of an outgoing body: counts what is written and refuses bytes
    past the body's `content-length`."""

    def __init__(self, body: "OutgoingBody") -> None:
        super().__init__(None)
        self.body = body

    def write(self, data: bytes) -> None:
        """Count `data` against the body's length; past it the write fails."""
        super().write(data)
        body = self.body
        body.written += len(data)
        if body.length is not None and body.written > body.length:
            raise Failure(Variant("last-operation-failed", http_io_error(body.size_error())))


class OutgoingBody:
    """A request's or response's body (`kind` "request" / "response"); its bytes go
    nowhere (nothing is ever sent)."""

    def __init__(self, kind: str, length: int | None) -> None:
        self.kind = kind
        self.length = length
        self.written = 0
        self.stream_taken = False

    def size_error(self) -> Variant:
        """The error code of a body whose size does not match its `content-length`."""
        return Variant(f"HTTP-{self.kind}-body-size", self.written)


def http_io_error(code: Variant) -> IoError:
    """An io error carrying an HTTP error code (what `http-error-code` reads back)."""
    err = IoError(_debug(code))
    err.http_code = code  # type: ignore[attr-defined]
    return err


def _debug(code: Variant) -> str:
    name = "".join(part[:1].upper() + part[1:].lower() for part in code.tag.split("-"))
    return f"ErrorCode::{name}" if code.value is None else f"ErrorCode::{name}(Some({code.value}))"


class _Message:
    """What outgoing requests and responses share: headers and the one body."""

    kind = ""

    def __init__(self, headers: Fields) -> None:
        self.headers = headers
        headers.mutable = False
        self.body_taken = False

    def take_body(self) -> Any:
        """The message's body, once (`err` after that)."""
        if self.body_taken:
            raise Failure(None)
        values = self.headers.values("content-length")
        self.body_taken = True
        return Ok(OutgoingBody(self.kind, int(values[0]) if values else None))


class OutgoingRequest(_Message):
    """A request a guest builds (never sent): method, path, scheme, authority, headers."""

    kind = "request"

    def __init__(self, headers: Fields) -> None:
        super().__init__(headers)
        self.method: Variant = Variant("get")
        self.path: str | None = None
        self.scheme: Variant | None = None
        self.authority: str | None = None


class OutgoingResponse(_Message):
    """A response a guest builds: status and headers."""

    kind = "response"

    def __init__(self, headers: Fields) -> None:
        super().__init__(headers)
        self.status = 200


class RequestOptions:
    """The three timeouts a guest may set on a request (nanoseconds, or None)."""

    def __init__(self) -> None:
        self.timeouts: dict[str, int | None] = {"connect": None, "first-byte": None, "between-bytes": None}


# --- validation of request parts ---------------------------------------------------------

def valid_method(method: Variant) -> bool:
    """A method other than the named ones must be an HTTP token."""
    return method.tag != "other" or bool(_TOKEN.fullmatch(method.value.encode("utf-8")))


def valid_scheme(scheme: Variant | None) -> bool:
    """An `other` scheme: up to 64 ASCII letters, digits, `+`, `-`, `.` (empty allowed)."""
    if scheme is None or scheme.tag != "other":
        return True
    text = scheme.value
    return len(text) <= MAX_SCHEME and bool(_SCHEME.fullmatch(text)) and text.isascii()


def valid_path(path: str | None) -> bool:
    """Empty, or starting with `/` or `?`, of the bytes URIs allow in a path and a query
    (not checked after a `#`)."""
    if path is None or path == "":
        return True
    if path[0] not in "/?":
        return False
    allowed = _PATH_BYTE
    for b in path.encode("utf-8"):
        if b == 0x23:  # '#': the fragment is not checked
            return True
        if b == 0x3F:  # '?': the query
            allowed = _QUERY_BYTE
            continue
        if b not in allowed:
            return False
    return True


def valid_authority(authority: str | None) -> bool:
    """An authority as wasmtime accepts it: URI authority characters, brackets once and
    in order, at most one port colon after the user information (or after `]`), a `%`
    only in the user information, something after `@`, and when a `:` follows the last
    `]` (or there is one and no `]`), the text after the last `:` must be a port number."""
    if authority is None:
        return True
    if not authority or not authority.isascii() or not _AUTHORITY.fullmatch(authority):
        return False
    colons, left, right, percent = 0, False, False, False
    for ch in authority:
        if ch == ":":
            colons += 1
        elif ch == "[":
            if left or right:
                return False
            left = True
        elif ch == "]":
            if not left or right:
                return False
            right, colons = True, 0
        elif ch == "@":
            colons, percent = 0, False
        elif ch == "%":
            percent = True
    if left != right or colons > 1 or percent or authority.endswith("@"):
        return False
    bracket = authority.rfind("]")
    if ":" not in (authority if bracket < 0 else authority[bracket:]):
        return True
    port = authority.rpartition(":")[2]
    return bool(_PORT.fullmatch(port)) and int(port) <= 0xFFFF


# --- wasi:http/types ----------------------------------------------------------------------

def _fields_new(host: WasiHost) -> Fields:
    return Fields()


def _fields_from_list(host: WasiHost, entries: list[tuple[str, bytes]]) -> Any:
    fields = Fields()
    for name, value in entries:
        fields.append(name, value)
    return Ok(fields)


def _unit(action: Callable[[], None]) -> Any:
    action()
    return Ok(None)


def _setter(check: Callable[[Any], bool], store: Callable[[Any, Any], None]) -> Callable[..., Any]:
    def set_(host: WasiHost, target: Any, value: Any) -> Any:
        if not check(value):
            raise Failure(None)
        store(target, value)
        return Ok(None)
    return set_


def _set_status(host: WasiHost, resp: OutgoingResponse, code: int) -> Any:
    if not 100 <= code <= 999:
        raise Failure(None)
    resp.status = code
    return Ok(None)


def _write(host: WasiHost, body: OutgoingBody) -> Any:
    if body.stream_taken:
        raise Failure(None)
    body.stream_taken = True
    return Ok(BodyStream(body))


def _finish(host: WasiHost, body: OutgoingBody, trailers: Fields | None) -> Any:
    if body.length is not None and body.written != body.length:
        raise Failure(body.size_error())
    return Ok(None)


def _http_error_code(host: WasiHost, err: IoError) -> Any:
    return getattr(err, "http_code", None)


def _timeout(which: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def get(host: WasiHost, options: RequestOptions) -> Any:
        return options.timeouts[which]

    def set_(host: WasiHost, options: RequestOptions, duration: int | None) -> Any:
        options.timeouts[which] = duration
        return Ok(None)
    return get, set_


def _request_set(attr: str) -> Callable[[Any, Any], None]:
    return lambda req, value: setattr(req, attr, value)


TYPES: dict[str, Callable[..., Any]] = {
    "http-error-code": _http_error_code,
    "[constructor]fields": _fields_new,
    "[static]fields.from-list": _fields_from_list,
    "[method]fields.get": lambda host, f, name: f.values(name),
    "[method]fields.has": lambda host, f, name: bool(f.values(name)),
    "[method]fields.set": lambda host, f, name, values: _unit(lambda: f.set(name, values)),
    "[method]fields.delete": lambda host, f, name: _unit(lambda: f.delete(name)),
    "[method]fields.append": lambda host, f, name, value: _unit(lambda: f.append(name, value)),
    "[method]fields.entries": lambda host, f: f.items(),
    "[method]fields.clone": lambda host, f: f.copy(mutable=True),
    "[constructor]outgoing-request": lambda host, headers: OutgoingRequest(headers),
    "[method]outgoing-request.body": lambda host, req: req.take_body(),
    "[method]outgoing-request.method": lambda host, req: req.method,
    "[method]outgoing-request.set-method": _setter(valid_method, _request_set("method")),
    "[method]outgoing-request.path-with-query": lambda host, req: req.path,
    "[method]outgoing-request.set-path-with-query": _setter(valid_path, _request_set("path")),
    "[method]outgoing-request.scheme": lambda host, req: req.scheme,
    "[method]outgoing-request.set-scheme": _setter(valid_scheme, _request_set("scheme")),
    "[method]outgoing-request.authority": lambda host, req: req.authority,
    "[method]outgoing-request.set-authority": _setter(valid_authority, _request_set("authority")),
    "[method]outgoing-request.headers": lambda host, req: req.headers.copy(mutable=False),
    "[constructor]outgoing-response": lambda host, headers: OutgoingResponse(headers),
    "[method]outgoing-response.status-code": lambda host, resp: resp.status,
    "[method]outgoing-response.set-status-code": _set_status,
    "[method]outgoing-response.headers": lambda host, resp: resp.headers.copy(mutable=False),
    "[method]outgoing-response.body": lambda host, resp: resp.take_body(),
    "[method]outgoing-body.write": _write,
    "[static]outgoing-body.finish": _finish,
    "[constructor]request-options": lambda host: RequestOptions(),
}
for _which in ("connect", "first-byte", "between-bytes"):
    TYPES[f"[method]request-options.{_which}-timeout"], \
        TYPES[f"[method]request-options.set-{_which}-timeout"] = _timeout(_which)


def _handle(host: WasiHost, request: OutgoingRequest, options: RequestOptions | None) -> Any:
    raise Failure(Variant("HTTP-request-denied"))


OUTGOING_HANDLER: dict[str, Callable[..., Any]] = {"handle": _handle}
