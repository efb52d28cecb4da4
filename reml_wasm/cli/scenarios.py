"""`reml-wasm scenarios`: run the regression scenarios of docs/scenarios.csv against their
goldens and print a pass/fail table (`--json` for JSON); exit 1 when any fails.

Each row names an `input`, an `expected` directory and `diagnostic_keys` (separated by
`;`: audit metadata keys or log event names the scenario's output must carry).  The
kind of input chooses the runner, each in a fresh temporary directory and each as a
real process:

* `…/reml-bindgen.toml`: reml-bindgen on a copy of the example directory; the files it
  writes are compared byte for byte; the keys are its log events.
* a directory of `*.py`: each script is run; its stdout (an audit envelope as JSON) is
  compared with `<stem>.audit.json` as JSON values.
* `…/reml.json`: the project is copied, the C sources under its `src/` are built into a
  shared library under `build/lib/`, and `reml-wasm build` runs twice (a cold build, then
  a cache hit whose outputs must be byte-identical); the generated files are compared
  byte for byte and the audit log (`audit.jsonl`, with the temporary project path written
  as `<project>` and `duration_ms` as 0) record by record.
* `reml-wasm poc`: `reml-wasm poc --out DIR`; `poc.reml` and `bindings.manifest.json`
  are compared byte for byte and `run-log.md` with every table cell under a header
  that mentions latency blanked; the keys are looked up in `DIR/audit.jsonl`.

Goldens change only with `--update`, which writes what the scenario produced into its
expected directory.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import reml_wasm

from .. import toolchain
from ..audit import error, read_audit_log

PACKAGE_ROOT = Path(reml_wasm.__file__).resolve().parent.parent
DEFAULT_CSV = PACKAGE_ROOT / "docs" / "scenarios.csv"
COLUMNS = ["id", "input", "expected", "diagnostic_keys"]
POC_INPUT = "reml-wasm poc"
POC_FILES = ("poc.reml", "bindings.manifest.json", "run-log.md")
PROJECT_MARK = "<project>"
TIMEOUT_S = 600


class ScenarioFailed(Exception):
    """A scenario could not produce its output (the reason is the message)."""


@dataclass
class Scenario:
    """One row of scenarios.csv."""
    id: str
    input: str
    expected: str
    keys: list[str]


@dataclass
class Outcome:
    """The verdict on one scenario; `detail` is the first problem or a summary."""
    id: str
    passed: bool
    detail: str
    mismatches: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The outcome as `--json` prints it."""
        return {"id": self.id, "status": "pass" if self.passed else "fail", "detail": self.detail,
                "mismatches": self.mismatches}


@dataclass
class Produced:
    """What a scenario produced: files to compare (name -> bytes), how each is compared,
    and the keys found in its audit or log."""

    files: dict[str, bytes]
    keys: set[str]
    compare: dict[str, Callable[[bytes], Any]] = field(default_factory=dict)


# --- reading the table -------------------------------------------------------------------

def load_table(path: Path) -> list[Scenario]:
    """The rows of scenarios.csv (`scenarios.table_invalid` when the columns are wrong)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != COLUMNS:
                raise error("scenarios.table_invalid",
                            f"{path}: columns must be {','.join(COLUMNS)}, not {','.join(reader.fieldnames or [])}")
            rows = list(reader)
    except OSError as exc:
        raise error("scenarios.table_invalid", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error("scenarios.table_invalid", f"{path} is not UTF-8 text (byte offset {exc.start})") from None
    return [Scenario(r["id"], r["input"], r["expected"],
                     [k for k in (r["diagnostic_keys"] or "").split(";") if k]) for r in rows]


# --- running -------------------------------------------------------------------------------

def _env() -> dict[str, str]:
    """The environment of child processes: this package first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env(), timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ScenarioFailed(f"{' '.join(cmd[1:4])} did not finish in {TIMEOUT_S} s") from None


def _must(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ScenarioFailed(f"{what} exited {proc.returncode}: {last}")


def _metadata_keys(records: Iterable[dict[str, Any]]) -> set[str]:
    keys: set[str] = set()
    for record in records:
        keys.update((record.get("metadata") or {}).keys())
    return keys


def run_bindgen(root: Path, scenario: Scenario, work: Path) -> Produced:
    """reml-bindgen on a copy of the example directory."""
    config = root / scenario.input
    copy = work / config.parent.name
    shutil.copytree(config.parent, copy)
    before = {p for p in copy.rglob("*")}
    proc = _run([sys.executable, "-c", "import sys; from reml_wasm.cli import bindgen_main; "
                 "sys.exit(bindgen_main(sys.argv[1:]))", "--config", str(copy / config.name)], copy)
    _must(proc, "reml-bindgen")
    events = {json.loads(line).get("event") for line in proc.stdout.splitlines() if line.strip()}
    files = {p.name: p.read_bytes() for p in copy.rglob("*") if p.is_file() and p not in before}
    return Produced(files, {e for e in events if e})


def run_dsl(root: Path, scenario: Scenario, work: Path) -> Produced:
    """Each script of the directory, its stdout read as an audit envelope."""
    scripts = sorted((root / scenario.input).glob("*.py"))
    if not scripts:
        raise ScenarioFailed(f"no scripts in {scenario.input}")
    files, records = {}, []
    for script in scripts:
        proc = _run([sys.executable, str(script)], work)
        _must(proc, script.name)
        try:
            record = json.loads(proc.stdout)
        except ValueError:
            raise ScenarioFailed(f"{script.name} did not print an audit envelope as JSON") from None
        records.append(record)
        files[f"{script.stem}.audit.json"] = (json.dumps(record, indent=2) + "\n").encode()
    return Produced(files, _metadata_keys(records), {name: json.loads for name in files})


def run_build(root: Path, scenario: Scenario, work: Path) -> Produced:
    """The example project built twice (cold, then a cache hit) in a temporary copy."""
    config = root / scenario.input
    project = work / "project"
    shutil.copytree(config.parent, project,
                    ignore=shutil.ignore_patterns(".reml", "generated", "build"))
    sources = sorted((project / "src").glob("*.c"))
    if sources:
        name = sources[0].stem
        lib = toolchain.build_native(sources, include_dirs=[project / "include"], name=name)
        (project / "build" / "lib").mkdir(parents=True)
        shutil.copy2(lib, project / "build" / "lib" / f"lib{name}.so")
    command = [sys.executable, "-m", "reml_wasm", "build", "--config", str(project / config.name),
               "--format", "json"]
    runs = []
    for attempt in ("cold build", "cache hit"):
        proc = _run(command, project)
        _must(proc, f"reml-wasm build ({attempt})")
        report = json.loads(proc.stdout)
        runs.append({Path(p).name: Path(p).read_bytes() for p in report["outputs"]})
        if attempt == "cache hit" and report["cache"] != "hit":
            raise ScenarioFailed(f"the second build was a cache {report['cache']}, not a hit")
    if runs[0] != runs[1]:
        raise ScenarioFailed("the cache hit did not restore the outputs of the cold build byte for byte")
    records = read_audit_log(project / ".reml" / "audit.jsonl")
    text = "".join(json.dumps(_normalise(r, str(project)), ensure_ascii=False) + "\n" for r in records)
    files = dict(runs[0])
    files["audit.jsonl"] = text.encode()
    compare = {"audit.jsonl": lambda data: [json.loads(line) for line in data.decode().splitlines()]}
    return Produced(files, _metadata_keys(records), compare)


def _normalise(value: Any, project: str) -> Any:
    """Audit records made comparable: the project's temporary path -> `<project>`,
    `duration_ms` -> 0."""
    if isinstance(value, dict):
        return {k: 0 if k == "duration_ms" else _normalise(v, project) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, project) for v in value]
    if isinstance(value, str):
        return value.replace(project, PROJECT_MARK)
    return value


def run_poc(root: Path, scenario: Scenario, work: Path) -> Produced:
    """`reml-wasm poc --out DIR` and what it wrote."""
    out = work / "poc"
    if importlib.util.find_spec("reml_wasm.cli.poc") is None:
        raise ScenarioFailed("reml-wasm poc not available")
    proc = _run([sys.executable, "-m", "reml_wasm", "poc", "--out", str(out)], work)
    _must(proc, "reml-wasm poc")
    return poc_outputs(out)


def poc_outputs(out: Path) -> Produced:
    """What `reml-wasm poc --out DIR` left in DIR, ready to compare with the goldens."""
    missing = [name for name in POC_FILES + ("audit.jsonl",) if not (out / name).is_file()]
    if missing:
        raise ScenarioFailed(f"reml-wasm poc did not write {', '.join(missing)}")
    files = {name: (out / name).read_bytes() for name in POC_FILES}
    keys: set[str] = set()
    for record in read_audit_log(out / "audit.jsonl"):
        meta = record.get("metadata") or {}
        keys.update(meta)
        for value in meta.values():  # WIT keys may sit in a nested block
            if isinstance(value, dict):
                keys.update(value)
    return Produced(files, keys, {"run-log.md": lambda data: blank_latency(data.decode())})


_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$")
_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def blank_latency(markdown: str) -> str:
    """`markdown` with every table cell under a header cell mentioning "latency" emptied
    (timings differ from run to run; everything else must match)."""
    out: list[str] = []
    blank: set[int] = set()
    header = False
    ends_with_newline = markdown.endswith("\n")
    for line in (markdown[:-1] if ends_with_newline else markdown).split("\n"):
        row = _ROW.match(line)
        if row is None:
            blank, header = set(), False
            out.append(line)
            continue
        cells = [c.strip() for c in row.group(1).split("|")]
        if not header:
            header = True
            blank = {i for i, c in enumerate(cells) if "latency" in c.lower()}
        elif not _RULE.match(line):
            cells = ["" if i in blank else c for i, c in enumerate(cells)]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + ("\n" if ends_with_newline else "")


def runner_for(scenario: Scenario, root: Path) -> Callable[[Path, Scenario, Path], Produced]:
    """The runner for a scenario's kind of input."""
    if scenario.input.strip() == POC_INPUT:
        return run_poc
    if scenario.input.endswith(".toml"):
        return run_bindgen
    if scenario.input.endswith(".json"):
        return run_build
    if (root / scenario.input).is_dir():
        return run_dsl
    raise ScenarioFailed(f"no runner for input {scenario.input!r}")


# --- comparing -----------------------------------------------------------------------------

def compare(produced: Produced, expected: Path) -> list[str]:
    """Every difference between the produced files and the goldens in `expected`."""
    problems = []
    golden = {p.name: p.read_bytes() for p in expected.iterdir() if p.is_file()} if expected.is_dir() else {}
    if not golden:
        return [f"no golden files in {expected}"]
    for name in sorted(set(golden) | set(produced.files)):
        if name not in produced.files:
            problems.append(f"{name}: not produced")
        elif name not in golden:
            problems.append(f"{name}: produced but has no golden")
        else:
            view = produced.compare.get(name, lambda b: b)
            if view(produced.files[name]) != view(golden[name]):
                problems.append(f"{name}: differs from {expected / name}")
    return problems


def run_scenario(root: Path, scenario: Scenario, update: bool = False) -> Outcome:
    """Run one scenario in a fresh temporary directory and judge it."""
    with tempfile.TemporaryDirectory(prefix=f"scenario-{scenario.id}-") as tmp:
        try:
            produced = runner_for(scenario, root)(root, scenario, Path(tmp))
        except ScenarioFailed as exc:
            return Outcome(scenario.id, False, str(exc))
        except Exception as exc:  # noqa: BLE001 - a scenario's own crash is its failure
            detail = getattr(exc, "diagnostic", None)
            return Outcome(scenario.id, False, detail.render() if detail else f"{type(exc).__name__}: {exc}")
    missing = [k for k in scenario.keys if k not in produced.keys]
    expected = root / scenario.expected
    if update:
        expected.mkdir(parents=True, exist_ok=True)
        for name, data in produced.files.items():
            (expected / name).write_bytes(data)
    problems = compare(produced, expected)
    if missing:
        problems.append(f"keys not found in the output: {', '.join(missing)}")
    if problems:
        return Outcome(scenario.id, False, problems[0], problems)
    return Outcome(scenario.id, True, f"{len(produced.files)} file(s) match" + (" (golden updated)" if update else ""))


# --- the command ---------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `reml-wasm scenarios`."""
    parser.add_argument("--csv", default=str(DEFAULT_CSV), help="the scenario table (default docs/scenarios.csv)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--update", action="store_true",
                        help="write what each scenario produced into its expected directory")
    parser.add_argument("ids", nargs="*", metavar="ID", help="run only these scenarios")


def run(args: argparse.Namespace) -> int:
    """Run the scenarios and print the table."""
    table = Path(args.csv)
    root = Path(os.path.realpath(table)).parent.parent
    scenarios = load_table(table)
    if args.ids:
        unknown = sorted(set(args.ids) - {s.id for s in scenarios})
        if unknown:
            raise error("scenarios.unknown", f"no scenario {', '.join(unknown)} in {table}")
        scenarios = [s for s in scenarios if s.id in args.ids]
    outcomes = [run_scenario(root, s, args.update) for s in scenarios]
    if args.json:
        print(json.dumps({"passed": sum(o.passed for o in outcomes), "total": len(outcomes),
                          "scenarios": [o.to_json() for o in outcomes]}, indent=2))
    else:
        width = max([len(o.id) for o in outcomes] + [2])
        print(f"{'id'.ljust(width)}  result  detail")
        for o in outcomes:
            print(f"{o.id.ljust(width)}  {'pass' if o.passed else 'FAIL'}    {o.detail}")
        print(f"{sum(o.passed for o in outcomes)}/{len(outcomes)} passed")
    return 0 if all(o.passed for o in outcomes) else 1
