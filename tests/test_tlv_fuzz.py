"""Fuzz of the TLV decoder: 100 000 inputs, derandomised so the run is reproducible.

Hypothesis draws them in batches of 100 (1 000 examples x 100 inputs): its per-example
overhead would otherwise dominate the cheap decoder.  Each input is one drawn byte string;
its first byte picks how it is used: raw bytes, a valid header followed by raw bytes, or
bytes shaped into entries (mostly known tags with mostly correct sizes, then mutated), so
that valid buffers, near-misses and garbage are all common.  Every input must either decode
or raise a coded `tlv.*` DiagnosticError, and a successful decode must re-encode to
equivalent values."""

import math

from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError
from tlv_inputs import build

BATCH = 100

inputs = st.binary(max_size=48)


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
