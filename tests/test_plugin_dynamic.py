"""The dynamic-library connector over real libraries built by the C compiler: the version
check (both outcomes), the vtable and invoke paths on the same C functions in both call
modes, effects and the audit."""

import threading

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import bid_samples, plugin_samples
from reml_wasm.audit import AuditSink, DiagnosticError, read_audit_log
from reml_wasm.bid import yaml_loader
from reml_wasm.connectors import Connector
from reml_wasm.connectors.plugin import default_mode
from reml_wasm.connectors.plugin.dynamic import DynamicLibraryConnector
from reml_wasm.tlv import Handle

MODES = ["abi"] + (["api"] if default_mode() == "api" else [])
WAYS = [(m, p) for m in MODES for p in ("vtable", "invoke")]


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    return yaml_loader.load(bid_samples.write_bidfile(tmp_path_factory.mktemp("bid")))


@pytest.fixture(scope="module", params=WAYS, ids=["-".join(w) for w in WAYS])
def connector(request, document):
    mode, path = request.param
    with DynamicLibraryConnector(document, mode=mode, path=path) as c:
        yield c


def test_version_check_accepts_the_same_version(document):
    with DynamicLibraryConnector(document, mode="abi") as c:
        assert [lib.version for lib in c.libraries.values()] == [1]
        assert c.available()


def test_version_check_refuses_another_version(tmp_path):
    doc = yaml_loader.load(bid_samples.write_bidfile(tmp_path, cflags=["-DBIDFILE_VERSION=2"]))
    with pytest.raises(DiagnosticError) as info:
        DynamicLibraryConnector(doc, mode="abi")
    assert info.value.code == "ffi.bid.version_mismatch"
    ext = info.value.diagnostic.extensions
    assert (ext["library_version"], ext["document_version"]) == (2, 1)
    assert "version 2" in str(info.value) and "version 1" in str(info.value)


def test_a_library_without_version_function_is_refused(tmp_path):
    lib = plugin_samples.build_plugin("counterbox")
    (tmp_path / "libc.so").write_bytes(lib.read_bytes())
    doc = yaml_loader.loads(bid_samples.LIAR_YAML.replace("@CASE@", "x").replace("@LIB@", "libc.so"),
                            source=str(tmp_path / "x.yaml"))
    with pytest.raises(DiagnosticError) as info:
        DynamicLibraryConnector(doc, mode="abi")
    assert info.value.code == "ffi.bid.no_version"


def test_missing_library_and_missing_transport(tmp_path):
    doc = yaml_loader.loads(bid_samples.LIAR_YAML.replace("@CASE@", "x").replace("@LIB@", "nowhere.so"),
                            source=str(tmp_path / "x.yaml"))
    with pytest.raises(DiagnosticError) as info:
        DynamicLibraryConnector(doc)
    assert info.value.code == "ffi.plugin.load_failed"
    doc = yaml_loader.loads("version: 1\ninterfaces:\n  - name: a.b\n    methods: []\n")
    with pytest.raises(DiagnosticError) as info:
        DynamicLibraryConnector(doc)
    assert info.value.code == "ffi.bid.transport"


def test_one_library_for_three_interfaces(document):
    with DynamicLibraryConnector(document, mode="abi") as c:
        assert len(c.libraries) == 1
        assert set(c.interfaces) == {"nyash.file", "nyash.math", "nyash.counter"}
        assert len({id(lib) for lib in c.interfaces.values()}) == 1
        assert set(c.vtables) == {"nyash.file", "nyash.math", "nyash.counter"}


def test_connector_protocol(document):
    c = DynamicLibraryConnector(document, mode="abi")
    assert isinstance(c, Connector) and c.name == "dynamic_library"
    add = c.bind("nyash.math#add")
    with pytest.raises(DiagnosticError) as info:
        c.bind("nyash.math#nope")
    assert info.value.code == "ffi.bid.no_method"
    c.close()
    c.close()
    assert not c.available()
    with pytest.raises(DiagnosticError) as info:
        c.bind("nyash.math#add")
    assert info.value.code == "ffi.plugin.unloaded"
    assert add(1, 2) == 3          # a function kept after close never jumps into unmapped code


def test_serves_every_type(connector, tmp_path):
    c = connector
    expected_path = "invoke" if c.path == "invoke" else "vtable"
    assert {c.served_by(k) for k in c.keys()} == {expected_path}
    assert c.call("nyash.math#add", 2, 40) == 42
    assert c.call("nyash.math#add", 2**31 - 1, 1) == -(2**31)       # C wrap-around, both paths
    assert c.call("nyash.math#scale", 1.5, -2.0) == -3.0
    assert c.call("nyash.math#length", "héllo") == 6
    assert c.call("nyash.math#negate", True) is False
    assert c.call("nyash.math#negate", False) is True
    text = "ü" * 1000                                               # bigger than the first buffer
    assert c.call("nyash.math#echo", text) == text
    path = str(tmp_path / "f.txt")
    h = c.call("nyash.file#open", path, "w")
    assert isinstance(h, Handle) and h.type_id == 16 and h.instance_id >= 1
    assert c.call("nyash.file#write", h, b"abc\x00def") == 7
    assert c.call("nyash.file#close", h) is None
    h = c.call("nyash.file#open", path, "r")
    assert c.call("nyash.file#read", h) == b"abc\x00def"
    c.call("nyash.file#close", h)


def test_errors_are_coded_on_both_paths(connector, tmp_path):
    c = connector
    for args, code in [(("x", 1), "tlv.invalid_args"), ((2**31, 1), "tlv.invalid_args"), ((1,), "tlv.invalid_args"),
                       ((1.5, 2), "tlv.invalid_args")]:
        with pytest.raises(DiagnosticError) as info:
            c.call("nyash.math#add", *args)
        assert info.value.code == code, args
    with pytest.raises(DiagnosticError) as info:
        c.call("nyash.math#negate", 1)
    assert info.value.code == "tlv.invalid_args"
    with pytest.raises(DiagnosticError) as info:
        c.call("nyash.math#echo", "\ud800")
    assert info.value.code == "tlv.invalid_utf8"
    with pytest.raises(DiagnosticError) as info:
        c.call("nyash.file#open", str(tmp_path / "missing" / "f"), "r")
    assert info.value.code == "tlv.plugin_error"
    with pytest.raises(DiagnosticError) as info:
        c.call("nyash.file#read", Handle(16, 250))
    assert info.value.code == "tlv.invalid_handle"


@settings(max_examples=40, deadline=None)
@given(a=st.integers(-(2**31), 2**31 - 1), b=st.integers(-(2**31), 2**31 - 1), s=st.text(max_size=200))
def test_vtable_and_invoke_agree(document, a, b, s):
    with DynamicLibraryConnector(document, mode="abi", path="vtable") as fast, \
            DynamicLibraryConnector(document, mode="abi", path="invoke") as tlv_way:
        for key, args in [("nyash.math#add", (a, b)), ("nyash.math#echo", (s,)), ("nyash.math#length", (s,)),
                          ("nyash.math#scale", (float(a), 0.5))]:
            assert _outcome(fast.call, key, *args) == _outcome(tlv_way.call, key, *args)


def _outcome(call, key, *args):
    """The value a call returns, or the code of the error it raises (a NUL in a string, say)."""
    try:
        return ("ok", call(key, *args))
    except DiagnosticError as exc:
        return ("error", exc.code)


def test_effects_reach_the_model(document):
    math = document.interface("nyash.math")
    assert {f.name: f.effects for f in math.functions}["add"] == ("pure",)
    assert {f.name: f.effects for f in document.interface("nyash.counter").functions}["bump"] == ("mut",)


@pytest.mark.parametrize("path", ["vtable", "invoke"])
def test_pure_calls_are_memoised_only_when_asked(document, path):
    with DynamicLibraryConnector(document, mode="abi", path=path, memoise=True) as c:
        before = c.call("nyash.math#count")
        assert c.call("nyash.math#add", 20, 22) == 42
        assert c.call("nyash.math#add", 20, 22) == 42
        assert c.call("nyash.math#count") == before + 1        # `count` is io: never memoised
    with DynamicLibraryConnector(document, mode="abi", path=path) as c:
        before = c.call("nyash.math#count")
        c.call("nyash.math#add", 20, 22)
        c.call("nyash.math#add", 20, 22)
        assert c.call("nyash.math#count") == before + 2


@pytest.mark.parametrize("mode", MODES)
def test_mut_calls_on_one_resource_are_serialised(document, mode):
    """`bump` is a slow read-modify-write in C; cffi lets threads into it at once unless
    the host serialises calls on the same counter."""
    with DynamicLibraryConnector(document, mode=mode, path="vtable") as c:
        h = c.call("nyash.counter#make")
        bump = c.bind("nyash.counter#bump")

        def work():
            for _ in range(40):
                bump(h)
        threads = [threading.Thread(target=work) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert c.call("nyash.counter#value", h) == 160


def test_audit_records_carry_the_effect(document, tmp_path):
    log = tmp_path / "audit.jsonl"
    with AuditSink(log) as sink, DynamicLibraryConnector(document, mode="abi", audit=sink) as c:
        c.call("nyash.math#add", 1, 2)
        with pytest.raises(DiagnosticError):
            c.call("nyash.file#open", str(tmp_path / "none" / "x"), "r")
    first, second = read_audit_log(log)
    assert first["metadata"]["ffi"]["status"] == "success"
    assert first["metadata"]["ffi"]["effect_flags"] == ["ffi", "pure", "unsafe"]
    assert first["metadata"]["ffi"]["symbol"] == "nyash.math#add"
    assert first["metadata"]["ffi.bid"] == {"interface": "nyash.math", "method": "add", "effects": ["pure"],
                                            "path": "vtable"}
    assert second["metadata"]["ffi"]["status"] == "failed"
    assert "io" in second["metadata"]["ffi"]["effect_flags"]
    assert second["diagnostics"][0]["code"] == "tlv.plugin_error"


def test_method_ids_may_be_given(tmp_path):
    text = bid_samples.BIDFILE_YAML.replace("      - name: add\n", "      - name: add\n        method_id: 1\n")
    text = text.replace("      - name: scale\n", "      - name: scale\n        method_id: 1\n")
    doc = yaml_loader.load(bid_samples.write_bidfile(tmp_path, yaml_text=text))
    assert doc.method_ids[("nyash.math", "scale")] == 1
    with DynamicLibraryConnector(doc, mode="abi", path="invoke") as c:
        with pytest.raises(DiagnosticError) as info:     # scale now sends add's id: the plugin says no
            c.call("nyash.math#scale", 1.0, 2.0)
        assert info.value.code == "tlv.invalid_args"


@pytest.mark.parametrize("mode", MODES)
def test_numbers_only_pure_methods_are_the_bare_c_call_unless_checked(document, mode):
    with DynamicLibraryConnector(document, mode=mode) as bare, \
            DynamicLibraryConnector(document, mode=mode, checked=True) as checked:
        add = bare.bind("nyash.math#add")
        assert add(2, 3) == 5
        with pytest.raises(TypeError):                       # cffi's own complaint, no frame of ours
            add("x", 1)
        with pytest.raises(DiagnosticError) as info:         # call() always answers with a code
            bare.call("nyash.math#add", "x", 1)
        assert info.value.code == "tlv.invalid_args"
        with pytest.raises(DiagnosticError) as info:
            checked.bind("nyash.math#add")("x", 1)
        assert info.value.code == "tlv.invalid_args"
        with pytest.raises(DiagnosticError) as info:         # anything but numbers: always coded
            bare.bind("nyash.math#length")(5)
        assert info.value.code == "tlv.invalid_args"


@pytest.mark.parametrize("mode", MODES)
def test_two_copies_of_one_library_keep_their_own_state(tmp_path, mode):
    """Two copies of the same file are two libraries: each connector's calls reach its own
    copy (in API mode the second copy cannot share the first one's compiled callers)."""
    first = yaml_loader.load(bid_samples.write_bidfile(tmp_path / "one"))
    second = yaml_loader.load(bid_samples.write_bidfile(tmp_path / "two"))
    with DynamicLibraryConnector(first, mode=mode) as a, DynamicLibraryConnector(second, mode=mode) as b:
        a_before, b_before = a.call("nyash.math#count"), b.call("nyash.math#count")
        for _ in range(3):
            assert a.call("nyash.math#add", 1, 2) == 3
        assert b.call("nyash.math#echo", "x") == "x"
        assert a.call("nyash.math#count") == a_before + 3
        assert b.call("nyash.math#count") == b_before + 1


def test_a_method_missing_from_the_vtable_falls_back_to_invoke(tmp_path):
    text = bid_samples.BIDFILE_YAML.replace("      - name: count\n", "      - name: extra\n        returns: i32\n"
                                            "      - name: count\n")
    doc = yaml_loader.load(bid_samples.write_bidfile(tmp_path, yaml_text=text))
    with DynamicLibraryConnector(doc, mode="abi") as c:
        assert c.served_by("nyash.math#add") == "vtable"
        assert c.served_by("nyash.math#extra") == "invoke"
        with pytest.raises(DiagnosticError) as info:         # method id 6 reaches the plugin: "count"
            c.call("nyash.math#extra")                       # answers i64, not the declared i32
        assert info.value.code == "tlv.invalid_type"
    with pytest.raises(DiagnosticError) as info:
        DynamicLibraryConnector(doc, mode="abi", path="vtable")
    assert info.value.code == "ffi.bid.no_vtable"
