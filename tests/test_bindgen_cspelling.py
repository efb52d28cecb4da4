"""CModel.c_spelling is what cffi's cdef and the layout probe read: any C type printed as a
declaration must parse back (pycparser, through the extractor) to the same type."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from reml_wasm.bindgen.cmodel import Array, CModel, CParam, FuncType, Pointer, Prim, TagRef, TypedefRef
from reml_wasm.bindgen.extract import Extractor, parse
from reml_wasm.bindgen.preprocess import PreprocessedUnit

PRELUDE = "typedef unsigned long size_t;\ntypedef struct opaque opaque_t;\nstruct S;\nunion U;\n"
QUALS = st.frozensets(st.sampled_from(["const", "volatile"]), max_size=2)
QUALS_PTR = st.frozensets(st.sampled_from(["const", "volatile", "restrict"]), max_size=2)

bases = st.one_of(
    st.builds(Prim, st.sampled_from(["char", "signed char", "unsigned char", "short", "unsigned short",
                                     "int", "unsigned int", "long", "unsigned long", "long long",
                                     "unsigned long long", "float", "double", "_Bool"]), QUALS),
    st.builds(TypedefRef, st.sampled_from(["size_t", "opaque_t"]), QUALS),
    st.builds(TagRef, st.just("struct"), st.just("S"), QUALS),
    st.builds(TagRef, st.just("union"), st.just("U"), QUALS),
)


def _value_types(inner):
    """Types a value can have: pointers to anything, arrays of values, function pointers."""
    pointee = st.one_of(inner, st.builds(Prim, st.just("void"), QUALS), functions(inner))
    return st.one_of(
        st.builds(Pointer, pointee, QUALS_PTR),
        st.builds(Array, inner, st.integers(1, 9)),
    )


def functions(inner):
    params = st.lists(st.builds(CParam, st.none(), inner), max_size=3).map(tuple)
    result = st.one_of(inner, st.builds(Prim, st.just("void")))
    return st.builds(FuncType, result, params, st.booleans()).filter(lambda f: f.params or not f.variadic)


types = st.recursive(bases, _value_types, max_leaves=6)


def _no_array_params(t) -> bool:
    """Array parameters decay to pointers when parsed; keep them out of the round trip."""
    if isinstance(t, Pointer):
        return _no_array_params(t.target)
    if isinstance(t, Array):
        return _no_array_params(t.element)
    if isinstance(t, FuncType):
        return all(not isinstance(p.type, Array) and _no_array_params(p.type) for p in t.params) \
            and not isinstance(t.result, Array) and _no_array_params(t.result)
    return True


def _round_trip(t):
    text = PRELUDE + f"typedef {CModel().c_spelling(t, 'T')};\n"
    unit = PreprocessedUnit(text, {}, frozenset())
    ex = Extractor(unit)
    ex.run(parse(unit))
    return ex.model.typedefs["T"].type, text


@settings(max_examples=150, deadline=None)
@given(t=types.filter(_no_array_params))
def test_spelling_parses_back_to_the_same_type(t):
    got, text = _round_trip(t)
    assert got == t, text


def test_known_spellings():
    m = CModel()
    fp = Pointer(FuncType(Prim("int"), (CParam(None, Pointer(Prim("void"))), CParam(None, Prim("int")))))
    assert m.c_spelling(fp) == "int (*)(void *, int)"
    assert m.c_spelling(Pointer(Prim("char", frozenset({"const"})), frozenset({"const"})), "p") == \
        "const char *const p"
    assert m.c_spelling(Pointer(Array(Prim("int"), 4)), "a") == "int (*a)[4]"
    assert m.c_spelling(Array(Pointer(Prim("double")), 2), "v") == "double *v[2]"
    variadic = FuncType(Prim("int"), (CParam("fmt", Pointer(Prim("char", frozenset({"const"})))),), True)
    assert m.c_spelling(variadic, "printf") == "int printf(const char *fmt, ...)"
