"""A wasi:cli/run command (native/wasi-real/command.c on wasi-libc, adapted to preview 2)
on both paths: what it writes to stdout/stderr is captured into Python, it sees its args,
env and stdin, reads a granted file, and cannot read outside its granted directory (`..`,
absolute paths, a symbolic link pointing out); a read-only grant refuses writes.  Then the
same through `reml-wasm run` and `reml-wasm call --dir/--env/--arg`."""

import subprocess
import sys

import pytest

from reml_wasm import toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.component import Component, Preopen, Sandbox, WasiConfig
from reml_wasm.connectors.component.wasi.command import run_command

ROOT = toolchain.PROJECT_ROOT
PATHS = ("fast", "wasmtime")


@pytest.fixture(scope="module")
def command_wasm():
    return toolchain.build_wasi_component([ROOT / "native/wasi-real/command.c"], None, None, command=True)


@pytest.fixture(scope="module")
def command(command_wasm):
    return Component.from_file(command_wasm)


def _run(command, path, args, **config):
    out, err = bytearray(), bytearray()
    sandbox = Sandbox(wasi=WasiConfig(args=["cmd", *args], stdout=out.extend, stderr=err.extend, **config))
    status = run_command(command, sandbox, path)
    return status, out.decode(), err.decode()


@pytest.mark.parametrize("path", PATHS)
def test_output_args_env_and_stdin(command, path):
    status, out, err = _run(command, path, ["one", "two words"], env={"GREETING": "hello"}, stdin=b"12345")
    assert status == 0
    assert out.splitlines()[:6] == ["argc=3", "arg[0]=cmd", "arg[1]=one", "arg[2]=two words",
                                    "GREETING=hello", "stdin=5"]
    assert err == "to stderr\n"


@pytest.mark.parametrize("path", PATHS)
def test_reads_only_inside_the_granted_directory(command, path, granted_tree):
    probes = ["/data/f.txt", "/data/in-link", "/data/sub/../f.txt", "/data/../secret.txt",
              "/data/../../etc/passwd", "/data/out-link", str(granted_tree / "secret.txt"), "/etc/passwd",
              "/data/sub/../../secret.txt"]
    status, out, _ = _run(command, path, probes, dirs=[Preopen(str(granted_tree / "granted"), "/data", readonly=True)])
    assert status == 0
    lines = [ln for ln in out.splitlines() if ln.startswith("read ")]
    assert lines == ["read /data/f.txt: granted text", "read /data/in-link: granted text",
                     "read /data/sub/../f.txt: granted text"] + [f"read {p}: denied" for p in probes[3:]]
    assert "top secret" not in out


@pytest.mark.parametrize("path", PATHS)
def test_read_only_grant_refuses_writes_read_write_allows_them(command, path, granted_tree):
    granted = granted_tree / "granted"
    _, out, _ = _run(command, path, [], env={"WRITE_TO": "/data/new.txt"},
                     dirs=[Preopen(str(granted), "/data", readonly=True)])
    assert "write /data/new.txt: denied" in out and not (granted / "new.txt").exists()
    _, out, _ = _run(command, path, [], env={"WRITE_TO": "/data/new.txt"}, dirs=[(str(granted), "/data")])
    assert "write /data/new.txt: ok" in out
    assert (granted / "new.txt").read_text() == "written by the guest\n"
    _, out, _ = _run(command, path, [], env={"WRITE_TO": "/data/../escaped.txt"}, dirs=[(str(granted), "/data")])
    assert "denied" in out and not (granted_tree / "escaped.txt").exists()


def test_both_paths_print_the_same(command, granted_tree):
    args = ["/data/f.txt", "/data/out-link", "/nope"]
    outs = [_run(command, p, args, env={"GREETING": "x"}, stdin=b"ab", dirs=[(str(granted_tree / "granted"), "/data")])
            for p in PATHS]
    assert outs[0] == outs[1]


@pytest.mark.parametrize("path", PATHS)
def test_failing_status(command, path):
    status, _, _ = _run(command, path, [], env={"EXIT3": "1"})
    assert status == 1  # preview 2's exit carries ok/err only


def test_not_a_command_is_a_coded_error():
    from reml_wasm.benchmarks.component import build_ctest
    with pytest.raises(DiagnosticError) as exc:
        run_command(Component.from_file(build_ctest()), Sandbox(wasi=True))
    assert exc.value.code == "ffi.component.no_export"


def test_wasi_config_is_checked(tmp_path):
    for bad in (dict(args="x"), dict(args=["p", "a\0b"]), dict(env={"A=B": "1"}), dict(env={"A": "1\0"}),
                dict(dirs=[str(tmp_path / "missing")]), dict(stdin=5), dict(stdout=5),
                dict(dirs=[(str(tmp_path), "/d", "rx")])):
        with pytest.raises(DiagnosticError) as exc:
            WasiConfig(**bad)
        assert exc.value.code == "ffi.component.sandbox"


def _cli(*argv, stdin=b""):
    return subprocess.run([sys.executable, "-m", "reml_wasm", *argv], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=300)


@pytest.mark.parametrize("path", PATHS)
def test_reml_wasm_run(command_wasm, granted_tree, path):
    proc = _cli("run", "--path", path, "--dir", f"{granted_tree / 'granted'}::/data", "--env", "GREETING=hi",
                str(command_wasm), "/data/f.txt", "/data/../secret.txt", stdin=b"xyz")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "arg[0]=component.wasm" in out and "arg[1]=/data/f.txt" in out and "GREETING=hi" in out
    assert "stdin=3" in out and "read /data/f.txt: granted text" in out
    assert "read /data/../secret.txt: denied" in out
    assert proc.stderr.decode() == "to stderr\n"
    failing = _cli("run", "--path", path, "--env", "EXIT3=1", str(command_wasm))
    assert failing.returncode == 1


def test_reml_wasm_call_with_grants(granted_tree):
    real = toolchain.build_wasi_component([ROOT / "native/wasi-real/real.c"], ROOT / "wit/wasi-real", "real")
    for path in PATHS:
        proc = _cli("call", "--path", path, "--dir", f"{granted_tree / 'granted'}::/data", "--env", "K=v", "--arg", "a",
                    str(real), 'api#read-file("/data/f.txt")')
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.decode() == 'ok("granted text")\n'
        proc = _cli("call", "--path", path, "--env", "K=v", str(real), 'api#env-var("K")')
        assert proc.stdout.decode() == 'some("v")\n'
        bad = _cli("call", "--path", path, "--env", "novalue", str(real), 'api#env-var("K")')
        assert bad.returncode == 1 and b"ffi.cli.bad_argument" in bad.stderr
        denied = _cli("call", "--path", path, str(real), 'api#env-var("K")')
        assert denied.returncode == 1 and b"grant it" in denied.stderr


def test_inspect_of_the_command_equals_wasm_tools(command_wasm, inspect_equals_wasm_tools):
    inspect_equals_wasm_tools(command_wasm)


def test_directory_operations_alike_on_both_paths(command, granted_tree):
    """mkdir, write, stat, rename, readdir, rmdir of a non-empty directory, unlink, rmdir."""
    expected = ["mkdir: ok", "write: ok", "stat: ok size=12 dir=0", "rename: ok",
                "list: f.txt in-link made out-link sub", "rmdir-nonempty: refused", "unlink: ok", "rmdir: ok"]
    for path in PATHS:
        _, out, _ = _run(command, path, [], env={"FS_OPS": "/data"}, dirs=[(str(granted_tree / "granted"), "/data")])
        assert out.splitlines()[-len(expected):] == expected, (path, out)
        assert sorted(p.name for p in (granted_tree / "granted").iterdir()) == ["f.txt", "in-link", "out-link", "sub"]
    outs = [_run(command, path, [], env={"FS_OPS": "/data"},
                 dirs=[Preopen(str(granted_tree / "granted"), "/data", readonly=True)]) for path in PATHS]
    assert outs[0] == outs[1]
    lines = outs[0][1].splitlines()
    assert lines[-8:-4] == ["mkdir: Operation not permitted", "write: Operation not permitted",
                            "stat: No such file or directory size=0 dir=0", "rename: Operation not permitted"]
    assert not (granted_tree / "granted" / "made").exists()
