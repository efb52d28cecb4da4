"""wasi:sockets and wasi:http without a network grant, the same on both paths.

The guest (native/wasi-net: Python built by componentize-py against the real WASI 0.2.12
packages of tests/wit_corpus/real/jco/0.2.12) tries every socket operation and every
wasi:http function it can reach and reports each answer as a line.  The reference path
runs wasmtime's own WASI and wasi:http (its outgoing handler replaced by one that refuses);
the fast path runs the Python host (connectors/component/wasi/).  Every line must be equal,
and hypothesis sends generated header fields and request parts through both."""

import shutil

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reml_wasm import toolchain
from reml_wasm.connectors.component import Component, Sandbox, WasiConfig

ROOT = toolchain.PROJECT_ROOT
PATHS = ("fast", "wasmtime")
CHECKS = "reml:netcheck/checks@0.1.0"
WASI_PACKAGES = ("io", "clocks", "random", "cli", "filesystem", "sockets", "http")


@pytest.fixture(scope="module")
def net_guest(tmp_path_factory):
    wit = tmp_path_factory.mktemp("netcheck") / "wit"
    (wit / "deps").mkdir(parents=True)
    shutil.copy(ROOT / "native/wasi-net/world.wit", wit / "world.wit")
    for name in WASI_PACKAGES:
        (wit / "deps" / f"wasi-{name}").mkdir()
        shutil.copy(ROOT / f"tests/wit_corpus/real/jco/0.2.12/wasi-{name}/package.wit",
                    wit / "deps" / f"wasi-{name}" / "package.wit")
    return Component.from_file(toolchain.build_python_component(ROOT / "native/wasi-net", "app", wit, "netcheck"))


@pytest.fixture(scope="module")
def instances(net_guest):
    return {path: net_guest.instantiate(sandbox=Sandbox(wasi=WasiConfig()), path=path) for path in PATHS}


def _both(instances, name, *args):
    outs = {path: inst.call(f"{CHECKS}#{name}", *args) for path, inst in instances.items()}
    assert outs["fast"] == outs["wasmtime"], "\n".join(
        f"{a}  |  {b}" for a, b in zip(outs["fast"], outs["wasmtime"]) if a != b)
    return outs["fast"]


def test_the_fast_path_serves_it_without_a_fallback(instances):
    assert instances["fast"].path == "fast" and instances["fast"].diagnostics == []


def test_the_guest_imports_sockets_and_http(net_guest):
    keys = [item.key for item in net_guest.world.imports]
    assert "wasi:http/types@0.2.12" in keys and "wasi:http/outgoing-handler@0.2.12" in keys
    assert "wasi:sockets/tcp-create-socket@0.2.12" in keys
    assert "wasi:cli/stdout@0.2.9" in keys  # componentize-py's own runtime: two WASI versions in one world


def test_sockets_answer_as_wasmtime_without_a_network(instances):
    lines = _both(instances, "sockets")
    assert [ln for ln in lines if "create" in ln] == [
        f"{kind} create: err <ErrorCode.ACCESS_DENIED: 1>" for kind in ("tcp4", "tcp6", "udp4", "udp6")]
    lookups = [ln for ln in lines if ln.startswith("lookup")]
    assert len(lookups) == 6
    assert all(ln.endswith("err <ErrorCode.PERMANENT_RESOLVER_FAILURE: 20>") for ln in lookups)


def test_libc_sockets_fail_as_on_wasmtime(instances):
    lines = _both(instances, "libc-sockets")
    assert lines == ["socket stream: oserror 2 PermissionError", "socket dgram: oserror 2 PermissionError",
                     "getaddrinfo: oserror -4 gaierror"]  # EAI_FAIL: a permanent resolver failure


def test_http_types_work_locally_and_requests_are_denied(instances):
    lines = _both(instances, "http")
    assert len(lines) > 250 and not any("stopped by" in ln for ln in lines)
    expect = {
        "from-list 'connection'=b'x'": "err HeaderError_Forbidden()",
        "from-list 'bad name'=b'1'": "err HeaderError_InvalidSyntax()",
        "entries after": "ok [('x-b', b'1'), ('x-b', b'2'), ('x-a', b'1'), ('x-a', b'2'), ('x-a', b'3')]",
        "headers append": "err HeaderError_Immutable()",
        "headers set forbidden": "err HeaderError_Forbidden()",
        "set-authority 'host:99999'": "err None",
        "response finish (length 3, wrote 5)": "err ErrorCode_HttpResponseBodySize(value=5)",
        "to-debug-string": "ok 'ErrorCode::HttpResponseBodySize(Some(5))'",
        "handle after body": "err ErrorCode_HttpRequestDenied()",
        "handle 'example.com'": "err ErrorCode_HttpRequestDenied()",
        "connect_timeout now": "ok 5000000000",
    }
    found = dict(ln.split(": ", 1) for ln in lines)
    assert {k: found.get(k) for k in expect} == expect


HEADER_NAMES = st.one_of(
    st.sampled_from(["content-type", "X-A", "x-a", "Host", "te", "upgrade", "content-length", "Content-Length",
                     "bad name", "", "proxy-authorization", "é"]),
    st.text(st.characters(max_codepoint=0xff, blacklist_categories=("Cs",)), min_size=0, max_size=6))
HEADER_VALUES = st.one_of(
    st.sampled_from([b"1", b"007", b"+5", b" 5", b"", b"18446744073709551615", b"18446744073709551616",
                     b"\tx", b"a\nb", b"\x7f", b"\xff"]),
    st.binary(max_size=6))


@settings(max_examples=25, deadline=None)
@given(entries=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=5))
@example(entries=[("x\n", b"1"), ("content-length", b"5\n"), ("X-Y", b"1"), ("x-y", b"2")])
def test_generated_fields_alike_on_both_paths(instances, entries):
    _both(instances, "probe-fields", entries)


AUTHORITY_TEXT = st.text(st.sampled_from("ab:@[]%1.-_~+/ é!\n"), max_size=8)
PATH_TEXT = st.text(st.sampled_from("/?#ab %\"{}`^\\\x7fé*\n"), max_size=8)


@settings(max_examples=25, deadline=None)
@given(method=st.text(st.characters(max_codepoint=0xff, blacklist_categories=("Cs",)), max_size=5),
       path=st.none() | PATH_TEXT, scheme=st.none() | st.text(st.sampled_from("ab+-.:1 H\n"), max_size=5),
       authority=st.none() | AUTHORITY_TEXT)
@example(method="GET\n", path="/a\n", scheme="ab\n", authority="h:8\n")
def test_generated_request_parts_alike_on_both_paths(instances, method, path, scheme, authority):
    _both(instances, "probe-request", method, path, scheme, authority)


def _outcome(comp, path, name, *args):
    inst = comp.instantiate(sandbox=Sandbox(wasi=WasiConfig()), path=path)  # a trap ends an instance
    try:
        return inst.call(f"{CHECKS}#{name}", *args)
    except Exception as exc:  # noqa: BLE001 - compared across the paths
        return (getattr(exc, "code", type(exc).__name__), str(exc))


@pytest.mark.parametrize("entries, fits", [
    ([("x", b"v" * 130999)], True),  # 1 + 32 + 130999 + 40 = 128 KiB
    ([("x", b"v" * 131000)], False),
    ([("x", b"v" * 130959), ("x", b"")], True),
    ([("x", b"v" * 130960), ("x", b"")], False),
    ([(f"h{i}", b"1") for i in range(1800)], False),
])
def test_fields_size_limit_alike_on_both_paths(net_guest, entries, fits):
    outs = [_outcome(net_guest, path, "probe-fields", entries) for path in PATHS]
    assert outs[0] == outs[1]
    assert isinstance(outs[0], list) == fits
    if not fits:
        assert outs[0] == ("cabi.trap", f"error[cabi.trap]: {CHECKS}#probe-fields: wasm trap: total size of fields "
                                        "exceeds limit")


def test_inspect_of_the_guest_equals_wasm_tools(net_guest, inspect_equals_wasm_tools):
    inspect_equals_wasm_tools(net_guest.source)


def test_a_callers_outgoing_handler_replaces_the_refusal(net_guest):
    from reml_wasm.values import Err, Variant
    calls = []

    def handle(request, options):
        calls.append(options is None)
        return Err(Variant("connection-refused"))
    imports = {"wasi:http/outgoing-handler@0.2.12": {"handle": handle}}
    outs = []
    for path in PATHS:
        inst = net_guest.instantiate(imports=imports, sandbox=Sandbox(wasi=WasiConfig()), path=path)
        outs.append([ln for ln in inst.call(f"{CHECKS}#http") if ln.startswith("handle")])
    assert outs[0] == outs[1] and len(outs[0]) == 5
    assert all(ln.endswith("err ErrorCode_ConnectionRefused()") for ln in outs[0])
    assert calls == [True, True, True, True, False] * 2
