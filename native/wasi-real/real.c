/* wit/wasi-real/real.wit implemented in C on wasi-libc (the Canonical ABI written out by
 * hand: no bindings generator).  Built by `zig cc -target wasm32-wasi` as a reactor and
 * adapted to WASI preview 2 with the preview 1 adapter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("cabi_realloc")
void *cabi_realloc(void *ptr, size_t old, size_t align, size_t size) {
  (void)old; (void)align;
  if (size == 0) return (void *)align;
  return realloc(ptr, size);
}

static uint8_t ret_area[32] __attribute__((aligned(8)));

EXPORT("reml:real/api@0.1.0#widen8")
int32_t widen8(int32_t x) {
  if (x < -128 || x > 127) __builtin_trap();
  return x;
}

EXPORT("reml:real/api@0.1.0#widen16")
int32_t widen16(int32_t x) {
  if (x < -32768 || x > 32767) __builtin_trap();
  return x;
}

EXPORT("reml:real/api@0.1.0#sum")
int64_t sum(uint32_t *xs, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += xs[i];
  free(xs);
  return (int64_t)total;
}

static void put_string(uint8_t *at, char *s, size_t n) {
  memcpy(at, &s, 4);
  memcpy(at + 4, &n, 4);
}

EXPORT("reml:real/api@0.1.0#greet")
uint8_t *greet(char *name, size_t n) {

  static const char hello[] = "Hello, ";
  size_t len = sizeof hello - 1 + n + 1;
  char *out = malloc(len);
  memcpy(out, hello, sizeof hello - 1);
  memcpy(out + sizeof hello - 1, name, n);
  out[len - 1] = '!';
  free(name);
  fprintf(stderr, "greeted %zu bytes\n", n);
  put_string(ret_area, out, len);
  return ret_area;
}

EXPORT("reml:real/api@0.1.0#bump")
uint8_t *bump(uint32_t fields, int64_t total, char *label, size_t n) {
  char *out = malloc(n + 1);
  memcpy(out, label, n);
  out[n] = '!';
  free(label);
  fields += 1;
  memcpy(ret_area, &fields, 4);
  memcpy(ret_area + 8, &total, 8);
  put_string(ret_area + 16, out, n + 1);
  return ret_area;
}

EXPORT("reml:real/api@0.1.0#flip")
uint32_t flip(uint32_t p) { return (~p) & 7u; }

EXPORT("reml:real/api@0.1.0#measure")
uint32_t measure(int32_t tag, int64_t payload) {
  if (tag == 0) {
    double r;
    memcpy(&r, &payload, 8);
    return r >= 1.0 ? 1u : 0u;
  }
  if (tag == 1) return (uint32_t)payload;
  return 0;
}

EXPORT("reml:real/api@0.1.0#env-var")
uint8_t *env_var(char *key, size_t n) {

  char *k = malloc(n + 1);
  memcpy(k, key, n);
  k[n] = 0;
  free(key);
  const char *v = getenv(k);
  free(k);
  memset(ret_area, 0, 12);
  if (v) {
    size_t len = strlen(v);
    char *copy = malloc(len + 1);
    memcpy(copy, v, len);
    ret_area[0] = 1;
    put_string(ret_area + 4, copy, len);
  }
  return ret_area;
}

EXPORT("reml:real/api@0.1.0#read-file")
uint8_t *read_file(char *path, size_t n) {

  char *p = malloc(n + 1);
  memcpy(p, path, n);
  p[n] = 0;
  free(path);
  FILE *f = fopen(p, "rb");
  free(p);
  if (!f) {
    static const char msg[] = "cannot open";
    char *copy = malloc(sizeof msg - 1);
    memcpy(copy, msg, sizeof msg - 1);
    ret_area[0] = 1;
    put_string(ret_area + 4, copy, sizeof msg - 1);
    return ret_area;
  }
  size_t cap = 256, len = 0;
  char *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) { cap *= 2; buf = realloc(buf, cap); }
  }
  fclose(f);
  ret_area[0] = 0;
  put_string(ret_area + 4, buf, len);
  return ret_area;
}
