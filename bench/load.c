/* Loading: time per load + unload of an unload-safe plugin (issue 9).
 *
 *   load.uvplug   uvp_host_load + uvp_host_unload: open, fstat, ELF check,
 *                 dlopen of /proc/self/fd/N, descriptor checks, on_init,
 *                 then the unload state machine and dlclose
 *   load.pinned   the same with a SHA-256 pin: the file is copied into a
 *                 sealed memfd while it is hashed, and the memfd is mapped
 *   load.dlopen   peer: dlopen(path) + dlsym + dlclose, nothing checked
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static const char *plugin_path(void) {
#ifdef UVP_BENCH_LOAD_PLUGIN
  return UVP_BENCH_LOAD_PLUGIN;
#else
  return NULL;
#endif
}

/* The pin for path, from sha256sum (outside the timed part). */
static int sha256_of(const bench_case *c, const char *path, uint8_t out[32]) {
  char cmd[512], line[128];
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return bench_fail(c, "popen sha256sum");
  bool ok = fgets(line, sizeof line, p) != NULL;
  if (pclose(p) != 0 || !ok) return bench_fail(c, "sha256sum failed");
  for (int i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(line + 2 * i, "%2x", &v) != 1) return bench_fail(c, "bad sum");
    out[i] = (uint8_t)v;
  }
  return 0;
}

static int run_host(const bench_case *c, uint64_t n, bench_sample *out,
                    bool pinned) {
  const char *path = plugin_path();
  if (path == NULL) return bench_fail(c, "no bench_load_plugin.so");
  uint8_t sum[32];
  uvp_load_options o = UVP_LOAD_OPTIONS_INIT;
  if (pinned) {
    if (sha256_of(c, path, sum) < 0) return -1;
    o.sha256 = sum;
  }
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    int rc = uvp_host_load(b.host, path, "l", "", &o);
    if (rc == 0) rc = uvp_host_unload(b.host, "l");
    if (rc < 0) return bench_fail(c, "load/unload: %s", uvp_strerror(rc));
  }
  uint64_t t = bench_now_ns() - t0;
  out->ns = (double)t / (double)n;
  out->x[BX_TOTAL_S] = (double)t / 1e9;
  return bench_host_close(c, &b);
}

static int run_load(const bench_case *c, uint64_t n, bench_sample *out) {
  return run_host(c, n, out, false);
}

static int run_pinned(const bench_case *c, uint64_t n, bench_sample *out) {
  return run_host(c, n, out, true);
}

static int run_dlopen(const bench_case *c, uint64_t n, bench_sample *out) {
  const char *path = plugin_path();
  if (path == NULL) return bench_fail(c, "no bench_load_plugin.so");
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL || dlsym(dl, UVP_PLUGIN_SYMBOL_NAME) == NULL)
      return bench_fail(c, "dlopen: %s", dlerror());
    dlclose(dl);
  }
  uint64_t t = bench_now_ns() - t0;
  out->ns = (double)t / (double)n;
  out->x[BX_TOTAL_S] = (double)t / 1e9;
  return 0;
}

const bench_case bench_load_cases[] = {
    {.name = "load.uvplug",
     .what = "uvp_host_load + uvp_host_unload, unload-safe plugin (ns/load)",
     .peer = "load.dlopen",
     .target = "",
     .run = run_load,
     .n = 2000,
     .n_quick = 50},
    {.name = "load.pinned",
     .what = "the same with a SHA-256 pin (sealed memfd copy)",
     .peer = "load.dlopen",
     .target = "",
     .run = run_pinned,
     .n = 2000,
     .n_quick = 50},
    {.name = "load.dlopen",
     .what = "peer: raw dlopen + dlsym + dlclose of the same file",
     .target = "",
     .run = run_dlopen,
     .n = 2000,
     .n_quick = 50},
    {0},
};
