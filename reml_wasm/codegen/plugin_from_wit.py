"""WIT -> the C plugin generator's input (`reml-wasm gen c-plugin WIT -o DIR`).

Which Boxes: with a world, its exported interfaces and its own exported functions (a Box
named after the world); without one, every interface of the main package (or, when it
has no interfaces and one world, that world).  Each
interface with functions becomes a singleton Box; each resource it defines becomes a
Box of its own (instances are the resource's values): its methods and static functions
are the Box's methods (the receiver is the instance, so `self` is dropped) and a
constructor must take no parameters (birth takes none).

Types: what BID-1 TLV can carry.  bool; s32 and u32 -> i32; s64 and u64 -> i64; f32;
f64; string; list<u8> -> bytes; own/borrow of a resource -> handle.  Any other type is
the diagnostic `ffi.gen.unsupported_type`, naming the type and the function.
"""

from __future__ import annotations

from typing import Iterable, overload

from .. import types as t
from ..audit import error
from .c_plugin import FIRST_TYPE_ID, PluginBoxSpec, box_name_for

__all__ = ["specs_from_wit", "tlv_type"]

_TLV_TYPES: dict[t.Type, t.Type] = {
    t.BOOL: t.BOOL, t.S32: t.S32, t.U32: t.S32, t.S64: t.S64, t.U64: t.S64, t.F32: t.F32, t.F64: t.F64,
    t.STRING: t.STRING, t.ListType(t.U8): t.ListType(t.U8),
}


@overload
def tlv_type(typ: t.Type, where: str) -> t.Type: ...
@overload
def tlv_type(typ: None, where: str) -> None: ...
@overload
def tlv_type(typ: t.Type | None, where: str) -> t.Type | None: ...


def tlv_type(typ: t.Type | None, where: str) -> t.Type | None:
    """The type the generator gets for a WIT type: one that has a TLV kind."""
    if typ is None:
        return None
    plain = t.unalias(typ)
    if isinstance(plain, t.ListType) and plain.length is None and t.unalias(plain.element) == t.U8:
        plain = t.ListType(t.U8)
    if isinstance(plain, (t.OwnType, t.BorrowType)):
        return plain
    found = _TLV_TYPES.get(plain)
    if found is None:
        raise error("ffi.gen.unsupported_type",
                    f"{where}: WIT type `{typ.wit()}` has no BID-1 TLV form (a plugin method carries bool, "
                    "s32/u32, s64/u64, f32, f64, string, list<u8> and resource handles)")
    return found


def _function(fn: t.Function, where: str, drop_self: bool) -> t.Function:
    params = fn.params[1:] if drop_self else fn.params
    where = f"{where}.{fn.name}"
    return t.Function(fn.name, tuple(t.Param(p.name, tlv_type(p.type, f"{where}({p.name})")) for p in params),
                      tlv_type(fn.result, f"{where} result"))


def _boxes_of(iface: t.Interface, label: str) -> list[tuple[str, t.Interface, bool]]:
    """(Box name, interface for the generator, singleton) for an interface and its resources."""
    out = []
    if iface.functions:
        funcs = tuple(_function(f, label, False) for f in iface.functions)
        out.append((box_name_for(label.rsplit("/", 1)[-1].split("@")[0]), t.Interface(label, (), funcs), True))
    for _, typ in iface.types:
        if not isinstance(typ, t.ResourceType) or typ.owner != iface.qualified_name:
            continue
        where = f"{label}.{typ.name}"
        if typ.constructor is not None and typ.constructor.params:
            raise error("ffi.gen.unsupported_constructor",
                        f"{where}: a constructor with parameters has no BID-1 form (birth takes no arguments); "
                        "make it a static function")
        funcs = tuple(_function(f, where, f.kind == "method") for f in typ.methods + typ.statics)
        out.append((box_name_for(typ.name), t.Interface(where, (), funcs), False))
    return out


def specs_from_wit(package: t.Package, world: t.World | None = None) -> list[PluginBoxSpec]:
    """PluginBoxSpecs for a WIT package (or one of its worlds); type ids from 100 on."""
    boxes: list[tuple[str, t.Interface, bool]] = []
    if world is None and not package.interfaces and len(package.worlds) == 1:
        world = package.worlds[0]
    if world is None:
        for iface in package.interfaces:
            boxes += _boxes_of(iface, iface.name or "interface")
    else:
        world_funcs: list[t.Function] = []
        for item in world.exports:
            if isinstance(item, t.InterfaceItem):
                boxes += _boxes_of(item.interface, item.interface.name or item.key)
            elif isinstance(item, t.FunctionItem) and item.function.kind == "freestanding":
                world_funcs.append(item.function)
        if world_funcs:
            boxes += _boxes_of(t.Interface(world.name, (), tuple(world_funcs)), world.name)
    if not boxes:
        raise error("ffi.gen.empty", f"{package.name}: no interface with functions or resources to make a plugin of")
    return _specs(boxes)


def _specs(boxes: Iterable[tuple[str, t.Interface, bool]]) -> list[PluginBoxSpec]:
    specs: list[PluginBoxSpec] = []
    for i, (box, iface, singleton) in enumerate(boxes):
        if any(s.box == box for s in specs):
            raise error("ffi.gen.duplicate_box", f"two WIT items become Box {box!r} ({iface.name})")
        specs.append(PluginBoxSpec(iface, box, FIRST_TYPE_ID + i, singleton, {}))
    return specs
