/* direct.h: a plain C library for the native connector's direct-call tests and
 * benchmark (not a component guest).  Its own allocator counts live blocks so tests can
 * check that memory changing hands is freed exactly once. */
#ifndef REML_DIRECT_H
#define REML_DIRECT_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define DIRECT_API __attribute__((visibility("default")))

typedef struct { int32_t x; int32_t y; } point;
typedef struct { point a; point b; double weight; } segment;

DIRECT_API int inc(int x);
DIRECT_API int64_t add_i64(int64_t a, int64_t b);
DIRECT_API uint8_t add_u8(uint8_t a, uint8_t b);
DIRECT_API double scale(double x, float by);
DIRECT_API bool is_even(int32_t x);
DIRECT_API uint32_t next_char(uint32_t c);

DIRECT_API point point_add(point a, point b);
DIRECT_API int64_t point_dot(point a, point b);
DIRECT_API segment segment_flip(segment s);

DIRECT_API size_t text_len(const char *s);
DIRECT_API const char *greeting(void);
DIRECT_API const char *maybe_text(int which);
DIRECT_API char *upper_dup(const char *s);      /* libc malloc; the caller frees */
DIRECT_API char *lib_concat(const char *a, const char *b); /* lib_alloc; caller frees with lib_free */
DIRECT_API size_t lib_take(char *s);           /* takes ownership; frees with lib_free */
DIRECT_API const char *bad_utf8(void);

DIRECT_API void *lib_alloc(size_t n);
DIRECT_API void lib_free(void *p);
DIRECT_API int lib_live(void);                 /* blocks from lib_alloc not yet freed */

DIRECT_API int32_t *counter_cell(void);
DIRECT_API int32_t read_cell(const int32_t *cell);
#endif
