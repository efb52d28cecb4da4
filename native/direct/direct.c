#include "direct.h"
#include <stdlib.h>
#include <string.h>

static int live;
static int32_t cell = 41;

int inc(int x) { return x + 1; }
int64_t add_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
uint8_t add_u8(uint8_t a, uint8_t b) { return (uint8_t)(a + b); }
double scale(double x, float by) { return x * (double)by; }
bool is_even(int32_t x) { return (x & 1) == 0; }
uint32_t next_char(uint32_t c) { return c == 0xD7FF ? 0xE000 : c + 1; }

point point_add(point a, point b) {
  point r = { (int32_t)((uint32_t)a.x + (uint32_t)b.x), (int32_t)((uint32_t)a.y + (uint32_t)b.y) };
  return r;
}
int64_t point_dot(point a, point b) { return (int64_t)a.x * b.x + (int64_t)a.y * b.y; }
segment segment_flip(segment s) {
  segment r = { s.b, s.a, -s.weight };
  return r;
}

size_t text_len(const char *s) { return s ? strlen(s) : (size_t)-1; }
const char *greeting(void) { return "héllo"; }
const char *maybe_text(int which) { return which ? "some" : NULL; }

char *upper_dup(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(n + 1);
  for (size_t i = 0; i <= n; i++) out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
  return out;
}

void *lib_alloc(size_t n) { live++; return malloc(n ? n : 1); }
void lib_free(void *p) { if (p) { live--; free(p); } }
int lib_live(void) { return live; }

char *lib_concat(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *out = lib_alloc(na + nb + 1);
  memcpy(out, a, na);
  memcpy(out + na, b, nb + 1);
  return out;
}
size_t lib_take(char *s) { size_t n = strlen(s); lib_free(s); return n; }
const char *bad_utf8(void) { return "ok\xff"; }

int32_t *counter_cell(void) { return &cell; }
int32_t read_cell(const int32_t *c) { return *c; }
