"""The native connector: C shared libraries through cffi.

`NativeLibrary` binds C functions from declarations or from `types.Function`s and calls
them directly; `CanonicalNativeLibrary` runs a library built from the same C source as a
component through the Canonical ABI engine at pointer width 8.
"""

from __future__ import annotations

from ...libraries import library_file_names, resolve_library
from .canonical import CanonicalNativeLibrary, export_functions
from .library import Mode, NativeLibrary, resolve_mode
from .connector import NativeConnector

__all__ = ["NativeConnector", "CanonicalNativeLibrary", "Mode", "NativeLibrary", "export_functions", "library_file_names",
           "resolve_library", "resolve_mode"]
