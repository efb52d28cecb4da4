"""Per-type compiled marshalling: closures specialised once for a type and a set of
canonical options, used by the plans on every call.

A `Codec` has four operations:
  load(view, ptr)       -> value   (the caller checked ptr .. ptr+size against memory)
  store(value, ptr)     -> None    (the caller checked the range; realloc may run inside,
                                    so every write fetches the current `memory.view`)
  lift(flat, i)         -> value   (reads the flat values flat[i : i+nflat])
  lower(value, out)     -> None    (appends nflat core values to out)
Bulk paths: list<u8> is one slice copy each way; lists of numbers are one copy through
`array` (NumberList on the way out), with no per-element Python code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

from .. import types as t
from ..values import Record, Some, ValueTypeError, is_list_value, nests_option, record_field
from .errors import Trap, unsupported, bad_options
from .layout import alignment, flatten_type, record_fields, record_offsets, size, variant_cases, \
    variant_layout, variant_payload_flat
from .lift import coerce_from_slot, make_case, unpack_flags
from .lower import case_of, max_list_bytes, pack_flags, to_slot
from .numbers import ARRAY_CODE, NAN, char_to_int, f32_bits, f32_round, f64_bits, \
    int_to_char, number_list, pack_numbers, wrap_signed
from .options import CanonicalOptions, allocate, check_allocation
from .resources import async_handle_class
from .strings import encode_string, load_string

_INT_RANGE = {n: t.INTEGER_RANGES[t.PRIMITIVES[n]] for n in ("s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64")}
_CODE = {"s8": "b", "u8": "B", "s16": "h", "u16": "H", "s32": "i", "u32": "I", "s64": "q", "u64": "Q"}
_MASK = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF}
_DISC_CODE = {1: "<B", 2: "<H", 4: "<I"}


@dataclass
class Codec:
    type: t.Type
    size: int
    align: int
    flat: tuple[str, ...]
    load: Callable[[memoryview, int], Any]
    store: Callable[[Any, int], None]
    lift: Callable[[Any, int], Any]
    lower: Callable[[Any, list], None]
    # strings and lists: put(value) -> (pointer, length field), the payload copied into
    # memory (what `lower` appends as two flat values; generated callers use it directly)
    put: Callable[[Any], tuple[int, int]] | None = None


def _bad(ty: t.Type, value: Any) -> ValueTypeError:
    return ValueTypeError("value", ty.wit(), value)


def _core(x: Any, want: str) -> Any:
    """A flat core value checked for its Python type; integers made unsigned."""
    if want in _MASK:
        if type(x) is not int:
            raise Trap(f"flat value {x!r} is not an {want}")
        return x & _MASK[want]
    if type(x) is not float:
        if type(x) is not int:
            raise Trap(f"flat value {x!r} is not an {want}")
        return float(x)
    return x


class Compiler:
    """Builds (and caches) codecs for one set of canonical options."""

    def __init__(self, opts: CanonicalOptions) -> None:
        self.opts = opts
        self.ps = opts.ptr_size
        self.pair = struct.Struct("<II" if self.ps == 4 else "<QQ")
        self.pt = "i32" if self.ps == 4 else "i64"
        self._cache: dict[t.Type, Codec] = {}
        self._alloc: Callable[[int, int], int] | None = None

    def codec(self, ty: t.Type) -> Codec:
        c = self._cache.get(ty)
        if c is None:
            c = self._cache[ty] = self._build(t.unalias(ty))
        return c

    # -- helpers ---------------------------------------------------------------------------

    def _memory(self) -> Any:
        if self.opts.memory is None:
            raise bad_options("this signature needs a memory in the canonical options")
        return self.opts.memory

    def _allocator(self) -> Callable[[int, int], int]:
        """alloc(align, nbytes) -> ptr: `options.allocate` for these options, with the
        checks inlined (strings and lists allocate on every call).  Anything unusual goes
        to `allocate`'s own checks for its diagnostic."""
        alloc = self._alloc
        if alloc is not None:
            return alloc
        opts = self.opts
        mem = opts.memory
        mask = 0xFFFFFFFF if self.ps == 4 else 0xFFFFFFFFFFFFFFFF

        moves = mem is not None and not mem.fixed_base

        def alloc(align, n):
            realloc = opts.realloc  # read per call: connectors may set it after compiling
            if realloc is None or mem is None:
                return allocate(opts, align, n)  # raises the options diagnostic
            ptr = realloc(0, 0, align, n)
            if moves:
                mem.refresh()  # realloc may have grown (and moved) the memory
            if type(ptr) is int:
                ptr &= mask
                if not ptr % align and mem.low <= ptr and ptr + n <= mem.limit:
                    return ptr
            return check_allocation(opts, ptr, align, n)  # raises

        self._alloc = alloc
        return alloc

    def _resources(self) -> Any:
        if self.opts.resources is None:
            raise bad_options("resource handles need `resources` (a ResourceTables) in the canonical options")
        return self.opts.resources

    def _build(self, ty: t.Type) -> Codec:
        flat = tuple(flatten_type(ty, self.ps))
        sz, al = size(ty, self.ps), alignment(ty, self.ps)
        if async_handle_class(ty) is not None:
            parts = self._handle(ty)
        elif isinstance(ty, t.PrimitiveType):
            if ty == t.STRING:
                parts = self._string()
            else:
                parts = self._primitive(ty.name)
        elif isinstance(ty, t.ListType):
            parts = self._fixed_list(ty) if ty.length is not None else self._list(ty.element)
        elif isinstance(ty, t.MapType):
            parts = self._map(ty)
        elif record_fields(ty) is not None:
            parts = self._record(ty, record_fields(ty))  # type: ignore[arg-type]
        elif variant_cases(ty) is not None:
            parts = self._variant(ty, variant_cases(ty))  # type: ignore[arg-type]
        elif isinstance(ty, t.FlagsType):
            parts = self._flags(ty)
        elif isinstance(ty, (t.OwnType, t.BorrowType)):
            parts = self._handle(ty)
        else:
            raise unsupported(f"type {ty.wit()}")
        return Codec(ty, sz, al, flat, *parts)

    # -- primitives ----------------------------------------------------------------------------

    def _primitive(self, name: str) -> tuple:
        mem = self.opts.memory
        if name in _CODE:
            s = struct.Struct("<" + _CODE[name])
            unpack, pack = s.unpack_from, s.pack_into
            lo, hi = _INT_RANGE[name]
            bits = 64 if name in ("s64", "u64") else 32
            core = "i64" if bits == 64 else "i32"
            width = int(name[1:])
            signed = name[0] == "s"
            half, full = 1 << (bits - 1), 1 << bits

            def load(view, p):
                return unpack(view, p)[0]

            def store(v, p):
                pack(mem.view, p, v)

            # lift: `_core`'s check inlined (every integer field of every record lifts here)
            if signed:
                wmask, wsign = (1 << width) - 1, 1 << (width - 1)

                def lift(f, i):
                    x = f[i]
                    if type(x) is not int:
                        _core(x, core)  # raises
                    x &= wmask
                    return x - (wmask + 1) if x & wsign else x
            else:
                wmask = (1 << width) - 1

                def lift(f, i):
                    x = f[i]
                    if type(x) is not int:
                        _core(x, core)  # raises
                    return x & wmask

            def lower(v, out):
                if type(v) is not int or not lo <= v <= hi:
                    raise ValueTypeError("value", f"{name} in [{lo}, {hi}]", v)
                out.append(v - full if v >= half else v)

            return load, store, lift, lower
        if name == "bool":
            s = struct.Struct("<B")
            unpack, pack = s.unpack_from, s.pack_into

            def load(view, p):
                return unpack(view, p)[0] != 0

            def store(v, p):
                if type(v) is not bool:
                    raise ValueTypeError("value", "bool", v)
                pack(mem.view, p, v)

            def lift(f, i):
                x = f[i]
                if type(x) is not int:
                    _core(x, "i32")  # raises
                return x & 0xFFFFFFFF != 0

            def lower(v, out):
                if type(v) is not bool:
                    raise ValueTypeError("value", "bool", v)
                out.append(1 if v else 0)

            return load, store, lift, lower
        if name == "char":
            s = struct.Struct("<I")
            unpack, pack = s.unpack_from, s.pack_into

            def load(view, p):
                return int_to_char(unpack(view, p)[0])

            def store(v, p):
                pack(mem.view, p, char_to_int(v))

            def lift(f, i):
                return int_to_char(_core(f[i], "i32"))

            def lower(v, out):
                out.append(char_to_int(v))

            return load, store, lift, lower
        if name in ("f32", "f64"):
            s = struct.Struct("<f" if name == "f32" else "<d")
            bits_s = struct.Struct("<I" if name == "f32" else "<Q")
            unpack, bpack = s.unpack_from, bits_s.pack_into
            to_bits = f32_bits if name == "f32" else f64_bits
            core = name

            def load(view, p):
                x = unpack(view, p)[0]
                return x if x == x else NAN

            def store(v, p):
                if type(v) is not float and (type(v) is not int):
                    raise ValueTypeError("value", name, v)
                bpack(mem.view, p, to_bits(v))

            def lift(f, i):
                x = f[i]
                if type(x) is not float:
                    x = _core(x, core)  # an int becomes a float; anything else raises
                return x if x == x else NAN

            if name == "f32":
                def lower(v, out):
                    if type(v) is not float and type(v) is not int:
                        raise ValueTypeError("value", name, v)
                    out.append(f32_round(v))
            else:
                def lower(v, out):
                    if type(v) is not float and type(v) is not int:
                        raise ValueTypeError("value", name, v)
                    out.append(float(v) if v == v else NAN)

            return load, store, lift, lower
        raise unsupported(f"type {name} in the synchronous Canonical ABI")

    # -- strings and lists ----------------------------------------------------------------------

    def _string(self) -> tuple:
        opts = self.opts
        mem = self._memory() if opts.memory is not None else None
        half = 1 << (8 * self.ps - 1)
        utf8 = opts.string_encoding == "utf8"
        alloc = self._allocator()

        if utf8:
            def _load_str(sp, n):
                if sp < mem.low or sp + n > mem.limit:
                    mem.check(sp, n)
                try:
                    return str(mem.view[sp:sp + n], "utf-8")
                except UnicodeDecodeError as exc:
                    raise Trap(f"string at {sp:#x} is not valid utf8: {exc.reason} at byte {exc.start}") from None
        else:
            def _load_str(sp, n):
                return load_string(opts, mem, sp, n)

        def put(v):
            """Copy the string into guest memory: (pointer, length field)."""
            if utf8 and type(v) is str:
                try:
                    data = v.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueTypeError("value", "string of Unicode scalar values", "lone surrogate") from None
                n = units = len(data)
                if n > half - 1:
                    raise Trap(f"string of {n} bytes is longer than the Canonical ABI allows")
                sp = alloc(1, n)
            else:
                data, align, units = encode_string(opts, v)
                n = len(data)
                sp = alloc(align, n)
            if n:
                mem.view[sp:sp + n] = data
            return sp, units

        if mem is None:
            return self._needs_memory("string")
        return self._pair_codec(_load_str, put)

    def _pair_codec(self, read: Callable[[int, int], Any], put: Callable[[Any], tuple[int, int]]) -> tuple:
        """The codec functions of a (pointer, length) pair type (string, list) from
        `read(ptr, length)` and `put(value) -> (ptr, length)`."""
        mem = self.opts.memory
        pair_unpack, pair_pack = self.pair.unpack_from, self.pair.pack_into
        pt = self.pt
        half, full = 1 << (8 * self.ps - 1), 1 << (8 * self.ps)

        def load(view, p):
            sp, n = pair_unpack(view, p)
            return read(sp, n)

        def store(v, p):
            sp, n = put(v)
            pair_pack(mem.view, p, sp, n)

        def lift(f, i):
            return read(_core(f[i], pt), _core(f[i + 1], pt))

        def lower(v, out):
            sp, n = put(v)
            out.append(sp - full if sp >= half else sp)
            out.append(n - full if n >= half else n)

        return load, store, lift, lower, put

    def _needs_memory(self, what: str) -> tuple:
        def fail(*_a: Any) -> Any:
            raise bad_options(f"{what} needs a memory and realloc in the canonical options")
        return fail, fail, fail, fail

    def _list(self, elem: t.Type) -> tuple:
        if self.opts.memory is None:
            return self._needs_memory("list")
        mem = self.opts.memory
        max_bytes = max_list_bytes(self.ps)
        e = t.unalias(elem)
        ec = self.codec(e)
        es, ea = ec.size, ec.align
        load_range, put_list = self._list_body(e, ec)
        alloc = self._allocator()

        def read(sp, n):
            if sp % ea:
                raise Trap(f"list pointer {sp:#x} is not aligned to {ea}", ptr=sp)
            nbytes = n * es
            if sp + nbytes > mem.limit or sp < mem.low:
                mem.check(sp, nbytes)
            return load_range(mem.view, sp, n)

        u8 = e == t.U8
        wit = t.ListType(elem).wit()

        def write(v):
            if v.__class__ is not list and not is_list_value(v, u8):
                raise ValueTypeError("value", wit, v)
            n = len(v)
            if n * es > max_bytes:
                raise Trap(f"list of {n} elements is longer than the Canonical ABI allows")
            sp = alloc(ea, n * es)
            put_list(v, sp, n)
            return sp, n

        return self._pair_codec(read, write)

    def _list_body(self, e: t.Type, ec: Codec) -> tuple[Callable, Callable]:
        """(load_range(view, ptr, n), store_range(value, ptr, n)) for n elements of `e`."""
        mem = self.opts.memory
        es = ec.size
        if e == t.U8:
            def load_range(view, sp, n):
                return bytes(view[sp:sp + n])

            def put_range(v, sp, n):
                if not isinstance(v, (bytes, bytearray, memoryview)):
                    try:
                        v = bytes(v)
                    except (TypeError, ValueError):
                        raise ValueTypeError("value", "list<u8> (bytes or ints 0..255)", v) from None
                if n:
                    mem.view[sp:sp + n] = v
            return load_range, put_range
        if isinstance(e, t.PrimitiveType) and e.name in ARRAY_CODE:
            code = ARRAY_CODE[e.name]

            def load_range(view, sp, n):
                return number_list(code, view[sp:sp + n * es])

            def put_range(v, sp, n):
                try:
                    data = pack_numbers(code, v)
                except (TypeError, OverflowError, ValueError):
                    raise ValueTypeError("value", f"list<{e.name}>", v) from None
                if n:
                    mem.view[sp:sp + n * es] = data
            return load_range, put_range
        eload, estore = ec.load, ec.store

        def load_range(view, sp, n):
            return [eload(view, sp + k * es) for k in range(n)]

        eput = ec.put
        if eput is not None:  # strings and lists: each element a (pointer, length) pair
            pair_pack = self.pair.pack_into

            def put_range(v, sp, n):
                for k, item in enumerate(v):
                    ep, en = eput(item)
                    pair_pack(mem.view, sp + k * es, ep, en)  # the view after eput's realloc
            return load_range, put_range

        def put_range(v, sp, n):
            for k, item in enumerate(v):
                estore(item, sp + k * es)
        return load_range, put_range

    def _fixed_list(self, ty: t.ListType) -> tuple:
        e = t.unalias(ty.element)
        ec = self.codec(e)
        n = ty.length
        assert n is not None
        nf = len(ec.flat)
        load_range, put_range = self._list_body(e, ec) if self.opts.memory is not None else (None, None)
        elift, elower = ec.lift, ec.lower
        u8 = e == t.U8

        def load(view, p):
            return load_range(view, p, n)

        def store(v, p):
            if v.__class__ is not list and not is_list_value(v, u8):
                raise ValueTypeError("value", ty.wit(), v)
            if len(v) != n:
                raise ValueTypeError("value", f"{ty.wit()} of exactly {n} elements", f"{len(v)} elements")
            put_range(v, p, n)

        def lift(f, i):
            items = [elift(f, i + k * nf) for k in range(n)]
            return bytes(items) if u8 else items

        def lower(v, out):
            if v.__class__ is not list and not is_list_value(v, u8):
                raise ValueTypeError("value", ty.wit(), v)
            if len(v) != n:
                raise ValueTypeError("value", f"{ty.wit()} of exactly {n} elements", f"{len(v)} elements")
            for item in v:
                elower(item, out)

        return load, store, lift, lower

    def _map(self, ty: t.MapType) -> tuple:
        pairs = self.codec(t.ListType(t.TupleType((ty.key, ty.value))))

        def load(view, p):
            return dict(pairs.load(view, p))

        def store(v, p):
            pairs.store(list(v.items()), p)

        def lift(f, i):
            return dict(pairs.lift(f, i))

        def lower(v, out):
            pairs.lower(list(v.items()), out)

        return load, store, lift, lower

    # -- records, variants, flags, handles ---------------------------------------------------

    def _record(self, ty: t.Type, fields: tuple[t.Type, ...]) -> tuple:
        mem = self.opts.memory
        codecs = [self.codec(f) for f in fields]
        offsets, _ = record_offsets(fields, self.ps)
        flat_offsets = []
        k = 0
        for c in codecs:
            flat_offsets.append(k)
            k += len(c.flat)
        is_record = isinstance(ty, t.RecordType)
        names = tuple(f.name for f in ty.fields) if is_record else ()  # type: ignore[union-attr]

        def parts(v):
            if is_record:
                if type(v) is Record:
                    return list(v._fields.values()) if len(v._fields) == len(names) and \
                        tuple(v._fields) == names else [record_field(v, n) for n in names]
                try:
                    return [record_field(v, n) for n in names]
                except (KeyError, AttributeError):
                    raise _bad(ty, v) from None
            if type(v) is not tuple or len(v) != len(codecs):
                raise _bad(ty, v)
            return v

        return _record_functions(ty, fields, codecs, offsets, flat_offsets, names, is_record, parts, mem, self.ps)

    def _variant(self, ty: t.Type, cases: tuple[t.Type | None, ...]) -> tuple:
        mem = self.opts.memory
        n = len(cases)
        disc_size, payload_offset, _ = variant_layout(cases, self.ps)
        ds = struct.Struct(_DISC_CODE[disc_size])
        dunpack, dpack = ds.unpack_from, ds.pack_into
        slots = variant_payload_flat(cases, self.ps)
        codecs = [None if c is None else self.codec(c) for c in cases]
        wit = ty.wit()
        padding = [0.0 if s[0] == "f" else 0 for s in slots]

        # Per case: lift from joined slots (with coercion) and lower into them.
        def case_lift(c: Codec | None) -> Callable:
            if c is None:
                return lambda f, i: None
            if all(h == s for h, s in zip(c.flat, slots)):
                return c.lift
            pairs = list(zip(slots, c.flat))
            clift = c.lift

            def lf(f, i):
                vals = [coerce_from_slot(_core(f[i + k], have), have, want) for k, (have, want) in enumerate(pairs)]
                return clift(vals, 0)
            return lf

        def case_lower(c: Codec | None) -> Callable:
            if c is None:
                return lambda v, out: out.extend(padding)
            same = all(h == s for h, s in zip(c.flat, slots))
            clower, have = c.lower, c.flat
            rest = padding[len(have):]

            def lw(v, out):
                if same:
                    clower(v, out)
                else:
                    tmp: list = []
                    clower(v, tmp)
                    out.extend(to_slot(x, h, s) for x, h, s in zip(tmp, have, slots))
                out.extend(rest)
            return lw

        lifts = [case_lift(c) for c in codecs]
        lowers = [case_lower(c) for c in codecs]
        loads = [None if c is None else c.load for c in codecs]
        stores = [None if c is None else c.store for c in codecs]
        kind = "option" if isinstance(ty, t.OptionType) else "other"
        nested = isinstance(ty, t.OptionType) and nests_option(ty)

        def case(v):
            if kind == "option" and not nested:
                if v is None:
                    return 0, None
                return 1, v.value if type(v) is Some else v
            try:
                return case_of(ty, v)
            except (KeyError, ValueError):
                raise _bad(ty, v) from None

        def load(view, p):
            d = dunpack(view, p)[0]
            if d >= n:
                raise Trap(f"discriminant {d} is out of range for {wit} ({n} cases)", discriminant=d)
            ld = loads[d]
            return make_case(ty, d, None if ld is None else ld(view, p + payload_offset))

        def store(v, p):
            d, payload = case(v)
            dpack(mem.view, p, d)
            st = stores[d]
            if st is not None:
                st(payload, p + payload_offset)
            elif payload is not None and kind == "other" and not isinstance(ty, t.EnumType):
                raise ValueTypeError("value", "no payload", payload)

        def lift(f, i):
            d = _core(f[i], "i32")
            if d >= n:
                raise Trap(f"discriminant {d} is out of range for {wit} ({n} cases)", discriminant=d)
            return make_case(ty, d, lifts[d](f, i + 1))

        def lower(v, out):
            d, payload = case(v)
            out.append(d)
            lowers[d](payload, out)

        return load, store, lift, lower

    def _flags(self, ty: t.FlagsType) -> tuple:
        mem = self.opts.memory
        nl = len(ty.labels)
        s = struct.Struct("<B" if nl <= 8 else "<H" if nl <= 16 else "<I")
        unpack, pack = s.unpack_from, s.pack_into
        labels = set(ty.labels)

        def bits_of(v):
            if not isinstance(v, (set, frozenset)) or not v <= labels:
                raise _bad(ty, v)
            return pack_flags(ty, v)

        def load(view, p):
            return unpack_flags(ty, unpack(view, p)[0])

        def store(v, p):
            pack(mem.view, p, bits_of(v))

        def lift(f, i):
            return unpack_flags(ty, _core(f[i], "i32"))

        def lower(v, out):
            out.append(wrap_signed(bits_of(v), 32))

        return load, store, lift, lower

    def _handle(self, ty: t.Type) -> tuple:
        """own, borrow, stream, future and error-context: an i32 index into a table."""
        opts = self.opts
        s = struct.Struct("<I")
        unpack, pack = s.unpack_from, s.pack_into

        def tables():
            if opts.resources is None:
                raise bad_options("resource handles need `resources` (a ResourceTables) in the canonical options")
            return opts.resources

        if isinstance(ty, t.OwnType):
            def from_handle(h):
                return tables().lift_own(ty.resource, h)

            def to_handle(v):
                return tables().lower_own(ty.resource, v)
        elif isinstance(ty, t.BorrowType):
            def from_handle(h):
                return tables().lift_borrow(ty.resource, h)

            def to_handle(v):
                return tables().lower_borrow(ty.resource, v)
        else:
            def from_handle(h):
                return tables().lift_async(ty, h)

            def to_handle(v):
                return tables().lower_async(ty, v)

        def load(view, p):
            return from_handle(unpack(view, p)[0])

        def store(v, p):
            pack(opts.memory.view, p, to_handle(v))  # type: ignore[union-attr]

        def lift(f, i):
            return from_handle(_core(f[i], "i32"))

        def lower(v, out):
            out.append(wrap_signed(to_handle(v), 32))

        return load, store, lift, lower




# -- records: generated code ------------------------------------------------------------------

# memory reads of scalar fields inside a record's one struct: (format code, expression of x)
_FIELD_LOAD = {**{n: (c, "{x}") for n, c in _CODE.items()},
               "bool": ("B", "({x} != 0)"), "f32": ("f", "({x} if {x} == {x} else NAN)"),
               "f64": ("d", "({x} if {x} == {x} else NAN)"), "char": ("I", "int_to_char({x})")}


def _record_functions(ty: t.Type, fields: tuple[t.Type, ...], codecs: list[Codec], offsets: list[int],
                      flat_offsets: list[int], names: tuple[str, ...], is_record: bool,
                      parts: Callable[[Any], Any], mem: Any, ps: int) -> tuple:
    """load, store, lift, lower of a record or tuple as Python source compiled once: one
    call per field's codec (no per-call lists or loops), and one struct for every field a
    memory read can take whole (integers, bool, floats, char)."""
    n = len(fields)
    env: dict[str, Any] = {"Record": Record, "setf": object.__setattr__, "parts": parts, "NAN": NAN,
                           "int_to_char": int_to_char, "mem": mem, "struct_error": struct.error,
                           "bad": lambda v: _bad(ty, v)}
    for j, c in enumerate(codecs):
        env[f"ld{j}"], env[f"st{j}"], env[f"lf{j}"], env[f"lw{j}"] = c.load, c.store, c.lift, c.lower

    def build(values: list[str]) -> str:
        if is_record:
            items = ", ".join(f"{name!r}: {v}" for name, v in zip(names, values))
            return f"r = Record.__new__(Record); setf(r, '_fields', {{{items}}}); return r"
        return f"return ({''.join(v + ', ' for v in values)})"

    xs = [f"x{j}" for j in range(n)]
    unpack_parts = f"{', '.join(xs)}, = parts(v)" if n else "parts(v)"
    if is_record and n:
        fast_parts = "        fs = v._fields\n" + "".join(f"        x{j} = fs[{name!r}]\n" for j, name in enumerate(names))
        get = (f"    if type(v) is Record:\n        try:\n{fast_parts.replace(chr(10) + '        ', chr(10) + '            ')}"
               f"        except KeyError:\n            {unpack_parts}\n    else:\n        {unpack_parts}\n")
        get = get.replace("try:\n        fs", "try:\n            fs")
    else:
        get = f"    {unpack_parts}\n"

    # one struct over the fields it can read whole; other fields through their codec
    fmt, pos, whole_fields, values = "<", 0, [], []
    for j, (f, o) in enumerate(zip(fields, offsets)):
        uf = t.unalias(f)
        code = _FIELD_LOAD.get(uf.name) if isinstance(uf, t.PrimitiveType) else None
        if code is None:
            values.append(f"ld{j}(view, p + {o})")
            continue
        if o > pos:
            fmt += f"{o - pos}x"
        fmt += code[0]
        pos = o + size(f, ps)
        whole_fields.append(f"w{j}")
        values.append(code[1].format(x=f"w{j}"))
    load_src = "def load(view, p):\n"
    if whole_fields:
        env["unpack"] = struct.Struct(fmt).unpack_from
        load_src += f"    {', '.join(whole_fields)}, = unpack(view, p)\n"
    load_src += f"    {build(values)}\n"

    plain = all(isinstance(t.unalias(f), t.PrimitiveType) and t.unalias(f).name in _CODE for f in fields)
    store_src = f"def store(v, p):\n{get}"
    if plain and n:  # integers only: one pack, checked by struct
        env["pack"] = struct.Struct(fmt).pack_into
        store_src += (f"    try:\n        pack(mem.view, p, {', '.join(xs)})\n"
                      "    except (struct_error, TypeError):\n        raise bad(v) from None\n")
    else:
        store_src += "".join(f"    st{j}(x{j}, p + {o})\n" for j, o in enumerate(offsets)) or "    pass\n"

    lift_src = f"def lift(f, i):\n    {build([f'lf{j}(f, i + {fo})' for j, fo in enumerate(flat_offsets)])}\n"
    lower_src = f"def lower(v, out):\n{get}" + ("".join(f"    lw{j}(x{j}, out)\n" for j in range(n)) or "    pass\n")

    scope = dict(env)
    exec(compile(load_src + store_src + lift_src + lower_src, f"<reml_wasm codec {ty.wit()}>", "exec"), scope)  # noqa: S102
    return scope["load"], scope["store"], scope["lift"], scope["lower"]
