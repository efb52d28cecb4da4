"""Hypothesis strategies for the type model and the value convention, reused by every
test suite of reml_wasm.

    types(...)          random `reml_wasm.types` Type trees of bounded depth
                        (`wide=True`: enums up to 300 cases, flags up to 32 labels)
    values_of(typ)      values of a type under the convention of reml_wasm/values.py
    typed_values(...)   (type, value) pairs
    functions(...)      random freestanding `Function`s
    wit_identifiers()   valid WIT identifiers, WIT and WAVE keywords included
    values_equal(a, b)  structural equality with NaN == NaN (and -0.0 != 0.0)
    same_value(a, b)    the same, loose as the Canonical ABI delivers values (any sequence
                        kind, NumberList included; -0.0 == 0.0)
    definitions(typ)    the named definitions a type refers to, dependencies first
    wit_package_text()  a WIT package defining types and functions (for wasm-tools oracles)

Every named definition inside one drawn type has its own name (WIT compares names without
regard to case, so do these strategies), so the WIT text of a drawn type is valid WIT.  Example:

    @given(st.data())
    def test_round_trip(data):
        typ = data.draw(types())
        value = data.draw(values_of(typ))
        assert values_equal(parse_value(print_value(value, typ), typ), value)
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Iterator

from hypothesis import strategies as st

from reml_wasm import types as t
from reml_wasm.values import Err, Ok, Record, Some, Variant, nests_option

__all__ = ["types", "values_of", "typed_values", "functions", "wit_identifiers", "values_equal", "same_value",
           "definitions", "wit_package_text", "SCALARS", "MAP_KEYS"]

SCALARS: tuple[t.PrimitiveType, ...] = (t.BOOL, t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64,
                                         t.F32, t.F64, t.CHAR, t.STRING)
# WIT restricts map keys to these.
MAP_KEYS: tuple[t.PrimitiveType, ...] = (t.BOOL, t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64,
                                         t.CHAR, t.STRING)

# Names that need escaping somewhere: WIT keywords (`%record` in WIT) and WAVE keywords
# (`%none` as a WAVE case label).
_AWKWARD_NAMES = ("record", "type", "list", "string", "flags", "enum", "variant", "result", "option",
                  "use", "func", "map", "own", "borrow", "stream", "future", "error-context", "async",
                  "static", "u8", "f64", "char", "tuple", "resource", "with", "from",
                  "none", "some", "ok", "err", "true", "false", "inf", "nan")

_LOWER, _UPPER, _DIGITS = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
_lower_word = st.builds(str.__add__, st.sampled_from(_LOWER), st.text(_LOWER + _DIGITS, max_size=4))
_upper_word = st.builds(str.__add__, st.sampled_from(_UPPER), st.text(_UPPER + _DIGITS, max_size=3))


def wit_identifiers() -> st.SearchStrategy[str]:
    """Kebab-case WIT identifiers (`a`, `two-words`, `HTTP3`, `method-GET`), sometimes a
    keyword (`record`, `none`, …) so escaping gets exercised."""
    word = st.one_of(_lower_word, _lower_word, _upper_word)
    plain = st.lists(word, min_size=1, max_size=3).map("-".join)
    return st.one_of(plain, plain, plain, st.sampled_from(_AWKWARD_NAMES))


def _unique_names(draw: Callable[[Any], Any], n_min: int, n_max: int) -> list[str]:
    # WIT compares names case-insensitively: `a` and `A` conflict.
    return draw(st.lists(wit_identifiers(), min_size=n_min, max_size=n_max, unique_by=str.lower))


_KINDS = ("scalar", "list", "option", "result", "tuple", "record", "variant", "enum", "flags",
          "fixed-list", "map", "alias", "reuse", "handle", "async")


class _TypeDrawer:
    """Draws type trees whose named definitions all have distinct names (shared by every
    tree drawn with one drawer, so a function's parameters can refer to each other's
    definitions and still make valid WIT)."""

    def __init__(self, draw: Callable[[Any], Any], max_depth: int, max_nodes: int, *, resources: bool,
                 maps: bool, fixed_lists: bool, async_types: bool, wide: bool = False) -> None:
        self.draw = draw
        self.wide = wide
        self.max_depth, self.max_nodes = max_depth, max_nodes
        self.used: set[str] = set()  # lower-cased: WIT names conflict regardless of case
        self.defined: list[t.Type] = []
        self.kinds = [k for k in _KINDS
                      if (k != "map" or maps) and (k != "fixed-list" or fixed_lists)
                      and (k != "handle" or resources) and (k != "async" or async_types)]
        self.budget = 0

    def tree(self) -> t.Type:
        self.budget = self.draw(st.integers(0, self.max_nodes))
        return self.node(self.max_depth)

    def name(self) -> str:
        n = self.draw(wit_identifiers().filter(lambda s: s.lower() not in self.used))
        self.used.add(n.lower())
        return n

    def labels(self, most: int, most_wide: int) -> tuple[str, ...]:
        """Case or flag names; wide draws count up to `most_wide` (discriminant and flags
        widths) with plain names `l0`, `l1`, ..."""
        if self.wide:
            return tuple(f"l{i}" for i in range(self.draw(st.integers(1, most_wide))))
        return tuple(_unique_names(self.draw, 1, most))

    def leaf(self) -> t.Type:
        return self.build(self.draw(st.sampled_from(("scalar", "scalar", "enum", "flags"))), 0)

    def node(self, depth: int) -> t.Type:
        if self.budget <= 0:
            return self.leaf()
        self.budget -= 1
        kinds = self.kinds if self.defined else [k for k in self.kinds if k != "reuse"]
        kind = self.draw(st.sampled_from(kinds))
        if kind == "reuse":
            return self.draw(st.sampled_from(self.defined))
        return self.build(kind, depth)

    def build(self, kind: str, depth: int) -> t.Type:
        draw = self.draw
        sub = (lambda: self.node(depth - 1)) if depth > 0 else self.leaf
        if kind == "scalar":
            return draw(st.sampled_from(SCALARS))
        if kind == "list":
            return t.ListType(sub())
        if kind == "fixed-list":
            return t.ListType(sub(), draw(st.integers(1, 4)))
        if kind == "map":
            return t.MapType(draw(st.sampled_from(MAP_KEYS)), sub())
        if kind == "option":
            return t.OptionType(sub())
        if kind == "result":
            form = draw(st.sampled_from(("both", "ok", "err", "none")))
            return t.ResultType(sub() if form in ("both", "ok") else None,
                                sub() if form in ("both", "err") else None)
        if kind == "tuple":
            return t.TupleType(tuple(sub() for _ in range(draw(st.integers(1, 3)))))
        if kind == "handle":
            resource = t.ResourceType(self.name())
            return draw(st.sampled_from((t.OwnType(resource), t.BorrowType(resource))))
        if kind == "async":
            return draw(st.sampled_from((t.StreamType(sub()), t.FutureType(sub()), t.FutureType(),
                                         t.ERROR_CONTEXT)))
        if kind == "record":
            n = self.name()
            typ: t.Type = t.RecordType(n, tuple(t.Field(f, sub()) for f in _unique_names(draw, 1, 4)))
        elif kind == "variant":
            n = self.name()
            typ = t.VariantType(n, tuple(t.Case(c, sub() if draw(st.booleans()) else None)
                                         for c in _unique_names(draw, 1, 4)))
        elif kind == "enum":
            typ = t.EnumType(self.name(), self.labels(5, 300))
        elif kind == "flags":
            typ = t.FlagsType(self.name(), self.labels(6, 32))
        elif kind == "alias":
            typ = t.TypeAlias(self.name(), sub())
        else:  # pragma: no cover
            raise AssertionError(kind)
        self.defined.append(typ)
        return typ


def async_handles(typ: t.Type) -> st.SearchStrategy[Any]:
    """Host handle objects for a stream, future or error-context type (a `handles=`
    strategy for `values_of`): a fresh small integer rep each."""
    from reml_wasm.cabi import ErrorContextHandle, FutureHandle, StreamHandle

    reps = st.integers(0, 1 << 20)
    if isinstance(typ, t.StreamType):
        return reps.map(lambda r: StreamHandle(typ.element, r))
    if isinstance(typ, t.FutureType):
        return reps.map(lambda r: FutureHandle(typ.element, r))
    if typ == t.ERROR_CONTEXT:
        return reps.map(ErrorContextHandle)
    raise ValueError(f"async_handles: {typ.wit()} is not a stream, future or error-context")


@st.composite
def types(draw: Callable[[Any], Any], max_depth: int = 3, *, max_nodes: int = 8, resources: bool = False,
          maps: bool = True, fixed_lists: bool = True, async_types: bool = False, wide: bool = False) -> t.Type:
    """A random type tree at most `max_depth` constructors deep with at most `max_nodes`
    compound types (so examples stay small).

    Covers every scalar, list<T>, list<T, N> (`fixed_lists`), map<K, V> (`maps`),
    tuples, option<T> (option<option<T>> included), all four result forms, and named
    records, variants, enums, flags and type aliases; a named definition may be referred
    to twice.  `resources` adds own<r>/borrow<r> of fresh resources (no values: see
    `values_of`; WIT allows borrow<r> only in function parameters); `async_types` adds
    stream/future/error-context; `wide` draws enums of up to 300 cases and flags of up to 32
    labels (every discriminant and flags width of the Canonical ABI)."""
    return _TypeDrawer(draw, max_depth, max_nodes, resources=resources, maps=maps, fixed_lists=fixed_lists,
                       async_types=async_types, wide=wide).tree()


def typed_values(**type_options: Any) -> st.SearchStrategy[tuple[t.Type, Any]]:
    """(type, value of that type) pairs; `type_options` go to `types`."""
    return types(**type_options).flatmap(lambda typ: st.tuples(st.just(typ), values_of(typ)))


def values_of(typ: t.Type, *, max_list: int = 4,
              handles: Callable[[t.Type], st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[Any]:
    """Values of `typ` under the convention of reml_wasm/values.py: bytes for list<u8>,
    frozenset for flags, `Record`, `Variant`, `Ok`/`Err`, None or the value for options
    (`Some(v)` only for the outer layers of nested options); floats include NaN and the
    infinities, f32 values are exact f32s.  Handle, stream and future types need a
    `handles(typ)` strategy of handle objects."""
    typ = t.unalias(typ)
    if isinstance(typ, t.PrimitiveType):
        return _scalar_values(typ, handles)
    if isinstance(typ, t.ListType):
        if t.unalias(typ.element) == t.U8:
            n = (0, max_list) if typ.length is None else (typ.length, typ.length)
            return st.binary(min_size=n[0], max_size=n[1])
        elem = values_of(typ.element, max_list=max_list, handles=handles)
        if typ.length is None:
            return st.lists(elem, max_size=max_list)
        return st.lists(elem, min_size=typ.length, max_size=typ.length)
    if isinstance(typ, t.MapType):
        return st.dictionaries(values_of(typ.key, max_list=max_list, handles=handles),
                               values_of(typ.value, max_list=max_list, handles=handles), max_size=3)
    if isinstance(typ, t.TupleType):
        return st.tuples(*(values_of(e, max_list=max_list, handles=handles) for e in typ.elements))
    if isinstance(typ, t.RecordType):
        names = typ.field_names()
        parts = st.tuples(*(values_of(f.type, max_list=max_list, handles=handles) for f in typ.fields))
        return parts.map(lambda vals: Record(**dict(zip(names, vals))))
    if isinstance(typ, t.VariantType):
        return st.one_of(*(
            st.just(Variant(c.name)) if c.type is None
            else values_of(c.type, max_list=max_list, handles=handles).map(lambda v, n=c.name: Variant(n, v))
            for c in typ.cases))
    if isinstance(typ, t.EnumType):
        return st.sampled_from(typ.cases)
    if isinstance(typ, t.FlagsType):
        return st.frozensets(st.sampled_from(typ.labels))
    if isinstance(typ, t.OptionType):
        inner = values_of(typ.inner, max_list=max_list, handles=handles)
        if nests_option(typ):
            inner = inner.map(Some)
        return st.one_of(st.none(), inner)
    if isinstance(typ, t.ResultType):
        ok = st.just(Ok()) if typ.ok is None else values_of(typ.ok, max_list=max_list, handles=handles).map(Ok)
        err = st.just(Err()) if typ.err is None else values_of(typ.err, max_list=max_list, handles=handles).map(Err)
        return st.one_of(ok, err)
    if handles is not None:
        return handles(typ)
    raise ValueError(f"values_of: {typ.wit()} values are handles; pass handles=")


def _scalar_values(typ: t.PrimitiveType, handles: Callable[[t.Type], Any] | None) -> st.SearchStrategy[Any]:
    if typ == t.BOOL:
        return st.booleans()
    if typ in t.INTEGER_RANGES:
        lo, hi = t.INTEGER_RANGES[typ]
        return st.integers(lo, hi)
    if typ == t.F32:
        return st.floats(width=32)
    if typ == t.F64:
        return st.floats()
    scalar = st.characters(exclude_categories=("Cs",))
    if typ == t.CHAR:
        return scalar
    if typ == t.STRING:
        return st.text(scalar, max_size=8)
    if handles is not None:
        return handles(typ)
    raise ValueError(f"values_of: {typ.wit()} values are handles; pass handles=")


@st.composite
def functions(draw: Callable[[Any], Any], max_params: int = 4, max_depth: int = 2, *, max_nodes: int = 4,
              resources: bool = False, maps: bool = True, fixed_lists: bool = True,
              async_types: bool = False) -> t.Function:
    """A freestanding function with up to `max_params` parameters (distinct names) and an
    optional result.  Types are drawn as by `types` with one name space for the whole
    function, so its WIT text (with `definitions` of its types) is valid."""
    drawer = _TypeDrawer(draw, max_depth, max_nodes, resources=resources, maps=maps,
                         fixed_lists=fixed_lists, async_types=async_types)
    params = tuple(t.Param(n, drawer.tree()) for n in _unique_names(draw, 0, max_params))
    result = drawer.tree() if draw(st.booleans()) else None
    name = draw(wit_identifiers().filter(lambda n: n.lower() not in drawer.used))
    return t.Function(name, params, result)


# --- helpers ----------------------------------------------------------------------------

def values_equal(a: Any, b: Any, *, exact: bool = True) -> bool:
    """Structural equality of two convention values; NaN equals NaN.  `exact`: -0.0
    differs from 0.0 and container types must match exactly (a list never equals a tuple);
    otherwise any two sequences (list, tuple, NumberList) compare by their items."""
    if isinstance(a, float) or isinstance(b, float):
        if type(a) is not type(b):
            return False
        if a != a or b != b:
            return a != a and b != b
        return a == b and (not exact or math.copysign(1.0, a) == math.copysign(1.0, b))
    if not exact and _is_sequence(a) and _is_sequence(b):
        a, b = list(a), list(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, Record):
        fa, fb = a.fields(), b.fields()
        return list(fa) == list(fb) and all(values_equal(fa[k], fb[k], exact=exact) for k in fa)
    if isinstance(a, Variant):
        return a.tag == b.tag and values_equal(a.value, b.value, exact=exact)
    if isinstance(a, (Ok, Err, Some)):
        return values_equal(a.value, b.value, exact=exact)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y, exact=exact) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k], exact=exact) for k in a)
    return a == b


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (list, tuple)) or type(x).__name__ == "NumberList"


def same_value(a: Any, b: Any) -> bool:
    """`values_equal(a, b, exact=False)`: values as the Canonical ABI delivers them (a
    lift returns NumberList for lists of numbers, tuples where a list went in)."""
    return values_equal(a, b, exact=False)


def definitions(*roots: t.Type) -> list[t.Type]:
    """Named definitions (records, variants, enums, flags, aliases, resources) reachable
    from `roots`, each once, every definition after the ones it refers to."""
    seen: list[t.Type] = []

    def visit(typ: t.Type) -> None:
        kids: Iterable[t.Type] = typ.children()
        if isinstance(typ, (t.OwnType, t.BorrowType)):
            kids = (typ.resource,)
        for child in kids:
            visit(child)
        if isinstance(typ, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType, t.TypeAlias,
                            t.ResourceType)) and not any(s is typ or s == typ for s in seen):
            seen.append(typ)

    for root in roots:
        visit(root)
    return seen


def _iter_types(funcs: Iterable[t.Function]) -> Iterator[t.Type]:
    for f in funcs:
        yield from f.param_types()
        if f.result is not None:
            yield f.result


def wit_package_text(named: dict[str, t.Type] | None = None, funcs: Iterable[t.Function] = (),
                     package: str = "test:gen", interface: str = "api", world: str = "w") -> str:
    """The WIT text of a package with one interface holding every definition the types and
    functions need, `type NAME = T;` for each entry of `named`, and the functions; and a
    world exporting that interface."""
    named = dict(named or {})
    funcs = tuple(funcs)
    defs = definitions(*named.values(), *_iter_types(funcs))
    lines = [d.definition_wit() for d in defs]  # type: ignore[attr-defined]
    lines += [f"type {t.wit_name(n)} = {typ.wit()};" for n, typ in named.items()]
    lines += [f.wit() + ";" for f in funcs]
    body = "".join("  " + line.replace("\n", "\n  ") + "\n" for line in lines)
    return (f"package {package};\n\ninterface {t.wit_name(interface)} {{\n{body}}}\n\n"
            f"world {t.wit_name(world)} {{\n  export {t.wit_name(interface)};\n}}\n")
