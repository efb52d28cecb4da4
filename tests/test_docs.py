"""Every Python and shell example in README.md and docs/*.md runs as written.

Examples run in a scratch directory that holds what the docs talk about, built from the
repository by its own toolchain:

    guest.wasm               the ctest component (wit/ctest, native/ctest)
    wit/ native/ examples/   copies of the repository's folders
    nyash.toml               the sample FileBox and CounterBox plugins, built
    reml-bindgen.toml        the FFI-BINDGEN-001 example's configuration and header

The Python examples of one file run in order in one namespace (a later block may use what
an earlier one defined); each shell block runs under `bash -e` with the console scripts of
this interpreter first on PATH.  An example that cannot run is preceded by the line
`<!-- not run: REASON -->` in the doc, and the reason must be given.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reml_wasm import plugin_samples, toolchain

ROOT = toolchain.PROJECT_ROOT
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not run:(.*)-->\s*$")


def examples(path: Path) -> list[tuple[int, str, str, str | None]]:
    """(line, language, code, reason-not-run) of each python/sh block of a Markdown file."""
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1):
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = lines[i - 1] if i else ""
        skip = NOT_RUN.match(prev)
        if lang in ("python", "sh", "bash"):
            out.append((start, lang, "\n".join(lines[start:j]) + "\n", skip.group(1).strip() if skip else None))
        i = j + 1
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("docs")
    for folder in ("wit", "native", "examples"):
        shutil.copytree(ROOT / folder, d / folder)
    shutil.copy(toolchain.build_component([ROOT / "native/ctest/ctest.c"], ROOT / "wit/ctest/ctest.wit", "ctest"),
                d / "guest.wasm")
    plugin_samples.write_config(d, ("filebox", "counterbox"))
    shutil.copytree(ROOT / "examples/ffi/bindgen/minimal", d, dirs_exist_ok=True)
    return d


ALL = [(doc, ex) for doc in DOCS for ex in examples(doc)]


def test_docs_have_examples_and_reasons_for_those_not_run():
    assert len(ALL) >= 10
    for doc, (line, _lang, _code, reason) in ALL:
        assert reason is None or reason, f"{doc.name}:{line}: `not run` needs a reason"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_examples_run(doc: Path, scratch: Path, monkeypatch):
    runnable = [ex for ex in examples(doc) if ex[3] is None]
    if not runnable:
        return
    monkeypatch.chdir(scratch)
    namespace: dict = {"__name__": f"doc_{doc.stem}"}
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "REML_WASM_QUIET": "1"}
    for line, lang, code, _ in runnable:
        where = f"{doc.relative_to(ROOT)}:{line}"
        if lang == "python":
            try:
                exec(compile(code, where, "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 - report which example failed
                pytest.fail(f"{where}: {type(exc).__name__}: {exc}")
        else:
            proc = subprocess.run(["bash", "-e", "-c", code], cwd=scratch, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert proc.returncode == 0, f"{where}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


SCRIPTS = sorted(p for p in (ROOT / "examples").rglob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_example_scripts_run(script: Path, tmp_path: Path):
    """Each example script runs from a directory of its own and exits 0."""
    env = {**os.environ, "REML_WASM_QUIET": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{script}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


def test_sample_bid_yaml_makes_a_plugin_that_loads(tmp_path: Path):
    """examples/bid/console.yaml → a C skeleton → a library plugin-tester accepts."""
    env = {**os.environ, "REML_WASM_QUIET": "1", "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out"
    gen = subprocess.run([sys.executable, "-m", "reml_wasm", "gen", "c-plugin", str(ROOT / "examples/bid/console.yaml"),
                          "-o", str(out)], env=env, capture_output=True, text=True)
    assert gen.returncode == 0, gen.stderr
    subprocess.run(["sh", str(out / "build.sh")], check=True, cwd=out)
    check = subprocess.run([sys.executable, "-m", "reml_wasm.cli.plugin_tester", "-c", str(out / "nyash.toml"),
                            "--json", "validate-all"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert '"ok": true' in check.stdout and "Console" in check.stdout
