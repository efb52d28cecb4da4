"""`reml-wasm scenarios`: the table runs against its goldens as real processes, a broken
golden fails its scenario, goldens change only with --update, and the FFI-WIT-001
comparator (byte-identical bindings, run log with latency cells blanked) judges a
PoC output directory made here."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm.audit import DiagnosticError
from reml_wasm.cli.scenarios import (Scenario, blank_latency, compare, load_table, poc_outputs,
                                     run_scenario, ScenarioFailed)

ROOT = Path(__file__).resolve().parent.parent
EXISTING = ["FFI-BINDGEN-001", "FFI-DSL-001", "FFI-BUILD-001"]


def scenarios_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reml_wasm", "scenarios", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_the_table_lists_the_four_scenarios():
    table = load_table(ROOT / "docs" / "scenarios.csv")
    assert [s.id for s in table] == ["FFI-BINDGEN-001", "FFI-DSL-001", "FFI-BUILD-001", "FFI-WIT-001"]
    assert table[0].input == "examples/ffi/bindgen/minimal/reml-bindgen.toml"
    assert table[3].expected == "expected/ffi/wit"


def test_existing_scenarios_pass_and_goldens_are_untouched():
    goldens = {p: p.read_bytes() for p in (ROOT / "expected").rglob("*") if p.is_file()}
    proc = scenarios_cli(*EXISTING, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert (out["passed"], out["total"]) == (3, 3)
    assert {p: p.read_bytes() for p in (ROOT / "expected").rglob("*") if p.is_file()} == goldens


def test_wit_scenario_runs_the_poc_or_says_it_is_missing():
    proc = scenarios_cli("FFI-WIT-001", "--json")
    (row,) = json.loads(proc.stdout)["scenarios"]
    if importlib.util.find_spec("reml_wasm.cli.poc") is None:
        assert proc.returncode == 1
        assert row == {"id": "FFI-WIT-001", "status": "fail", "detail": "reml-wasm poc not available",
                       "mismatches": []}
    else:
        assert row["status"] == "pass", row


def test_dsl_goldens_are_the_records_of_the_specification():
    wrapped = json.loads((ROOT / "expected/ffi/dsl/wrapped_safe.audit.json").read_text())
    assert wrapped == {"metadata": {
        "ffi": {"event": "ffi.call", "library": "m", "symbol": "cos", "effect_flags": ["ffi"],
                "status": "success", "wrapper": "ffi.wrap"},
        "ffi.wrapper": {"name": "libm.cos", "null_check": False, "call_mode": "wrapped"}}}
    unsafe = json.loads((ROOT / "expected/ffi/dsl/unsafe_direct.audit.json").read_text())
    assert unsafe == {"metadata": {"ffi": {"event": "ffi.call", "library": "m", "symbol": "cos",
                                           "effect_flags": ["ffi", "unsafe"], "status": "success"}}}


def test_build_golden_shows_a_cold_build_then_a_hit():
    records = [json.loads(line) for line in (ROOT / "expected/ffi/build/audit.jsonl").read_text().splitlines()]
    statuses = [next(iter(r["metadata"].values()))["status"] for r in records]
    assert [next(iter(r["metadata"])) for r in records] == ["ffi.bindgen", "ffi.build"] * 2
    assert statuses == ["success", "success", "cache_hit", "success"]
    build = records[1]["metadata"]["ffi.build"]
    assert build["libraries"] == ["libmathx.so", "libm.so"]  # de-duplicated, platform names
    manifest = json.loads((ROOT / "expected/ffi/build/bindings.manifest.json").read_text())
    assert manifest["input_hash"] == build["input_hash"] == records[0]["metadata"]["ffi.bindgen"]["input_hash"]


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the table, examples and goldens to break."""
    for part in ("docs", "examples", "expected"):
        shutil.copytree(ROOT / part, tmp_path / part)
    return tmp_path


@pytest.mark.parametrize("sid,golden", [
    ("FFI-DSL-001", "expected/ffi/dsl/wrapped_safe.audit.json"),
    ("FFI-BUILD-001", "expected/ffi/build/mathx.reml"),
    ("FFI-BUILD-001", "expected/ffi/build/audit.jsonl"),
    ("FFI-BINDGEN-001", "expected/ffi/bindgen/minimal/bindings.manifest.json"),
])
def test_a_broken_golden_fails_until_update(tree, sid, golden):
    path = tree / golden
    original = path.read_bytes()
    path.write_bytes(original.replace(b"success", b"succeeded").replace(b"i32", b"u32")
                     .replace(b'"I32"', b'"U32"'))
    assert path.read_bytes() != original
    table = {s.id: s for s in load_table(tree / "docs" / "scenarios.csv")}
    outcome = run_scenario(tree, table[sid])
    assert not outcome.passed and path.name in outcome.detail
    assert path.read_bytes() != original  # a run without --update leaves goldens alone
    assert run_scenario(tree, table[sid], update=True).passed
    assert path.read_bytes() == original
    assert run_scenario(tree, table[sid]).passed


def test_missing_keys_and_missing_goldens_fail(tree):
    table = {s.id: s for s in load_table(tree / "docs" / "scenarios.csv")}
    dsl = table["FFI-DSL-001"]
    outcome = run_scenario(tree, Scenario(dsl.id, dsl.input, dsl.expected, ["ffi", "ffi.bindgen"]))
    assert not outcome.passed and "ffi.bindgen" in outcome.detail
    (tree / "expected/ffi/dsl/unsafe_direct.audit.json").unlink()
    outcome = run_scenario(tree, dsl)
    assert not outcome.passed and outcome.detail == "unsafe_direct.audit.json: produced but has no golden"


def test_bad_table_is_a_coded_error(tmp_path):
    (tmp_path / "t.csv").write_text("id,input\nX,y\n")
    with pytest.raises(DiagnosticError) as exc:
        load_table(tmp_path / "t.csv")
    assert exc.value.code == "scenarios.table_invalid"
    proc = scenarios_cli("--csv", str(tmp_path / "t.csv"))
    assert proc.returncode == 1 and "scenarios.table_invalid" in proc.stderr and "Traceback" not in proc.stderr


# --- FFI-WIT-001 comparator on a PoC output directory made here ----------------------------

RUN_LOG = """# WIT PoC run log

| step | function | result | latency_ns (median) | p99 latency |
|---|---|---|---:|---:|
| 1 | greet | ok | {a} | {b} |
| 2 | parse | err mapped to ffi.wit.result | {c} | {d} |

Latency figures differ between runs.
"""


def fake_poc(path: Path, latencies=(1200, 3400, 560, 999), result="ok", reml="module poc\n",
             audit_keys=("ffi.wit.package", "ffi.wit.world", "ffi.wit.interface", "ffi.wit.direction")) -> Path:
    path.mkdir(parents=True)
    (path / "poc.reml").write_text(reml)
    (path / "bindings.manifest.json").write_text('{"version": "0.1"}\n')
    a, b, c, d = latencies
    (path / "run-log.md").write_text(RUN_LOG.format(a=a, b=b, c=c, d=d).replace("| ok |", f"| {result} |"))
    (path / "audit.jsonl").write_text(json.dumps({"metadata": {k: "x" for k in audit_keys}}) + "\n")
    return path


def test_wit_comparator_ignores_latency_only(tmp_path):
    golden = fake_poc(tmp_path / "golden")
    (golden / "audit.jsonl").unlink()
    same = poc_outputs(fake_poc(tmp_path / "a", latencies=(1, 2, 3, 4)))
    assert compare(same, golden) == []
    keys = {"ffi.wit.package", "ffi.wit.world", "ffi.wit.interface", "ffi.wit.direction"}
    assert keys <= same.keys
    other_result = poc_outputs(fake_poc(tmp_path / "b", result="trap"))
    assert compare(other_result, golden) == [f"run-log.md: differs from {golden / 'run-log.md'}"]
    other_reml = poc_outputs(fake_poc(tmp_path / "c", reml="module poc \n"))
    assert compare(other_reml, golden) == [f"poc.reml: differs from {golden / 'poc.reml'}"]
    fewer = poc_outputs(fake_poc(tmp_path / "d", audit_keys=("ffi.wit.package",)))
    assert "ffi.wit.world" not in fewer.keys


def test_wit_comparator_needs_every_file(tmp_path):
    out = fake_poc(tmp_path / "a")
    (out / "run-log.md").unlink()
    with pytest.raises(ScenarioFailed, match="run-log.md"):
        poc_outputs(out)


def test_blank_latency_keeps_other_cells_and_text():
    text = RUN_LOG.format(a=1, b=2, c=3, d=4)
    blanked = blank_latency(text)
    assert "| 1 | greet | ok |  |  |" in blanked
    assert "| step | function | result | latency_ns (median) | p99 latency |" in blanked
    assert blanked.endswith("Latency figures differ between runs.\n")
    assert blank_latency(blanked) == blanked


cell = st.text(st.characters(blacklist_characters="|", blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
               max_size=6)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=4), other=cell)
def test_blank_latency_equates_exactly_the_latency_column(rows, other):
    def table(rs):
        return "| name | Latency | note |\n|---|---|---|\n" + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in rs)
    changed = [(a, other, c) for a, _, c in rows]
    assert blank_latency(table(rows)) == blank_latency(table(changed))
    if other.strip() != rows[0][2].strip():
        moved = [(rows[0][0], rows[0][1], other)] + rows[1:]
        assert blank_latency(table(rows)) != blank_latency(table(moved))
