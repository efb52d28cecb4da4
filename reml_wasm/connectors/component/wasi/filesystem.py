"""wasi:filesystem — types and preopens, over the directories `WasiConfig.dirs` grants.

Every path a guest names is resolved under the descriptor it is relative to and must stay
inside the granted directory it came from: absolute paths, `..` past the granted root and
symbolic links whose target lies outside are refused (`not-permitted`); a read-only grant
refuses every write, creation, removal and rename (`not-permitted`, as wasmtime does).  Guests cannot create
symbolic or hard links, so no link made during a call can lead out.  Errors are the
`error-code` cases of wasi:filesystem/types, taken from the host's errno.
"""

from __future__ import annotations

import errno
import os
import stat as st
from typing import Any

from ....values import Ok, Record
from ..sandbox import Preopen
from .clocks import datetime
from .host import Failure, WasiHost
from .io import InputStream, IoError, OutputStream

_ERRNO = {
    errno.ENOENT: "no-entry", errno.EEXIST: "exist", errno.ENOTDIR: "not-directory",
    errno.EISDIR: "is-directory", errno.EACCES: "access", errno.EPERM: "not-permitted",
    errno.ENOTEMPTY: "not-empty", errno.ELOOP: "loop", errno.ENAMETOOLONG: "name-too-long",
    errno.EINVAL: "invalid", errno.EBADF: "bad-descriptor", errno.ENOSPC: "insufficient-space",
    errno.EROFS: "read-only", errno.EXDEV: "cross-device", errno.EBUSY: "busy",
    errno.EMLINK: "too-many-links", errno.EFBIG: "file-too-large", errno.ESPIPE: "invalid-seek",
}


def code_of(exc: OSError) -> str:
    """The wasi:filesystem error-code of a host OSError (`io` when none fits)."""
    return _ERRNO.get(exc.errno or 0, "io")


def fail(code: str) -> Failure:
    """`err(code)` for the function being served."""
    return Failure(code)


class Descriptor:
    """A granted directory, or a file or directory opened beneath one.  `host` is the
    host path (for files, `fd` is open on it); `root` the granted directory's real path."""

    def __init__(self, host: str, grant: Preopen, *, fd: int | None = None, readable: bool = True,
                 writable: bool = False) -> None:
        self.host = host
        self.grant = grant
        self.fd = fd
        self.readable = readable
        self.writable = writable

    @property
    def is_dir(self) -> bool:
        return self.fd is None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = -1


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve(d: Descriptor, path: str, follow: bool) -> str:
    """The host path of `path` relative to directory `d`, refused when it leads outside
    the grant (lexically or through a symbolic link)."""
    if not d.is_dir:
        raise fail("not-directory")
    if "\0" in path:
        raise fail("invalid")
    if path.startswith("/"):
        raise fail("not-permitted")
    root = d.grant.host
    parts = d.host[len(root):].split(os.sep) if d.host != root else []
    parts = [p for p in parts if p]
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if not parts:
                raise fail("not-permitted")
            parts.pop()
        else:
            parts.append(comp)
    target = os.path.join(root, *parts) if parts else root
    parent = os.path.realpath(os.path.dirname(target)) if parts else root
    if not _inside(root, parent):
        raise fail("not-permitted")
    if parts:
        target = os.path.join(parent, parts[-1])
        if follow or os.path.islink(target) is False:
            real = os.path.realpath(target)
            if not _inside(root, real):
                raise fail("not-permitted")
            if follow:
                target = real
    return target


def _writable_grant(d: Descriptor) -> None:
    if d.grant.readonly:
        raise fail("not-permitted")  # wasmtime's answer too


_KINDS = ((st.S_ISDIR, "directory"), (st.S_ISREG, "regular-file"), (st.S_ISLNK, "symbolic-link"),
          (st.S_ISCHR, "character-device"), (st.S_ISBLK, "block-device"), (st.S_ISFIFO, "fifo"),
          (st.S_ISSOCK, "socket"))


def _kind(mode: int) -> str:
    """The descriptor-type of a file mode."""
    return next((name for test, name in _KINDS if test(mode)), "unknown")


def _stat_record(s: os.stat_result) -> Record:
    return Record(**{"type": _kind(s.st_mode), "link-count": s.st_nlink, "size": s.st_size,
                     "data-access-timestamp": datetime(s.st_atime_ns),
                     "data-modification-timestamp": datetime(s.st_mtime_ns),
                     "status-change-timestamp": datetime(s.st_ctime_ns)})


def _os(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except OSError as exc:
        raise fail(code_of(exc)) from None


# --- descriptor methods -------------------------------------------------------------------

def _read_via_stream(host: WasiHost, d: Descriptor, offset: int) -> Any:
    if d.is_dir:
        raise fail("is-directory")
    if not d.readable:
        raise fail("bad-descriptor")
    pos = [offset]

    def reader(n: int) -> bytes:
        data = os.pread(d.fd, n, pos[0])  # type: ignore[arg-type]
        pos[0] += len(data)
        return data
    return Ok(InputStream(reader))


def _write_via_stream(host: WasiHost, d: Descriptor, offset: int) -> Any:
    if d.is_dir:
        raise fail("is-directory")
    if not d.writable:
        raise fail("bad-descriptor")
    pos = [offset]

    def sink(data: bytes) -> None:
        os.pwrite(d.fd, data, pos[0])  # type: ignore[arg-type]
        pos[0] += len(data)
    return Ok(OutputStream(sink))


def _append_via_stream(host: WasiHost, d: Descriptor) -> Any:
    if d.is_dir:
        raise fail("is-directory")
    if not d.writable:
        raise fail("bad-descriptor")

    def sink(data: bytes) -> None:
        os.pwrite(d.fd, data, os.fstat(d.fd).st_size)  # type: ignore[arg-type]
    return Ok(OutputStream(sink))


def _ok(host: WasiHost, d: Descriptor, *args: Any) -> Any:
    return Ok(None)


def set_times(host: WasiHost, d: Descriptor, atime: Any, mtime: Any) -> Any:
    """Accepted and left as they are (a read-only grant refuses)."""
    _writable_grant(d)
    return Ok(None)


def _set_times_at(host: WasiHost, d: Descriptor, path_flags: frozenset, path: str, atime: Any, mtime: Any) -> Any:
    _writable_grant(d)
    _os(os.lstat, resolve(d, path, "symlink-follow" in path_flags))
    return Ok(None)


def _get_flags(host: WasiHost, d: Descriptor) -> Any:
    flags = set()
    if d.readable:
        flags.add("read")
    if d.writable:
        flags.add("write")
    if d.is_dir and not d.grant.readonly:
        flags.add("mutate-directory")
    return Ok(frozenset(flags))


def _get_type(host: WasiHost, d: Descriptor) -> Any:
    return Ok(_kind(_os(os.stat, d.host).st_mode))


def _set_size(host: WasiHost, d: Descriptor, size: int) -> Any:
    if d.is_dir:
        raise fail("is-directory")
    if not d.writable:
        raise fail("bad-descriptor")
    _os(os.ftruncate, d.fd, size)
    return Ok(None)


def _read(host: WasiHost, d: Descriptor, length: int, offset: int) -> Any:
    if d.is_dir:
        raise fail("is-directory")
    if not d.readable:
        raise fail("bad-descriptor")
    data = _os(os.pread, d.fd, min(length, 1 << 24), offset)
    return Ok((data, len(data) < length))


def _write(host: WasiHost, d: Descriptor, data: bytes, offset: int) -> Any:
    if d.is_dir:
        raise fail("is-directory")
    if not d.writable:
        raise fail("bad-descriptor")
    return Ok(_os(os.pwrite, d.fd, data, offset))


class DirectoryEntries:
    """A directory-entry-stream: the entries read when it was opened, handed out in order."""

    def __init__(self, entries: list[Record]) -> None:
        self.entries = entries

    def close(self) -> None:
        self.entries = []


def _read_directory(host: WasiHost, d: Descriptor) -> Any:
    if not d.is_dir:
        raise fail("not-directory")
    out = []
    for entry in _os(lambda p: sorted(os.scandir(p), key=lambda e: e.name), d.host):
        try:
            kind = _kind(entry.stat(follow_symlinks=False).st_mode)
        except OSError:
            kind = "unknown"
        out.append(Record(type=kind, name=entry.name))
    return Ok(DirectoryEntries(out))


def _read_directory_entry(host: WasiHost, entries: DirectoryEntries) -> Any:
    return Ok(entries.entries.pop(0) if entries.entries else None)


def _create_directory_at(host: WasiHost, d: Descriptor, path: str) -> Any:
    _writable_grant(d)
    _os(os.mkdir, resolve(d, path, False))
    return Ok(None)


def _stat(host: WasiHost, d: Descriptor) -> Any:
    return Ok(_stat_record(_os(os.fstat, d.fd) if d.fd is not None else _os(os.stat, d.host)))


def _stat_at(host: WasiHost, d: Descriptor, path_flags: frozenset, path: str) -> Any:
    follow = "symlink-follow" in path_flags
    target = resolve(d, path, follow)
    return Ok(_stat_record(_os(os.stat if follow else os.lstat, target)))


def _open_at(host: WasiHost, d: Descriptor, path_flags: frozenset, path: str, open_flags: frozenset,
            flags: frozenset) -> Any:
    follow = "symlink-follow" in path_flags
    target = resolve(d, path, follow)
    wants_write = "write" in flags or "truncate" in open_flags or "create" in open_flags \
        or "mutate-directory" in flags
    if wants_write and d.grant.readonly:
        if "create" in open_flags and "mutate-directory" not in flags and "write" not in flags \
                and "truncate" not in open_flags and os.path.exists(target) and "exclusive" not in open_flags:
            pass  # create of an existing file, read-only: nothing is written
        else:
            raise fail("not-permitted")
    is_dir = os.path.isdir(target) if follow else (os.path.isdir(target) and not os.path.islink(target))
    if "directory" in open_flags or (is_dir and "create" not in open_flags):
        if not os.path.lexists(target):
            raise fail("no-entry")
        if not is_dir:
            raise fail("not-directory")
        if "write" in flags:
            raise fail("is-directory")
        return Ok(Descriptor(target, d.grant))
    mode = os.O_RDWR if ("read" in flags and "write" in flags) else (os.O_WRONLY if "write" in flags else os.O_RDONLY)
    if "create" in open_flags:
        mode |= os.O_CREAT
    if "exclusive" in open_flags:
        mode |= os.O_EXCL
    if "truncate" in open_flags:
        mode |= os.O_TRUNC
    if not follow:
        mode |= os.O_NOFOLLOW
    fd = _os(os.open, target, mode | getattr(os, "O_CLOEXEC", 0), 0o644)
    real = os.path.realpath(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else target
    if not _inside(d.grant.host, real):  # a link swapped in while opening
        os.close(fd)
        raise fail("not-permitted")
    return Ok(Descriptor(target, d.grant, fd=fd, readable="write" not in flags or "read" in flags,
                         writable="write" in flags))


def _readlink_at(host: WasiHost, d: Descriptor, path: str) -> Any:
    return Ok(_os(os.readlink, resolve(d, path, False)))


def _remove_directory_at(host: WasiHost, d: Descriptor, path: str) -> Any:
    _writable_grant(d)
    _os(os.rmdir, resolve(d, path, False))
    return Ok(None)


def _unlink_file_at(host: WasiHost, d: Descriptor, path: str) -> Any:
    _writable_grant(d)
    target = resolve(d, path, False)
    if os.path.isdir(target) and not os.path.islink(target):
        raise fail("is-directory")
    _os(os.unlink, target)
    return Ok(None)


def _rename_at(host: WasiHost, d: Descriptor, old: str, new_d: Descriptor, new: str) -> Any:
    _writable_grant(d)
    _writable_grant(new_d)
    _os(os.rename, resolve(d, old, False), resolve(new_d, new, False))
    return Ok(None)


def _no_links(host: WasiHost, d: Descriptor, *args: Any) -> Any:
    raise fail("not-permitted")


def _is_same_object(host: WasiHost, a: Descriptor, b: Descriptor) -> bool:
    try:
        return os.path.samefile(a.host, b.host)
    except OSError:
        return False


def _hash(s: os.stat_result) -> Record:
    return Record(lower=s.st_ino & (2**64 - 1), upper=s.st_dev & (2**64 - 1))


def _metadata_hash(host: WasiHost, d: Descriptor) -> Any:
    return Ok(_hash(_os(os.stat, d.host)))


def _metadata_hash_at(host: WasiHost, d: Descriptor, path_flags: frozenset, path: str) -> Any:
    follow = "symlink-follow" in path_flags
    return Ok(_hash(_os(os.stat if follow else os.lstat, resolve(d, path, follow))))


def _filesystem_error_code(host: WasiHost, err: IoError) -> str | None:
    return err.code


TYPES = {
    "[method]descriptor.read-via-stream": _read_via_stream,
    "[method]descriptor.write-via-stream": _write_via_stream,
    "[method]descriptor.append-via-stream": _append_via_stream,
    "[method]descriptor.advise": _ok, "[method]descriptor.sync-data": _ok, "[method]descriptor.sync": _ok,
    "[method]descriptor.get-flags": _get_flags, "[method]descriptor.get-type": _get_type,
    "[method]descriptor.set-size": _set_size, "[method]descriptor.set-times": set_times,
    "[method]descriptor.read": _read, "[method]descriptor.write": _write,
    "[method]descriptor.read-directory": _read_directory,
    "[method]descriptor.create-directory-at": _create_directory_at,
    "[method]descriptor.stat": _stat, "[method]descriptor.stat-at": _stat_at,
    "[method]descriptor.set-times-at": _set_times_at,
    "[method]descriptor.link-at": _no_links, "[method]descriptor.symlink-at": _no_links,
    "[method]descriptor.open-at": _open_at, "[method]descriptor.readlink-at": _readlink_at,
    "[method]descriptor.remove-directory-at": _remove_directory_at,
    "[method]descriptor.rename-at": _rename_at, "[method]descriptor.unlink-file-at": _unlink_file_at,
    "[method]descriptor.is-same-object": _is_same_object,
    "[method]descriptor.metadata-hash": _metadata_hash, "[method]descriptor.metadata-hash-at": _metadata_hash_at,
    "[method]directory-entry-stream.read-directory-entry": _read_directory_entry,
    "filesystem-error-code": _filesystem_error_code,
}


def _get_directories(host: WasiHost) -> list[tuple[Descriptor, str]]:
    return [(Descriptor(p.host, p), p.guest) for p in host.config.dirs]


PREOPENS = {"get-directories": _get_directories}

