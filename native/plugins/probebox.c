/*
 * ProbeBox: a deliberately misbehaving plugin for the loader's robustness tests, plus
 * a few well-behaved probes (fini counting, echo, handles, error messages).
 *
 * Type 99 (ProbeBox), birth as usual.  Methods:
 *   1  i32 entry with size 3             8  always short buffer, needing more each time
 *   2  unknown tag 42                    9  needs 2^60 bytes
 *   3  entry length past the end         10 returns -77
 *   4  *result_len past the buffer       11 trailing bytes after the entries
 *   5  TLV version 2                     12 short buffer but asks for no more than given
 *   6  string that is not UTF-8          13 a 2-byte result (shorter than a header)
 *   7  argc 3, one entry                 14 reserved tag 20 (result)
 *  15  success with a 0-byte result (an older plugin's void)
 *  20  handle to this very instance      21 handle to a new ProbeBox
 *  30  i32: fini calls so far            31 i32: births so far
 *  40  echo: the arguments as the result 41 bytes of N (i32 arg) 0x5A bytes
 *  42  returns -5 with the string "probe failed" as the result
 *  43  validate: nyash_tlv_validate over the raw arguments; its code, or a void result
 * Type 98: birth answers 3 bytes.  Type 97: birth answers instance id 0.
 *
 * nyash_plugin_shutdown writes "births=N finis=M" to the file named by the environment
 * variable NYASH_PROBE_SHUTDOWN_MARK, when set.
 *
 * Build variants: -DPROBE_REFUSE_INIT (init returns 1), -DPROBE_ABI=N (abi returns N),
 * -DPROBE_NO_INVOKE (no nyash_plugin_invoke export).
 */
#define _POSIX_C_SOURCE 200809L
#include "nyash_plugin.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef PROBE_ABI
#define PROBE_ABI 1
#endif

static uint32_t births = 0, finis = 0;
static uint32_t next_id = 1;
static uint32_t short_round = 0;

NYASH_EXPORT uint32_t nyash_plugin_abi(void) { return PROBE_ABI; }

NYASH_EXPORT int32_t nyash_plugin_init(void) {
#ifdef PROBE_REFUSE_INIT
    return 1;
#else
    return 0;
#endif
}

NYASH_EXPORT void nyash_plugin_shutdown(void) {
    const char *mark = getenv("NYASH_PROBE_SHUTDOWN_MARK");
    if (mark == NULL) return;
    FILE *f = fopen(mark, "w");
    if (f == NULL) return;
    fprintf(f, "births=%u finis=%u", births, finis);
    fclose(f);
}

static int32_t raw(uint8_t *result, size_t *result_len, const uint8_t *bytes, size_t n) {
    int32_t rc = nyash_result_reserve(result, result_len, n);
    if (rc != NYB_SUCCESS) return rc;
    memcpy(result, bytes, n);
    *result_len = n;
    return NYB_SUCCESS;
}

#ifdef PROBE_NO_INVOKE
#define nyash_plugin_invoke probe_invoke_under_another_name
#endif
NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                                         const uint8_t *args, size_t args_len,
                                         uint8_t *result, size_t *result_len) {
    if (result_len == NULL) return NYB_E_INVALID_ARGS;
    if (type_id == 98 && method_id == 0) {
        static const uint8_t three[3] = {1, 0, 0};
        return raw(result, result_len, three, 3);
    }
    if (type_id == 97 && method_id == 0) return nyash_write_instance_id(result, result_len, 0);
    if (type_id != 99) return NYB_E_INVALID_TYPE;
    if (method_id == NYASH_METHOD_BIRTH) {
        int32_t rc = nyash_result_reserve(result, result_len, 4);
        if (rc != NYB_SUCCESS) return rc;
        births++;
        return nyash_write_instance_id(result, result_len, next_id++);
    }
    if (instance_id == 0 || instance_id >= next_id) return NYB_E_INVALID_HANDLE;
    switch (method_id) {
        case 1: { static const uint8_t b[] = {1,0,1,0, 2,0,3,0, 1,2,3}; return raw(result, result_len, b, sizeof b); }
        case 2: { static const uint8_t b[] = {1,0,1,0, 42,0,1,0, 7}; return raw(result, result_len, b, sizeof b); }
        case 3: { static const uint8_t b[] = {1,0,1,0, 7,0,100,0, 1,2,3,4}; return raw(result, result_len, b, sizeof b); }
        case 4: {
            int32_t rc = nyash_result_void(result, result_len);
            if (rc == NYB_SUCCESS) *result_len = (size_t)1 << 40;   /* lies about what it wrote */
            return rc;
        }
        case 5: { static const uint8_t b[] = {2,0,1,0, 9,0,0,0}; return raw(result, result_len, b, sizeof b); }
        case 6: { static const uint8_t b[] = {1,0,1,0, 6,0,2,0, 0xC3,0x28}; return raw(result, result_len, b, sizeof b); }
        case 7: { static const uint8_t b[] = {1,0,3,0, 2,0,4,0, 1,0,0,0}; return raw(result, result_len, b, sizeof b); }
        case 8: *result_len = (result ? *result_len : 64) + 64 + (short_round++); return NYB_E_SHORT_BUFFER;
        case 9: *result_len = (size_t)1 << 60; return NYB_E_SHORT_BUFFER;
        case 10: return -77;
        case 11: { static const uint8_t b[] = {1,0,1,0, 9,0,0,0, 0xEE}; return raw(result, result_len, b, sizeof b); }
        case 12: if (result) return NYB_E_SHORT_BUFFER; *result_len = 8; return NYB_E_SHORT_BUFFER;
        case 13: { static const uint8_t b[] = {1,0}; return raw(result, result_len, b, sizeof b); }
        case 14: { static const uint8_t b[] = {1,0,1,0, 20,0,0,0}; return raw(result, result_len, b, sizeof b); }
        case 15: *result_len = 0; return NYB_SUCCESS;   /* success, no result bytes */
        case 20: return nyash_result_handle(result, result_len, 99, instance_id);
        case 21: {
            int32_t rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8));
            if (rc != NYB_SUCCESS) return rc;
            births++;
            return nyash_result_handle(result, result_len, 99, next_id++);
        }
        case 30: return nyash_result_i32(result, result_len, (int32_t)finis);
        case 31: return nyash_result_i32(result, result_len, (int32_t)births);
        case 40: return raw(result, result_len, args, args_len);
        case 43: {   /* validate: the header's reader over the raw arguments */
            int32_t rc = nyash_tlv_validate(args, args_len);
            return rc != NYB_SUCCESS ? rc : nyash_result_void(result, result_len);
        }
        case 41: {
            NyashTlvReader r; int32_t n, rc;
            if ((rc = nyash_tlv_reader_init(&r, args, args_len)) != NYB_SUCCESS) return rc;
            if ((rc = nyash_tlv_read_i32(&r, &n)) != NYB_SUCCESS) return rc;
            if (n < 0 || n > 0xFFFF) return NYB_E_INVALID_ARGS;
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, (size_t)n))) != NYB_SUCCESS) return rc;
            uint8_t *data = malloc((size_t)n + 1);
            if (data == NULL) return NYB_E_OUT_OF_MEMORY;
            memset(data, 0x5A, (size_t)n);
            NyashTlvWriter w; nyash_tlv_begin(&w, result, *result_len);
            nyash_tlv_put_bytes(&w, data, (size_t)n);
            free(data);
            return nyash_tlv_end(&w, result_len);
        }
        case 42: {
            NyashTlvWriter w; nyash_tlv_begin(&w, result, *result_len);
            nyash_tlv_put_cstring(&w, "probe failed");
            int32_t rc = nyash_tlv_end(&w, result_len);
            return rc == NYB_SUCCESS ? NYB_E_PLUGIN_ERROR : rc;
        }
        case NYASH_METHOD_FINI: {
            int32_t rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0));
            if (rc != NYB_SUCCESS) return rc;
            finis++;
            return nyash_result_void(result, result_len);
        }
        default: return NYB_E_INVALID_METHOD;
    }
}
