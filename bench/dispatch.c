/* Loop-thread dispatch: publish -> subscribers, against the floor and a
 * hand-written callback array (the GLib peers are in glib.c).
 *
 *   pub1.c / pub1.rust   one subscriber in a loaded C / Rust plugin
 *   fanoutN.uvplug       N subscribers (host ctx); also times 1 subscriber in
 *                        the same run for the cost of each extra one
 *   fanoutN.array        peer: for (i < N) a[i].cb(a[i].ud, ev)
 *   metrics.*            the same with the host's per-plugin counters on and
 *                        off (uvp_host_options.no_metrics), interleaved
 *   metrics.mixed4       4 loaded C plugins with one subscriber each on one
 *                        topic, on vs off: every delivery is another
 *                        plugin, the worst case of the timing spans
 *   payloadS.publish     one subscriber, S-byte payload (copied by publish)
 *
 * An event is published from the embedder's ctx, `round` at a time (the
 * host's dispatch batch), then loop turns drain them: so the figure includes
 * publish (the copy into the queue), the queue, one loop turn per batch and
 * the delivery.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define ROUND 1024 /* = the host's default batch */

/* ---- uvplug ------------------------------------------------------------ */

static int count_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  (*(uint64_t *)user_data)++;
  return 0;
}

/* Publishes `events` events of len bytes on topic, ROUND at a time, and
 * runs the loop (one turn drains one batch) until *delivered grew by
 * per_event for each; returns the elapsed ns, or 0 after bench_fail. */
static uint64_t pump(const bench_case *c, bench_host *b, uvp_topic topic,
                     const void *data, size_t len, uint64_t events,
                     const uint64_t *delivered, uint64_t per_event) {
  uint64_t base = *delivered;
  uint64_t t0 = bench_now_ns();
  for (uint64_t done = 0; done < events;) {
    uint64_t k = events - done < ROUND ? events - done : ROUND;
    for (uint64_t i = 0; i < k; i++) {
      int rc = b->api->publish(b->ctx, topic, data, len);
      if (rc < 0) {
        bench_fail(c, "publish: %s", uvp_strerror(rc));
        return 0;
      }
    }
    done += k;
    if (bench_run_until(c, &b->loop, delivered, base + done * per_event) < 0)
      return 0;
  }
  uint64_t t = bench_now_ns() - t0;
  return t ? t : 1;
}

static int subscribe_n(const bench_case *c, bench_host *b, const char *name,
                       uint32_t n, uint64_t *counter, uvp_topic *out) {
  int rc = b->api->topic(b->ctx, name, strlen(name), out);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    uvp_id id;
    rc = b->api->subscribe(b->ctx, *out, count_cb, counter, NULL, &id);
  }
  return rc < 0 ? bench_fail(c, "subscribe: %s", uvp_strerror(rc)) : 0;
}

static int check_count(const bench_case *c, uint64_t got, uint64_t want) {
  if (got == want) return 0;
  return bench_fail(c, "delivered %llu of %llu events", (unsigned long long)got,
                    (unsigned long long)want);
}

/* One subscriber in a loaded plugin. The plugin counts in its own object;
 * the loaded C plugin's handler increments a uint64_t the bench can see
 * through the address dlsym gives (uvp_bench_c_counter), the Rust one a
 * static AtomicU64 (uvp_bench_counter), both loop thread only. */
static int run_plugin(const bench_case *c, uint64_t n, bench_sample *out,
                      const char *path, const char *topic_name,
                      const char *count_sym) {
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  char config[128];
  snprintf(config, sizeof config, "topic=%s subs=1", topic_name);
  int rc = uvp_host_load(b.host, path, "bench-sub", config, NULL);
  if (rc < 0) return bench_fail(c, "load %s: %s", path, uvp_strerror(rc));
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  const uint64_t *count = dl != NULL ? dlsym(dl, count_sym) : NULL;
  if (count == NULL) return bench_fail(c, "%s: no %s", path, count_sym);
  uvp_topic t;
  if ((rc = uvp_host_topic(b.host, topic_name, &t)) < 0)
    return bench_fail(c, "topic: %s", uvp_strerror(rc));
  uint64_t payload = 42, before = *count;
  uint64_t ns = pump(c, &b, t, &payload, sizeof payload, n, count, 1);
  if (ns == 0 || check_count(c, *count - before, n) < 0) return -1;
  out->ns = (double)ns / (double)n;
  dlclose(dl);
  return bench_host_close(c, &b);
}

static int run_pub1_c(const bench_case *c, uint64_t n, bench_sample *out) {
  const char *path = bench_c_plugin_path();
  if (path == NULL) return bench_fail(c, "bench_c_plugin.so not found");
  return run_plugin(c, n, out, path, "bench.c", "uvp_bench_c_counter");
}

static int run_pub1_rust(const bench_case *c, uint64_t n, bench_sample *out) {
  return run_plugin(c, n, out, bench_rust_plugin_path(), "bench.rust",
                    "uvp_bench_counter");
}

/* Times `events` publishes to a topic with nsubs subscribers, payload len
 * bytes, on a host with or without metrics; returns ns per publish. */
static double time_host(const bench_case *c, uint32_t nsubs, size_t len,
                        uint64_t events, int no_metrics) {
  bench_host b;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.no_metrics = no_metrics;
  if (bench_host_open(c, &b, &o) < 0) return -1;
  uint64_t count = 0;
  uvp_topic t;
  if (subscribe_n(c, &b, "fan", nsubs, &count, &t) < 0) return -1;
  unsigned char *data = calloc(1, len ? len : 1);
  uint64_t ns = pump(c, &b, t, data, len, events, &count, nsubs);
  free(data);
  if (ns == 0 || check_count(c, count, events * nsubs) < 0) return -1;
  if (bench_host_close(c, &b) < 0) return -1;
  return (double)ns / (double)events;
}

/* fanoutN.uvplug: n deliveries in n/N publishes; the 1-subscriber cost is
 * timed in the same run for the marginal cost of one more subscriber. */
static int run_fanout(const bench_case *c, uint64_t n, bench_sample *out) {
  uint32_t subs = (uint32_t)c->arg;
  uint64_t events = n / subs;
  double pn = time_host(c, subs, 8, events, 0);
  if (pn < 0) return -1;
  out->ns = pn / subs;
  out->x[BX_PER_PUBLISH_NS] = pn;
  if (subs > 1) {
    double p1 = time_host(c, 1, 8, events, 0);
    if (p1 < 0) return -1;
    out->x[BX_MARGINAL_NS] = (pn - p1) / (subs - 1);
  }
  return 0;
}

/* metrics.*: counters on vs off, interleaved three times, best of each. */
static int run_metrics(const bench_case *c, uint64_t n, bench_sample *out) {
  uint32_t subs = (uint32_t)c->arg;
  uint64_t events = n / subs / 3;
  double on = INFINITY, off = INFINITY;
  for (int i = 0; i < 3; i++) {
    double a = time_host(c, subs, 8, events, 0);
    double b = time_host(c, subs, 8, events, 1);
    if (a < 0 || b < 0) return -1;
    if (a < on) on = a;
    if (b < off) off = b;
  }
  out->ns = on / subs;
  out->x[BX_PEER_NS] = off / subs;
  out->x[BX_PER_PUBLISH_NS] = on;
  return 0;
}

/* Times `events` publishes to nplugins instances of the C bench plugin,
 * one subscriber each: consecutive deliveries are never one plugin's, so
 * each one starts a timing span (timing.c). Returns ns per delivery. */
static double time_mixed(const bench_case *c, uint32_t nplugins,
                         uint64_t events, int no_metrics) {
  const char *path = bench_c_plugin_path();
  if (path == NULL) return bench_fail(c, "bench_c_plugin.so not found"), -1;
  bench_host b;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.no_metrics = no_metrics;
  if (bench_host_open(c, &b, &o) < 0) return -1;
  for (uint32_t i = 0; i < nplugins; i++) {
    char name[32];
    snprintf(name, sizeof name, "mix%u", (unsigned)i);
    int rc = uvp_host_load(b.host, path, name, "topic=bench.mix subs=1", NULL);
    if (rc < 0) return bench_fail(c, "load: %s", uvp_strerror(rc)), -1;
  }
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  const uint64_t *count = dl ? dlsym(dl, "uvp_bench_c_counter") : NULL;
  if (count == NULL) return bench_fail(c, "no uvp_bench_c_counter"), -1;
  uvp_topic t;
  if (uvp_host_topic(b.host, "bench.mix", &t) < 0) return -1;
  uint64_t payload = 42, before = *count;
  uint64_t ns =
      pump(c, &b, t, &payload, sizeof payload, events, count, nplugins);
  int ok = ns != 0 && check_count(c, *count - before, events * nplugins) == 0;
  dlclose(dl);
  if (!ok || bench_host_close(c, &b) < 0) return -1;
  return (double)ns / (double)(events * nplugins);
}

static int run_metrics_mixed(const bench_case *c, uint64_t n,
                             bench_sample *out) {
  uint32_t plugins = (uint32_t)c->arg;
  uint64_t events = n / plugins / 3;
  double on = INFINITY, off = INFINITY;
  for (int i = 0; i < 3; i++) {
    double a = time_mixed(c, plugins, events, 0);
    double b = time_mixed(c, plugins, events, 1);
    if (a < 0 || b < 0) return -1;
    if (a < on) on = a;
    if (b < off) off = b;
  }
  out->ns = on;
  out->x[BX_PEER_NS] = off;
  out->x[BX_PER_PUBLISH_NS] = on * plugins;
  return 0;
}

static int run_payload(const bench_case *c, uint64_t n, bench_sample *out) {
  double p = time_host(c, 1, (size_t)c->arg, n, 0);
  if (p < 0) return -1;
  out->ns = p;
  return 0;
}

/* ---- peer: a hand-written callback array ------------------------------- */

typedef struct arr_entry {
  void (*cb)(void *user_data, const void *ev);
  void *user_data;
} arr_entry;

__attribute__((noinline)) static void arr_cb(void *user_data, const void *ev) {
  (void)ev;
  (*(uint64_t *)user_data)++;
}

static void (*volatile arr_cb_ptr)(void *, const void *) = arr_cb;

__attribute__((noinline)) static void arr_emit(const arr_entry *a, uint32_t n,
                                               const void *ev) {
  for (uint32_t i = 0; i < n; i++) a[i].cb(a[i].user_data, ev);
}

static double time_array(uint32_t subs, uint64_t events, uint64_t *count) {
  arr_entry *a = calloc(subs, sizeof *a);
  for (uint32_t i = 0; i < subs; i++) a[i] = (arr_entry){arr_cb_ptr, count};
  uint64_t payload = 42;
  const void *ev = bench_opaque(&payload);
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < events; i++) arr_emit(a, subs, ev);
  uint64_t t = bench_now_ns() - t0;
  free(a);
  return (double)t / (double)events;
}

static int run_array(const bench_case *c, uint64_t n, bench_sample *out) {
  uint32_t subs = (uint32_t)c->arg;
  uint64_t events = n / subs, count = 0;
  double pn = time_array(subs, events, &count);
  if (check_count(c, count, events * subs) < 0) return -1;
  out->ns = pn / subs;
  out->x[BX_PER_PUBLISH_NS] = pn;
  if (subs > 1) {
    count = 0;
    double p1 = time_array(1, events, &count);
    if (check_count(c, count, events) < 0) return -1;
    out->x[BX_MARGINAL_NS] = (pn - p1) / (subs - 1);
  }
  return 0;
}

/* ---- targets ----------------------------------------------------------- */

static int check_pub1(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "%.1fx floor", r->ratio_floor);
  return r->ratio_floor <= 10.0;
}

static int check_rust(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "%.2fx the C subscriber", r->ratio_peer);
  return r->ratio_peer <= 1.3;
}

static int check_fanout(const bench_result *r, char *note, size_t len) {
  const bench_result *fl = bench_find("floor.c");
  char hook[32], sig[32];
  snprintf(hook, sizeof hook, "fanout%llu.ghook",
           (unsigned long long)r->c->arg);
  snprintf(sig, sizeof sig, "fanout%llu.gsignal",
           (unsigned long long)r->c->arg);
  const bench_result *h = bench_find(hook), *s = bench_find(sig);
  if (fl == NULL) return -1;
  double extra = r->med.x[BX_MARGINAL_NS] / fl->med.ns;
  int ok = extra <= 2.0;
  int n = snprintf(note, len, "extra sub %.2fx floor", extra);
  if (h != NULL) {
    double hm = h->med.x[BX_MARGINAL_NS];
    ok = ok && r->med.x[BX_MARGINAL_NS] < hm;
    n += snprintf(note + n, len - (size_t)n, ", GHook extra %.2f ns", hm);
  }
  if (s != NULL) {
    double speed = s->med.ns / r->med.ns;
    ok = ok && speed >= 15.0;
    snprintf(note + n, len - (size_t)n, ", %.1fx faster than g_signal", speed);
  }
  return ok;
}

static int check_metrics(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "on %.2f ns, off %.2f ns per delivery", r->med.ns,
           r->med.x[BX_PEER_NS]);
  return r->ratio_peer <= 1.05;
}

#define FANOUT(N, NQ)                                                      \
  {.name = "fanout" #N ".uvplug",                                          \
   .what = "publish -> " #N " C subscribers (host ctx), ns per delivery",  \
   .peer = "fanout" #N ".gsignal",                                         \
   .target = N > 1 ? "extra<=2x floor,<GHook,15x gsig" : "",               \
   .check = N > 1 ? check_fanout : NULL,                                   \
   .run = run_fanout,                                                      \
   .n = 16000000,                                                          \
   .n_quick = NQ,                                                          \
   .arg = N},                                                              \
  {                                                                        \
    .name = "fanout" #N ".array",                                          \
    .what = "peer: hand-written array of " #N " callbacks, per delivery",  \
    .target = "", .run = run_array, .n = 16000000, .n_quick = NQ, .arg = N \
  }

const bench_case bench_dispatch_cases[] = {
    {.name = "pub1.c",
     .what = "publish -> 1 subscriber in a loaded C plugin",
     .peer = "fanout1.array",
     .target = "<=10x floor",
     .check = check_pub1,
     .run = run_pub1_c,
     .n = 10000000,
     .n_quick = 100000},
    {.name = "pub1.rust",
     .what = "publish -> 1 subscriber in a Rust plugin (SDK)",
     .peer = "pub1.c",
     .target = "<=1.3x pub1.c",
     .check = check_rust,
     .run = run_pub1_rust,
     .n = 10000000,
     .n_quick = 100000,
     .flags = BENCH_RUST},
    FANOUT(1, 64000),
    FANOUT(8, 64000),
    FANOUT(64, 64000),
    {.name = "metrics.pub1",
     .what = "publish -> 1 subscriber, per-plugin counters on vs off",
     .target = "<=1.05x (on/off)",
     .check = check_metrics,
     .run = run_metrics,
     .n = 9000000,
     .n_quick = 60000,
     .arg = 1,
     .flags = BENCH_SELF_PEER},
    {.name = "metrics.fanout64",
     .what = "publish -> 64 subscribers, counters on vs off, per delivery",
     .target = "<=1.05x (on/off)",
     .check = check_metrics,
     .run = run_metrics,
     .n = 18000000,
     .n_quick = 192000,
     .arg = 64,
     .flags = BENCH_SELF_PEER},
    {.name = "metrics.mixed4",
     .what = "publish -> 4 plugins, 1 subscriber each, on vs off, per "
             "delivery",
     .target = "",
     .check = check_metrics,
     .run = run_metrics_mixed,
     .n = 8000000,
     .n_quick = 48000,
     .arg = 4,
     .flags = BENCH_SELF_PEER},
    {.name = "payload8.publish",
     .what = "publish 8 bytes -> 1 subscriber (inline copy)",
     .target = "",
     .run = run_payload,
     .n = 4000000,
     .n_quick = 40000,
     .arg = 8},
    {.name = "payload64.publish",
     .what = "publish 64 bytes -> 1 subscriber (heap copy)",
     .target = "",
     .run = run_payload,
     .n = 4000000,
     .n_quick = 40000,
     .arg = 64},
    {.name = "payload1024.publish",
     .what = "publish 1024 bytes -> 1 subscriber (heap copy)",
     .target = "",
     .run = run_payload,
     .n = 4000000,
     .n_quick = 40000,
     .arg = 1024},
    {0},
};
