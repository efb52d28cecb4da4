"""Nyash BID-1 TLV codec (the wire format docs/plugins.md describes).

Wire form, little-endian, no padding: a 4-byte header `u16 version (=1), u16 argc`, then
`argc` entries `u8 tag, u8 reserved (=0), u16 size, payload[size]`.

Python values: bool; int (i32 or i64); float (f32 or f64); str (string); bytes (bytes);
`Handle(type_id, instance_id)` (handle); None (void).

Decoding is strict and never trusts its input: every failure raises `DiagnosticError` with
a `tlv.*` code, and `RETURN_CODES` maps each code to the plugin return code it stands for.
The hot path uses encoders and decoders compiled once per signature (`compile_encoder`,
`compile_decoder`): generated Python functions that pack fixed-size signatures with one
`struct.Struct`, and check a single-entry result against a precomputed 8-byte prefix.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, NamedTuple, Sequence

from . import types as t
from .audit import DiagnosticError, error

__all__ = [
    "VERSION", "BIRTH_METHOD_ID", "FINI_METHOD_ID", "TAGS", "KINDS", "RESERVED_TAGS", "MAX_PAYLOAD", "EMPTY", "VOID_RESULT",
    "OK", "E_SHORT_BUFFER", "E_INVALID_TYPE", "E_INVALID_METHOD", "E_INVALID_ARGS",
    "E_PLUGIN_ERROR", "E_OUT_OF_MEMORY", "E_INVALID_UTF8", "E_INVALID_HANDLE",
    "E_VERSION_MISMATCH", "RETURN_CODES", "RETURN_CODE_NAMES", "code_for_return",
    "return_code_for", "Handle", "encode", "encode_tagged", "decode", "decode_tagged",
    "compile_encoder", "compile_decoder", "kind_of", "tlv_error", "HANDLE_RESOURCE",
    "MODEL_TYPES", "kind_for_type",
]

VERSION = 1
MAX_PAYLOAD = 0xFFFF
BIRTH_METHOD_ID = 0             # birth: instance 0, empty args, answers a raw u32 id
FINI_METHOD_ID = 0xFFFFFFFF     # fini: once per instance, empty args

# tag -> kind name, and back
TAGS: dict[str, int] = {"bool": 1, "i32": 2, "i64": 3, "f32": 4, "f64": 5, "string": 6,
                        "bytes": 7, "handle": 8, "void": 9}
KINDS: dict[int, str] = {v: k for k, v in TAGS.items()}
RESERVED_TAGS: dict[int, str] = {20: "result", 21: "option", 22: "array"}
_FIXED_SIZES: dict[int, int] = {1: 1, 2: 4, 3: 8, 4: 4, 5: 8, 8: 8, 9: 0}

EMPTY = b"\x01\x00\x00\x00"                      # version 1, no entries
VOID_RESULT = b"\x01\x00\x01\x00\x09\x00\x00\x00"  # one void entry

# Plugin return codes.
OK = 0
E_SHORT_BUFFER = -1
E_INVALID_TYPE = -2
E_INVALID_METHOD = -3
E_INVALID_ARGS = -4
E_PLUGIN_ERROR = -5
E_OUT_OF_MEMORY = -6
E_INVALID_UTF8 = -7
E_INVALID_HANDLE = -8
E_VERSION_MISMATCH = -9

# Diagnostic code -> plugin return code.  One code per return code, plus finer codes for
# the several ways an argument list can be malformed (all "invalid args", -4).
RETURN_CODES: dict[str, int] = {
    "tlv.short_buffer": E_SHORT_BUFFER,
    "tlv.invalid_type": E_INVALID_TYPE,
    "tlv.invalid_method": E_INVALID_METHOD,
    "tlv.invalid_args": E_INVALID_ARGS,
    "tlv.truncated": E_INVALID_ARGS,
    "tlv.bad_size": E_INVALID_ARGS,
    "tlv.trailing_bytes": E_INVALID_ARGS,
    "tlv.payload_too_large": E_INVALID_ARGS,
    "tlv.nul_in_string": E_INVALID_ARGS,
    "tlv.plugin_error": E_PLUGIN_ERROR,
    "tlv.result_overflow": E_PLUGIN_ERROR,
    "tlv.out_of_memory": E_OUT_OF_MEMORY,
    "tlv.invalid_utf8": E_INVALID_UTF8,
    "tlv.invalid_handle": E_INVALID_HANDLE,
    "tlv.version_mismatch": E_VERSION_MISMATCH,
}
# Plugin return code -> the diagnostic code a host reports for it.
RETURN_CODE_NAMES: dict[int, str] = {
    E_SHORT_BUFFER: "tlv.short_buffer", E_INVALID_TYPE: "tlv.invalid_type",
    E_INVALID_METHOD: "tlv.invalid_method", E_INVALID_ARGS: "tlv.invalid_args",
    E_PLUGIN_ERROR: "tlv.plugin_error", E_OUT_OF_MEMORY: "tlv.out_of_memory",
    E_INVALID_UTF8: "tlv.invalid_utf8", E_INVALID_HANDLE: "tlv.invalid_handle",
    E_VERSION_MISMATCH: "tlv.version_mismatch",
}


def code_for_return(rc: int) -> str:
    """The `tlv.*` code for a negative plugin return code (other negatives: plugin error)."""
    return RETURN_CODE_NAMES.get(rc, "tlv.plugin_error")


def return_code_for(code: str) -> int:
    """The plugin return code a `tlv.*` diagnostic code stands for."""
    return RETURN_CODES.get(code, E_PLUGIN_ERROR)


def tlv_error(code: str, message: str, **extensions: Any) -> DiagnosticError:
    return error(code, message, return_code=return_code_for(code), **extensions)


class Handle(NamedTuple):
    """A box reference on the wire (tag 8)."""

    type_id: int
    instance_id: int


# Kinds in the type model: what a BID `handle` is, and each kind's model type (void: none).
HANDLE_RESOURCE = t.ResourceType("handle", owner="nyash:bid")
MODEL_TYPES: dict[str, t.Type | None] = {
    "i32": t.S32, "i64": t.S64, "f32": t.F32, "f64": t.F64, "bool": t.BOOL, "string": t.STRING,
    "bytes": t.ListType(t.U8), "handle": t.OwnType(HANDLE_RESOURCE), "void": None,
}


def kind_for_type(typ: t.Type | None) -> str:
    """The TLV kind carrying a model type (any resource handle is a `handle`); KeyError
    for a type BID-1 cannot carry."""
    if typ is None:
        return "void"
    typ = t.unalias(typ)
    if isinstance(typ, (t.OwnType, t.BorrowType)):
        return "handle"
    for kind, mt in MODEL_TYPES.items():
        if mt == typ:
            return kind
    raise KeyError(typ.wit())


# --- encoding ---------------------------------------------------------------------------

_HEADER = struct.Struct("<HH")
_ENTRY = struct.Struct("<BBH")
_PACKERS: dict[int, Callable[[Any], bytes]] = {
    1: lambda v: b"\x01" if v else b"\x00",
    2: struct.Struct("<i").pack,
    3: struct.Struct("<q").pack,
    4: struct.Struct("<f").pack,
    5: struct.Struct("<d").pack,
    8: lambda v: struct.pack("<II", v[0], v[1]),
    9: lambda v: b"",
}
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1


def kind_of(value: Any) -> str:
    """The kind a Python value encodes as when no signature says otherwise."""
    if value is None:
        return "void"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "i32" if _I32_MIN <= value <= _I32_MAX else "i64"
    if isinstance(value, float):
        return "f64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, Handle) or hasattr(value, "__tlv_handle__"):
        return "handle"
    raise tlv_error("tlv.invalid_type", f"no TLV kind for a value of type {type(value).__name__}")


def _as_handle(value: Any) -> Handle:
    if isinstance(value, Handle):
        return value
    getter = getattr(value, "__tlv_handle__", None)
    if getter is None:
        raise tlv_error("tlv.invalid_type", f"expected a handle, got {type(value).__name__}")
    return getter()


def _payload(kind: str, value: Any) -> bytes:
    """Payload bytes of one value of `kind`, checking the value fits."""
    try:
        if kind == "string":
            if not isinstance(value, str):
                raise TypeError
            data = value.encode("utf-8")
            if b"\0" in data:
                raise tlv_error("tlv.nul_in_string", f"string {value!r:.60} contains NUL, which a TLV "
                                "string may not (send it as bytes)")
        elif kind == "bytes":
            if isinstance(value, str):
                data = value.encode("utf-8")
            elif isinstance(value, (bytes, bytearray, memoryview)):
                data = bytes(value)
            else:
                raise TypeError
        elif kind == "handle":
            data = _PACKERS[8](_as_handle(value))
        elif kind == "bool":
            if not isinstance(value, bool):
                raise TypeError
            data = _PACKERS[1](value)
        elif kind in ("i32", "i64"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError
            data = _PACKERS[TAGS[kind]](value)
        elif kind in ("f32", "f64"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError
            data = _PACKERS[TAGS[kind]](value)
        elif kind == "void":
            if value is not None:
                raise TypeError
            data = b""
        else:
            raise tlv_error("tlv.invalid_type", f"unknown TLV kind {kind!r}")
    except UnicodeEncodeError:
        raise tlv_error("tlv.invalid_utf8", "string is not encodable as UTF-8 (lone surrogate)") from None
    except (TypeError, OverflowError, struct.error) as exc:
        detail = f" ({exc})" if isinstance(exc, struct.error) else ""
        raise tlv_error("tlv.invalid_args", f"value {value!r:.60} does not fit TLV kind {kind}{detail}") from None
    if len(data) > MAX_PAYLOAD:
        raise tlv_error("tlv.payload_too_large",
                        f"{kind} payload of {len(data)} bytes exceeds the TLV limit of {MAX_PAYLOAD}",
                        size=len(data))
    return data


def encode_tagged(entries: Sequence[tuple[str, Any]]) -> bytes:
    """Encode `(kind, value)` pairs."""
    if len(entries) > 0xFFFF:
        raise tlv_error("tlv.payload_too_large", f"{len(entries)} entries exceed the TLV limit of 65535")
    parts = [_HEADER.pack(VERSION, len(entries))]
    for kind, value in entries:
        data = _payload(kind, value)
        parts.append(_ENTRY.pack(TAGS[kind], 0, len(data)))
        parts.append(data)
    return b"".join(parts)


def encode(*values: Any) -> bytes:
    """Encode values, each as the kind `kind_of` gives it."""
    return encode_tagged([(kind_of(v), v) for v in values])


# --- decoding ---------------------------------------------------------------------------

_UNPACKERS: dict[int, Callable[[bytes, int], tuple]] = {
    2: struct.Struct("<i").unpack_from,
    3: struct.Struct("<q").unpack_from,
    4: struct.Struct("<f").unpack_from,
    5: struct.Struct("<d").unpack_from,
    8: struct.Struct("<II").unpack_from,
}


def decode_tagged(data: bytes | bytearray | memoryview) -> list[tuple[int, Any]]:
    """Decode a TLV buffer into `(tag, value)` pairs; strict (see module doc)."""
    buf = bytes(data)
    n = len(buf)
    if n < 4:
        raise tlv_error("tlv.truncated", f"TLV header needs 4 bytes, got {n}", offset=0)
    version, argc = _HEADER.unpack_from(buf, 0)
    if version != VERSION:
        raise tlv_error("tlv.version_mismatch", f"TLV version {version}, expected {VERSION}", offset=0)
    pos = 4
    out: list[tuple[int, Any]] = []
    for index in range(argc):
        if pos + 4 > n:
            raise tlv_error("tlv.truncated", f"entry {index} header runs past the end ({n} bytes)",
                            offset=pos, entry=index)
        tag, reserved, size = _ENTRY.unpack_from(buf, pos)
        if tag not in KINDS:
            what = f"reserved tag {tag} ({RESERVED_TAGS[tag]})" if tag in RESERVED_TAGS else f"unknown tag {tag}"
            raise tlv_error("tlv.invalid_type", f"entry {index}: {what}", offset=pos, entry=index, tag=tag)
        if reserved != 0:
            raise tlv_error("tlv.invalid_args", f"entry {index}: reserved byte is {reserved}, must be 0",
                            offset=pos + 1, entry=index)
        pos += 4
        end = pos + size
        if end > n:
            raise tlv_error("tlv.truncated", f"entry {index}: payload of {size} bytes runs past the end "
                            f"({n - pos} left)", offset=pos, entry=index)
        fixed = _FIXED_SIZES.get(tag)
        if fixed is not None and size != fixed:
            raise tlv_error("tlv.bad_size", f"entry {index}: {KINDS[tag]} needs {fixed} bytes, got {size}",
                            offset=pos - 2, entry=index)
        if tag == 6:
            try:
                value: Any = buf[pos:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise tlv_error("tlv.invalid_utf8", f"entry {index}: string is not UTF-8 ({exc.reason})",
                                offset=pos + exc.start, entry=index) from None
            if "\0" in value:
                raise tlv_error("tlv.nul_in_string", f"entry {index}: string contains NUL",
                                offset=pos + buf[pos:end].index(0), entry=index)
        elif tag == 7:
            value = buf[pos:end]
        elif tag == 1:
            value = buf[pos] != 0
        elif tag == 9:
            value = None
        elif tag == 8:
            value = Handle(*_UNPACKERS[8](buf, pos))
        else:
            value = _UNPACKERS[tag](buf, pos)[0]
        out.append((tag, value))
        pos = end
    if pos != n:
        raise tlv_error("tlv.trailing_bytes", f"{n - pos} byte(s) after the last of {argc} entries",
                        offset=pos)
    return out


def decode(data: bytes | bytearray | memoryview) -> list[Any]:
    """Decode a TLV buffer into its values."""
    return [v for _, v in decode_tagged(data)]


# --- compiled plans ---------------------------------------------------------------------

_STRUCT_CODES = {"bool": "?", "i32": "i", "i64": "q", "f32": "f", "f64": "d", "handle": "II"}
_encoder_cache: dict[tuple[str, ...], Callable[..., bytes]] = {}
_decoder_cache: dict[tuple[str, ...] | None, Callable[[bytes], Any]] = {}


def compile_encoder(kinds: Sequence[str]) -> Callable[..., bytes]:
    """A function `f(*values) -> bytes` for a fixed signature of kinds ("any" = infer).

    The function is generated once per signature (and cached): all-fixed-size signatures
    pack header, entry headers and payloads with a single `struct.Struct`; the others join
    precomputed headers and payloads.  Values of the exact expected class take the fast
    path; anything else (or anything struct rejects) goes through `encode_tagged`, which
    accepts what fits (an IntEnum for an i32) and names what does not in a diagnostic."""
    key = tuple(kinds)
    cached = _encoder_cache.get(key)
    if cached is not None:
        return cached
    for k in key:
        if k != "any" and k not in TAGS:
            raise tlv_error("tlv.invalid_type", f"unknown TLV kind {k!r}")
    n = len(key)

    def slow(values: tuple[Any, ...]) -> bytes:
        return encode_tagged(list(zip(key, values)))

    def arity(got: int) -> bytes:
        raise tlv_error("tlv.invalid_args", f"expected {n} value(s), got {got}")

    env: dict[str, Any] = {"_slow": slow, "_arity": arity, "_payload": _payload, "_kind_of": kind_of,
                           "_ENTRY": _ENTRY.pack, "_TAGS": TAGS, "_as_handle": _as_handle, "_Handle": Handle,
                           "_struct_error": struct.error}
    lines = ["def encode(*values):", f"    if len(values) != {n}: return _arity(len(values))"]
    if n:
        lines.append(f"    {', '.join(f'v{i}' for i in range(n))}, = values")
    lines.append("    try:")
    body: list[str] = []
    if all(k in _STRUCT_CODES for k in key):
        # one struct; each run of constant header bytes is one "Ns" field packed from a
        # prebuilt bytes object
        fmt: list[str] = ["<"]
        args: list[str] = []
        literal = _HEADER.pack(VERSION, n)

        def flush() -> None:
            nonlocal literal
            if literal:
                env[f"_lit{len(args)}"] = literal
                fmt.append(f"{len(literal)}s")
                args.append(f"_lit{len(args)}")
                literal = b""

        for i, k in enumerate(key):
            tag = TAGS[k]
            literal += _ENTRY.pack(tag, 0, _FIXED_SIZES[tag])
            flush()
            fmt.append(_STRUCT_CODES[k])
            if k == "handle":
                body.append(f"h{i} = v{i} if v{i}.__class__ is _Handle else _as_handle(v{i})")
                args += [f"h{i}[0]", f"h{i}[1]"]
                continue
            if k == "bool":
                body.append(f"if v{i}.__class__ is not bool: return _slow(values)")
            elif k in ("i32", "i64"):
                body.append(f"if v{i}.__class__ is not int: return _slow(values)")
            else:
                body.append(f"if v{i}.__class__ is not float and v{i}.__class__ is not int: return _slow(values)")
            args.append(f"v{i}")
        flush()
        env["_pack"] = struct.Struct("".join(fmt)).pack
        body.append(f"return _pack({', '.join(args)})")
    else:
        # Everything between two variable-size payloads (constant header bytes as one "Ns"
        # field, fixed-size values, the next payload's length) is packed by one struct.
        run_fmt: list[str] = []
        run_args: list[str] = []
        pieces: list[str] = []
        literal = _HEADER.pack(VERSION, n)

        def flush_literal() -> None:
            nonlocal literal
            if literal:
                name = f"_lit{len(env)}"
                env[name] = literal
                run_fmt.append(f"{len(literal)}s")
                run_args.append(name)
                literal = b""

        def flush_run() -> None:
            flush_literal()
            if run_fmt:
                name = f"_run{len(pieces)}"
                env[name] = struct.Struct("<" + "".join(run_fmt)).pack
                pieces.append(f"{name}({', '.join(run_args)})")
                run_fmt.clear()
                run_args.clear()

        def payload(i: int, tag_expr: str | None, tag: int = 0) -> None:
            """Entry header (tag, 0, len(d{i})) then the payload d{i}."""
            nonlocal literal
            if tag_expr is None:
                literal += bytes((tag, 0))
                flush_literal()
                run_fmt.append("H")
                run_args.append(f"len(d{i})")
            else:
                flush_literal()
                run_fmt.append("BBH")
                run_args.extend((tag_expr, "0", f"len(d{i})"))
            flush_run()
            pieces.append(f"d{i}")

        for i, k in enumerate(key):
            if k in _STRUCT_CODES:
                tag = TAGS[k]
                literal += _ENTRY.pack(tag, 0, _FIXED_SIZES[tag])
                flush_literal()
                run_fmt.append(_STRUCT_CODES[k])
                if k == "handle":
                    body.append(f"h{i} = v{i} if v{i}.__class__ is _Handle else _as_handle(v{i})")
                    run_args.extend((f"h{i}[0]", f"h{i}[1]"))
                    continue
                if k == "bool":
                    body.append(f"if v{i}.__class__ is not bool: return _slow(values)")
                elif k in ("i32", "i64"):
                    body.append(f"if v{i}.__class__ is not int: return _slow(values)")
                else:
                    body.append(f"if v{i}.__class__ is not float and v{i}.__class__ is not int: "
                                "return _slow(values)")
                run_args.append(f"v{i}")
            elif k == "string":
                body.append(f"if v{i}.__class__ is not str: return _slow(values)")
                body.append(f"d{i} = v{i}.encode('utf-8')")
                body.append(f"if len(d{i}) > 65535 or b'\\0' in d{i}: return _slow(values)")
                payload(i, None, 6)
            elif k == "bytes":
                body.append(f"d{i} = v{i} if v{i}.__class__ is bytes else _payload('bytes', v{i})")
                body.append(f"if len(d{i}) > 65535: return _slow(values)")
                payload(i, None, 7)
            elif k == "any":
                body.append(f"k{i} = _kind_of(v{i}); d{i} = _payload(k{i}, v{i})")
                payload(i, f"_TAGS[k{i}]")
            else:
                body.append(f"d{i} = _payload({k!r}, v{i})")
                payload(i, None, TAGS[k])
        flush_run()
        body.append(f"return b''.join(({', '.join(pieces)},))")
    lines += ["        " + line for line in body]
    lines += ["    except (_struct_error, UnicodeEncodeError, TypeError, OverflowError):", "        return _slow(values)"]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<tlv encoder {key}>", "exec"), env, namespace)
    result = namespace["encode"]
    _encoder_cache[key] = result
    return result


def _single_prefix(kind: str) -> bytes:
    tag = TAGS[kind]
    return _HEADER.pack(VERSION, 1) + _ENTRY.pack(tag, 0, _FIXED_SIZES[tag])


def compile_decoder(kinds: Sequence[str] | None = None) -> Callable[[bytes], Any]:
    """A function `f(data) -> value` decoding a result.

    With `kinds` given, the result must have exactly those kinds (a mismatch is
    `tlv.invalid_type`); a one-kind signature returns the bare value, others a tuple.
    With `kinds=None` any well-formed result is accepted: no entries -> None, one entry
    -> its value, several -> a tuple.  Single fixed-size results are recognised by their
    8-byte prefix and unpacked directly; everything else goes through `decode_tagged`."""
    key = None if kinds is None else tuple(kinds)
    cached = _decoder_cache.get(key)
    if cached is not None:
        return cached

    def shape(entries: list[tuple[int, Any]]) -> Any:
        if key is not None:
            got = tuple(KINDS[t] for t, _ in entries)
            if got != key:
                raise tlv_error("tlv.invalid_type", f"result has kinds ({', '.join(got)}), "
                                f"expected ({', '.join(key)})")
        if not entries:
            return None
        if len(entries) == 1:
            return entries[0][1]
        return tuple(v for _, v in entries)

    if key is not None and len(key) == 1 and TAGS.get(key[0]) in _FIXED_SIZES:
        # one fixed-size kind: compare the 8-byte prefix, unpack in place
        kind = key[0]
        prefix, total = _single_prefix(kind), 8 + _FIXED_SIZES[TAGS[kind]]
        if kind == "void":
            def decode_result(data: bytes) -> Any:
                if data == VOID_RESULT:
                    return None
                return shape(decode_tagged(data))
        elif kind == "bool":
            def decode_result(data: bytes) -> Any:
                if len(data) == total and data[:8] == prefix:
                    return data[8] != 0
                return shape(decode_tagged(data))
        elif kind == "handle":
            unpack_handle, make_handle = struct.Struct("<8sII").unpack, Handle

            def decode_result(data: bytes) -> Any:
                if len(data) == total:
                    got, type_id, instance_id = unpack_handle(data)
                    if got == prefix:
                        return make_handle(type_id, instance_id)
                return shape(decode_tagged(data))
        else:
            unpack_whole = struct.Struct("<8s" + _STRUCT_CODES[kind]).unpack

            def decode_result(data: bytes) -> Any:
                if len(data) == total:
                    got, value = unpack_whole(data)
                    if got == prefix:
                        return value
                return shape(decode_tagged(data))
    elif key is None:
        # any result: single fixed-size results told apart by length, then by their 8-byte
        # prefix (unpacked together with the value); everything else: the full decoder
        i32_prefix, f32_prefix, i64_prefix, f64_prefix, handle_prefix = (
            _single_prefix(k) for k in ("i32", "f32", "i64", "f64", "handle"))
        one_entry, unpack_entry_header = _HEADER.pack(VERSION, 1), struct.Struct("<4sBBH").unpack_from
        unpack_i32, unpack_f32, unpack_i64, unpack_f64, unpack_handle = (
            struct.Struct("<8s" + _STRUCT_CODES[k]).unpack for k in ("i32", "f32", "i64", "f64", "handle"))

        def decode_result(data: bytes) -> Any:
            n = len(data)
            if n == 12:
                got, value = unpack_i32(data)
                if got == i32_prefix:
                    return value
                if got == f32_prefix:
                    return unpack_f32(data)[1]
            elif n == 16:
                got, value = unpack_i64(data)
                if got == i64_prefix:
                    return value
                if got == f64_prefix:
                    return unpack_f64(data)[1]
                if got == handle_prefix:
                    return Handle(*unpack_handle(data)[1:])
            elif n == 8 and data == VOID_RESULT:
                return None
            if n >= 8:                  # one string or bytes entry filling the rest exactly
                header, tag, reserved, size = unpack_entry_header(data)
                if header == one_entry and reserved == 0 and size == n - 8:
                    if tag == 7:
                        return bytes(data[8:])
                    if tag == 6:
                        try:
                            text = str(data[8:], "utf-8")
                        except UnicodeDecodeError:
                            text = "\0"  # the full decoder names the error
                        if "\0" not in text:
                            return text
            return shape(decode_tagged(data))
    else:
        def decode_result(data: bytes) -> Any:
            return shape(decode_tagged(data))

    _decoder_cache[key] = decode_result
    return decode_result
