"""The C text of the export-call front (front.py): one generic engine, driven by a type
description, that turns Python arguments into an export's flat values, makes the call and
builds the Python result, all in one CPython call.

The front works in three passes.  *Take* (the GIL held, no Python code runs): every
argument is checked against its type and converted into a tape of plain numbers (string
bytes and packed number lists are kept by reference; a value it is not sure of sends the
whole call to the Python caller, before anything happened).  *Lower and call* (the GIL
released, the store's lock taken): the tape is written into the flat values and guest
memory (the guest's realloc called for every string and list, in the interpreter's order,
each block checked), then the export is called.  *Lift* (the GIL held, the lock still
held): the result is read from the flat values or the spilled area with every bound, case
and encoding checked (anything the interpreter would trap on is left to it), then
post-return runs and the lock is released.  A failure after the lock was taken is handed
to the Python caller's failure handler with its status code, the lock still held.

Node layout (int32 words): kind, size, align, flat width, then per kind:
LIST elem typecode-const (or -1); RECORD n (node offset key-const)*n; TUPLE n (node
offset)*n; VARIANT n disc payload-offset dict-const (node-or--1 name-const)*n; ENUM n
disc names-const dict-const; OPTION -1 node payload-offset nested; RESULT ok err
payload-offset; FLAGS n labels-const dict-const.
"""

from __future__ import annotations

from ...cabi.strings import MAX_LIST_BYTES, MAX_STRING_BYTES
from .glue import BADBLOCK, FAILED, LIFT, POISONED

KINDS = ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char", "string",
         "list", "record", "tuple", "variant", "enum", "option", "result", "flags")
KIND = {name: i for i, name in enumerate(KINDS)}
# the fixed constants every front's tuple starts with, in this order (front.py fills them)
CONSTS = ("record", "fields", "variant", "ok", "err", "some", "numlist", "typecode", "nan", "tag", "value",
          "copied", "zero")

CDEF = "int32_t reml_front_install(void);\n"

# the node kinds, constant slots, status codes and size limits, named in C as in Python
_NAMES = ("enum { " + ", ".join(f"K_{k.upper()}" for k in KINDS) + " };\n"
          + "enum { " + ", ".join(f"C_{c.upper()}" for c in CONSTS) + " };\n"
          + "".join(f"#define F_{name} {value}\n" for name, value in
                    (("POISONED", POISONED), ("FAILED", FAILED), ("LIFT", LIFT), ("BADBLOCK", BADBLOCK),
                     ("MAX_STRING", f"{MAX_STRING_BYTES}LL"), ("MAX_LIST", f"{MAX_LIST_BYTES}LL"))))

SOURCE = r"""
#include <Python.h>
#include <structmember.h>
#include <math.h>
""" + _NAMES + r"""
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;
    reml_export_t *ex;
    int32_t *d;
    PyObject *consts, *fallback, *failed, *meter, *keep;
    int32_t nparams, result, mode, nslots, post;
    int64_t copy_limit, reallocs;
    int32_t params[16];
} front_t;

/* ---- take: Python values -> tape --------------------------------------------------- */
typedef struct {
    uint64_t *v; size_t n, cap;
    PyObject **keep; size_t nkeep, capkeep;
    void **bufs; size_t nbufs, capbufs;
    uint64_t v0[48]; PyObject *keep0[8]; void *bufs0[4];
} tape_t;

static void tape_init(tape_t *t) {
    t->v = t->v0; t->n = 0; t->cap = 48;
    t->keep = t->keep0; t->nkeep = 0; t->capkeep = 8;
    t->bufs = t->bufs0; t->nbufs = 0; t->capbufs = 4;
}
static void tape_free(tape_t *t) {
    for (size_t i = 0; i < t->nkeep; i++) Py_DECREF(t->keep[i]);
    for (size_t i = 0; i < t->nbufs; i++) PyMem_RawFree(t->bufs[i]);
    if (t->v != t->v0) PyMem_RawFree(t->v);
    if (t->keep != t->keep0) PyMem_RawFree(t->keep);
    if (t->bufs != t->bufs0) PyMem_RawFree(t->bufs);
}
static int grow(void **p, size_t *cap, size_t item, void *first) {
    size_t ncap = *cap * 2;
    void *q = PyMem_RawMalloc(ncap * item);
    if (!q) return -1;
    memcpy(q, *p, *cap * item);
    if (*p != first) PyMem_RawFree(*p);
    *p = q; *cap = ncap;
    return 0;
}
static inline int push(tape_t *t, uint64_t x) {
    if (t->n == t->cap && grow((void **)&t->v, &t->cap, sizeof(uint64_t), t->v0)) return -1;
    t->v[t->n++] = x;
    return 0;
}
static int keep(tape_t *t, PyObject *o) {
    if (t->nkeep == t->capkeep && grow((void **)&t->keep, &t->capkeep, sizeof(PyObject *), t->keep0)) return -1;
    Py_INCREF(o);
    t->keep[t->nkeep++] = o;
    return 0;
}
static int own_buf(tape_t *t, void *b) {
    if (t->nbufs == t->capbufs && grow((void **)&t->bufs, &t->capbufs, sizeof(void *), t->bufs0)) return -1;
    t->bufs[t->nbufs++] = b;
    return 0;
}

static const int64_t f_lo[] = {0, -128, 0, -32768, 0, -2147483648LL, 0};
static const int64_t f_hi[] = {1, 127, 255, 32767, 65535, 2147483647LL, 4294967295LL};

/* a scalar's bits (i32 kinds zero-extended, floats as their canonical bits); -1: not sure */
static int scalar_bits(int kind, PyObject *o, uint64_t *out) {
    if (kind == K_BOOL) {
        if (o == Py_True) { *out = 1; return 0; }
        if (o == Py_False) { *out = 0; return 0; }
        return -1;
    }
    if (kind <= K_U64) {
        if (!PyLong_CheckExact(o)) return -1;
        if (kind == K_U64) {
            unsigned long long v = PyLong_AsUnsignedLongLong(o);
            if (v == (unsigned long long)-1 && PyErr_Occurred()) { PyErr_Clear(); return -1; }
            *out = v; return 0;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow || (v == -1 && PyErr_Occurred())) { PyErr_Clear(); return -1; }
        if (kind == K_S64) { *out = (uint64_t)v; return 0; }
        if (v < f_lo[kind - K_BOOL] || v > f_hi[kind - K_BOOL]) return -1;
        *out = (uint64_t)(uint32_t)v; return 0;
    }
    if (kind == K_F32 || kind == K_F64) {
        double x;
        if (PyFloat_CheckExact(o)) x = PyFloat_AS_DOUBLE(o);
        else if (PyLong_CheckExact(o)) {
            x = PyLong_AsDouble(o);
            if (x == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return -1; }
        } else return -1;
        if (kind == K_F64) {
            if (x != x) { *out = 0x7ff8000000000000ULL; return 0; }
            memcpy(out, &x, 8); return 0;
        }
        float f = (float)x;
        if (f != f) { *out = 0x7fc00000U; return 0; }
        if (isinf(f) && !isinf(x)) return -1;
        uint32_t b; memcpy(&b, &f, 4); *out = b; return 0;
    }
    if (kind == K_CHAR) {
        if (!PyUnicode_CheckExact(o) || PyUnicode_GET_LENGTH(o) != 1) return -1;
        Py_UCS4 c = PyUnicode_READ_CHAR(o, 0);
        if (c >= 0xD800 && c < 0xE000) return -1;
        *out = c; return 0;
    }
    return -1;
}

/* an exact int of at most one digit read without a call (0), else 1 (the general path) */
static inline int small_int(PyObject *o, long long *v) {
#if PY_VERSION_HEX < 0x030C0000
    if (!PyLong_CheckExact(o)) return 1;
    Py_ssize_t size = Py_SIZE(o);
    if (size == 0) { *v = 0; return 0; }
    if (size == 1) { *v = (long long)((PyLongObject *)o)->ob_digit[0]; return 0; }
    if (size == -1) { *v = -(long long)((PyLongObject *)o)->ob_digit[0]; return 0; }
#endif
    (void)o; (void)v;
    return 1;
}

static PyObject *attr(PyObject *o, PyObject *name) {  /* a dataclass field (new reference) */
    PyObject *r = PyObject_GenericGetAttr(o, name);
    if (!r) PyErr_Clear();
    return r;
}

static int take(front_t *f, int32_t node, PyObject *o, tape_t *t);

static int take_case(front_t *f, int32_t payload, PyObject *v, uint64_t c, tape_t *t) {
    if (push(t, c)) return -1;
    if (payload < 0) return v == Py_None ? 0 : -1;
    return take(f, payload, v, t);
}

static int take(front_t *f, int32_t node, PyObject *o, tape_t *t) {
    const int32_t *n = f->d + node;
    PyObject *C = f->consts;
    int kind = n[0];
    if (kind <= K_CHAR) {
        uint64_t b;
        if (scalar_bits(kind, o, &b)) return -1;
        return push(t, b);
    }
    switch (kind) {
    case K_STRING: {
        if (!PyUnicode_CheckExact(o)) return -1;
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(o, &len);
        if (!s) { PyErr_Clear(); return -1; }
        if (len > F_MAX_STRING) return -1;
        if (keep(t, o) || push(t, (uint64_t)(uintptr_t)s) || push(t, (uint64_t)len)) return -1;
        return 0;
    }
    case K_LIST: {
        const int32_t *e = f->d + n[4];
        int ekind = e[0];
        int64_t es = e[1];
        if (ekind == K_U8 && PyBytes_CheckExact(o)) {
            Py_ssize_t len = PyBytes_GET_SIZE(o);
            if (len > F_MAX_LIST) return -1;
            if (keep(t, o) || push(t, (uint64_t)(uintptr_t)PyBytes_AS_STRING(o)) || push(t, (uint64_t)len)) return -1;
            return 0;
        }
        if (!PyList_Check(o) && !PyTuple_CheckExact(o)) return -1;
        Py_ssize_t len = PySequence_Fast_GET_SIZE(o);
        PyObject **items = PySequence_Fast_ITEMS(o);
        if ((int64_t)len * es > F_MAX_LIST) return -1;
        if (ekind <= K_CHAR) {  /* packed here: the tape holds the buffer */
            uint8_t *buf = PyMem_RawMalloc(len * es + 1);
            if (!buf || own_buf(t, buf)) { PyMem_RawFree(buf); return -1; }
            Py_ssize_t i = 0;
            if (ekind >= K_S8 && ekind <= K_U32) {  /* small ints read in place, range-checked */
                int64_t lo = f_lo[ekind], hi = f_hi[ekind];
                for (; i < len; i++) {
                    long long v;
                    if (small_int(items[i], &v)) break;
                    if (v < lo || v > hi) return -1;
                    if (es == 4) { uint32_t w = (uint32_t)v; memcpy(buf + i * 4, &w, 4); }
                    else if (es == 2) { uint16_t w = (uint16_t)v; memcpy(buf + i * 2, &w, 2); }
                    else buf[i] = (uint8_t)v;
                }
            }
            for (; i < len; i++) {
                uint64_t b;
                if (scalar_bits(ekind, items[i], &b)) return -1;
                memcpy(buf + i * es, &b, (size_t)es);
            }
            return push(t, (uint64_t)(uintptr_t)buf) || push(t, (uint64_t)len) ? -1 : 0;
        }
        if (push(t, (uint64_t)len)) return -1;
        for (Py_ssize_t i = 0; i < len; i++)
            if (take(f, n[4], items[i], t)) return -1;
        return 0;
    }
    case K_RECORD: {
        if (Py_TYPE(o) != (PyTypeObject *)PyTuple_GET_ITEM(C, C_RECORD)) return -1;
        PyObject *descr = PyTuple_GET_ITEM(C, C_FIELDS);
        PyObject *fields = Py_TYPE(descr)->tp_descr_get(descr, o, (PyObject *)Py_TYPE(o));
        if (!fields) { PyErr_Clear(); return -1; }
        int bad = !PyDict_CheckExact(fields);
        Py_ssize_t pos = 0;
        PyObject *key, *v;
        for (int32_t i = 0; !bad && i < n[4]; i++) {
            PyObject *name = PyTuple_GET_ITEM(C, n[5 + 3 * i + 2]);
            /* fields in definition order with interned names: read in order, else looked up */
            if (!PyDict_Next(fields, &pos, &key, &v) || key != name) {
                pos = PyDict_GET_SIZE(fields) + 1;
                v = PyDict_GetItemWithError(fields, name);
            }
            if (!v) { PyErr_Clear(); bad = 1; break; }
            bad = take(f, n[5 + 3 * i], v, t) != 0;
        }
        Py_DECREF(fields);
        return bad ? -1 : 0;
    }
    case K_TUPLE: {
        if (!PyTuple_CheckExact(o) || PyTuple_GET_SIZE(o) != n[4]) return -1;
        for (int32_t i = 0; i < n[4]; i++)
            if (take(f, n[5 + 2 * i], PyTuple_GET_ITEM(o, i), t)) return -1;
        return 0;
    }
    case K_VARIANT: {
        if (Py_TYPE(o) != (PyTypeObject *)PyTuple_GET_ITEM(C, C_VARIANT)) return -1;
        PyObject *tag = attr(o, PyTuple_GET_ITEM(C, C_TAG));
        if (!tag) return -1;
        long c = -1;
        for (int32_t i = 0; i < n[4]; i++)  /* an interned tag is found by identity */
            if (PyTuple_GET_ITEM(C, n[9 + 2 * i]) == tag) { c = i; break; }
        if (c < 0) {
            PyObject *idx = PyUnicode_CheckExact(tag) ? PyDict_GetItemWithError(PyTuple_GET_ITEM(C, n[7]), tag) : NULL;
            if (!idx) { PyErr_Clear(); Py_DECREF(tag); return -1; }
            c = PyLong_AsLong(idx);
        }
        Py_DECREF(tag);
        PyObject *v = attr(o, PyTuple_GET_ITEM(C, C_VALUE));
        if (!v) return -1;
        int r = take_case(f, n[8 + 2 * c], v, (uint64_t)c, t);
        Py_DECREF(v);
        return r;
    }
    case K_ENUM: {
        if (!PyUnicode_CheckExact(o)) return -1;
        PyObject *idx = PyDict_GetItemWithError(PyTuple_GET_ITEM(C, n[7]), o);
        if (!idx) { PyErr_Clear(); return -1; }
        return push(t, (uint64_t)PyLong_AsLong(idx));
    }
    case K_OPTION: {
        if (o == Py_None) return push(t, 0);
        PyObject *some = PyTuple_GET_ITEM(C, C_SOME);
        if (n[7]) {  /* nested: some(v) is Some(v) */
            if (Py_TYPE(o) != (PyTypeObject *)some) return -1;
            PyObject *v = attr(o, PyTuple_GET_ITEM(C, C_VALUE));
            if (!v) return -1;
            int r = take_case(f, n[5], v, 1, t);
            Py_DECREF(v);
            return r;
        }
        if (Py_TYPE(o) == (PyTypeObject *)some) return -1;
        return take_case(f, n[5], o, 1, t);
    }
    case K_RESULT: {
        PyTypeObject *tp = Py_TYPE(o);
        int c = tp == (PyTypeObject *)PyTuple_GET_ITEM(C, C_OK) ? 0 : tp == (PyTypeObject *)PyTuple_GET_ITEM(C, C_ERR) ? 1 : -1;
        if (c < 0) return -1;
        PyObject *v = attr(o, PyTuple_GET_ITEM(C, C_VALUE));
        if (!v) return -1;
        int r = take_case(f, n[4 + c], v, (uint64_t)c, t);
        Py_DECREF(v);
        return r;
    }
    case K_FLAGS: {
        if (!PyFrozenSet_CheckExact(o)) return -1;
        PyObject *it = PyObject_GetIter(o), *x;
        if (!it) { PyErr_Clear(); return -1; }
        uint64_t bits = 0;
        int bad = 0;
        while (!bad && (x = PyIter_Next(it)) != NULL) {
            PyObject *idx = PyUnicode_CheckExact(x) ? PyDict_GetItemWithError(PyTuple_GET_ITEM(C, n[6]), x) : NULL;
            if (!idx) { PyErr_Clear(); bad = 1; } else bits |= 1ULL << PyLong_AsLong(idx);
            Py_DECREF(x);
        }
        Py_DECREF(it);
        if (bad || PyErr_Occurred()) { PyErr_Clear(); return -1; }
        return push(t, bits);
    }
    }
    return -1;
}

/* ---- lower: tape -> flat values and guest memory (no Python) ----------------------- */
typedef struct { front_t *f; const uint64_t *v; size_t i; } cursor_t;

/* the guest's realloc(0, 0, align, nbytes), the block checked; 0 or a status */
static int f_alloc(front_t *f, int64_t align, int64_t nbytes, uint64_t *sp) {
    reml_export_t *ex = f->ex;
    reml_store_t *st = ex->st;
    wasmtime_val_raw_t r[4];
    uintptr_t trap = 0, err;
    r[0].i64 = 0; r[1].i64 = 0; r[2].i64 = align; r[3].i64 = nbytes;
    f->reallocs++;
    err = st->call(st->ctx, &ex->realloc, r, 4, &trap);
    if (err || trap) { st->err = err; st->trap = trap; return F_FAILED; }
    uint64_t p = (uint32_t)r[0].i32;
    if (p % (uint64_t)align || p + (uint64_t)nbytes > st->mem_size(st->ctx, &ex->mem)) {
        st->raw[0] = (int64_t)p; st->raw[1] = nbytes; st->raw[2] = align;
        return F_BADBLOCK;
    }
    *sp = p;
    return 0;
}

static inline void put(front_t *f, uint64_t addr, const void *src, size_t n) {
    if (n) memcpy(f->ex->st->mem_data(f->ex->st->ctx, &f->ex->mem) + addr, src, n);
}

/* the node of case `cs`'s payload of a variant, option or result (-1: none); every
   payload sits at n[6] bytes into the value */
static inline int32_t case_payload(const int32_t *n, uint64_t cs) {
    return n[0] == K_VARIANT ? n[8 + 2 * cs] : n[4 + cs];
}

static int store(cursor_t *c, int32_t node, uint64_t addr);

/* a string or list: its block allocated and filled; (pointer, length) */
static int lower_block(cursor_t *c, const int32_t *n, uint64_t *sp, uint64_t *len) {
    front_t *f = c->f;
    if (n[0] == K_STRING) {
        const char *s = (const char *)(uintptr_t)c->v[c->i++];
        *len = c->v[c->i++];
        int r = f_alloc(f, 1, (int64_t)*len, sp);
        if (!r) put(f, *sp, s, (size_t)*len);
        return r;
    }
    const int32_t *e = f->d + n[4];
    int64_t es = e[1];
    if (e[0] <= K_CHAR) {
        const uint8_t *buf = (const uint8_t *)(uintptr_t)c->v[c->i++];
        *len = c->v[c->i++];
        int r = f_alloc(f, e[2], (int64_t)*len * es, sp);
        if (!r) put(f, *sp, buf, (size_t)(*len * es));
        return r;
    }
    *len = c->v[c->i++];
    int r = f_alloc(f, e[2], (int64_t)*len * es, sp);
    for (uint64_t k = 0; !r && k < *len; k++) r = store(c, n[4], *sp + k * es);
    return r;
}

static int store(cursor_t *c, int32_t node, uint64_t addr) {
    front_t *f = c->f;
    const int32_t *n = f->d + node;
    int kind = n[0];
    if (kind <= K_CHAR || kind == K_ENUM || kind == K_FLAGS) {
        uint64_t b = c->v[c->i++];
        put(f, addr, &b, (size_t)n[1]);
        return 0;
    }
    switch (kind) {
    case K_STRING: case K_LIST: {
        uint64_t sp, len;
        int r = lower_block(c, n, &sp, &len);
        if (r) return r;
        uint32_t pair[2] = {(uint32_t)sp, (uint32_t)len};
        put(f, addr, pair, 8);
        return 0;
    }
    case K_RECORD: case K_TUPLE: {
        int step = kind == K_RECORD ? 3 : 2;
        for (int32_t i = 0; i < n[4]; i++) {
            int r = store(c, n[5 + step * i], addr + (uint64_t)n[5 + step * i + 1]);
            if (r) return r;
        }
        return 0;
    }
    default: {  /* variant, option, result: the case, then its payload */
        uint64_t cs = c->v[c->i++];
        int32_t payload = case_payload(n, cs);
        put(f, addr, &cs, (size_t)(kind == K_VARIANT ? n[5] : 1));
        return payload < 0 ? 0 : store(c, payload, addr + (uint64_t)n[6]);
    }
    }
}

static int lower_flat(cursor_t *c, int32_t node, wasmtime_val_raw_t *a, int32_t *k) {
    front_t *f = c->f;
    const int32_t *n = f->d + node;
    int kind = n[0];
    if (kind <= K_CHAR || kind == K_ENUM || kind == K_FLAGS) { a[(*k)++].i64 = (int64_t)c->v[c->i++]; return 0; }
    switch (kind) {
    case K_STRING: case K_LIST: {
        uint64_t sp, len;
        int r = lower_block(c, n, &sp, &len);
        if (r) return r;
        a[(*k)++].i64 = (int64_t)sp; a[(*k)++].i64 = (int64_t)len;
        return 0;
    }
    case K_RECORD: case K_TUPLE: {
        int step = kind == K_RECORD ? 3 : 2;
        for (int32_t i = 0; i < n[4]; i++) {
            int r = lower_flat(c, n[5 + step * i], a, k);
            if (r) return r;
        }
        return 0;
    }
    default: {  /* the case, the payload's flat values (already their joined bits), zeros */
        uint64_t cs = c->v[c->i++];
        int32_t payload = case_payload(n, cs);
        int32_t end = *k + n[3];
        a[(*k)++].i64 = (int64_t)cs;
        if (payload >= 0) { int r = lower_flat(c, payload, a, k); if (r) return r; }
        while (*k < end) a[(*k)++].i64 = 0;
        return 0;
    }
    }
}

/* ---- lift: flat values or guest memory -> Python values ---------------------------- */
typedef struct { front_t *f; const uint8_t *m; uint64_t size; int64_t copied; } reader_t;

static PyObject *new_obj(PyObject *type) {
    PyTypeObject *tp = (PyTypeObject *)type;
    return tp->tp_alloc(tp, 0);
}
/* a frozen dataclass object (Ok, Err, Some, Variant): its fields stored as its own
   __init__ stores them (object.__setattr__), so no instance dict is materialised */
static PyObject *dataclass(PyObject *C, int type, PyObject *tag, PyObject *value) {
    PyObject *o = new_obj(PyTuple_GET_ITEM(C, type));
    if (!o) { Py_XDECREF(value); return NULL; }
    int bad = (tag && PyObject_GenericSetAttr(o, PyTuple_GET_ITEM(C, C_TAG), tag))
              || PyObject_GenericSetAttr(o, PyTuple_GET_ITEM(C, C_VALUE), value ? value : Py_None);
    Py_XDECREF(value);
    if (bad) { Py_DECREF(o); return NULL; }
    return o;
}

static PyObject *scalar(front_t *f, int kind, uint64_t b) {
    switch (kind) {
    case K_BOOL: return PyBool_FromLong((b & 0xffffffffU) != 0);
    case K_S8: return PyLong_FromLong((int8_t)b);
    case K_U8: return PyLong_FromLong((uint8_t)b);
    case K_S16: return PyLong_FromLong((int16_t)b);
    case K_U16: return PyLong_FromLong((uint16_t)b);
    case K_S32: return PyLong_FromLong((int32_t)b);
    case K_U32: return PyLong_FromUnsignedLong((uint32_t)b);
    case K_S64: return PyLong_FromLongLong((int64_t)b);
    case K_U64: return PyLong_FromUnsignedLongLong(b);
    case K_F32: case K_F64: {
        double x;
        if (kind == K_F32) { float y; uint32_t w = (uint32_t)b; memcpy(&y, &w, 4); x = y; }
        else memcpy(&x, &b, 8);
        if (x != x) { PyObject *nan = PyTuple_GET_ITEM(f->consts, C_NAN); Py_INCREF(nan); return nan; }
        return PyFloat_FromDouble(x);
    }
    case K_CHAR: {
        uint32_t c = (uint32_t)b;
        if (c >= 0x110000 || (c >= 0xD800 && c < 0xE000)) return NULL;
        return PyUnicode_FromOrdinal((int)c);
    }
    }
    return NULL;
}

static PyObject *enum_or_flags(front_t *f, const int32_t *n, uint64_t b) {
    PyObject *names = PyTuple_GET_ITEM(f->consts, n[n[0] == K_ENUM ? 6 : 5]);
    if (n[0] == K_ENUM) {
        if (b >= (uint64_t)n[4]) return NULL;
        PyObject *s = PyTuple_GET_ITEM(names, (Py_ssize_t)b);
        Py_INCREF(s);
        return s;
    }
    PyObject *set = PyFrozenSet_New(NULL);
    for (int32_t i = 0; set && i < n[4]; i++)
        if (((b >> i) & 1) && PySet_Add(set, PyTuple_GET_ITEM(names, i))) Py_CLEAR(set);
    return set;
}

static inline uint64_t read_le(const uint8_t *p, int32_t size) {
    uint64_t b = 0;
    memcpy(&b, p, (size_t)size);
    return b;
}

static PyObject *load(reader_t *r, int32_t node, uint64_t addr);

static PyObject *load_block(reader_t *r, const int32_t *n, uint64_t addr) {
    front_t *f = r->f;
    uint64_t sp = read_le(r->m + addr, 4), len = read_le(r->m + addr + 4, 4);
    if (n[0] == K_STRING) {
        if (len > F_MAX_STRING || sp + len > r->size) return NULL;
        r->copied += (int64_t)len;
        if (r->copied > f->copy_limit) return NULL;
        return PyUnicode_DecodeUTF8((const char *)r->m + sp, (Py_ssize_t)len, NULL);
    }
    const int32_t *e = f->d + n[4];
    uint64_t es = (uint64_t)e[1], nbytes = len * es;
    if (nbytes > F_MAX_LIST || sp % (uint64_t)e[2] || sp + nbytes > r->size) return NULL;
    r->copied += (int64_t)nbytes;
    if (r->copied > f->copy_limit) return NULL;
    if (e[0] == K_U8) return PyBytes_FromStringAndSize((const char *)r->m + sp, (Py_ssize_t)len);
    if (n[5] < 0) {  /* a plain list of lifted elements */
        PyObject *items = PyList_New((Py_ssize_t)len);
        for (uint64_t k = 0; items && k < len; k++) {
            PyObject *x = load(r, n[4], sp + k * es);
            if (!x) Py_CLEAR(items);
            else PyList_SET_ITEM(items, (Py_ssize_t)k, x);
        }
        return items;
    }
    /* numbers: a NumberList filled in place */
    PyObject *C = f->consts, *descr = PyTuple_GET_ITEM(C, C_TYPECODE);
    PyObject *out = new_obj(PyTuple_GET_ITEM(C, C_NUMLIST));
    if (!out || Py_TYPE(descr)->tp_descr_set(descr, out, PyTuple_GET_ITEM(C, n[5]))) { Py_XDECREF(out); return NULL; }
    if (!len) return out;
    PyListObject *lo = (PyListObject *)out;
    lo->ob_item = PyMem_Malloc((size_t)len * sizeof(PyObject *));
    if (!lo->ob_item) { Py_DECREF(out); return PyErr_NoMemory(); }
    lo->allocated = (Py_ssize_t)len;
    const uint8_t *p = r->m + sp;
    for (uint64_t k = 0; k < len; k++) {
        PyObject *x;
        switch (e[0]) {  /* the common element kinds inline, the others through scalar() */
        case K_U32: { uint32_t v; memcpy(&v, p + k * 4, 4); x = PyLong_FromUnsignedLong(v); break; }
        case K_S32: { int32_t v; memcpy(&v, p + k * 4, 4); x = PyLong_FromLong(v); break; }
        default: x = scalar(f, e[0], read_le(p + k * es, e[1]));
        }
        if (!x) { Py_DECREF(out); return NULL; }
        lo->ob_item[k] = x;
        Py_SET_SIZE(out, (Py_ssize_t)k + 1);
    }
    return out;
}

static PyObject *load(reader_t *r, int32_t node, uint64_t addr) {
    front_t *f = r->f;
    const int32_t *n = f->d + node;
    PyObject *C = f->consts;
    int kind = n[0];
    if (kind <= K_CHAR) return scalar(f, kind, read_le(r->m + addr, n[1]));
    switch (kind) {
    case K_ENUM: case K_FLAGS: return enum_or_flags(f, n, read_le(r->m + addr, n[1]));
    case K_STRING: case K_LIST: return load_block(r, n, addr);
    case K_RECORD: {
        PyObject *fields = PyDict_New();
        if (!fields) return NULL;
        for (int32_t i = 0; i < n[4]; i++) {
            PyObject *v = load(r, n[5 + 3 * i], addr + (uint64_t)n[5 + 3 * i + 1]);
            if (!v || PyDict_SetItem(fields, PyTuple_GET_ITEM(C, n[5 + 3 * i + 2]), v)) {
                Py_XDECREF(v); Py_DECREF(fields); return NULL;
            }
            Py_DECREF(v);
        }
        PyObject *o = new_obj(PyTuple_GET_ITEM(C, C_RECORD)), *descr = PyTuple_GET_ITEM(C, C_FIELDS);
        if (!o || Py_TYPE(descr)->tp_descr_set(descr, o, fields)) { Py_XDECREF(o); o = NULL; }
        Py_DECREF(fields);
        return o;
    }
    case K_TUPLE: {
        PyObject *o = PyTuple_New(n[4]);
        for (int32_t i = 0; o && i < n[4]; i++) {
            PyObject *v = load(r, n[5 + 2 * i], addr + (uint64_t)n[5 + 2 * i + 1]);
            if (!v) { Py_CLEAR(o); break; }
            PyTuple_SET_ITEM(o, i, v);
        }
        return o;
    }
    case K_VARIANT: {
        uint64_t cs = read_le(r->m + addr, n[5]);
        if (cs >= (uint64_t)n[4]) return NULL;
        int32_t payload = n[8 + 2 * cs];
        PyObject *v = payload < 0 ? NULL : load(r, payload, addr + (uint64_t)n[6]);
        if (payload >= 0 && !v) return NULL;
        return dataclass(C, C_VARIANT, PyTuple_GET_ITEM(C, n[9 + 2 * cs]), v);
    }
    case K_OPTION: {
        uint8_t cs = r->m[addr];
        if (cs > 1) return NULL;
        if (!cs) Py_RETURN_NONE;
        PyObject *v = load(r, n[5], addr + (uint64_t)n[6]);
        if (!v || !n[7]) return v;
        return dataclass(C, C_SOME, NULL, v);
    }
    case K_RESULT: {
        uint8_t cs = r->m[addr];
        if (cs > 1) return NULL;
        int32_t payload = n[4 + cs];
        PyObject *v = payload < 0 ? NULL : load(r, payload, addr + (uint64_t)n[6]);
        if (payload >= 0 && !v) return NULL;
        return dataclass(C, cs ? C_ERR : C_OK, NULL, v);
    }
    }
    return NULL;
}

/* ---- the call ------------------------------------------------------------------------ */
/* a scalar kind whose flat value is 64 bits wide */
static inline int wide(int kind) { return kind == K_S64 || kind == K_U64 || kind == K_F64; }

static PyObject *front_failed(front_t *f, int code, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *tuple = PyTuple_New(nargs);
    if (!tuple) return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++) { Py_INCREF(args[i]); PyTuple_SET_ITEM(tuple, i, args[i]); }
    PyObject *r = PyObject_CallFunction(f->failed, "iO", code, tuple);
    Py_DECREF(tuple);
    return r;
}

static PyObject *front_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    front_t *f = (front_t *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames || nargs != f->nparams) return PyObject_Vectorcall(f->fallback, args, nargsf, kwnames);
    tape_t t;
    tape_init(&t);
    for (Py_ssize_t i = 0; i < nargs; i++)
        if (take(f, f->params[i], args[i], &t)) {
            tape_free(&t);
            if (PyErr_Occurred()) PyErr_Clear();
            return PyObject_Vectorcall(f->fallback, args, nargsf, NULL);
        }
    if (f->meter != Py_None)  /* the host functions' copy budget starts afresh */
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(f->meter); i++)
            if (PyObject_SetAttr(PyList_GET_ITEM(f->meter, i), PyTuple_GET_ITEM(f->consts, C_COPIED),
                                 PyTuple_GET_ITEM(f->consts, C_ZERO))) {
                tape_free(&t);
                return NULL;
            }
    reml_export_t *ex = f->ex;
    reml_store_t *st = ex->st;
    wasmtime_val_raw_t a[17];
    f->reallocs = 0;
    int code = 0;
    Py_BEGIN_ALLOW_THREADS
    reml_lock(st);
    if (st->poisoned) code = F_POISONED;
    else {
        reml_enter(st);
        cursor_t c = {f, t.v, 0};
        int32_t k = 0;
        for (int32_t i = 0; !code && i < f->nparams; i++) code = lower_flat(&c, f->params[i], a, &k);
        if (!code) {
            uintptr_t trap = 0, err = st->call(st->ctx, &ex->func, a, (size_t)f->nslots, &trap);
            if (err || trap) { st->err = err; st->trap = trap; code = F_FAILED; }
        }
    }
    Py_END_ALLOW_THREADS
    tape_free(&t);
    if (code) return front_failed(f, code, args, nargs);
    PyObject *result;
    if (f->mode == 0) { result = Py_None; Py_INCREF(result); }
    else if (f->mode == 1) {
        const int32_t *n = f->d + f->result;
        uint64_t b = wide(n[0]) ? (uint64_t)a[0].i64 : (uint64_t)(uint32_t)a[0].i32;
        result = n[0] <= K_CHAR ? scalar(f, n[0], b) : enum_or_flags(f, n, b);
    } else {
        const int32_t *n = f->d + f->result;
        reader_t r = {f, st->mem_data(st->ctx, &ex->mem), st->mem_size(st->ctx, &ex->mem), 0};
        uint64_t rp = (uint32_t)a[0].i32;
        result = rp % (uint64_t)n[2] || rp + (uint64_t)n[1] > r.size ? NULL : load(&r, f->result, rp);
    }
    if (!result) {
        if (PyErr_Occurred()) PyErr_Clear();
        const int32_t *n = f->d + f->result;
        st->raw[0] = f->mode == 1 && wide(n[0]) ? a[0].i64 : a[0].i32;
        return front_failed(f, F_LIFT, args, nargs);
    }
    if (f->post) {
        uintptr_t trap = 0, err;
        Py_BEGIN_ALLOW_THREADS
        err = st->call(st->ctx, &ex->post, a, (size_t)f->nslots, &trap);
        Py_END_ALLOW_THREADS
        if (err || trap) {
            st->err = err; st->trap = trap;
            Py_DECREF(result);
            return front_failed(f, F_FAILED, args, nargs);
        }
    }
    reml_unlock(st);
    return result;
}

/* ---- the front type ------------------------------------------------------------------ */
static int front_traverse(PyObject *self, visitproc visit, void *arg) {
    front_t *f = (front_t *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(f->dict); Py_VISIT(f->consts); Py_VISIT(f->fallback); Py_VISIT(f->failed);
    Py_VISIT(f->meter); Py_VISIT(f->keep);
    return 0;
}
static int front_clear(PyObject *self) {
    front_t *f = (front_t *)self;
    Py_CLEAR(f->dict); Py_CLEAR(f->consts); Py_CLEAR(f->fallback); Py_CLEAR(f->failed);
    Py_CLEAR(f->meter); Py_CLEAR(f->keep);
    return 0;
}
static void front_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    front_clear(self);
    PyMem_RawFree(((front_t *)self)->d);
    tp->tp_free(self);
    Py_DECREF(tp);
}
static PyMemberDef front_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(front_t, dict), READONLY, NULL},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(front_t, vectorcall), READONLY, NULL},
    {"reallocs", T_LONGLONG, offsetof(front_t, reallocs), READONLY, "realloc entries made by the last call"},
    {NULL, 0, 0, 0, NULL}};
static PyGetSetDef front_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL}, {NULL, NULL, NULL, NULL, NULL}};
static PyType_Slot front_slots[] = {
    {Py_tp_getset, front_getset}, {Py_tp_getattro, PyObject_GenericGetAttr}, {Py_tp_setattro, PyObject_GenericSetAttr},
    {Py_tp_call, PyVectorcall_Call}, {Py_tp_traverse, front_traverse}, {Py_tp_clear, front_clear},
    {Py_tp_dealloc, front_dealloc}, {Py_tp_members, front_members}, {0, NULL}};
static PyType_Spec front_spec = {"reml_wasm.ExportFront", sizeof(front_t), 0,
                                 Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL, front_slots};
static PyObject *front_type;

/* make(export, nodes, consts, params, result, mode, nslots, post, fallback, failed, meter, copy_limit, keep) */
static PyObject *front_make(PyObject *unused, PyObject *args) {
    PyObject *ex, *nodes, *consts, *params, *fallback, *failed, *meter, *keep;
    int result, mode, nslots, post;
    long long copy_limit;
    if (!PyArg_ParseTuple(args, "OSO!O!iiipOOOLO", &ex, &nodes, &PyTuple_Type, &consts, &PyTuple_Type, &params,
                          &result, &mode, &nslots, &post, &fallback, &failed, &meter, &copy_limit, &keep))
        return NULL;
    if (PyTuple_GET_SIZE(params) > 16 || nslots > 17 || nslots < 1) {
        PyErr_SetString(PyExc_ValueError, "too many flat values for the front");
        return NULL;
    }
    front_t *f = PyObject_GC_New(front_t, (PyTypeObject *)front_type);
    if (!f) return NULL;
    f->vectorcall = front_call;
    f->dict = NULL;
    f->ex = (reml_export_t *)PyLong_AsVoidPtr(ex);
    Py_ssize_t nb = PyBytes_GET_SIZE(nodes);
    f->d = PyMem_RawMalloc(nb + 4);
    if (f->d) memcpy(f->d, PyBytes_AS_STRING(nodes), nb);
    Py_INCREF(consts); f->consts = consts;
    Py_INCREF(fallback); f->fallback = fallback;
    Py_INCREF(failed); f->failed = failed;
    Py_INCREF(meter); f->meter = meter;
    Py_INCREF(keep); f->keep = keep;
    f->nparams = (int32_t)PyTuple_GET_SIZE(params);
    for (int32_t i = 0; i < f->nparams; i++) f->params[i] = (int32_t)PyLong_AsLong(PyTuple_GET_ITEM(params, i));
    f->reallocs = 0; f->result = result; f->mode = mode; f->nslots = nslots; f->post = post; f->copy_limit = copy_limit;
    PyObject_GC_Track((PyObject *)f);
    if (!f->d || PyErr_Occurred()) { Py_DECREF(f); if (!PyErr_Occurred()) PyErr_NoMemory(); return NULL; }
    return (PyObject *)f;
}
static PyMethodDef front_make_def = {"make", front_make, METH_VARARGS, NULL};
static int32_t reml_front_install(void) {
    PyGILState_STATE g = PyGILState_Ensure();
    int32_t ok = 0;
    PyObject *m = PyImport_AddModule("_reml_export_front");
    if (m && !front_type) front_type = PyType_FromSpec(&front_spec);
    if (m && front_type) {
        PyObject *make = PyCFunction_New(&front_make_def, NULL);
        ok = make != NULL && PyModule_AddObject(m, "make", make) == 0;
        if (!ok) Py_XDECREF(make);
    }
    if (!ok) PyErr_Clear();
    PyGILState_Release(g);
    return ok;
}
"""
