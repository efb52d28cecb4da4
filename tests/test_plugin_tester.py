import subprocess
import sys
from pathlib import Path

import pytest
from plugin_support import make_config

from reml_wasm.cli import plugin_tester_main
from reml_wasm.cli.plugin_checks import IO_TEXT


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return make_config(tmp_path_factory.mktemp("good"), ("filebox", "counterbox"))


def run(capsys, *argv):
    code = plugin_tester_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_lists_boxes_and_methods(good, capsys):
    code, out, _ = run(capsys, "-c", str(good), "check")
    assert code == 0
    assert "nyash_plugin_invoke: found" in out
    assert "FileBox (type_id 6, abi 1)" in out and "CounterBox (type_id 7, abi 1, singleton)" in out
    lines = out.splitlines()
    assert any(l.split()[:2] == ["0", "birth()"] and l.endswith("(constructor)") for l in lines)
    assert any(l.split()[:2] == ["4294967295", "fini()"] and l.endswith("(destructor)") for l in lines)
    assert any(l.split()[:2] == ["1", "open(path,"] for l in lines)


def test_config_option_after_the_command(good, capsys):
    assert run(capsys, "check", "-c", str(good))[0] == 0


def test_lifecycle(good, capsys):
    code, out, _ = run(capsys, "-c", str(good), "lifecycle", "CounterBox")
    assert code == 0
    assert "birth: instance_id=1 (singleton, born at load)" in out
    assert "inc() -> 1" in out and "get() -> 1" in out and "fini: ok" in out
    code, out, _ = run(capsys, "-c", str(good), "lifecycle", "FileBox")
    assert code == 0 and "birth: instance_id=" in out and "cloneSelf() -> <PluginBox FileBox#" in out


def test_io(good, capsys):
    code, out, _ = run(capsys, "-c", str(good), "io")
    assert code == 0
    assert f"write: {len(IO_TEXT.encode())}" in out and "match" in out


def test_typecheck_passes_and_detects_unknown_method_ids(good, tmp_path, capsys):
    code, out, _ = run(capsys, "-c", str(good), "typecheck")
    assert code == 0 and "open (method_id 1): ok" in out
    broken = tmp_path / "nyash.toml"
    text = good.read_text().replace("cloneSelf = { method_id = 8 }", "cloneSelf = { method_id = 8 }\nrename = { method_id = 55 }")
    broken.write_text(text.replace('"./plugins/', f'"{good.parent}/plugins/'))
    code, out, err = run(capsys, "-c", str(broken), "typecheck")
    assert code == 1
    assert "FAIL   rename (method_id 55): plugin answers invalid method (-3)" in out
    assert "1 failure(s)" in err


def test_validate_all_reports_each_library(tmp_path, capsys):
    cfg = make_config(tmp_path, ("filebox", "counterbox", "probebox"))
    code, out, _ = run(capsys, "-c", str(cfg), "validate-all")
    assert code == 1
    assert "OK     libnyash_filebox_plugin.so" in out
    assert "OK     libnyash_counter_plugin.so" in out
    assert "FAILED libnyash_probe_plugin.so" in out


def test_failures_exit_nonzero_without_traceback(good, tmp_path, capsys):
    code, _, err = run(capsys, "-c", str(good), "lifecycle", "NoSuchBox")
    assert code == 1 and "ffi.plugin.unknown_box" in err
    code, _, err = run(capsys, "-c", str(tmp_path / "missing.toml"), "check")
    assert code == 1 and "ffi.plugin.config.unreadable" in err
    missing_lib = tmp_path / "nyash.toml"
    missing_lib.write_text('[libraries."libnothere.so"]\nboxes = ["X"]\n[libraries."libnothere.so".X]\ntype_id = 5\n')
    code, out, _ = run(capsys, "-c", str(missing_lib), "check")
    assert code == 1 and "ffi.plugin.not_found" in out
    only_counter = make_config(tmp_path / "c", ("counterbox",))
    code, _, err = run(capsys, "-c", str(only_counter), "io")
    assert code == 1 and "FileBox" in err


def test_missing_invoke_fails_check(tmp_path, capsys):
    cfg = make_config(tmp_path, ("probebox",), cflags={"probebox": ["-DPROBE_NO_INVOKE"]})
    code, out, _ = run(capsys, "-c", str(cfg), "check")
    assert code == 1 and "ffi.plugin.missing_invoke" in out


def test_console_entry_point(good):
    proc = subprocess.run([sys.executable, "-c", "import sys; from reml_wasm.cli import plugin_tester_main as m; "
                           "sys.exit(m(sys.argv[1:]))", "-c", str(good), "lifecycle", "Nope"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "ffi.plugin.unknown_box" in proc.stderr


def test_json_document_carries_every_line_and_the_verdict(good, tmp_path, capsys):
    import json
    code, out, _ = run(capsys, "-c", str(good), "check", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "check" and doc["ok"] is True and doc["failures"] == 0
    texts = [e["text"] for e in doc["lines"]]
    assert any("FileBox (type_id 6, abi 1)" in t for t in texts)
    assert all(e["ok"] for e in doc["lines"])
    # a failing run: the failure is in the document, marked, and the exit status says so
    bad = tmp_path / "nyash.toml"
    bad.write_text(Path(good).read_text().replace("libnyash_filebox_plugin", "libmissing_plugin"))
    code, out, _ = run(capsys, "-c", str(bad), "--json", "check")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["failures"] >= 1
    assert any(not e["ok"] and "missing" in e["text"] for e in doc["lines"])


@pytest.mark.parametrize("module, prog", [("reml_wasm", "reml-wasm"),
                                          ("reml_wasm.cli.bindgen_tool", "reml-bindgen"),
                                          ("reml_wasm.cli.plugin_tester", "reml-plugin-tester")])
def test_every_console_script_says_its_version_and_completes(module, prog):
    import reml_wasm
    proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"{prog} {reml_wasm.__version__}"
    proc = subprocess.run([sys.executable, "-m", module, "--print-completion", "bash"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and f"_shtab_{prog.replace('-', '_')}" in proc.stdout
