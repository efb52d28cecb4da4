/*
 * CounterBox (type 7, a singleton in nyash.toml): a counter per instance.
 *
 *   0          birth -> instance id (4 raw bytes)
 *   1          inc   -> i32, the value after incrementing
 *   2          get   -> i32, the current value
 *   0xFFFFFFFF fini  -> void
 */
#include "nyash_plugin.h"

#include <stdlib.h>

#define COUNTERBOX_TYPE_ID 7u

typedef struct { int used; int32_t value; } Counter;

static Counter *counters = NULL;   /* slot i holds instance id i + 1 */
static size_t counter_count = 0;

NYASH_EXPORT uint32_t nyash_plugin_abi(void) { return NYASH_ABI_VERSION; }
NYASH_EXPORT int32_t nyash_plugin_init(void) { return NYB_SUCCESS; }
NYASH_EXPORT void nyash_plugin_shutdown(void) { free(counters); counters = NULL; counter_count = 0; }

NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                                         const uint8_t *args, size_t args_len,
                                         uint8_t *result, size_t *result_len) {
    if (type_id != COUNTERBOX_TYPE_ID) return NYB_E_INVALID_TYPE;
    if (result_len == NULL) return NYB_E_INVALID_ARGS;
    int32_t rc = nyash_tlv_expect_empty(args, args_len);   /* no method takes arguments */
    if (rc != NYB_SUCCESS) return rc;
    if (method_id == NYASH_METHOD_BIRTH) {
        if ((rc = nyash_result_reserve(result, result_len, 4)) != NYB_SUCCESS) return rc;
        Counter *grown = realloc(counters, (counter_count + 1) * sizeof *counters);
        if (grown == NULL) return NYB_E_OUT_OF_MEMORY;
        counters = grown;
        counters[counter_count].used = 1;
        counters[counter_count].value = 0;
        counter_count++;
        return nyash_write_instance_id(result, result_len, (uint32_t)counter_count);
    }
    if (instance_id == 0 || instance_id > counter_count || !counters[instance_id - 1].used)
        return NYB_E_INVALID_HANDLE;
    Counter *c = &counters[instance_id - 1];
    switch (method_id) {
        case 1:
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 4))) != NYB_SUCCESS) return rc;
            c->value++;
            return nyash_result_i32(result, result_len, c->value);
        case 2:
            return nyash_result_i32(result, result_len, c->value);
        case NYASH_METHOD_FINI:
            if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0))) != NYB_SUCCESS) return rc;
            c->used = 0;
            return nyash_result_void(result, result_len);
        default:
            return NYB_E_INVALID_METHOD;
    }
}
