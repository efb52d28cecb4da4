"""WIT -> Reml bindings: golden files for a world using every WIT type, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from reml_wasm import wit
from reml_wasm.cli import main
from reml_wasm.reml.wit_bindings import emit

GOLDEN = Path(__file__).parent / "golden" / "wit_reml"
SOURCE = "tests/golden/wit_reml/all_types.wit"


def _emit():
    world = wit.load(GOLDEN / "all_types.wit").world("app")
    return emit(world, "tests.golden.wit_reml.all_types", SOURCE)


def test_reml_text_matches_golden():
    text, _ = _emit()
    assert text == (GOLDEN / "all_types.reml").read_text()


def test_manifest_matches_golden_and_covers_every_kind():
    _, manifest = _emit()
    assert manifest == json.loads((GOLDEN / "all_types.manifest.json").read_text())
    kinds = {t["kind"] for t in manifest["types"]}
    assert kinds >= {"record", "variant", "enum", "flags", "resource", "alias", "list", "map", "tuple",
                     "option", "result", "own", "borrow", "future", "stream", "primitive"}
    by_wit = {(t["wit"], t["kind"]): t["reml"] for t in manifest["types"]}
    assert by_wit[("string", "primitive")] == "Str"
    assert by_wit[("list<u8>", "list")] == "Bytes"
    assert by_wit[("option<string>", "option")] == "Option<Str>"
    assert by_wit[("borrow<file>", "borrow")] == "Borrow<file>"
    assert by_wit[("file", "own")] == "Owned<file>"
    assert by_wit[("perms", "flags")] == "perms"
    fixed = next(t for t in manifest["types"] if t["wit"] == "list<u8, 4>")
    assert fixed["reml"] == "List<u8>" and fixed["length"] == 4
    names = [(f["direction"], f["wit"]) for f in manifest["functions"]]
    assert ("import", "[method]file.read") in names and ("export", "run") in names


def test_reml_text_declares_every_definition():
    text, _ = _emit()
    for line in ("pub type point = { x: i32, y: i32 }", "pub enum color = Red | Green | DarkBlue",
                 "pub type perms = Set<perms_flag>", "pub type file = FfiResourceHandle",
                 "pub enum shape = Circle(f64) | Rect((point, point)) | Empty"):
        assert line in text


def test_cli_writes_bindings_and_manifest(tmp_path, capsys):
    out = tmp_path / "bindings" / "app.reml"
    assert main(["reml", str(GOLDEN / "all_types.wit"), "--world", "app", "-o", str(out)]) == 0
    golden = (GOLDEN / "all_types.reml").read_text().splitlines()
    written = out.read_text().splitlines()
    # only the source and module lines depend on the paths given
    assert written[3:] == golden[3:]
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    assert manifest["world"] == "app" and manifest["types"]


def test_cli_errors_are_diagnostics(tmp_path, capsys):
    bad = tmp_path / "bad.wit"
    bad.write_text("package a:b;\nworld w { import f: func() -> nope; }\n")
    assert main(["reml", str(bad), "-o", str(tmp_path / "x.reml")]) == 1
    err = capsys.readouterr().err
    assert "wit.name.unresolved" in err and "bad.wit:2:" in err and "Traceback" not in err
    assert not (tmp_path / "x.reml").exists()
    assert main(["reml", str(GOLDEN / "all_types.wit"), "--world", "nope", "-o",
                 str(tmp_path / "y.reml")]) == 1
