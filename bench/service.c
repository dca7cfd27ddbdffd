/* Service calls (V3): the embedder's ctx imports "bench.add" from a loaded
 * provider and calls its one function through service_call, against a bare
 * indirect call of the same signature.
 *
 *   service.floor  int fn(void *instance, void *args) through a pointer
 *                  read from a volatile each call, noinline: what a direct
 *                  call into a provider's table costs at least
 *   service.c      service_call into bench_svc_c_plugin.so (C provider);
 *                  its ratio is to the floor timed in the same run, in
 *                  alternating blocks (the machine may be shared)
 *   service.rust   service_call into libbench_service.so (a Rust provider
 *                  declared with uvplug::service!: its thunk's busy check,
 *                  state borrow and catch_unwind); its ratio is to
 *                  service.c timed in the same run, in alternating blocks
 *                  (the two providers live in two hosts: one name each)
 *
 * Every provider case loads its plugin by path and runs the same loop
 * (run_provider), so a provider in another language is one more entry of
 * the table below with the path of its object.
 */
#include <stdio.h>

#include "bench.h"

typedef struct bench_add_args {
  uint64_t a, b, out;
} bench_add_args;

typedef int (*svc_fn)(void *instance, void *args);

__attribute__((noinline)) static int floor_add(void *instance, void *args) {
  (void)instance;
  bench_add_args *x = args;
  x->out = x->a + x->b;
  return 0;
}

static svc_fn volatile floor_fn = floor_add;

/* sum of (i + 1) for i < n: what every loop must add up to */
static int check_sum(const bench_case *c, uint64_t sum, uint64_t n, int bad) {
  uint64_t want = n % 2 == 0 ? n / 2 * (n + 1) : n * ((n + 1) / 2);
  if (!bad && sum == want) return 0;
  return bench_fail(c, "sum %llu of %llu calls is wrong (status %d)",
                    (unsigned long long)sum, (unsigned long long)n, bad);
}

/* n floor calls from x.a = base on; adds their outs to *sum. */
static int floor_block(uint64_t base, uint64_t n, uint64_t *sum) {
  bench_add_args x = {0, 1, 0};
  int bad = 0;
  for (uint64_t i = base; i < base + n; i++) {
    x.a = i;
    bad |= floor_fn(NULL, &x);
    *sum += x.out;
  }
  return bad;
}

static int run_floor(const bench_case *c, uint64_t n, bench_sample *out) {
  uint64_t sum = 0;
  uint64_t t0 = bench_now_ns();
  int bad = floor_block(0, n, &sum);
  uint64_t t1 = bench_now_ns();
  out->ns = (double)(t1 - t0) / (double)n;
  return check_sum(c, sum, n, bad);
}

/* The same through service_call. */
static int call_block(const uvp_api *api, uvp_ctx *ctx, uvp_id ref,
                      uint64_t base, uint64_t n, uint64_t *sum) {
  bench_add_args x = {0, 1, 0};
  int bad = 0;
  for (uint64_t i = base; i < base + n; i++) {
    x.a = i;
    bad |= api->service_call(ctx, ref, 0, &x);
    *sum += x.out;
  }
  return bad;
}

/* n calls in blocks, each after a block of floor calls of the same
 * size: on a shared machine both see the same noise, so the ratio (the
 * target) comes from one run (BENCH_SELF_PEER). */
#define BLOCK 65536

static int call_loop(const bench_case *c, bench_host *b, uvp_id ref, uint64_t n,
                     bench_sample *out) {
  uint64_t sum = 0, floor_sum = 0, t_call = 0, t_floor = 0;
  int bad = 0;
  for (uint64_t done = 0; done < n;) {
    uint64_t k = n - done < BLOCK ? n - done : BLOCK;
    uint64_t t0 = bench_now_ns();
    bad |= floor_block(done, k, &floor_sum);
    uint64_t t1 = bench_now_ns();
    bad |= call_block(b->api, b->ctx, ref, done, k, &sum);
    uint64_t t2 = bench_now_ns();
    t_floor += t1 - t0;
    t_call += t2 - t1;
    done += k;
  }
  out->ns = (double)t_call / (double)n;
  out->x[BX_PEER_NS] = (double)t_floor / (double)n;
  if (floor_sum != sum) return bench_fail(c, "floor and calls disagree");
  return check_sum(c, sum, n, bad);
}

/* Runs only at the host's close, after the timing: the reference goes
 * with the embedder's other registrations then. */
static void on_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  (void)ctx;
  (void)ref;
  (void)reason;
  (void)ud;
}

/* Loads the provider at path into b (open) and imports bench.add 1.0. */
static int provider_ref(const bench_case *c, bench_host *b, const char *path,
                        uvp_id *ref) {
  uvp_service_import req = {
      .size = sizeof req,
      .major = 1,
      .name = "bench.add",
      .revoke = on_revoke,
  };
  int rc = uvp_host_load(b->host, path, "provider", "", NULL);
  if (rc == 0) rc = b->api->service_import(b->ctx, &req, ref);
  if (rc < 0)
    return bench_fail(c, "load or import %s: %s", path, uvp_strerror(rc));
  return 0;
}

/* Loads the provider at path, imports bench.add 1.0 and times n calls. */
static int run_provider(const bench_case *c, const char *path, uint64_t n,
                        bench_sample *out) {
  if (path == NULL) return bench_fail(c, "provider plugin not built");
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  uvp_id ref;
  int rc = provider_ref(c, &b, path, &ref);
  if (rc == 0) rc = call_loop(c, &b, ref, n, out);
  if (bench_host_close(c, &b) < 0) return -1;
  return rc < 0 ? -1 : 0;
}

/* n calls into the Rust provider (host r) in blocks, each after a block
 * of as many calls into the C provider (host p): the ratio to service.c
 * comes from one run, as service.c's to the floor. */
static int pair_loop(const bench_case *c, bench_host *p, uvp_id pref,
                     bench_host *r, uvp_id rref, uint64_t n,
                     bench_sample *out) {
  uint64_t sum = 0, peer_sum = 0, t_call = 0, t_peer = 0;
  int bad = 0;
  for (uint64_t done = 0; done < n;) {
    uint64_t k = n - done < BLOCK ? n - done : BLOCK;
    uint64_t t0 = bench_now_ns();
    bad |= call_block(p->api, p->ctx, pref, done, k, &peer_sum);
    uint64_t t1 = bench_now_ns();
    bad |= call_block(r->api, r->ctx, rref, done, k, &sum);
    uint64_t t2 = bench_now_ns();
    t_peer += t1 - t0;
    t_call += t2 - t1;
    done += k;
  }
  out->ns = (double)t_call / (double)n;
  out->x[BX_PEER_NS] = (double)t_peer / (double)n;
  if (peer_sum != sum) return bench_fail(c, "the two providers disagree");
  return check_sum(c, sum, n, bad);
}

/* The Rust provider against the C one: two hosts (each name is exported
 * once per host, V1), calls alternating between them on this thread. */
static int run_rust(const bench_case *c, uint64_t n, bench_sample *out) {
  const char *cpath = bench_svc_c_plugin_path();
  const char *rpath = bench_svc_rust_plugin_path();
  if (cpath == NULL || rpath == NULL)
    return bench_fail(c, "provider plugin not built");
  bench_host p, r;
  if (bench_host_open(c, &p, NULL) < 0) return -1;
  if (bench_host_open(c, &r, NULL) < 0) {
    bench_host_close(c, &p);
    return -1;
  }
  uvp_id pref, rref;
  int rc = provider_ref(c, &p, cpath, &pref);
  if (rc == 0) rc = provider_ref(c, &r, rpath, &rref);
  if (rc == 0) rc = pair_loop(c, &p, pref, &r, rref, n, out);
  int closed = bench_host_close(c, &r);
  if (bench_host_close(c, &p) < 0 || closed < 0) return -1;
  return rc < 0 ? -1 : 0;
}

static int run_c(const bench_case *c, uint64_t n, bench_sample *out) {
  return run_provider(c, bench_svc_c_plugin_path(), n, out);
}

static int check_c(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "%.2fx the floor in the same run (%.2f ns)",
           r->ratio_peer, r->med.x[BX_PEER_NS]);
  return r->ratio_peer <= 3.0;
}

static int check_rust(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "%.2fx service.c in the same run (%.2f ns)",
           r->ratio_peer, r->med.x[BX_PEER_NS]);
  return r->ratio_peer <= 1.5;
}

const bench_case bench_service_cases[] = {
    {.name = "service.floor",
     .what = "bare indirect call, int fn(void *instance, void *args)",
     .target = "",
     .run = run_floor,
     .n = 100000000,
     .n_quick = 1000000},
    {.name = "service.c",
     .what = "service_call into a C provider plugin (bench.add)",
     .target = "<=3x service.floor",
     .check = check_c,
     .run = run_c,
     .n = 100000000,
     .n_quick = 1000000,
     .flags = BENCH_SELF_PEER},
    {.name = "service.rust",
     .what = "service_call into a Rust provider plugin (bench.add)",
     .target = "<=1.5x service.c",
     .check = check_rust,
     .run = run_rust,
     .n = 100000000,
     .n_quick = 1000000,
     .flags = BENCH_SELF_PEER},
    {0},
};
