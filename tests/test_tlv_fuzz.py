"""Fuzz of the TLV decoder: 100 000 inputs, derandomised so the run is reproducible.

Hypothesis draws them in batches of 100 (1 000 examples x 100 inputs): the per-example
overhead of hypothesis would otherwise dominate the cheap decoder.

Half the inputs start with a valid header (version 1) so the entry parser sees real
work; the rest are raw bytes.  Every input must either decode or raise a coded `tlv.*`
DiagnosticError, and a successful decode must re-encode to an equivalent buffer."""

import math

from hypothesis import HealthCheck, given, settings, strategies as st

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError

inputs = st.tuples(st.booleans(), st.integers(0, 4), st.binary(max_size=40))


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


BATCH = 100


@settings(max_examples=1_000, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(inputs, min_size=BATCH, max_size=BATCH))
def _fuzz(cases):
    for case in cases:
        _check(case)
        _seen[0] += 1


_seen = [0]


def test_decoder_never_crashes_on_100k_inputs():
    _seen[0] = 0
    _fuzz()
    assert _seen[0] >= 100_000


def _check(case):
    with_header, argc, body = case
    data = (bytes((1, 0, argc, 0)) + body) if with_header else body
    try:
        tagged = tlv.decode_tagged(data)
    except DiagnosticError as exc:
        assert exc.code in tlv.RETURN_CODES
        return
    assert len(tagged) == int.from_bytes(data[2:4], "little")
    again = tlv.decode_tagged(tlv.encode_tagged([(tlv.KINDS[t], v) for t, v in tagged]))
    assert all(t1 == t2 and _same(v1, v2) for (t1, v1), (t2, v2) in zip(tagged, again))
