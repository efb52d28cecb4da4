/* FFI-BUILD-001: the library behind include/mathx.h (built by the scenario runner). */
#include "mathx.h"

static int32_t calls;

int32_t mathx_add(int32_t a, int32_t b) { calls++; return a + b; }

double mathx_dot(const mathx_vec2 *a, const mathx_vec2 *b) {
    calls++;
    return a->x * b->x + a->y * b->y;
}

size_t mathx_count_bits(uint64_t value) {
    size_t n = 0;
    calls++;
    while (value) { n += value & 1u; value >>= 1; }
    return n;
}

void mathx_reset(void) { calls = 0; }
