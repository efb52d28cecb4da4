"""Inputs nested past what a parser allows get coded errors (WIT, BID YAML, nyash.toml,
WAVE, C headers) instead of RecursionError; environment failures at the CLI (unreadable
or unwritable files, bytes that are not UTF-8) are coded diagnostics with exit status 1;
outputs that belong together (.reml + manifest, a plugin skeleton's files) appear
together or not at all."""

import json

import pytest

from reml_wasm import types as t
from reml_wasm import wave, wit
from reml_wasm.audit import DiagnosticError, write_atomic_group
from reml_wasm.bid import nyash_toml, yaml_loader
from reml_wasm.cli import main, plugin_tester_main
from reml_wasm.wit.parser import MAX_TYPE_DEPTH

OK_WIT = "package a:b;\ninterface i {\n  f: func(x: u32) -> u32;\n}\nworld w {\n  export i;\n}\n"


def _nested_wit(n, kind="list"):
    return "package a:b;\ninterface i {\n  type t = " + f"{kind}<" * n + "u8" + ">" * n + ";\n}\n"


@pytest.mark.parametrize("kind", ["list", "option", "tuple"])
def test_wit_type_depth_limit(kind):
    wit.parse_text(_nested_wit(MAX_TYPE_DEPTH - 1, kind))      # the limit itself (the u8 is a level) passes
    for n in (MAX_TYPE_DEPTH, 5000):
        with pytest.raises(DiagnosticError) as exc:
            wit.parse_text(_nested_wit(n, kind))
        assert exc.value.code == "wit.type.too_deep"
        assert exc.value.diagnostic.location.line == 3


@pytest.mark.parametrize("text", ["version: 1\ninterfaces: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "version: 1\nx: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
                                  "version: 1\ninterfaces:\n" + "".join("  " * i + "- \n" for i in range(300))])
def test_bid_yaml_depth_limit(text):
    with pytest.raises(DiagnosticError) as exc:
        yaml_loader.loads(text, "deep.yaml")
    assert exc.value.code == "ffi.bid.too_deep"
    assert exc.value.diagnostic.location.file == "deep.yaml"


@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000 + "\n", "a = " + "{b = " * 5000 + "1" + "}" * 5000])
def test_nyash_toml_depth_limit(text):
    with pytest.raises(DiagnosticError) as exc:
        nyash_toml.loads(text, "nyash.toml")
    assert exc.value.code == "ffi.plugin.config.too_deep"


def test_wave_depth_limit():
    ty = t.U32
    for _ in range(300):
        ty = t.ListType(ty)                                       # types from a binary may nest deep
    with pytest.raises(DiagnosticError) as exc:
        wave.parse_value("[" * 300 + "]" * 300, ty)
    assert exc.value.code == "wave.too_deep"
    shallow = t.ListType(t.ListType(t.U32))
    assert wave.parse_value("[[1], []]", shallow) == [[1], []]


def test_c_header_depth_is_coded(tmp_path, capsys):
    header = tmp_path / "deep.h"
    header.write_text("int f(int x) { return " + "(" * 5000 + "x" + ")" * 5000 + "; }\nint g(void);\n")
    assert main(["call-native", "c", "g()", "--header", str(header)]) == 1
    assert "ffi.bindgen.parse_failed" in capsys.readouterr().err


def test_cli_environment_failures_are_coded(tmp_path, capsys):
    src = tmp_path / "ok.wit"
    src.write_text(OK_WIT)
    bad = tmp_path / "bad.h"
    bad.write_bytes(b"int f(int \xff);\n")
    toml = tmp_path / "nyash.toml"
    toml.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    cases = [(main, ["reml", str(src), "-o", "/proc/nope/x.reml"], "ffi.reml.write_failed"),
             (main, ["call-native", "c", "abs(1)", "--header", str(bad)], "ffi.bindgen.parse_failed"),
             (main, ["wit", str(tmp_path / "absent.wit")], "wit.io.read_failed"),
             (plugin_tester_main, ["-c", str(toml), "check"], "ffi.plugin.config.too_deep")]
    for entry, argv, code in cases:
        assert entry(argv) == 1, argv
        err = capsys.readouterr().err
        assert f"[{code}]" in err and "internal.error" not in err, (argv, err)
    assert f"{bad}:1:11: error[ffi.bindgen.parse_failed]: the header is not UTF-8 text (byte 0xff)" in \
        main_err(["call-native", "c", "abs(1)", "--header", str(bad)], capsys)


def main_err(argv, capsys):
    assert main(argv) == 1
    return capsys.readouterr().err


def test_reml_and_manifest_appear_together_or_not_at_all(tmp_path, capsys):
    src = tmp_path / "ok.wit"
    src.write_text(OK_WIT)
    out, manifest = tmp_path / "w.reml", tmp_path / "w.json"
    assert main(["reml", str(src), "-o", str(out), "--manifest", str(manifest)]) == 0
    old_reml, old_manifest = out.read_text(), manifest.read_text()
    # a second run whose manifest cannot be written: the .reml keeps its old contents
    src.write_text(OK_WIT.replace("x: u32", "renamed: u32"))
    manifest.unlink()
    manifest.mkdir()                                              # renaming onto a directory fails
    assert main(["reml", str(src), "-o", str(out), "--manifest", str(manifest)]) == 1
    assert "ffi.reml.write_failed" in capsys.readouterr().err
    assert out.read_text() == old_reml
    fresh = tmp_path / "fresh.reml"
    assert main(["reml", str(src), "-o", str(fresh), "--manifest", str(manifest)]) == 1
    assert not fresh.exists()                                     # a new file is not left alone either
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ok.wit", "w.reml", "w.json"])
    assert json.loads(old_manifest)


def test_write_atomic_group_rolls_back(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b"
    a.write_text("old a")
    b.mkdir()
    with pytest.raises(OSError):
        write_atomic_group({a: "new a", b: "new b"})
    assert a.read_text() == "old a" and b.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b"]
    write_atomic_group({a: "new a", tmp_path / "c.txt": b"c"})
    assert a.read_text() == "new a" and (tmp_path / "c.txt").read_bytes() == b"c"
