"""`PackageName`: the `namespace:name@version` of a WIT package.

It lives apart from `reml_wasm.types` (which re-exports it) so that reading WIT, which
needs names but not the type model, does not pay for importing the whole model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackageName:
    """A package's namespace, name and optional semantic version."""

    namespace: str
    name: str
    version: str | None = None

    def __str__(self) -> str:
        base = f"{self.namespace}:{self.name}"
        return base if self.version is None else f"{base}@{self.version}"

    def qualify(self, item: str) -> str:
        """`ns:pkg/item@version`, the name used in component imports and exports."""
        base = f"{self.namespace}:{self.name}/{item}"
        return base if self.version is None else f"{base}@{self.version}"
