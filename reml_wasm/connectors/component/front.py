"""The export-call front: one C object per export that does a whole call in one CPython call.

The C engine (front_c.py) is compiled once into a small API-mode module shared by every
component (cached like the glue modules); each export gets an `ExportFront`: a callable C
object reading the export's type description (`Description`: a flat array of nodes and a
tuple of constants, worked out once per component by `plan`).  It serves a call when
every argument has exactly the class the value convention names (int, float, bool, str,
bytes, list or tuple, Record, Variant, Ok, Err, Some, frozenset); anything else
(subclasses, mappings for records, values out of range) goes to the generated Python
caller, which gives the same result or the same diagnostic.  Failures after the store's
lock was taken go to that caller's failure handler.
"""
from __future__ import annotations

import struct
import sys
import threading
from typing import Any, Callable, NamedTuple

from ... import types as t
from ...cabi.layout import alignment, flatten_type, record_offsets, size, variant_layout
from ...cabi.numbers import ARRAY_CODE, NAN, NumberList
from ...cabi.plans import uses_memory
from ...values import Err, Ok, Record, Some, Variant
from . import capi as capi_module
from .front_c import CDEF, CONSTS, KIND, SOURCE

_lock = threading.Lock()
_maker: list[Any] = []  # [make] once built and installed in this process; [None] when not possible


# the values behind front_c.CONSTS
_FIXED = {"record": Record, "fields": Record.__dict__["_fields"], "variant": Variant, "ok": Ok, "err": Err,
          "some": Some, "numlist": NumberList, "typecode": NumberList.__dict__["typecode"], "nan": NAN,
          "tag": sys.intern("tag"), "value": sys.intern("value"), "copied": sys.intern("copied"), "zero": 0}


class Unsupported(Exception):
    """A type the front does not describe (handles, streams, fixed lists, wide flags)."""


class Description:
    """The nodes (int32 words) and constants of the types of one export."""

    def __init__(self) -> None:
        self.words: list[int] = []
        self.consts: list[Any] = [_FIXED[name] for name in CONSTS]
        self._strings: dict[str, int] = {}

    def const(self, value: Any) -> int:
        """The index of a constant (strings shared)."""
        if isinstance(value, str):
            value = sys.intern(value)  # dictionary lookups by these keys then match by identity
            if value not in self._strings:
                self._strings[value] = len(self.consts)
                self.consts.append(value)
            return self._strings[value]
        self.consts.append(value)
        return len(self.consts) - 1

    def node(self, ty: t.Type) -> int:
        """The index of `ty`'s node (raises Unsupported)."""
        ty = t.unalias(ty)
        head = [0, size(ty), alignment(ty), len(flatten_type(ty))]
        if isinstance(ty, t.PrimitiveType):
            if ty.name not in KIND:
                raise Unsupported(ty.name)
            head[0] = KIND[ty.name]
            return self._emit(head)
        if isinstance(ty, t.ListType) and ty.length is None:
            elem = t.unalias(ty.element)
            code = ARRAY_CODE.get(elem.name) if isinstance(elem, t.PrimitiveType) else None
            body = [self.node(elem), -1 if code is None else self.const(code)]
            return self._emit([KIND["list"]] + head[1:] + body)
        if isinstance(ty, t.RecordType):
            offsets, _ = record_offsets([f.type for f in ty.fields])
            fields = [(self.node(f.type), off, self.const(f.name)) for f, off in zip(ty.fields, offsets)]
            return self._emit([KIND["record"]] + head[1:] + [len(fields)] + [w for f in fields for w in f])
        if isinstance(ty, t.TupleType):
            offsets, _ = record_offsets(list(ty.elements))
            elems = [(self.node(e), off) for e, off in zip(ty.elements, offsets)]
            return self._emit([KIND["tuple"]] + head[1:] + [len(elems)] + [w for e in elems for w in e])
        if isinstance(ty, t.VariantType):
            disc, off, _ = variant_layout([c.type for c in ty.cases])
            cases = [(-1 if c.type is None else self.node(c.type), self.const(c.name)) for c in ty.cases]
            index = self.const({c.name: i for i, c in enumerate(ty.cases)})
            return self._emit([KIND["variant"]] + head[1:] + [len(cases), disc, off, index]
                              + [w for c in cases for w in c])
        if isinstance(ty, t.EnumType):
            return self._emit([KIND["enum"]] + head[1:] + [len(ty.cases), size(ty), self.const(tuple(ty.cases)),
                                                           self.const({c: i for i, c in enumerate(ty.cases)})])
        if isinstance(ty, t.OptionType):
            _, off, _ = variant_layout([None, ty.inner])
            nested = isinstance(t.unalias(ty.inner), t.OptionType)
            return self._emit([KIND["option"]] + head[1:] + [-1, self.node(ty.inner), off, int(nested)])
        if isinstance(ty, t.ResultType):
            _, off, _ = variant_layout([ty.ok, ty.err])
            ok = -1 if ty.ok is None else self.node(ty.ok)
            err = -1 if ty.err is None else self.node(ty.err)
            return self._emit([KIND["result"]] + head[1:] + [ok, err, off])
        if isinstance(ty, t.FlagsType) and 0 < len(ty.labels) <= 32:
            return self._emit([KIND["flags"]] + head[1:] + [len(ty.labels), self.const(tuple(ty.labels)),
                                                            self.const({x: i for i, x in enumerate(ty.labels)})])
        raise Unsupported(type(ty).__name__)

    def _emit(self, words: list[int]) -> int:
        self.words.extend(words)
        return len(self.words) - len(words)

    def packed(self) -> bytes:
        """The nodes as the C engine reads them (native int32)."""
        return struct.pack(f"={len(self.words)}i", *self.words)


def _make_function() -> Any:
    """`make(...)` from the front module (built or found in the cache once per process),
    or None when no module can be built here."""
    with _lock:
        if not _maker:
            from .glue import build_cached
            source = "#include <stdint.h>\n#include <stddef.h>\n" + capi_module.TYPES + capi_module.STORE_SOURCE + SOURCE
            module = build_cached(CDEF, source, limited_api=False)
            make = None
            if module is not None and module.lib.reml_front_install():
                make = getattr(sys.modules.get("_reml_export_front"), "make", None)
            _maker.append(make)
        return _maker[0]


class FrontPlan(NamedTuple):
    """What an export's fronts share across instances: its type description and how its
    result comes back (mode 0: none, 1: one flat scalar, 2: a spilled area)."""

    nodes: bytes
    consts: tuple[Any, ...]
    params: tuple[int, ...]
    result: int
    mode: int
    nslots: int


def plan(ftype: t.Function, flat: Any, opts: Any) -> FrontPlan | None:
    """The front plan of an export (once per component), or None when the front does not
    cover its signature or options."""
    if flat.params_spilled or len(flat.params) > 16:
        return None
    desc = Description()
    try:
        params = tuple(desc.node(p.type) for p in ftype.params)
        result = -1 if ftype.result is None else desc.node(ftype.result)
    except Unsupported:
        return None
    lowers = uses_memory([p.type for p in ftype.params])  # calls the guest's realloc
    memory = lowers or (ftype.result is not None and (flat.results_spilled or uses_memory([ftype.result])))
    if (memory and (opts.memory is None or opts.string_encoding != "utf8")) or (lowers and opts.realloc is None):
        return None
    rty = None if ftype.result is None else t.unalias(ftype.result)
    if rty is None:
        mode = 0
    elif flat.results_spilled:
        mode = 2
    elif isinstance(rty, (t.PrimitiveType, t.EnumType, t.FlagsType)):
        mode = 1
    else:
        return None  # a compound in one flat value: the Python caller lifts it
    return FrontPlan(desc.packed(), tuple(desc.consts), params, result, mode,
                     max(len(flat.params), len(flat.results), 1))


def front(capi: Any, plan: FrontPlan, opts: Any, record: Any, fallback: Any, failed: Callable[[int, tuple], Any],
          post: bool, meter: Any) -> Any:
    """The C front of an export (`record`: its C record, with realloc and memory when the
    export has them; `fallback`: its generated Python caller, whose attributes it takes
    over; `failed(code, args)`: that caller's failure handler; `meter`: the list of
    memories whose copy budget (`copied`) each call resets, or None), or None when the
    front module cannot be built here."""
    make = _make_function()
    if make is None:
        return None
    obj = make(int(capi.ffi.cast("uintptr_t", record)), plan.nodes, plan.consts, plan.params, plan.result, plan.mode,
               plan.nslots, post, fallback, failed, meter, int(getattr(opts.memory, "copy_limit", 1 << 62)), record)
    obj.__dict__.update(getattr(fallback, "__dict__", {}))
    return obj
