"""Fuzz of the TLV decoder: 100 000 inputs, derandomised so the run is reproducible.

Hypothesis draws them in batches of 100 (1 000 examples x 100 inputs): its per-example
overhead would otherwise dominate the cheap decoder.  Each input is one drawn byte string;
its first byte picks how it is used: raw bytes, a valid header followed by raw bytes, or
bytes shaped into entries (mostly known tags with mostly correct sizes, then mutated), so
that valid buffers, near-misses and garbage are all common.  Every input must either decode
or raise a coded `tlv.*` DiagnosticError, and a successful decode must re-encode to
equivalent values."""

import math
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError

BATCH = 100
FIXED = {1: 1, 2: 4, 3: 8, 4: 4, 5: 8, 8: 8, 9: 0}

inputs = st.binary(max_size=48)


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


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def _check(raw):
    data = build(raw)
    try:
        tagged = tlv.decode_tagged(data)
    except DiagnosticError as exc:
        assert exc.code in tlv.RETURN_CODES
        return None
    assert len(tagged) == int.from_bytes(data[2:4], "little")
    again = tlv.decode_tagged(tlv.encode_tagged([(tlv.KINDS[t], v) for t, v in tagged]))
    assert all(t1 == t2 and _same(v1, v2) for (t1, v1), (t2, v2) in zip(tagged, again))
    return len(tagged)


_stats = {"cases": 0, "decoded_with_entries": 0, "errors": 0}


@settings(max_examples=1_000, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(inputs, min_size=BATCH, max_size=BATCH))
def _fuzz(cases):
    for raw in cases:
        n = _check(raw)
        _stats["cases"] += 1
        if n is None:
            _stats["errors"] += 1
        elif n:
            _stats["decoded_with_entries"] += 1


def test_decoder_never_crashes_on_100k_inputs():
    for k in _stats:
        _stats[k] = 0
    _fuzz()
    assert _stats["cases"] >= 100_000
    # the inputs exercise both sides: real decodes with entries and every kind of rejection
    assert _stats["decoded_with_entries"] >= 10_000 and _stats["errors"] >= 30_000
