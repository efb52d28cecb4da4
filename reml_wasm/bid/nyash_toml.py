"""nyash.toml v2 loader (the configuration docs/plugins.md describes).

Produces a plain description of libraries, boxes and methods; the plugin connector
consumes it.  tomllib gives no positions, so diagnostics find the offending key's line
in the text themselves (`_Locator`).  Codes: `ffi.plugin.config.*`.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

from ..audit import Location, error
from ..tlv import BIRTH_METHOD_ID as BIRTH_ID, FINI_METHOD_ID as FINI_ID

__all__ = ["ArgSpec", "MethodConfig", "BoxConfig", "LibraryConfig", "NyashConfig", "load",
           "loads", "BIRTH_ID", "FINI_ID", "ARG_KINDS"]

# kinds an argument may declare: "box" (a plugin box, sent as a handle), a TLV kind, or
# None (an untyped name: the value's own kind).
ARG_KINDS = ("box", "bool", "i32", "i64", "f32", "f64", "string", "bytes", "handle")


@dataclass(frozen=True)
class ArgSpec:
    """One declared argument: `"path"` or `{kind = "box", category = "plugin"}` (or the
    v2 migration form `{name, from, to}`, where `to` is the TLV kind)."""

    name: str | None = None
    kind: str | None = None
    category: str | None = None

    @property
    def tlv_kind(self) -> str:
        """The encoder kind: "handle" for boxes, the TLV kind, or "any"."""
        if self.kind == "box":
            return "handle"
        return self.kind or "any"


@dataclass(frozen=True)
class MethodConfig:
    name: str
    method_id: int
    args: tuple[ArgSpec, ...] = ()
    returns_result: bool = False

    @property
    def role(self) -> str | None:
        if self.method_id == BIRTH_ID:
            return "constructor"
        if self.method_id == FINI_ID:
            return "destructor"
        return None


@dataclass(frozen=True)
class BoxConfig:
    name: str
    type_id: int
    abi_version: int = 1
    singleton: bool = False
    methods: dict[str, MethodConfig] = field(default_factory=dict)

    def method(self, name: str) -> MethodConfig:
        return self.methods[name]

    def by_id(self, method_id: int) -> MethodConfig | None:
        for m in self.methods.values():
            if m.method_id == method_id:
                return m
        return None


@dataclass(frozen=True)
class LibraryConfig:
    name: str            # the key under [libraries]
    path: str            # as written (defaults to the key)
    boxes: tuple[str, ...]
    box_configs: dict[str, BoxConfig]
    location: Location | None = None


@dataclass
class NyashConfig:
    source: Path | None
    libraries: dict[str, LibraryConfig]
    search_paths: tuple[str, ...] = ()
    # box name -> library key (the first library listing it)
    box_library: dict[str, str] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.source.parent if self.source is not None else Path.cwd()

    def box(self, name: str) -> tuple[LibraryConfig, BoxConfig]:
        lib = self.libraries[self.box_library[name]]
        return lib, lib.box_configs[name]

    def box_by_type_id(self, type_id: int) -> tuple[LibraryConfig, BoxConfig] | None:
        for box_name, lib_key in self.box_library.items():
            cfg = self.libraries[lib_key].box_configs[box_name]
            if cfg.type_id == type_id:
                return self.libraries[lib_key], cfg
        return None

    def resolve_library(self, lib: LibraryConfig) -> Path:
        """The file of a library: `path` as written (relative to the config's directory,
        then the working directory), then its file name under each search path (globs
        relative to the config's directory)."""
        tried: list[str] = []
        written = Path(os.path.expanduser(lib.path))
        candidates = [written] if written.is_absolute() else [self.base_dir / written, Path.cwd() / written]
        for cand in candidates:
            tried.append(str(cand))
            if cand.is_file():
                return cand.resolve()
        names = dict.fromkeys([written.name, lib.name])
        for pattern in self.search_paths:
            pattern = os.path.expanduser(pattern)
            full = pattern if os.path.isabs(pattern) else str(self.base_dir / pattern)
            for directory in sorted(glob.glob(full)):
                for name in names:
                    cand = Path(directory) / name
                    tried.append(str(cand))
                    if cand.is_file():
                        return cand.resolve()
            if not glob.has_magic(full):
                tried.extend(str(Path(full) / n) for n in names if str(Path(full) / n) not in tried)
        raise error("ffi.plugin.not_found", f"library {lib.name!r} not found (tried {', '.join(tried)})",
                    location=lib.location, library=lib.name, tried=tried)


# --- locating keys in the text ----------------------------------------------------------

_KEY_PART = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*')


def _split_key(text: str) -> list[str] | None:
    """Split a dotted TOML key (`libraries."a.so".FileBox`) into its parts."""
    parts, pos = [], 0
    while True:
        m = _KEY_PART.match(text, pos)
        if m is None:
            return None
        raw = m.group(1)
        parts.append(raw[1:-1] if raw[0] in "\"'" else raw)
        pos = m.end()
        if pos == len(text):
            return parts
        if text[pos] != ".":
            return None
        pos += 1


class _Locator:
    """Finds the line and column of a key path in TOML text (tables, dotted keys and
    inline tables; good enough for diagnostics, never used for meaning)."""

    def __init__(self, text: str, file: str | None) -> None:
        self.lines = text.splitlines()
        self.file = file
        self.sections: list[tuple[list[str], int]] = [([], 0)]  # (table path, first line index)
        for i, line in enumerate(self.lines):
            s = line.strip()
            if s.startswith("[") and not s.startswith("[["):
                inner = s[1:s.index("]")] if "]" in s else s[1:]
                parts = _split_key(inner)
                if parts is not None:
                    self.sections.append((parts, i))

    def _loc(self, index: int, column: int) -> Location:
        return Location(self.file, index + 1, column + 1, self.lines[index] if index < len(self.lines) else None)

    def find(self, path: Iterable[str]) -> Location | None:
        path = list(path)
        best: Location | None = None
        for n, (table, start) in enumerate(self.sections):
            if table != path[:len(table)]:
                continue
            rest = path[len(table):]
            end = self.sections[n + 1][1] if n + 1 < len(self.sections) else len(self.lines)
            if not rest:
                loc = self._loc(start, self.lines[start].index("[") if start < len(self.lines) and "[" in self.lines[start] else 0)
                best = loc if table else best
                continue
            for i in range(start + (1 if table else 0), end):
                line = self.lines[i]
                if "=" not in line or line.lstrip().startswith("#"):
                    continue
                key = _split_key(line.split("=", 1)[0].rstrip()) if not line.lstrip().startswith("[") else None
                if key is None or key != rest[:len(key)]:
                    continue
                col = len(line) - len(line.lstrip())
                # look for deeper keys inside an inline table on the same line
                for part in rest[len(key):]:
                    m = re.search(r'(?:^|[{,\s])("?' + re.escape(part) + r'"?)\s*=', line[col:])
                    if m is None:
                        break
                    col += m.start(1)
                return self._loc(i, col)
        return best


# --- loading ----------------------------------------------------------------------------

def load(path: str | os.PathLike[str]) -> NyashConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error("ffi.plugin.config.unreadable", f"cannot read {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error("ffi.plugin.config.syntax", f"{p} is not UTF-8 text",
                    location=Location(str(p), 1, 1)) from None
    return loads(text, source=p)


_TOML_POS = re.compile(r"at line (\d+), column (\d+)")


def loads(text: str, source: str | os.PathLike[str] | None = None) -> NyashConfig:
    file = None if source is None else str(source)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        # the TOML reader recurses per nesting level and has no limit of its own
        raise error("ffi.plugin.config.too_deep", "invalid TOML: arrays or inline tables nest too deep",
                    location=None if file is None else Location(file, 1, 1)) from None
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        loc = None
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            lines = text.splitlines()
            loc = Location(file, line, col, lines[line - 1] if 0 < line <= len(lines) else None)
        elif "end of document" in str(exc):
            lines = text.splitlines() or [""]
            loc = Location(file, len(lines), len(lines[-1]) + 1, lines[-1])
        message = _TOML_POS.sub("", str(exc)).replace("()", "").strip().rstrip("(").strip()
        raise error("ffi.plugin.config.syntax", f"invalid TOML: {message}", location=loc) from None
    return _Builder(data, _Locator(text, file), None if source is None else Path(source)).build()


class _Builder:
    def __init__(self, data: dict[str, Any], locator: _Locator, source: Path | None) -> None:
        self.data = data
        self.locator = locator
        self.source = source

    def fail(self, code: str, message: str, path: list[str]) -> Exception:
        return error(code, message, location=self.locator.find(path), key=".".join(path))

    def expect(self, value: Any, kind: type | tuple[type, ...], what: str, path: list[str]) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail("ffi.plugin.config.type", f"{what} must be {_toml_name(names)}, "
                            f"got {_toml_name(type(value).__name__)}", path)
        return value

    def build(self) -> NyashConfig:
        libraries_raw = self.data.get("libraries")
        if libraries_raw is None:
            raise self.fail("ffi.plugin.config.missing", "no [libraries] table", ["libraries"])
        self.expect(libraries_raw, dict, "[libraries]", ["libraries"])
        libraries: dict[str, LibraryConfig] = {}
        box_library: dict[str, str] = {}
        for key, raw in libraries_raw.items():
            lib = self.library(key, raw)
            libraries[key] = lib
            for box in lib.boxes:
                box_library.setdefault(box, key)
        search_paths: tuple[str, ...] = ()
        paths_raw = self.data.get("plugin_paths")
        if paths_raw is not None:
            self.expect(paths_raw, dict, "[plugin_paths]", ["plugin_paths"])
            sp = paths_raw.get("search_paths", [])
            self.expect(sp, list, "search_paths", ["plugin_paths", "search_paths"])
            for item in sp:
                self.expect(item, str, "each search path", ["plugin_paths", "search_paths"])
            search_paths = tuple(sp)
        return NyashConfig(self.source, libraries, search_paths, box_library)

    def library(self, key: str, raw: Any) -> LibraryConfig:
        base = ["libraries", key]
        self.expect(raw, dict, f"library {key!r}", base)
        if "boxes" not in raw:
            raise self.fail("ffi.plugin.config.missing", f"library {key!r} has no `boxes` list", base)
        boxes = self.expect(raw["boxes"], list, "boxes", base + ["boxes"])
        seen: set[str] = set()
        for b in boxes:
            self.expect(b, str, "each box name", base + ["boxes"])
            if b in seen:
                raise self.fail("ffi.plugin.config.duplicate", f"box {b!r} listed twice in {key!r}", base + ["boxes"])
            seen.add(b)
        path = self.expect(raw.get("path", key), str, "path", base + ["path"])
        configs: dict[str, BoxConfig] = {}
        type_ids: dict[int, str] = {}
        for b in boxes:
            if b not in raw:
                raise self.fail("ffi.plugin.config.missing",
                                f"library {key!r} lists box {b!r} but has no [libraries.{_q(key)}.{b}] table",
                                base + ["boxes"])
            cfg = self.box(key, b, raw[b])
            if cfg.type_id in type_ids:
                raise self.fail("ffi.plugin.config.duplicate",
                                f"type_id {cfg.type_id} used by both {type_ids[cfg.type_id]} and {b}",
                                base + [b, "type_id"])
            type_ids[cfg.type_id] = b
            configs[b] = cfg
        for extra, value in raw.items():
            if extra not in ("boxes", "path") and extra not in configs and isinstance(value, dict):
                raise self.fail("ffi.plugin.config.unknown_box",
                                f"table for box {extra!r} but {key!r} does not list it in `boxes`", base + [extra])
        return LibraryConfig(key, path, tuple(boxes), configs, self.locator.find(base))

    def box(self, lib: str, name: str, raw: Any) -> BoxConfig:
        base = ["libraries", lib, name]
        self.expect(raw, dict, f"box {name!r}", base)
        if "type_id" not in raw:
            raise self.fail("ffi.plugin.config.missing", f"box {name!r} has no type_id", base)
        type_id = self.expect(raw["type_id"], int, "type_id", base + ["type_id"])
        if not 0 < type_id <= 0xFFFFFFFF:
            raise self.fail("ffi.plugin.config.range", f"type_id {type_id} is not in 1..4294967295",
                            base + ["type_id"])
        abi = self.expect(raw.get("abi_version", 1), int, "abi_version", base + ["abi_version"])
        singleton = self.expect(raw.get("singleton", False), bool, "singleton", base + ["singleton"])
        methods_raw = self.expect(raw.get("methods", {}), dict, "methods", base + ["methods"])
        methods: dict[str, MethodConfig] = {}
        for mname, mraw in methods_raw.items():
            m = self.method(base + ["methods", mname], mname, mraw)
            methods[mname] = m
        return BoxConfig(name, type_id, abi, singleton, methods)

    def method(self, base: list[str], name: str, raw: Any) -> MethodConfig:
        self.expect(raw, dict, f"method {name!r}", base)
        if "method_id" not in raw:
            raise self.fail("ffi.plugin.config.missing", f"method {name!r} has no method_id", base)
        mid = self.expect(raw["method_id"], int, "method_id", base + ["method_id"])
        if not 0 <= mid <= 0xFFFFFFFF:
            raise self.fail("ffi.plugin.config.range", f"method_id {mid} is not a u32", base + ["method_id"])
        args_raw = self.expect(raw.get("args", []), list, "args", base + ["args"])
        args = []
        for item in args_raw:
            if isinstance(item, str):
                args.append(ArgSpec(name=item))
            elif isinstance(item, dict):
                for field_name in ("name", "kind", "category", "from", "to"):
                    if field_name in item and not isinstance(item[field_name], str):
                        raise self.fail("ffi.plugin.config.type",
                                        f"`{field_name}` of an argument of {name!r} must be a string", base + ["args"])
                kind = item.get("kind", item.get("to"))
                if kind is not None and kind not in ARG_KINDS:
                    raise self.fail("ffi.plugin.config.arg_kind",
                                    f"argument kind {kind!r} of {name!r} is not one of {', '.join(ARG_KINDS)}",
                                    base + ["args"])
                category = item.get("category")
                if kind == "box" and category not in (None, "plugin"):
                    raise self.fail("ffi.plugin.config.arg_kind",
                                    f"box argument category {category!r} of {name!r} is not supported (only \"plugin\")",
                                    base + ["args"])
                args.append(ArgSpec(name=item.get("name"), kind=kind, category=category))
            else:
                raise self.fail("ffi.plugin.config.type",
                                f"each argument of {name!r} must be a name or an inline table", base + ["args"])
        rr = self.expect(raw.get("returns_result", False), bool, "returns_result", base + ["returns_result"])
        return MethodConfig(name, mid, tuple(args), rr)


def _q(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def _toml_name(py: str) -> str:
    return {"dict": "a table", "list": "an array", "str": "a string", "int": "an integer",
            "bool": "a boolean", "float": "a float"}.get(py, py)
