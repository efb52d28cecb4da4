/*
 * nyash_plugin.h - the Nyash BID-1 plugin ABI for plugin authors (C99, header only).
 *
 * A plugin is a shared library exporting
 *
 *   int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
 *                               const uint8_t *args, size_t args_len,
 *                               uint8_t *result, size_t *result_len);
 *
 * and optionally nyash_plugin_init (nonzero = refuse to load), nyash_plugin_abi (returns 1)
 * and nyash_plugin_shutdown.  Arguments and results are TLV (BID-1): a 4-byte header
 * `u16 version = 1, u16 argc`, then entries `u8 tag, u8 reserved = 0, u16 size, payload`,
 * all little-endian.  Birth (method 0) answers the new instance id as 4 raw little-endian
 * bytes; fini is method 0xFFFFFFFF.
 *
 * Two-phase results: when `result` is NULL or `*result_len` is too small, set `*result_len`
 * to the size needed and return NYB_E_SHORT_BUFFER *before* doing anything with side effects;
 * the host calls again with a big enough buffer.  `nyash_result_reserve` does exactly that.
 *
 * Everything here is `static inline`; include it from any number of translation units.
 */
#ifndef NYASH_PLUGIN_H
#define NYASH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define NYASH_EXPORT __declspec(dllexport)
#else
#define NYASH_EXPORT __attribute__((visibility("default")))
#endif

/* Return codes. */
#define NYB_SUCCESS            0
#define NYB_E_SHORT_BUFFER    (-1)
#define NYB_E_INVALID_TYPE    (-2)
#define NYB_E_INVALID_METHOD  (-3)
#define NYB_E_INVALID_ARGS    (-4)
#define NYB_E_PLUGIN_ERROR    (-5)
#define NYB_E_OUT_OF_MEMORY   (-6)
#define NYB_E_INVALID_UTF8    (-7)
#define NYB_E_INVALID_HANDLE  (-8)
#define NYB_E_VERSION         (-9)

/* TLV tags. */
#define NYASH_TAG_BOOL    1
#define NYASH_TAG_I32     2
#define NYASH_TAG_I64     3
#define NYASH_TAG_F32     4
#define NYASH_TAG_F64     5
#define NYASH_TAG_STRING  6
#define NYASH_TAG_BYTES   7
#define NYASH_TAG_HANDLE  8
#define NYASH_TAG_VOID    9

#define NYASH_TLV_VERSION  1
#define NYASH_METHOD_BIRTH 0u
#define NYASH_METHOD_FINI  0xFFFFFFFFu
#define NYASH_ABI_VERSION  1u

/* Bytes of a TLV buffer with `entries` entries carrying `payload` payload bytes in all. */
#define NYASH_TLV_SIZE(entries, payload) ((size_t)4 + (size_t)4 * (entries) + (size_t)(payload))

/* ---- little-endian helpers ---------------------------------------------------------- */

static inline uint16_t nyash_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t nyash_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t nyash_get_u64(const uint8_t *p) {
    return (uint64_t)nyash_get_u32(p) | ((uint64_t)nyash_get_u32(p + 4) << 32);
}
static inline void nyash_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void nyash_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void nyash_put_u64(uint8_t *p, uint64_t v) {
    nyash_put_u32(p, (uint32_t)v); nyash_put_u32(p + 4, (uint32_t)(v >> 32));
}

/* Two-phase check: 0 when `result` can hold `needed` bytes, else sets *result_len = needed
 * and returns NYB_E_SHORT_BUFFER (return that from invoke, with no side effect done). */
static inline int32_t nyash_result_reserve(uint8_t *result, size_t *result_len, size_t needed) {
    if (result_len == NULL) return NYB_E_INVALID_ARGS;
    if (result == NULL || *result_len < needed) {
        *result_len = needed;
        return NYB_E_SHORT_BUFFER;
    }
    return NYB_SUCCESS;
}

/* Birth's answer: the instance id as 4 raw little-endian bytes (not TLV). */
static inline int32_t nyash_write_instance_id(uint8_t *result, size_t *result_len, uint32_t id) {
    int32_t rc = nyash_result_reserve(result, result_len, 4);
    if (rc != NYB_SUCCESS) return rc;
    nyash_put_u32(result, id);
    *result_len = 4;
    return NYB_SUCCESS;
}

/* ---- writing TLV ---------------------------------------------------------------------- */

/* A writer measures always and writes only while the bytes fit in `cap`; finish with
 * nyash_tlv_end, which reports the size (and NYB_E_SHORT_BUFFER when it did not fit). */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint16_t count;
    int overflow;   /* a payload was > 65535 bytes or there were > 65535 entries */
} NyashTlvWriter;

static inline void nyash_tlv_begin(NyashTlvWriter *w, uint8_t *buf, size_t cap) {
    w->buf = buf; w->cap = buf ? cap : 0; w->len = 4; w->count = 0; w->overflow = 0;
}

static inline void nyash_tlv_put(NyashTlvWriter *w, uint8_t tag, const void *payload, size_t size) {
    if (size > 0xFFFF || w->count == 0xFFFF) { w->overflow = 1; return; }
    if (w->len + 4 + size <= w->cap) {
        uint8_t *p = w->buf + w->len;
        p[0] = tag; p[1] = 0; nyash_put_u16(p + 2, (uint16_t)size);
        if (size) memcpy(p + 4, payload, size);
    }
    w->len += 4 + size;
    w->count++;
}

static inline void nyash_tlv_put_bool(NyashTlvWriter *w, int v) { uint8_t b = v ? 1 : 0; nyash_tlv_put(w, NYASH_TAG_BOOL, &b, 1); }
static inline void nyash_tlv_put_i32(NyashTlvWriter *w, int32_t v) { uint8_t b[4]; nyash_put_u32(b, (uint32_t)v); nyash_tlv_put(w, NYASH_TAG_I32, b, 4); }
static inline void nyash_tlv_put_i64(NyashTlvWriter *w, int64_t v) { uint8_t b[8]; nyash_put_u64(b, (uint64_t)v); nyash_tlv_put(w, NYASH_TAG_I64, b, 8); }
static inline void nyash_tlv_put_f32(NyashTlvWriter *w, float v) { uint32_t u; memcpy(&u, &v, 4); uint8_t b[4]; nyash_put_u32(b, u); nyash_tlv_put(w, NYASH_TAG_F32, b, 4); }
static inline void nyash_tlv_put_f64(NyashTlvWriter *w, double v) { uint64_t u; memcpy(&u, &v, 8); uint8_t b[8]; nyash_put_u64(b, u); nyash_tlv_put(w, NYASH_TAG_F64, b, 8); }
static inline void nyash_tlv_put_string(NyashTlvWriter *w, const char *s, size_t n) { nyash_tlv_put(w, NYASH_TAG_STRING, s, n); }
static inline void nyash_tlv_put_cstring(NyashTlvWriter *w, const char *s) { nyash_tlv_put(w, NYASH_TAG_STRING, s, strlen(s)); }
static inline void nyash_tlv_put_bytes(NyashTlvWriter *w, const void *p, size_t n) { nyash_tlv_put(w, NYASH_TAG_BYTES, p, n); }
static inline void nyash_tlv_put_handle(NyashTlvWriter *w, uint32_t type_id, uint32_t instance_id) {
    uint8_t b[8]; nyash_put_u32(b, type_id); nyash_put_u32(b + 4, instance_id); nyash_tlv_put(w, NYASH_TAG_HANDLE, b, 8);
}
static inline void nyash_tlv_put_void(NyashTlvWriter *w) { nyash_tlv_put(w, NYASH_TAG_VOID, NULL, 0); }

/* Write the header and the size.  Returns NYB_SUCCESS, NYB_E_SHORT_BUFFER (with
 * *result_len = the size needed) or NYB_E_INVALID_ARGS for an oversized payload. */
static inline int32_t nyash_tlv_end(NyashTlvWriter *w, size_t *result_len) {
    if (w->overflow) return NYB_E_INVALID_ARGS;
    if (w->len > w->cap) { *result_len = w->len; return NYB_E_SHORT_BUFFER; }
    nyash_put_u16(w->buf, NYASH_TLV_VERSION);
    nyash_put_u16(w->buf + 2, w->count);
    *result_len = w->len;
    return NYB_SUCCESS;
}

/* The whole answer in one go: a void result (8 bytes), an i32, a handle. */
static inline int32_t nyash_result_void(uint8_t *result, size_t *result_len) {
    int32_t rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0));
    if (rc != NYB_SUCCESS) return rc;
    NyashTlvWriter w; nyash_tlv_begin(&w, result, *result_len); nyash_tlv_put_void(&w);
    return nyash_tlv_end(&w, result_len);
}
static inline int32_t nyash_result_i32(uint8_t *result, size_t *result_len, int32_t v) {
    int32_t rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 4));
    if (rc != NYB_SUCCESS) return rc;
    NyashTlvWriter w; nyash_tlv_begin(&w, result, *result_len); nyash_tlv_put_i32(&w, v);
    return nyash_tlv_end(&w, result_len);
}
static inline int32_t nyash_result_handle(uint8_t *result, size_t *result_len, uint32_t type_id, uint32_t instance_id) {
    int32_t rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8));
    if (rc != NYB_SUCCESS) return rc;
    NyashTlvWriter w; nyash_tlv_begin(&w, result, *result_len); nyash_tlv_put_handle(&w, type_id, instance_id);
    return nyash_tlv_end(&w, result_len);
}

/* ---- reading TLV ---------------------------------------------------------------------- */

/* Minimal UTF-8 validity check (no overlongs, no surrogates, <= U+10FFFF). */
static inline int nyash_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k; uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; if (cp < 2) return 0; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
        else return 0;
        if (n - i <= k) return 0;  /* needs k continuation bytes after s[i] */
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += k + 1;
    }
    return 1;
}

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    uint16_t argc;
    uint16_t index;
} NyashTlvReader;

typedef struct {
    uint8_t tag;
    uint16_t size;
    const uint8_t *payload;
} NyashTlvEntry;

/* Check the header.  NYB_E_VERSION for version != 1, NYB_E_INVALID_ARGS if truncated. */
static inline int32_t nyash_tlv_reader_init(NyashTlvReader *r, const uint8_t *args, size_t len) {
    r->buf = args; r->len = len; r->pos = 4; r->argc = 0; r->index = 0;
    if (args == NULL || len < 4) return NYB_E_INVALID_ARGS;
    if (nyash_get_u16(args) != NYASH_TLV_VERSION) return NYB_E_VERSION;
    r->argc = nyash_get_u16(args + 2);
    return NYB_SUCCESS;
}

/* The next entry.  Checks in the host decoder's order: NYB_E_INVALID_ARGS when there is
 * none or its header is cut off; NYB_E_INVALID_TYPE for an unknown tag; NYB_E_INVALID_ARGS
 * for a nonzero reserved byte, a payload past the end, or a fixed-size type of the wrong size. */
static inline int32_t nyash_tlv_next(NyashTlvReader *r, NyashTlvEntry *e) {
    if (r->index >= r->argc || r->pos + 4 > r->len) return NYB_E_INVALID_ARGS;
    const uint8_t *p = r->buf + r->pos;
    uint16_t size = nyash_get_u16(p + 2);
    int fixed;
    switch (p[0]) {
        case NYASH_TAG_BOOL: fixed = 1; break;
        case NYASH_TAG_I32: case NYASH_TAG_F32: fixed = 4; break;
        case NYASH_TAG_I64: case NYASH_TAG_F64: case NYASH_TAG_HANDLE: fixed = 8; break;
        case NYASH_TAG_VOID: fixed = 0; break;
        case NYASH_TAG_STRING: case NYASH_TAG_BYTES: fixed = -1; break;
        default: return NYB_E_INVALID_TYPE;
    }
    if (p[1] != 0) return NYB_E_INVALID_ARGS;
    if (size > r->len - r->pos - 4) return NYB_E_INVALID_ARGS;
    if (fixed >= 0 && size != (uint16_t)fixed) return NYB_E_INVALID_ARGS;
    e->tag = p[0]; e->size = size; e->payload = p + 4;
    r->pos += 4 + (size_t)size;
    r->index++;
    return NYB_SUCCESS;
}

/* NYB_SUCCESS when every entry was read and nothing follows; else NYB_E_INVALID_ARGS. */
static inline int32_t nyash_tlv_reader_done(const NyashTlvReader *r) {
    return (r->index == r->argc && r->pos == r->len) ? NYB_SUCCESS : NYB_E_INVALID_ARGS;
}

/* Walk a whole argument buffer the way the host decodes results: every entry, strings
 * checked for UTF-8 and for NUL (which a TLV string may not hold), nothing left over.  NYB_SUCCESS or the first problem's code. */
static inline int32_t nyash_tlv_validate(const uint8_t *args, size_t len) {
    NyashTlvReader r; NyashTlvEntry e;
    int32_t rc = nyash_tlv_reader_init(&r, args, len);
    if (rc != NYB_SUCCESS) return rc;
    while (r.index < r.argc) {
        if ((rc = nyash_tlv_next(&r, &e)) != NYB_SUCCESS) return rc;
        if (e.tag == NYASH_TAG_STRING && !nyash_utf8_valid(e.payload, e.size)) return NYB_E_INVALID_UTF8;
        if (e.tag == NYASH_TAG_STRING && e.size && memchr(e.payload, 0, e.size)) return NYB_E_INVALID_ARGS;
    }
    return nyash_tlv_reader_done(&r);
}

static inline int32_t nyash_tlv_expect(NyashTlvReader *r, NyashTlvEntry *e, uint8_t tag) {
    int32_t rc = nyash_tlv_next(r, e);
    if (rc != NYB_SUCCESS) return rc;
    return e->tag == tag ? NYB_SUCCESS : NYB_E_INVALID_ARGS;
}

static inline int32_t nyash_tlv_read_bool(NyashTlvReader *r, int *out) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_BOOL);
    if (rc == NYB_SUCCESS) *out = e.payload[0] != 0;
    return rc;
}
static inline int32_t nyash_tlv_read_i32(NyashTlvReader *r, int32_t *out) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_I32);
    if (rc == NYB_SUCCESS) *out = (int32_t)nyash_get_u32(e.payload);
    return rc;
}
static inline int32_t nyash_tlv_read_i64(NyashTlvReader *r, int64_t *out) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_I64);
    if (rc == NYB_SUCCESS) *out = (int64_t)nyash_get_u64(e.payload);
    return rc;
}
static inline int32_t nyash_tlv_read_f32(NyashTlvReader *r, float *out) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_F32);
    if (rc == NYB_SUCCESS) { uint32_t u = nyash_get_u32(e.payload); memcpy(out, &u, 4); }
    return rc;
}
static inline int32_t nyash_tlv_read_f64(NyashTlvReader *r, double *out) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_F64);
    if (rc == NYB_SUCCESS) { uint64_t u = nyash_get_u64(e.payload); memcpy(out, &u, 8); }
    return rc;
}

/* A string (tag 6): pointer into the argument buffer (not NUL-terminated) and length.
 * NYB_E_INVALID_UTF8 when the payload is not UTF-8, NYB_E_INVALID_ARGS when it holds NUL. */
static inline int32_t nyash_tlv_read_string(NyashTlvReader *r, const char **s, size_t *n) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_STRING);
    if (rc != NYB_SUCCESS) return rc;
    if (!nyash_utf8_valid(e.payload, e.size)) return NYB_E_INVALID_UTF8;
    if (e.size && memchr(e.payload, 0, e.size)) return NYB_E_INVALID_ARGS;
    *s = (const char *)e.payload; *n = e.size;
    return NYB_SUCCESS;
}
/* Bytes (tag 7), or a string (tag 6) taken as its UTF-8 bytes. */
static inline int32_t nyash_tlv_read_data(NyashTlvReader *r, const uint8_t **p, size_t *n) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_next(r, &e);
    if (rc != NYB_SUCCESS) return rc;
    if (e.tag != NYASH_TAG_BYTES && e.tag != NYASH_TAG_STRING) return NYB_E_INVALID_ARGS;
    *p = e.payload; *n = e.size;
    return NYB_SUCCESS;
}
static inline int32_t nyash_tlv_read_handle(NyashTlvReader *r, uint32_t *type_id, uint32_t *instance_id) {
    NyashTlvEntry e; int32_t rc = nyash_tlv_expect(r, &e, NYASH_TAG_HANDLE);
    if (rc == NYB_SUCCESS) { *type_id = nyash_get_u32(e.payload); *instance_id = nyash_get_u32(e.payload + 4); }
    return rc;
}

/* Check an argument list has no entries (birth, fini, zero-argument methods). */
static inline int32_t nyash_tlv_expect_empty(const uint8_t *args, size_t len) {
    NyashTlvReader r; int32_t rc = nyash_tlv_reader_init(&r, args, len);
    if (rc != NYB_SUCCESS) return rc;
    return nyash_tlv_reader_done(&r);
}

#ifdef __cplusplus
}
#endif
#endif /* NYASH_PLUGIN_H */
