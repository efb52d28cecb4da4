/* A hostile guest for the host-side copy budget (wit/amplify/amplify.wit): every string
 * of the lists it produces points at the same region, so `count` strings of `size` bytes
 * cost the guest `size` bytes of memory and the host `count * size` bytes of copies.
 * `forged` and `forged-return` hand the host pointers outside the guest's memory. */
#include "reml_guest.h"

REML_IMPORT("$root", "sink") uint32_t host_sink(reml_string *items, size_t count);
REML_IMPORT("$root", "give") void host_give(reml_string *ret);

static struct { reml_string *ptr; size_t len; } ret_area;

static reml_string *aliasing(uint32_t count, uint32_t size) {
  char *region = reml_malloc(size);
  reml_fill(region, 'a', size);
  reml_string *items = reml_malloc((size_t)count * sizeof *items);
  for (uint32_t i = 0; i < count; i++) {
    items[i].ptr = region;
    items[i].len = size;
  }
  return items;
}

REML_EXPORT("many")
void *many(uint32_t count, uint32_t size) {
  ret_area.ptr = aliasing(count, size);
  ret_area.len = count;
  return &ret_area;
}

REML_EXPORT("push")
uint32_t push(uint32_t count, uint32_t size) {
  return host_sink(aliasing(count, size), count);
}

REML_EXPORT("forged")
void *forged(uint32_t ptr, uint32_t len) {
  ret_area.ptr = (reml_string *)(uintptr_t)ptr;
  ret_area.len = len;
  return &ret_area;
}

REML_EXPORT("forged-return")
uint32_t forged_return(uint32_t ptr) {
  host_give((reml_string *)(uintptr_t)ptr);
  return 0;
}
