/* FFI-BUILD-001: a small C library with a header of its own. */
#ifndef MATHX_H
#define MATHX_H

#include <stdint.h>
#include <stddef.h>

typedef struct mathx_vec2 {
    double x;
    double y;
} mathx_vec2;

int32_t mathx_add(int32_t a, int32_t b);
double mathx_dot(const mathx_vec2 *a, const mathx_vec2 *b);
size_t mathx_count_bits(uint64_t value);
void mathx_reset(void);

#endif
