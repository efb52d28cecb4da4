/* The PoC guest: wit/poc/poc.wit, world `poc`, interface `api`.  One C source, built as
 * a wasm component (zig cc + wasm-tools) and as a native shared library (the system cc).
 * Written against the Canonical ABI by hand: flat parameters, return areas, post-return
 * functions, and the resource `counter` whose representation is a slot number (so it is
 * the same i32 in both builds).
 *
 * Handles of `counter`: in the component the runtime's `[resource-new]`, `[resource-rep]`
 * and `[resource-drop]` built-ins make and remove them.  The native build has no runtime:
 * a handle is the representation itself, and dropping it runs the destructor here. */
#include "reml_guest.h"

#define API "reml:poc/api@0.1.0"

typedef struct { int32_t *ptr; size_t len; } list_s32;
typedef struct { reml_string *ptr; size_t len; } list_string;
typedef struct { reml_string name; uint32_t age; } person;
typedef struct { uint8_t is_some; uint32_t value; } option_u32;
typedef struct { uint8_t is_err; union { uint8_t ok; reml_string err; } val; } result_level_string;
typedef struct { uint8_t *ptr; size_t len; } list_u8;

static union {
  reml_string s;
  person p;
  list_s32 l;
  list_u8 b;
  option_u32 o;
  result_level_string r;
} ret_area;

/* --- string --------------------------------------------------------------------------- */

REML_EXPORT(API "#greet")
reml_string *api_greet(char *name, size_t len) {
  ret_area.s = reml_concat3("Hello, ", 7, name, len, "!", 1);
  reml_free(name);
  return &ret_area.s;
}

REML_EXPORT("cabi_post_" API "#greet")
void cabi_post_api_greet(reml_string *r) { reml_free(r->ptr); }

/* --- record --------------------------------------------------------------------------- */

REML_EXPORT(API "#birthday")
person *api_birthday(char *name, size_t len, uint32_t age) {
  ret_area.p.name.ptr = name; /* the argument's memory becomes the result's */
  ret_area.p.name.len = len;
  ret_area.p.age = age + 1u;
  return &ret_area.p;
}

REML_EXPORT("cabi_post_" API "#birthday")
void cabi_post_api_birthday(person *r) { reml_free(r->name.ptr); }

/* --- variant: shape flattens to (i32 case, f64 payload) --------------------------------- */

REML_EXPORT(API "#area")
double api_area(int32_t tag, double x) {
  if (tag == 0) return 3.141592653589793 * x * x;
  if (tag == 1) return x * x;
  return 0.0;
}

/* --- enum and flags ------------------------------------------------------------------- */

REML_EXPORT(API "#raise")
int32_t api_raise(int32_t level) { return level < 2 ? level + 1 : 2; }

REML_EXPORT(API "#invert")
int32_t api_invert(int32_t perms) { return ~perms & 7; }

/* --- list ----------------------------------------------------------------------------- */

REML_EXPORT(API "#scale")
list_s32 *api_scale(int32_t *values, size_t len, int32_t by) {
  for (size_t i = 0; i < len; i++) values[i] = (int32_t)((uint32_t)values[i] * (uint32_t)by);
  ret_area.l.ptr = values;
  ret_area.l.len = len;
  return &ret_area.l;
}

REML_EXPORT("cabi_post_" API "#scale")
void cabi_post_api_scale(list_s32 *r) { reml_free(r->ptr); }

REML_EXPORT(API "#reverse-bytes")
list_u8 *api_reverse_bytes(uint8_t *data, size_t len) {
  for (size_t i = 0, j = len; i + 1 < j; i++, j--) {
    uint8_t t = data[i];
    data[i] = data[j - 1];
    data[j - 1] = t;
  }
  ret_area.b.ptr = data;
  ret_area.b.len = len;
  return &ret_area.b;
}

REML_EXPORT("cabi_post_" API "#reverse-bytes")
void cabi_post_api_reverse_bytes(list_u8 *r) { reml_free(r->ptr); }

/* --- option --------------------------------------------------------------------------- */

REML_EXPORT(API "#find")
option_u32 *api_find(reml_string *items, size_t len, char *needle, size_t nlen) {
  ret_area.o.is_some = 0;
  ret_area.o.value = 0;
  for (size_t i = 0; i < len; i++) {
    if (!ret_area.o.is_some && items[i].len == nlen && reml_equal(items[i].ptr, needle, nlen)) {
      ret_area.o.is_some = 1;
      ret_area.o.value = (uint32_t)i;
    }
    reml_free(items[i].ptr);
  }
  reml_free(items);
  reml_free(needle);
  return &ret_area.o;
}

/* --- result --------------------------------------------------------------------------- */

static const char *const level_names[] = {"low", "medium", "high"};

REML_EXPORT(API "#parse-level")
result_level_string *api_parse_level(char *text, size_t len) {
  for (uint8_t i = 0; i < 3; i++) {
    size_t n = 0;
    while (level_names[i][n]) n++;
    if (n == len && reml_equal(level_names[i], text, len)) {
      reml_free(text);
      ret_area.r.is_err = 0;
      ret_area.r.val.ok = i;
      return &ret_area.r;
    }
  }
  ret_area.r.is_err = 1;
  ret_area.r.val.err = reml_concat3("not a level: \"", 14, text, len, "\"", 1);
  reml_free(text);
  return &ret_area.r;
}

REML_EXPORT("cabi_post_" API "#parse-level")
void cabi_post_api_parse_level(result_level_string *r) {
  if (r->is_err) reml_free(r->val.err.ptr);
}

/* --- resource counter: representation = slot number + 1 ------------------------------- */

typedef struct { int64_t value; uint32_t live; } counter_slot;
static counter_slot *slots;
static uint32_t slot_count, live_count;

REML_EXPORT(API "#[dtor]counter")
void api_dtor_counter(uint32_t rep) {
  if (rep == 0 || rep > slot_count || !slots[rep - 1].live) __builtin_trap();
  slots[rep - 1].live = 0;
  live_count--;
}

#if defined(__wasm__)
REML_IMPORT("[export]" API, "[resource-new]counter") int32_t counter_handle_new(uint32_t rep);
REML_IMPORT("[export]" API, "[resource-rep]counter") uint32_t counter_handle_rep(int32_t handle);
REML_IMPORT("[export]" API, "[resource-drop]counter") void counter_handle_drop(int32_t handle);
#else
static int32_t counter_handle_new(uint32_t rep) { return (int32_t)rep; }
static uint32_t counter_handle_rep(int32_t handle) { return (uint32_t)handle; }
static void counter_handle_drop(int32_t handle) { api_dtor_counter((uint32_t)handle); }
#endif

static counter_slot *slot_of(uint32_t rep) {
  if (rep == 0 || rep > slot_count || !slots[rep - 1].live) __builtin_trap();
  return &slots[rep - 1];
}

REML_EXPORT(API "#[constructor]counter")
int32_t api_constructor_counter(int64_t start) {
  uint32_t i = 0;
  while (i < slot_count && slots[i].live) i++;
  if (i == slot_count) {
    uint32_t grown = slot_count ? slot_count * 2 : 8;
    slots = (counter_slot *)cabi_realloc(slots, slot_count * sizeof *slots, 8, grown * sizeof *slots);
    reml_fill(slots + slot_count, 0, (grown - slot_count) * sizeof *slots);
    slot_count = grown;
  }
  slots[i].value = start;
  slots[i].live = 1;
  live_count++;
  return counter_handle_new(i + 1);
}

REML_EXPORT(API "#[method]counter.add")
int64_t api_method_counter_add(uint32_t self, int64_t by) {
  counter_slot *c = slot_of(self);
  c->value = (int64_t)((uint64_t)c->value + (uint64_t)by);
  return c->value;
}

REML_EXPORT(API "#[method]counter.get")
int64_t api_method_counter_get(uint32_t self) { return slot_of(self)->value; }

REML_EXPORT(API "#peek")
int64_t api_peek(uint32_t c) { return slot_of(c)->value; }

REML_EXPORT(API "#finish")
int64_t api_finish(int32_t handle) {
  int64_t value = slot_of(counter_handle_rep(handle))->value;
  counter_handle_drop(handle);
  return value;
}

REML_EXPORT(API "#live-counters")
uint32_t api_live_counters(void) { return live_count; }
