"""What a run binds: the target headers, and the allow / block lists.

Targets.  The headers named on the command line are targets, and so is every header
they include that belongs to the same library (followed transitively through targets):

* a header in the includer's own directory or below it, when that directory is not an
  include root (`curl/curl.h` brings `curl/system.h`; `lua5.4/lua.h` brings `luaconf.h`);
* a header in the directory named after the includer (`lzma.h` brings `lzma/*.h`), or
  beside it with a name that starts with the includer's (`ffi.h` brings `ffitarget.h`);
* the C library's private `bits/` headers (`math.h` declares its functions in
  `bits/mathcalls.h`);
* everything a named header includes when the named header declares nothing and
  defines no constant itself (the `wrapper.h` idiom), followed through such umbrellas; an umbrella among the
  compiler's own headers only brings the header of its own name (`poll.h` brings
  `sys/poll.h`, not `inttypes.h`).

Headers of other libraries stay non-targets: their types are still followed when a
target declaration uses them, but their functions, variables and macros are not bound.

Selection.  `allowlist_*` / `blocklist_*` patterns are regular expressions matched
against the whole name (function, type: tag or typedef name, var: variables and
constants) or the whole real path of the declaring file.  With any allowlist, only
declarations that match an allowlist are bound, wherever they are declared; without
one, the targets' declarations are.  A blocklist match always wins; a blocklisted type
is never emitted, and a function that uses it is skipped (reported as an unknown type).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping, Sequence

Kind = Literal["function", "type", "var"]
KINDS: tuple[Kind, ...] = ("function", "type", "var")


_REAL_CACHE: dict[str, str] = {}


def real_path(path: str) -> str:
    """The real path of a file the preprocessor named (`<built-in>`-style names kept)."""
    r = _REAL_CACHE.get(path)
    if r is None:
        r = os.path.realpath(path) if not path.startswith("<") else path
        _REAL_CACHE[path] = r
    return r


def root_relative(path: str, roots: Sequence[str]) -> str | None:
    """`path` relative to the deepest include root containing it, or None."""
    best = None
    for r in roots:
        if path.startswith(r + os.sep) and (best is None or len(r) > len(best)):
            best = r
    return None if best is None else path[len(best) + 1:]


def same_library(includer: str, header: str, roots: Sequence[str]) -> bool:
    """Whether `header`, included by `includer`, is part of the includer's library."""
    rel = root_relative(header, roots)
    if rel is not None and rel.startswith("bits" + os.sep):
        return True
    directory = os.path.dirname(includer)
    if directory not in roots and header.startswith(directory + os.sep):
        return True
    stem = os.path.splitext(os.path.basename(includer))[0]
    if header.startswith(os.path.join(directory, stem) + os.sep):
        return True
    # a header beside it named after it: `ffi.h` brings `ffitarget.h`, `string.h` `strings.h`
    return len(stem) >= 3 and os.path.dirname(header) == directory \
        and os.path.basename(header).startswith(stem)


def library_headers(named: Iterable[str], includes: Mapping[str, Sequence[str]],
                    own_text: set[str], roots: Sequence[str],
                    system_roots: Sequence[str] = ()) -> frozenset[str]:
    """The target headers: the `named` ones and the headers of their libraries they
    include (real paths throughout; `includes` maps a file to the files it includes,
    `own_text` holds the files with declarations of their own; `roots` are all include
    directories, `system_roots` the compiler's own)."""
    roots = [r.rstrip(os.sep) for r in roots]
    system_roots = [r.rstrip(os.sep) for r in system_roots]
    named = list(named)
    targets = set(named)
    umbrellas = {h for h in named if h not in own_text}
    queue = list(named)
    while queue:
        t = queue.pop()
        umbrella = t in umbrellas
        system = umbrella and root_relative(t, system_roots) is not None
        for h in includes.get(t, ()):
            if h in targets:
                continue
            if umbrella and system:
                take = os.path.basename(h) == os.path.basename(t) or same_library(t, h, roots)
            else:
                take = umbrella or same_library(t, h, roots)
            if take:
                targets.add(h)
                queue.append(h)
                if umbrella and h not in own_text:
                    umbrellas.add(h)
    return frozenset(targets)


def _compile(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


@dataclass(frozen=True)
class Selection:
    """Allow and block lists by kind (`function`, `type`, `var`) and by file."""

    allow: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    block: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, allow: Mapping[str, Sequence[str]] | None = None,
           block: Mapping[str, Sequence[str]] | None = None) -> "Selection":
        """From pattern strings keyed by kind or `file` (empty lists dropped)."""
        return cls({k: _compile(v) for k, v in (allow or {}).items() if v},
                   {k: _compile(v) for k, v in (block or {}).items() if v})

    @property
    def allowing(self) -> bool:
        return bool(self.allow)

    def keeps(self, kind: Kind, names: Iterable[str | None], file: str | None, target: bool) -> bool:
        """Whether a declaration of `kind` called any of `names` in `file` is bound
        (`target`: its file is a target header)."""
        present = [n for n in names if n]
        real = real_path(file) if file else None
        if real and any(rx.fullmatch(real) for rx in self.block.get("file", ())):
            return False
        if any(rx.fullmatch(n) for n in present for rx in self.block.get(kind, ())):
            return False
        if not self.allow:
            return target
        if real and any(rx.fullmatch(real) for rx in self.allow.get("file", ())):
            return True
        return any(rx.fullmatch(n) for n in present for rx in self.allow.get(kind, ()))

    def blocked_type(self, name: str) -> bool:
        return any(rx.fullmatch(name) for rx in self.block.get("type", ()))
