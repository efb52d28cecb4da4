"""Damaged shared libraries and cache entries: a truncated `.so` is checked before the
dynamic loader maps it (a coded error instead of SIGBUS) wherever the project opens one --
the native connector and `call-native`, plugins and `reml-plugin-tester`, the compiled
API modules -- and the build cache verifies the hashes of an entry's files on every hit
(a damaged entry is rebuilt); temporary directories of killed builds are cleaned.
The loader-facing cases run in subprocesses, so a crash shows as a failed run."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reml_wasm import plugin_samples, toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.native import NativeLibrary
from reml_wasm.elf import check_shared_library

ROOT = Path(__file__).resolve().parent.parent
DIRECT = ROOT / "native" / "direct" / "direct.c"


@pytest.fixture(scope="module")
def good_so():
    return toolchain.build_native([DIRECT], name="direct")


def _cut_points(size):
    return sorted({0, 1, 4, 16, 40, 63, 64, 100, 1000, size // 4, size // 2, size - 4096, size - 200, size - 1})


def test_sound_library_passes(good_so):
    check_shared_library(good_so)
    assert NativeLibrary.open(str(good_so)).path == str(good_so)


def test_every_truncation_is_a_coded_error(good_so, tmp_path):
    data = good_so.read_bytes()
    for n in _cut_points(len(data)):
        bad = tmp_path / f"libcut{n}.so"
        bad.write_bytes(data[:n])
        with pytest.raises(DiagnosticError) as exc:
            NativeLibrary.open(str(bad))
        assert exc.value.code in ("ffi.library.damaged", "ffi.library.load_failed"), n


@pytest.mark.parametrize("content, code", [(b"", "ffi.library.load_failed"), (b"#!/bin/sh\necho hi\n", "ffi.library.load_failed"),
                                           (b"\x7fELF\x09\x01\x01" + bytes(60), "ffi.library.damaged")])
def test_not_an_elf_library(tmp_path, content, code):
    bad = tmp_path / "libbad.so"
    bad.write_bytes(content)
    with pytest.raises(DiagnosticError) as exc:
        check_shared_library(bad)
    assert exc.value.code == code


def test_segment_past_the_end_is_caught(good_so, tmp_path):
    """Section headers intact but a loadable segment's bytes cut away (the file keeps its
    length claims only in the program headers): the segment check catches it."""
    import struct
    data = bytearray(good_so.read_bytes())
    phoff, = struct.unpack_from("<Q", data, 32)
    # push the first PT_LOAD segment's file size far past the end
    for i in range(struct.unpack_from("<H", data, 56)[0]):
        off = phoff + 56 * i
        if struct.unpack_from("<I", data, off)[0] == 1:
            struct.pack_into("<Q", data, off + 32, len(data) * 2)
            break
    bad = tmp_path / "libseg.so"
    bad.write_bytes(bytes(data))
    with pytest.raises(DiagnosticError) as exc:
        check_shared_library(bad)
    assert exc.value.code == "ffi.library.damaged" and "segment" in exc.value.diagnostic.message


def test_shifted_contents_are_caught_before_the_loader(good_so, tmp_path):
    """Bytes inserted inside the segments (the headers intact, everything after them
    shifted): the loader would follow the dynamic section's addresses and crash.  Every
    insertion point inside the loaded part is a coded error, checked in one child process
    that would die of the signal otherwise."""
    data = good_so.read_bytes()
    bad = []
    for k in range(1, 12):
        path = tmp_path / f"libshift{k}.so"
        path.write_bytes(data[: len(data) * k // 24] + bytes(8) + data[len(data) * k // 24:])
        bad.append(str(path))
    code = ("import sys; from reml_wasm.connectors.native import NativeLibrary\n"
            "from reml_wasm.audit import DiagnosticError\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n        NativeLibrary.open(p)\n        print(p, 'opened')\n"
            "    except DiagnosticError as exc:\n        print(p, exc.code)\n")
    proc = subprocess.run([sys.executable, "-c", code, *bad], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    outcomes = dict(line.split() for line in proc.stdout.splitlines())
    assert set(outcomes) == set(bad) and "opened" not in outcomes.values(), outcomes


def test_an_executable_is_not_a_library(tmp_path):
    """A position-independent executable is an ELF ET_DYN file too; the loader refuses it,
    and so does the check, with the reason."""
    exe = tmp_path / "libtrue.so"
    exe.write_bytes(Path("/bin/true").read_bytes())
    with pytest.raises(DiagnosticError) as exc:
        check_shared_library(exe)
    assert exc.value.code == "ffi.library.load_failed" and "executable" in exc.value.diagnostic.message


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "reml_wasm", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, **(env or {})})


def test_call_native_on_a_truncated_library_exits_with_a_code(good_so, tmp_path):
    bad = tmp_path / "libdirect.so"
    bad.write_bytes(good_so.read_bytes()[: good_so.stat().st_size // 2])
    proc = _run("call-native", str(bad), "inc(1)", "--header", str(DIRECT.with_suffix(".h")))
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "ffi.library.damaged" in proc.stderr


@pytest.mark.parametrize("mode", ["api", "abi"])
def test_truncated_plugin_is_a_coded_error(tmp_path, mode):
    cfg = plugin_samples.write_config(tmp_path, ("counterbox",))
    lib = next(tmp_path.rglob(plugin_samples.COUNTERBOX_LIB))
    data = lib.read_bytes()
    lib.unlink()  # the config may point at the cache: cut a private copy
    lib.write_bytes(data[: len(data) // 3])
    code = ("import sys; from reml_wasm.bid import nyash_toml; from reml_wasm.connectors.plugin import PluginHost\n"
            "from reml_wasm.audit import DiagnosticError\n"
            f"try:\n    PluginHost(nyash_toml.load({str(cfg)!r}), mode={mode!r}).library('{lib.name}')\n"
            "except DiagnosticError as exc:\n    print(exc.code); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 3 and "ffi.plugin.damaged" in proc.stdout, (proc.returncode, proc.stdout, proc.stderr)
    tester = subprocess.run([sys.executable, "-c", "import sys; from reml_wasm.cli import plugin_tester_main as m; "
                             "sys.exit(m())", "-c", str(cfg), "check"], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert tester.returncode == 1 and "ffi.plugin.damaged" in tester.stdout + tester.stderr, tester


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REML_WASM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("damage", ["truncate", "overwrite", "manifest"])
def test_damaged_cache_entry_is_rebuilt(private_cache, damage):
    so = toolchain.build_native([DIRECT], name="direct")
    good = so.read_bytes()
    if damage == "truncate":
        so.write_bytes(good[: len(good) // 2])
    elif damage == "overwrite":
        so.write_bytes(bytes(len(good)))
    else:
        (so.parent / toolchain.MANIFEST).unlink()
    again = toolchain.build_native([DIRECT], name="direct")
    assert again == so and again.read_bytes() == good
    assert toolchain.entry_intact(again.parent, [again.name])
    NativeLibrary.open(str(again))


def test_orphaned_build_directories_are_cleaned(private_cache):
    private_cache.mkdir(parents=True)
    old, young = private_cache / ".deadbeef.abc", private_cache / ".cafe.def"
    for d in (old, young):
        d.mkdir()
        (d / "libhalf.so").write_bytes(b"\x7fELF")
    hour_ago = time.time() - 2 * toolchain.ORPHAN_AGE_SECONDS
    os.utime(old, (hour_ago, hour_ago))
    toolchain.build_native([DIRECT], name="direct")  # a miss: cleaning runs
    assert not old.exists() and young.exists()


def test_damaged_api_module_is_rebuilt(private_cache):
    """The compiled API-mode modules live in the cache too: one cut short is rebuilt
    (checked in fresh processes, each of which loads the module once)."""
    code = ("from reml_wasm.cffi_api import build_api_module\n"
            "m = build_api_module('int reml_twice(int);', 'static int reml_twice(int x) { return 2 * x; }', None)\n"
            "print(m.lib.reml_twice(21), m.path)\n")
    env = {**os.environ, "REML_WASM_CACHE": str(private_cache)}

    def run():
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        value, path = proc.stdout.split()
        return int(value), Path(path)

    value, path = run()
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    assert run() == (42, path)
    assert path.read_bytes() != good[: len(good) // 2] and toolchain.file_intact(path)
