"""A hostile plugin (native/plugins/hostilebox.c) in both call modes: it writes into its
const argument buffer (the host's shared bytes such as `tlv.EMPTY` stay intact), answers
a live instance id twice (a coded error, one fini), returns a string with NUL (rejected,
as BID-1 forbids it), and blocks (the optional per-call timeout reports and poisons the
library).  The blocking case runs in a subprocess."""

import subprocess
import sys
from pathlib import Path

import pytest

from reml_wasm import plugin_samples, tlv
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import PluginHost

ROOT = Path(__file__).resolve().parent.parent
MODES = ("api", "abi")
EMPTY = b"\x01\x00\x00\x00"


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return plugin_samples.write_config(tmp_path_factory.mktemp("hostile"), ("hostilebox", "counterbox"))


@pytest.mark.parametrize("mode", MODES)
def test_scribbled_arguments_do_not_corrupt_the_host(config, mode):
    with PluginHost(nyash_toml.load(config), mode=mode) as host:
        box = host.create("HostileBox")
        for _ in range(3):
            assert box.scribble_nothing() is None          # the plugin overwrites tlv.EMPTY's bytes
            assert tlv.EMPTY == EMPTY
            text = "keep me"
            assert box.scribble(text) is None
            assert text == "keep me"
        counter = host.create("CounterBox")
        assert counter.inc() == 1 and counter.get() == 1     # another plugin still gets sound bytes
        assert tlv.decode(tlv.EMPTY) == []


@pytest.mark.parametrize("mode", MODES)
def test_duplicate_instance_id_is_a_coded_error(config, mode):
    with PluginHost(nyash_toml.load(config), mode=mode) as host:
        first = host.create("HostileBox")
        with pytest.raises(DiagnosticError) as exc:
            host.create("HostileBox")
        assert exc.value.code == "ffi.plugin.duplicate_instance"
        assert first.alive and first.fini_count() == 0
        first.finalise()
        assert not first.alive
        again = host.create("HostileBox")                     # the id is free again
        assert again.fini_count() == 1                        # one fini for the first box, not two


@pytest.mark.parametrize("mode", MODES)
def test_nul_in_a_string_result_is_rejected(config, mode):
    with PluginHost(nyash_toml.load(config), mode=mode) as host:
        box = host.create("HostileBox")
        with pytest.raises(DiagnosticError) as exc:
            box.nul()
        assert exc.value.code == "tlv.nul_in_string"
        with pytest.raises(DiagnosticError) as exc:
            box.scribble("a\0b")                              # and the host never sends one
        assert exc.value.code == "tlv.nul_in_string"


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), float("nan"), "1", True])
def test_bad_timeout_is_coded(config, bad):
    with pytest.raises(DiagnosticError) as exc:
        PluginHost(nyash_toml.load(config), timeout=bad)
    assert exc.value.code == "ffi.plugin.bad_timeout"


@pytest.mark.parametrize("mode", MODES)
def test_blocking_plugin_times_out_and_poisons_its_library(config, mode):
    script = f"""
import time
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml
from reml_wasm.connectors.plugin import PluginHost
host = PluginHost(nyash_toml.load({str(config)!r}), mode={mode!r}, timeout=0.5)
box = host.create("HostileBox")
print(box.block(10))                      # a quick call passes
start = time.monotonic()
try:
    box.block(60_000)
except DiagnosticError as exc:
    print(exc.code, round(time.monotonic() - start) <= 5)
try:
    box.fini_count()
except DiagnosticError as exc:
    print(exc.code)
counter = host.create("CounterBox")      # other libraries are unaffected
print(counter.inc())
host.close()
print("closed")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[:5] == ["None", "ffi.plugin.timeout True", "ffi.plugin.poisoned", "1", "closed"]


def test_plugin_tester_gives_up_on_a_stuck_plugin(config):
    """reml-plugin-tester runs every call under a timeout (`--timeout`, default 60 s): a
    method that never returns is reported, and the tester ends instead of hanging."""
    run = [sys.executable, "-c", "import sys; from reml_wasm.cli import plugin_tester_main as m; sys.exit(m())",
           "-c", str(config)]
    proc = subprocess.run([*run, "--timeout", "0.5", "lifecycle", "HostileBox"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "ffi.plugin.timeout" in proc.stdout + proc.stderr
    for bad in ("0", "inf", "soon"):
        proc = subprocess.run([*run, "--timeout", bad, "check"], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)
        assert proc.returncode == 1 and "ffi.cli.bad_argument" in proc.stderr, proc.stderr
