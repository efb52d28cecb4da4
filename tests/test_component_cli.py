"""`reml-wasm call` and `reml-wasm inspect` end to end (python -m reml_wasm, real guests)."""

import argparse
import json
import subprocess
import sys

import pytest

from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.cli import main


@pytest.fixture(scope="module")
def ctest_path():
    return str(build_ctest())


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", ["fast", "wasmtime"])
def test_call_prints_wave(capsys, ctest_path, path):
    code, out, _ = _run(capsys, "call", ctest_path, "add(40, 2)", "--path", path)
    assert (code, out) == (0, "42\n")
    code, out, _ = _run(capsys, "call", ctest_path, 'echo-pair({id: 1, name: "é", weight: 0.5, tags: ["a", "b"]})',
                        "--path", path)
    assert (code, out) == (0, '{id: 1, name: "é", weight: 0.5, tags: ["a", "b"]}\n')


def test_call_json(capsys, ctest_path):
    code, out, _ = _run(capsys, "call", ctest_path, "echo-list([3, 2, 1])", "--json")
    assert code == 0
    assert json.loads(out) == {"function": "echo-list", "path": "fast", "result": [3, 2, 1], "wave": "[3, 2, 1]"}


@pytest.mark.parametrize("argv, code_prefix", [
    (["call", "{ctest}", "nope(1)"], "ffi.component.no_export"),
    (["call", "{ctest}", "add(1)"], "wave.call.arity"),
    (["call", "{ctest}", "add(1, true)"], "wave."),
    (["call", "{ctest}", "add(1"], "wave."),
    (["call", "{ctest}", "divide(1, 0)"], "cabi.trap"),
    (["call", "{ctest}", "spin(0)", "--fuel", "100000"], "cabi.trap"),
    (["call", "{ctest}", "spin(0)", "--timeout", "0.1"], "cabi.trap"),
    (["call", "{ctest}", "add(1, 2)", "--timeout", "-1"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--fuel", "0"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--memory-limit", str(2**64 + 16 * 2**20)], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--memory-limit", "2**64+16Mi"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--memory-limit", str(2**70)], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--memory-limit", "0Mi"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--fuel", str(2**70)], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--fuel", "2**70"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--fuel", "1.5"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--timeout", "inf"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--timeout", "nan"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--timeout", "1e400"], "ffi.cli.bad_argument"),
    (["call", "{ctest}", "add(1, 2)", "--timeout", "soon"], "ffi.cli.bad_argument"),
    (["call", "{missing}", "add(1, 2)"], "ffi.component.io"),
    (["call", "{notwasm}", "add(1, 2)"], "ffi.component.not_component"),
    (["inspect", "{notwasm}"], "ffi.component.not_component"),
])
def test_errors_are_coded_and_exit_1(capsys, tmp_path, ctest_path, argv, code_prefix):
    notwasm = tmp_path / "x.wasm"
    notwasm.write_bytes(b"\x00asm\x01\x00\x00\x00")
    subst = {"ctest": ctest_path, "missing": str(tmp_path / "absent.wasm"), "notwasm": str(notwasm)}
    argv = [a.format(**subst) for a in argv] + ["--json"]
    code, out, err = _run(capsys, *argv)
    assert code == 1, (out, err)
    diag = json.loads(err.strip().splitlines()[-1])
    assert diag["code"].startswith(code_prefix)
    assert "Traceback" not in err


def test_inspect_prints_what_wasm_tools_prints(capsys, ctest_path):
    from reml_wasm import toolchain
    for extra in ([], ["--json"]):
        code, out, _ = _run(capsys, "inspect", ctest_path, *extra)
        assert code == 0
        oracle = subprocess.run([toolchain.wasm_tools_path(), "component", "wit", *extra, ctest_path],
                                check=True, capture_output=True, text=True).stdout
        assert out == oracle
    assert "\nworld root {\n" in out or '"name": "root"' in out


def test_module_entry_point(ctest_path):
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "call", ctest_path, 'echo("hi")'],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, '"hi"\n')


def test_bad_argument_points_at_its_column_in_the_call(capsys, ctest_path):
    code, _, err = _run(capsys, "call", ctest_path, 'add(40, "x")')
    assert code == 1
    assert "<input>:1:9:" in err and "wave." in err
    assert 'add(40, "x")' in err  # the snippet is the whole call, so the caret lines up


def test_limits_accept_units_and_the_largest_values(capsys, ctest_path):
    for extra in (["--memory-limit", "16Mi"], ["--memory-limit", str(2**63 - 1)], ["--fuel", str(2**64 - 1)],
                  ["--timeout", "0.5"], ["--no-limit"]):
        code, out, err = _run(capsys, "call", ctest_path, "add(1, 2)", *extra)
        assert (code, out) == (0, "3\n"), (extra, err)


def test_a_looping_guest_stops_at_the_default_limit(capsys, ctest_path, monkeypatch):
    """Without options a call runs under the default timeout (shortened here), so a
    looping guest ends in a coded trap instead of hanging; --no-limit lifts it."""
    from reml_wasm.cli import limits
    monkeypatch.setattr(limits, "DEFAULT_TIMEOUT", 0.2)
    code, _, err = _run(capsys, "call", ctest_path, "spin(0)", "--json")
    assert code == 1
    diag = json.loads(err.strip().splitlines()[-1])
    assert diag["code"] == "cabi.trap" and "interrupt" in diag["message"], diag
    ns = argparse.Namespace(fuel=None, timeout=None, memory_limit=None, no_limit=True)
    assert limits.sandbox_from_args(ns).timeout is None
    ns.no_limit, ns.fuel = False, "1000"
    assert limits.sandbox_from_args(ns).timeout is None and limits.sandbox_from_args(ns).fuel == 1000
