#ifndef FEATURES_H
#define FEATURES_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define FEAT_VERSION "1.2"
#define FEAT_MAX 0x7fffffff
#define FEAT_BIG 4294967296ULL
#define FEAT_NEG (-(1 << 4))
#define FEAT_PI 3.25
#define FEAT_HALF 0.5f
#define FEAT_DERIVED (FEAT_MAX - 1)
#define FEAT_SQUARE(x) ((x) * (x))
#define FEAT_CALL feat_version()

typedef struct feat_opaque feat_opaque;
typedef int (*feat_cb)(void *ctx, const char *msg);
typedef unsigned long feat_size;

enum feat_color { FEAT_RED, FEAT_GREEN = 5, FEAT_BLUE, FEAT_NEGATIVE = -3 - 4, FEAT_SHIFTED = 1 << 10 };
typedef enum { FEAT_A = FEAT_BLUE * 2, FEAT_B } feat_letter;

struct feat_point { int32_t x, y; };

typedef struct feat_shape {
    enum feat_color color;
    struct feat_point origin;
    struct { double w, h; } size;
    union { int radius; float side; };
    unsigned int visible : 1;
    unsigned int layer : 7;
    unsigned int : 0;
    char tag;
    const char *name;
    feat_cb on_draw;
    volatile int32_t counters[4];
    struct feat_shape *next;
} feat_shape;

union feat_value { int64_t i; double d; char bytes[12]; };

struct feat_buffer { size_t len; unsigned char data[]; };

const char *feat_version(void);
int feat_add(int a, int b);
double feat_scale(double v, float by);
int feat_log(const char *restrict fmt, ...);
int feat_vlog(const char *fmt, va_list ap);
feat_opaque *feat_open(const char *path, feat_cb cb, void *ctx);
void feat_close(feat_opaque *h);
struct feat_point feat_mid(struct feat_point a, struct feat_point b);
feat_size feat_area(const feat_shape *s);
int feat_sum(const int values[], size_t n);
long double feat_precise(void);
static inline int feat_twice(int x) { return 2 * x; }
extern int feat_counter;
#endif
