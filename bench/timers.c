/* Timers and registrations: time and memory per registration.
 *
 *   timers.uvplug      n one-shot timers started, fired and destroyed
 *                      (timeouts 0..15 ms); bytes from RSS growth after
 *                      they are registered; forked child per run
 *   timers.uv          peer: n malloc'ed uv_timer_t, started, fired,
 *                      uv_close'd and freed
 *   churn_timer.*      timer_start + cancel pairs next to 1000 pending
 *                      timers; peer: uv_timer_start + uv_timer_stop
 *   churn_sub.uvplug   subscribe + cancel pairs on a topic with one live
 *                      subscriber (peer churn_sub.ghook is in glib.c)
 *   subs.uvplug        RSS growth of n idle subscriptions on one topic
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static uint64_t timeout_of(uint64_t i) { return (i * 7) % 16; }

/* ---- one-shot timers ---------------------------------------------------- */

static int timer_cb(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  (*(uint64_t *)user_data)++;
  return 0;
}

static int run_timers(const bench_case *c, uint64_t n, bench_sample *out) {
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  uint64_t count = 0;
  double before = bench_rss_bytes();
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    uvp_id id;
    int rc = b.api->timer_start(b.ctx, timeout_of(i), 0, timer_cb, &count, NULL,
                                &id);
    if (rc < 0) return bench_fail(c, "timer_start: %s", uvp_strerror(rc));
  }
  double after = bench_rss_bytes();
  if (bench_run_until(c, &b.loop, &count, n) < 0) return -1;
  uint64_t t = bench_now_ns() - t0;
  if (count != n)
    return bench_fail(c, "fired %llu of %llu timers", (unsigned long long)count,
                      (unsigned long long)n);
  out->ns = (double)t / (double)n;
  out->x[BX_TOTAL_S] = (double)t / 1e9;
  out->x[BX_BYTES_PER_ITEM] = (after - before) / (double)n;
  out->x[BX_PEAK_RSS_MB] = bench_peak_rss_bytes() / 1048576.0;
  return bench_host_close(c, &b);
}

static void uv_free_cb(uv_handle_t *h) { free(h); }

static void uv_timer_fired(uv_timer_t *t) {
  (*(uint64_t *)t->data)++;
  uv_close((uv_handle_t *)t, uv_free_cb);
}

static int run_uv_timers(const bench_case *c, uint64_t n, bench_sample *out) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint64_t count = 0;
  double before = bench_rss_bytes();
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    uv_timer_t *t = malloc(sizeof *t);
    if (t == NULL) return bench_fail(c, "out of memory");
    uv_timer_init(&loop, t);
    t->data = &count;
    uv_timer_start(t, uv_timer_fired, timeout_of(i), 0);
  }
  double after = bench_rss_bytes();
  uv_run(&loop, UV_RUN_DEFAULT);
  uint64_t t = bench_now_ns() - t0;
  if (count != n)
    return bench_fail(c, "fired %llu of %llu timers", (unsigned long long)count,
                      (unsigned long long)n);
  if (uv_loop_close(&loop) != 0) return bench_fail(c, "loop not closed");
  out->ns = (double)t / (double)n;
  out->x[BX_TOTAL_S] = (double)t / 1e9;
  out->x[BX_BYTES_PER_ITEM] = (after - before) / (double)n;
  out->x[BX_PEAK_RSS_MB] = bench_peak_rss_bytes() / 1048576.0;
  return 0;
}

/* ---- churn -------------------------------------------------------------- */

#define PENDING 1000

static int run_timer_churn(const bench_case *c, uint64_t n, bench_sample *out) {
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  uint64_t count = 0;
  int rc = 0;
  for (uint64_t i = 0; rc == 0 && i < PENDING; i++) {
    uvp_id id;
    rc = b.api->timer_start(b.ctx, 3600000 + i, 0, timer_cb, &count, NULL, &id);
  }
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; rc == 0 && i < n; i++) {
    uvp_id id;
    rc = b.api->timer_start(b.ctx, 1800000 + (i & 4095), 0, timer_cb, &count,
                            NULL, &id);
    if (rc == 0) rc = b.api->cancel(b.ctx, id);
  }
  uint64_t t = bench_now_ns() - t0;
  if (rc < 0) return bench_fail(c, "timer churn: %s", uvp_strerror(rc));
  uv_run(&b.loop, UV_RUN_NOWAIT);
  if (count != 0)
    return bench_fail(c, "%llu cancelled timers fired",
                      (unsigned long long)count);
  out->ns = (double)t / (double)n;
  return bench_host_close(c, &b);
}

static void never_cb(uv_timer_t *t) { (*(uint64_t *)t->data)++; }

static int run_uv_timer_churn(const bench_case *c, uint64_t n,
                              bench_sample *out) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint64_t count = 0;
  uv_timer_t *pending = calloc(PENDING + 1, sizeof *pending);
  for (uint64_t i = 0; i <= PENDING; i++) {
    uv_timer_init(&loop, &pending[i]);
    pending[i].data = &count;
  }
  for (uint64_t i = 0; i < PENDING; i++)
    uv_timer_start(&pending[i], never_cb, 3600000 + i, 0);
  uv_timer_t *t = &pending[PENDING];
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    uv_timer_start(t, never_cb, 1800000 + (i & 4095), 0);
    uv_timer_stop(t);
  }
  uint64_t el = bench_now_ns() - t0;
  for (uint64_t i = 0; i <= PENDING; i++)
    uv_close((uv_handle_t *)&pending[i], NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  free(pending);
  if (count != 0)
    return bench_fail(c, "%llu stopped timers fired",
                      (unsigned long long)count);
  if (uv_loop_close(&loop) != 0) return bench_fail(c, "loop not closed");
  out->ns = (double)el / (double)n;
  return 0;
}

static int sub_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  (*(uint64_t *)user_data)++;
  return 0;
}

static int run_sub_churn(const bench_case *c, uint64_t n, bench_sample *out) {
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  uint64_t count = 0;
  uvp_topic t;
  uvp_id id;
  int rc = uvp_host_topic(b.host, "churn", &t);
  if (rc == 0) rc = b.api->subscribe(b.ctx, t, sub_cb, &count, NULL, &id);
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; rc == 0 && i < n; i++) {
    rc = b.api->subscribe(b.ctx, t, sub_cb, &count, NULL, &id);
    if (rc == 0) rc = b.api->cancel(b.ctx, id);
  }
  uint64_t el = bench_now_ns() - t0;
  if (rc < 0) return bench_fail(c, "churn: %s", uvp_strerror(rc));
  uint64_t one = 1;
  if ((rc = uvp_host_publish(b.host, t, &one, sizeof one)) < 0)
    return bench_fail(c, "publish: %s", uvp_strerror(rc));
  if (bench_run_until(c, &b.loop, &count, 1) < 0) return -1;
  uv_run(&b.loop, UV_RUN_NOWAIT); /* a cancelled one would show up here */
  if (count != 1)
    return bench_fail(c, "%llu deliveries after churn, want 1",
                      (unsigned long long)count);
  out->ns = (double)el / (double)n;
  return bench_host_close(c, &b);
}

/* ---- bytes per idle subscription ---------------------------------------- */

static int run_sub_bytes(const bench_case *c, uint64_t n, bench_sample *out) {
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  uint64_t count = 0;
  uvp_topic t;
  int rc = uvp_host_topic(b.host, "idle", &t);
  double before = bench_rss_bytes();
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; rc == 0 && i < n; i++) {
    uvp_id id;
    rc = b.api->subscribe(b.ctx, t, sub_cb, &count, NULL, &id);
  }
  uint64_t el = bench_now_ns() - t0;
  double after = bench_rss_bytes();
  if (rc < 0) return bench_fail(c, "subscribe: %s", uvp_strerror(rc));
  uint64_t one = 1;
  if ((rc = uvp_host_publish(b.host, t, &one, sizeof one)) < 0)
    return bench_fail(c, "publish: %s", uvp_strerror(rc));
  if (bench_run_until(c, &b.loop, &count, n) < 0) return -1;
  if (count != n)
    return bench_fail(c, "delivered to %llu of %llu subscribers",
                      (unsigned long long)count, (unsigned long long)n);
  out->ns = (double)el / (double)n;
  out->x[BX_BYTES_PER_ITEM] = (after - before) / (double)n;
  out->x[BX_PEAK_RSS_MB] = bench_peak_rss_bytes() / 1048576.0;
  return bench_host_close(c, &b);
}

/* ---- targets ----------------------------------------------------------- */

static int check_timers(const bench_result *r, char *note, size_t len) {
  const bench_result *p = bench_find("timers.uv");
  double bytes = r->med.x[BX_BYTES_PER_ITEM];
  int ok = bytes <= 64;
  int n =
      snprintf(note, len, "%.1f B/timer, %.2f s", bytes, r->med.x[BX_TOTAL_S]);
  if (p != NULL) {
    ok = ok && r->ratio_peer <= 0.6;
    snprintf(note + n, len - (size_t)n, " vs %.2f s, %.0f B",
             p->med.x[BX_TOTAL_S], p->med.x[BX_BYTES_PER_ITEM]);
  }
  return ok;
}

static int check_sub_bytes(const bench_result *r, char *note, size_t len) {
  double bytes = r->med.x[BX_BYTES_PER_ITEM];
  snprintf(note, len, "%.1f B/subscription", bytes);
  return bytes <= 48;
}

static int note_bytes(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "%.1f B/timer, %.2f s", r->med.x[BX_BYTES_PER_ITEM],
           r->med.x[BX_TOTAL_S]);
  return -1;
}

const bench_case bench_timer_cases[] = {
    {.name = "timers.uvplug",
     .what = "1 M one-shot timers: start, fire, destroy (ns per timer)",
     .peer = "timers.uv",
     .target = "<=0.6x uv time, <=64 B/timer",
     .check = check_timers,
     .run = run_timers,
     .n = 1000000,
     .n_quick = 10000,
     .flags = BENCH_FORK | BENCH_NO_WARMUP,
     .max_runs = 3},
    {.name = "timers.uv",
     .what = "peer: 1 M malloc'ed uv_timer_t: start, fire, close, free",
     .target = "",
     .check = note_bytes,
     .run = run_uv_timers,
     .n = 1000000,
     .n_quick = 10000,
     .flags = BENCH_FORK | BENCH_NO_WARMUP,
     .max_runs = 3},
    {.name = "churn_timer.uvplug",
     .what = "timer_start + cancel, 1000 timers pending",
     .peer = "churn_timer.uv",
     .target = "",
     .run = run_timer_churn,
     .n = 2000000,
     .n_quick = 10000},
    {.name = "churn_timer.uv",
     .what = "peer: uv_timer_start + uv_timer_stop, 1000 pending",
     .target = "",
     .run = run_uv_timer_churn,
     .n = 2000000,
     .n_quick = 10000},
    {.name = "churn_sub.uvplug",
     .what = "subscribe + cancel next to one live subscriber",
     .peer = "churn_sub.ghook",
     .target = "",
     .run = run_sub_churn,
     .n = 2000000,
     .n_quick = 10000},
    {.name = "subs.uvplug",
     .what = "RSS bytes per idle subscription (1 M on one topic)",
     .peer = "subs.ghook",
     .target = "<=48 B/subscription",
     .check = check_sub_bytes,
     .run = run_sub_bytes,
     .n = 1000000,
     .n_quick = 10000,
     .flags = BENCH_FORK},
    {0},
};
