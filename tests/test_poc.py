"""The WIT PoC (scenario FFI-WIT-001): `reml-wasm poc` end to end, its goldens, the
committed component, the step scripts, and README's first component call."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from reml_wasm import toolchain
from reml_wasm.audit import FFI_CALL_KEYS, WIT_REQUIRED_KEYS
from reml_wasm.poc import COMPONENT, SOURCE, build_component
from reml_wasm.poc.pipeline import run

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "expected" / "ffi" / "wit"


def blank_latency(markdown: str) -> str:
    """The run log with every cell of a column whose header says "latency" emptied."""
    out, latency_cols = [], set()
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = line.strip("|").split(" | ")
            if any("latency" in c for c in cells):
                latency_cols = {i for i, c in enumerate(cells) if "latency" in c}
            elif not set(line) <= set("|-"):
                cells = ["" if i in latency_cols else c for i, c in enumerate(cells)]
            line = "|" + " | ".join(cells) + "|"
        out.append(line)
    return "\n".join(out)


def env_with(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def check_audit(path: Path, calls: int) -> None:
    lines = path.read_text().splitlines()
    assert len(lines) == 2 * calls
    for line in lines:
        meta = json.loads(line)["metadata"]
        assert all(k in meta for k in WIT_REQUIRED_KEYS)
        assert list(meta["ffi"]) == [k for k in FFI_CALL_KEYS if k in meta["ffi"]]
        assert meta["ffi"]["status"] == "success"


def test_poc_in_an_empty_directory(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "poc", "--out", "out"], cwd=tmp_path,
                          env=env_with(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert [line.split("]")[0] for line in proc.stdout.splitlines()[:6]] == [f"[{i}/6" for i in range(1, 7)]
    assert "component latency" in proc.stdout and "28 of 28 equal" in proc.stdout
    for name in ("poc.reml", "bindings.manifest.json"):
        assert (out / name).read_text() == (EXPECTED / name).read_text(), name
    assert blank_latency((out / "run-log.md").read_text()) == blank_latency((EXPECTED / "run-log.md").read_text())
    check_audit(out / "audit.jsonl", 28)
    assert (out / "poc_bindings" / "py.typed").exists()


def test_default_output_directory(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "poc"], cwd=tmp_path, env=env_with(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "poc-out" / "run-log.md").exists()


def test_without_a_compiler_the_component_serves_both_columns(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(sys.executable, bin_dir / "python")
    env = env_with(PATH=str(bin_dir), REML_WASM_CACHE=str(tmp_path / "cache"))
    env.pop("CC", None)
    proc = subprocess.run([str(bin_dir / "python"), "-m", "reml_wasm", "poc", "--out", "out"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "no C compiler" in proc.stdout
    log = (tmp_path / "out" / "run-log.md").read_text()
    assert "native column: the component (the native library could not serve)" in log
    assert "no C compiler" in log and "28 of 28 calls" in log


def test_a_mismatch_exits_non_zero(tmp_path):
    changed = tmp_path / "poc.c"
    changed.write_text(SOURCE.read_text().replace('concat3("Hello, ", 7', 'concat3("Hallo, ", 7'))
    lines: list[str] = []
    assert run(tmp_path / "out", lines.append, source=changed) == 1
    log = (tmp_path / "out" / "run-log.md").read_text()
    assert "| greet | \"Ada\" | \"Hello, Ada!\" | \"Hallo, Ada!\" | NO |" in log
    assert "26 of 28 calls gave the same result on both connectors. MISMATCH." in log


def test_committed_component_is_rebuilt_byte_identical():
    assert build_component().read_bytes() == COMPONENT.read_bytes()


def test_step_scripts_run_one_by_one(tmp_path):
    scripts = sorted((ROOT / "poc").glob("*.py"))
    assert [s.name for s in scripts] == ["01_parse_wit.py", "02_reml_bindings.py", "03_python_bindings.py",
                                         "04_call_both.py", "05_run_all.py"]
    outputs = {}
    for script in scripts[:4]:
        proc = subprocess.run([sys.executable, str(script), "out"], cwd=tmp_path, env=env_with(),
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (script.name, proc.stderr)
        outputs[script.name] = proc.stdout
    assert "world poc: 15 functions" in outputs["01_parse_wit.py"]
    assert "resource counter" in outputs["01_parse_wit.py"]
    assert (tmp_path / "out" / "poc.reml").exists() and (tmp_path / "out" / "poc_bindings" / "api.py").exists()
    assert re.search(r"^28 +live-counters", outputs["04_call_both.py"], re.M)


def readme_first_call() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Your first component call", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_first_component_call_runs_as_written():
    code = readme_first_call()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env_with(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    expected = [line.split("# ", 1)[1] for line in code.splitlines() if "print(" in line and "# " in line]
    assert proc.stdout.splitlines() == expected


def test_an_unwritable_output_is_a_coded_diagnostic(tmp_path):
    (tmp_path / "file").write_text("")
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "poc", "--out", str(tmp_path / "file" / "out")],
                          cwd=tmp_path, env=env_with(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert "error[ffi.poc.output]" in proc.stderr and "Traceback" not in proc.stderr


def test_json_output_is_one_document_of_every_call(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "poc", "--out", str(tmp_path / "out"), "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)                       # stdout holds the document alone
    assert doc["mismatches"] == 0 and len(doc["calls"]) == 28
    assert all(c["equal"] and c["component"] == c["native"] for c in doc["calls"])
    assert {"function", "arguments", "component_ns", "native_ns"} <= set(doc["calls"][0])
    assert "[1/6]" in proc.stderr                       # progress lines went to stderr
