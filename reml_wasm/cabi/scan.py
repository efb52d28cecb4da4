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
from typing import Any, Callable, Sequence

__all__ = ["has_bool", "has_bool_python", "list_bool_scan", "C_SCAN_FROM"]

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

static PyMethodDef reml_scan_methods[] = {
    {"has_bool", reml_scan_has_bool, METH_O, "whether a list or tuple holds a bool (None: not one)"},
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
_tried = False


def has_bool_python(values: Any) -> bool:
    """The Python pass: whether any item of `values` is a bool."""
    return bool in {*map(type, values)}


def _load() -> Callable[[Any], Any] | None:
    """The C scan, built (or found in the cache) on first use; None without a compiler."""
    global _c_scan, _tried
    with _lock:
        if not _tried:
            _tried = True
            try:
                from ..cffi_api import build_api_module
                module: Any = build_api_module(_CDEF, _SOURCE, None, limited_api=False)
                if module.lib.reml_scan_install() == 0:
                    _c_scan = sys.modules["_reml_scan"].has_bool
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
