/* The benchmark guest of host calls: wit/hostbench/hostbench.wit, world hostbench.
 * Canonical ABI by hand: one scalar import called in a loop. */
#include "reml_guest.h"

REML_IMPORT("reml:hostbench/host@0.1.0", "tick") uint32_t host_tick(uint32_t x);

REML_EXPORT("ticks")
uint32_t ticks(uint32_t n) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; i++) sum += host_tick(i);
  return sum;
}
