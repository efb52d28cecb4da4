"""Audit envelopes (key names and order as docs/audit.md lists them), diagnostics, the JSON Lines
sink under concurrent writers, and atomic file writes."""

import json
import multiprocessing
import os
import threading

import pytest

from reml_wasm.audit import (FFI_CALL_KEYS, SCHEMA_VERSION, AuditEnvelope, AuditSink, Diagnostic,
                             DiagnosticError, Location, error, ffi_call_metadata, ffi_wrapper_metadata,
                             ordered, read_audit_log, write_atomic)


def wrapped_cos() -> AuditEnvelope:
    return AuditEnvelope(metadata={
        "ffi": ffi_call_metadata(library="m", symbol="cos", status="success", effect_flags=["ffi"],
                                 wrapper="ffi.wrap"),
        "ffi.wrapper": ffi_wrapper_metadata(name="libm.cos", null_check=False, call_mode="wrapped"),
    })


def test_the_expected_audit_of_a_wrapped_cos():
    text = json.dumps(wrapped_cos().to_json())
    assert text == (
        '{"metadata": {"ffi": {"event": "ffi.call", "library": "m", "symbol": "cos", '
        '"effect_flags": ["ffi"], "status": "success", "wrapper": "ffi.wrap"}, '
        '"ffi.wrapper": {"name": "libm.cos", "null_check": false, "call_mode": "wrapped"}}}')
    assert wrapped_cos().check() == []


def test_the_raw_call_has_unsafe_and_no_wrapper_keys():
    meta = ffi_call_metadata(library="m", symbol="cos", status="success", effect_flags=["unsafe", "ffi", "ffi"])
    assert meta == {"event": "ffi.call", "library": "m", "symbol": "cos", "effect_flags": ["ffi", "unsafe"],
                    "status": "success"}
    assert "wrapper" not in meta


def test_every_ffi_call_key_in_the_documented_order():
    meta = ffi_call_metadata(wrapper="ffi.wrap", capability_stage="stable", capability="io", status="failed",
                             latency_ns=12, effect_flags=["ffi"], call_site="main.reml:3:7", symbol="f",
                             library="l")
    assert tuple(meta) == FFI_CALL_KEYS == (
        "event", "library", "symbol", "call_site", "effect_flags", "latency_ns", "status", "capability",
        "capability_stage", "wrapper")
    wrapper = ffi_wrapper_metadata(error_map="errno", ownership="borrowed", call_mode="raw", null_check=True,
                                   name="w")
    assert list(wrapper) == ["name", "null_check", "call_mode", "ownership", "error_map"]


def test_envelope_optionals_come_first_and_absent_ones_are_omitted():
    env = AuditEnvelope(metadata={"k": 1}, capability="cap", audit_id="a-1",
                        diagnostics=[Diagnostic("ffi.call.failed", "boom")])
    out = env.to_json()
    assert list(out) == ["audit_id", "capability", "metadata", "diagnostics"]
    assert out["diagnostics"] == [{"schema_version": "3.0.0-alpha", "code": "ffi.call.failed",
                                   "severity": "error", "message": "boom"}]
    env = AuditEnvelope(metadata={}, change_set="cs", audit_id="a", capability="c")
    assert list(env.to_json()) == ["audit_id", "change_set", "capability", "metadata"]


def test_missing_keys_are_warned_about():
    env = AuditEnvelope(metadata={"ffi": ffi_call_metadata(library="m", symbol="cos", status="success",
                                                           effect_flags=["ffi"], wrapper="ffi.wrap")})
    (warning,) = env.check()
    assert (warning.code, warning.severity) == ("ffi.wrap.audit_missing", "warning")
    env = AuditEnvelope(metadata={"ffi.wit.package": "demo:app", "ffi.wit.world": "app"})
    (warning,) = env.check()
    assert warning.code == "ffi.wit.audit_missing"
    assert warning.extensions["missing"] == ["ffi.wit.interface", "ffi.wit.direction"]


def test_bad_metadata_is_a_programming_error():
    with pytest.raises(KeyError):
        ordered({"event": 1, "bogus": 2}, FFI_CALL_KEYS)
    with pytest.raises(ValueError):
        ffi_call_metadata(library="m", symbol="s", status="fine", effect_flags=[])
    with pytest.raises(ValueError):
        ffi_wrapper_metadata(name="n", null_check=False, call_mode="sometimes")


def test_diagnostics_render_and_serialise():
    d = Diagnostic("wit.parse.unexpected", "expected `;`", location=Location("a.wit", 3, 5, snippet="  x: u8"),
                   extensions={"found": "}"})
    assert d.schema_version == SCHEMA_VERSION == "3.0.0-alpha"
    assert d.to_json() == {"schema_version": "3.0.0-alpha", "code": "wit.parse.unexpected", "severity": "error",
                           "message": "expected `;`", "location": {"file": "a.wit", "line": 3, "column": 5},
                           "extensions": {"found": "}"}}
    assert d.render() == "a.wit:3:5: error[wit.parse.unexpected]: expected `;`\n3 |   x: u8\n        ^"
    exc = error("ffi.call.failed", "boom", symbol="cos")
    assert isinstance(exc, DiagnosticError) and exc.code == "ffi.call.failed"
    assert exc.diagnostic.extensions == {"symbol": "cos"}
    with pytest.raises(ValueError):
        DiagnosticError()


# --- the sink --------------------------------------------------------------------------

BIG = 20_000  # well past PIPE_BUF: a record is many pages, so interleaving would show


def _record(writer: str, n: int) -> dict:
    return {"metadata": {"writer": writer, "n": n, "pad": writer[-1] * BIG}}


def _write_many(path: str, writer: str, count: int, start=None) -> None:
    with AuditSink(path) as sink:
        if start is not None:
            start.wait()  # every writer starts at once
        for n in range(count):
            sink.write(_record(writer, n))


def _assert_whole(path, writers, count):
    raw = open(path, "rb").read()
    assert raw.endswith(b"\n")
    records = read_audit_log(path)
    assert len(records) == len(writers) * count
    for rec in records:
        meta = rec["metadata"]
        assert meta["pad"] == meta["writer"][-1] * BIG
    for w in writers:
        assert [r["metadata"]["n"] for r in records if r["metadata"]["writer"] == w] == list(range(count))


def test_concurrent_threads_never_interleave(tmp_path):
    path = tmp_path / "audit" / "log.jsonl"
    sink = AuditSink(path)
    writers = [f"thread-{c}" for c in "abcdefgh"]

    start = threading.Barrier(len(writers))

    def run(w):
        start.wait()
        for n in range(60):
            sink.write(_record(w, n))
    threads = [threading.Thread(target=run, args=(w,)) for w in writers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sink.close()
    _assert_whole(path, writers, 60)


def test_concurrent_processes_never_interleave(tmp_path):
    path = str(tmp_path / "log.jsonl")
    ctx = multiprocessing.get_context("fork")
    writers = [f"proc-{c}" for c in "wxyz"]
    start = ctx.Barrier(len(writers))
    procs = [ctx.Process(target=_write_many, args=(path, w, 60, start)) for w in writers]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    _assert_whole(path, writers, 60)


def test_sink_appends_to_an_existing_log(tmp_path):
    path = tmp_path / "log.jsonl"
    with AuditSink(path) as sink:
        sink.write(wrapped_cos())
    with AuditSink(path) as sink:
        sink.write({"metadata": {"n": 2}})
    lines = path.read_text().splitlines()
    assert lines[0] == json.dumps(wrapped_cos().to_json(), separators=(",", ":"))
    assert read_audit_log(path)[1] == {"metadata": {"n": 2}}


def test_a_record_that_cannot_be_encoded_writes_nothing(tmp_path):
    path = tmp_path / "log.jsonl"
    with AuditSink(path) as sink:
        with pytest.raises(TypeError):
            sink.write({"metadata": {"x": object()}})
    assert path.read_bytes() == b""


def test_an_interrupted_last_line_is_not_a_record(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"metadata":{"n":1}}\n{"metadata":{"n":')
    assert read_audit_log(path) == [{"metadata": {"n": 1}}]


# --- write_atomic ----------------------------------------------------------------------

def test_write_atomic_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_atomic(target, "first")
    write_atomic(target, b"second \xff")
    assert target.read_bytes() == b"second \xff"
    assert os.listdir(target.parent) == ["out.json"]


def test_write_atomic_failure_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out"
    target.mkdir()  # renaming a file over a directory fails
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        write_atomic(target, "data")
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert (target / "keep").read_text() == "x"


def test_concurrent_write_atomic_leaves_one_whole_version(tmp_path):
    target = tmp_path / "cache.bin"
    contents = [bytes([65 + i]) * 200_000 for i in range(6)]

    def run(data):
        for _ in range(5):
            write_atomic(target, data)
    threads = [threading.Thread(target=run, args=(c,)) for c in contents]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert target.read_bytes() in contents
    assert os.listdir(tmp_path) == ["cache.bin"]
