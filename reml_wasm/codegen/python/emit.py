"""Emit one Python module per scope (an exported interface, or the world's own exports).

Each named WIT type becomes a class in the module of the interface that defines it
(others import it): a `@dataclass` per record, an `Enum`, a `Flag`, one `@dataclass` per
variant case with a `Union` alias, a class per resource with its methods, `drop()` and
`with`.  Functions take and return those classes; each call goes through the package's
router (`_runtime.call`) with the function's interface key, and converts between the
classes and the reml value convention on the way.  A function whose result is a `result`
returns the ok value and raises `Err(e)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Callable

from ... import types as t
from .names import const_name, type_name, value_name

_PRIM = {"bool": "bool", "char": "str", "string": "str", "f32": "float", "f64": "float",
         "float32": "float", "float64": "float"}


@dataclass
class Scope:
    """One generated module: its name, the interface key calls use (None: world functions),
    its own type definitions and its functions."""

    module: str
    key: str | None
    types: list[tuple[str, t.Type]]
    functions: list[t.Function]


def same_name_target(ty: t.Type) -> t.Type:
    """An alias that only re-exports a type under its own name (`use i.{r}`) is that type."""
    while isinstance(ty, t.TypeAlias) and getattr(ty.target, "name", None) == ty.name:
        ty = ty.target
    return ty


@dataclass
class Registry:
    """Which module defines the class of each named type, and under which name."""

    owner: dict[t.Type, tuple[str, str]] = field(default_factory=dict)

    def claim(self, ty: t.Type, module: str) -> tuple[str, str]:
        ty = same_name_target(ty)
        if ty not in self.owner:
            used = {n for m, n in self.owner.values() if m == module}
            name = base = type_name(getattr(ty, "name", "t"))
            n = 2
            while name in used:
                name, n = f"{base}{n}", n + 1
            self.owner[ty] = (module, name)
        return self.owner[ty]


class ModuleWriter:
    """Writes one module's text."""

    def __init__(self, scope: Scope, registry: Registry) -> None:
        self.scope = scope
        self.reg = registry
        self.body: list[str] = []
        self.imports: dict[str, set[str]] = {}
        self.done: set[t.Type] = set()
        self._vars = count()

    # --- names of classes ---------------------------------------------------------------

    def ref(self, ty: t.Type) -> str:
        """The class name of a named type, imported or defined here."""
        module, name = self.reg.claim(ty, self.scope.module)
        if module != self.scope.module:
            self.imports.setdefault(module, set()).add(name)
        else:
            self.define(ty)
        return name

    # --- hints --------------------------------------------------------------------------

    def hint(self, ty: t.Type | None) -> str:
        if ty is None:
            return "None"
        if isinstance(ty, t.TypeAlias):
            return self.ref(ty)
        if isinstance(ty, t.PrimitiveType):
            return _PRIM.get(ty.name, "int" if ty.name[0] in "su" else "_t.Any")
        if isinstance(ty, t.ListType):
            if t.unalias(ty.element) == t.PrimitiveType("u8"):
                return "bytes"
            return f"_t.List[{self.hint(ty.element)}]"
        if isinstance(ty, t.MapType):
            return f"_t.Dict[{self.hint(ty.key)}, {self.hint(ty.value)}]"
        if isinstance(ty, t.TupleType):
            return f"_t.Tuple[{', '.join(self.hint(e) for e in ty.elements) or '()'}]"
        if isinstance(ty, t.OptionType):
            inner = self.hint(ty.inner)
            return f"_t.Optional[_rt.Some[{inner}]]" if isinstance(t.unalias(ty.inner), t.OptionType) else f"_t.Optional[{inner}]"
        if isinstance(ty, t.ResultType):
            return f"_rt.Result[{self.hint(ty.ok)}, {self.hint(ty.err)}]"
        if isinstance(ty, (t.OwnType, t.BorrowType)):
            return self.ref(ty.resource)
        if isinstance(ty, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType, t.ResourceType)):
            return self.ref(ty)
        return "_t.Any"

    # --- conversions (expressions) -------------------------------------------------------

    def var(self) -> str:
        return f"v{next(self._vars)}"

    def needs(self, ty: t.Type | None) -> bool:
        ty = None if ty is None else t.unalias(ty)
        if ty is None or isinstance(ty, t.PrimitiveType):
            return False
        if isinstance(ty, t.ListType):
            return self.needs(ty.element)
        if isinstance(ty, t.MapType):
            return self.needs(ty.key) or self.needs(ty.value)
        if isinstance(ty, t.TupleType):
            return any(self.needs(e) for e in ty.elements)
        if isinstance(ty, t.OptionType):
            return self.needs(ty.inner) or isinstance(t.unalias(ty.inner), t.OptionType)
        if isinstance(ty, (t.StreamType, t.FutureType)):
            return False
        return True

    def convert(self, ty: t.Type | None, expr: str, lower: bool) -> str:
        """Python class value -> reml value (`lower`) or back."""
        if ty is None or not self.needs(ty):
            return expr
        ty = t.unalias(ty)
        if isinstance(ty, t.ListType):
            v = self.var()
            return f"[{self.convert(ty.element, v, lower)} for {v} in {expr}]"
        if isinstance(ty, t.MapType):
            k, v = self.var(), self.var()
            return f"{{{self.convert(ty.key, k, lower)}: {self.convert(ty.value, v, lower)} for {k}, {v} in {expr}.items()}}"
        if isinstance(ty, t.TupleType):
            v = self.var()
            items = "".join(f"{self.convert(e, f'{v}[{i}]', lower)}, " for i, e in enumerate(ty.elements))
            return f"(lambda {v}: ({items}))({expr})"
        if isinstance(ty, t.OptionType):
            v = self.var()
            inner_ty = t.unalias(ty.inner)
            if isinstance(inner_ty, t.OptionType):
                wrap = "_values.Some" if lower else "_rt.Some"
                inner = f"{wrap}({self.convert(ty.inner, f'{v}.value', lower)})"
            else:
                inner = self.convert(ty.inner, v, lower)
            return f"_rt.{'lower' if lower else 'lift'}_option({expr}, lambda {v}: {inner})"
        if isinstance(ty, t.ResultType):
            a, b = self.var(), self.var()
            return (f"_rt.{'lower' if lower else 'lift'}_result({expr}, lambda {a}: {self.convert(ty.ok, a, lower)}, "
                    f"lambda {b}: {self.convert(ty.err, b, lower)})")
        if isinstance(ty, t.OwnType):
            cls = self.ref(ty.resource)
            return f"{expr}._take()" if lower else f"{cls}._own({expr})"
        if isinstance(ty, t.BorrowType):
            cls = self.ref(ty.resource)
            return f"{expr}._borrow()" if lower else f"{cls}._own({expr})"
        if isinstance(ty, t.EnumType):
            cls = self.ref(ty)
            return f"{expr}.value" if lower else f"{cls}({expr})"
        name = self.ref(ty)
        return f"_{'lower' if lower else 'lift'}_{name}({expr})"

    # --- definitions --------------------------------------------------------------------

    def define(self, ty: t.Type) -> None:
        ty = same_name_target(ty)
        if ty in self.done:
            return
        self.done.add(ty)
        _, name = self.reg.claim(ty, self.scope.module)
        emit: Callable[[str, t.Type], list[str]] = {
            t.RecordType: self._record, t.VariantType: self._variant, t.EnumType: self._enum,
            t.FlagsType: self._flags, t.ResourceType: self._resource, t.TypeAlias: self._alias,
        }[type(ty)]  # type: ignore[assignment]
        self.body.append("\n".join(emit(name, ty)))

    def _doc(self, docs: str | None, indent: str = "    ") -> list[str]:
        if not docs:
            return []
        text = " ".join(docs.split()).replace("\\", "\\\\").replace('"', '\\"')
        return [f'{indent}"""{text}"""']

    def _alias(self, name: str, ty: t.TypeAlias) -> list[str]:
        return [f'{name}: _t.TypeAlias = "{self.hint(ty.target)}"']

    def _record(self, name: str, ty: t.RecordType) -> list[str]:
        out = ["@_dc.dataclass", f"class {name}:"] + self._doc(ty.docs)
        out += [f"    {value_name(f.name)}: {self.hint(f.type)}" for f in ty.fields] or ["    pass"]
        fields = ", ".join(f'"{f.name}": {self.convert(f.type, "v." + value_name(f.name), True)}' for f in ty.fields)
        lifted = ", ".join(f'{value_name(f.name)}={self.convert(f.type, f"_values.record_field(v, {f.name!r})", False)}'
                           for f in ty.fields)
        out += ["", "", f"def _lower_{name}(v: {name}) -> _t.Any:", f"    return _values.Record(**{{{fields}}})", "", "",
                f"def _lift_{name}(v: _t.Any) -> {name}:", f"    return {name}({lifted})"]
        return out

    def _variant(self, name: str, ty: t.VariantType) -> list[str]:
        out: list[str] = []
        classes = []
        lower = [f"def _lower_{name}(v: {name}) -> _t.Any:"]
        lift = [f"def _lift_{name}(v: _t.Any) -> {name}:", "    tag = v.tag"]
        for case in ty.cases:
            cls = f"{name}_{type_name(case.name)}"  # componentize-py's spelling: Shape_Circle
            classes.append(cls)
            out += ["@_dc.dataclass", f"class {cls}:"] + self._doc(case.docs)
            if case.type is None:
                out += ["    pass", "", ""]
                lower.append(f"    if isinstance(v, {cls}):\n        return _values.Variant({case.name!r})")
                lift.append(f"    if tag == {case.name!r}:\n        return {cls}()")
            else:
                out += [f"    value: {self.hint(case.type)}", "", ""]
                lower.append(f"    if isinstance(v, {cls}):\n        return _values.Variant({case.name!r}, "
                             f"{self.convert(case.type, 'v.value', True)})")
                lift.append(f"    if tag == {case.name!r}:\n        return {cls}({self.convert(case.type, 'v.value', False)})")
        lower.append(f'    raise TypeError(f"expected a case of {name}, got {{type(v).__name__}}")')
        lift.append(f'    raise ValueError(f"unknown case {{tag!r}} of {name}")')
        union = f"_t.Union[{', '.join(classes)}]" if len(classes) > 1 else (classes[0] if classes else "None")
        out += [f'{name}: _t.TypeAlias = "{union}"'] + self._doc(ty.docs, "") + ["", ""]
        return out + lower + ["", ""] + lift

    def _enum(self, name: str, ty: t.EnumType) -> list[str]:
        out = [f"class {name}(_enum.Enum):"] + self._doc(ty.docs)
        out += [f"    {const_name(c)} = {c!r}" for c in ty.cases] or ["    pass"]
        return out

    def _flags(self, name: str, ty: t.FlagsType) -> list[str]:
        out = [f"class {name}(_enum.Flag):"] + self._doc(ty.docs)
        out += [f"    {const_name(c)} = {1 << i}" for i, c in enumerate(ty.labels)] or ["    pass"]
        labels = ", ".join(f"({name}.{const_name(c)}, {c!r})" for c in ty.labels)
        out += ["", "", f"_{name}_LABELS: _t.Tuple[_t.Tuple[{name}, str], ...] = ({labels}{',' if len(ty.labels) == 1 else ''})",
                "", "", f"def _lower_{name}(v: {name}) -> _t.Any:",
                f"    return frozenset(label for flag, label in _{name}_LABELS if flag in v)", "", "",
                f"def _lift_{name}(v: _t.Any) -> {name}:", f"    out = {name}(0)",
                f"    for flag, label in _{name}_LABELS:", "        if label in v:", "            out |= flag",
                "    return out"]
        return out

    def _resource(self, name: str, ty: t.ResourceType) -> list[str]:
        owner = ty.owner if ty.owner and "/" in ty.owner else self.scope.key
        prefix = f"{owner}#" if owner else ""
        out = [f"class {name}:"] + self._doc(ty.docs or f"A handle of resource `{ty.name}`; drop it with "
                                             "`drop()` or a `with` block.")
        out += ["    _handle: _t.Any", ""]
        if ty.constructor is not None:
            out += self._function(ty.constructor, prefix, method="constructor", cls=name)
        out += ["    @classmethod", f"    def _own(cls, handle: _t.Any) -> \"{name}\":",
                "        obj = cls.__new__(cls)", "        obj._handle = handle", "        return obj", "",
                "    def _borrow(self) -> _t.Any:", "        if self._handle is None:",
                f'            raise ValueError("this {ty.name} was dropped or moved")', "        return self._handle", "",
                "    def _take(self) -> _t.Any:", "        handle = self._borrow()", "        self._handle = None",
                "        return handle", "",
                "    def drop(self) -> None:", '        """Drop the resource (its destructor runs); later calls do nothing."""',
                "        if self._handle is not None:", "            handle, self._handle = self._handle, None",
                f'            _rt.call("{prefix}[resource-drop]{ty.name}", handle)', "",
                f"    def __enter__(self) -> \"{name}\":", "        return self", "",
                "    def __exit__(self, *exc: object) -> None:", "        self.drop()", ""]
        for m in ty.methods:
            out += self._function(m, prefix, method="method", cls=name)
        for s in ty.statics:
            out += ["    @staticmethod"] + self._function(s, prefix, method="static", cls=name)
        return out

    # --- functions ----------------------------------------------------------------------

    def function(self, func: t.Function) -> None:
        prefix = f"{self.scope.key}#" if self.scope.key else ""
        self.body.append("\n".join(line[4:] if line.startswith("    ") else line
                                   for line in self._function(func, prefix, method=None, cls=None)))

    def _function(self, func: t.Function, prefix: str, *, method: str | None, cls: str | None) -> list[str]:
        key = prefix + func.qualified_name
        params = list(func.params)
        args = []
        if method == "method":
            params = params[1:]
            args.append("self._borrow()")
        sig = ", ".join(f"{value_name(p.name)}: {self.hint(p.type)}" for p in params)
        args += [self.convert(p.type, value_name(p.name), True) for p in params]
        call = f'_rt.call("{key}"{"".join(", " + a for a in args)})'
        docs = self._doc(func.docs, "        ")
        if method == "constructor":
            head = f"    def __init__(self{', ' + sig if sig else ''}) -> None:"
            return [head] + docs + [f"        self._handle = {call}", ""]
        self_part = "self, " if method == "method" else ""
        result = func.result
        top_result = t.unalias(result) if result is not None else None
        if isinstance(top_result, t.ResultType):
            ret_hint = self.hint(top_result.ok)
            body = [f"        raw = {call}", "        if isinstance(raw, _values.Err):",
                    f"            raise _rt.Err({self.convert(top_result.err, 'raw.value', False)})",
                    f"        out: {ret_hint} = {self.convert(top_result.ok, 'raw.value', False)}", "        return out"]
        elif result is None:
            ret_hint = "None"
            body = [f"        {call}"]
        else:
            ret_hint = self.hint(result)
            body = [f"        out: {ret_hint} = {self.convert(result, call, False)}", "        return out"]
        name = value_name(func.name)
        return [f"    def {name}({self_part}{sig}".rstrip(", ") + f") -> {ret_hint}:"] + docs + body + [""]

    # --- the module ---------------------------------------------------------------------

    def render(self) -> str:
        for _, ty in self.scope.types:
            if isinstance(t.unalias(ty) if not isinstance(ty, t.TypeAlias) else ty,
                          (t.RecordType, t.VariantType, t.EnumType, t.FlagsType, t.ResourceType, t.TypeAlias)):
                if self.reg.claim(ty, self.scope.module)[0] == self.scope.module:
                    self.define(ty)
        for func in self.scope.functions:
            self.function(func)
        head = [f'"""Typed bindings of {self.scope.key or "the world"} (generated by reml-wasm gen python)."""', "",
                "from __future__ import annotations", "", "import dataclasses as _dc", "import enum as _enum",
                "import typing as _t", "", "from reml_wasm import values as _values", "",
                "from . import _runtime as _rt"]
        for module, names in sorted(self.imports.items()):
            head.append(f"from .{module} import {', '.join(sorted(names))}")
        return "\n".join(head) + "\n\n\n" + "\n\n\n".join(self.body) + "\n"
