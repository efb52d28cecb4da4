"""The whole reml-bindgen run: config -> preprocess -> C model -> plan -> .reml + manifest.

`log` receives the JSON Lines events (`bindgen.start`, `bindgen.parse`,
`bindgen.generate`; the caller writes `bindgen.finish`).  Outputs are written only when
everything succeeded, together (`audit.write_atomic_group`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..audit import (FFI_BINDGEN_KEYS, Diagnostic, DiagnosticError, Location, error, ordered,
                     write_atomic_group)
from . import manifest as mf
from ..reml.common import module_name
from . import reml_emit
from .cmodel import CModel
from .config import BindgenConfig
from .extract import extract
from .layout_check import verify
from .plan import Plan, plan as make_plan
from .preprocess import preprocess, resolve_header
from .selection import Selection

Log = Callable[[dict[str, Any]], None]


@dataclass
class Result:
    model: CModel
    plan: Plan
    reml: str
    manifest: dict[str, Any]
    input_hash: str
    header_paths: list[Path]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    layout_checks: int | None = None
    target_files: frozenset[str] = frozenset()  # real paths of the headers bound (selection.py)


def _ms(t0: float) -> int:
    return int((time.perf_counter() - t0) * 1000)


def _relative(d: Diagnostic, base: Path) -> Diagnostic:
    """Locations inside the project are written relative to the config's directory, so
    manifests do not depend on where the project lives."""
    loc = d.location
    if loc is None or loc.file is None or loc.file.startswith("<"):
        return d
    try:
        rel = Path(loc.file).resolve().relative_to(base.resolve())
    except ValueError:
        return d
    return dataclasses.replace(d, location=Location(rel.as_posix(), loc.line, loc.column))


def counts(model: CModel) -> dict[str, int]:
    """What the target headers declare."""
    structs = [s for s in model.structs() if s.target and s.fields is not None]
    return {"functions": len(model.functions),
            "variadic": sum(1 for f in model.functions if f.variadic),
            "structs": sum(1 for s in structs if s.kind == "struct"),
            "unions": sum(1 for s in structs if s.kind == "union"),
            "opaque": sum(1 for s in model.structs() if s.target and s.fields is None),
            "enums": sum(1 for e in model.enums() if e.target and e.constants is not None),
            "typedefs": sum(1 for t in model.typedefs.values() if t.target),
            "constants": len(model.macros),
            "static_inline": len(model.inline_functions),
            "variables": len(model.variables)}


def model_from_headers(headers: Sequence[str | Path], include_paths: Sequence[str | Path] = (),
                       defines: Sequence[str] = (), selection: Selection | None = None) -> CModel:
    """The C model of some headers, without writing anything.  A header is a path, else
    looked up on the include paths and then on the compiler's include directories."""
    incs = [Path(p) for p in include_paths]
    paths = [resolve_header(str(h), Path(h), incs) for h in headers]
    return extract(preprocess(paths, incs, defines), tuple(str(h) for h in headers), selection)


def generate(cfg: BindgenConfig, *, verify_layout: bool = False, log: Log = lambda e: None,
             write: bool = True) -> Result:
    assert cfg.output is not None and cfg.manifest is not None
    t0 = time.perf_counter()
    log({"event": "bindgen.start", "tool_version": mf.TOOL_VERSION,
         "config": str(cfg.config_path) if cfg.config_path else None,
         "headers": [h.spelled for h in cfg.headers], "output": str(cfg.output.path),
         "manifest": str(cfg.manifest.path)})
    include_paths = [p.path for p in cfg.include_paths]
    paths = [resolve_header(h.spelled, h.path, include_paths) for h in cfg.headers]
    digest = mf.input_hash(((h.spelled, p.read_bytes()) for h, p in zip(cfg.headers, paths)),
                           cfg.canonical(), mf.target_profile())
    unit = preprocess(paths, include_paths, cfg.defines, cfg.extra_flags)
    model = extract(unit, tuple(h.spelled for h in cfg.headers), cfg.selection())
    log({"event": "bindgen.parse", **counts(model),
         "skipped_macros": [m.name for m in model.skipped_macros], "duration_ms": _ms(t0)})

    plan = make_plan(model, cfg.exclude, cfg.selection())
    reml = reml_emit.render(plan, module_name(cfg.output.spelled))
    diagnostics = [_relative(d, cfg.base_dir) for d in plan.diagnostics]
    if not plan.functions:
        diagnostics.append(Diagnostic(
            "ffi.bindgen.no_functions",
            f"{', '.join(h.spelled for h in cfg.headers)} declare(s) no function that is bound "
            f"({len(model.functions)} declared, {len(plan.excluded)} excluded)",
            severity="warning", extensions={"headers": [h.spelled for h in cfg.headers]}))
    checks = None
    if verify_layout:
        checks, mismatches = verify(model, [r.struct for r in plan.records], paths, include_paths,
                                    cfg.defines, cfg.extra_flags)
        if mismatches:
            raise DiagnosticError(*[_relative(d, cfg.base_dir) for d in mismatches])
    out_path, manifest_path = cfg.output.path, cfg.manifest.path
    if out_path.is_file():
        with open(out_path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline().rstrip("\n")
        if first != reml_emit.GENERATED_MARKER:
            diagnostics.append(Diagnostic(
                "ffi.bindgen.output_overwrite",
                f"{cfg.output.spelled} exists and was not generated by reml-bindgen; it is replaced",
                severity="warning", extensions={"path": cfg.output.spelled}))
    generated = Path(os.path.relpath(out_path.resolve(), manifest_path.resolve().parent)).as_posix()
    data = mf.manifest([h.spelled for h in cfg.headers], generated, digest, plan.manifest_types,
                       diagnostics)
    if write:
        try:
            write_atomic_group({out_path: reml, manifest_path: mf.render(data)})  # together or not at all
        except OSError as exc:
            raise error("ffi.bindgen.generate_failed",
                        f"cannot write {exc.filename or out_path}: {exc.strerror or exc}") from None
    log({"event": "bindgen.generate", "output": str(out_path), "manifest": str(manifest_path),
         "functions": len(plan.functions), "records": len(plan.records),
         "opaque": len(plan.opaque), "enums": len(plan.enums), "constants": len(plan.constants),
         "types": len(plan.manifest_types), "excluded": plan.excluded,
         "layout_checks": checks, "duration_ms": _ms(t0)})
    return Result(model, plan, reml, data, digest, paths, diagnostics, checks, unit.target_files)


def audit_metadata(cfg: BindgenConfig, *, status: str, input_hash: str | None = None,
                   duration_ms: int | None = None, failure: Diagnostic | None = None,
                   cache_path: str | None = None, with_headers: bool = True) -> dict[str, Any]:
    """`metadata["ffi.bindgen"]` of an audit envelope (keys and order as docs/audit.md lists them)."""
    if status not in ("success", "failed", "cache_hit", "skipped"):
        raise ValueError(f"bad ffi.bindgen status {status!r}")
    return ordered({
        "event": "ffi.bindgen", "status": status, "input_hash": input_hash,
        "manifest_path": str(cfg.manifest.path) if cfg.manifest else None,
        "headers": [h.spelled for h in cfg.headers] if with_headers else None,
        "config_path": str(cfg.config_path) if cfg.config_path else None,
        "output_path": str(cfg.output.path) if cfg.output else None,
        "cache_path": cache_path, "duration_ms": duration_ms, "tool_version": mf.TOOL_VERSION,
        "error.code": failure.code if failure else None,
        "error.message": failure.message if failure else None}, FFI_BINDGEN_KEYS)
