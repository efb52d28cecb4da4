"""The two call modes (compiled API-mode shim and cffi ABI mode) behave the same on FileBox
and CounterBox; the ProbeBox garbage cases and the thread stress test run in both modes in
test_plugin_robustness.py."""

import threading

import pytest
from hypothesis import given, strategies as st
from plugin_support import make_config, open_host

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.plugin import PluginLibrary, default_mode
from reml_wasm.connectors.plugin.call import api_module


def test_api_mode_is_the_default_with_a_compiler():
    assert api_module() is not None          # gcc is part of this environment
    assert default_mode() == "api"


@pytest.fixture(scope="module", params=["api", "abi"])
def host(request, tmp_path_factory):
    h = open_host(tmp_path_factory.mktemp(f"modes-{request.param}"), mode=request.param)
    assert {lib.mode for lib in h.libraries.values()} == {request.param}
    yield h
    h.close()


def test_filebox_round_trip_and_large_read(host, tmp_path):
    data = bytes(range(256)) * 200           # far above the first buffer: the retry path
    path = str(tmp_path / "f.bin")
    with host.create("FileBox") as f:
        f.open(path, "w")
        assert f.write(data) == len(data)
        f.close()
        f.open(path, "r")
        assert f.read() == data
        f.close()
        with pytest.raises(DiagnosticError) as info:
            f.open(path, "x")
        assert info.value.code == "tlv.invalid_args"


def test_counterbox_counts(host):
    c = host.create("CounterBox")
    start = c.get()
    assert [c.inc() for _ in range(5)] == [start + i for i in range(1, 6)]
    assert c.get() == start + 5


def test_finalised_and_unloaded_boxes(host, tmp_path):
    f = host.create("FileBox")
    f.finalise()
    with pytest.raises(DiagnosticError) as info:
        f.read()
    assert info.value.code == "tlv.invalid_handle"


def test_unloaded_library_refuses_calls(tmp_path):
    for mode in ("api", "abi"):
        (tmp_path / mode).mkdir()
        h = open_host(tmp_path / mode, ("counterbox",), mode=mode)
        c = h.create("CounterBox")
        h.close()
        with pytest.raises(DiagnosticError) as info:
            c.inc()
        assert info.value.code == "ffi.plugin.unloaded"


def test_unknown_mode_is_a_coded_error(tmp_path):
    with pytest.raises(DiagnosticError) as info:
        PluginLibrary("x", tmp_path / "none.so", mode="jit")
    assert info.value.code == "ffi.plugin.bad_mode"


def _tlv_text(size: int):
    """Strings a TLV string may hold: any text but NUL (a mangled byte may still put one in)."""
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=size)


def _mangled(data: bytes, at: int, byte: int) -> bytes:
    return data[:at % len(data)] + bytes([byte]) + data[at % len(data) + 1:]


@given(st.binary(max_size=40)
       | st.builds(lambda kind, v: tlv.encode_tagged([(kind, v)]), st.sampled_from(["i32", "i64"]),
                   st.integers(-2**31, 2**31 - 1))
       | st.builds(tlv.encode, _tlv_text(12) | st.binary(max_size=12))
       | st.builds(_mangled, st.builds(tlv.encode, _tlv_text(6) | st.binary(max_size=6)),
                   st.integers(0, 40), st.integers(0, 255)))
def test_compiled_any_decoder_agrees_with_the_generic_one(data):
    decode_any = tlv.compile_decoder(None)
    try:
        values = tlv.decode(data)
    except DiagnosticError as exc:
        with pytest.raises(DiagnosticError) as info:
            decode_any(data)
        assert info.value.code == exc.code
        return
    expected = None if not values else values[0] if len(values) == 1 else tuple(values)
    assert decode_any(data) == expected


@given(st.sampled_from(["bool", "i32", "i64", "f32", "f64", "handle", "void"]),
       st.binary(max_size=24) | st.sampled_from([tlv.encode(7), tlv.encode(2**40), tlv.encode(1.5), tlv.encode(True),
                                                 tlv.encode(tlv.Handle(3, 4)), tlv.VOID_RESULT,
                                                 tlv.encode_tagged([("f32", 0.5)])]))
def test_compiled_single_kind_decoders_agree_with_the_generic_one(kind, data):
    decode_one = tlv.compile_decoder([kind])
    try:
        entries = tlv.decode_tagged(data)
    except DiagnosticError as exc:
        with pytest.raises(DiagnosticError) as info:
            decode_one(data)
        assert info.value.code == exc.code
        return
    if [tag for tag, _ in entries] != [tlv.TAGS[kind]]:
        with pytest.raises(DiagnosticError) as info:
            decode_one(data)
        assert info.value.code == "tlv.invalid_type"
    else:
        got, want = decode_one(data), entries[0][1]
        assert got == want or (got != got and want != want)   # NaN stays NaN
        assert type(got) is type(want)


@given(st.lists(st.sampled_from(["bool", "i32", "i64", "f64", "handle", "string"]), min_size=1, max_size=4),
       st.data())
def test_compiled_encoders_agree_with_encode_tagged(kinds, data):
    values = []
    for k in kinds:
        values.append(data.draw({"bool": st.booleans(), "i32": st.integers(-2**31, 2**31 - 1),
                                 "i64": st.integers(-2**63, 2**63 - 1), "f64": st.floats(allow_nan=False),
                                 "handle": st.builds(tlv.Handle, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
                                 "string": st.text(max_size=8) | st.just("a\x00")}[k]))

    def outcome(encode, *args):  # the bytes, or the code of the refusal (a NUL in a string)
        try:
            return encode(*args)
        except DiagnosticError as exc:
            return exc.code
    assert outcome(tlv.compile_encoder(kinds), *values) == outcome(tlv.encode_tagged, list(zip(kinds, values)))


@pytest.mark.parametrize("mode", ["api", "abi"])
def test_unload_while_other_threads_call(tmp_path, mode):
    """Threads keep calling while the host unloads: every call either answers or is refused
    with ffi.plugin.unloaded; none reaches the unloaded library."""
    h = open_host(tmp_path, ("counterbox", "probebox"), mode=mode)
    counter, probe = h.create("CounterBox"), h.create("ProbeBox")
    started, outcomes = threading.Barrier(4), []

    def work():
        started.wait()
        answered = 0
        try:
            while True:
                assert isinstance(counter.get(), int)
                assert probe.blob(300) == b"Z" * 300
                answered += 1
        except DiagnosticError as exc:
            outcomes.append((exc.code, answered))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    started.wait()
    h.close()
    for t in threads:
        t.join()
    assert [code for code, _ in outcomes] == ["ffi.plugin.unloaded"] * 3


def test_without_a_compiler_the_host_falls_back_to_abi_mode(tmp_path):
    """A process that finds no C compiler (PATH without one, no CC) loads the already-built
    plugins in ABI mode and behaves the same."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    config = make_config(tmp_path, ("counterbox", "probebox"))      # built here, with the compiler
    script = f"""
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import PluginHost, default_mode
from reml_wasm.connectors.plugin.call import api_unavailable_reason
from reml_wasm.audit import DiagnosticError
assert default_mode() == "abi", default_mode()
assert "compiler" in api_unavailable_reason(), api_unavailable_reason()
with PluginHost(nyash_toml.load({str(config)!r})) as host:
    assert {{lib.mode for lib in host.libraries.values()}} == {{"abi"}}
    c = host.create("CounterBox")
    start = c.get()
    assert c.inc() == start + 1
    try:
        host.create("ProbeBox").call("lying_length")
    except DiagnosticError as exc:
        print(exc.code)
    try:
        PluginHost(nyash_toml.load({str(config)!r}), mode="api")
    except DiagnosticError as exc:
        print(exc.code)
"""
    env = {k: v for k, v in os.environ.items() if k != "CC"}
    env["PATH"] = str(Path(sys.executable).parent)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["tlv.result_overflow", "ffi.api.unavailable"]
