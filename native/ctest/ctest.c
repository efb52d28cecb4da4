/* The component connector's test and benchmark guest: wit/ctest/ctest.wit, world ctest.
 * Canonical ABI by hand: flat parameters, return areas, post-return functions, a
 * resource with a destructor, and calls back into host imports. */
#include "reml_guest.h"

#define HOST "reml:ctest/host@0.1.0"
#define COUNTERS "reml:ctest/counters@0.1.0"

REML_IMPORT(HOST, "log") void host_log(char *ptr, size_t len);
REML_IMPORT(HOST, "scale") void host_scale(uint32_t *ptr, size_t len, uint32_t by, void *ret);
REML_IMPORT(HOST, "[constructor]blob") int32_t blob_new(uint8_t *ptr, size_t len);
REML_IMPORT(HOST, "[method]blob.size") uint32_t blob_size(int32_t self);
REML_IMPORT(HOST, "[resource-drop]blob") void blob_drop(int32_t handle);
REML_IMPORT("[export]" COUNTERS, "[resource-new]counter") int32_t counter_new(void *rep);
REML_IMPORT("[export]" COUNTERS, "[resource-rep]counter") void *counter_rep(int32_t handle);
REML_IMPORT("[export]" COUNTERS, "[resource-drop]counter") void counter_drop(int32_t handle);

typedef struct { void *ptr; size_t len; } slice;
typedef struct {
  uint32_t id;
  reml_string name;
  double weight;
  reml_string *tags;
  size_t ntags;
} pair;

static union { slice s; pair p; } ret_area;

REML_EXPORT("add")
int32_t add(int32_t a, int32_t b) { return a + b; }

REML_EXPORT("echo")
slice *echo(char *ptr, size_t len) {
  ret_area.s.ptr = ptr;
  ret_area.s.len = len;
  return &ret_area.s;
}

REML_EXPORT("cabi_post_echo")
void cabi_post_echo(slice *r) { reml_free(r->ptr); }

REML_EXPORT("echo-list")
slice *echo_list(uint32_t *ptr, size_t len) {
  ret_area.s.ptr = ptr;
  ret_area.s.len = len;
  return &ret_area.s;
}

REML_EXPORT("cabi_post_echo-list")
void cabi_post_echo_list(slice *r) { reml_free(r->ptr); }

REML_EXPORT("echo-pair")
pair *echo_pair(uint32_t id, char *name, size_t nlen, double weight, reml_string *tags, size_t ntags) {
  ret_area.p.id = id;
  ret_area.p.name.ptr = name;
  ret_area.p.name.len = nlen;
  ret_area.p.weight = weight;
  ret_area.p.tags = tags;
  ret_area.p.ntags = ntags;
  return &ret_area.p;
}

REML_EXPORT("cabi_post_echo-pair")
void cabi_post_echo_pair(pair *p) {
  reml_free(p->name.ptr);
  for (size_t i = 0; i < p->ntags; i++) reml_free(p->tags[i].ptr);
  reml_free(p->tags);
}

REML_EXPORT("call-log")
uint32_t call_log(char *ptr, size_t len) {
  host_log(ptr, len);
  reml_free(ptr);
  return (uint32_t)len;
}

REML_EXPORT("call-scale")
slice *call_scale(uint32_t *ptr, size_t len, uint32_t by) {
  host_scale(ptr, len, by, &ret_area.s);
  reml_free(ptr);
  return &ret_area.s;
}

REML_EXPORT("cabi_post_call-scale")
void cabi_post_call_scale(slice *r) { reml_free(r->ptr); }

REML_EXPORT("spin")
uint32_t spin(uint32_t n) {
  volatile uint32_t i = 0;
  while (n == 0 || i < n) i++;
  return i;
}

REML_EXPORT("grow")
uint32_t grow(uint32_t pages) {
  size_t old = __builtin_wasm_memory_grow(0, pages);
  if (old == (size_t)-1) __builtin_trap();
  return (uint32_t)old;
}

REML_EXPORT("divide")
int32_t divide(int32_t a, int32_t b) {
  if (b == 0) __builtin_trap();
  return a / b;
}

/* --- resource counter --------------------------------------------------------------- */

typedef struct { int32_t value; } counter;

static size_t format_int(char *out, int32_t v) {
  char tmp[12];
  size_t n = 0, k = 0;
  uint32_t u = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
  do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
  if (v < 0) out[k++] = '-';
  while (n) out[k++] = tmp[--n];
  return k;
}

REML_EXPORT(COUNTERS "#[constructor]counter")
int32_t counter_constructor(int32_t start) {
  counter *c = (counter *)reml_malloc(sizeof(counter));
  c->value = start;
  return counter_new(c);
}

REML_EXPORT(COUNTERS "#[method]counter.bump")
int32_t counter_bump(counter *self) { return ++self->value; }

REML_EXPORT(COUNTERS "#[method]counter.get")
int32_t counter_get(counter *self) { return self->value; }

REML_EXPORT(COUNTERS "#finish")
int32_t counters_finish(int32_t handle) {
  counter *c = (counter *)counter_rep(handle);
  int32_t v = c->value;
  counter_drop(handle); /* runs the destructor */
  return v;
}

REML_EXPORT(COUNTERS "#peek")
int32_t counters_peek(counter *c) { return c->value; }

REML_EXPORT(COUNTERS "#[dtor]counter")
void counter_dtor(counter *c) {
  char msg[32] = "drop ";
  size_t n = 5 + format_int(msg + 5, c->value);
  host_log(msg, n);
  reml_free(c);
}

/* --- the host's resource blob ------------------------------------------------------- */

REML_EXPORT("make-blob")
int32_t make_blob(uint32_t n) {
  uint8_t *data = (uint8_t *)reml_malloc(n ? n : 1);
  for (uint32_t i = 0; i < n; i++) data[i] = (uint8_t)i;
  int32_t handle = blob_new(data, n); /* the host copies the bytes */
  reml_free(data);
  return handle; /* ownership goes to the caller */
}

REML_EXPORT("blob-size")
uint32_t blob_size_export(int32_t borrowed) {
  uint32_t size = blob_size(borrowed);
  blob_drop(borrowed); /* a lent handle must be dropped before returning */
  return size;
}

REML_EXPORT("blob-size-leaky")
uint32_t blob_size_leaky(int32_t borrowed) { return blob_size(borrowed); }

REML_EXPORT("blob-roundtrip")
uint32_t blob_roundtrip(uint8_t *ptr, size_t len) {
  int32_t handle = blob_new(ptr, len);
  uint32_t size = blob_size(handle);
  blob_drop(handle);
  reml_free(ptr);
  return size;
}
