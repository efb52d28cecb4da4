"""The fast path's WASI host, bound to the worlds real components import (componentize-py:
wasi 0.2.9 with sockets; componentize-js: 0.2.12 with wasi:http 0.2.10): what each
interface answers, called as the fast path calls it (reml values in, reml values out)."""

import time

import pytest

from reml_wasm import cabi, toolchain
from reml_wasm.connectors.component import Component, WasiConfig
from reml_wasm.connectors.component.wasi import wasi_imports, wasi_interface
from reml_wasm.values import Err, Ok, Record, Variant

ROOT = toolchain.PROJECT_ROOT
WIT = ROOT / "wit" / "wasi-real"


@pytest.fixture(scope="module")
def py_world():
    return Component.from_file(toolchain.build_python_component(ROOT / "native/wasi-real/py", "app", WIT,
                                                                "real")).world


@pytest.fixture(scope="module")
def js_world():
    return Component.from_file(toolchain.build_js_component(ROOT / "native/wasi-real/js/app.js", WIT,
                                                            "real")).world


def _iface(imports, name):
    [key] = [k for k in imports if wasi_interface(k) == name]
    return imports[key]


def test_interface_names_match_every_0_2_version():
    assert wasi_interface("wasi:cli/stdout@0.2.0") == "cli/stdout"
    assert wasi_interface("wasi:io/streams@0.2.12") == "io/streams"
    assert wasi_interface("wasi:io/streams@0.3.0") is None
    assert wasi_interface("reml:ctest/host@0.1.0") is None


def test_random_and_clocks(py_world, js_world):
    imports, _ = wasi_imports(js_world, WasiConfig())
    assert 0 <= _iface(imports, "random/random")["get-random-u64"]() < 2**64
    imports, _ = wasi_imports(py_world, WasiConfig())
    random = _iface(imports, "random/random")
    assert len(random["get-random-bytes"](33)) == 33 and random["get-random-bytes"](0) == b""
    assert random["get-random-bytes"](16) != random["get-random-bytes"](16)
    with pytest.raises(cabi.Trap):
        random["get-random-bytes"](2**40)
    mono = _iface(imports, "clocks/monotonic-clock")
    a, b = mono["now"](), mono["now"]()
    assert 0 <= a <= b
    wall = _iface(imports, "clocks/wall-clock")["now"]()
    assert isinstance(wall, Record) and abs(wall.seconds - time.time()) < 5 and 0 <= wall.nanoseconds < 10**9
    pollable = mono["subscribe-duration"](10**6)  # 1 ms
    poll = _iface(imports, "io/poll")
    borrowed = cabi.Resource(pollable.type, pollable.rep, own=False)
    t0 = time.monotonic_ns()
    poll["[method]pollable.block"](borrowed)
    assert time.monotonic_ns() >= t0 and poll["poll"]([borrowed]) == [0]


def test_streams_capture_and_close(py_world):
    out = bytearray()
    imports, host = wasi_imports(py_world, WasiConfig(stdout=out.extend, stdin=b"abc"))
    stream = _iface(imports, "cli/stdout")["get-stdout"]()
    assert isinstance(stream, cabi.Resource)
    streams = _iface(imports, "io/streams")
    borrowed = cabi.Resource(stream.type, stream.rep, own=False)
    assert streams["[method]output-stream.check-write"](borrowed) == Ok(1 << 20)
    assert streams["[method]output-stream.blocking-write-and-flush"](borrowed, b"hello") == Ok(None)
    assert bytes(out) == b"hello"
    stdin = _iface(imports, "cli/stdin")["get-stdin"]()
    reading = cabi.Resource(stdin.type, stdin.rep, own=False)
    assert streams["[method]input-stream.read"](reading, 2) == Ok(b"ab")
    assert streams["[method]input-stream.read"](reading, 9) == Ok(b"c")
    assert streams["[method]input-stream.read"](reading, 9) == Err(Variant("closed"))
    streams["[dtor]output-stream"](stream.rep)
    assert stream.rep not in host.objects


def test_environment_is_only_what_is_granted(py_world):
    imports, _ = wasi_imports(py_world, WasiConfig(args=["p", "x"], env={"A": "1"}))
    env = _iface(imports, "cli/environment")
    assert env["get-arguments"]() == ["p", "x"] and env["get-environment"]() == [("A", "1")]
    assert _iface(imports, "filesystem/preopens")["get-directories"]() == []


def test_sockets_are_present_and_deny(py_world):
    imports, _ = wasi_imports(py_world, WasiConfig())
    assert _iface(imports, "sockets/tcp-create-socket")["create-tcp-socket"]("ipv4") == Err("access-denied")
    assert _iface(imports, "sockets/udp-create-socket")["create-udp-socket"]("ipv6") == Err("access-denied")
    network = _iface(imports, "sockets/instance-network")["instance-network"]()
    lookup = _iface(imports, "sockets/ip-name-lookup")["resolve-addresses"]
    # what wasmtime answers when name lookup is not allowed, an IP literal included
    for name in ("example.org", "127.0.0.1"):
        assert lookup(cabi.Resource(network.type, network.rep, own=False), name) == Err("permanent-resolver-failure")


def test_http_types_work_and_requests_are_denied(js_world):
    imports, host = wasi_imports(js_world, WasiConfig())
    types = _iface(imports, "http/types")
    fields = types["[static]fields.from-list"]([("X-A", b"1"), ("x-a", b"2")]).value
    borrowed = cabi.Resource(fields.type, fields.rep, own=False)
    assert types["[method]fields.entries"](borrowed) == [("x-a", b"1"), ("x-a", b"2")]
    assert types["[method]fields.append"](borrowed, "connection", b"x") == Err(Variant("forbidden"))
    request = types["[constructor]outgoing-request"](fields)
    assert fields.rep not in host.objects  # the request owns its headers now
    handle = _iface(imports, "http/outgoing-handler")["handle"]
    assert handle(request, None) == Err(Variant("HTTP-request-denied"))
    assert request.rep not in host.objects  # dropped unsent


# --- path resolution under a grant (hypothesis) ----------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from reml_wasm.connectors.component import Preopen  # noqa: E402
from reml_wasm.connectors.component.wasi.filesystem import Descriptor, resolve  # noqa: E402
from reml_wasm.connectors.component.wasi.host import Failure  # noqa: E402

_PARTS = ["..", ".", "", "sub", "f.txt", "out-link", "in-link", "dir-out", "missing"]


@pytest.fixture(scope="module")
def grant_tree(tmp_path_factory):
    import os
    top = tmp_path_factory.mktemp("grant")
    (top / "secret").mkdir()
    (top / "secret" / "s.txt").write_text("secret")
    root = top / "root"
    (root / "sub").mkdir(parents=True)
    (root / "f.txt").write_text("f")
    os.symlink(top / "secret" / "s.txt", root / "out-link")
    os.symlink(top / "secret", root / "sub" / "dir-out")
    os.symlink("../f.txt", root / "sub" / "in-link")
    return str(root)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(_PARTS), min_size=1, max_size=6), absolute=st.booleans(),
       follow=st.booleans())
def test_resolved_paths_never_leave_the_grant(grant_tree, parts, absolute, follow):
    """Any path a guest can write resolves inside the granted directory or is refused."""
    import os
    root = grant_tree
    d = Descriptor(root, Preopen(root, "/data"))
    path = ("/" if absolute else "") + "/".join(parts)
    try:
        target = resolve(d, path, follow)
    except Failure as exc:
        assert exc.value in ("not-permitted", "invalid")
        return
    assert not absolute
    inside = lambda p: p == root or p.startswith(root + os.sep)  # noqa: E731
    if target == root:
        return
    assert inside(os.path.realpath(os.path.dirname(target)))
    if follow or not os.path.islink(target):
        assert inside(os.path.realpath(target))
