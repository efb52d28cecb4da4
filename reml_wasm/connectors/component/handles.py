"""`resource.new` made in C (API mode): a guest constructor reaches no Python code.

The handle table stays the Python one (`cabi.ResourceTables`); its C side is a small
record shared with it (`reml_rtab_t`), four int32 slots Python reads and writes through a
memoryview (`cabi.resources.C_NEXT` ...):

- `next`: the index the table gives out next (the top of its free list, else its
  length), or 0 when C must ask Python;
- `pend`, `rep`, `tag`: the one handle C made that Python has not taken in yet (0: none),
  its representation and its resource type (a small number the table assigns).

`reml_resource_new`, the host function of a `resource.new` the guest imports, takes
`next` when it is there and nothing is pending: it records the handle and answers the
index (`next` stays: while a handle is pending C makes no other, and once Python has
moved it out -- a constructor's result -- the same index is the next one again).
Otherwise it hands the call to the Python entry (`reml_host_scalar` with the entry's
`callbacks.REGISTRY` key), which takes the pending handle in first.
The table takes the pending handle in before every use of its slots, and refreshes
`next` after each of its own changes, so the indices given out are the ones the
Python table alone would give.

Lifetime: the record is counted (Python's reference, dropped by the garbage collector,
plus one per host function, dropped by the store's finalizer, which also releases the
Python entry's key), so neither side reads it after it is freed.
"""

from __future__ import annotations

from typing import Any, Callable

from ... import types as t

TAGS = 64  # resource types one table can give to C; more are made through Python

RESOURCE_CDEF = """
typedef struct reml_rtab reml_rtab_t;
reml_rtab_t *reml_rtab_new(void);
void reml_rtab_unref(reml_rtab_t *);
uintptr_t reml_rtab_env(reml_rtab_t *, int32_t, uintptr_t);
uintptr_t reml_resource_new(uintptr_t, wasmtime_caller_t *, int64_t *, size_t);
void reml_rtab_release(uintptr_t);
"""
RESOURCE_SOURCE = """
static void reml_host_release(uintptr_t);
#define REML_RTAB_TAGS %d
typedef struct reml_rtab {
    int32_t next, pend, rep, tag;  /* the slots Python shares (see handles.py) */
    int32_t refs;
    uintptr_t keys[REML_RTAB_TAGS];  /* per tag: the Python entry's key */
    uint8_t tags[REML_RTAB_TAGS];    /* tags[k] == k: a host function's env points at its tag */
} reml_rtab_t;
static reml_rtab_t *reml_rtab_new(void) {
    reml_rtab_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->refs = 1;
    for (int k = 0; k < REML_RTAB_TAGS; k++) r->tags[k] = (uint8_t)k;
    return r;
}
static void reml_rtab_unref(reml_rtab_t *r) {
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) free(r);
}
static reml_rtab_t *reml_rtab_of(uintptr_t env) {
    uint8_t *p = (uint8_t *)env;
    return (reml_rtab_t *)(p - *p - offsetof(reml_rtab_t, tags));
}
/* the env of one resource type's host function (it holds a reference) */
static uintptr_t reml_rtab_env(reml_rtab_t *r, int32_t tag, uintptr_t key) {
    r->keys[tag] = key;
    __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
    return (uintptr_t)&r->tags[tag];
}
static uintptr_t reml_resource_new(uintptr_t env, wasmtime_caller_t *caller, int64_t *raw, size_t n) {
    reml_rtab_t *r = reml_rtab_of(env);
    int32_t tag = *(uint8_t *)env;
    if (r->next > 0 && r->pend == 0 && n == 1) {
        r->pend = r->next;
        r->rep = (int32_t)raw[0];
        r->tag = tag;
        raw[0] = r->pend;
        return 0;
    }
    return reml_host_scalar(r->keys[tag], caller, raw, n);
}
static void reml_rtab_release(uintptr_t env) {
    reml_rtab_t *r = reml_rtab_of(env);
    reml_host_release(r->keys[*(uint8_t *)env]);
    reml_rtab_unref(r);
}
""" % TAGS


def native_resource_new(capi: Any, ctx: Any, ftype: Any, tables: Any, rt: t.ResourceType,
                        entry: Callable[..., int], register: Callable[[Callable[..., int]], int]) -> Any:
    """The host function (a wasmtime-py `Func`) of `resource.new` of `rt` over `tables`,
    made in C; `entry` is its Python scalar entry (what C hands over to when it cannot
    make the handle itself), `register` gives it a `callbacks.REGISTRY` key.  None when
    the binding has no C built-in (ABI mode) or the table has no tag left for `rt`."""
    ffi, lib = capi.ffi, capi.lib
    if capi.mode != "api" or not hasattr(lib, "reml_resource_new"):
        return None
    record = tables.native_record()
    if record is None:
        made = lib.reml_rtab_new()
        if made == ffi.NULL:
            return None
        record = ffi.gc(made, lib.reml_rtab_unref)
        tables.attach_native(memoryview(ffi.buffer(record, 16)).cast("i"), record, TAGS)
    tag = tables.native_tag(rt)
    if tag is None:
        return None
    env = lib.reml_rtab_env(record, tag, register(entry))
    return capi.new_host_func(ctx, ftype, env, callback=lib.reml_resource_new, finalizer=lib.reml_rtab_release)
