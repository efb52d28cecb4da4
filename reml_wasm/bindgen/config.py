"""`reml-bindgen.toml` and the command line, merged into one `BindgenConfig`.

Paths in the file are relative to the file's directory, paths on the command line to
the working directory.  Command-line values win: list options are appended to the
file's lists, single values replace the file's.  Every problem is
`ffi.bindgen.config_invalid` with the field named.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

from ..audit import Location, error
from .selection import Selection

DEFAULT_CONFIG = "reml-bindgen.toml"
SELECTION_KEYS = tuple(f"{way}_{kind}" for way in ("allowlist", "blocklist")
                       for kind in ("function", "type", "var", "file"))
LIST_KEYS = ("headers", "include_paths", "defines", "exclude") + SELECTION_KEYS
SINGLE_KEYS = ("output", "manifest", "compile_commands")
REQUIRED_FILE_KEYS = ("headers", "include_paths", "output", "manifest")
_DEFINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(=.*)?$")


@dataclass(frozen=True)
class PathArg:
    """A path as the user wrote it, and where it points."""

    spelled: str
    path: Path


@dataclass
class BindgenConfig:
    headers: list[PathArg] = field(default_factory=list)
    include_paths: list[PathArg] = field(default_factory=list)
    output: PathArg | None = None
    manifest: PathArg | None = None
    defines: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    compile_commands: PathArg | None = None
    config_path: Path | None = None
    extra_flags: list[str] = field(default_factory=list)  # from compile_commands
    allowlist_function: list[str] = field(default_factory=list)
    allowlist_type: list[str] = field(default_factory=list)
    allowlist_var: list[str] = field(default_factory=list)
    allowlist_file: list[str] = field(default_factory=list)
    blocklist_function: list[str] = field(default_factory=list)
    blocklist_type: list[str] = field(default_factory=list)
    blocklist_var: list[str] = field(default_factory=list)
    blocklist_file: list[str] = field(default_factory=list)

    def selection(self) -> Selection:
        """The allow / block lists as a `Selection`."""
        return Selection.of({k: getattr(self, f"allowlist_{k}") for k in ("function", "type", "var", "file")},
                            {k: getattr(self, f"blocklist_{k}") for k in ("function", "type", "var", "file")})

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent if self.config_path is not None else Path.cwd()

    def canonical(self) -> dict[str, Any]:
        """The settings that shape the output, as spelled (for the input hash)."""
        return {"headers": [h.spelled for h in self.headers],
                "include_paths": [p.spelled for p in self.include_paths],
                "output": self.output.spelled if self.output else None,
                "manifest": self.manifest.spelled if self.manifest else None,
                "defines": self.defines, "exclude": self.exclude,
                "compile_flags": self.extra_flags,
                **{k: getattr(self, k) for k in SELECTION_KEYS if getattr(self, k)}}


def invalid(message: str, field_name: str | None = None, location: Location | None = None):
    ext = {"field": field_name} if field_name else {}
    return error("ffi.bindgen.config_invalid", message, location=location, **ext)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise invalid(f"cannot read config {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise invalid(f"config {path} is not UTF-8 text (byte offset {exc.start})",
                      location=Location(str(path), 1, 1)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        loc = Location(str(path), int(m.group(1)), int(m.group(2))) if m else Location(str(path), 1, 1)
        raise invalid(f"config is not valid TOML: {exc}", location=loc) from None
    except RecursionError:  # tomllib has no depth limit of its own
        raise invalid(f"config {path} nests too deep to be read", location=Location(str(path), 1, 1)) from None


def _check_list(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data[key]
    if not isinstance(value, list):
        raise invalid(f"{where}: `{key}` must be a list of strings", key)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise invalid(f"{where}: `{key}[{i}]` must be a non-empty string", f"{key}[{i}]")
    return value


def _check_str(data: dict[str, Any], key: str, where: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{where}: `{key}` must be a non-empty string", key)
    return value


def load(config: str | None, cli: dict[str, Any] | None = None) -> BindgenConfig:
    """Read the config file (if `config` is None the default file is used when it exists)
    and merge the command-line values `cli` (keys as in the file, lists and strings)."""
    cli = cli or {}
    cfg = BindgenConfig()
    explicit = config is not None
    path = Path(config if config is not None else DEFAULT_CONFIG)
    data: dict[str, Any] = {}
    if path.is_file():
        cfg.config_path = path.resolve()
        data = _read_toml(path)
        where = str(path)
        unknown = sorted(set(data) - set(LIST_KEYS) - set(SINGLE_KEYS))
        if unknown:
            raise invalid(f"{where}: unknown key `{unknown[0]}`", unknown[0])
        for key in REQUIRED_FILE_KEYS:
            if key not in data:
                raise invalid(f"{where}: `{key}` is required", key)
    elif explicit:
        raise invalid(f"config file {path} not found", "config")
    base = cfg.base_dir
    cwd = Path.cwd()

    def arg(spelled: str, root: Path) -> PathArg:
        p = Path(spelled)
        return PathArg(spelled, p if p.is_absolute() else root / p)

    where = str(path)
    for key in LIST_KEYS:
        file_items = _check_list(data, key, where) if key in data else []
        cli_items = [str(x) for x in cli.get(key) or ()]
        if key in ("headers", "include_paths"):
            setattr(cfg, key, [arg(s, base) for s in file_items] + [arg(s, cwd) for s in cli_items])
        else:
            setattr(cfg, key, list(file_items) + cli_items)
    for key in SINGLE_KEYS:
        if cli.get(key) is not None:
            setattr(cfg, key, arg(str(cli[key]), cwd))
        elif key in data:
            setattr(cfg, key, arg(_check_str(data, key, where), base))
    _validate(cfg)
    if cfg.compile_commands is not None:
        cfg.extra_flags = compile_flags(cfg.compile_commands.path)
    return cfg


def _validate(cfg: BindgenConfig) -> None:
    if not cfg.headers:
        raise invalid("no headers given (config `headers` or --header)", "headers")
    if cfg.output is None:
        raise invalid("no output given (config `output` or --output)", "output")
    if not cfg.output.spelled.endswith(".reml"):
        raise invalid(f"output {cfg.output.spelled} must end in .reml", "output")
    if cfg.manifest is None:
        raise invalid("no manifest given (config `manifest` or --manifest)", "manifest")
    for i, d in enumerate(cfg.defines):
        if not _DEFINE.match(d):
            raise invalid(f"define {d!r} is not NAME or NAME=VALUE", f"defines[{i}]")
    for key in ("exclude",) + SELECTION_KEYS:
        for i, rx in enumerate(getattr(cfg, key)):
            try:
                re.compile(rx)
            except (re.error, OverflowError, RecursionError) as exc:  # a{99999999999}, deep groups
                raise invalid(f"{key} pattern {rx!r} is not a regular expression: {exc}",
                              f"{key}[{i}]") from None


def _text_field(entry: dict[str, Any], key: str, path: Path) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{path}: `{key}` must be a string, not {type(value).__name__}", "compile_commands")
    return value


def compile_flags(path: Path) -> list[str]:
    """-I, -isystem, -D, -U and -std flags of a compile_commands.json, in order, once each;
    relative include directories are made absolute against each entry's `directory`."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise invalid(f"cannot read compile_commands {path}: {exc}", "compile_commands") from None
    except RecursionError:
        raise invalid(f"compile_commands {path} nests too deep to be read", "compile_commands") from None
    if not isinstance(entries, list):
        raise invalid(f"{path}: compile_commands must be a JSON list", "compile_commands")
    flags: list[str] = []
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        directory = Path(_text_field(entry, "directory", path) or path.parent)
        arguments = entry.get("arguments")
        if arguments is not None and not (isinstance(arguments, list) and all(isinstance(a, str) for a in arguments)):
            raise invalid(f"{path}: `arguments` must be a list of strings", "compile_commands")
        try:
            args = arguments or shlex.split(_text_field(entry, "command", path) or "")
        except ValueError as exc:  # an unclosed quote
            raise invalid(f"{path}: cannot split `command`: {exc}", "compile_commands") from None
        i = 0
        while i < len(args):
            a = args[i]
            value = None
            for prefix in ("-I", "-isystem", "-D", "-U"):
                if a == prefix and i + 1 < len(args):
                    value, i = (prefix, args[i + 1]), i + 1
                    break
                if a.startswith(prefix) and a != prefix and not (prefix == "-I" and a.startswith("-isystem")):
                    value = (prefix, a[len(prefix):])
                    break
            if value is not None:
                prefix, v = value
                if prefix in ("-I", "-isystem") and not Path(v).is_absolute():
                    v = str(directory / v)
                if (prefix, v) not in seen:
                    seen.add((prefix, v))
                    flags.extend([f"{prefix}{v}"] if prefix != "-isystem" else ["-isystem", v])
            elif a.startswith("-std=") and ("-std", a) not in seen:
                seen.add(("-std", a))
                flags.append(a)
            i += 1
    return flags
