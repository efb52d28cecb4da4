"""`Resolved`: the result of loading WIT, with lookups in the `reml_wasm.types` model."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .diagnostics import fail
from .model import Model

if TYPE_CHECKING:
    from .. import types as T


class Resolved:
    def __init__(self, model: Model, main: int) -> None:
        self.model = model
        self.main_index = main

    @cached_property
    def _converted(self) -> tuple[T.Package, ...]:
        from .convert import convert
        return convert(self.model)

    @property
    def packages(self) -> tuple[T.Package, ...]:
        """Every package, dependencies before the packages using them."""
        return self._converted

    @property
    def main(self) -> T.Package:
        return self._converted[self.main_index]

    def package(self, name: str) -> T.Package:
        for p in self._converted:
            if str(p.name) == name or f"{p.name.namespace}:{p.name.name}" == name:
                return p
        raise fail("wit.name.unresolved", f"no package named `{name}`")

    def _split(self, name: str) -> tuple[T.Package, str]:
        if "/" in name:
            pkg, _, item = name.partition("/")
            if "@" in item:
                item, _, version = item.partition("@")
                pkg = f"{pkg}@{version}"
            return self.package(pkg), item
        return self.main, name

    def world(self, name: str) -> T.World:
        pkg, item = self._split(name)
        try:
            return pkg.world(item)
        except KeyError:
            raise fail("wit.name.unresolved", f"no world named `{name}` in package `{pkg.name}`") from None

    def interface(self, name: str) -> T.Interface:
        pkg, item = self._split(name)
        try:
            return pkg.interface(item)
        except KeyError:
            raise fail("wit.name.unresolved", f"no interface named `{name}` in package `{pkg.name}`") from None

    def to_json(self) -> dict[str, Any]:
        from .json_export import to_json
        return to_json(self.model)

    def to_json_text(self) -> str:
        """The JSON text exactly as `wasm-tools component wit --json` prints it: two-space
        indentation, non-ASCII characters written as they are, no final newline."""
        return self.to_json_bytes().decode("utf-8")

    def to_json_bytes(self) -> bytes:
        """`to_json_text` encoded as UTF-8 (what a file or pipe receives)."""
        from . import _no_cyclic_gc
        from .json_export import to_json_bytes
        with _no_cyclic_gc():
            return to_json_bytes(self.model)

    def to_wit(self) -> str:
        from .printer import print_package
        return print_package(self.model, self.main_index)
