import gc
import threading

import pytest
from plugin_support import make_config, open_host

from reml_wasm import tlv
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import BoxFactoryRegistry, PluginHost, PluginLibrary
from reml_wasm.values import Err, Ok


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    h = open_host(tmp_path_factory.mktemp("plugins"))
    yield h
    h.close()


def code(fn, *args):
    with pytest.raises(DiagnosticError) as info:
        fn(*args)
    return info.value.code


# --- FileBox ---------------------------------------------------------------------------------

def test_filebox_write_then_read(host, tmp_path):
    path = str(tmp_path / "a.txt")
    with host.create("FileBox") as f:
        assert f.type_id == 6 and f.instance_id >= 1
        assert f.open(path, "w") is None
        assert f.write("héllo ") == len("héllo ".encode())
        assert f.write(b"\x00\xff") == 2
        assert f.close() is None
        f.open(path, "r")
        assert f.read() == "héllo ".encode() + b"\x00\xff"
        f.close()
    assert (tmp_path / "a.txt").read_bytes() == "héllo ".encode() + b"\x00\xff"


def test_filebox_modes(host, tmp_path):
    path = str(tmp_path / "m.txt")
    with host.create("FileBox") as f:
        f.open(path, "w"); f.write("one"); f.close()
        f.open(path, "a"); f.write("two"); f.close()
        f.open(path, "r"); assert f.read() == b"onetwo"
        assert code(f.write, "x") == "tlv.plugin_error"      # read-only descriptor
        f.close()
        f.open(path, "r+"); f.write("ON"); assert f.read() == b"ONetwo"; f.close()
        f.open(str(tmp_path / "new-rw.txt"), "rw"); f.write("z"); assert f.read() == b"z"; f.close()
        f.open(path, "w"); f.close()
        f.open(path, "r"); assert f.read() == b""; f.close()
        assert code(f.open, path, "x") == "tlv.invalid_args"
        assert code(f.open, str(tmp_path / "missing" / "f"), "r") == "tlv.plugin_error"


def test_filebox_large_read_uses_two_phase_retry(host, tmp_path):
    data = bytes(range(256)) * 200         # 51 200 bytes, far above the first buffer
    (tmp_path / "big").write_bytes(data)
    with host.create("FileBox") as f:
        f.open(str(tmp_path / "big"), "r")
        assert f.read() == data
        f.close()


def test_copy_from_and_clone_self(host, tmp_path):
    src, dst = str(tmp_path / "src"), str(tmp_path / "dst")
    (tmp_path / "src").write_bytes(b"payload")
    with host.create("FileBox") as a, host.create("FileBox") as b:
        a.open(src, "r")
        b.open(dst, "w")
        assert b.copyFrom(a) is None
        b.close()
        assert (tmp_path / "dst").read_bytes() == b"payload"
        clone = a.cloneSelf()
        assert clone.box_name == "FileBox" and clone.instance_id not in (a.instance_id, b.instance_id)
        assert clone.read() == b"payload"
        clone.finalise()
        assert code(b.copyFrom, "not a box") == "tlv.invalid_args"
        assert code(b.copyFrom, tlv.Handle(6, a.instance_id)) == "tlv.invalid_args"   # a raw handle is no box
        assert code(b.copyFrom, clone) == "tlv.invalid_handle"                        # finalised box


def test_arguments_checked_against_config(host):
    with host.create("FileBox") as f:
        assert code(f.open, "only-one") == "tlv.invalid_args"
        assert code(f.read, 1) == "tlv.invalid_args"
        assert code(f.call, "nonexistent") == "tlv.invalid_method"
        with pytest.raises(AttributeError):
            f.nonexistent
        assert code(f.call, "birth") == "tlv.invalid_method"


# --- CounterBox: singleton -------------------------------------------------------------------

def test_counterbox_is_a_shared_singleton(host):
    a = host.create("CounterBox")
    b = host.create("CounterBox")
    assert a is b
    before = a.get()
    assert a.inc() == before + 1
    assert b.get() == before + 1
    a.finalise()                       # singletons live until unload
    with a:
        pass
    assert b.inc() == before + 2


def test_calls_are_safe_across_threads(host):
    counter = host.create("CounterBox")
    start = counter.get()

    def work():
        for _ in range(300):
            counter.inc()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.get() == start + 1200


# --- lifecycle: fini exactly once ---------------------------------------------------------------

def fini_count(host):
    probe = host.create("ProbeBox")
    n = probe.fini_count()
    probe.finalise()
    return n - 0


def test_fini_exactly_once_explicit_and_context_manager(host):
    base = fini_count(host)                         # counts the probe used for counting too
    p = host.create("ProbeBox")
    p.finalise()
    p.finalise()
    p.fini()                                        # the config's `fini` method is finalise
    assert fini_count(host) == base + 2             # p, plus the previous counting probe
    with host.create("ProbeBox") as q:
        pass
    q.finalise()
    assert fini_count(host) == base + 4
    assert code(q.fini_count) == "tlv.invalid_handle"
    assert not q.alive


def test_fini_on_garbage_collection(host):
    base = fini_count(host)
    p = host.create("ProbeBox")
    del p
    gc.collect()
    assert fini_count(host) == base + 2


def test_returned_handles_become_boxes_without_double_fini(host):
    base = fini_count(host)
    p = host.create("ProbeBox")
    same = p.self_handle()
    assert same is p                                 # the live proxy, not a second owner
    other = p.new_handle()
    assert other.box_name == "ProbeBox" and other.instance_id != p.instance_id
    assert other.fini_count() >= base
    del same, other
    gc.collect()
    p.finalise()
    assert fini_count(host) == base + 3             # counting probe, new handle, p: once each


def test_returns_result(host):
    with host.create("ProbeBox") as p:
        assert p.fails() == Err("probe failed")
        assert p.counted() == Ok(p.birth_count())
        d = pytest.raises(DiagnosticError, p.fails_plain).value
        assert d.code == "tlv.plugin_error" and "probe failed" in str(d)
        assert d.diagnostic.extensions["return_code"] == -5


def test_echo_round_trips_every_kind(host):
    with host.create("ProbeBox") as p:
        assert p.echo(1, "two") == (1, "two")
        assert p.echo(True, b"\x00") == (True, b"\x00")
        assert p.echo(2.5, 1 << 40) == (2.5, 1 << 40)
        assert p.echo(None, "x" * 60000) == (None, "x" * 60000)


def test_shutdown_and_fini_on_unload(tmp_path, monkeypatch):
    mark = tmp_path / "shutdown.txt"
    monkeypatch.setenv("NYASH_PROBE_SHUTDOWN_MARK", str(mark))
    h = open_host(tmp_path, ("probebox",))
    a, b = h.create("ProbeBox"), h.create("ProbeBox")
    h.close()
    assert mark.read_text() == "births=2 finis=2"
    assert not a.alive
    assert code(a.fini_count) == "ffi.plugin.unloaded"
    a.finalise()                                    # nothing left to do: no error, no call
    del b
    gc.collect()


# --- loading ----------------------------------------------------------------------------------

def library_error(tmp_path, cflags):
    cfg = nyash_toml.load(make_config(tmp_path, ("probebox",), cflags={"probebox": cflags}))
    with pytest.raises(DiagnosticError) as info:
        PluginHost(cfg)
    return info.value


def test_init_refusal_is_honoured(tmp_path):
    assert library_error(tmp_path, ["-DPROBE_REFUSE_INIT"]).code == "ffi.plugin.init_refused"


def test_abi_is_checked(tmp_path):
    assert library_error(tmp_path, ["-DPROBE_ABI=2"]).code == "ffi.plugin.abi_mismatch"


def test_invoke_is_required(tmp_path):
    assert library_error(tmp_path, ["-DPROBE_NO_INVOKE"]).code == "ffi.plugin.missing_invoke"


def test_box_abi_version_must_match(tmp_path):
    cfg_file = make_config(tmp_path, ("counterbox",))
    cfg_file.write_text(cfg_file.read_text().replace("type_id = 7", "type_id = 7\nabi_version = 2"))
    with pytest.raises(DiagnosticError) as info:
        PluginHost(nyash_toml.load(cfg_file))
    assert info.value.code == "ffi.plugin.abi_mismatch"


def test_not_a_library(tmp_path):
    bogus = tmp_path / "libbogus.so"
    bogus.write_text("not ELF")
    with pytest.raises(DiagnosticError) as info:
        PluginLibrary("libbogus.so", bogus)
    assert info.value.code == "ffi.plugin.load_failed"


def test_explicit_paths_work_too(tmp_path):
    with open_host(tmp_path, ("counterbox",), with_paths=True) as h:
        assert h.create("CounterBox").inc() == 1


# --- registry -----------------------------------------------------------------------------------

def test_registry_prefers_plugins_then_builtins(host):
    reg = BoxFactoryRegistry([host])
    reg.register("FileBox", lambda: "python FileBox")
    reg.register("StringBox", lambda text="": f"StringBox({text})")
    assert reg.provider("FileBox") == "plugin"
    f = reg.create("FileBox")
    assert f.box_name == "FileBox"
    f.finalise()
    assert reg.provider("StringBox") == "builtin"
    assert reg.create("StringBox", "hi") == "StringBox(hi)"
    with pytest.raises(DiagnosticError) as info:
        reg.create("NoSuchBox")
    assert info.value.code == "ffi.plugin.unknown_box" and "StringBox" in str(info.value)
    assert code(reg.create, "FileBox", "arg") == "tlv.invalid_args"
    assert code(host.create, "NoSuchBox") == "ffi.plugin.unknown_box"
