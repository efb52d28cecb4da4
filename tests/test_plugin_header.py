"""The plugin authors' header (native/include/nyash_plugin.h) decodes like the host:
its reader, run inside a real plugin over hypothesis-made buffers, accepts and rejects
exactly what reml_wasm.tlv does, with the same return code."""

import struct

import pytest
from hypothesis import given, settings, strategies as st
from plugin_support import open_host
from tlv_inputs import build

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError

VALIDATE = 43


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    host = open_host(tmp_path_factory.mktemp("header"), ("probebox",))
    box = host.create("ProbeBox")
    lib = host.libraries["libnyash_probe_plugin.so"]
    yield lambda data: lib.invoke(99, VALIDATE, box.instance_id, data)[0]
    host.close()


def host_verdict(data):
    try:
        tlv.decode_tagged(data)
    except DiagnosticError as exc:
        return tlv.return_code_for(exc.code)
    return 0


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=48))
def test_header_reader_agrees_with_the_host_decoder(validator, raw):
    data = build(raw)
    assert validator(data) == host_verdict(data)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.binary(max_size=12), st.text(max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_header_utf8_check_agrees_with_python(validator, payload):
    data = struct.pack("<HHBBH", 1, 1, 6, 0, len(payload)) + payload
    assert validator(data) == host_verdict(data)


@pytest.mark.parametrize("payload", [b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf",
                                     b"\xf0\x9f\x98\x80", b"\xe2\x82\xac", b"\xc3", b""])
def test_header_utf8_edge_cases(validator, payload):
    data = struct.pack("<HHBBH", 1, 1, 6, 0, len(payload)) + payload
    assert validator(data) == host_verdict(data)
