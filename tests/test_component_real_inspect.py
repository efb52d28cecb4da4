"""`reml-wasm inspect` against `wasm-tools component wit` on components made from every
world of the WIT corpus (tests/wit_corpus/valid, every feature on): wasm-tools embeds
each world around a dummy core module and makes the component, then prints its WIT and
JSON; ours must be identical, byte for byte."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reml_wasm import toolchain, wit
from reml_wasm import types as t
from reml_wasm.cli.component_wit import component_view
from reml_wasm.wasm_binary import component as cb

CORPUS = Path(__file__).parent / "wit_corpus" / "valid"


def _cases() -> list[tuple[Path, str]]:
    out = []
    for case in sorted(p for p in CORPUS.iterdir() if (p.suffix == ".wit" or p.is_dir())):
        out.extend((case, t.wit_name(w.name)) for w in wit.load(case, all_features=True).main.worlds)
    return out


CASES = _cases()


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """(component bytes, wasm-tools text, wasm-tools JSON) per case, made concurrently."""
    tool = toolchain.wasm_tools_path()
    work = tmp_path_factory.mktemp("inspect")

    def make(i_case):
        i, (case, world) = i_case
        core, comp = work / f"{i}.core.wasm", work / f"{i}.wasm"
        subprocess.run([tool, "component", "embed", "--dummy", "--all-features", str(case), "--world", world,
                        "-o", str(core)], check=True, capture_output=True)
        subprocess.run([tool, "component", "new", str(core), "-o", str(comp)], check=True, capture_output=True)
        text = subprocess.run([tool, "component", "wit", str(comp)], check=True, capture_output=True,
                              text=True).stdout
        data = subprocess.run([tool, "component", "wit", "--json", str(comp)], check=True, capture_output=True,
                              text=True).stdout
        return comp.read_bytes(), text, json.loads(data)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CASES, pool.map(make, enumerate(CASES))))


def test_the_corpus_has_worlds():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case, world", CASES, ids=[f"{c.name}:{w}" for c, w in CASES])
def test_inspect_equals_wasm_tools(oracle, case, world):
    data, text, data_json = oracle[(case, world)]
    view = component_view(cb.parse_component(data))
    assert view.text() == text
    assert view.json() == data_json
