"""Reference plans: the same function-level protocol as plans.py, with every value going
through the plain interpreter (lift.py / lower.py).  Tests hold compiled plans to it."""

from __future__ import annotations

from typing import Any

from .. import types as t
from ..values import check
from . import lift as _lift
from . import lower as _lower
from .codecs import Codec
from .layout import alignment, flatten_type, size
from .options import CanonicalOptions
from .plans import ExportPlan, ImportPlan


def reference_codec(opts: CanonicalOptions) -> Any:
    def codec(ty: t.Type) -> Codec:
        ps = opts.ptr_size
        flat = tuple(flatten_type(ty, ps))
        nflat = len(flat)

        def load(view: Any, p: int) -> Any:
            return _lift._load(opts, opts.memory, p, ty)  # type: ignore[arg-type]

        def store(v: Any, p: int) -> None:
            check(v, ty)
            _lower._store(opts, opts.memory, v, ty, p)  # type: ignore[arg-type]

        def lift(f: Any, i: int) -> Any:
            return _lift._lift(opts, _lift._FlatReader(iter(list(f)[i:i + nflat])), ty)

        def lower(v: Any, out: list) -> None:
            check(v, ty)
            _lower._lower(opts, v, ty, out)

        return Codec(ty, size(ty, ps), alignment(ty, ps), flat, load, store, lift, lower)
    return codec


def reference_export_plan(func: t.Function, opts: CanonicalOptions) -> ExportPlan:
    return ExportPlan(func, opts, reference_codec(opts))


def reference_import_plan(func: t.Function, opts: CanonicalOptions) -> ImportPlan:
    return ImportPlan(func, opts, reference_codec(opts))
