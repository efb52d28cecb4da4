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
from ..values import (SET_TAG, SET_VALUE, Err, Ok, Record, Some, ValueTypeError, Variant, is_list_value,
                      nests_option, record_field)
from .errors import Trap, unsupported, bad_options
from . import variants
from .generated import define
from .layout import alignment, flatten_type, record_fields, record_offsets, size, variant_cases, \
    variant_layout, variant_payload_flat
from .lift import coerce_from_slot, make_case, map_of_pairs, unpack_flags
from .lower import case_of, no_payload
from .numbers import ARRAY_CODE, CORE_INT_MAX, CORE_INT_MIN, NAN, char_to_int, core_int, f32_bits, \
    f32_round, f64_bits, int_to_char, LITTLE, number_list, pack_numbers, struct_packers, wrap_signed
from .options import CanonicalOptions, allocate, check_allocation
from .scan import has_bool, int_bulk
from .resources import async_handle_class
from .strings import MAX_LIST_BYTES, MAX_STRING_BYTES, encode_string, list_too_long, load_string, \
    string_too_long

_INT_RANGE = {n: t.INTEGER_RANGES[t.PRIMITIVES[n]] for n in ("s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64")}
_CODE = {"s8": "b", "u8": "B", "s16": "h", "u16": "H", "s32": "i", "u32": "I", "s64": "q", "u64": "Q"}
_DISC_CODE = {1: "<B", 2: "<H", 4: "<I"}
# a new Record's fields set through its slot (no attribute lookup, no __setattr__ override)
_SET_FIELDS = Record._fields.__set__  # type: ignore[attr-defined]


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


def _char_code(v: Any) -> int:
    """The code point of a host `char` (a 1-character str, not a surrogate)."""
    if type(v) is str and len(v) == 1:
        c = ord(v)
        if not 0xD800 <= c <= 0xDFFF:
            return c
    return char_to_int(v)  # raises the diagnostic


_FLAGS_CACHE = 4096  # distinct values of one flags type remembered when lifting


def flags_functions(ty: t.FlagsType) -> tuple[Callable[[Any], int], Callable[[int], frozenset]]:
    """(bits_of(set) -> int, from_bits(int) -> frozenset) of a flags type: a label's bit
    by dictionary, lifted values remembered (a flags type has few values in use); bits
    past the labels are ignored.  bits_of raises KeyError or TypeError for a value that
    is not a set of the labels."""
    bit = {label: 1 << i for i, label in enumerate(ty.labels)}
    mask = (1 << len(ty.labels)) - 1
    seen: dict[int, frozenset] = {}

    def bits_of(v: Any) -> int:
        if not isinstance(v, (set, frozenset)):
            raise TypeError("not a set")
        b = 0
        for label in v:
            b |= bit[label]
        return b

    def from_bits(b: int) -> frozenset:
        b &= mask
        v = seen.get(b)
        if v is None:
            v = unpack_flags(ty, b)
            if len(seen) < _FLAGS_CACHE:
                seen[b] = v
        return v
    return bits_of, from_bits


def _utf8_all(items: Any) -> list[bytes] | None:
    """The UTF-8 bytes of every element, or None when one is not a str or cannot be
    encoded (the one-by-one path then reports it as before)."""
    out = []
    for item in items:
        if type(item) is not str:
            return None
        try:
            out.append(item.encode("utf-8"))
        except UnicodeEncodeError:
            return None
    return out


def number_packer(name: str) -> Callable[[Any], Any]:
    """value -> the little-endian bytes of a list of numbers `name` (bytes or a byte
    memoryview): lists of integers in C when a compiler is present; else short ones
    through one cached `struct` per length, the rest (and floats, their NaNs canonicalised,
    and anything the C packing does not take) through `pack_numbers`.  Raises
    ValueTypeError."""
    code = ARRAY_CODE[name]
    packers = struct_packers(code) if name not in ("f32", "f64") else ()
    small = len(packers)

    def pack_slowly(v: Any) -> Any:
        if type(v) is list and len(v) < small:
            try:
                data = packers[len(v)](*v)
            except struct.error:
                raise ValueTypeError("value", f"list<{name}>", v) from None
            if has_bool(v):  # struct takes True as 1; the value convention does not
                raise ValueTypeError("value", f"list<{name}>", v)
            return data
        try:
            return pack_numbers(code, v)
        except (TypeError, OverflowError, ValueError):
            raise ValueTypeError("value", f"list<{name}>", v) from None

    if not (packers and LITTLE):
        return pack_slowly
    pack_ints: Callable[[Any, str], bytes | None] | None = None
    looked = False

    def pack(v: Any) -> Any:
        nonlocal pack_ints, looked
        if not looked:  # the C conversions are loaded (or built) on first use, not before
            bulk = int_bulk()
            pack_ints, looked = (None if bulk is None else bulk.pack), True
        if pack_ints is not None:
            data = pack_ints(v, code)
            if data is not None:
                return data
        return pack_slowly(v)
    return pack


def case_makers(ty: t.Type) -> list[Callable[[Any], Any]]:
    """Per case of a variant-like type: payload -> host value (no type tests per call)."""
    if isinstance(ty, t.VariantType):
        new, V, set_tag, set_value = object.__new__, Variant, SET_TAG, SET_VALUE[Variant]

        def variant_case(tag: str) -> Callable[[Any], Any]:
            def make(payload: Any) -> Any:
                v = new(V)
                set_tag(v, tag)
                set_value(v, payload)
                return v
            return make
        return [variant_case(c.name) for c in ty.cases]
    if isinstance(ty, t.EnumType):
        return [(lambda label: lambda payload: label)(label) for label in ty.cases]
    if isinstance(ty, t.OptionType):
        if nests_option(ty):
            return [lambda payload: None, lambda payload: Some(payload)]
        return [lambda payload: None, lambda payload: payload]
    if isinstance(ty, t.ResultType):
        new = object.__new__

        set_ok, set_err = SET_VALUE[Ok], SET_VALUE[Err]

        def ok(payload: Any) -> Any:
            v = new(Ok)
            set_ok(v, payload)
            return v

        def err(payload: Any) -> Any:
            v = new(Err)
            set_err(v, payload)
            return v
        return [ok, err]
    return [(lambda d: lambda payload: make_case(ty, d, payload))(d) for d in range(len(variant_cases(ty) or ()))]


def case_reader(ty: t.Type) -> Callable[[Any], tuple[int, Any]]:
    """host value -> (case index, payload) of a variant-like type; KeyError or
    ValueTypeError for a value that is none of its cases."""
    if isinstance(ty, t.VariantType):
        index = {c.name: i for i, c in enumerate(ty.cases)}

        def read(v: Any) -> tuple[int, Any]:
            if type(v) is Variant:
                return index[v.tag], v.value
            return case_of(ty, v)
        return read
    if isinstance(ty, t.EnumType):
        labels = {label: i for i, label in enumerate(ty.cases)}

        def read_enum(v: Any) -> tuple[int, Any]:
            return labels[v], None
        return read_enum
    if isinstance(ty, t.ResultType):
        def read_result(v: Any) -> tuple[int, Any]:
            c = type(v)
            if c is Ok:
                return 0, v.value
            if c is Err:
                return 1, v.value
            return case_of(ty, v)
        return read_result
    return lambda v: case_of(ty, v)


def _core(x: Any, want: str) -> Any:
    """A flat core value checked for its Python type (and an integer for its range);
    integers made unsigned."""
    if want == "i32" or want == "i64":
        return core_int(x, want)
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
        cached = self._alloc
        if cached is not None:
            return cached
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
            cmin, cmax = CORE_INT_MIN[core], CORE_INT_MAX[core]

            def load(view, p):
                return unpack(view, p)[0]

            def store(v, p):
                pack(mem.view, p, v)

            # lift: `_core`'s check inlined (every integer field of every record lifts here)
            if signed:
                wmask, wsign = (1 << width) - 1, 1 << (width - 1)

                def lift(f, i):
                    x = f[i]
                    if type(x) is not int or not cmin <= x <= cmax:
                        _core(x, core)  # raises
                    x &= wmask
                    return x - (wmask + 1) if x & wsign else x
            else:
                wmask = (1 << width) - 1

                def lift(f, i):
                    x = f[i]
                    if type(x) is not int or not cmin <= x <= cmax:
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
                return _core(f[i], "i32") != 0

            def lower(v, out):
                if type(v) is not bool:
                    raise ValueTypeError("value", "bool", v)
                out.append(1 if v else 0)

            return load, store, lift, lower
        if name == "char":
            s = struct.Struct("<I")
            unpack, pack = s.unpack_from, s.pack_into

            def load(view, p):
                c = unpack(view, p)[0]
                return chr(c) if c < 0xD800 else int_to_char(c)

            def store(v, p):
                pack(mem.view, p, _char_code(v))

            def lift(f, i):
                c = f[i]
                if type(c) is not int or not -0x80000000 <= c <= 0xFFFFFFFF:
                    c = _core(c, "i32")  # raises: not an integer, or outside the i32 slot
                c &= 0xFFFFFFFF
                return chr(c) if c < 0xD800 else int_to_char(c)

            def lower(v, out):
                out.append(_char_code(v))

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
        utf8 = opts.string_encoding == "utf8"
        alloc = self._allocator()

        if utf8:
            def _load_str(sp, n):
                if n > MAX_STRING_BYTES:
                    raise string_too_long(n)
                if sp < mem.low or sp + n > mem.limit:
                    mem.check(sp, n)
                mem.copied += n  # the host-side copy budget (memory.charge)
                if mem.copied > mem.copy_limit:
                    mem.charge(0)
                try:
                    return str(mem.view[sp:sp + n], "utf-8")
                except UnicodeDecodeError as exc:
                    raise Trap(f"string at {sp:#x} is not valid utf8: {exc.reason} at byte {exc.start}") from None
        else:
            def _load_str(sp, n):
                text = load_string(opts, mem, sp, n)  # bounds-checked: one copy is at most the memory
                mem.charge(len(text))
                return text

        def put(v):
            """Copy the string into guest memory: (pointer, length field)."""
            if utf8 and type(v) is str:
                try:
                    data = v.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueTypeError("value", "string of Unicode scalar values", "lone surrogate") from None
                n = units = len(data)
                if n > MAX_STRING_BYTES:
                    raise string_too_long(n)
                put_bytes = opts.put_bytes
                if put_bytes is not None:
                    return put_bytes(1, data), n
                sp = alloc(1, n)
            else:
                data, align, units = encode_string(opts, v)
                n = len(data)
                put_bytes = opts.put_bytes
                if put_bytes is not None:
                    return put_bytes(align, data), units
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
        e = t.unalias(elem)
        ec = self.codec(e)
        es, ea = ec.size, ec.align
        load_range, put_list = self._list_body(e, ec)
        alloc = self._allocator()
        pack = self._list_bytes(e)
        opts = self.opts

        def read(sp, n):
            nbytes = n * es
            if nbytes > MAX_LIST_BYTES:
                raise list_too_long(n, nbytes)
            if sp % ea:
                raise Trap(f"list pointer {sp:#x} is not aligned to {ea}", ptr=sp)
            if sp + nbytes > mem.limit or sp < mem.low:
                mem.check(sp, nbytes)
            mem.copied += nbytes  # the host-side copy budget (memory.charge)
            if mem.copied > mem.copy_limit:
                mem.charge(0)
            return load_range(mem.view, sp, n)

        u8 = e == t.U8
        wit = t.ListType(elem).wit()

        def write(v):
            if v.__class__ is not list and not is_list_value(v, u8):
                raise ValueTypeError("value", wit, v)
            n = len(v)
            if n * es > MAX_LIST_BYTES:
                raise list_too_long(n, n * es)
            put_bytes = opts.put_bytes
            if put_bytes is not None and pack is not None:
                return put_bytes(ea, pack(v)), n
            sp = alloc(ea, n * es)
            put_list(v, sp, n)
            return sp, n

        return self._pair_codec(read, write)

    def _list_bytes(self, e: t.Type) -> Callable[[Any], bytes] | None:
        """value -> its bytes in memory, for lists copied whole (list<u8>, lists of
        numbers); None for other element types."""
        if e == t.U8:
            def pack_u8(v):
                if isinstance(v, (bytes, bytearray, memoryview)):
                    return v
                try:
                    return bytes(v)
                except (TypeError, ValueError):
                    raise ValueTypeError("value", "list<u8> (bytes or ints 0..255)", v) from None
            return pack_u8
        if isinstance(e, t.PrimitiveType) and e.name in ARRAY_CODE:
            return number_packer(e.name)
        return None

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
            pack = number_packer(e.name)

            def load_range(view, sp, n):
                return number_list(code, view[sp:sp + n * es])

            def put_range(v, sp, n):
                data = pack(v)
                if n:
                    mem.view[sp:sp + n * es] = data
            return load_range, put_range
        eload, estore = ec.load, ec.store

        def load_elements(view, sp, n):
            return [eload(view, sp + k * es) for k in range(n)]

        eput = ec.put
        if eput is not None:  # strings and lists: each element a (pointer, length) pair
            pair_pack = self.pair.pack_into
            opts = self.opts
            utf8_strings = e == t.STRING and opts.string_encoding == "utf8" and self.ps == 4

            def put_pairs(v, sp, n):
                put_strings = opts.put_strings if utf8_strings else None
                if put_strings is not None and n:
                    datas = _utf8_all(v)
                    if datas is not None:  # every element a str: all in one step
                        put_strings(sp, datas)
                        return
                for k, item in enumerate(v):
                    ep, en = eput(item)
                    pair_pack(mem.view, sp + k * es, ep, en)  # the view after eput's realloc
            return load_elements, put_pairs

        def put_elements(v, sp, n):
            for k, item in enumerate(v):
                estore(item, sp + k * es)
        return load_elements, put_elements

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
            return map_of_pairs(pairs.load(view, p))

        def store(v, p):
            pairs.store(list(v.items()), p)

        def lift(f, i):
            return map_of_pairs(pairs.lift(f, i))

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
        names = tuple(f.name for f in ty.fields) if isinstance(ty, t.RecordType) else ()

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
                def lower_no_payload(v, out):
                    if v is not None:
                        raise no_payload(v)
                    out.extend(padding)
                return lower_no_payload
            return variants.case_lowerer(c.lower, c.flat, slots, padding)

        lifts = [case_lift(c) for c in codecs]
        lowers = [case_lower(c) for c in codecs]
        loads = [None if c is None else c.load for c in codecs]
        stores = [None if c is None else c.store for c in codecs]
        kind = "option" if isinstance(ty, t.OptionType) else "other"
        nested = isinstance(ty, t.OptionType) and nests_option(ty)
        makers = case_makers(ty)
        read_case = case_reader(ty)

        def case(v):
            if kind == "option" and not nested:
                if v is None:
                    return 0, None
                return 1, v.value if type(v) is Some else v
            try:
                return read_case(v)
            except (KeyError, ValueError, TypeError):
                raise _bad(ty, v) from None

        def store(v, p):
            d, payload = case(v)
            dpack(mem.view, p, d)
            st = stores[d]
            if st is not None:
                st(payload, p + payload_offset)
            elif payload is not None:
                raise no_payload(payload)

        def lower(v, out):
            d, payload = case(v)
            out.append(d)
            lowers[d](payload, out)

        # the reading side and the lowering dispatch as generated code (cabi.variants)
        load, lift = variants.readers(ty, n, disc_size, payload_offset, loads, lifts, makers, dunpack, _core)
        return load, store, lift, variants.lowerer(ty, lowers, lower)

    def _flags(self, ty: t.FlagsType) -> tuple:
        mem = self.opts.memory
        nl = len(ty.labels)
        s = struct.Struct("<B" if nl <= 8 else "<H" if nl <= 16 else "<I")
        unpack, pack = s.unpack_from, s.pack_into
        bits_of, from_bits = flags_functions(ty)

        def checked_bits(v):
            try:
                return bits_of(v)
            except (KeyError, TypeError):
                raise _bad(ty, v) from None

        def load(view, p):
            return from_bits(unpack(view, p)[0])

        def store(v, p):
            pack(mem.view, p, checked_bits(v))

        def lift(f, i):
            return from_bits(_core(f[i], "i32"))

        def lower(v, out):
            out.append(wrap_signed(checked_bits(v), 32))

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


def _field_lower(ty: t.Type, j: int) -> str:
    """Source lowering field j (value x{j}) to flat values: integers, bool and f64 inline
    when the value is plainly right; anything else through the field's codec (`lw{j}`,
    which appends the same values or raises the diagnostic)."""
    ty = t.unalias(ty)
    x = f"x{j}"
    name = ty.name if isinstance(ty, t.PrimitiveType) else None
    if name in _INT_RANGE:
        lo, hi = _INT_RANGE[name]
        bits = 64 if name in ("s64", "u64") else 32
        value = f"{x} - {1 << bits} if {x} >= {1 << (bits - 1)} else {x}" if hi >= 1 << (bits - 1) else x
        return (f"    if {x}.__class__ is int and {lo} <= {x} <= {hi}:\n        out.append({value})\n"
                f"    else:\n        lw{j}({x}, out)\n")
    if name == "bool":
        return f"    if {x}.__class__ is bool:\n        out.append(1 if {x} else 0)\n    else:\n        lw{j}({x}, out)\n"
    if name == "f64":
        return (f"    if {x}.__class__ is float:\n        out.append({x} if {x} == {x} else NAN)\n"
                f"    else:\n        lw{j}({x}, out)\n")
    return f"    lw{j}({x}, out)\n"


def _record_functions(ty: t.Type, fields: tuple[t.Type, ...], codecs: list[Codec], offsets: list[int],
                      flat_offsets: list[int], names: tuple[str, ...], is_record: bool,
                      parts: Callable[[Any], Any], mem: Any, ps: int) -> tuple:
    """load, store, lift, lower of a record or tuple as Python source compiled once: one
    call per field's codec (no per-call lists or loops), and one struct for every field a
    memory read can take whole (integers, bool, floats, char)."""
    n = len(fields)
    env: dict[str, Any] = {"Record": Record, "new": object.__new__, "set_fields": _SET_FIELDS, "parts": parts, "NAN": NAN,
                           "int_to_char": int_to_char, "mem": mem, "struct_error": struct.error,
                           "bad": lambda v: _bad(ty, v)}
    for j, c in enumerate(codecs):
        env[f"ld{j}"], env[f"st{j}"], env[f"lf{j}"], env[f"lw{j}"] = c.load, c.store, c.lift, c.lower

    def build(values: list[str]) -> str:
        if is_record:
            items = ", ".join(f"{name!r}: {v}" for name, v in zip(names, values))
            return f"r = new(Record); set_fields(r, {{{items}}}); return r"
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
    runs: list[tuple[int, str, list[str]]] = []  # (offset, struct format, fields): no padding inside
    for j, (f, o) in enumerate(zip(fields, offsets)):
        uf = t.unalias(f)
        code = _FIELD_LOAD.get(uf.name) if isinstance(uf, t.PrimitiveType) else None
        if code is None:
            values.append(f"ld{j}(view, p + {o})")
            continue
        if o > pos:
            fmt += f"{o - pos}x"
        if not runs or o > pos:
            runs.append((o, "<", []))
        runs[-1] = (runs[-1][0], runs[-1][1] + code[0], runs[-1][2] + [f"x{j}"])
        fmt += code[0]
        pos = o + size(f, ps)
        whole_fields.append(f"w{j}")
        values.append(code[1].format(x=f"w{j}"))
    load_src = "def load(view, p):\n"
    if whole_fields:
        env["unpack"] = struct.Struct(fmt).unpack_from
        load_src += f"    {', '.join(whole_fields)}, = unpack(view, p)\n"
    load_src += f"    {build(values)}\n"

    plain = all(isinstance(u := t.unalias(f), t.PrimitiveType) and u.name in _CODE for f in fields)
    store_src = f"def store(v, p):\n{get}"
    if plain and n:  # integers only: one pack per run of fields, checked by struct
        # (padding between runs is left as it is, as the interpreter's store leaves it)
        packs = []
        for k, (o, run_fmt, run_xs) in enumerate(runs):
            env[f"pack{k}"] = struct.Struct(run_fmt).pack_into
            packs.append(f"        pack{k}(mem.view, p + {o}, {', '.join(run_xs)})\n")
        store_src += ("    try:\n" + "".join(packs) +
                      "    except (struct_error, TypeError):\n        raise bad(v) from None\n")
    else:
        store_src += "".join(f"    st{j}(x{j}, p + {o})\n" for j, o in enumerate(offsets)) or "    pass\n"

    lift_src = f"def lift(f, i):\n    {build([f'lf{j}(f, i + {fo})' for j, fo in enumerate(flat_offsets)])}\n"
    lower_src = f"def lower(v, out):\n{get}" + ("".join(_field_lower(f, j) for j, f in enumerate(fields))
                                                 or "    pass\n")
    env["NAN"] = NAN

    scope = define(load_src + store_src + lift_src + lower_src, env, "codec")
    return scope["load"], scope["store"], scope["lift"], scope["lower"]
