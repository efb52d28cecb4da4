"""The bindgen step of a build: the reml-bindgen configuration a reml.json describes, the
input hash, and a run of reml-bindgen whose outputs are pure functions of that hash.

Without `ffi.bindgen.config` the headers of `ffi.headers` are bound with the project
root as include path.  With it, the named reml-bindgen.toml (a complete reml-bindgen
configuration) adds its include paths, defines, exclusions and compile commands, and its
headers after those of reml.json; `ffi.bindgen.output` and `ffi.bindgen.manifest` of
reml.json take the place of the file's.
"""

from __future__ import annotations

import os
import dataclasses
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..audit import Diagnostic, DiagnosticError
from ..bindgen import config as bconfig
from ..bindgen import manifest as mf
from ..bindgen.config import BindgenConfig, PathArg
from ..bindgen.generate import generate
from ..bindgen.reml_emit import GENERATED_MARKER
from ..bindgen.preprocess import C_LOCALE_ENV, GNU_PRELUDE, cc_flags, find_cc, resolve_header
from .cache import sha256_file
from .config import CONFIG_INVALID, FfiSection, Locator

REML_FILE = "bindings.reml"
MANIFEST_FILE = "bindings.manifest.json"
OVERWRITE = "ffi.bindgen.output_overwrite"


def bindgen_config(section: FfiSection) -> BindgenConfig:
    """The reml-bindgen configuration of the section (raises ffi.bindgen.config_invalid
    for a bad reml-bindgen.toml)."""
    root = section.root
    headers = [PathArg(h, section.resolve(h)) for h in section.headers]
    assert section.output is not None
    output = PathArg(section.output, section.resolve(section.output))
    manifest_spelled = section.manifest_spelled
    assert manifest_spelled is not None
    manifest = PathArg(manifest_spelled, section.resolve(manifest_spelled))
    if section.bindgen_config is None:
        return BindgenConfig(headers=headers, include_paths=[PathArg(".", root)], output=output,
                             manifest=manifest, config_path=section.config_file)
    cfg = bconfig.load(str(section.resolve(section.bindgen_config)))
    seen = {os.path.realpath(h.path) for h in headers}
    extra = [h for h in cfg.headers if os.path.realpath(h.path) not in seen]
    return dataclasses.replace(cfg, headers=headers + extra, output=output,
                               manifest=manifest if section.manifest is not None else cfg.manifest)


def header_paths(cfg: BindgenConfig, section: FfiSection, locator: Locator) -> list[Path]:
    """Each header's file; a header that is nowhere is `ffi.build.config_invalid` at its
    entry of `ffi.headers` (all of them reported)."""
    include = [p.path for p in cfg.include_paths]
    paths, problems = [], []
    for h in cfg.headers:
        try:
            paths.append(resolve_header(h.spelled, h.path, include))
        except DiagnosticError as exc:
            where = (section.field_path("headers", section.headers.index(h.spelled))
                     if h.spelled in section.headers else ("ffi", "bindgen", "config"))
            problems.append(locator.diagnostic(CONFIG_INVALID, f"header {h.spelled} not found",
                                               where, searched=exc.diagnostic.extensions.get("searched")))
    if problems:
        raise DiagnosticError(*problems)
    return paths


def input_hash(cfg: BindgenConfig, paths: list[Path]) -> str:
    """The same hash reml-bindgen writes into the manifest: header contents (under their
    names as written), the configuration, the target profile and the tool version."""
    return mf.input_hash(((h.spelled, p.read_bytes()) for h, p in zip(cfg.headers, paths)),
                         cfg.canonical(), mf.target_profile())


@dataclass
class Generated:
    """The files of one reml-bindgen run, what they depend on, and its diagnostics."""
    files: dict[str, bytes]          # REML_FILE, MANIFEST_FILE
    dependencies: dict[str, str]     # every file the preprocessor read -> sha256
    diagnostics: list[Diagnostic]


def run_bindgen(cfg: BindgenConfig, paths: list[Path], expected_hash: str, root: Path) -> Generated:
    """reml-bindgen in memory.  The manifest leaves out the warning about replacing a
    hand-written output (that depends on the project's state, not on the inputs; the
    build reports it itself), so the files are the same for the same input hash."""
    result = generate(cfg, write=False)
    if result.input_hash != expected_hash:  # pragma: no cover - both use one function
        raise RuntimeError("bindgen input hash disagrees with the build's")
    diagnostics = [d for d in result.diagnostics if d.code != OVERWRITE]
    data = dict(result.manifest)
    data["diagnostics"] = [mf.manifest_diagnostic(d) for d in diagnostics]
    files = {REML_FILE: result.reml.encode("utf-8"), MANIFEST_FILE: mf.render(data).encode("utf-8")}
    return Generated(files, dependencies(cfg, paths, root), diagnostics)


def dependencies(cfg: BindgenConfig, paths: list[Path], root: Path) -> dict[str, str]:
    """Every file the C preprocessor reads for these headers, with its SHA-256; files
    inside the project `root` are named relative to it (so a moved project still
    matches)."""
    source = GNU_PRELUDE + "".join(f'#include "{p}"\n' for p in paths)
    cmd = [find_cc(), "-M", "-MT", "deps", "-x", "c",
           *cc_flags([p.path for p in cfg.include_paths], cfg.defines, cfg.extra_flags), "-"]
    try:
        proc = subprocess.run(cmd, input=source, capture_output=True, text=True, timeout=60,
                              env=C_LOCALE_ENV)
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    if proc is None or proc.returncode != 0:  # the headers themselves are still covered
        files = [str(p) for p in paths]
    else:
        text = proc.stdout.replace("\\\n", " ").replace("\\ ", "\0")
        files = [tok.replace("\0", " ") for tok in text.split()[1:]]
    out = {}
    real_root = Path(os.path.realpath(root))
    for name in dict.fromkeys(files):
        path = Path(os.path.realpath(name))
        if not path.is_file():
            continue
        key = path.relative_to(real_root).as_posix() if real_root in path.parents else str(path)
        out[key] = sha256_file(path)
    return out


def overwrite_warning(cfg: BindgenConfig) -> Diagnostic | None:
    """`ffi.bindgen.output_overwrite` when the output exists and was not generated."""
    assert cfg.output is not None
    path = cfg.output.path
    if not path.is_file():
        return None
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline().rstrip("\n")
    if first == GENERATED_MARKER:
        return None
    return Diagnostic(OVERWRITE, f"{cfg.output.spelled} exists and was not generated by "
                      "reml-bindgen; it is replaced", severity="warning",
                      extensions={"path": cfg.output.spelled})
