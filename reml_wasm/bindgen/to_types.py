"""C model -> the one type model (`reml_wasm.types`), where the C type has a meaning
there.

Integers, floating types and `_Bool` map to the primitives of the same width and
signedness; enums to their underlying integer; `char *` / `const char *` to `string`
(a NUL-terminated C string, the convention the native connector uses); structs whose
fields all map become records (C field order kept).  Other pointers, unions, arrays,
bit-fields and function pointers have no counterpart: such a function or struct is
reported as unmapped with the reason, and stays callable through its C declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import types as t
from .cmodel import Array, CModel, CType, FuncType, FunctionDecl, Pointer, Prim, TagRef

PRIMS: dict[str, t.PrimitiveType] = {
    "_Bool": t.BOOL, "char": t.S8, "signed char": t.S8, "unsigned char": t.U8, "short": t.S16,
    "unsigned short": t.U16, "int": t.S32, "unsigned int": t.U32, "long": t.S64,
    "unsigned long": t.U64, "long long": t.S64, "unsigned long long": t.U64, "float": t.F32,
    "double": t.F64,
}


class Unmapped(Exception):
    """A C type without a counterpart in the type model."""


@dataclass
class Mapping:
    functions: list[t.Function] = field(default_factory=list)
    records: dict[str, t.RecordType] = field(default_factory=dict)
    unmapped: dict[str, str] = field(default_factory=dict)  # symbol -> reason


class TypeMapper:
    def __init__(self, model: CModel) -> None:
        self.model = model
        self.records: dict[str, t.RecordType] = {}
        self._active: set[str] = set()

    def value_type(self, ct: CType) -> t.Type:
        r = self.model.resolve(ct)
        if isinstance(r, Prim):
            if r.name in PRIMS:
                return PRIMS[r.name]
            raise Unmapped(f"{r.name} has no type-model counterpart")
        if isinstance(r, Pointer):
            target = self.model.resolve(r.target)
            if isinstance(target, Prim) and target.name == "char":
                return t.STRING
            raise Unmapped(f"pointer {self.model.c_spelling(ct)}")
        if isinstance(r, TagRef) and r.kind == "enum":
            return PRIMS[self.model.enum(r).underlying]
        if isinstance(r, TagRef) and r.kind == "struct":
            return self.record(r)
        if isinstance(r, Array):
            raise Unmapped(f"array {self.model.c_spelling(ct)}")
        if isinstance(r, FuncType):
            raise Unmapped("function type")
        raise Unmapped(f"{self.model.c_spelling(ct)}")

    def record(self, ref: TagRef) -> t.RecordType:
        d = self.model.struct(ref)
        name = d.tag or (d.typedef_names[0] if d.typedef_names else ref.key)
        if name in self.records:
            return self.records[name]
        if d.fields is None:
            raise Unmapped(f"struct {name} is opaque")
        if name in self._active:
            raise Unmapped(f"struct {name} contains itself")
        self._active.add(name)
        try:
            fields = []
            for f in d.fields:
                if f.name is None or f.bit_width is not None:
                    raise Unmapped(f"struct {name} has an anonymous member or a bit-field")
                fields.append(t.Field(f.name, self.value_type(f.type)))
        finally:
            self._active.discard(name)
        rec = t.RecordType(name, tuple(fields))
        self.records[name] = rec
        return rec

    def function(self, fn: FunctionDecl) -> t.Function:
        if fn.variadic:
            raise Unmapped("variadic")
        result_c = self.model.resolve(fn.type.result)
        result = None if isinstance(result_c, Prim) and result_c.name == "void" else \
            self.value_type(fn.type.result)
        params = tuple(t.Param(p.name or f"arg{i}", self.value_type(p.type))
                       for i, p in enumerate(fn.type.params))
        return t.Function(fn.name, params, result)


def to_types(model: CModel) -> Mapping:
    """Every target function and struct that maps, and why the others do not."""
    mapper = TypeMapper(model)
    out = Mapping()
    for fn in model.functions:
        try:
            out.functions.append(mapper.function(fn))
        except Unmapped as exc:
            out.unmapped[fn.name] = str(exc)
    for d in model.structs():
        if d.target and d.kind == "struct" and d.fields is not None:
            try:
                mapper.record(TagRef("struct", d.key))
            except Unmapped as exc:
                out.unmapped[model.c_name(d) or d.key] = str(exc)
    out.records = dict(mapper.records)
    return out
