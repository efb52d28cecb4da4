"""The compiled-component cache: entries keyed by wasm bytes, wasmtime version and engine
configuration; a hit is loaded without compiling; a corrupt entry is a miss and is
rewritten; the fast path compiles core modules only (no whole-component compile)."""

import os

import pytest

from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component, Sandbox
from reml_wasm.wasm_binary import component as cb
from reml_wasm.connectors.component import cache


@pytest.fixture()
def ctest_bytes():
    return build_ctest().read_bytes()  # built before the cache root moves


@pytest.fixture()
def cache_root(tmp_path, monkeypatch, ctest_bytes):
    monkeypatch.setenv("REML_WASM_CACHE", str(tmp_path))
    monkeypatch.delenv("REML_WASM_NO_COMPILE_CACHE", raising=False)
    return tmp_path / "compiled"


def _core_module_bytes(ast):
    """The distinct core modules of a component, nested components included."""
    out = set()
    for d in ast.definitions:
        if isinstance(d, cb.CoreModule):
            out.add(bytes(d.data))
        elif isinstance(d, cb.Component):
            out |= _core_module_bytes(d)
    return out


def _entries(root, kind):
    return sorted(root.glob(f"*.{kind}.cwasm")) if root.exists() else []


def test_reference_path_writes_then_reuses_an_entry(cache_root, ctest_bytes):
    assert Component(ctest_bytes).instantiate(path="wasmtime").call("add", 2, 3) == 5
    [entry] = _entries(cache_root, "component")
    stamp = entry.stat().st_mtime_ns, entry.stat().st_ino
    # a new Component (a new process would do the same) loads the entry: not rewritten
    assert Component(ctest_bytes).instantiate(path="wasmtime").call("add", 4, 5) == 9
    assert (entry.stat().st_mtime_ns, entry.stat().st_ino) == stamp
    assert cache.read_entry(entry) is not None


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "foreign"])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(cache_root, ctest_bytes, damage):
    Component(ctest_bytes).instantiate(path="wasmtime")
    [entry] = _entries(cache_root, "component")
    good = entry.read_bytes()
    if damage == "flip":
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0xFF
        entry.write_bytes(bytes(bad))
    elif damage == "truncate":
        entry.write_bytes(good[: len(good) // 3])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a well-formed entry whose payload wasmtime refuses
        payload = b"\0asm not a serialized component"
        entry.write_bytes(cache.MAGIC + __import__("hashlib").sha256(payload).digest() + payload)
    assert cache.read_entry(entry) is None or damage == "foreign"
    assert Component(ctest_bytes).instantiate(path="wasmtime").call("add", 1, 1) == 2
    assert cache.read_entry(entry) is not None  # rewritten with a good entry
    assert entry.read_bytes()[: len(cache.MAGIC)] == cache.MAGIC


def test_engine_configuration_and_bytes_are_part_of_the_key(cache_root, ctest_bytes):
    Component(ctest_bytes).instantiate(path="wasmtime")
    Component(ctest_bytes).instantiate(path="wasmtime", sandbox=Sandbox(fuel=10**6))
    assert len(_entries(cache_root, "component")) == 2
    assert cache.entry_key("component", ctest_bytes, "a") != cache.entry_key("component", ctest_bytes, "b")
    assert cache.entry_key("component", ctest_bytes, "a") != cache.entry_key("component", ctest_bytes + b"\0", "a")
    assert cache.entry_key("component", ctest_bytes, "a") != cache.entry_key("module", ctest_bytes, "a")


def test_fast_path_compiles_core_modules_only_once(cache_root, ctest_bytes):
    comp = Component(ctest_bytes)
    inst = comp.instantiate(path="fast")
    assert inst.path == "fast" and inst.call("add", 2, 3) == 5
    modules = _entries(cache_root, "module")
    assert len(modules) == len(_core_module_bytes(comp.ast)) >= 1
    assert _entries(cache_root, "component") == []  # no whole-component compile on the fast path
    stamps = [(m.stat().st_mtime_ns, m.stat().st_ino) for m in modules]
    assert Component(ctest_bytes).instantiate(path="fast").call("add", 7, 8) == 15
    assert [(m.stat().st_mtime_ns, m.stat().st_ino) for m in _entries(cache_root, "module")] == stamps


def test_cache_can_be_switched_off(cache_root, ctest_bytes, monkeypatch):
    monkeypatch.setenv("REML_WASM_NO_COMPILE_CACHE", "1")
    assert Component(ctest_bytes).instantiate(path="wasmtime").call("add", 2, 2) == 4
    assert Component(ctest_bytes).instantiate(path="fast").call("add", 2, 2) == 4
    assert not cache_root.exists() or not any(cache_root.iterdir())


def test_entries_are_written_atomically(cache_root, ctest_bytes):
    Component(ctest_bytes).instantiate(path="fast")
    leftovers = [p for p in cache_root.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert all(os.path.getsize(p) > len(cache.MAGIC) + 32 for p in cache_root.iterdir())


def test_progress_line_only_for_long_compiles(capsys, monkeypatch):
    """Quick compiles print nothing; one past the threshold leaves a line on stderr."""
    import threading

    with cache.progress("quick.wasm", 1000):
        pass
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cache, "PROGRESS_AFTER_SECONDS", 0.0)
    with cache.progress("slow.wasm", 18_400_000):
        for _ in range(600):  # until the timer thread has shown the status line
            if not any(isinstance(th, threading.Timer) for th in threading.enumerate()):
                break
            threading.Event().wait(0.01)
    err = capsys.readouterr().err
    assert "compiled slow.wasm (18.4 MB); cached for the next run" in err
