/* The floor: the least any callback-based dispatch can cost, an indirect
 * call with a void *user_data through a pointer the optimiser cannot see
 * through. Every other case is divided by floor.c.
 *
 *   floor.c     C function, pointer read from a volatile each call
 *   floor.rust  Rust extern "C" fn whose body runs under catch_unwind,
 *               dlopen'ed from libbench_plugin.so (what every SDK
 *               trampoline pays at least)
 */
#include <dlfcn.h>

#include "bench.h"

__attribute__((noinline)) static int floor_cb(void *user_data) {
  (*(uint64_t *)user_data)++;
  return 0;
}

typedef int (*floor_fn)(void *user_data);

static floor_fn volatile c_floor = floor_cb;

static int call_loop(const bench_case *c, floor_fn volatile *fp, uint64_t n,
                     bench_sample *out) {
  uint64_t count = 0;
  int bad = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    floor_fn f = *fp;
    bad |= f(&count);
  }
  uint64_t t1 = bench_now_ns();
  if (count != n || bad)
    return bench_fail(c, "counted %llu of %llu calls",
                      (unsigned long long)count, (unsigned long long)n);
  out->ns = (double)(t1 - t0) / (double)n;
  return 0;
}

static int run_c(const bench_case *c, uint64_t n, bench_sample *out) {
  return call_loop(c, &c_floor, n, out);
}

static floor_fn volatile rust_floor;

static int run_rust(const bench_case *c, uint64_t n, bench_sample *out) {
  const char *path = bench_rust_plugin_path();
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) return bench_fail(c, "dlopen %s: %s", path, dlerror());
  void *sym = dlsym(dl, "uvp_bench_floor");
  if (sym == NULL) {
    dlclose(dl);
    return bench_fail(c, "%s: no uvp_bench_floor", path);
  }
  *(void **)&rust_floor = sym; /* POSIX: dlsym returns functions as void * */
  int rc = call_loop(c, &rust_floor, n, out);
  dlclose(dl);
  return rc;
}

const bench_case bench_floor_cases[] = {
    {.name = "floor.c",
     .what = "C indirect call through a volatile pointer, void *user_data",
     .target = "",
     .run = run_c,
     .n = 100000000,
     .n_quick = 1000000},
    {.name = "floor.rust",
     .what = "Rust extern \"C\" fn under catch_unwind, via dlopen",
     .peer = "floor.c",
     .target = "",
     .run = run_rust,
     .n = 100000000,
     .n_quick = 1000000,
     .flags = BENCH_RUST},
    {0},
};
