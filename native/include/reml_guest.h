/* reml_guest.h: what a C guest of reml_wasm needs, for both builds of one source.
 *
 * The same C file is compiled as a wasm32 core module (zig cc, wasm32-freestanding, then
 * wrapped into a component) and as a native shared library (the system cc).  Pointers and
 * lengths are written as C pointers and size_t, so the native build follows the Canonical
 * ABI at pointer width 8 and the wasm build at pointer width 4.
 *
 * REML_EXPORT("export-name") gives the component-level export name in wasm.  In the
 * native build the C function's own name is the symbol, and it must equal
 * reml_wasm.toolchain.c_symbol("export-name") (docs/native.md states the rule).
 */
#ifndef REML_GUEST_H
#define REML_GUEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(__wasm__)
#define REML_EXPORT(name) __attribute__((export_name(name)))
#define REML_IMPORT(module, name) __attribute__((import_module(module), import_name(name)))
#else
#define REML_EXPORT(name) __attribute__((visibility("default")))
#define REML_IMPORT(module, name)
#endif

typedef struct { char *ptr; size_t len; } reml_string;

static inline void reml_copy(void *dst, const void *src, size_t n) { __builtin_memcpy(dst, src, n); }
static inline void reml_fill(void *dst, int byte, size_t n) { __builtin_memset(dst, byte, n); }
static inline bool reml_equal(const void *a, const void *b, size_t n) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return false;
  return true;
}

#if defined(__wasm__)
/* A small size-class allocator over linear memory: blocks of 2^k bytes with a 16-byte
 * header holding k; freed blocks go to a per-class free list.  16-byte alignment. */
extern unsigned char __heap_base;
static uintptr_t reml_heap_top, reml_heap_end;
static void *reml_free_lists[40];

static inline void *reml_raw_alloc(size_t n) {
  if (reml_heap_top == 0) {
    reml_heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    reml_heap_end = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
  }
  if (n > reml_heap_end - reml_heap_top) {
    size_t need = n - (reml_heap_end - reml_heap_top);
    size_t pages = (need + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
    reml_heap_end += pages * 65536u;
  }
  void *p = (void *)reml_heap_top;
  reml_heap_top += n;
  return p;
}

static inline void *reml_malloc(size_t n) {
  unsigned cls = 5;
  while (((size_t)1 << cls) < n + 16) {
    cls++;
    if (cls >= 32) return 0;
  }
  unsigned char *blk = (unsigned char *)reml_free_lists[cls];
  if (blk) {
    reml_free_lists[cls] = *(void **)(blk + 4);
  } else {
    blk = (unsigned char *)reml_raw_alloc((size_t)1 << cls);
    if (!blk) return 0;
  }
  *(uint32_t *)blk = cls;
  return blk + 16;
}

static inline void reml_free(void *p) {
  if (!p) return;
  unsigned char *blk = (unsigned char *)p - 16;
  unsigned cls = *(uint32_t *)blk;
  *(void **)(blk + 4) = reml_free_lists[cls];
  reml_free_lists[cls] = blk;
}

static inline size_t reml_capacity(void *p) {
  return ((size_t)1 << *(uint32_t *)((unsigned char *)p - 16)) - 16;
}

REML_EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)align; /* every block is 16-aligned; the ABI never asks for more */
  if (old && new_size <= reml_capacity(old)) return old;
  void *fresh = reml_malloc(new_size);
  if (old && fresh) {
    reml_copy(fresh, old, old_size < new_size ? old_size : new_size);
    reml_free(old);
  }
  if (!fresh) __builtin_trap();
  return fresh;
}
#else
#include <stdlib.h>
static inline void *reml_malloc(size_t n) { return malloc(n ? n : 1); }
static inline void reml_free(void *p) { free(p); }

REML_EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)old_size; (void)align; /* malloc alignment (16) covers every Canonical ABI type */
  void *fresh = realloc(old, new_size ? new_size : 1);
  if (!fresh) abort();
  return fresh;
}
#endif

/* A fresh string (from reml_malloc) of three pieces one after the other. */
static inline reml_string reml_concat3(const char *a, size_t alen, const char *b, size_t blen,
                                       const char *c, size_t clen) {
  reml_string out;
  out.len = alen + blen + clen;
  out.ptr = (char *)reml_malloc(out.len);
  reml_copy(out.ptr, a, alen);
  reml_copy(out.ptr + alen, b, blen);
  reml_copy(out.ptr + alen + blen, c, clen);
  return out;
}

#endif /* REML_GUEST_H */
