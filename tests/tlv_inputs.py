"""Turning drawn bytes into TLV-like buffers: valid ones, near-misses and garbage."""

import struct

FIXED = {1: 1, 2: 4, 3: 8, 4: 4, 5: 8, 8: 8, 9: 0}


def shape(raw: bytes) -> bytes:
    """Bytes -> a TLV-like buffer: entries of (mostly) known tags and (mostly) right sizes."""
    entries = []
    i = 1
    while i + 2 <= len(raw) and len(entries) < 6:
        tag = raw[i] % 10                     # 0 is an unknown tag
        if raw[i + 1] % 8 == 0:
            tag = 20 + raw[i + 1] % 3         # a reserved tag now and then
        want = FIXED.get(tag, raw[i + 1] % 9)
        size = (want + 1) % 9 if raw[i + 1] % 16 == 5 else want   # mostly the right size
        payload = raw[i + 2:i + 2 + size]
        if raw[0] % 8:                         # mostly padded; else cut short at the end
            payload = payload.ljust(size, b"a")
        entries.append(struct.pack("<BBH", tag, 0, size) + payload)
        i += 2 + size
    argc = len(entries) + (1 if raw[0] % 32 == 3 else 0)      # sometimes one too many
    return struct.pack("<HH", 1, argc) + b"".join(entries)


def build(raw: bytes) -> bytes:
    mode = raw[0] % 4 if raw else 0
    if mode == 0:
        return raw
    if mode == 1:
        return bytes((1, 0, raw[1] % 5 if len(raw) > 1 else 0, 0)) + raw[2:]
    return shape(raw)
