"""Property tests for the WIT front-end (strategies in tests/strategies_wit.py)."""

from __future__ import annotations

import subprocess

import re

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from reml_wasm import wit
from reml_wasm.audit import DiagnosticError
from strategies_wit import wit_packages

FAST = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(wit_packages(), st.booleans())
def test_print_then_parse_gives_the_same_model(text, fancy):
    features = ["fancy"] if fancy else []
    try:
        first = wit.parse_text(text, "gen.wit", features)
    except DiagnosticError:  # rare: e.g. an import that uses an export
        assume(False)
    printed = first.to_wit()
    second = wit.parse_text(printed, "printed.wit", features)
    # the resolved model (reml_wasm.types) is the same ...
    assert second.packages == first.packages
    # ... and printing is a fixed point (same arenas, same text)
    assert second.to_wit() == printed
    again = wit.parse_text(second.to_wit(), "again.wit", features)
    assert again.to_json() == second.to_json()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(wit_packages(), st.booleans())
def test_generated_worlds_match_wasm_tools(tmp_path_factory, text, fancy):
    path = tmp_path_factory.mktemp("gen") / "gen.wit"
    path.write_text(text)
    args = ["wasm-tools", "component", "wit", "--json", str(path)]
    if fancy:
        args += ["--features", "fancy"]
    proc = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=60)
    features = ["fancy"] if fancy else []
    if proc.returncode != 0:  # the generator rarely makes an invalid world: both must say so
        line = re.search(r"-->\s+.*?:(\d+):\d+", proc.stderr)
        try:
            wit.load(path, features)
        except DiagnosticError as exc:
            loc = exc.diagnostic.location
            assert line is None or (loc is not None and loc.line == int(line.group(1)))
            return
        raise AssertionError(f"wasm-tools rejected, we accepted: {proc.stderr}")
    assert wit.load(path, features).to_json_text() == proc.stdout


_EDITS = st.sampled_from(["delete", "insert", "replace", "swap", "duplicate"])
_SNIPPETS = st.sampled_from(["{", "}", ";", ":", "<", ">", ",", "(", ")", "@", "%", "/", "->", "_",
                             "func", "record", "use", "list<", "package", "interface", "world",
                             "borrow<", "own<", "x", "1.0.0", "@since(version = 9.9.9)", "\n",
                             "/*", "*/", "//", "é", "\x00", "0", "-", "--", "include", "as"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(wit_packages(), st.lists(st.tuples(_EDITS, st.integers(0, 10_000), st.integers(0, 40), _SNIPPETS),
                                min_size=1, max_size=4))
def test_mutated_text_gives_a_model_or_a_wit_diagnostic(text, edits):
    for kind, pos, length, snippet in edits:
        pos %= max(len(text), 1)
        if kind == "delete":
            text = text[:pos] + text[pos + length:]
        elif kind == "insert":
            text = text[:pos] + snippet + text[pos:]
        elif kind == "replace":
            text = text[:pos] + snippet + text[pos + len(snippet):]
        elif kind == "swap":
            other = (pos + length) % max(len(text), 1)
            a, b = sorted((pos, other))
            text = text[:a] + text[b:b + 1] + text[a + 1:b] + text[a:a + 1] + text[b + 1:]
        else:
            text = text[:pos] + text[pos:pos + length] * 2 + text[pos + length:]
    try:
        resolved = wit.parse_text(text, "mutated.wit")
    except DiagnosticError as exc:
        assert all(d.code.startswith("wit.") for d in exc.diagnostics)
        loc = exc.diagnostic.location
        if loc is not None:
            assert loc.file == "mutated.wit" and loc.line >= 1 and loc.column >= 1
        return
    # a mutant that still resolves must also print and convert
    resolved.to_wit()
    resolved.to_json()
    assert resolved.packages
