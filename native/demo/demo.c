/* The demo guest: wit/demo/demo.wit, world `demo`.  Written against the Canonical ABI by
 * hand (flat parameters, return areas, post-return functions), once for both builds. */
#include "reml_guest.h"

typedef struct { uint32_t *ptr; size_t len; } list_u32;
typedef struct { reml_string *ptr; size_t len; } list_string;
typedef struct { int32_t x, y; } point;
typedef struct { uint8_t is_some; uint32_t value; } option_u32;
typedef struct { uint8_t is_err; union { uint32_t ok; reml_string err; } val; } result_u32_string;

static union {
  reml_string s;
  list_u32 l;
  point p;
  option_u32 o;
  result_u32_string r;
} ret_area;

REML_EXPORT("greet")
reml_string *greet(char *name, size_t len) {
  ret_area.s = reml_concat3("Hello, ", 7, name, len, "!", 1);
  reml_free(name);
  return &ret_area.s;
}

REML_EXPORT("cabi_post_greet")
void cabi_post_greet(reml_string *r) { reml_free(r->ptr); }

REML_EXPORT("sum")
uint64_t sum(uint32_t *values, size_t len) {
  uint64_t total = 0;
  for (size_t i = 0; i < len; i++) total += values[i];
  reml_free(values);
  return total;
}

REML_EXPORT("reverse")
list_u32 *reverse(uint32_t *values, size_t len) {
  for (size_t i = 0, j = len; i + 1 < j; i++, j--) {
    uint32_t t = values[i];
    values[i] = values[j - 1];
    values[j - 1] = t;
  }
  ret_area.l.ptr = values;
  ret_area.l.len = len;
  return &ret_area.l;
}

REML_EXPORT("cabi_post_reverse")
void cabi_post_reverse(list_u32 *r) { reml_free(r->ptr); }

REML_EXPORT("translate")
point *translate(int32_t x, int32_t y, int32_t dx, int32_t dy) {
  ret_area.p.x = (int32_t)((uint32_t)x + (uint32_t)dx);
  ret_area.p.y = (int32_t)((uint32_t)y + (uint32_t)dy);
  return &ret_area.p;
}

/* variant shape flattens to (i32 case, i64 joined f64/i32, i32). */
REML_EXPORT("area")
double area(int32_t tag, int64_t a, int32_t b) {
  if (tag == 0) {
    double r;
    reml_copy(&r, &a, sizeof r);
    return 3.141592653589793 * r * r;
  }
  if (tag == 1) {
    int64_t w = (int32_t)a, h = b;
    int64_t prod = w * h;
    return (double)(prod < 0 ? -prod : prod);
  }
  return 0.0;
}

REML_EXPORT("find")
option_u32 *find(reml_string *items, size_t count, char *needle, size_t nlen) {
  ret_area.o.is_some = 0;
  ret_area.o.value = 0;
  for (size_t i = 0; i < count; i++) {
    if (!ret_area.o.is_some && items[i].len == nlen &&
        reml_equal(items[i].ptr, needle, nlen)) {
      ret_area.o.is_some = 1;
      ret_area.o.value = (uint32_t)i;
    }
    reml_free(items[i].ptr);
  }
  reml_free(items);
  reml_free(needle);
  return &ret_area.o;
}

static result_u32_string *parse_error(const char *msg, size_t len) {
  ret_area.r.is_err = 1;
  ret_area.r.val.err = reml_concat3(msg, len, "", 0, "", 0);
  return &ret_area.r;
}

REML_EXPORT("parse-u32")
result_u32_string *parse_u32(char *text, size_t len) {
  uint64_t value = 0;
  result_u32_string *out;
  if (len == 0) {
    out = parse_error("empty", 5);
  } else {
    size_t i = 0;
    for (; i < len; i++) {
      if (text[i] < '0' || text[i] > '9') break;
      value = value * 10 + (uint64_t)(text[i] - '0');
      if (value > 0xFFFFFFFFu) break;
    }
    if (i < len && (text[i] < '0' || text[i] > '9')) {
      out = parse_error("not a digit", 11);
    } else if (i < len || value > 0xFFFFFFFFu) {
      out = parse_error("overflow", 8);
    } else {
      ret_area.r.is_err = 0;
      ret_area.r.val.ok = (uint32_t)value;
      out = &ret_area.r;
    }
  }
  reml_free(text);
  return out;
}

REML_EXPORT("cabi_post_parse-u32")
void cabi_post_parse_u32(result_u32_string *r) {
  if (r->is_err) reml_free(r->val.err.ptr);
}
