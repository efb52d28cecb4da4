"""PoC step 3: the typed Python bindings of the PoC world (package `poc_bindings`),
generated and imported once to show they load."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .. import types as t
from ..codegen.python import generate_package
from . import DEFAULT_OUT

PACKAGE = "poc_bindings"


def write_python(world: t.World, out: Path) -> Path:
    """Write out/poc_bindings/ (a package: one module per interface, py.typed)."""
    return generate_package(world, out, PACKAGE)


def import_package(root: Path) -> ModuleType:
    """Import the generated package from `root` under a private name (so a package of the
    same name elsewhere on sys.path is neither used nor replaced)."""
    name = f"_reml_poc_{PACKAGE}"
    spec = importlib.util.spec_from_file_location(name, root / "__init__.py", submodule_search_locations=[str(root)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
    return module


def describe(root: Path) -> str:
    """One line: the package, what it holds, and that it imports."""
    package = import_package(root)
    api = package.api
    classes = sorted(n for n, v in vars(api).items() if isinstance(v, type) and v.__module__ == api.__name__)
    functions = sorted(n for n, v in vars(api).items()
                       if callable(v) and not isinstance(v, type) and getattr(v, "__module__", "") == api.__name__
                       and not n.startswith("_"))
    return f"{root.name}/ imports: {len(classes)} classes, {len(functions)} functions in module api"


def main() -> int:
    """`python poc/03_python_bindings.py [OUT]`"""
    from .parse import parse
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    root = write_python(parse(), out)
    print(root)
    print(describe(root))
    return 0
