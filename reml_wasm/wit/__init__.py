"""WIT front-end: parse and resolve WIT into `reml_wasm.types`.

Public API::

    from reml_wasm import wit
    r = wit.load("wit/")                    # a .wit file, a directory with deps/, or a
                                            # WIT package encoded as a component
    r = wit.load(path, features={"fancy"})  # activate @unstable(feature = fancy) items
    r = wit.parse_text(text, "x.wit")       # one file's text
    r.main                 # reml_wasm.types.Package, the package named by the path
    r.packages             # every Package, dependencies first (topological order)
    r.world("w")           # types.World in the main package ("ns:pkg/w" for another)
    r.interface("i")       # types.Interface likewise
    r.package("ns:pkg")    # types.Package by name (version optional)
    r.to_json()            # the structure `wasm-tools component wit --json` prints
    r.to_json_text()       # its exact text (r.to_json_bytes(): as UTF-8 bytes)
    r.to_wit()             # canonical WIT text of the main package
    r.model                # the arena model (reml_wasm.wit.model) behind all of these

Every error is a `reml_wasm.audit.DiagnosticError` with a `wit.*` code and a location
(file:line:col and the source line).  Codes: `reml_wasm.wit.diagnostics.CODES`.
"""

from __future__ import annotations

import contextlib
import gc
import os
from pathlib import Path
from typing import Iterable, Iterator

from .diagnostics import CODES, Source
from .resolved import Resolved
from .resolver import Loader, PackageInput
from .sources import collect, group_from_files
from .parser import parse_source

__all__ = ["load", "parse_text", "Resolved", "CODES"]


def load(path: str | os.PathLike[str], features: Iterable[str] = (), *,
         all_features: bool = False) -> Resolved:
    """Parse and resolve a WIT file or directory (with its `deps/`)."""
    with _no_cyclic_gc():
        found = collect(Path(path))
        loader = Loader(frozenset(features), all_features)
        encoded = [loader.add_encoded(decoded, found.main is not None) for decoded in found.encoded]
        if found.main is None:  # the path is itself an encoded package
            return Resolved(loader.model, encoded[-1])
        loader.resolve_all(found.inputs)
    return Resolved(loader.model, _main_index(loader, found.main))


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing allocates many small objects and few reference cycles: the cyclic
    collector only slows it down (by a fifth on large trees), so it pauses meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_text(text: str, filename: str = "<input>.wit", features: Iterable[str] = (), *,
               all_features: bool = False) -> Resolved:
    """Parse and resolve the text of one WIT file (its nested packages included)."""
    nested, main = group_from_files([parse_source(Source(filename, text))], filename)
    loader = Loader(frozenset(features), all_features)
    loader.resolve_all(nested + [main])
    return Resolved(loader.model, _main_index(loader, main))


def _main_index(loader: Loader, main: PackageInput) -> int:
    n = main.name
    return loader.package_index[(n.namespace, n.name, n.version)]
