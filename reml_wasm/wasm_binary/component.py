"""Parser of the component-model binary format (design/mvp/Binary.md).

Produces a `Component`: its definitions in section order (order fixes the index spaces),
core modules kept as bytes, nested components parsed recursively, type definitions as
small trees whose type references are indices into the enclosing type index space.
It does not validate; it decodes, and every malformed byte sequence becomes a
`DiagnosticError` (code `ffi.component.malformed`, byte offset in the message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .. import types as t
from ..audit import error

MAGIC = b"\x00asm"
COMPONENT_LAYER = b"\x0d\x00\x01\x00"

CORE_SORTS = {0x00: "core func", 0x01: "core table", 0x02: "core memory", 0x03: "core global",
              0x10: "core type", 0x11: "core module", 0x12: "core instance"}
SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}

PRIMITIVE_CODES: dict[int, t.PrimitiveType] = {
    0x7f: t.BOOL, 0x7e: t.S8, 0x7d: t.U8, 0x7c: t.S16, 0x7b: t.U16, 0x7a: t.S32, 0x79: t.U32,
    0x78: t.S64, 0x77: t.U64, 0x76: t.F32, 0x75: t.F64, 0x74: t.CHAR, 0x73: t.STRING,
    0x64: t.ERROR_CONTEXT,
}

CORE_VALTYPES = {0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128",
                 0x70: "funcref", 0x6f: "externref"}

# --- type definition trees ---------------------------------------------------------------

# A type index or a primitive.  (`typespace` rebuilds these trees with the indices replaced
# by the type nodes they name, hence the open annotation.)
ValType = Any


@dataclass(frozen=True)
class DefRecord:
    fields: tuple[tuple[str, ValType], ...]


@dataclass(frozen=True)
class DefVariant:
    cases: tuple[tuple[str, ValType | None], ...]


@dataclass(frozen=True)
class DefList:
    element: ValType
    length: int | None = None


@dataclass(frozen=True)
class DefMap:
    key: ValType
    value: ValType


@dataclass(frozen=True)
class DefTuple:
    elements: tuple[ValType, ...]


@dataclass(frozen=True)
class DefFlags:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class DefEnum:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class DefOption:
    inner: ValType


@dataclass(frozen=True)
class DefResult:
    ok: ValType | None
    err: ValType | None


@dataclass(frozen=True)
class DefOwn:
    resource: int


@dataclass(frozen=True)
class DefBorrow:
    resource: int


@dataclass(frozen=True)
class DefStream:
    element: ValType | None


@dataclass(frozen=True)
class DefFuture:
    element: ValType | None


@dataclass(frozen=True)
class DefPrimitive:
    type: t.PrimitiveType


@dataclass(frozen=True)
class DefResource:
    rep: str                     # "i32"
    dtor: int | None             # core func index


@dataclass(frozen=True)
class DefFunc:
    params: tuple[tuple[str, ValType], ...]
    result: ValType | None
    is_async: bool = False


@dataclass(frozen=True)
class ExternDesc:
    """What an import/export declares: kind is module/func/value/type/component/instance.
    For kind "type", `bound` is ("eq", idx) or ("sub",) (a fresh resource)."""

    kind: str
    index: int | None = None
    bound: tuple = ()


@dataclass(frozen=True)
class Decl:
    """One declaration inside an instance or component type."""

    kind: str                    # "type" | "core type" | "alias" | "export" | "import"
    name: str | None = None
    desc: ExternDesc | None = None
    type: object = None          # a Def* tree for kind "type"
    alias: "Alias | None" = None
    options: "NameOptions | None" = None  # of an import/export name


@dataclass(frozen=True)
class DefInstanceType:
    decls: tuple[Decl, ...]


@dataclass(frozen=True)
class DefComponentType:
    decls: tuple[Decl, ...]


@dataclass(frozen=True)
class CoreFuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]


@dataclass(frozen=True)
class CoreModuleType:
    raw: bytes


# --- definitions -------------------------------------------------------------------------

@dataclass(frozen=True)
class CoreModule:
    data: bytes
    offset: int


@dataclass(frozen=True)
class CoreInstantiate:
    module: int
    args: tuple[tuple[str, int], ...]        # (import module name, core instance index)


@dataclass(frozen=True)
class CoreInlineExports:
    exports: tuple[tuple[str, str, int], ...]  # (name, core sort, index)


@dataclass(frozen=True)
class Instantiate:
    component: int
    args: tuple[tuple[str, str, int], ...]     # (import name, sort, index)


@dataclass(frozen=True)
class InlineExports:
    exports: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class Alias:
    sort: str
    target: str                  # "export" | "core export" | "outer"
    instance: int = 0            # for export aliases
    name: str = ""
    count: int = 0               # for outer aliases: how many components out
    index: int = 0


@dataclass(frozen=True)
class TypeDef:
    type: object                 # a Def* tree


@dataclass(frozen=True)
class CoreTypeDef:
    type: object


@dataclass(frozen=True)
class CanonOptions:
    string_encoding: str = "utf8"
    memory: int | None = None
    realloc: int | None = None
    post_return: int | None = None
    is_async: bool = False
    callback: int | None = None


@dataclass(frozen=True)
class Canon:
    """`kind` is lift (core func -> func), lower (func -> core func) or resource.new /
    resource.drop / resource.rep (type -> core func)."""

    kind: str
    func: int = 0                # lift: core func index; lower: func index
    type: int = 0                # lift: func type index; resource.*: resource type index
    options: CanonOptions = CanonOptions()

    @property
    def sort(self) -> str:
        return "func" if self.kind == "lift" else "core func"


@dataclass(frozen=True)
class NameOptions:
    """What an import or export name may carry besides the name: the interface a plainly
    named instance implements (WIT `import a: ns:pkg/i;`) and an `@external-id`."""

    implements: str | None = None
    external_id: str | None = None


NO_OPTIONS = NameOptions()


@dataclass(frozen=True)
class Import:
    name: str
    desc: ExternDesc
    options: NameOptions = NO_OPTIONS


@dataclass(frozen=True)
class Export:
    name: str
    sort: str
    index: int
    desc: ExternDesc | None = None
    options: NameOptions = NO_OPTIONS


@dataclass(frozen=True)
class Start:
    func: int
    args: tuple[int, ...]
    results: int


Definition = Union["Component", CoreModule, CoreInstantiate, CoreInlineExports, Instantiate,
                   InlineExports, Alias, TypeDef, CoreTypeDef, Canon, Import, Export, Start]


@dataclass
class Component:
    definitions: list = field(default_factory=list)
    offset: int = 0
    custom: dict[str, bytes] = field(default_factory=dict)  # custom sections (first of a name)


# --- decoding ----------------------------------------------------------------------------

class _Reader:
    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, message: str, at: int | None = None):
        at = self.pos if at is None else at
        return error("ffi.component.malformed", f"malformed component at byte {at:#x}: {message}",
                     offset=at)

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of data")
        return self.data[self.pos]

    def u32(self) -> int:
        result = shift = 0
        start = self.pos
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 28:
                if shift > 35 or b & 0x70:
                    raise self.fail("u32 LEB128 too long", start)
        if result > 0xFFFFFFFF:
            raise self.fail("u32 out of range", start)
        return result

    def s33(self) -> int:
        result = shift = 0
        start = self.pos
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift > 35:
                raise self.fail("s33 LEB128 too long", start)
        if b & 0x40:
            result -= 1 << shift
        return result

    def bytes(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.fail(f"{n} bytes requested, {self.end - self.pos} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def name(self) -> str:
        n = self.u32()
        start = self.pos
        raw = self.bytes(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("name is not UTF-8", start) from None

    def vec(self, item) -> tuple:
        n = self.u32()
        if n > self.end - self.pos:
            raise self.fail(f"vector length {n} exceeds the remaining data")
        return tuple(item() for _ in range(n))


def parse_component(data: bytes) -> Component:
    """Decode a component binary.  A core module, a truncated file, anything else:
    `ffi.component.malformed` (or `ffi.component.not_component`)."""
    data = bytes(data)
    if len(data) < 8 or data[:4] != MAGIC:
        raise error("ffi.component.not_component", "not a WebAssembly binary (bad magic number)")
    if data[4:8] == b"\x01\x00\x00\x00":
        raise error("ffi.component.not_component", "this is a core wasm module, not a component")
    if data[4:8] != COMPONENT_LAYER:
        raise error("ffi.component.not_component",
                    f"unsupported component binary version {data[4:8].hex()}")
    r = _Reader(data, 8)
    try:
        return _parse_sections(r, 0)
    except RecursionError:  # component and instance types nested beyond Python's stack
        raise error("ffi.component.malformed", "malformed component: types or components nested too deeply") \
            from None


def _parse_sections(r: _Reader, offset: int) -> Component:
    comp = Component(offset=offset)
    out = comp.definitions
    while r.pos < r.end:
        sid = r.byte()
        size = r.u32()
        start = r.pos
        if size > r.end - start:
            raise r.fail(f"section {sid} of {size} bytes runs past the end", start)
        sub = _Reader(r.data, start, start + size)
        if sid == 0:                                    # custom section
            name = sub.name()
            comp.custom.setdefault(name, r.data[sub.pos:sub.end])
            sub.pos = sub.end
        elif sid == 1:
            out.append(CoreModule(r.data[start:start + size], start))
            sub.pos = sub.end
        elif sid == 2:
            out.extend(sub.vec(lambda: _core_instance(sub)))
        elif sid == 3:
            out.extend(CoreTypeDef(x) for x in sub.vec(lambda: _core_type(sub)))
        elif sid == 4:
            if r.data[start:start + 8] != MAGIC + COMPONENT_LAYER:
                raise r.fail("nested component has a bad preamble", start)
            out.append(_parse_sections(_Reader(r.data, start + 8, start + size), start))
            sub.pos = sub.end
        elif sid == 5:
            out.extend(sub.vec(lambda: _instance(sub)))
        elif sid == 6:
            out.extend(sub.vec(lambda: _alias(sub)))
        elif sid == 7:
            out.extend(TypeDef(x) for x in sub.vec(lambda: _type(sub)))
        elif sid == 8:
            out.extend(sub.vec(lambda: _canon(sub)))
        elif sid == 9:
            f = sub.u32()
            args = sub.vec(sub.u32)
            out.append(Start(f, args, sub.u32()))
        elif sid == 10:
            out.extend(sub.vec(lambda: _import(sub)))
        elif sid == 11:
            out.extend(sub.vec(lambda: _export(sub)))
        elif sid == 12:
            raise r.fail("value sections are not supported", start)
        else:
            raise r.fail(f"unknown section id {sid}", start - 1)
        if sub.pos != sub.end:
            raise r.fail(f"section {sid} has {sub.end - sub.pos} trailing bytes", sub.pos)
        r.pos = start + size
    return comp


def _core_sort(r: _Reader) -> str:
    b = r.byte()
    if b not in CORE_SORTS:
        raise r.fail(f"unknown core sort {b:#x}", r.pos - 1)
    return CORE_SORTS[b]


def _sort(r: _Reader) -> str:
    b = r.byte()
    if b == 0x00:
        return _core_sort(r)
    if b not in SORTS:
        raise r.fail(f"unknown sort {b:#x}", r.pos - 1)
    return SORTS[b]


def _core_instance(r: _Reader):
    tag = r.byte()
    if tag == 0x00:
        module = r.u32()

        def arg():
            name = r.name()
            if r.byte() != 0x12:
                raise r.fail("core instantiate argument must be an instance", r.pos - 1)
            return name, r.u32()
        return CoreInstantiate(module, r.vec(arg))
    if tag == 0x01:
        return CoreInlineExports(r.vec(lambda: (r.name(), _core_sort(r), r.u32())))
    raise r.fail(f"unknown core instance kind {tag:#x}", r.pos - 1)


def _instance(r: _Reader):
    tag = r.byte()
    if tag == 0x00:
        comp = r.u32()
        return Instantiate(comp, r.vec(lambda: (r.name(), _sort(r), r.u32())))
    if tag == 0x01:
        return InlineExports(r.vec(lambda: (_extern_name(r), _sort(r), r.u32())))
    raise r.fail(f"unknown instance kind {tag:#x}", r.pos - 1)


def _alias(r: _Reader) -> Alias:
    sort = _sort(r)
    tag = r.byte()
    if tag == 0x00:
        return Alias(sort, "export", instance=r.u32(), name=r.name())
    if tag == 0x01:
        return Alias(sort, "core export", instance=r.u32(), name=r.name())
    if tag == 0x02:
        return Alias(sort, "outer", count=r.u32(), index=r.u32())
    raise r.fail(f"unknown alias target {tag:#x}", r.pos - 1)


def _core_valtype(r: _Reader) -> str:
    b = r.byte()
    if b not in CORE_VALTYPES:
        raise r.fail(f"unsupported core value type {b:#x}", r.pos - 1)
    return CORE_VALTYPES[b]


def _core_type(r: _Reader):
    tag = r.byte()
    if tag == 0x60:
        return CoreFuncType(r.vec(lambda: _core_valtype(r)), r.vec(lambda: _core_valtype(r)))
    if tag == 0x50:
        start = r.pos
        r.vec(lambda: _module_decl(r))
        return CoreModuleType(r.data[start:r.pos])
    raise r.fail(f"unsupported core type {tag:#x}", r.pos - 1)


def _module_decl(r: _Reader) -> None:
    tag = r.byte()
    if tag == 0x00:
        r.name(), r.name()
        _core_importdesc(r)
    elif tag == 0x01:
        _core_type(r)
    elif tag == 0x02:
        _core_sort(r)
        if r.byte() != 0x01:
            raise r.fail("core alias must be outer")
        r.u32(), r.u32()
    elif tag == 0x03:
        r.name()
        _core_importdesc(r)
    else:
        raise r.fail(f"unknown module type declaration {tag:#x}", r.pos - 1)


def _core_limits(r: _Reader) -> None:
    flags = r.byte()
    r.u32() if not flags & 0x04 else _skip_leb(r)
    if flags & 0x01:
        r.u32() if not flags & 0x04 else _skip_leb(r)


def _skip_leb(r: _Reader) -> None:
    while r.byte() & 0x80:
        pass


def _core_importdesc(r: _Reader) -> None:
    tag = r.byte()
    if tag == 0x00:
        r.u32()
    elif tag == 0x01:
        _core_valtype(r)
        _core_limits(r)
    elif tag == 0x02:
        _core_limits(r)
    elif tag == 0x03:
        _core_valtype(r)
        r.byte()
    else:
        raise r.fail(f"unknown core import kind {tag:#x}", r.pos - 1)


def _valtype(r: _Reader) -> ValType:
    start = r.pos
    v = r.s33()
    if v >= 0:
        return v
    code = v & 0x7F
    if code in PRIMITIVE_CODES:
        return PRIMITIVE_CODES[code]
    raise r.fail(f"bad value type {v}", start)


def _opt(r: _Reader, item):
    tag = r.byte()
    if tag == 0x00:
        return None
    if tag == 0x01:
        return item()
    raise r.fail(f"bad option tag {tag:#x}", r.pos - 1)


def _label(r: _Reader) -> str:
    return r.name()


def _type(r: _Reader):
    start = r.pos
    b = r.peek()
    if b in PRIMITIVE_CODES:
        r.byte()
        return DefPrimitive(PRIMITIVE_CODES[b])
    r.byte()
    if b == 0x72:
        return DefRecord(r.vec(lambda: (_label(r), _valtype(r))))
    if b == 0x71:
        def case():
            name = _label(r)
            ty = _opt(r, lambda: _valtype(r))
            refines = r.byte()
            if refines == 0x01:
                r.u32()
            elif refines != 0x00:
                raise r.fail("bad variant case trailer", r.pos - 1)
            return name, ty
        return DefVariant(r.vec(case))
    if b == 0x70:
        return DefList(_valtype(r))
    if b == 0x67:
        elem = _valtype(r)
        return DefList(elem, r.u32())
    if b == 0x63:
        key = _valtype(r)
        return DefMap(key, _valtype(r))
    if b == 0x6f:
        return DefTuple(r.vec(lambda: _valtype(r)))
    if b == 0x6e:
        return DefFlags(r.vec(lambda: _label(r)))
    if b == 0x6d:
        return DefEnum(r.vec(lambda: _label(r)))
    if b == 0x6b:
        return DefOption(_valtype(r))
    if b == 0x6a:
        ok = _opt(r, lambda: _valtype(r))
        return DefResult(ok, _opt(r, lambda: _valtype(r)))
    if b == 0x69:
        return DefOwn(r.u32())
    if b == 0x68:
        return DefBorrow(r.u32())
    if b == 0x66:
        return DefStream(_opt(r, lambda: _valtype(r)))
    if b == 0x65:
        return DefFuture(_opt(r, lambda: _valtype(r)))
    if b in (0x40, 0x43):
        params = r.vec(lambda: (_label(r), _valtype(r)))
        tag = r.byte()
        if tag == 0x00:
            result: ValType | None = _valtype(r)
        elif tag == 0x01:
            if r.u32() != 0:
                raise r.fail("named multiple results are not supported", r.pos - 1)
            result = None
        else:
            raise r.fail(f"bad function result list {tag:#x}", r.pos - 1)
        return DefFunc(params, result, is_async=b == 0x43)
    if b == 0x3f:
        rep = r.byte()
        if rep != 0x7f:
            raise r.fail("resource representation must be i32", r.pos - 1)
        return DefResource("i32", _opt(r, r.u32))
    if b == 0x3e:   # async resource with callback: (rep) dtor? callback?
        raise r.fail("async resource types are not supported", start)
    if b == 0x41:
        return DefComponentType(r.vec(lambda: _component_decl(r)))
    if b == 0x42:
        return DefInstanceType(r.vec(lambda: _instance_decl(r)))
    raise r.fail(f"unknown type constructor {b:#x}", start)


def _component_decl(r: _Reader) -> Decl:
    if r.peek() == 0x03:
        r.byte()
        name, options = _extern_name_options(r)
        return Decl("import", name=name, desc=_extern_desc(r), options=options)
    return _instance_decl(r)


def _import(r: _Reader) -> Import:
    name, options = _extern_name_options(r)
    return Import(name, _extern_desc(r), options)


def _instance_decl(r: _Reader) -> Decl:
    tag = r.byte()
    if tag == 0x00:
        return Decl("core type", type=_core_type(r))
    if tag == 0x01:
        return Decl("type", type=_type(r))
    if tag == 0x02:
        return Decl("alias", alias=_alias(r))
    if tag == 0x04:
        name, options = _extern_name_options(r)
        return Decl("export", name=name, desc=_extern_desc(r), options=options)
    raise r.fail(f"unknown declaration kind {tag:#x}", r.pos - 1)


def _extern_name(r: _Reader) -> str:
    return _extern_name_options(r)[0]


def _extern_name_options(r: _Reader) -> tuple[str, NameOptions]:
    """An import/export name: a plain name (0x00), a name with a version suffix (0x01),
    or a name with a list of options (0x02: 0x00 implements, 0x01 version suffix,
    0x02 external id)."""
    tag = r.byte()
    if tag == 0x00:
        return r.name(), NO_OPTIONS
    if tag == 0x01:   # name with a version suffix
        name = r.name()
        suffix = r.name()
        return (name + suffix if suffix.startswith("@") else name), NO_OPTIONS
    if tag == 0x02:
        name = r.name()
        implements = external_id = None
        for _ in range(r.u32()):
            at = r.pos
            option = r.byte()
            value = r.name()
            if option == 0x00 and implements is None:
                implements = value
            elif option == 0x01:
                name += value if value.startswith("@") else ""
            elif option == 0x02 and external_id is None:
                external_id = value
            else:
                raise r.fail(f"unknown or repeated name option {option:#x}", at)
        return name, NameOptions(implements, external_id)
    raise r.fail(f"bad import/export name tag {tag:#x}", r.pos - 1)


def _extern_desc(r: _Reader) -> ExternDesc:
    tag = r.byte()
    if tag == 0x00:
        if r.byte() != 0x11:
            raise r.fail("core extern must be a module", r.pos - 1)
        return ExternDesc("module", r.u32())
    if tag == 0x01:
        return ExternDesc("func", r.u32())
    if tag == 0x02:
        b = r.byte()
        if b == 0x00:
            return ExternDesc("value", r.u32())
        _valtype(r)
        return ExternDesc("value")
    if tag == 0x03:
        b = r.byte()
        if b == 0x00:
            return ExternDesc("type", bound=("eq", r.u32()))
        if b == 0x01:
            return ExternDesc("type", bound=("sub",))
        raise r.fail(f"bad type bound {b:#x}", r.pos - 1)
    if tag == 0x04:
        return ExternDesc("component", r.u32())
    if tag == 0x05:
        return ExternDesc("instance", r.u32())
    raise r.fail(f"unknown extern kind {tag:#x}", r.pos - 1)


def _export(r: _Reader) -> Export:
    name, options = _extern_name_options(r)
    sort = _sort(r)
    index = r.u32()
    desc = _opt(r, lambda: _extern_desc(r))
    return Export(name, sort, index, desc, options)


def _canon(r: _Reader) -> Canon:
    tag = r.byte()
    if tag == 0x00:
        if r.byte() != 0x00:
            raise r.fail("canon lift must take a core func", r.pos - 1)
        func = r.u32()
        opts = _canon_opts(r)
        return Canon("lift", func=func, type=r.u32(), options=opts)
    if tag == 0x01:
        if r.byte() != 0x00:
            raise r.fail("canon lower must take a func", r.pos - 1)
        func = r.u32()
        return Canon("lower", func=func, options=_canon_opts(r))
    if tag in (0x02, 0x03, 0x04):
        kind = {0x02: "resource.new", 0x03: "resource.drop", 0x04: "resource.rep"}[tag]
        return Canon(kind, type=r.u32())
    if tag == 0x07:
        return Canon("resource.drop", type=r.u32(), options=CanonOptions(is_async=True))
    raise r.fail(f"unsupported canonical built-in {tag:#x}", r.pos - 1)


def _canon_opts(r: _Reader) -> CanonOptions:
    enc, memory, realloc, post, is_async, callback = "utf8", None, None, None, False, None
    for _ in range(r.u32()):
        tag = r.byte()
        if tag == 0x00:
            enc = "utf8"
        elif tag == 0x01:
            enc = "utf16"
        elif tag == 0x02:
            enc = "latin1+utf16"
        elif tag == 0x03:
            memory = r.u32()
        elif tag == 0x04:
            realloc = r.u32()
        elif tag == 0x05:
            post = r.u32()
        elif tag == 0x06:
            is_async = True
        elif tag == 0x07:
            callback = r.u32()
        else:
            raise r.fail(f"unknown canonical option {tag:#x}", r.pos - 1)
    return CanonOptions(enc, memory, realloc, post, is_async, callback)
