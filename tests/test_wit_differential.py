"""Differential tests: reml_wasm.wit against `wasm-tools component wit --json`.

Valid cases (tests/wit_corpus/valid: single files and directories with deps/) must give
the same JSON *text*: same arenas, same indices, same key order, 2-space indentation; and
our printer must print the same WIT text as `wasm-tools component wit`.
Invalid cases (tests/wit_corpus/invalid) must be rejected by both, with a `wit.*`
diagnostic on the line wasm-tools reports.

Normalisation before comparing:
- valid cases: none (the JSON text must be identical, byte for byte).
- invalid cases: only the line number is compared, not the column or message: the two
  tools word their messages differently, and for some errors wasm-tools underlines a
  whole span where we point at its start.  Cases where wasm-tools gives no location (a
  package without a header) must have no location on our side either.
Feature sets for @unstable cases come from valid/features.json (`--features` there).
wasm-tools runs once per case, concurrently, before the comparisons.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reml_wasm import wit
from reml_wasm.audit import DiagnosticError

CORPUS = Path(__file__).parent / "wit_corpus"
VALID = sorted(p for p in (CORPUS / "valid").iterdir() if p.suffix == ".wit" or p.is_dir())
INVALID = sorted(p for p in (CORPUS / "invalid").iterdir() if p.suffix == ".wit" or p.is_dir())
FEATURES: dict[str, list[str]] = json.loads((CORPUS / "valid" / "features.json").read_text())


def _wasm_tools(path: Path, json_out: bool = True) -> subprocess.CompletedProcess:
    args = ["wasm-tools", "component", "wit", "--color", "never", str(path)]
    if json_out:
        args.insert(3, "--json")
    feats = FEATURES.get(path.name)
    if feats:
        args += ["--features", ",".join(feats)]
    return subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=120)


@pytest.fixture(scope="module")
def oracle() -> dict[Path, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = VALID + INVALID
        return dict(zip(paths, pool.map(_wasm_tools, paths)))


@pytest.fixture(scope="module")
def oracle_text() -> dict[Path, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(VALID, pool.map(lambda p: _wasm_tools(p, json_out=False), VALID)))


def test_corpus_size():
    assert len(VALID) >= 60
    assert len(INVALID) >= 40


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_matches_wasm_tools(path: Path, oracle):
    proc = oracle[path]
    assert proc.returncode == 0, proc.stderr
    ours = wit.load(path, features=FEATURES.get(path.name, ())).to_json_text()
    assert ours == proc.stdout  # byte for byte: no final newline, UTF-8 unescaped


# Cases where our printed WIT differs from wasm-tools' on purpose (docs/wit.md):
# wasm-tools keeps a `@since` on items `include` copies into an unversioned package, and
# then cannot read its own output; we leave those `@since` lines out.
PRINTED_WITHOUT_SINCE = {"091_dir_include_foreign_stability"}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_printer_matches_wasm_tools(path: Path, oracle_text):
    """`reml-wasm wit PATH` prints the same canonical WIT as `wasm-tools component wit`."""
    proc = oracle_text[path]
    assert proc.returncode == 0, proc.stderr
    ours = wit.load(path, features=FEATURES.get(path.name, ())).to_wit()
    if path.name in PRINTED_WITHOUT_SINCE:
        def drop_since(text: str) -> str:
            return "".join(line for line in text.splitlines(True) if not line.lstrip().startswith("@since("))
        assert ours != proc.stdout and drop_since(ours) == drop_since(proc.stdout)
        return
    assert ours == proc.stdout


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_printed_wit_parses_again(path: Path, tmp_path):
    """Our printed WIT is read back by wasm-tools and by us to the same JSON."""
    feats = FEATURES.get(path.name, ())
    printed = tmp_path / "printed.wit"
    printed.write_text(wit.load(path, features=feats).to_wit(), encoding="utf-8")
    args = ["wasm-tools", "component", "wit", "--json", str(printed)]
    if feats:
        args += ["--features", ",".join(feats)]
    proc = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert wit.load(printed, features=feats).to_json_text() == proc.stdout


_LOCATION = re.compile(r"-->\s+(.*?):(\d+):(\d+)")


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_rejected_on_same_line(path: Path, oracle):
    proc = oracle[path]
    assert proc.returncode != 0, "wasm-tools accepted an invalid case"
    m = _LOCATION.search(proc.stderr)
    with pytest.raises(DiagnosticError) as info:
        wit.load(path)
    diag = info.value.diagnostic
    assert diag.code.startswith("wit."), diag.code
    if m is None:
        assert diag.location is None
    else:
        assert diag.location is not None, diag.render()
        assert Path(diag.location.file).name == Path(m.group(1)).name
        assert diag.location.line == int(m.group(2)), (diag.render(), proc.stderr)
        assert diag.location.snippet is not None


def test_benchmark_tree_matches_wasm_tools(tmp_path):
    from reml_wasm.benchmarks.wit import write_tree

    assert write_tree(tmp_path) >= 5000
    proc = subprocess.run(["wasm-tools", "component", "wit", "--json", str(tmp_path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert wit.load(tmp_path).to_json_text() == proc.stdout
