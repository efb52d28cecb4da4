"""A deliberately bad plugin (native/plugins/probebox.c): every kind of garbage result is a
coded tlv.* error, never a crash, and the host keeps working afterwards."""

import pytest
from plugin_support import open_host

from reml_wasm.audit import DiagnosticError


@pytest.fixture(scope="module", params=["api", "abi"])
def probe(tmp_path_factory, request):
    """The bad plugin, loaded through each call mode (compiled shim and cffi ABI mode)."""
    h = open_host(tmp_path_factory.mktemp(f"probe-{request.param}"), ("probebox",), mode=request.param)
    assert {lib.mode for lib in h.libraries.values()} == {request.param}
    yield h, h.create("ProbeBox")
    h.close()


@pytest.mark.parametrize("method, code, rc", [
    ("wrong_size", "tlv.bad_size", -4),
    ("unknown_tag", "tlv.invalid_type", -2),
    ("reserved_tag", "tlv.invalid_type", -2),
    ("past_end", "tlv.truncated", -4),
    ("short_argc", "tlv.truncated", -4),
    ("tiny", "tlv.truncated", -4),
    ("trailing", "tlv.trailing_bytes", -4),
    ("bad_version", "tlv.version_mismatch", -9),
    ("bad_utf8", "tlv.invalid_utf8", -7),
    ("lying_length", "tlv.result_overflow", -5),
    ("always_short", "tlv.short_buffer", -1),
    ("short_no_growth", "tlv.short_buffer", -1),
    ("huge", "tlv.out_of_memory", -6),
    ("odd_code", "tlv.plugin_error", -77),   # the raw code is kept
])
def test_garbage_results_are_coded_errors(probe, method, code, rc):
    host, box = probe
    with pytest.raises(DiagnosticError) as info:
        box.call(method)
    assert info.value.code == code
    assert info.value.diagnostic.extensions["return_code"] == rc
    assert box.birth_count() >= 1          # the library still answers


@pytest.mark.parametrize("box, code", [("ShortBirthBox", "tlv.bad_size"), ("ZeroBirthBox", "tlv.invalid_handle")])
def test_bad_births(probe, box, code):
    host, _ = probe
    with pytest.raises(DiagnosticError) as info:
        host.create(box)
    assert info.value.code == code


def test_blob_sizes_around_the_buffer(probe):
    _, box = probe
    for n in (0, 1, 247, 248, 249, 255, 256, 4096, 65535):
        assert box.blob(n) == b"Z" * n


def test_success_without_result_bytes_is_void(probe):
    _, box = probe
    assert box.empty_ok() is None


def test_threads_and_garbage_collection_together(probe):
    """Boxes dropped (and finalised by GC) while other threads call into the same library:
    every birth gets exactly one fini and no result is mixed up."""
    import gc
    import threading

    host, box = probe
    births0, finis0 = box.birth_count(), box.fini_count()
    errors = []

    def work(seed):
        try:
            for i in range(60):
                b = host.create("ProbeBox")
                n = 200 + (seed * 61 + i * 7) % 600
                assert b.blob(n) == b"Z" * n
                assert b.echo(i, "t%d" % seed) == (i, "t%d" % seed)
                if i % 3 == 0:
                    b.finalise()
                del b
                if i % 10 == 0:
                    gc.collect()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    gc.collect()
    assert not errors
    births = box.birth_count() - births0
    assert births == 240
    assert box.fini_count() - finis0 == births
