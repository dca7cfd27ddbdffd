/* Worker scaling: the throughput of a CPU-bound subscriber with 1 and with
 * N worker loops, the model of uvplugd's [host] workers (docs/scaling.md).
 *
 *   workers.scale1   one thread: a loop, a host, the embedder publishing
 *                    and one subscriber that burns ~1 us of CPU per event
 *   workers.scale2   two such threads at once, each a replica of the pair
 *                    (replicas = all), n/2 events each; the same run also
 *                    times one thread on n events (the peer), so a noisy
 *                    machine hits both alike. Target: >= 1.7x events/s.
 *
 * Each worker is a whole publisher + subscriber pair: nothing crosses
 * threads, which is what workers buy when the work partitions (the cost of
 * crossing is bus.cross_loop's figure). The figure is ns per event over
 * all workers: wall time from the barrier that starts them all to the last
 * one done, divided by the events of all of them.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench.h"

#define ROUND 1024 /* the host's default batch */
#define SPIN 400   /* rounds of the subscriber's work per event */

/* Aligned to 128 bytes: each thread's counters on lines of their own (two
 * adjacent workers sharing a line would measure false sharing). */
typedef struct worker {
  _Alignas(128) const bench_case *c;
  uint64_t events, done;
  uint64_t sink; /* the work's result, so it is not optimised away */
  uv_barrier_t *start;
  uint64_t t0, t1;
  int rc;
} worker;

/* The CPU-bound part: a fixed number of multiply-xorshift rounds. */
static int busy_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  worker *w = user_data;
  uint64_t x;
  memcpy(&x, ev->data, sizeof x);
  for (int i = 0; i < SPIN; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x *= 0x9E3779B97F4A7C15ull;
  }
  w->sink += x;
  w->done++;
  return 0;
}

/* Publish w->events events ROUND at a time, running the loop to drain. */
static int pump(worker *w, bench_host *b, uvp_topic t) {
  for (uint64_t sent = 0; sent < w->events;) {
    uint64_t k = w->events - sent < ROUND ? w->events - sent : ROUND;
    for (uint64_t i = 0; i < k; i++) {
      uint64_t v = sent + i + 1;
      int rc = b->api->publish(b->ctx, t, &v, sizeof v);
      if (rc < 0) return bench_fail(w->c, "publish: %s", uvp_strerror(rc));
    }
    sent += k;
    if (bench_run_until(w->c, &b->loop, &w->done, sent) < 0) return -1;
  }
  return 0;
}

/* One worker thread: its own loop and host, made on this thread (T3). */
static void worker_main(void *arg) {
  worker *w = arg;
  bench_host b;
  uvp_topic t;
  uvp_id id;
  int ok = bench_host_open(w->c, &b, NULL) == 0;
  if (ok && (b.api->topic(b.ctx, "work", 4, &t) < 0 ||
             b.api->subscribe(b.ctx, t, busy_cb, w, NULL, &id) < 0)) {
    bench_fail(w->c, "subscribe failed");
    ok = 0;
  }
  uv_barrier_wait(w->start);
  w->t0 = bench_now_ns();
  w->rc = ok ? pump(w, &b, t) : -1;
  w->t1 = bench_now_ns();
  if (ok && bench_host_close(w->c, &b) < 0) w->rc = -1;
  if (w->rc == 0 && w->done != w->events)
    w->rc =
        bench_fail(w->c, "delivered %llu of %llu events",
                   (unsigned long long)w->done, (unsigned long long)w->events);
}

/* n events over nw workers at once; ns per event, or -1 after bench_fail. */
static double time_workers(const bench_case *c, uint64_t n, unsigned nw) {
  worker w[8];
  uv_thread_t th[8];
  uv_barrier_t start;
  uv_barrier_init(&start, nw);
  for (unsigned i = 0; i < nw; i++) {
    w[i] = (worker){.c = c, .events = n / nw, .start = &start};
    if (uv_thread_create(&th[i], worker_main, &w[i]) != 0) {
      bench_fail(c, "thread");
      abort(); /* the barrier would wait forever */
    }
  }
  uint64_t t0 = UINT64_MAX, t1 = 0, events = 0;
  int rc = 0;
  for (unsigned i = 0; i < nw; i++) {
    uv_thread_join(&th[i]);
    rc |= w[i].rc;
    t0 = w[i].t0 < t0 ? w[i].t0 : t0;
    t1 = w[i].t1 > t1 ? w[i].t1 : t1;
    events += w[i].events;
  }
  uv_barrier_destroy(&start);
  return rc != 0 ? -1.0 : (double)(t1 - t0) / (double)events;
}

static int run_scale1(const bench_case *c, uint64_t n, bench_sample *out) {
  double ns = time_workers(c, n, 1);
  if (ns < 0) return -1;
  out->ns = ns;
  return 0;
}

/* Two workers, with one worker on as many events timed in the same run. */
static int run_scale2(const bench_case *c, uint64_t n, bench_sample *out) {
  double one = time_workers(c, n, 1);
  double two = one < 0 ? -1 : time_workers(c, n, 2);
  if (two < 0) return -1;
  out->ns = two;
  out->x[BX_PEER_NS] = one;
  return 0;
}

static int check_scale2(const bench_result *r, char *note, size_t len) {
  double speedup = 1.0 / r->ratio_peer;
  snprintf(note, len, "%.2fx the events/s of 1 worker", speedup);
  return speedup >= 1.7;
}

const bench_case bench_workers_cases[] = {
    {.name = "workers.scale1",
     .what = "1 worker loop: publish -> CPU-bound (~1 us) subscriber",
     .target = "",
     .run = run_scale1,
     .n = 2000000,
     .n_quick = 20000},
    {.name = "workers.scale2",
     .what = "2 worker loops, each its own publisher + CPU-bound subscriber",
     .target = ">=1.7x events/s of 1 worker (same run)",
     .check = check_scale2,
     .run = run_scale2,
     .n = 2000000,
     .n_quick = 20000,
     .flags = BENCH_SELF_PEER},
    {.name = NULL}};
