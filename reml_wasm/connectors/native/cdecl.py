"""C declarations for the native connector: reading one, and writing one for a
`types.Function` whose parameters C can take directly.

cffi parses the declarations (its errors carry line:column and become
`ffi.signature.invalid` with a location); this module only finds the declared function's
name and maps type-model types to C spellings.
"""

from __future__ import annotations

import re

import cffi

from ... import types as t
from ...audit import Location, error

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_FIRST_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
_C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool __attribute__ __declspec __cdecl __stdcall
""".split())
_POS = re.compile(r":(\d+):(\d+)")


def normalise(cdecl: str) -> str:
    text = cdecl.strip()
    return text if text.endswith(";") else text + ";"


def function_name(cdecl: str) -> str:
    """The name of the function `cdecl` declares (`int inc(int x);` -> `inc`)."""
    body = _COMMENT.sub(" ", cdecl)
    for m in _FIRST_CALL.finditer(body):
        if m.group(1) not in _C_KEYWORDS:
            return m.group(1)
    raise error("ffi.signature.invalid", f"no function declaration in {cdecl.strip()!r}",
                location=Location("<cdecl>", 1, 1, cdecl.strip().splitlines()[0] if cdecl.strip() else ""))


def cdef_checked(ffi: cffi.FFI, prelude: str, cdecl: str) -> None:
    """`ffi.cdef` of the prelude, then of the declaration; a parse error becomes
    `ffi.signature.invalid` located in whichever text it came from."""
    for text, name in ((prelude, "<cdef_prelude>"), (cdecl, "<cdecl>")):
        if not text.strip():
            continue
        try:
            ffi.cdef(text)
        except (cffi.CDefError, cffi.FFIError) as exc:
            raise _located(exc, text, name) from None


def _located(exc: Exception, text: str, name: str) -> Exception:
    msg = str(exc).strip()
    lines = text.splitlines() or [""]
    m = _POS.search(msg)
    if m:
        line, col = int(m.group(1)), int(m.group(2))
    elif "end of input" in msg:
        line, col = len(lines), len(lines[-1]) + 1
    else:
        line, col = 1, 1
    snippet = lines[line - 1] if 0 < line <= len(lines) else None
    loc = Location(name, line, col, snippet)
    first = msg.splitlines()[0] if msg else type(exc).__name__
    return error("ffi.signature.invalid", f"cannot read the C declaration: {first}", location=loc)


# --- type model -> C ----------------------------------------------------------------------

PRIMITIVE_C = {
    t.BOOL: "_Bool", t.S8: "int8_t", t.U8: "uint8_t", t.S16: "int16_t", t.U16: "uint16_t",
    t.S32: "int32_t", t.U32: "uint32_t", t.S64: "int64_t", t.U64: "uint64_t",
    t.F32: "float", t.F64: "double", t.CHAR: "uint32_t", t.STRING: "char *",
}


def c_identifier(name: str) -> str:
    """A WIT-style name as a C identifier (`point-3d` -> `point_3d`)."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if not ident[:1].isdigit() else "_" + ident


def c_declaration(func: t.Function, symbol: str | None = None) -> tuple[str, str]:
    """(prelude, declaration) for calling `func` directly as C: primitives as the C
    fixed-width types, `string` as `char *`, records of those as structs by value.
    Anything else raises `ffi.signature.unsupported` (use the canonical-native path)."""
    structs: dict[str, str] = {}

    def spell(typ: t.Type, where: str) -> str:
        typ = t.unalias(typ)
        if isinstance(typ, t.PrimitiveType) and typ in PRIMITIVE_C:
            return PRIMITIVE_C[typ]
        if isinstance(typ, t.RecordType):
            cname = c_identifier(typ.name)
            if cname not in structs:
                if not typ.fields or any(t.unalias(f.type) in (t.STRING, t.CHAR) for f in typ.fields):
                    raise _unsupported(func, where, typ)
                fields = "".join(f" {spell(f.type, where)} {c_identifier(f.name)};" for f in typ.fields)
                structs[cname] = f"typedef struct {cname} {{{fields} }} {cname};"
            return cname
        raise _unsupported(func, where, typ)

    params = ", ".join(f"{spell(p.type, 'parameter ' + p.name)} {c_identifier(p.name)}"
                       for p in func.params) or "void"
    result = "void" if func.result is None else spell(func.result, "result")
    name = symbol or c_identifier(func.name)
    return "\n".join(structs.values()), f"{result} {name}({params});"


def _unsupported(func: t.Function, where: str, typ: t.Type) -> Exception:
    return error("ffi.signature.unsupported",
                 f"{func.qualified_name}: {where} of type {typ.wit()} cannot be passed to C directly "
                 "(call it through the canonical-native path)", function=func.qualified_name, type=typ.wit())
