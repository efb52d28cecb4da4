/* A wasi:cli/run command on wasi-libc (zig cc -target wasm32-wasi, adapted to preview 2
 * with the command adapter): reports its arguments, an environment variable and its
 * stdin size, writes to stderr, then tries to read every path given as an argument and
 * says whether it could; WRITE_TO names a file to write.  Exits with status 3 when EXIT3
 * is set (preview 2 reports any failing status as err: the host sees 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("arg[%d]=%s\n", i, argv[i]);
  const char *greeting = getenv("GREETING");
  printf("GREETING=%s\n", greeting ? greeting : "(unset)");
  size_t in = 0;
  char buf[512];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, stdin)) > 0) in += got;
  printf("stdin=%zu\n", in);
  fprintf(stderr, "to stderr\n");
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    if (!f) {
      printf("read %s: denied\n", argv[i]);
      continue;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("read %s: %s\n", argv[i], buf);
  }
  const char *out = getenv("WRITE_TO");
  if (out) {
    FILE *f = fopen(out, "w");
    printf("write %s: %s\n", out, f ? "ok" : "denied");
    if (f) { fputs("written by the guest\n", f); fclose(f); }
  }
  fflush(stdout);
  return getenv("EXIT3") ? 3 : 0;
}
