"""The API-mode method call that answers an i32 result from C (`reml_nyash_call_i32`):
every answer equals the general path's (`box.call(name, ...)` through
`PluginLibrary.invoke`), including the i32 values the C side hands back as "held", the
results that are no i32 at all, results larger than the thread's C buffer, garbage and
failures; a call made while the thread's buffer is held takes the ordinary path."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plugin_support import make_config

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import PluginHost
from reml_wasm.connectors.plugin.call import BUSY, CLOSED, HELD, HERE_BYTES
from reml_wasm.plugin_samples import PROBE_METHODS

# ProbeBox's method 40 answers its argument bytes as the result: with one argument, the
# result is that one value, whatever its kind.
ECHO1 = 'echo1 = { method_id = 40, args = ["a"] }\n'


def _open(directory, mode="api", timeout=None):
    config = make_config(directory, ("probebox",))
    text = config.read_text()
    marker = 'echo = { method_id = 40, args = ["a", "b"] }\n'
    assert marker in text
    config.write_text(text.replace(marker, marker + ECHO1))
    return PluginHost(nyash_toml.load(config), mode=mode, timeout=timeout)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    host = _open(tmp_path_factory.mktemp("fastcall"))
    box = host.create("ProbeBox")
    lib = next(iter(host.libraries.values()))
    assert lib.mode == "api" and lib.call_i32 is not None
    yield host, box, lib
    host.close()


EDGES = [0, 1, -1, 2**31 - 1, -2**31, HELD, HELD + 1, HELD - 1, BUSY, CLOSED, -(1 << 30), 1 << 30]


@pytest.mark.parametrize("value", EDGES)
def test_i32_edges_equal_the_general_path(probe, value):
    _, box, _ = probe
    assert box.echo1(value) == value == box.call("echo1", value)
    assert type(box.echo1(value)) is int


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(-2**31, 2**31 - 1), st.integers(2**31, 2**63 - 1), st.booleans(), st.text(max_size=300),
                 st.binary(max_size=600), st.floats(allow_nan=False)))
def test_any_result_equals_the_general_path(probe, value):
    """Values that are no i32 (bool, i64, strings and bytes, some larger than the thread's
    C buffer) go through the held buffer and decode exactly like the general path."""
    _, box, _ = probe
    got, general = _outcome(lambda: box.echo1(value)), _outcome(lambda: box.call("echo1", value))
    assert got == general and type(got[1]) is type(general[1])


def _outcome(fn):
    try:
        return "value", fn()
    except DiagnosticError as exc:   # refused arguments (a NUL in a string) alike
        return exc.code, exc.diagnostic.extensions.get("return_code")


def test_results_around_the_c_buffer(probe):
    _, box, _ = probe
    for n in (0, 1, HERE_BYTES - 9, HERE_BYTES - 8, HERE_BYTES - 7, HERE_BYTES, 4096, 65535):
        assert box.blob(n) == b"Z" * n      # blob(n) answers n bytes (tag 7)


@pytest.mark.parametrize("method", sorted(m for m in PROBE_METHODS if m not in ("fini_count", "birth_count",
                                                                                 "validate", "self_handle",
                                                                                 "new_handle")))
def test_garbage_through_the_attribute_equals_box_call(probe, method):
    """Each garbage answer of the bad plugin gives the same coded error (or value) through
    the generated method as through `box.call`."""
    _, box, _ = probe
    fast = _outcome(getattr(box, method))
    general = _outcome(lambda: box.call(method))
    if method == "always_short":   # its length grows per call: compare the code only
        fast, general = fast[0], general[0]
    assert fast == general


def test_failures_and_results(probe):
    _, box, _ = probe
    assert box.fails() == box.call("fails")
    with pytest.raises(DiagnosticError) as info:
        box.fails_plain()
    assert info.value.code == tlv.code_for_return(info.value.diagnostic.extensions["return_code"])
    counted = box.counted()
    assert counted.__class__.__name__ == "Ok" and isinstance(counted.value, int)


def test_a_call_while_the_buffer_is_held_takes_the_ordinary_path(probe):
    _, box, lib = probe
    data = tlv.encode("kept in the thread's buffer")
    answer = lib.call_i32(lib._state, box.type_id, 40, box.instance_id, data, len(data))
    assert answer == HELD                  # the string result stays in the C buffer
    try:
        assert box.echo1(12345) == 12345   # re-entered on this thread: BUSY, then the ordinary call
        assert lib.call_i32(lib._state, box.type_id, 40, box.instance_id, data, len(data)) == BUSY
    finally:
        rc, result = lib.held_answer(answer, box.type_id, 40, box.instance_id, data)
    assert (rc, result) == (0, data)
    assert box.echo1(7) == 7               # released: the fast answer again


def test_calls_after_unload_and_finalise_are_coded(tmp_path):
    host = _open(tmp_path)
    box = host.create("ProbeBox")
    other = host.create("ProbeBox")
    echo = box.echo1
    other.finalise()
    with pytest.raises(DiagnosticError) as info:
        other.echo1(1)
    assert info.value.code == "tlv.invalid_handle"
    host.close()
    with pytest.raises(DiagnosticError) as info:
        echo(1)
    assert info.value.code == "ffi.plugin.unloaded"


def test_a_library_with_a_timeout_keeps_the_watched_path(tmp_path):
    host = _open(tmp_path, timeout=30)
    try:
        lib = next(iter(host.libraries.values()))
        assert lib.call_i32 is None
        assert host.create("ProbeBox").echo1(-2**31) == -2**31
    finally:
        host.close()


def test_abi_mode_answers_alike(tmp_path):
    host = _open(tmp_path, mode="abi")
    try:
        box = host.create("ProbeBox")
        for value in EDGES + ["text", b"\x00" * 300, True]:
            assert box.echo1(value) == value
    finally:
        host.close()
