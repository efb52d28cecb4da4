/*
 * A BID library serving three interfaces both ways: through a vtable per interface
 * (native arguments, nyash_bid.h) and through nyash_plugin_invoke (TLV, nyash_plugin.h).
 * Both ways call the same C functions.
 *
 *   nyash.file     type 16: open(path, mode) -> handle, read(h) -> bytes,
 *                  write(h, data) -> i32, close(h)
 *   nyash.math     type 17: add(a, b) -> i32, scale(x, k) -> f64, length(s) -> i64,
 *                  negate(b) -> bool, echo(s) -> string, count() -> i64
 *   nyash.counter  type 18: make() -> handle, bump(h) -> i32 (a slow read-modify-write,
 *                  so unserialised calls from several threads lose updates), value(h) -> i32
 *
 * Method ids on the invoke path are the positions in those lists, from 1.  Handles are
 * u64 `type_id << 32 | instance_id` natively and tag 8 in TLV.  Build with
 * -DBIDFILE_VERSION=2 for a library that answers another BID version.
 */
#define _POSIX_C_SOURCE 200809L
#include "nyash_bid.h"
#include "nyash_plugin.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef BIDFILE_VERSION
#define BIDFILE_VERSION NYASH_BID_VERSION
#endif

#define FILE_TYPE 16u
#define MATH_TYPE 17u
#define COUNTER_TYPE 18u
#define MAX_FILES 256
#define MAX_COUNTERS 64

NYASH_EXPORT uint32_t nyash_bid_version(void) { return BIDFILE_VERSION; }
NYASH_EXPORT uint32_t nyash_plugin_abi(void) { return NYASH_ABI_VERSION; }

/* ---- nyash.file ------------------------------------------------------------------- */

static int files[MAX_FILES + 1];   /* fd + 1 per instance id; 0 = free */

static int mode_flags(const char *mode, size_t n) {
    if (n == 1 && mode[0] == 'r') return O_RDONLY;
    if (n == 1 && mode[0] == 'w') return O_WRONLY | O_CREAT | O_TRUNC;
    if (n == 1 && mode[0] == 'a') return O_WRONLY | O_APPEND | O_CREAT;
    if ((n == 2 && mode[0] == 'r' && (mode[1] == 'w' || mode[1] == '+'))) return O_RDWR | O_CREAT;
    return -1;
}

static int file_fd(uint64_t h) {
    uint32_t id = NYASH_BID_HANDLE_INSTANCE(h);
    if (NYASH_BID_HANDLE_TYPE(h) != FILE_TYPE || id == 0 || id > MAX_FILES || files[id] == 0) return -1;
    return files[id] - 1;
}

NYASH_EXPORT uint64_t nyash_file_open(const char *path, size_t path_len, const char *mode, size_t mode_len) {
    char name[4096];
    int flags = mode_flags(mode, mode_len);
    if (flags < 0 || path_len == 0 || path_len >= sizeof name || memchr(path, 0, path_len) != NULL) return 0;
    memcpy(name, path, path_len);
    name[path_len] = 0;
    for (uint32_t id = 1; id <= MAX_FILES; id++) {
        if (files[id] == 0) {
            int fd = open(name, flags, 0644);
            if (fd < 0) return 0;
            files[id] = fd + 1;
            return NYASH_BID_HANDLE(FILE_TYPE, id);
        }
    }
    return 0;
}

/* The whole file, from its start. */
NYASH_EXPORT int32_t nyash_file_read(uint64_t h, uint8_t *out, size_t *out_len) {
    struct stat st;
    int fd = file_fd(h);
    if (fd < 0) return NYB_E_INVALID_HANDLE;
    if (out_len == NULL) return NYB_E_INVALID_ARGS;
    if (fstat(fd, &st) != 0 || st.st_size < 0) return NYB_E_PLUGIN_ERROR;
    size_t size = (size_t)st.st_size;
    if (out == NULL || *out_len < size) { *out_len = size; return NYB_E_SHORT_BUFFER; }
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, out + done, size - done, (off_t)done);
        if (n < 0) return NYB_E_PLUGIN_ERROR;
        if (n == 0) break;
        done += (size_t)n;
    }
    *out_len = done;
    return NYB_SUCCESS;
}

NYASH_EXPORT int32_t nyash_file_write(uint64_t h, const uint8_t *data, size_t len) {
    int fd = file_fd(h);
    if (fd < 0) return -1;
    ssize_t n = write(fd, data, len);
    return n < 0 ? -1 : (int32_t)n;
}

NYASH_EXPORT void nyash_file_close(uint64_t h) {
    int fd = file_fd(h);
    if (fd >= 0) {
        close(fd);
        files[NYASH_BID_HANDLE_INSTANCE(h)] = 0;
    }
}

/* ---- nyash.math ------------------------------------------------------------------- */

static int64_t math_calls = 0;

NYASH_EXPORT int32_t nyash_math_add(int32_t a, int32_t b) { math_calls++; return (int32_t)((uint32_t)a + (uint32_t)b); }
NYASH_EXPORT double nyash_math_scale(double x, double k) { math_calls++; return x * k; }
NYASH_EXPORT int64_t nyash_math_length(const char *s, size_t n) { (void)s; math_calls++; return (int64_t)n; }
NYASH_EXPORT int32_t nyash_math_negate(int32_t b) { math_calls++; return b ? 0 : 1; }
NYASH_EXPORT int32_t nyash_math_echo(const char *s, size_t n, uint8_t *out, size_t *out_len) {
    if (out_len == NULL) return NYB_E_INVALID_ARGS;
    if (out == NULL || *out_len < n) { *out_len = n; return NYB_E_SHORT_BUFFER; }
    math_calls++;
    memcpy(out, s, n);
    *out_len = n;
    return NYB_SUCCESS;
}
NYASH_EXPORT int64_t nyash_math_count(void) { return math_calls; }

/* ---- nyash.counter ---------------------------------------------------------------- */

static int32_t counters[MAX_COUNTERS + 1];
static uint32_t counter_next = 1;

static int32_t *counter_of(uint64_t h) {
    uint32_t id = NYASH_BID_HANDLE_INSTANCE(h);
    if (NYASH_BID_HANDLE_TYPE(h) != COUNTER_TYPE || id == 0 || id >= counter_next) return NULL;
    return &counters[id];
}

NYASH_EXPORT uint64_t nyash_counter_make(void) {
    if (counter_next > MAX_COUNTERS) return 0;
    counters[counter_next] = 0;
    return NYASH_BID_HANDLE(COUNTER_TYPE, counter_next++);
}

/* Read, wait a little, write back: two unserialised callers lose one update. */
NYASH_EXPORT int32_t nyash_counter_bump(uint64_t h) {
    int32_t *c = counter_of(h);
    if (c == NULL) return -1;
    volatile int32_t value = *c;
    struct timespec pause = {0, 20000};
    nanosleep(&pause, NULL);
    *c = value + 1;
    return value + 1;
}

NYASH_EXPORT int32_t nyash_counter_value(uint64_t h) {
    int32_t *c = counter_of(h);
    return c == NULL ? -1 : *c;
}

/* ---- the vtables ------------------------------------------------------------------ */

static const BidTypeId T_STR_STR[] = {BID_TYPE_STRING, BID_TYPE_STRING};
static const BidTypeId T_HANDLE[] = {BID_TYPE_HANDLE};
static const BidTypeId T_HANDLE_BYTES[] = {BID_TYPE_HANDLE, BID_TYPE_BYTES};
static const BidTypeId T_I32_I32[] = {BID_TYPE_I32, BID_TYPE_I32};
static const BidTypeId T_F64_F64[] = {BID_TYPE_F64, BID_TYPE_F64};
static const BidTypeId T_STR[] = {BID_TYPE_STRING};
static const BidTypeId T_BOOL[] = {BID_TYPE_BOOL};

static const MethodEntry file_methods[] = {
    {"open", NYASH_BID_FN(nyash_file_open), 2, T_STR_STR, BID_TYPE_HANDLE},
    {"read", NYASH_BID_FN(nyash_file_read), 1, T_HANDLE, BID_TYPE_BYTES},
    {"write", NYASH_BID_FN(nyash_file_write), 2, T_HANDLE_BYTES, BID_TYPE_I32},
    {"close", NYASH_BID_FN(nyash_file_close), 1, T_HANDLE, BID_TYPE_VOID},
};
NYASH_EXPORT const InterfaceVTable nyash_nyash_file_vtable = {
    NYASH_VTABLE_VERSION, "nyash.file.v1", 4, file_methods};

static const MethodEntry math_methods[] = {
    {"add", NYASH_BID_FN(nyash_math_add), 2, T_I32_I32, BID_TYPE_I32},
    {"scale", NYASH_BID_FN(nyash_math_scale), 2, T_F64_F64, BID_TYPE_F64},
    {"length", NYASH_BID_FN(nyash_math_length), 1, T_STR, BID_TYPE_I64},
    {"negate", NYASH_BID_FN(nyash_math_negate), 1, T_BOOL, BID_TYPE_BOOL},
    {"echo", NYASH_BID_FN(nyash_math_echo), 1, T_STR, BID_TYPE_STRING},
    {"count", NYASH_BID_FN(nyash_math_count), 0, NULL, BID_TYPE_I64},
};
NYASH_EXPORT const InterfaceVTable nyash_nyash_math_vtable = {
    NYASH_VTABLE_VERSION, "nyash.math.v1", 6, math_methods};

static const MethodEntry counter_methods[] = {
    {"make", NYASH_BID_FN(nyash_counter_make), 0, NULL, BID_TYPE_HANDLE},
    {"bump", NYASH_BID_FN(nyash_counter_bump), 1, T_HANDLE, BID_TYPE_I32},
    {"value", NYASH_BID_FN(nyash_counter_value), 1, T_HANDLE, BID_TYPE_I32},
};
NYASH_EXPORT const InterfaceVTable nyash_nyash_counter_vtable = {
    NYASH_VTABLE_VERSION, "nyash.counter.v1", 3, counter_methods};

/* ---- the same functions through nyash_plugin_invoke ------------------------------- */

static int32_t read_handle(NyashTlvReader *r, uint64_t *h) {
    uint32_t type_id, instance_id;
    int32_t rc = nyash_tlv_read_handle(r, &type_id, &instance_id);
    if (rc == NYB_SUCCESS) *h = NYASH_BID_HANDLE(type_id, instance_id);
    return rc;
}

static int32_t answer_handle(uint8_t *result, size_t *result_len, uint64_t h) {
    if (NYASH_BID_HANDLE_INSTANCE(h) == 0) return NYB_E_PLUGIN_ERROR;
    return nyash_result_handle(result, result_len, NYASH_BID_HANDLE_TYPE(h), NYASH_BID_HANDLE_INSTANCE(h));
}

static int32_t answer_i64(uint8_t *result, size_t *result_len, int64_t v) {
    NyashTlvWriter w;
    nyash_tlv_begin(&w, result, result == NULL ? 0 : *result_len);
    nyash_tlv_put_i64(&w, v);
    return nyash_tlv_end(&w, result_len);
}

static int32_t answer_f64(uint8_t *result, size_t *result_len, double v) {
    NyashTlvWriter w;
    nyash_tlv_begin(&w, result, result == NULL ? 0 : *result_len);
    nyash_tlv_put_f64(&w, v);
    return nyash_tlv_end(&w, result_len);
}

static int32_t answer_bool(uint8_t *result, size_t *result_len, int v) {
    NyashTlvWriter w;
    nyash_tlv_begin(&w, result, result == NULL ? 0 : *result_len);
    nyash_tlv_put_bool(&w, v);
    return nyash_tlv_end(&w, result_len);
}

/* A string or bytes answer from a two-phase native function: ask it for the size first
 * (no side effect), reserve the TLV, then let it write into the payload. */
typedef int32_t (*data_fn)(const void *ctx, uint8_t *out, size_t *out_len);

static int32_t answer_data(uint8_t *result, size_t *result_len, uint8_t tag, data_fn fn, const void *ctx) {
    size_t need = 0;
    int32_t rc = fn(ctx, NULL, &need);
    if (rc != NYB_E_SHORT_BUFFER && rc != NYB_SUCCESS) return rc;
    if (need > 0xFFFF) return NYB_E_PLUGIN_ERROR;
    if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, need))) != NYB_SUCCESS) return rc;
    size_t got = need;
    if ((rc = fn(ctx, result + 8, &got)) != NYB_SUCCESS) return rc;
    nyash_put_u16(result, NYASH_TLV_VERSION);
    nyash_put_u16(result + 2, 1);
    result[4] = tag; result[5] = 0;
    nyash_put_u16(result + 6, (uint16_t)got);
    *result_len = NYASH_TLV_SIZE(1, got);
    return NYB_SUCCESS;
}

static int32_t read_file_data(const void *ctx, uint8_t *out, size_t *out_len) {
    return nyash_file_read(*(const uint64_t *)ctx, out, out_len);
}

typedef struct { const char *s; size_t n; } str_arg;
static int32_t echo_data(const void *ctx, uint8_t *out, size_t *out_len) {
    const str_arg *a = ctx;
    return nyash_math_echo(a->s, a->n, out, out_len);
}

static int32_t invoke_file(uint32_t method_id, NyashTlvReader *r, uint8_t *result, size_t *result_len) {
    const char *path, *mode; size_t path_len, mode_len;
    const uint8_t *data; size_t len;
    uint64_t h = 0; int32_t rc;
    switch (method_id) {
        case 1:
            if ((rc = nyash_tlv_read_string(r, &path, &path_len)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_tlv_read_string(r, &mode, &mode_len)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8))) != NYB_SUCCESS) return rc;
            return answer_handle(result, result_len, nyash_file_open(path, path_len, mode, mode_len));
        case 2:
            if ((rc = read_handle(r, &h)) != NYB_SUCCESS || (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            return answer_data(result, result_len, NYASH_TAG_BYTES, read_file_data, &h);
        case 3:
            if ((rc = read_handle(r, &h)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_tlv_read_data(r, &data, &len)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 4))) != NYB_SUCCESS) return rc;
            if (file_fd(h) < 0) return NYB_E_INVALID_HANDLE;
            return nyash_result_i32(result, result_len, nyash_file_write(h, data, len));
        case 4:
            if ((rc = read_handle(r, &h)) != NYB_SUCCESS || (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0))) != NYB_SUCCESS) return rc;
            if (file_fd(h) < 0) return NYB_E_INVALID_HANDLE;
            nyash_file_close(h);
            return nyash_result_void(result, result_len);
        default:
            return NYB_E_INVALID_METHOD;
    }
}

static int32_t invoke_math(uint32_t method_id, NyashTlvReader *r, uint8_t *result, size_t *result_len) {
    int32_t a, b, rc; int flag; double x, k; str_arg s;
    switch (method_id) {
        case 1:
            if ((rc = nyash_tlv_read_i32(r, &a)) != NYB_SUCCESS || (rc = nyash_tlv_read_i32(r, &b)) != NYB_SUCCESS ||
                (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 4))) != NYB_SUCCESS) return rc;
            return nyash_result_i32(result, result_len, nyash_math_add(a, b));
        case 2:
            if ((rc = nyash_tlv_read_f64(r, &x)) != NYB_SUCCESS || (rc = nyash_tlv_read_f64(r, &k)) != NYB_SUCCESS ||
                (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8))) != NYB_SUCCESS) return rc;
            return answer_f64(result, result_len, nyash_math_scale(x, k));
        case 3:
            if ((rc = nyash_tlv_read_string(r, &s.s, &s.n)) != NYB_SUCCESS || (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS)
                return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8))) != NYB_SUCCESS) return rc;
            return answer_i64(result, result_len, nyash_math_length(s.s, s.n));
        case 4:
            if ((rc = nyash_tlv_read_bool(r, &flag)) != NYB_SUCCESS || (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS)
                return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 1))) != NYB_SUCCESS) return rc;
            return answer_bool(result, result_len, nyash_math_negate(flag));
        case 5:
            if ((rc = nyash_tlv_read_string(r, &s.s, &s.n)) != NYB_SUCCESS || (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS)
                return rc;
            return answer_data(result, result_len, NYASH_TAG_STRING, echo_data, &s);
        case 6:
            if ((rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            return answer_i64(result, result_len, nyash_math_count());
        default:
            return NYB_E_INVALID_METHOD;
    }
}

static int32_t invoke_counter(uint32_t method_id, NyashTlvReader *r, uint8_t *result, size_t *result_len) {
    uint64_t h; int32_t rc;
    switch (method_id) {
        case 1:
            if ((rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8))) != NYB_SUCCESS) return rc;
            return answer_handle(result, result_len, nyash_counter_make());
        case 2:
        case 3:
            if ((rc = read_handle(r, &h)) != NYB_SUCCESS || (rc = nyash_tlv_reader_done(r)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 4))) != NYB_SUCCESS) return rc;
            if (counter_of(h) == NULL) return NYB_E_INVALID_HANDLE;
            return nyash_result_i32(result, result_len, method_id == 2 ? nyash_counter_bump(h) : nyash_counter_value(h));
        default:
            return NYB_E_INVALID_METHOD;
    }
}

NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                                         const uint8_t *args, size_t args_len,
                                         uint8_t *result, size_t *result_len) {
    NyashTlvReader r;
    int32_t rc;
    (void)instance_id;            /* every method is a function of its interface */
    if (result_len == NULL) return NYB_E_INVALID_ARGS;
    if ((rc = nyash_tlv_reader_init(&r, args, args_len)) != NYB_SUCCESS) return rc;
    switch (type_id) {
        case FILE_TYPE: return invoke_file(method_id, &r, result, result_len);
        case MATH_TYPE: return invoke_math(method_id, &r, result, result_len);
        case COUNTER_TYPE: return invoke_counter(method_id, &r, result, result_len);
        default: return NYB_E_INVALID_TYPE;
    }
}
