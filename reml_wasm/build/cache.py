"""The bindgen cache: `<cache-dir>/ffi/<input_hash>/`, never serving a broken entry.

An entry holds the generated files under fixed names and `entry.json`, a manifest of
their own SHA-256 digests and sizes (and of the files the C preprocessor read, so that
a change to an included header is noticed).  An entry is built in a temporary directory
beside the final one and renamed into place in one step, so a reader sees either no
entry or a whole one.  A lookup re-hashes every file; anything that does not match
(a missing, truncated or altered file, an unreadable `entry.json`, a changed dependency)
makes the lookup a miss with a warning, and the next store replaces the entry.

Builds that race to store the same entry all succeed: the first rename wins, later
ones find a valid entry in place and drop their own copy.  Temporary directories left
by killed builds are removed once they are older than `ORPHAN_AGE_S`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..audit import Diagnostic

ENTRY_FILE = "entry.json"
ENTRY_VERSION = 1
TEMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
ORPHAN_AGE_S = 600.0
CACHE_CORRUPT = "ffi.build.cache_corrupt"
CACHE_WRITE_FAILED = "ffi.build.cache_write_failed"


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's contents, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class CacheEntry:
    """A verified entry: file name -> content."""

    path: Path
    files: dict[str, bytes]
    dependencies: dict[str, str] = field(default_factory=dict)
    stale: str | None = None   # why the entry is whole but out of date (a dependency changed)


class BindgenCache:
    """The `ffi/` part of a cache directory."""

    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.root = Path(cache_dir) / "ffi"

    def entry_path(self, input_hash: str) -> Path:
        """The directory of the entry for `input_hash`."""
        return self.root / input_hash

    # --- reading ---------------------------------------------------------------------

    def lookup(self, input_hash: str, base: Path | None = None) -> tuple[CacheEntry | None, list[Diagnostic]]:
        """The entry for `input_hash` if it is whole and current, else None.  A present but
        broken entry also yields a `ffi.build.cache_corrupt` warning; a whole one whose
        dependencies changed (relative ones are read under `base`) is a plain miss."""
        path = self.entry_path(input_hash)
        if not path.exists():
            return None, []
        entry, problem = read_entry(path, input_hash, base)
        if entry is not None and entry.stale:
            return None, []
        if entry is None:
            return None, [Diagnostic(CACHE_CORRUPT, f"cache entry {path} is not usable ({problem}); "
                                     "rebuilding it", severity="warning",
                                     extensions={"ffi.build": {"cache_path": str(path), "reason": problem}})]
        return entry, []

    # --- writing ---------------------------------------------------------------------

    def store(self, input_hash: str, files: Mapping[str, bytes],
              dependencies: Mapping[str, str] | None = None, base: Path | None = None) -> Path:
        """Write an entry (temp directory, fsync, rename).  Another build's whole and
        current entry for the same hash is kept; a broken or stale one is replaced.
        OSError when the cache cannot be written."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.entry_path(input_hash)
        work = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{input_hash}-", dir=self.root))
        os.chmod(work, 0o755)
        try:
            listing = {}
            for name, data in files.items():
                _write_synced(work / name, data)
                listing[name] = {"sha256": sha256_bytes(data), "size": len(data)}
            meta = {"version": ENTRY_VERSION, "input_hash": input_hash, "files": listing,
                    "dependencies": dict(dependencies or {})}
            _write_synced(work / ENTRY_FILE, json.dumps(meta, indent=2, sort_keys=True).encode())
            _fsync_dir(work)
            for _attempt in range(5):
                try:
                    os.rename(work, final)
                    _fsync_dir(self.root)
                    return final
                except OSError:
                    if not final.exists():
                        raise
                existing = read_entry(final, input_hash, base)[0]
                if existing is not None and not existing.stale:
                    return final  # another build stored the same entry first
                self._discard(final)
            raise OSError(f"cannot place cache entry {final}")
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)

    def _discard(self, path: Path) -> None:
        """Move a broken entry out of the way (one rename, so racing builds agree), then
        delete it."""
        trash = self.root / f"{TRASH_PREFIX}{path.name}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(path, trash)
        except OSError:
            return  # someone else moved it already
        shutil.rmtree(trash, ignore_errors=True)

    def clean_orphans(self, max_age_s: float = ORPHAN_AGE_S) -> list[Path]:
        """Remove temporary and discarded directories older than `max_age_s`."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        now = time.time()
        for child in self.root.iterdir():
            if not child.name.startswith((TEMP_PREFIX, TRASH_PREFIX)):
                continue
            try:
                age = now - child.stat().st_mtime
            except OSError:
                continue
            if age > max_age_s:
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
        return removed


def read_entry(path: Path, input_hash: str, base: Path | None = None) -> tuple[CacheEntry | None, str]:
    """Read and verify the entry at `path`: (entry, "") or (None, why it is broken).
    With `base`, the recorded dependencies are re-hashed too (relative ones under
    `base`) and a change marks the entry `stale`."""
    try:
        meta = json.loads((path / ENTRY_FILE).read_bytes())
    except FileNotFoundError:
        return None, f"{ENTRY_FILE} is missing"
    except (OSError, ValueError) as exc:
        return None, f"{ENTRY_FILE} is unreadable: {exc}"
    if not isinstance(meta, dict) or meta.get("version") != ENTRY_VERSION \
            or meta.get("input_hash") != input_hash or not isinstance(meta.get("files"), dict) \
            or not isinstance(meta.get("dependencies", {}), dict):
        return None, f"{ENTRY_FILE} does not describe this entry"
    files: dict[str, bytes] = {}
    for name, info in meta["files"].items():
        if not isinstance(info, dict) or "/" in name or name in ("", ".", "..", ENTRY_FILE):
            return None, f"{ENTRY_FILE} lists a bad file {name!r}"
        try:
            data = (path / name).read_bytes()
        except OSError:
            return None, f"{name} is missing"
        if len(data) != info.get("size") or sha256_bytes(data) != info.get("sha256"):
            return None, f"{name} does not match its recorded hash"
        files[name] = data
    deps = meta.get("dependencies", {})
    entry = CacheEntry(path, files, dict(deps))
    if base is not None:
        for dep, digest in deps.items():
            try:
                current = sha256_file(base / dep)
            except OSError:
                current = None
            if current != digest:
                entry.stale = f"dependency {dep} changed"
                break
    return entry, ""


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
