"""Per-signature marshalling plans, built once and used on every call.

`ExportPlan`: the host calls a guest export (`canon lift` seen from the host).
`ImportPlan`: the guest calls a host import (`canon lower` seen from the host).
"""

from __future__ import annotations

import struct
from typing import Any, Callable, NoReturn, Sequence

from .. import types as t
from ..values import ValueTypeError, check_args
from ..values import check as check_value
from .codecs import Codec, Compiler
from .errors import Trap
from .flatten import FlatSignature, flatten
from .generated import define
from .numbers import core_int, wrap_signed
from .options import CanonicalOptions, allocate, need_memory

# Errors a codec's conversions may raise on a host value of the wrong shape.
_VALUE_ERRORS = (struct.error, TypeError, OverflowError, ValueError, KeyError, AttributeError, IndexError)


def _has_borrow(types: Sequence[t.Type], implemented: Any = ()) -> bool:
    """A borrow among `types` of a resource not in `implemented` (a borrow of a resource
    the callee implements lowers to its rep: no handle, no call scope)."""
    return any(isinstance(x, t.BorrowType) and x.resource not in implemented for ty in types for x in t.walk(ty))


def uses_memory(types: Sequence[t.Type]) -> bool:
    """Whether lowering or lifting values of `types` reaches linear memory (strings,
    variable-length lists, maps)."""
    return any(isinstance(x, (t.ListType, t.MapType)) and not (isinstance(x, t.ListType) and x.length is not None)
               or x == t.STRING for ty in types for x in t.walk(t.unalias(ty)))


class _Plan:
    """Shared by both plans.  Public for callers that generate their own fast paths:
    `param_codecs` (one Codec per parameter), `result_codec` (None without a result),
    `borrows` (a parameter holds a borrow handle: calls open a borrow scope), `flat`."""

    def __init__(self, func: t.Function, opts: CanonicalOptions, context: str,
                 codec: Callable[[t.Type], Codec] | None = None) -> None:
        self.func = func
        self.opts = opts
        self.flat: FlatSignature = flatten(func, context, opts.ptr_size)
        codec = codec or Compiler(opts).codec
        self.param_codecs = [codec(p.type) for p in func.params]
        offsets, k = [], 0
        for c in self.param_codecs:
            offsets.append(k)
            k += len(c.flat)
        self._flat_offsets = offsets
        self.result_codec = None if func.result is None else codec(func.result)
        self._tuple = codec(t.TupleType(func.param_types())) if self.flat.params_spilled else None
        self.borrows = _has_borrow(func.param_types())
        self._ptr_mask = 0xFFFFFFFF if opts.ptr_size == 4 else 0xFFFFFFFFFFFFFFFF
        if self._tuple is not None or self.flat.results_spilled:
            need_memory(opts)
        types = list(func.param_types()) + ([] if func.result is None else [func.result])
        spilled = self.flat.params_spilled or self.flat.results_spilled
        # refresh the memory view only when this signature touches memory at all
        self._memory = opts.memory if (spilled or uses_memory(types)) else None

    def _generate(self, src: str, name: str, codecs: dict[str, Any], **env: Any) -> Callable[..., Any]:
        """Compile `src` (defining `name`) for this signature: the codec calls unrolled,
        `refresh` a no-op unless the signature touches a memory that may move."""
        mem = self._memory
        if mem is None or mem.fixed_base:
            src = src.replace("    refresh()\n", "")
        scope: dict[str, Any] = {"VALUE_ERRORS": _VALUE_ERRORS, **codecs, **env,
                                 "refresh": None if mem is None else mem.refresh}
        return define(src, scope, "plan")[name]

    def _pointer(self, x: Any, codec: Codec, what: str) -> int:
        ptr = core_int(x, "i32" if self.opts.ptr_size == 4 else "i64")
        if ptr % codec.align:
            raise Trap(f"{what} pointer {ptr:#x} is not aligned to {codec.align}", ptr=ptr)
        mem = self.opts.memory
        mem.check(ptr, codec.size)  # type: ignore[union-attr]
        return ptr


class ExportPlan(_Plan):
    """Marshalling for one guest export: lower the arguments, lift the result."""

    def __init__(self, func: t.Function, opts: CanonicalOptions,
                 codec: Callable[[t.Type], Codec] | None = None) -> None:
        super().__init__(func, opts, "lift", codec)
        if self.borrows and opts.resources is not None:
            self.borrows = _has_borrow(func.param_types(), opts.resources.implements)
        self.lift_plain: Callable[[Sequence[Any]], Any] = self._result_lifter()
        if not self.borrows and self._tuple is None:
            n = len(self.param_codecs)
            body = "".join(f"        c{i}(args[{i}], out)\n" for i in range(n)) or "        pass\n"
            self.lower_args = self._generate(  # type: ignore[method-assign]
                "def lower_args(args):\n"
                f"    if len(args) != {n}:\n        return general(args)\n"
                "    refresh()\n    out = []\n    try:\n" + body +
                "    except VALUE_ERRORS as exc:\n        failed(args, exc)\n    return out\n",
                "lower_args", {f"c{i}": c.lower for i, c in enumerate(self.param_codecs)},
                general=self.lower_args, failed=self._lower_failed)

    def lower_args(self, args: Sequence[Any]) -> list[Any]:
        """Flat core arguments; more than 16 flat params are stored in memory (via realloc)
        and passed as one pointer."""
        if len(args) != len(self.param_codecs):
            check_args(args, self.func)  # raises the arity diagnostic
        opts = self.opts
        if self._memory is not None:
            self._memory.refresh()
        if self.borrows:
            opts.resources.enter_call()  # type: ignore[union-attr]
        try:
            if self._tuple is not None:
                ptr = allocate(opts, self._tuple.align, self._tuple.size)
                self._tuple.store(tuple(args), ptr)
                return [wrap_signed(ptr, 8 * opts.ptr_size)]
            out: list[Any] = []
            for c, a in zip(self.param_codecs, args):
                c.lower(a, out)
            return out
        except _VALUE_ERRORS as exc:
            self._abort()
            self._lower_failed(args, exc)
        except BaseException:
            self._abort()
            raise

    def _lower_failed(self, args: Sequence[Any], exc: Exception) -> NoReturn:
        """Raise the diagnostic for arguments a codec could not lower."""
        check_args(args, self.func)
        raise ValueTypeError("args", self.func.signature_wit(), f"{type(exc).__name__}: {exc}") from None

    def _abort(self) -> None:
        """Forget the call's borrow scope after a failure (the failure is what reports)."""
        if self.borrows:
            self.opts.resources.abandon_call()  # type: ignore[union-attr]

    def lift_result(self, flat_results: Sequence[Any]) -> Any:
        """The result value from the export's flat results (None when it has none).
        Ends the call: every borrow handed to the guest must have been dropped."""
        if not self.borrows:
            return self.lift_plain(flat_results)
        try:
            value = self.lift_plain(flat_results)
        except BaseException:
            self._abort()
            raise
        self.opts.resources.exit_export_call()  # type: ignore[union-attr]
        return value

    def _result_lifter(self) -> Callable[[Sequence[Any]], Any]:
        """lift(flat_results) -> value, specialised for this signature (no borrow scope:
        `lift_result` adds it).  A spilled result is bounds-checked inline; anything odd
        goes to `_pointer` for its Trap."""
        codec, nflat = self.result_codec, len(self.flat.results)
        if codec is None:
            return lambda flat: None

        def wrong_count(flat: Sequence[Any]) -> None:
            raise Trap(f"export returned {len(flat)} flat value(s), expected {nflat}")

        mem = self._memory
        if self.flat.results_spilled:
            load, align, nbytes, mask = codec.load, codec.align, codec.size, self._ptr_mask
            pointer = self._pointer
            fixed = mem.fixed_base  # type: ignore[union-attr]

            def lift_spilled(flat: Sequence[Any]) -> Any:
                if len(flat) != 1:
                    wrong_count(flat)
                x = flat[0]
                if not fixed:
                    mem.refresh()  # type: ignore[union-attr]
                if type(x) is int and -(mask >> 1) - 1 <= x <= mask:
                    ptr = x & mask
                    if not ptr % align and mem.low <= ptr and ptr + nbytes <= mem.limit:  # type: ignore[union-attr]
                        return load(mem.view, ptr)  # type: ignore[union-attr]
                ptr = pointer(x, codec, "result")  # raises, or the memory grew: its view is new
                return load(mem.view, ptr)  # type: ignore[union-attr]
            return lift_spilled
        lift = codec.lift

        def lift_flat(flat: Sequence[Any]) -> Any:
            if len(flat) != nflat:
                wrong_count(flat)
            if mem is not None:
                mem.refresh()
            return lift(flat, 0)
        return lift_flat

    def call(self, invoke: Callable[..., Any], args: Sequence[Any]) -> Any:
        """Lower `args`, call the core export `invoke(*flat)`, lift its result, then run
        post-return.  `invoke` returns None, one value or a list (as wasmtime's Func)."""
        flat = self.lower_args(args)
        raw = invoke(*flat)
        results = [] if raw is None else list(raw) if isinstance(raw, (list, tuple)) else [raw]
        value = self.lift_result(results)
        if self.opts.post_return is not None:
            self.opts.post_return(*results)
        return value


class ImportPlan(_Plan):
    """Marshalling for one host import: lift the guest's arguments, lower the result."""

    def __init__(self, func: t.Function, opts: CanonicalOptions,
                 codec: Callable[[t.Type], Codec] | None = None) -> None:
        super().__init__(func, opts, "lower", codec)
        if not self.borrows and self._tuple is None:
            nflat = len(self.flat.params)
            items = "".join(f"c{i}(flat, {k}), " for i, k in enumerate(self._flat_offsets))
            self.lift_args = self._generate(  # type: ignore[method-assign]
                "def lift_args(flat):\n"
                f"    if len(flat) != {nflat}:\n        return general(flat)\n"
                f"    refresh()\n    return [{items}]\n",
                "lift_args", {f"c{i}": c.lift for i, c in enumerate(self.param_codecs)}, general=self.lift_args)

    def lift_args(self, flat_args: Sequence[Any]) -> list[Any]:
        if len(flat_args) != len(self.flat.params):
            raise Trap(f"import called with {len(flat_args)} flat value(s), expected {len(self.flat.params)}")
        mem = self._memory
        if mem is not None:
            mem.refresh()
        if self.borrows:
            self.opts.resources.enter_call()  # type: ignore[union-attr]
        try:
            if self._tuple is not None:
                ptr = self._pointer(flat_args[0], self._tuple, "argument")
                return list(self._tuple.load(mem.view, ptr))  # type: ignore[union-attr]
            return [c.lift(flat_args, k) for c, k in zip(self.param_codecs, self._flat_offsets)]
        except BaseException:
            if self.borrows:
                self.opts.resources.exit_import_call()  # type: ignore[union-attr]
            raise

    def lower_result(self, value: Any, flat_args: Sequence[Any]) -> list[Any]:
        """Flat results; a result of more than one flat value is stored at the return
        pointer (the last flat argument) and [] is returned.  Ends the call's borrows."""
        try:
            if self.result_codec is None:
                return []
            try:
                if self.flat.results_spilled:
                    mem = self.opts.memory
                    mem.refresh()  # type: ignore[union-attr]
                    ptr = self._pointer(flat_args[-1], self.result_codec, "return")
                    self.result_codec.store(value, ptr)
                    return []
                out: list[Any] = []
                self.result_codec.lower(value, out)
                return out
            except ValueTypeError:
                check_value(value, self.result_codec.type, "result")  # names the exact place when it can
                raise
            except _VALUE_ERRORS:
                check_value(value, self.result_codec.type, "result")
                raise ValueTypeError("result", self.result_codec.type.wit(), value) from None
        finally:
            if self.borrows:
                self.opts.resources.exit_import_call()  # type: ignore[union-attr]


def export_plan(func: t.Function, opts: CanonicalOptions) -> ExportPlan:
    return ExportPlan(func, opts)


def import_plan(func: t.Function, opts: CanonicalOptions) -> ImportPlan:
    return ImportPlan(func, opts)
