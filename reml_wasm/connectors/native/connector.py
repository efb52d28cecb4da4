"""`NativeConnector`: the canonical-native connector behind the `Connector` protocol.

It runs the exports of a world in a native library built from the same C source as the
component (`CanonicalNativeLibrary`).  The library is either given as a path, or built on
first use from a C source with the system compiler (`toolchain.build_native`, cached).
The key `…#[resource-drop]r` binds the drop of an owned handle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ... import toolchain
from ... import types as t
from ...audit import DiagnosticError, error
from .. import Availability
from .canonical import CanonicalNativeLibrary, export_functions, symbols_needed
from .library import Mode, NativeLibrary

DROP = "[resource-drop]"


class NativeConnector:
    """Calls the exports of `world` in a native library (opened or built on first use)."""

    name = "native"

    def __init__(self, exports: t.World | Mapping[str, t.Function], *,
                 library: str | os.PathLike[str] | None = None,
                 source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
                 include_dirs: Sequence[str | os.PathLike[str]] = (), mode: Mode = "auto") -> None:
        """`library`: a shared library path (or name); else `source`: the C file(s) to build
        with the system compiler on first use.  `exports`: the world (or export name ->
        function) the library implements."""
        if library is None and source is None:
            raise error("ffi.router.config", "a native connector needs a library or a C source")
        self.functions = export_functions(exports) if isinstance(exports, t.World) else dict(exports)
        self.library_path = None if library is None else str(library)
        if source is None:
            self.sources: list[str] = []
        elif isinstance(source, (str, os.PathLike)):
            self.sources = [str(source)]
        else:
            self.sources = [str(s) for s in source]
        self.include_dirs = [str(d) for d in include_dirs]
        self.mode = mode
        self.library = Path(self.library_path or self.sources[0]).stem.removeprefix("lib")
        self._canonical: CanonicalNativeLibrary | None = None
        self.missing: dict[str, str] = {}  # export -> the first symbol the library lacks

    def _build(self) -> str:
        return str(toolchain.build_native(self.sources, include_dirs=self.include_dirs, name=self.library))

    @property
    def canonical(self) -> CanonicalNativeLibrary:
        """The opened library (built first when only a source was given)."""
        if self._canonical is None:
            path = self.library_path if self.library_path is not None else self._build()
            lib = NativeLibrary.open(path, mode=self.mode)
            served = {}
            for name, func in self.functions.items():
                lacking = [s for s in symbols_needed(name, func) if not lib.has_symbol(s)]
                if lacking:
                    self.missing[name] = lacking[0]
                else:
                    served[name] = func
            self._canonical = CanonicalNativeLibrary(lib, served, mode=self.mode)
        return self._canonical

    def available(self) -> Availability:
        """Whether the library exists (or can be built) and loads.  Exports whose symbols
        it lacks are refused by `bind` (`ffi.symbol.not_found`), one by one."""
        if self._canonical is not None:
            return Availability(True)
        if self.library_path is not None and os.sep in self.library_path and not Path(self.library_path).exists():
            return Availability(False, f"native library {self.library_path} does not exist")
        if self.library_path is None:
            missing = [s for s in self.sources if not Path(s).is_file()]
            if missing:
                return Availability(False, f"C source {missing[0]} does not exist")
            try:
                toolchain.c_compiler()
            except DiagnosticError as exc:
                return Availability(False, f"the native library cannot be built: {exc.diagnostic.message}")
        try:
            self.canonical
        except DiagnosticError as exc:
            return Availability(False, f"the native library cannot serve: {exc.diagnostic.message}")
        return Availability(True)

    def bind(self, key: str) -> Callable[..., Any]:
        """The export named `key` (full export name) as a callable over reml values."""
        lib = self.canonical
        if key.rpartition("#")[2].startswith(DROP):
            return lib.drop
        if key in self.missing:
            raise error("ffi.symbol.not_found", f"symbol {self.missing[key]!r} (for {key}) not found in library "
                        f"{lib.library.path}", symbol=self.missing[key], export=key, library=self.library)
        return lib.function(key)

    def symbol(self, key: str) -> str:
        """The name the audit records for `key`: the C symbol (the destructor for a drop)."""
        return toolchain.c_symbol(key.replace(DROP, "[dtor]"))

    def close(self) -> None:
        """Release the handles still owned (their destructors run) and forget the bindings
        (the shared object stays mapped, as dlopen'd code must)."""
        if self._canonical is not None:
            self._canonical.handles.release_all()
        self._canonical = None

    def __repr__(self) -> str:
        return f"NativeConnector({self.library_path or self.sources!r})"
