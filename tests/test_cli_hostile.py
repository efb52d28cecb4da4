"""Hostile input for every console script and subcommand, and for every API entry that
reads a file: missing, directory, socket, not UTF-8, empty, NUL bytes, truncated, huge
numbers, deep nesting, the wrong kind of file, symlink loops, names that are not UTF-8,
bad option values and bad arguments.  Every outcome is a coded diagnostic (exit status 1)
or a usage message (exit status 2); never `internal.error`, a traceback or a crash.

The case table is tests/cli_hostile_cases.py; it runs in a child process (a crash there
fails the test instead of the test run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli_hostile_cases as cases
from reml_wasm import routing, wave, wit
from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml, yaml_loader
from reml_wasm.bindgen import config as bindgen_config
from reml_wasm.bindgen.preprocess import preprocess
from reml_wasm.build.config import load_section
from reml_wasm.connectors.component import Component

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def test_every_hostile_case_keeps_the_contract():
    proc = subprocess.run([sys.executable, str(HERE / "cli_hostile_cases.py")], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, stdin=subprocess.DEVNULL)  # (the command guest reads stdin)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ran"] == len(cases.CASES) > 600
    assert result["broken"] == [], json.dumps(result["broken"], indent=1)[:6000]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return cases.prepare(tmp_path_factory.mktemp("hostile"))


def test_the_table_knows_a_broken_outcome():
    """The judge itself: what the old CLI did on these inputs counts as broken."""
    assert cases.broken(2, "error[internal.error]: RuntimeError: Symlink loop from 'x'") == "internal.error"
    assert cases.broken(1, "Traceback (most recent call last):") == "traceback"
    assert cases.broken(0, "", "wit-huge") == "exit status 0"
    assert cases.broken(2, "error: x") == "exit 2 without a usage message"
    assert cases.broken(1, "x.wit:1:1: error[wit.io.read_failed]: ...") is None


LOADERS = {
    "wit": wit.load,
    "yaml": yaml_loader.load,
    "toml": nyash_toml.load,
    "routing": routing.load,
    "json": load_section,
    "bgtoml": bindgen_config.load,
    "ccjson": lambda p: bindgen_config.compile_flags(Path(p)),
    "wasm": Component.from_file,
    "header": lambda p: preprocess([Path(p)], [], []),
}


@pytest.mark.parametrize("variant", [*cases.COMMON_VARIANTS, "odd-name"])
@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_api_entries_raise_only_coded_errors(table, loader, variant):
    """Every API entry that reads a file: a DiagnosticError or a result, never OSError,
    UnicodeDecodeError, OverflowError, RecursionError, RuntimeError or TypeError."""
    kind = "toml" if loader == "routing" else loader
    path = table[f"odd-{kind}"] if variant == "odd-name" else table[f"bad-{kind}-{variant}"]
    try:
        result = LOADERS[loader](path)
    except DiagnosticError as exc:
        assert exc.code and exc.diagnostic.message
        return
    if loader == "json":  # load_section returns its diagnostics
        assert result[1] or variant == "odd-name", result
        return
    assert variant in ("odd-name", "empty", "huge", "nul", "wrong") or (loader, variant) == ("header", "deep"), result


def test_a_header_that_is_not_utf8_is_located(tmp_path):
    header = tmp_path / "latin1.h"
    header.write_bytes(b"int ok(void);\nint bad(int a); extern const char s[sizeof(\"caf\xe9\")];\n")
    with pytest.raises(DiagnosticError) as exc:
        preprocess([header], [], [])
    d = exc.value.diagnostic
    assert d.code == "ffi.bindgen.parse_failed" and "0xe9" in d.message
    assert (Path(d.location.file).name, d.location.line, d.location.column) == ("latin1.h", 2, 48)


def test_wit_reads_a_lone_carriage_return_as_wasm_tools_does(tmp_path):
    src = tmp_path / "cr.wit"
    src.write_bytes(b"package a:b;\ninterface i {\n  // a\rb\n  /// c\rd\n  type t = u8;\n}\n")
    oracle = subprocess.run(["wasm-tools", "component", "wit", "--json", str(src)], capture_output=True, timeout=120)
    assert oracle.returncode == 0, oracle.stderr
    assert wit.load(src).to_json_text().encode() == oracle.stdout


def _process(*argv: str | bytes, program: str = "main",
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    code = f"import sys; from reml_wasm.cli import {program} as m; sys.exit(m())"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "", **(env or {})})


def test_real_processes(table, tmp_path):
    """A handful as real processes: names that are not UTF-8 come from the shell as bytes,
    output is a strict UTF-8 stream, and nothing is caught by a test harness."""
    odd = os.fsencode(table["odd-wit"])
    good = _process(b"wit", odd)
    assert good.returncode == 0 and b"package reml:ctest@0.1.0;" in good.stdout, good.stderr
    reml = _process(b"reml", odd, b"-o", os.fsencode(tmp_path) + b"/\xff.reml", b"--manifest",
                    os.fsencode(tmp_path) + b"/\xfe.json")
    assert reml.returncode == 0, reml.stderr
    assert (tmp_path / os.fsdecode(b"\xfe.json")).read_text(encoding="utf-8")  # still UTF-8 text
    for argv, program, code in [
        ((b"wit", odd + b".absent"), "main", b"wit.io.read_failed"),
        ((b"call", os.fsencode(table["good-wasm"]), b"echo(\"\xff\")"), "main", b"wave."),
        ((b"build", b"--config", os.fsencode(table["bad-json-loop"])), "main", b"ffi.build.config_invalid"),
        ((b"run", b"--path", b"wasmtime", os.fsencode(table["good-command"]), b"\xff"), "main",
         b"ffi.component.sandbox"),
        ((b"--header", os.fsencode(table["bad-header-not-utf8"]), b"--output", os.fsencode(tmp_path) + b"/b.reml",
          b"--manifest", os.fsencode(tmp_path) + b"/m.json"),
         "bindgen_main",
         b"ffi.bindgen.parse_failed"),
        ((b"check", b"-c", os.fsencode(table["bad-toml-directory"])), "plugin_tester_main",
         b"ffi.plugin.config.unreadable"),
    ]:
        proc = _process(*argv, program=program)
        assert proc.returncode == 1, (argv, proc.returncode, proc.stderr)
        assert code in proc.stdout + proc.stderr and b"Traceback" not in proc.stderr, (argv, proc.stderr)
        assert b"internal.error" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("env", [{"CC": "/nonexistent/cc"}, {"CC": "/bin/false"}])
def test_a_broken_compiler_is_coded(env, tmp_path):
    """The C compiler named by CC cannot run, or fails: the header reading says so."""
    for argv, program in [((b"call-native", b"m", b"cos(0.0)"), "main"),
                          ((b"--header", str(cases.HEADER).encode(), b"--output", os.fsencode(tmp_path / "o.reml"),
                            b"--manifest", os.fsencode(tmp_path / "o.json")), "bindgen_main")]:
        proc = _process(*argv, program=program, env=env)
        assert proc.returncode == 1 and b"error[ffi.bindgen.parse_failed]" in proc.stderr, (argv, proc.stderr)


@pytest.mark.parametrize("variable", ["REML_WASM_CACHE", "XDG_CACHE_HOME"])
def test_an_unusable_cache_directory_still_calls(variable, table):
    """The compiled-component cache under a regular file: the call is made without it."""
    proc = _process(b"call", os.fsencode(table["good-wasm"]), b"add(1, 2)", env={variable: table["good-wit"]})
    assert proc.returncode == 0 and proc.stdout.strip() == b"3", proc.stderr


# Random call text: arguments in WAVE for a component, C expressions for a native library.
_WAVE_PIECES = st.sampled_from(['"', "'", "\\", "(", ")", "[", "]", "{", "}", ",", ":", "-", "0", "1e999", "9" * 30,
                                "0x", "nan", "inf", "true", "some(", "none", "ok(", "err(", "%", "\x00", "\udcff",
                                "é", "\\u{d800}", "\\u{110000}", " ", "#", "[constructor]", "."])
_TEXT = st.one_of(st.text(max_size=40), st.lists(_WAVE_PIECES, max_size=12).map("".join))
_EXPORTS = st.sampled_from(["add", "echo", "echo-list", "call-scale", "spin", "nosuch",
                            "reml:ctest/counters@0.1.0#[constructor]counter", "reml:ctest/counters@0.1.0#finish"])


def _well_typed_call(draw, exports) -> str:
    """A call of a random export with random values of its parameter types, in WAVE
    (sometimes with one argument replaced by raw text)."""
    from strategies import values_of

    name = draw(st.sampled_from(sorted(n for n, (_key, f) in exports.items()
                                       if not any(_has_handle(p.type) for p in f.params))))
    func = exports[name][1]
    texts = [wave.print_value(draw(values_of(p.type, max_list=6)), p.type) for p in func.params]
    if texts and draw(st.booleans()):
        texts[draw(st.integers(0, len(texts) - 1))] = draw(_TEXT)
    return f"{name}({', '.join(texts)})"


def _has_handle(ty) -> bool:
    return isinstance(ty, (t.OwnType, t.BorrowType)) or any(_has_handle(c) for c in ty.children())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), path=st.sampled_from(["fast", "wasmtime"]))
def test_call_with_random_wave_arguments(table, data, path):
    """Random calls: mostly well-typed ones with random values (they reach the guest),
    some with raw text in an argument, some that are text only."""
    exports = Component.from_file(table["good-wasm"]).exports()
    if data.draw(st.integers(0, 3)) == 0:
        text = f"{data.draw(_EXPORTS)}({', '.join(data.draw(st.lists(_TEXT, max_size=3)))})"
    else:
        text = data.draw(st.composite(lambda draw: _well_typed_call(draw, exports))())
    status, _out, err = cases.run_case("reml-wasm", ["call", "--path", path, "--fuel", "100000000",
                                                     table["good-wasm"], text])
    assert status in (0, 1), err
    assert cases.broken(1 if status == 0 else status, err or "x") is None, err


def test_call_native_with_random_c_text():
    """Random argument text, in a child process (see `random_c_calls`); among the calls
    it makes are C functions outside their domain, which crash the call's own process."""
    proc = subprocess.run([sys.executable, str(HERE / "cli_hostile_cases.py"), "random-c", "150"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ran"] >= 150 and result["broken"] == [], json.dumps(result["broken"], indent=1)[:6000]


def test_a_crashing_c_call_is_coded():
    """`isalpha` indexes a table with its argument: far outside the table, it crashes."""
    proc = _process(b"call-native", b"c", b"isalpha((int)1e16)", b"--header", b"ctype.h")
    assert proc.returncode == 1, proc.stderr
    assert b"error[ffi.call.crashed]" in proc.stderr and b"SIGSEGV" in proc.stderr, proc.stderr
    fine = _process(b"call-native", b"c", b"isalpha(65)", b"--header", b"ctype.h")
    assert fine.returncode == 0 and fine.stdout.strip() not in (b"", b"0"), fine.stderr


def _nested_component(tmp_path, levels):
    chain = "\n".join(f"  (type $t{i + 1} (list $t{i}))" for i in range(levels))
    wat = tmp_path / f"nested{levels}.wat"
    wat.write_text(f'(component\n  (type $t0 (list u8))\n{chain}\n  (import "f" (func (param "x" $t{levels})))\n)\n')
    wasm = tmp_path / f"nested{levels}.wasm"
    subprocess.run(["wasm-tools", "parse", str(wat), "-o", str(wasm)], check=True, timeout=120)
    return wasm


@pytest.mark.parametrize("levels", [90, 98, 5000])
def test_component_types_nested_too_deep_are_malformed(tmp_path, levels):
    """Type indices let a binary nest value types without bound; like wasmparser, more
    than 100 levels is malformed (before: RecursionError from the world's types)."""
    wasm = _nested_component(tmp_path, levels)
    oracle = subprocess.run(["wasm-tools", "validate", str(wasm)], capture_output=True, text=True, timeout=120)
    assert (oracle.returncode == 0) == (levels == 90), oracle.stderr
    if levels == 90:
        assert "f" in str(Component.from_file(wasm).world.imports)
        return
    with pytest.raises(DiagnosticError) as exc:
        Component.from_file(wasm).world
    assert exc.value.code == "ffi.component.malformed" and "too deep" in exc.value.diagnostic.message
    status, _out, err = cases.run_case("reml-wasm", ["inspect", str(wasm)])
    assert status == 1 and "error[ffi.component.malformed]" in err, err
