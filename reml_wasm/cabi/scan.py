"""`has_bool(values)`: whether a sequence of numbers holds a `bool` (the value convention
refuses `True` as 1 in number lists, while `array` and `struct` take it).

A pass in Python costs more than copying the numbers, so long lists are scanned in C
when a compiler is present: a small extension function (a CPython `METH_O` function
reading the list's or tuple's items in place with the GIL held, so no other thread
changes the list meanwhile) compiled once, against the full C API, through
`reml_wasm.cffi_api` and kept in the cache; short lists, other sequences, and hosts
without a compiler use the Python pass.  Both answer the same.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, NamedTuple, Sequence

__all__ = ["has_bool", "has_bool_python", "list_bool_scan", "int_bulk", "IntBulk", "C_SCAN_FROM"]

C_SCAN_FROM = 8  # lists at least this long are scanned in C (when it is available)

_CDEF = "int reml_scan_install(void);"
_SOURCE = r"""
/* has_bool(seq) -> True / False for a list or tuple, None for anything else.  Built
   against the full C API, the items are read in place; against the limited API (no
   direct item access), one call per item. */
static PyObject *reml_scan_has_bool(PyObject *self, PyObject *seq) {
    Py_ssize_t i, n;
    int list = PyList_CheckExact(seq);
    (void)self;
    if (!list && !PyTuple_CheckExact(seq))
        Py_RETURN_NONE;
#ifndef Py_LIMITED_API
    {
        PyObject **items = PySequence_Fast_ITEMS(seq);
        n = PySequence_Fast_GET_SIZE(seq);
        for (i = 0; i < n; i++)
            if (PyBool_Check(items[i]))
                Py_RETURN_TRUE;
    }
#else
    n = list ? PyList_Size(seq) : PyTuple_Size(seq);
    for (i = 0; i < n; i++) {
        PyObject *item = list ? PyList_GetItem(seq, i) : PyTuple_GetItem(seq, i);
        if (item == NULL) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        if (PyBool_Check(item))
            Py_RETURN_TRUE;
    }
#endif
    Py_RETURN_FALSE;
}

/* (not on free-threaded builds, whose lists keep their items differently) */
#if !defined(Py_LIMITED_API) && !defined(Py_GIL_DISABLED)
#define REML_INT_BULK 1
/* The integer element codes (array typecodes): size, signedness, range. */
static int reml_int_code(const char *code, Py_ssize_t *size, int *is_signed, long long *lo,
                         unsigned long long *hi) {
    if (code[0] == 0 || code[1] != 0)
        return -1;
    switch (code[0]) {
    case 'b': *size = 1; *is_signed = 1; *lo = INT8_MIN;  *hi = INT8_MAX;   return 0;
    case 'B': *size = 1; *is_signed = 0; *lo = 0;         *hi = UINT8_MAX;  return 0;
    case 'h': *size = 2; *is_signed = 1; *lo = INT16_MIN; *hi = INT16_MAX;  return 0;
    case 'H': *size = 2; *is_signed = 0; *lo = 0;         *hi = UINT16_MAX; return 0;
    case 'i': *size = 4; *is_signed = 1; *lo = INT32_MIN; *hi = INT32_MAX;  return 0;
    case 'I': *size = 4; *is_signed = 0; *lo = 0;         *hi = UINT32_MAX; return 0;
    case 'q': *size = 8; *is_signed = 1; *lo = INT64_MIN; *hi = INT64_MAX;  return 0;
    case 'Q': *size = 8; *is_signed = 0; *lo = 0;         *hi = UINT64_MAX; return 0;
    }
    return -1;
}

/* pack_ints(list, code) -> bytes: the items of an exact list, every one an exact int
   (never a bool) in the range of `code`, as native-order integers of its size; None
   when an item is anything else (the caller's slower path then packs or refuses it). */
static PyObject *reml_pack_ints(PyObject *self, PyObject *args) {
    PyObject *seq, *out, **items;
    const char *code;
    Py_ssize_t size, i, n;
    int is_signed;
    long long lo;
    unsigned long long hi;
    char *p;
    (void)self;
    if (!PyArg_ParseTuple(args, "Os", &seq, &code))
        return NULL;
    if (reml_int_code(code, &size, &is_signed, &lo, &hi) < 0) {
        PyErr_SetString(PyExc_ValueError, "not an integer element code");
        return NULL;
    }
    if (!PyList_CheckExact(seq))
        Py_RETURN_NONE;
    n = PyList_GET_SIZE(seq);
    if (n > PY_SSIZE_T_MAX / size)
        Py_RETURN_NONE;
    out = PyBytes_FromStringAndSize(NULL, n * size);
    if (out == NULL)
        return NULL;
    p = PyBytes_AS_STRING(out);
    items = ((PyListObject *)seq)->ob_item;
    /* one loop per element size: read the int, check its range, store it */
#define REML_PACK_LOOP(T)                                                          \
    for (i = 0; i < n; i++) {                                                      \
        PyObject *x = items[i];                                                    \
        int overflow;                                                              \
        long long v;                                                               \
        unsigned long long u;                                                      \
        T w;                                                                       \
        if (!PyLong_CheckExact(x))                                                 \
            goto refuse;                                                           \
        v = PyLong_AsLongLongAndOverflow(x, &overflow);                            \
        if (overflow == 0) {                                                       \
            if (v < lo || (v >= 0 && (unsigned long long)v > hi))                  \
                goto refuse;                                                       \
            u = (unsigned long long)v;                                             \
        } else if (overflow > 0 && !is_signed && size == 8) {                      \
            u = PyLong_AsUnsignedLongLong(x);                                      \
            if (u == (unsigned long long)-1 && PyErr_Occurred())                   \
                goto refuse;                                                       \
        } else {                                                                   \
            goto refuse;                                                           \
        }                                                                          \
        w = (T)u;                                                                  \
        memcpy(p + sizeof(T) * i, &w, sizeof(T));                                  \
    }
    switch (size) {
    case 1: REML_PACK_LOOP(uint8_t) break;
    case 2: REML_PACK_LOOP(uint16_t) break;
    case 4: REML_PACK_LOOP(uint32_t) break;
    default: REML_PACK_LOOP(uint64_t) break;
    }
#undef REML_PACK_LOOP
    return out;
refuse:
    PyErr_Clear();
    Py_DECREF(out);
    Py_RETURN_NONE;
}

/* fill_ints(out, buffer, code): `out`, a new empty list (or list subclass instance) that
   holds no storage yet, receives the native-order integers `code` of the contiguous
   buffer, as ints. */
static PyObject *reml_fill_ints(PyObject *self, PyObject *args) {
    PyObject *out, *buf, **items;
    const char *code;
    Py_buffer view;
    Py_ssize_t size, i, n;
    int is_signed;
    long long lo;
    unsigned long long hi;
    const char *p;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOs", &out, &buf, &code))
        return NULL;
    if (reml_int_code(code, &size, &is_signed, &lo, &hi) < 0) {
        PyErr_SetString(PyExc_ValueError, "not an integer element code");
        return NULL;
    }
    if (!PyList_Check(out) || Py_SIZE(out) != 0 || ((PyListObject *)out)->ob_item != NULL) {
        PyErr_SetString(PyExc_TypeError, "fill_ints needs a new empty list");
        return NULL;
    }
    if (PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (view.len % size) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "bytes length not a multiple of item size");
        return NULL;
    }
    n = view.len / size;
    if (n == 0) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    items = PyMem_New(PyObject *, n);
    if (items == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    p = (const char *)view.buf;
    for (i = 0; i < n; i++) {
        PyObject *x;
        switch (size) {
        case 1: x = is_signed ? PyLong_FromLong(((const int8_t *)p)[i]) : PyLong_FromLong(((const uint8_t *)p)[i]); break;
        case 2: { uint16_t w; memcpy(&w, p + 2 * i, 2);
                  x = is_signed ? PyLong_FromLong((int16_t)w) : PyLong_FromLong(w); break; }
        case 4: { uint32_t w; memcpy(&w, p + 4 * i, 4);
                  x = is_signed ? PyLong_FromLong((int32_t)w) : PyLong_FromUnsignedLong(w); break; }
        default: { uint64_t w; memcpy(&w, p + 8 * i, 8);
                   x = is_signed ? PyLong_FromLongLong((int64_t)w) : PyLong_FromUnsignedLongLong(w); break; }
        }
        if (x == NULL) {
            while (i > 0)
                Py_DECREF(items[--i]);
            PyMem_Free(items);
            PyBuffer_Release(&view);
            return NULL;
        }
        items[i] = x;
    }
    PyBuffer_Release(&view);
    ((PyListObject *)out)->ob_item = items;
    ((PyListObject *)out)->allocated = n;
    Py_SET_SIZE(out, n);
    Py_RETURN_NONE;
}
#endif

static PyMethodDef reml_scan_methods[] = {
    {"has_bool", reml_scan_has_bool, METH_O, "whether a list or tuple holds a bool (None: not one)"},
#ifdef REML_INT_BULK
    {"pack_ints", reml_pack_ints, METH_VARARGS, "an exact list of exact ints in range as native bytes (None: not one)"},
    {"fill_ints", reml_fill_ints, METH_VARARGS, "fill a new empty list with the ints of a buffer"},
#endif
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef reml_scan_module = {PyModuleDef_HEAD_INIT, "_reml_scan", NULL, -1, reml_scan_methods};

/* Puts the module `_reml_scan` into sys.modules; 0 on success. */
static int reml_scan_install(void) {
    int rc = -1;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *mod = PyModule_Create(&reml_scan_module);
    if (mod != NULL) {
        rc = PyDict_SetItemString(PyImport_GetModuleDict(), "_reml_scan", mod);
        Py_DECREF(mod);
    }
    if (rc != 0)
        PyErr_Clear();
    PyGILState_Release(gil);
    return rc;
}
"""

_lock = threading.Lock()
_c_scan: Callable[[Any], Any] | None = None
_c_ints: "IntBulk | None" = None
_tried = False


class IntBulk(NamedTuple):
    """The C conversions between lists of integers and native-order bytes (typecodes of
    `array`: b B h H i I q Q)."""
    pack: Callable[[Any, str], bytes | None]
    """`pack(value, code)`: the bytes of an exact list of exact ints, all in range; None for
    anything else (a bool, an int subclass, an int out of range, another type)."""
    fill: Callable[[list[Any], Any, str], None]
    """`fill(out, buffer, code)`: puts the integers of a contiguous buffer into `out`, a
    list (or list subclass instance) just made and never filled."""


def has_bool_python(values: Any) -> bool:
    """The Python pass: whether any item of `values` is a bool."""
    return bool in {*map(type, values)}


def _load() -> Callable[[Any], Any] | None:
    """The C scan, built (or found in the cache) on first use; None without a compiler."""
    global _c_scan, _c_ints, _tried
    with _lock:
        if not _tried:
            _tried = True
            try:
                from ..cffi_api import build_api_module
                module: Any = build_api_module(_CDEF, _SOURCE, None, limited_api=False)
                if module.lib.reml_scan_install() == 0:
                    c_module = sys.modules["_reml_scan"]
                    _c_scan = c_module.has_bool
                    if hasattr(c_module, "pack_ints"):
                        _c_ints = IntBulk(c_module.pack_ints, c_module.fill_ints)
            except Exception:  # noqa: BLE001 - an optimisation: the Python pass serves without it
                _c_scan = None
        return _c_scan


def has_bool(values: Sequence[Any]) -> bool:
    """Whether any item of `values` is a bool (in C for long lists and tuples)."""
    if len(values) >= C_SCAN_FROM:
        scan = _c_scan if _tried else _load()
        if scan is not None:
            found = scan(values)
            if found is not None:
                return bool(found)
    return has_bool_python(values)


def list_bool_scan() -> Callable[[list[Any]], Any]:
    """A function answering whether a plain `list` holds a bool, whatever its length: the
    C scan when a compiler is present (truthy when it does), else the Python pass.  For
    generated code that has already checked the value is exactly a list."""
    scan = _c_scan if _tried else _load()
    return scan if scan is not None else has_bool_python


def int_bulk() -> IntBulk | None:
    """The C conversions of integer lists (built with the scan), or None without a
    compiler: callers then use `array` and `struct`."""
    if not _tried:
        _load()
    return _c_ints
