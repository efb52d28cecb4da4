/* nyash:bid/math (native/plugins/bidmath.wit) as a component: the same arithmetic as the
 * nyash.math interface of bidfile.c, written against the Canonical ABI by hand. */
#include "reml_guest.h"

static int64_t calls = 0;
static reml_string echo_area;

REML_EXPORT("nyash:bid/math#add")
int32_t math_add(int32_t a, int32_t b) { calls++; return (int32_t)((uint32_t)a + (uint32_t)b); }

REML_EXPORT("nyash:bid/math#scale")
double math_scale(double x, double k) { calls++; return x * k; }

REML_EXPORT("nyash:bid/math#length")
int64_t math_length(char *text, size_t len) { calls++; reml_free(text); return (int64_t)len; }

REML_EXPORT("nyash:bid/math#negate")
int32_t math_negate(int32_t flag) { calls++; return flag ? 0 : 1; }

REML_EXPORT("nyash:bid/math#echo")
reml_string *math_echo(char *text, size_t len) {
  calls++;
  echo_area.ptr = text;          /* hand the argument's memory back as the result */
  echo_area.len = len;
  return &echo_area;
}

REML_EXPORT("cabi_post_nyash:bid/math#echo")
void math_post_echo(reml_string *r) { reml_free(r->ptr); }

REML_EXPORT("nyash:bid/math#count")
int64_t math_count(void) { return calls; }
