"""`reml-wasm build`: every rule of the reml.json `ffi` section, checked for its code, its
field path and its file:line:col; library naming and de-duplication; the audit records;
the located JSON reader (hypothesis against the standard json module)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from bench_discipline import check_table
from reml_wasm.build import BuildOptions, run_build
from reml_wasm.build.config import load_section
from reml_wasm.build.jsonpos import format_path, load_located
from reml_wasm.build.libraries import library_key, platform_file_name, unique_libraries

ROOT = Path(__file__).resolve().parent.parent
HEADER = "int mx_add(int a, int b);\ndouble mx_scale(double x, double k);\n"


def project(tmp_path: Path, reml_json: str, header: str | None = HEADER) -> Path:
    if header is not None:
        (tmp_path / "include").mkdir(exist_ok=True)
        (tmp_path / "include" / "math_ext.h").write_text(header)
    (tmp_path / "reml.json").write_text(reml_json)
    return tmp_path / "reml.json"


def where(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the nth occurrence of `needle`."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def build(config: Path, **kw) -> "object":
    return run_build(BuildOptions(config=str(config), **kw))


def only(report, code: str):
    found = [d for d in report.diagnostics if d.code == code]
    assert len(found) == 1, [d.to_json() for d in report.diagnostics]
    return found[0]


def located(diag, config: Path, line_col: tuple[int, int], field: str | None) -> None:
    assert diag.location is not None
    assert (diag.location.file, diag.location.line, diag.location.column) == (str(config), *line_col)
    ext = diag.extensions["ffi.build"]
    assert ext["path"] == "reml.json"
    assert ext.get("field") == field


GOOD = """{
  "ffi": {
    "libraries": ["m"],
    "headers": ["include/math_ext.h"],
    "bindgen": {"enabled": true, "output": "generated/math.reml",
                "manifest": "generated/bindings.manifest.json"},
    "linker": {"search_paths": ["/usr/lib"], "frameworks": [], "extra_args": []}
  }
}
"""


def test_good_project_builds_binds_and_audits(tmp_path):
    config = project(tmp_path, GOOD)
    report = build(config)
    assert report.status == "success", [d.to_json() for d in report.diagnostics]
    reml = (tmp_path / "generated" / "math.reml").read_text()
    assert "fn mx_add(a: i32, b: i32) -> i32;" in reml and "module generated.math" in reml
    manifest = json.loads((tmp_path / "generated" / "bindings.manifest.json").read_text())
    assert manifest["input_hash"] == report.input_hash
    assert manifest["generated"] == "math.reml"
    bindgen, build_meta = (e.to_json()["metadata"] for e in report.envelopes)
    assert list(bindgen) == ["ffi.bindgen"] and list(build_meta) == ["ffi.build"]
    assert list(bindgen["ffi.bindgen"]) == ["event", "status", "input_hash", "manifest_path", "headers",
                                            "config_path", "output_path", "cache_path", "duration_ms",
                                            "tool_version"]
    assert bindgen["ffi.bindgen"]["status"] == "success"
    assert bindgen["ffi.bindgen"]["cache_path"] == str(tmp_path / ".reml" / "cache" / "ffi" / report.input_hash)
    meta = build_meta["ffi.build"]
    assert list(meta) == ["event", "status", "input_hash", "manifest_path", "libraries", "linker_paths",
                          "frameworks", "extra_args", "duration_ms"]
    assert meta["libraries"] == ["libm.so"] and meta["linker_paths"] == ["/usr/lib"]
    logged = [json.loads(line) for line in (tmp_path / ".reml" / "audit.jsonl").read_text().splitlines()]
    assert logged == [e.to_json() for e in report.envelopes]
    again = build(config)
    assert again.cache == "hit"
    hit = again.envelopes[0].to_json()["metadata"]["ffi.bindgen"]
    assert hit["status"] == "cache_hit" and "headers" not in hit


def test_enabled_bindgen_without_output(tmp_path):
    text = GOOD.replace('"output": "generated/math.reml",\n', "")
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.config_invalid")
    located(d, config, where(text, '{"enabled"'), "ffi.bindgen.output")


def test_enabled_bindgen_without_headers(tmp_path):
    text = GOOD.replace('"include/math_ext.h"', "")
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.config_invalid")
    located(d, config, where(text, "[]"), "ffi.headers")
    text = GOOD.replace('    "headers": ["include/math_ext.h"],\n', "")
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.config_invalid")
    located(d, config, where(text, "{\n    \"libraries"), "ffi.headers")


def test_output_must_end_in_reml(tmp_path):
    text = GOOD.replace("generated/math.reml", "generated/math.txt")
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.config_invalid")
    located(d, config, where(text, '"generated/math.txt"'), "ffi.bindgen.output")
    assert not (tmp_path / "generated").exists()


@pytest.mark.parametrize("key,needle,field", [
    ("libraries", '["", "m"]', "ffi.libraries[0]"),
    ("headers", '["include/math_ext.h", " "]', "ffi.headers[1]"),
    ("search_paths", '["/usr/lib", ""]', "ffi.linker.search_paths[1]"),
    ("frameworks", '[""]', "ffi.linker.frameworks[0]"),
    ("extra_args", '[""]', "ffi.linker.extra_args[0]"),
])
def test_empty_list_entries(tmp_path, key, needle, field):
    text = {
        "libraries": GOOD.replace('["m"]', needle),
        "headers": GOOD.replace('["include/math_ext.h"]', needle),
        "search_paths": GOOD.replace('["/usr/lib"]', needle),
        "frameworks": GOOD.replace('"frameworks": []', f'"frameworks": {needle}'),
        "extra_args": GOOD.replace('"extra_args": []', f'"extra_args": {needle}'),
    }[key]
    config = project(tmp_path, text)
    report = build(config)
    assert report.status == "failed"
    d = only(report, "ffi.build.config_invalid")
    line, col = where(text, needle)
    offset = needle.index(", ") + 2 if field.endswith("[1]") else 1
    located(d, config, (line, col + offset), field)


@pytest.mark.parametrize("field,old,new", [
    ("ffi.headers[0]", '"include/math_ext.h"', '"../outside.h"'),
    ("ffi.bindgen.output", '"generated/math.reml"', '"/tmp/elsewhere/math.reml"'),
    ("ffi.bindgen.manifest", '"generated/bindings.manifest.json"', '"generated/../../m.json"'),
])
def test_paths_outside_the_project(tmp_path, field, old, new):
    proj = tmp_path / "proj"
    proj.mkdir()
    text = GOOD.replace(old, new)
    config = project(proj, text)
    d = only(build(config), "ffi.build.path_outside_project")
    located(d, config, where(text, new), field)


def test_symlink_out_of_the_project_is_outside(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (tmp_path / "secret.h").write_text(HEADER)
    (proj / "link.h").symlink_to(tmp_path / "secret.h")
    text = GOOD.replace('"include/math_ext.h"', '"link.h"')
    config = project(proj, text)
    d = only(build(config), "ffi.build.path_outside_project")
    located(d, config, where(text, '"link.h"'), "ffi.headers[0]")


def test_frameworks_on_linux_warn_and_the_build_goes_on(tmp_path):
    text = GOOD.replace('"frameworks": []', '"frameworks": ["Cocoa"]')
    config = project(tmp_path, text)
    report = build(config)
    assert report.status == "success"
    d = only(report, "ffi.build.framework_unsupported")
    assert d.severity == "warning"
    located(d, config, where(text, '["Cocoa"]'), "ffi.linker.frameworks")
    section, found, _ = load_section(config, platform="darwin")
    assert [x.code for x in found] == []


def test_unresolvable_libraries_are_link_failed_each(tmp_path):
    text = GOOD.replace('["m"]', '["m", "no_such_lib_a", "no_such_lib_b"]')
    config = project(tmp_path, text)
    report = build(config)
    assert report.status == "failed"
    failed = [d for d in report.diagnostics if d.code == "ffi.build.link_failed"]
    assert [d.extensions["ffi.build"]["field"] for d in failed] == ["ffi.libraries[1]", "ffi.libraries[2]"]
    located(failed[1], config, where(text, '"no_such_lib_b"'), "ffi.libraries[2]")
    assert failed[0].extensions["ffi.build"]["cause"] == "ffi.library.not_found"
    meta = report.envelopes[-1].to_json()["metadata"]["ffi.build"]
    assert meta["status"] == "failed"


def test_library_that_exists_but_does_not_load_is_link_failed(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libjunk.so").write_bytes(b"not an ELF file")
    text = GOOD.replace('["m"]', '["junk"]').replace('["/usr/lib"]', '["lib"]')
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.link_failed")
    assert d.extensions["ffi.build"]["cause"] == "ffi.library.load_failed"
    located(d, config, where(text, '"junk"'), "ffi.libraries[0]")


def test_several_errors_in_one_run(tmp_path):
    text = """{
  "ffi": {
    "libraries": ["", "no_such_lib_c"],
    "headers": ["../outside.h"],
    "bindgen": {"enabled": "yes", "output": "x.txt"},
    "linker": {"search_paths": 5},
    "bogus": 1
  }
}
"""
    config = project(tmp_path, text, header=None)
    report = build(config)
    got = [(d.code, d.extensions["ffi.build"].get("field"), d.location.line, d.location.column)
           for d in report.diagnostics]
    assert ("ffi.build.config_invalid", "ffi.bogus", *where(text, '"bogus"')) in got
    assert ("ffi.build.config_invalid", "ffi.libraries[0]", *where(text, '""')) in got
    assert ("ffi.build.path_outside_project", "ffi.headers[0]", *where(text, '"../outside.h"')) in got
    assert ("ffi.build.config_invalid", "ffi.bindgen.enabled", *where(text, '"yes"')) in got
    assert ("ffi.build.config_invalid", "ffi.bindgen.output", *where(text, '"x.txt"')) in got
    assert ("ffi.build.config_invalid", "ffi.linker.search_paths", *where(text, "5}")) in got
    assert ("ffi.build.link_failed", "ffi.libraries[1]", *where(text, '"no_such_lib_c"')) in got
    assert report.status == "failed"


def test_invalid_json_and_missing_file(tmp_path):
    text = '{\n  "ffi": {\n    "libraries": ["m",]\n  }\n}\n'
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.config_invalid")
    assert (d.location.line, d.location.column) == where(text, "]")
    assert len((tmp_path / ".reml" / "audit.jsonl").read_text().splitlines()) == 1
    d = only(build(tmp_path / "sub" / "reml.json"), "ffi.build.config_invalid")
    assert "not found" in d.message
    assert not (tmp_path / "sub").exists()


def test_header_that_does_not_exist(tmp_path):
    text = GOOD.replace('"include/math_ext.h"', '"include/missing.h"')
    config = project(tmp_path, text)
    d = only(build(config), "ffi.build.config_invalid")
    located(d, config, where(text, '"include/missing.h"'), "ffi.headers[0]")


def test_bad_bindgen_toml_is_reported_with_its_own_code(tmp_path):
    text = GOOD.replace('"enabled": true,', '"enabled": true, "config": "reml-bindgen.toml",')
    config = project(tmp_path, text)
    (tmp_path / "reml-bindgen.toml").write_text('headers = ["include/math_ext.h"]\n')
    report = build(config)
    assert report.status == "failed"
    assert report.diagnostics[0].code == "ffi.bindgen.config_invalid"
    assert report.envelopes[0].to_json()["metadata"]["ffi.bindgen"]["status"] == "failed"


def test_bindgen_toml_adds_defines_and_headers(tmp_path):
    text = GOOD.replace('"enabled": true,', '"enabled": true, "config": "reml-bindgen.toml",')
    config = project(tmp_path, text)
    (tmp_path / "include" / "extra.h").write_text("#ifdef WITH_EXTRA\nint extra_fn(void);\n#endif\n")
    (tmp_path / "reml-bindgen.toml").write_text(
        'headers = ["include/extra.h"]\ninclude_paths = ["include"]\noutput = "x.reml"\n'
        'manifest = "x.json"\ndefines = ["WITH_EXTRA"]\n')
    report = build(config)
    assert report.status == "success", [d.to_json() for d in report.diagnostics]
    reml = (tmp_path / "generated" / "math.reml").read_text()
    assert "fn extra_fn() -> i32;" in reml and "fn mx_add" in reml
    assert not (tmp_path / "x.reml").exists()


def test_disabled_bindgen_is_skipped_unless_emit_bindgen(tmp_path):
    text = GOOD.replace('"enabled": true', '"enabled": false')
    config = project(tmp_path, text)
    report = build(config)
    assert report.status == "success"
    assert report.envelopes[0].to_json()["metadata"]["ffi.bindgen"]["status"] == "skipped"
    assert not (tmp_path / "generated").exists()
    report = build(config, emit_bindgen=True)
    assert report.envelopes[0].to_json()["metadata"]["ffi.bindgen"]["status"] == "success"
    assert (tmp_path / "generated" / "math.reml").is_file()


def test_hand_written_output_gets_the_overwrite_warning(tmp_path):
    config = project(tmp_path, GOOD)
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "math.reml").write_text("my own file\n")
    report = build(config)
    assert only(report, "ffi.bindgen.output_overwrite").severity == "warning"
    assert report.status == "success"
    assert (tmp_path / "generated" / "math.reml").read_text().startswith("// generated by reml-bindgen")
    assert not [d for d in build(config).diagnostics if d.code == "ffi.bindgen.output_overwrite"]


def test_libraries_are_deduplicated_with_platform_names():
    names = ["m", "libm", "libm.so", "sqlite3", "m", "libsqlite3.so.0", "z"]
    assert unique_libraries(names) == [(0, "m"), (3, "sqlite3"), (6, "z")]
    assert library_key("libfoo.dylib") == "foo" == library_key("foo.dll")
    assert platform_file_name("m", "linux") == "libm.so"
    assert platform_file_name("m", "darwin") == "libm.dylib"
    assert platform_file_name("m", "win32") == "m.dll"
    assert platform_file_name("build/libx.so", "linux") == "libx.so"


def test_cli_human_and_json_formats(tmp_path):
    text = GOOD.replace('["m"]', '["", "m"]')
    config = project(tmp_path, text)
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "build", "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    line, col = where(text, '""')
    assert f"{config}:{line}:{col}: error[ffi.build.config_invalid]" in proc.stderr
    config = project(tmp_path, GOOD)
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "build", "--config", str(config),
                           "--format", "json", "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "success" and out["cache"] == "off"
    assert "cache_path" not in out["audit"][0]["metadata"]["ffi.bindgen"]
    assert not (tmp_path / ".reml" / "cache" / "ffi").exists()


# --- the located JSON reader -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


def _paths(value, prefix=()):
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@settings(max_examples=60, deadline=None)
@given(value=json_values, indent=st.sampled_from([None, 1, 2]))
def test_every_recorded_position_starts_its_value(value, indent):
    text = json.dumps(value, indent=indent)
    doc = load_located(text)
    for path, sub in _paths(doc.value):
        start = doc.value_at[path]
        decoded, end = json.JSONDecoder().raw_decode(text, start)
        assert decoded == sub, (format_path(path), text)


def test_bench_build_quick_reports_both_paths(capsys):
    from reml_wasm.cli import main
    assert main(["bench", "build", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    rows = check_table(table)
    assert table["columns"] == ["path", "cold ms", "cache hit ms", "spread", "hit / cold", "goal"]
    assert [r[0] for r in rows] == ["run_build (in process)", "run_build, outputs deleted before the hit",
                                    "python -m reml_wasm build (process)"]
    assert all(r[1] > 0 and r[2] > 0 for r in rows)
    for r in rows[:2]:   # the goal is judged on the hit / cold ratio of this run
        assert r[5] == f"<= 10%: {'met' if r[2] / r[1] <= 0.10 else 'MISSED'}"
    assert "functions bound" in table["notes"][0]


@settings(max_examples=40, deadline=None)
@given(libs=st.lists(st.sampled_from(["m", "", " ", "c", "libm.so", "dl"]), max_size=6),
       indent=st.sampled_from([None, 2]))
def test_every_bad_library_entry_is_reported_at_its_index(tmp_path_factory, libs, indent):
    root = tmp_path_factory.mktemp("libs")
    config = root / "reml.json"
    text = json.dumps({"ffi": {"libraries": libs}}, indent=indent)
    config.write_text(text)
    section, found, _ = load_section(config)
    doc = load_located(text)
    bad = [i for i, name in enumerate(libs) if not name.strip()]
    assert [d.extensions["ffi.build"]["field"] for d in found] == [f"ffi.libraries[{i}]" for i in bad]
    for d, i in zip(found, bad):
        assert (d.location.line, d.location.column) == doc.line_col(doc.value_at[("ffi", "libraries", i)])
    kept = [n for n in libs if n.strip()]
    assert section.libraries == kept
    assert [section.field_path("libraries", k)[-1] for k in range(len(kept))] == \
        [i for i, n in enumerate(libs) if n.strip()]
