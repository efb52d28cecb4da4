"""A Rust std command (native/wasi-real/command.rs, built here by Debian's rustc with the
wasm32-wasi standard library and adapted to preview 2 with jco's command adapter) on both
paths: its args, environment, stdin, stdout and stderr, a granted file, and every way out
of the grant (`..`, an absolute host path, a symbolic link pointing out) refused with the
same error on both paths; then `reml-wasm run` and `reml-wasm run --json`."""

import base64
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reml_wasm import toolchain
from reml_wasm.connectors.component import Component, Preopen, Sandbox, WasiConfig
from reml_wasm.connectors.component.wasi.command import run_command

ROOT = toolchain.PROJECT_ROOT
PATHS = ("fast", "wasmtime")


@pytest.fixture(scope="module")
def rust_wasm():
    return toolchain.build_rust_wasi_command(ROOT / "native/wasi-real/command.rs")


@pytest.fixture(scope="module")
def rust_command(rust_wasm):
    return Component.from_file(rust_wasm)


def _run(command, path, args, **config):
    out, err = bytearray(), bytearray()
    sandbox = Sandbox(wasi=WasiConfig(args=["rs", *args], stdout=out.extend, stderr=err.extend, **config))
    status = run_command(command, sandbox, path)
    return status, out.decode(), err.decode()


def test_the_compiler_is_debians_rustc_with_the_wasm32_std():
    rustc = toolchain.rust_wasi_compiler()
    version = subprocess.run([rustc, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("rustc ")
    libdir = subprocess.run([rustc, "--print", "target-libdir", "--target", "wasm32-wasi"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert any(name.startswith("libstd-") for name in os.listdir(libdir))


def test_the_command_is_a_preview2_component(rust_command):
    assert any(name.startswith("wasi:cli/run@0.2.") for name in rust_command.exports())


@pytest.mark.parametrize("path", PATHS)
def test_args_env_stdin_and_output(rust_command, path):
    status, out, err = _run(rust_command, path, ["one", "two words"], env={"GREETING": "hello", "B": "2"},
                            stdin=b"123456")
    assert status == 0
    assert out.splitlines() == ["argc=3", "arg[0]=rs", "arg[1]=one", "arg[2]=two words", "env B=2",
                                "env GREETING=hello", "stdin=6", "read one: error kind=Uncategorized os=None",
                                "read two words: error kind=Uncategorized os=None"]
    assert err == "rust to stderr\n"


def test_reads_only_inside_the_grant_alike_on_both_paths(rust_command, granted_tree):
    probes = ["/data/f.txt", "/data/in-link", "/data/sub/../f.txt", "/data/../secret.txt",
              "/data/sub/../../secret.txt", "/data/out-link", "/data/sub/up-link", str(granted_tree / "secret.txt"),
              "/etc/passwd", "/data/missing"]
    results = [_run(rust_command, path, probes, dirs=[Preopen(str(granted_tree / "granted"), "/data", readonly=True)])
               for path in PATHS]
    assert results[0] == results[1]
    status, out, _ = results[0]
    assert status == 0 and "top secret" not in out
    reads = [ln for ln in out.splitlines() if ln.startswith("read ")]
    assert reads[:3] == [f"read {p}: ok granted text" for p in probes[:3]]
    denied = "error kind=PermissionDenied os=Some(63)"  # EPERM: the path leaves the grant
    assert reads[3:7] == [f"read {p}: {denied}" for p in probes[3:7]]
    # an absolute host path is under no preopened directory: the std library refuses it
    assert reads[7:9] == [f"read {p}: error kind=Uncategorized os=None" for p in probes[7:9]]
    assert reads[9] == "read /data/missing: error kind=NotFound os=Some(44)"


@pytest.mark.parametrize("path", PATHS)
def test_writes_follow_the_grant(rust_command, path, granted_tree):
    granted = granted_tree / "granted"
    _, out, _ = _run(rust_command, path, [], env={"WRITE_TO": "/data/new.txt"},
                     dirs=[Preopen(str(granted), "/data", readonly=True)])
    assert "write /data/new.txt: error kind=PermissionDenied os=Some(63)" in out
    assert not (granted / "new.txt").exists()
    _, out, _ = _run(rust_command, path, [], env={"WRITE_TO": "/data/new.txt"}, dirs=[(str(granted), "/data")])
    assert "write /data/new.txt: ok" in out and (granted / "new.txt").read_text() == "written by rust\n"
    _, out, _ = _run(rust_command, path, [], env={"WRITE_TO": "/data/../escaped.txt"},
                     dirs=[(str(granted), "/data")])
    assert "write /data/../escaped.txt: error" in out and not (granted_tree / "escaped.txt").exists()


def _cli(*argv, stdin=b""):
    return subprocess.run([sys.executable, "-m", "reml_wasm", *argv], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=300)


def test_reml_wasm_run_alike_on_both_paths(rust_wasm, granted_tree):
    secret = str(granted_tree / "secret.txt")
    escapes = ["/data/../secret.txt", "/data/out-link", "/data/sub/up-link"]
    procs = [_cli("run", "--path", path, "--dir-ro", f"{granted_tree / 'granted'}::/data", "--env", "GREETING=hi",
                  str(rust_wasm), "/data/f.txt", *escapes, secret, stdin=b"xyz") for path in PATHS]
    assert [(p.returncode, p.stdout, p.stderr) for p in procs] == [(procs[0].returncode, procs[0].stdout,
                                                                     procs[0].stderr)] * 2
    out = procs[0].stdout.decode()
    assert procs[0].returncode == 0, procs[0].stderr
    assert "arg[0]=component.wasm" in out and "env GREETING=hi" in out and "stdin=3" in out
    assert "read /data/f.txt: ok granted text" in out and "top secret" not in out
    for p in escapes:
        assert f"read {p}: error kind=PermissionDenied os=Some(63)" in out
    assert f"read {secret}: error kind=Uncategorized os=None" in out
    assert procs[0].stderr == b"rust to stderr\n"


@pytest.mark.parametrize("path", PATHS)
def test_reml_wasm_run_json(rust_wasm, granted_tree, path):
    proc = _cli("run", "--json", "--path", path, "--dir", f"{granted_tree / 'granted'}::/data", "--env", "EXIT3=1",
                str(rust_wasm), "/data/f.txt", stdin=b"ab")
    assert proc.returncode == 1 and proc.stderr == b""
    doc = json.loads(proc.stdout)
    assert doc == {"component": str(rust_wasm), "path": path, "exit_code": 1,
                   "stdout": "argc=2\narg[0]=component.wasm\narg[1]=/data/f.txt\nenv EXIT3=1\nstdin=2\n"
                             "read /data/f.txt: ok granted text\n",
                   "stdout_encoding": "utf-8", "stderr": "rust to stderr\n", "stderr_encoding": "utf-8",
                   "error": None}


@pytest.mark.parametrize("path", PATHS)
def test_reml_wasm_run_json_of_a_trapping_command_keeps_its_output(rust_wasm, path):
    proc = _cli("run", "--json", "--path", path, "--env", "PANIC=1", str(rust_wasm))
    assert proc.returncode == 1 and proc.stderr == b""
    doc = json.loads(proc.stdout)
    assert doc["exit_code"] == 1 and doc["stdout"].startswith("argc=1\narg[0]=component.wasm\nenv PANIC=1\n")
    assert "asked to panic" in doc["stderr"]
    assert doc["error"]["code"] == "cabi.trap"


def test_run_json_output_that_is_not_utf8_is_base64():
    from reml_wasm.cli.run import output_json
    assert output_json("é\n".encode()) == ("é\n", "utf-8")
    text, encoding = output_json(b"\xff\x00a")
    assert encoding == "base64" and base64.b64decode(text) == b"\xff\x00a"


def test_runs_on_the_fast_path_without_a_fallback(rust_command):
    inst = rust_command.instantiate(sandbox=Sandbox(wasi=WasiConfig(args=["rs"])), path="fast")
    assert inst.path == "fast" and inst.diagnostics == []


GUEST_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)


@settings(max_examples=15, deadline=None)
@given(args=st.lists(GUEST_TEXT, max_size=4),
       env=st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0="),
                                   min_size=1, max_size=6), GUEST_TEXT, max_size=3),
       stdin=st.binary(max_size=64))
def test_generated_args_env_and_stdin_alike_on_both_paths(rust_command, args, env, stdin):
    outs = [_run(rust_command, path, args, env=env, stdin=stdin) for path in PATHS]
    assert outs[0] == outs[1]
    status, out, _ = outs[0]
    assert status == 0 and out.startswith(f"argc={len(args) + 1}\n") and f"stdin={len(stdin)}\n" in out


def test_inspect_of_the_rust_command_equals_wasm_tools(rust_wasm, inspect_equals_wasm_tools):
    inspect_equals_wasm_tools(rust_wasm)


def test_the_callers_imports_replace_wasi_on_both_paths(rust_command):
    """Imports given to `instantiate` win over the WASI host's, on both paths."""
    from reml_wasm.connectors.component.wasi.command import run_export
    [key] = [i.key for i in rust_command.world.imports if i.key.startswith("wasi:cli/environment@0.2.")]
    env = {key: {"get-environment": lambda: [("FROM", "python")], "get-arguments": lambda: ["py", "x"]}}
    outs = []
    for path in PATHS:
        out = bytearray()
        inst = rust_command.instantiate(imports=env, sandbox=Sandbox(wasi=WasiConfig(args=["rs"], stdout=out.extend)),
                                        path=path)
        inst.call(run_export(rust_command))
        outs.append(out.decode())
    assert outs[0] == outs[1]
    assert outs[0].startswith("argc=2\narg[0]=py\narg[1]=x\nenv FROM=python\n")



_EXIT_WITH_OUTPUT_CALLBACKS = """
import gc, sys
from reml_wasm.connectors.component import Component, Sandbox, WasiConfig
from reml_wasm.connectors.component.wasi.command import run_export
command = Component.from_file(sys.argv[1])
held = []
for _ in range(30):
    out = bytearray()
    inst = command.instantiate(sandbox=Sandbox(wasi=WasiConfig(args=["rs"], stdout=out.extend, stderr=out.extend)),
                               path="wasmtime")
    inst.call(run_export(command))
    if sys.argv[2] == "hold":
        held.append(inst)
del inst
gc.collect()
"""


@pytest.mark.parametrize("ending", ["drop", "hold"])
def test_a_process_with_wasmtime_output_callbacks_exits_cleanly(rust_wasm, ending):
    # wasmtime lets go of a store's output callbacks on its own worker threads; one that
    # enters Python while the interpreter shuts down aborts the process with a Rust panic
    # on stderr.  So at exit the reference path closes the stores still held ("hold":
    # without that, every such process printed the panic) and waits for wasmtime to let
    # go of the callbacks of dropped ones ("drop": without the wait, a fifth to a half
    # did; twelve runs catch it)
    for _ in range(12 if ending == "drop" else 2):
        proc = subprocess.run([sys.executable, "-c", _EXIT_WITH_OUTPUT_CALLBACKS, str(rust_wasm), ending],
                              capture_output=True, cwd=ROOT, timeout=300)
        assert (proc.returncode, proc.stderr) == (0, b"")
