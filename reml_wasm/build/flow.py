"""One `reml-wasm build`: load -> validate -> resolve headers -> input hash -> cache hit
or miss -> reml-bindgen on a miss -> store -> write outputs -> link check -> audit.

The result is a `BuildReport`; user errors never raise out of `run_build`, they are
collected as diagnostics (several per run) and make the status `failed`.  Every build
appends its audit envelopes (`ffi.bindgen` when the section has a bindgen part, then
`ffi.build`) to `<project>/.reml/audit.jsonl`.
"""

from __future__ import annotations

import os
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audit import (FFI_BINDGEN_KEYS, FFI_BUILD_KEYS, AuditEnvelope, AuditSink, Diagnostic, DiagnosticError,
                     ordered, write_atomic)
from ..bindgen import manifest as mf
from ..bindgen.generate import audit_metadata
from . import bindgen_step as step
from .cache import CACHE_WRITE_FAILED, BindgenCache
from .config import CONFIG_INVALID, DEFAULT_CONFIG, FfiSection, Locator, load_section
from .libraries import link_check, platform_file_name, unique_libraries

DEFAULT_CACHE_DIR = ".reml/cache"
AUDIT_LOG = ".reml/audit.jsonl"
OUTPUT_FAILED = "ffi.build.output_failed"


@dataclass
class BuildOptions:
    """What `reml-wasm build` was asked to do."""
    config: str = DEFAULT_CONFIG
    emit_bindgen: bool = False
    cache_dir: str | None = None     # default <project>/.reml/cache
    use_cache: bool = True
    audit_log: str | None = None     # default <project>/.reml/audit.jsonl


@dataclass
class BuildReport:
    """The outcome of a build: status, input hash, cache outcome, envelopes, diagnostics."""
    status: str                                   # success | failed
    input_hash: str | None = None
    cache: str = "off"                            # hit | miss | off
    envelopes: list[AuditEnvelope] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of severity error."""
        return [d for d in self.diagnostics if d.severity == "error"]

    def to_json(self) -> dict[str, Any]:
        """The report as `--format json` prints it."""
        return {"status": self.status, "input_hash": self.input_hash, "cache": self.cache,
                "outputs": self.outputs, "audit": [e.to_json() for e in self.envelopes],
                "diagnostics": [d.to_json() for d in self.diagnostics]}


def _ms(t0: float) -> int:
    return int((time.perf_counter() - t0) * 1000)


def run_build(options: BuildOptions) -> BuildReport:
    """Run the whole build of the project whose reml.json is `options.config`."""
    t0 = time.perf_counter()
    report = BuildReport(status="failed")
    section, found, locator = load_section(options.config)
    report.diagnostics.extend(found)
    root = Path(os.path.realpath(options.config)).parent
    if section is None:
        report.envelopes.append(_build_envelope(None, report, None, t0))
        if Path(options.config).is_file():  # no project, no project audit log
            _write_audit(report, root, options)
        return report
    bindgen_ok, manifest_path = not report.errors, None
    if bindgen_ok and (section.bindgen_present or options.emit_bindgen):
        bindgen_ok, manifest_path = _bindgen(section, locator, options, report)
    if report.input_hash is None:
        report.input_hash = _section_hash(section)
    _, link_problems = link_check(section, locator)
    report.diagnostics.extend(link_problems)
    if bindgen_ok and not report.errors:
        report.status = "success"
    report.envelopes.append(_build_envelope(section, report, manifest_path, t0))
    _write_audit(report, root, options)
    return report


def _bindgen(section: FfiSection, locator: Locator, options: BuildOptions,
             report: BuildReport) -> tuple[bool, str | None]:
    """The bindgen part; returns (ok, manifest path)."""
    t0 = time.perf_counter()
    if not (section.bindgen_enabled or options.emit_bindgen):
        report.envelopes.append(AuditEnvelope(metadata={"ffi.bindgen": ordered(
            {"event": "ffi.bindgen", "status": "skipped", "tool_version": mf.TOOL_VERSION},
            FFI_BINDGEN_KEYS)}))
        return True, None
    if section.output is None or not section.headers:
        missing = ("ffi", "bindgen", "output") if section.output is None else ("ffi", "headers")
        report.diagnostics.append(locator.diagnostic(
            CONFIG_INVALID, "--emit-bindgen needs `ffi.headers` and `ffi.bindgen.output`", missing))
        return False, None
    cfg = None
    try:
        cfg = step.bindgen_config(section)
        paths = step.header_paths(cfg, section, locator)
        digest = step.input_hash(cfg, paths)
        report.input_hash = digest
        cache = BindgenCache(Path(options.cache_dir) if options.cache_dir else section.root / DEFAULT_CACHE_DIR)
        cache.clean_orphans()
        entry = None
        if options.use_cache:
            entry, warnings = cache.lookup(digest, section.root)
            report.diagnostics.extend(warnings)
        bindgen_diags: list[Diagnostic] = []
        if entry is not None:
            files, status, report.cache = entry.files, "cache_hit", "hit"
        else:
            generated = step.run_bindgen(cfg, paths, digest, section.root)
            files, status, bindgen_diags = generated.files, "success", generated.diagnostics
            report.cache = "miss" if options.use_cache else "off"
            if options.use_cache:
                try:
                    cache.store(digest, files, generated.dependencies, section.root)
                except OSError as exc:
                    report.diagnostics.append(Diagnostic(
                        CACHE_WRITE_FAILED, f"cannot store the cache entry: {exc}", severity="warning",
                        extensions={"ffi.build": {"cache_path": str(cache.entry_path(digest))}}))
        overwrite = step.overwrite_warning(cfg)
        if overwrite is not None:
            bindgen_diags.append(overwrite)
        _write_outputs(cfg, files)
    except DiagnosticError as exc:
        report.diagnostics.extend(exc.diagnostics)
        failure = exc.diagnostic
        if cfg is not None:
            meta = audit_metadata(cfg, status="failed", input_hash=report.input_hash,
                                  duration_ms=_ms(t0), failure=failure)
        else:  # the reml-bindgen configuration itself could not be made
            meta = ordered({"event": "ffi.bindgen", "status": "failed",
                            "config_path": str(section.resolve(section.bindgen_config or "")),
                            "duration_ms": _ms(t0), "tool_version": mf.TOOL_VERSION,
                            "error.code": failure.code, "error.message": failure.message},
                           FFI_BINDGEN_KEYS)
        report.envelopes.append(AuditEnvelope(metadata={"ffi.bindgen": meta},
                                              diagnostics=list(exc.diagnostics)))
        return False, None
    report.diagnostics.extend(bindgen_diags)
    assert cfg.output is not None and cfg.manifest is not None
    report.outputs = [str(cfg.output.path), str(cfg.manifest.path)]
    cache_path = str(cache.entry_path(digest)) if options.use_cache else None
    report.envelopes.append(AuditEnvelope(
        metadata={"ffi.bindgen": audit_metadata(cfg, status=status, input_hash=digest, duration_ms=_ms(t0),
                                                cache_path=cache_path, with_headers=status != "cache_hit")},
        diagnostics=bindgen_diags))
    return True, str(cfg.manifest.path)


def _write_outputs(cfg: Any, files: dict[str, bytes]) -> None:
    """Each output through a temporary sibling and a rename (skipped when the file already
    holds exactly these bytes): a failure (no space, a directory that cannot be made or
    written) is `ffi.build.output_failed` and leaves no partial file."""
    for target, name in ((cfg.output, step.REML_FILE), (cfg.manifest, step.MANIFEST_FILE)):
        try:
            if target.path.is_file() and target.path.read_bytes() == files[name]:
                continue
            write_atomic(target.path, files[name])
        except OSError as exc:
            raise DiagnosticError(Diagnostic(
                OUTPUT_FAILED, f"cannot write {target.spelled}: {exc.strerror or exc}",
                extensions={"ffi.build": {"output": target.spelled,
                                          "errno": exc.errno}})) from None


def _section_hash(section: FfiSection) -> str:
    """The build's input hash when bindgen does not run: the section's settings and the
    contents of the headers that exist."""
    h = hashlib.sha256()
    h.update(json.dumps({"libraries": section.libraries, "headers": section.headers,
                         "search_paths": section.search_paths, "frameworks": section.frameworks,
                         "extra_args": section.extra_args}, sort_keys=True).encode())
    for header in section.headers:
        path = section.resolve(header)
        if path.is_file():
            h.update(header.encode() + b"\0" + path.read_bytes())
    h.update(mf.target_profile().encode() + mf.TOOL_VERSION.encode())
    return h.hexdigest()[:16]


def _build_envelope(section: FfiSection | None, report: BuildReport, manifest_path: str | None,
                    t0: float) -> AuditEnvelope:
    status = "success" if report.status == "success" else "failed"
    meta: dict[str, Any] = {"event": "ffi.build", "status": status, "input_hash": report.input_hash,
                            "manifest_path": manifest_path}
    if section is not None:
        meta.update(libraries=[platform_file_name(n) for _, n in unique_libraries(section.libraries)],
                    linker_paths=[str(section.resolve(p)) for p in section.search_paths],
                    frameworks=list(section.frameworks), extra_args=list(section.extra_args))
    meta["duration_ms"] = _ms(t0)
    return AuditEnvelope(metadata={"ffi.build": ordered(meta, FFI_BUILD_KEYS)},
                         diagnostics=[d for d in report.diagnostics if d.code.startswith("ffi.build.")])


def _write_audit(report: BuildReport, root: Path, options: BuildOptions) -> None:
    """Append the envelopes to the audit log; a log that cannot be written is a warning."""
    path = Path(options.audit_log) if options.audit_log else root / AUDIT_LOG
    try:
        with AuditSink(path) as sink:
            for envelope in report.envelopes:
                sink.write(envelope)
    except OSError as exc:
        report.diagnostics.append(Diagnostic("ffi.build.audit_failed",
                                             f"cannot append to the audit log {path}: {exc}",
                                             severity="warning"))
