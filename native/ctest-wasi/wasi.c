/* A guest importing WASI's wasi:cli/environment (wit/ctest-wasi). */
#include "reml_guest.h"

typedef struct { reml_string *ptr; size_t len; } list_string;

REML_IMPORT("wasi:cli/environment@0.2.0", "get-arguments") void get_arguments(list_string *ret);

REML_EXPORT("ping")
uint32_t ping(void) { return 7; }

REML_EXPORT("arg-count")
uint32_t arg_count(void) {
  list_string args;
  get_arguments(&args);
  for (size_t i = 0; i < args.len; i++) reml_free(args.ptr[i].ptr);
  reml_free(args.ptr);
  return (uint32_t)args.len;
}
