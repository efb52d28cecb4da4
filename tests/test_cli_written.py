"""`--json` on the subcommands that write files (`reml`, `gen c-plugin`, `gen python`):
one JSON document listing every file written, with its size."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", *argv, "--json"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _written(doc: dict, command: str) -> dict[Path, int]:
    assert doc["command"] == command and doc["ok"] is True
    files = {Path(f["path"]): f["bytes"] for f in doc["files"]}
    for path, size in files.items():
        assert path.is_file() and path.stat().st_size == size
    return files


def test_reml_json_lists_the_bindings_and_the_manifest(tmp_path):
    out, manifest = tmp_path / "demo.reml", tmp_path / "demo.manifest.json"
    doc = _run("reml", "wit/demo", "-o", str(out), "--manifest", str(manifest))
    assert set(_written(doc, "reml")) == {out, manifest}
    json.loads(manifest.read_text())


@pytest.mark.parametrize("generator, source", [("c-plugin", "examples/bid/console.yaml"),
                                                ("python", "examples/bid/console.yaml"),
                                                ("python", "wit/demo")])
def test_gen_json_lists_every_file_written(tmp_path, generator, source):
    doc = _run("gen", generator, source, "-o", str(tmp_path))
    files = _written(doc, f"gen {generator}")
    on_disk = {p for p in tmp_path.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert set(files) == on_disk and files


def test_reml_json_error_is_a_json_diagnostic(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "reml", "wit/demo", "-o", str(tmp_path / "x.txt"),
                           "--json"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads(proc.stderr.splitlines()[0])["code"] == "ffi.reml.output"
