/*
 * HostileBox (type 90): a plugin that breaks the host's trust in every way the host must
 * survive, for the robustness tests.
 *
 *   0          birth     -> always instance id 1 (a second birth repeats a live id)
 *   1          scribble  -> writes 0xEE over its whole (const) argument buffer, answers void
 *   2          nul       -> a string result with a NUL in the middle ("a\0b")
 *   3          block     -> sleeps for `arg` milliseconds (an i32 argument), answers void
 *   4          fini_count -> i32, how many fini calls arrived
 *   5          hang      -> sleeps a minute (no arguments), answers void
 *   0xFFFFFFFF fini      -> void
 */
#define _POSIX_C_SOURCE 199309L
#include "nyash_plugin.h"

#include <string.h>
#include <time.h>

#define HOSTILEBOX_TYPE_ID 90u

static int32_t finis = 0;

NYASH_EXPORT uint32_t nyash_plugin_abi(void) { return NYASH_ABI_VERSION; }

NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                                         const uint8_t *args, size_t args_len,
                                         uint8_t *result, size_t *result_len) {
    (void)instance_id;
    if (type_id != HOSTILEBOX_TYPE_ID) return NYB_E_INVALID_TYPE;
    if (result_len == NULL) return NYB_E_INVALID_ARGS;
    switch (method_id) {
        case NYASH_METHOD_BIRTH:
            return nyash_write_instance_id(result, result_len, 1u);
        case 1:
            memset((uint8_t *)args, 0xEE, args_len);   /* the argument buffer is const: a bug */
            return nyash_result_void(result, result_len);
        case 2: {
            NyashTlvWriter w;
            nyash_tlv_begin(&w, result, *result_len);
            nyash_tlv_put_string(&w, "a\0b", 3);
            return nyash_tlv_end(&w, result_len);
        }
        case 3: {
            int32_t ms = 0;
            if (args_len >= 12 && args[4] == NYASH_TAG_I32) ms = (int32_t)nyash_get_u32(args + 8);
            struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            return nyash_result_void(result, result_len);
        }
        case 4:
            return nyash_result_i32(result, result_len, finis);
        case 5: {
            struct timespec ts = { 60, 0 };
            nanosleep(&ts, NULL);
            return nyash_result_void(result, result_len);
        }
        case NYASH_METHOD_FINI:
            finis++;
            return nyash_result_void(result, result_len);
        default:
            return NYB_E_INVALID_METHOD;
    }
}
