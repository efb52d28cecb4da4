"""The `ffi` section of reml.json: loading and validation.

Validation does not stop at the first problem: every rule is checked and each problem
becomes one diagnostic with its field path (`ffi.libraries[0]`) in the extension
`{"ffi.build": {"path": "reml.json", "field": ...}}` and the file:line:col of the field
(or of the object that should hold a missing field).  Errors use
`ffi.build.config_invalid` and `ffi.build.path_outside_project`; frameworks on a target
other than macOS give the warning `ffi.build.framework_unsupported` and the build goes on.
"""

from __future__ import annotations

import os
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audit import Diagnostic, Location, Severity
from .jsonpos import LocatedJson, PathKey, format_path, load_located

DEFAULT_CONFIG = "reml.json"
SECTION_KEYS = ("libraries", "headers", "bindgen", "linker")
BINDGEN_KEYS = ("enabled", "output", "config", "manifest")
LINKER_KEYS = ("search_paths", "frameworks", "extra_args")
DEFAULT_MANIFEST = "bindings.manifest.json"

CONFIG_INVALID = "ffi.build.config_invalid"
PATH_OUTSIDE = "ffi.build.path_outside_project"
FRAMEWORK_UNSUPPORTED = "ffi.build.framework_unsupported"


@dataclass
class FfiSection:
    """The validated `ffi` section.  Paths are as written, relative to `root`."""

    root: Path
    config_file: Path
    libraries: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    bindgen_enabled: bool = False
    bindgen_present: bool = False
    output: str | None = None
    manifest: str | None = None
    bindgen_config: str | None = None
    search_paths: list[str] = field(default_factory=list)
    frameworks: list[str] = field(default_factory=list)
    extra_args: list[str] = field(default_factory=list)
    # list field -> the index in reml.json of each kept entry (bad entries are dropped)
    indices: dict[str, list[int]] = field(default_factory=dict)

    def field_path(self, list_field: str, kept: int) -> PathKey:
        """The reml.json path of entry `kept` of a list field (`libraries` -> ffi.libraries[i])."""
        index = self.indices.get(list_field, [])
        i = index[kept] if kept < len(index) else kept
        return ("ffi", *list_field.split("."), i)

    def resolve(self, spelled: str) -> Path:
        """A path of the section, made absolute against the project root."""
        p = Path(spelled)
        return p if p.is_absolute() else self.root / p

    @property
    def manifest_spelled(self) -> str | None:
        """The manifest path: as given, else beside the output."""
        if self.manifest is not None:
            return self.manifest
        if self.output is None:
            return None
        parent = Path(self.output).parent
        return (parent / DEFAULT_MANIFEST).as_posix()


class Locator:
    """Turns (code, message, field path) into located diagnostics for one reml.json."""

    def __init__(self, file: Path, spelled: str, doc: LocatedJson | None) -> None:
        self.file, self.spelled, self.doc = file, spelled, doc

    def diagnostic(self, code: str, message: str, path: PathKey = (),
                   severity: Severity = "error", key: bool = False, **extra: Any) -> Diagnostic:
        """A diagnostic about field `path` (`key`: point at the member's key, not its value)."""
        location = None
        if self.doc is not None:
            if key and path in self.doc.key_at:
                line, col = self.doc.line_col(self.doc.key_at[path])
            else:
                line, col = self.doc.position(path)
            location = Location(str(self.file), line, col, self.doc.line_text(line))
        ext: dict[str, Any] = {"path": self.spelled}
        if path:
            ext["field"] = format_path(path)
        ext.update(extra)
        return Diagnostic(code, message, severity=severity, location=location,
                          extensions={"ffi.build": ext})


def target_is_macos(platform: str | None = None) -> bool:
    """Whether the build target (the host unless `platform` is given) is macOS."""
    return (platform or sys.platform) == "darwin"


def load_section(config: str | Path, platform: str | None = None) -> tuple[FfiSection | None, list[Diagnostic], Locator]:
    """Read and validate reml.json.  Returns the section (None when the file cannot be
    read or is not JSON; with errors, the entries that passed their checks), every
    diagnostic found (errors and warnings), and the locator for later diagnostics."""
    file = Path(config)
    root = Path(os.path.realpath(file)).parent  # (Path.resolve raises on a symlink loop)
    locator = Locator(file, file.name, None)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [locator.diagnostic(CONFIG_INVALID, f"{file} not found")], locator
    except (OSError, UnicodeDecodeError) as exc:
        return None, [locator.diagnostic(CONFIG_INVALID, f"cannot read {file}: {exc}")], locator
    try:
        doc = load_located(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        snippet = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        diag = Diagnostic(CONFIG_INVALID, f"{file.name} is not valid JSON: {exc.msg}",
                          location=Location(str(file), exc.lineno, exc.colno, snippet),
                          extensions={"ffi.build": {"path": file.name}})
        return None, [diag], locator
    except RecursionError:
        return None, [Diagnostic(CONFIG_INVALID, f"{file.name} nests too deep to be read",
                                 location=Location(str(file), 1, 1),
                                 extensions={"ffi.build": {"path": file.name}})], locator
    locator.doc = doc
    checker = _Checker(locator, FfiSection(root=root, config_file=Path(os.path.realpath(file))), platform)
    checker.run(doc.value)
    return checker.section, checker.found, locator


class _Checker:
    def __init__(self, locator: Locator, section: FfiSection, platform: str | None) -> None:
        self.loc, self.section, self.platform = locator, section, platform
        self.found: list[Diagnostic] = []

    def bad(self, message: str, path: PathKey, code: str = CONFIG_INVALID, **kw: Any) -> None:
        """Record an error (or a warning, by `severity`) about field `path`."""
        self.found.append(self.loc.diagnostic(code, message, path, **kw))

    def run(self, root: Any) -> None:
        """Check the whole document, filling `self.section` with what passes."""
        if not isinstance(root, dict):
            self.bad("reml.json must be a JSON object", ())
            return
        ffi = root.get("ffi")
        if ffi is None:
            return
        if not isinstance(ffi, dict):
            self.bad("`ffi` must be an object", ("ffi",))
            return
        self._unknown(ffi, SECTION_KEYS, ("ffi",))
        s = self.section
        s.libraries = self._strings(ffi, ("ffi", "libraries"))
        s.headers = self._strings(ffi, ("ffi", "headers"))
        for i, header in enumerate(s.headers):
            self._inside(header, s.field_path("headers", i))
        if "bindgen" in ffi:
            self._bindgen(ffi["bindgen"])
        if "linker" in ffi:
            self._linker(ffi["linker"])

    def _unknown(self, obj: dict[str, Any], allowed: tuple[str, ...], path: PathKey) -> None:
        for key in obj:
            if key not in allowed:
                self.bad(f"unknown key `{key}` in `{format_path(path)}` (known: {', '.join(allowed)})",
                         path + (key,), key=True)

    def _strings(self, obj: dict[str, Any], path: PathKey) -> list[str]:
        if path[-1] not in obj:
            return []
        value = obj[path[-1]]
        if not isinstance(value, list):
            self.bad(f"`{format_path(path)}` must be a list of strings", path)
            return []
        out, kept = [], []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.bad(f"`{format_path(path + (i,))}` must be a string", path + (i,))
            elif not item.strip():
                self.bad(f"`{format_path(path + (i,))}` is empty", path + (i,))
            else:
                out.append(item)
                kept.append(i)
        self.section.indices[".".join(str(p) for p in path[1:])] = kept
        return out

    def _string(self, obj: dict[str, Any], path: PathKey) -> str | None:
        if path[-1] not in obj:
            return None
        value = obj[path[-1]]
        if not isinstance(value, str) or not value.strip():
            self.bad(f"`{format_path(path)}` must be a non-empty string", path)
            return None
        return value

    def _inside(self, spelled: str, path: PathKey) -> bool:
        root = Path(os.path.realpath(self.section.root))
        target = Path(os.path.realpath(self.section.resolve(spelled)))
        if target == root or root in target.parents:
            return True
        self.bad(f"`{format_path(path)}` ({spelled}) is outside the project root {root}", path,
                 code=PATH_OUTSIDE)
        return False

    def _bindgen(self, bindgen: Any) -> None:
        path: PathKey = ("ffi", "bindgen")
        s = self.section
        if not isinstance(bindgen, dict):
            self.bad("`ffi.bindgen` must be an object", path)
            return
        self._unknown(bindgen, BINDGEN_KEYS, path)
        s.bindgen_present = True
        enabled = bindgen.get("enabled", True)
        if not isinstance(enabled, bool):
            self.bad("`ffi.bindgen.enabled` must be true or false", path + ("enabled",))
            enabled = False
        s.bindgen_enabled = enabled
        s.output = self._string(bindgen, path + ("output",))
        s.manifest = self._string(bindgen, path + ("manifest",))
        s.bindgen_config = self._string(bindgen, path + ("config",))
        if enabled and "output" not in bindgen:
            self.bad("bindgen is enabled but `ffi.bindgen.output` is missing", path + ("output",))
        if s.output is not None and not s.output.endswith(".reml"):
            self.bad(f"`ffi.bindgen.output` ({s.output}) must end in .reml", path + ("output",))
            s.output = None
        if enabled and not s.headers:
            self.bad("bindgen is enabled but `ffi.headers` lists no header", ("ffi", "headers"))
        for key in ("output", "manifest", "config"):
            value = getattr(s, "bindgen_config" if key == "config" else key)
            if value is not None and not self._inside(value, path + (key,)):
                setattr(s, "bindgen_config" if key == "config" else key, None)

    def _linker(self, linker: Any) -> None:
        path: PathKey = ("ffi", "linker")
        s = self.section
        if not isinstance(linker, dict):
            self.bad("`ffi.linker` must be an object", path)
            return
        self._unknown(linker, LINKER_KEYS, path)
        s.search_paths = self._strings(linker, path + ("search_paths",))
        s.frameworks = self._strings(linker, path + ("frameworks",))
        s.extra_args = self._strings(linker, path + ("extra_args",))
        if s.frameworks and not target_is_macos(self.platform):
            self.bad(f"frameworks are a macOS notion and the target is {self.platform or sys.platform}; "
                     f"ignored: {', '.join(s.frameworks)}", path + ("frameworks",),
                     code=FRAMEWORK_UNSUPPORTED, severity="warning")
