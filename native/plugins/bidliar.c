/*
 * A hostile BID library: every vtable here lies in one way (25 of them).  Each lie has its own
 * interface `liar.<case>` (vtable `nyash_liar_<case>_vtable`), all declaring one method
 * `add(i32, i32) -> i32` in the matching BID document.  A host must refuse each table with
 * a coded error before calling anything: `liar_call_count()` says how many calls reached
 * the library's method functions or nyash_plugin_invoke (it must stay 0).
 */
#include "nyash_bid.h"
#include "nyash_plugin.h"

#include <stdlib.h>

static int32_t calls = 0;

NYASH_EXPORT uint32_t nyash_bid_version(void) { return NYASH_BID_VERSION; }
NYASH_EXPORT int32_t liar_call_count(void) { return calls; }

NYASH_EXPORT int32_t liar_add(int32_t a, int32_t b) { calls++; return a + b; }

NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                                         const uint8_t *args, size_t args_len,
                                         uint8_t *result, size_t *result_len) {
    (void)type_id; (void)method_id; (void)instance_id; (void)args; (void)args_len; (void)result; (void)result_len;
    calls++;
    return NYB_E_INVALID_METHOD;
}

static const BidTypeId I32_I32[] = {BID_TYPE_I32, BID_TYPE_I32};
static const BidTypeId I64_I64[] = {BID_TYPE_I64, BID_TYPE_I64};
static const BidTypeId I32_X3[] = {BID_TYPE_I32, BID_TYPE_I32, BID_TYPE_I32};
static const BidTypeId UNKNOWN[] = {BID_TYPE_I32, 77u};
static const BidTypeId VOID_PARAM[] = {BID_TYPE_I32, BID_TYPE_VOID};
static const char NOT_A_NAME[] = "not a name!";

#define ADD NYASH_BID_FN(liar_add)
#define WILD(x) ((void *)(uintptr_t)(x))

static const MethodEntry good[] = {{"add", ADD, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry null_name[] = {{NULL, ADD, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry wild_name[] = {{(const char *)WILD(0x1000), ADD, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry bad_name[] = {{NOT_A_NAME, ADD, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry duplicate[] = {{"add", ADD, 2, I32_I32, BID_TYPE_I32}, {"add", ADD, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry null_function[] = {{"add", NULL, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry data_function[] = {{"add", (void *)I32_I32, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry wild_function[] = {{"add", WILD(0xdeadbeef000), 2, I32_I32, BID_TYPE_I32}};
/* Pointers into another library (libc): readable and executable memory, not ours. */
static const MethodEntry foreign_name[] = {{(const char *)NYASH_BID_FN(abs), ADD, 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry foreign_function[] = {{"add", NYASH_BID_FN(abs), 2, I32_I32, BID_TYPE_I32}};
static const MethodEntry null_types[] = {{"add", ADD, 2, NULL, BID_TYPE_I32}};
static const MethodEntry wild_types[] = {{"add", ADD, 2, (const BidTypeId *)WILD(0x20), BID_TYPE_I32}};
static const MethodEntry unknown_type[] = {{"add", ADD, 2, UNKNOWN, BID_TYPE_I32}};
static const MethodEntry void_param[] = {{"add", ADD, 2, VOID_PARAM, BID_TYPE_I32}};
static const MethodEntry unknown_return[] = {{"add", ADD, 2, I32_I32, 1234u}};
static const MethodEntry wrong_types[] = {{"add", ADD, 2, I64_I64, BID_TYPE_I64}};
static const MethodEntry wrong_count[] = {{"add", ADD, 3, I32_X3, BID_TYPE_I32}};
static const MethodEntry wrong_return[] = {{"add", ADD, 2, I32_I32, BID_TYPE_STRING}};
static const MethodEntry huge_params[] = {{"add", ADD, 100000, I32_I32, BID_TYPE_I32}};
static const MethodEntry types_past_end[] = {{"add", ADD, 60, I32_I32, BID_TYPE_I32}};

#define TABLE(name, version, count, methods) \
    NYASH_EXPORT const InterfaceVTable nyash_liar_##name##_vtable = {version, "liar", count, methods}

TABLE(honest, 1, 1, good);
TABLE(version, 7, 1, good);
TABLE(huge_count, 1, 0x7FFFFFFFu, good);
TABLE(overcount, 1, 3000, good);
TABLE(null_methods, 1, 1, NULL);
TABLE(wild_methods, 1, 1, (const MethodEntry *)WILD(0x10));
TABLE(misaligned_methods, 1, 1, (const MethodEntry *)((const char *)good + 4));
TABLE(null_name, 1, 1, null_name);
TABLE(wild_name, 1, 1, wild_name);
TABLE(bad_name, 1, 1, bad_name);
TABLE(duplicate, 1, 2, duplicate);
TABLE(null_function, 1, 1, null_function);
TABLE(data_function, 1, 1, data_function);
TABLE(wild_function, 1, 1, wild_function);
TABLE(foreign_name, 1, 1, foreign_name);
TABLE(foreign_function, 1, 1, foreign_function);
TABLE(null_types, 1, 1, null_types);
TABLE(wild_types, 1, 1, wild_types);
TABLE(unknown_type, 1, 1, unknown_type);
TABLE(void_param, 1, 1, void_param);
TABLE(unknown_return, 1, 1, unknown_return);
TABLE(wrong_types, 1, 1, wrong_types);
TABLE(wrong_count, 1, 1, wrong_count);
TABLE(wrong_return, 1, 1, wrong_return);
TABLE(huge_params, 1, 1, huge_params);
TABLE(types_past_end, 1, 1, types_past_end);
