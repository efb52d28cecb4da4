/*
 * nyash_bid.h - the direct (vtable) path of a Nyash BID library (C99, header only).
 *
 * A library connected through a BID YAML document (`transport: {type: dynamic_library,
 * location: ./libx.so}`) exports
 *
 *   uint32_t nyash_bid_version(void);            the BID version it implements (1)
 *
 * and, for each interface it serves directly, a table named after the interface with its
 * dots turned into underscores: interface `nyash.file` -> `nyash_nyash_file_vtable`.
 *
 *   const InterfaceVTable nyash_<interface>_vtable;
 *
 * The host reads the table once, checks every count, pointer and type id against the
 * library's own mapped memory and against the BID document, and then calls each function
 * with native arguments (no TLV).  An interface without a table is served by
 * nyash_plugin_invoke (nyash_plugin.h) instead.
 *
 * Native form of each BID type:
 *
 *   bool    int32_t (0 or 1)           i32  int32_t      i64  int64_t
 *   f32     float                      f64  double
 *   string  parameter: const char *ptr, size_t len (UTF-8; a NUL follows, not counted)
 *   bytes   parameter: const uint8_t *ptr, size_t len
 *   handle  uint64_t: type_id << 32 | instance_id (instance id 0 returned = failure)
 *   void    return only: void
 *
 * A function returning string or bytes takes two more parameters, `uint8_t *out, size_t
 * *out_len`, and returns int32_t: 0 when the result (*out_len bytes) was written; -1 (short
 * buffer) with *out_len set to the size needed when `out` is NULL or *out_len is too small,
 * before anything with a side effect; another BID-1 return code on failure.  The host owns
 * the buffer.  Functions returning other types cannot report failure except through an
 * instance id 0 handle.
 */
#ifndef NYASH_BID_H
#define NYASH_BID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NYASH_BID_VERSION 1u
#define NYASH_VTABLE_VERSION 1u

/* BidTypeId: the same numbers as the TLV tags. */
typedef uint32_t BidTypeId;
#define BID_TYPE_BOOL    1u
#define BID_TYPE_I32     2u
#define BID_TYPE_I64     3u
#define BID_TYPE_F32     4u
#define BID_TYPE_F64     5u
#define BID_TYPE_STRING  6u
#define BID_TYPE_BYTES   7u
#define BID_TYPE_HANDLE  8u
#define BID_TYPE_VOID    9u

typedef struct MethodEntry {
    const char *name;              /* NUL-terminated method name, as in the BID document */
    void *function;                /* the C function, native arguments */
    uint32_t param_count;          /* BID parameters (a string counts once) */
    const BidTypeId *param_types;  /* param_count entries */
    BidTypeId return_type;         /* BID_TYPE_VOID for none */
} MethodEntry;

typedef struct InterfaceVTable {
    uint32_t version;              /* NYASH_VTABLE_VERSION */
    uint8_t interface_id[16];      /* a UUID or a short name, informational */
    uint32_t method_count;
    const MethodEntry *methods;
} InterfaceVTable;

/* A function as a MethodEntry.function (ISO C has no function-to-object pointer cast;
 * every compiler this ABI runs on allows it, and __extension__ keeps -pedantic quiet). */
#if defined(__GNUC__)
#define NYASH_BID_FN(f) (__extension__(void *)(f))
#else
#define NYASH_BID_FN(f) ((void *)(f))
#endif

#define NYASH_BID_HANDLE(type_id, instance_id) (((uint64_t)(type_id) << 32) | (uint64_t)(instance_id))
#define NYASH_BID_HANDLE_TYPE(h) ((uint32_t)((h) >> 32))
#define NYASH_BID_HANDLE_INSTANCE(h) ((uint32_t)(h))

#ifdef __cplusplus
}
#endif
#endif /* NYASH_BID_H */
