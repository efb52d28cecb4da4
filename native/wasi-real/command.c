/* A wasi:cli/run command on wasi-libc (zig cc -target wasm32-wasi, adapted to preview 2
 * with the command adapter): reports its arguments, an environment variable and its
 * stdin size, writes to stderr, then tries to read every path given as an argument and
 * says whether it could; WRITE_TO names a file to write; FS_OPS names a directory to
 * make, rename, list and remove files in.  Exits with status 3 when EXIT3
 * is set (preview 2 reports any failing status as err: the host sees 1). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directory operations under DIR: make, write, stat, rename, list (sorted), remove. */
static void fs_ops(const char *dir) {
  char a[256], b[256], sub[256];
  snprintf(sub, sizeof sub, "%s/made", dir);
  snprintf(a, sizeof a, "%s/a.txt", sub);
  snprintf(b, sizeof b, "%s/b.txt", sub);
  printf("mkdir: %s\n", mkdir(sub, 0755) == 0 ? "ok" : strerror(errno));
  FILE *f = fopen(a, "w");
  if (f) { fputs("twelve bytes", f); fclose(f); }
  printf("write: %s\n", f ? "ok" : strerror(errno));
  struct stat st;
  printf("stat: %s size=%lld dir=%d\n", stat(a, &st) == 0 ? "ok" : strerror(errno), (long long)st.st_size,
         S_ISDIR(st.st_mode) ? 1 : 0);
  printf("rename: %s\n", rename(a, b) == 0 ? "ok" : strerror(errno));
  DIR *d = opendir(dir);
  char *names[64];
  int n = 0;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
  }
  qsort(names, n, sizeof names[0], by_name);
  printf("list:");
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");
  printf("rmdir-nonempty: %s\n", rmdir(sub) == 0 ? "ok" : "refused");
  printf("unlink: %s\n", unlink(b) == 0 ? "ok" : strerror(errno));
  printf("rmdir: %s\n", rmdir(sub) == 0 ? "ok" : strerror(errno));
}

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
  const char *ops = getenv("FS_OPS");
  if (ops) fs_ops(ops);
  fflush(stdout);
  return getenv("EXIT3") ? 3 : 0;
}
