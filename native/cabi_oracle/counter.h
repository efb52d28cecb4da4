/* The resource part of the Canonical ABI oracle (interface reml:cabi-oracle/res):
 * an exported resource `counter`, written by hand, included by the generated oracle.c.
 * The guest implements the resource, so a borrow<counter> arrives as the rep (a pointer)
 * and an own<counter> as a handle it turns into the rep and drops. */

#define RES "reml:cabi-oracle/res"

REML_IMPORT("[export]" RES, "[resource-new]counter") extern int32_t counter_resource_new(int32_t rep);
REML_IMPORT("[export]" RES, "[resource-rep]counter") extern int32_t counter_resource_rep(int32_t handle);
REML_IMPORT("[export]" RES, "[resource-drop]counter") extern void counter_resource_drop(int32_t handle);

typedef struct { uint32_t value; } counter;
static uint32_t counters_destroyed;

REML_EXPORT(RES "#[constructor]counter")
int32_t res_counter_new(uint32_t start) {
  counter *c = (counter *)reml_malloc(sizeof *c);
  c->value = start;
  return counter_resource_new((int32_t)(uintptr_t)c);
}

REML_EXPORT(RES "#[method]counter.get")
uint32_t res_counter_get(counter *self) { return self->value; }

REML_EXPORT(RES "#[method]counter.bump")
void res_counter_bump(counter *self, uint32_t by) { self->value += by; }

REML_EXPORT(RES "#take")
uint32_t res_take(int32_t handle) {
  counter *c = (counter *)(uintptr_t)counter_resource_rep(handle);
  uint32_t v = c->value;
  counter_resource_drop(handle); /* runs the destructor below */
  return v;
}

REML_EXPORT(RES "#pair")
int32_t res_pair(uint32_t a, uint32_t b) {
  static int32_t area[2];
  area[0] = res_counter_new(a);
  area[1] = res_counter_new(b); /* made while the first handle is still in the table */
  return (int32_t)(uintptr_t)area;
}

REML_EXPORT(RES "#handles")
uint32_t res_handles(void) {
  counter *x = (counter *)reml_malloc(sizeof *x), *y = (counter *)reml_malloc(sizeof *y);
  x->value = 1;
  y->value = 2;
  int32_t a = counter_resource_new((int32_t)(uintptr_t)x);
  int32_t b = counter_resource_new((int32_t)(uintptr_t)y);
  int ok = (counter *)(uintptr_t)counter_resource_rep(a) == x && (counter *)(uintptr_t)counter_resource_rep(b) == y;
  counter_resource_drop(a); /* the destructor runs */
  counter_resource_drop(b);
  return ok ? (uint32_t)a + 65536u * (uint32_t)b : 0;
}

REML_EXPORT(RES "#destroyed")
uint32_t res_destroyed(void) { return counters_destroyed; }

REML_EXPORT(RES "#[dtor]counter")
void res_counter_dtor(counter *c) {
  counters_destroyed++;
  reml_free(c);
}
