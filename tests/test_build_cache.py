"""The bindgen cache of `reml-wasm build` with real processes: builds killed with SIGKILL at
random moments never leave an entry a later build takes as a hit; concurrent builds all
succeed and leave one valid entry; corrupt entries are misses with a warning; a hit
restores outputs byte-identical to a fresh run; an output directory that cannot take
the files gives a coded error and no partial file."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reml_wasm.build import BindgenCache, BuildOptions, run_build
from reml_wasm.build.cache import ENTRY_FILE, TEMP_PREFIX, read_entry

ROOT = Path(__file__).resolve().parent.parent

REML_JSON = {"ffi": {"libraries": ["m"], "headers": ["include/api.h"],
                     "bindgen": {"enabled": True, "output": "generated/api.reml",
                                 "manifest": "generated/bindings.manifest.json"}}}
API_H = """#include "types.h"
typedef struct point { mx_int x; mx_int y; } point;
mx_int mx_add(mx_int a, mx_int b);
double mx_norm(const point *p);
void mx_reset(void);
"""
TYPES_H = "typedef int mx_int;\n"
OUTPUTS = ("generated/api.reml", "generated/bindings.manifest.json")


def make_project(path: Path) -> Path:
    (path / "include").mkdir(parents=True, exist_ok=True)
    (path / "include" / "api.h").write_text(API_H)
    (path / "include" / "types.h").write_text(TYPES_H)
    (path / "reml.json").write_text(json.dumps(REML_JSON, indent=2))
    return path / "reml.json"


def outputs(project: Path) -> dict[str, bytes]:
    return {name: (project / name).read_bytes() for name in OUTPUTS}


def entries(project: Path) -> list[Path]:
    root = project / ".reml" / "cache" / "ffi"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


def cli(config: Path, *extra: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reml_wasm", "build", "--config", str(config),
                             "--format", "json", *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The outputs of a fresh build that never saw a cache."""
    project = tmp_path_factory.mktemp("reference")
    report = run_build(BuildOptions(config=str(make_project(project)), use_cache=False))
    assert report.status == "success", [d.to_json() for d in report.diagnostics]
    return outputs(project)


def test_hit_restores_outputs_byte_identical_to_a_fresh_run(tmp_path, reference):
    config = make_project(tmp_path / "a")
    first = run_build(BuildOptions(config=str(config)))
    assert first.cache == "miss" and outputs(tmp_path / "a") == reference
    for name in OUTPUTS:
        (tmp_path / "a" / name).unlink()
    second = run_build(BuildOptions(config=str(config)))
    assert second.cache == "hit" and outputs(tmp_path / "a") == reference
    # the key is content, not place: another copy of the project at another path hits
    shutil.copytree(tmp_path / "a", tmp_path / "b", ignore=shutil.ignore_patterns("generated"))
    shutil.rmtree(tmp_path / "a")
    moved = run_build(BuildOptions(config=str(tmp_path / "b" / "reml.json")))
    assert moved.cache == "hit" and outputs(tmp_path / "b") == reference
    assert moved.diagnostics == []
    assert moved.input_hash == first.input_hash


def test_build_outputs_equal_a_plain_reml_bindgen_run(tmp_path, reference, capsys):
    """The build's files (fresh or from the cache) are what reml-bindgen itself writes for
    the same headers and settings."""
    from reml_wasm.cli import bindgen_main
    make_project(tmp_path)
    (tmp_path / "reml-bindgen.toml").write_text(
        'headers = ["include/api.h"]\ninclude_paths = ["."]\noutput = "generated/api.reml"\n'
        'manifest = "generated/bindings.manifest.json"\n')
    assert bindgen_main(["--config", str(tmp_path / "reml-bindgen.toml")]) == 0
    capsys.readouterr()
    assert outputs(tmp_path) == reference


def test_changes_that_alter_output_change_the_hash_or_miss(tmp_path):
    config = make_project(tmp_path)
    base = run_build(BuildOptions(config=str(config)))
    (tmp_path / "include" / "api.h").write_text(API_H + "int mx_more(void);\n")
    changed = run_build(BuildOptions(config=str(config)))
    assert changed.input_hash != base.input_hash and changed.cache == "miss"
    assert b"mx_more" in (tmp_path / OUTPUTS[0]).read_bytes()
    # an included header is not hashed into the key but recorded in the entry: a change
    # to it makes the entry stale (a miss), never a hit with old bindings
    (tmp_path / "include" / "types.h").write_text("typedef long mx_int;\n")
    stale = run_build(BuildOptions(config=str(config)))
    assert stale.input_hash == changed.input_hash and stale.cache == "miss"
    assert stale.diagnostics == []  # out of date is not corrupt
    assert b"mx_add(a: i64, b: i64) -> i64" in (tmp_path / OUTPUTS[0]).read_bytes()
    assert run_build(BuildOptions(config=str(config))).cache == "hit"


def _corrupt_cases():
    def truncate(entry: Path):
        f = entry / "bindings.reml"
        f.write_bytes(f.read_bytes()[:10])

    def flip(entry: Path):
        f = entry / "bindings.manifest.json"
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0x01
        f.write_bytes(bytes(data))

    def same_size_other_text(entry: Path):
        f = entry / "bindings.reml"
        f.write_bytes(f.read_bytes().replace(b"i32", b"u32"))

    def no_entry_json(entry: Path):
        (entry / ENTRY_FILE).unlink()

    def garbage_entry_json(entry: Path):
        (entry / ENTRY_FILE).write_bytes(b'{"version": 1, "files": ')

    def missing_file(entry: Path):
        (entry / "bindings.reml").unlink()

    def empty_dir(entry: Path):
        shutil.rmtree(entry)
        entry.mkdir()

    def other_hash(entry: Path):
        meta = json.loads((entry / ENTRY_FILE).read_text())
        meta["input_hash"] = "0" * 16
        (entry / ENTRY_FILE).write_text(json.dumps(meta))

    return [truncate, flip, same_size_other_text, no_entry_json, garbage_entry_json, missing_file,
            empty_dir, other_hash]


@pytest.mark.parametrize("corrupt", _corrupt_cases(), ids=lambda f: f.__name__)
def test_corrupt_entry_is_a_miss_with_a_warning_and_is_replaced(tmp_path, reference, corrupt):
    config = make_project(tmp_path)
    assert run_build(BuildOptions(config=str(config))).cache == "miss"
    (entry,) = entries(tmp_path)
    corrupt(entry)
    report = run_build(BuildOptions(config=str(config)))
    assert report.status == "success" and report.cache == "miss"
    warnings = [d for d in report.diagnostics if d.code == "ffi.build.cache_corrupt"]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert outputs(tmp_path) == reference
    assert read_entry(entry, report.input_hash)[0] is not None
    assert run_build(BuildOptions(config=str(config))).cache == "hit"


def test_store_onto_an_existing_entry(tmp_path):
    cache = BindgenCache(tmp_path)
    files = {"bindings.reml": b"one", "bindings.manifest.json": b"{}"}
    path = cache.store("00112233aabbccdd", files)
    assert cache.store("00112233aabbccdd", {"bindings.reml": b"two", "bindings.manifest.json": b"{}"}) == path
    assert cache.lookup("00112233aabbccdd")[0].files == files  # the first whole entry stays
    (path / "bindings.reml").write_bytes(b"bad")
    assert cache.lookup("00112233aabbccdd")[0] is None
    cache.store("00112233aabbccdd", {"bindings.reml": b"three", "bindings.manifest.json": b"{}"})
    assert cache.lookup("00112233aabbccdd")[0].files["bindings.reml"] == b"three"
    assert [p.name for p in cache.root.iterdir()] == ["00112233aabbccdd"]


def test_orphaned_temp_dirs_are_cleaned_when_old(tmp_path):
    config = make_project(tmp_path)
    root = tmp_path / ".reml" / "cache" / "ffi"
    old, young = root / f"{TEMP_PREFIX}old-x", root / f"{TEMP_PREFIX}young-x"
    for d in (old, young):
        d.mkdir(parents=True)
        (d / "bindings.reml").write_bytes(b"half")
    past = time.time() - 3600
    os.utime(old, (past, past))
    run_build(BuildOptions(config=str(config)))
    assert not old.exists() and young.exists()


@pytest.mark.parametrize("count", [2, 4])
def test_concurrent_builds_all_succeed_and_leave_one_valid_entry(tmp_path, reference, count):
    config = make_project(tmp_path)
    procs = [cli(config) for _ in range(count)]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert json.loads(out)["status"] == "success"
    (entry,) = entries(tmp_path)
    assert read_entry(entry, entry.name)[0] is not None
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")]
    assert outputs(tmp_path) == reference


def test_concurrent_builds_replace_a_corrupt_entry_once(tmp_path, reference):
    config = make_project(tmp_path)
    assert run_build(BuildOptions(config=str(config))).cache == "miss"
    (entry,) = entries(tmp_path)
    (entry / "bindings.reml").write_bytes(b"// generated by reml-bindgen\nbroken\n")
    procs = [cli(config) for _ in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        report = json.loads(out)
        assert report["cache"] in ("hit", "miss")  # a hit only on the replaced, whole entry
    assert read_entry(entry, entry.name)[0] is not None
    assert entries(tmp_path) == [entry]
    assert outputs(tmp_path) == reference


def test_sigkill_at_random_moments_never_leaves_a_broken_hit(tmp_path, reference):
    """At least 50 builds killed at random delays across the span of a whole build (most of a
    build's time is the interpreter starting, so delays start a third of the way in);
    after each, every entry in place verifies; builds in between and at the end give the
    reference bytes."""
    config = make_project(tmp_path)
    spans = []
    for _ in range(3):
        for entry in entries(tmp_path):
            shutil.rmtree(entry)
        t0 = time.perf_counter()
        cli(config).communicate(timeout=120)
        spans.append(time.perf_counter() - t0)
    span = sorted(spans)[1]
    rng = random.Random(12)
    killed = mid_store = i = 0
    while killed < 52 and i < 150:
        i += 1
        for entry in entries(tmp_path):
            shutil.rmtree(entry)  # each run must store, so kills land in every stage
        before = set((tmp_path / ".reml" / "cache" / "ffi").iterdir())
        proc = cli(config)
        time.sleep(rng.uniform(0.35 * span, span))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=120)
        mid_store += bool(set((tmp_path / ".reml" / "cache" / "ffi").iterdir()) - before - set(entries(tmp_path)))
        for entry in entries(tmp_path):
            assert read_entry(entry, entry.name)[0] is not None, f"run {i}: broken entry {entry}"
        if i % 15 == 0:
            check = cli(config)
            out, err = check.communicate(timeout=120)
            assert check.returncode == 0, err
            assert json.loads(out)["cache"] in ("hit", "miss")
            assert outputs(tmp_path) == reference
    print(f"{killed} builds killed, {mid_store} of them while storing the entry")
    assert killed >= 50
    report = run_build(BuildOptions(config=str(config)))
    assert report.status == "success" and outputs(tmp_path) == reference
    leftovers = [p for p in (tmp_path / "generated").iterdir() if p.name not in ("api.reml", "bindings.manifest.json")]
    assert all(p.name.endswith(".tmp") for p in leftovers)  # only temp siblings of killed writes
    BindgenCache(tmp_path / ".reml" / "cache").clean_orphans(max_age_s=0)
    assert [p.name for p in (tmp_path / ".reml" / "cache" / "ffi").iterdir()] == [report.input_hash]


def test_output_parent_is_a_file_gives_a_coded_error_and_no_partial_file(tmp_path):
    config = make_project(tmp_path)
    (tmp_path / "generated").write_text("a regular file where the output directory should be\n")
    proc = cli(config)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in err
    report = json.loads(out)
    assert [d["code"] for d in report["diagnostics"] if d["severity"] == "error"] == ["ffi.build.output_failed"]
    bindgen = report["audit"][0]["metadata"]["ffi.bindgen"]
    assert bindgen["status"] == "failed" and bindgen["error.code"] == "ffi.build.output_failed"
    assert report["audit"][1]["metadata"]["ffi.build"]["status"] == "failed"
    assert (tmp_path / "generated").read_text().startswith("a regular file")


def test_output_path_taken_by_a_directory_gives_a_coded_error(tmp_path, reference):
    config = make_project(tmp_path)
    (tmp_path / "generated" / "api.reml").mkdir(parents=True)
    report = run_build(BuildOptions(config=str(config)))
    assert report.status == "failed"
    assert [d.code for d in report.errors] == ["ffi.build.output_failed"]
    assert report.errors[0].extensions["ffi.build"]["output"] == "generated/api.reml"
    assert sorted(p.name for p in (tmp_path / "generated").iterdir()) == ["api.reml"]
    (tmp_path / "generated" / "api.reml").rmdir()
    again = run_build(BuildOptions(config=str(config)))  # the entry stored before is whole
    assert again.cache == "hit" and outputs(tmp_path) == reference


def test_full_disk_gives_a_coded_error_and_no_partial_file(tmp_path):
    """A full disk, made with a file-size limit on the build process (writes past it fail
    with EFBIG exactly as they would with ENOSPC; it needs no privileges)."""
    config = make_project(tmp_path)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    proc = cli(config, preexec_fn=limit)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in err
    report = json.loads(out)
    codes = [d["code"] for d in report["diagnostics"]]
    assert "ffi.build.output_failed" in codes and "ffi.build.cache_write_failed" in codes
    generated = tmp_path / "generated"
    assert not generated.exists() or list(generated.iterdir()) == []
    assert entries(tmp_path) == []
    assert not [p for p in (tmp_path / ".reml" / "cache" / "ffi").iterdir()]
