/* The process bus: what a delivery to another loop costs next to one on
 * the publisher's own loop.
 *
 *   bus.same_loop    host A publishes on a shared topic; A's subscriber
 *                    counts (the bus joined, but no other host on it)
 *   bus.cross_loop   host A (this thread) publishes on the shared topic;
 *                    host B, on its own loop on another thread, counts.
 *                    A retries UVP_EAGAIN (B's ring full) after a turn of
 *                    its own loop. ns per delivery = the whole run / n.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "bench.h"

typedef struct brun {
  const bench_case *c;
  uvp_bus *bus;
  uint64_t n;
  uv_barrier_t joined;
  int error; /* the receiver's first failure, read after the join */
  /* the receiver's, on its thread */
  uv_loop_t loop;
  uvp_host *host;
  uint64_t count;
} brun;

static int count_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  uint64_t *count = user_data;
  ++*count;
  return 0;
}

static int bus_open(const bench_case *c, uvp_bus **out) {
  int rc;
  if ((rc = uvp_bus_new(NULL, out)) < 0 ||
      (rc = uvp_bus_share(*out, "bus")) < 0)
    return bench_fail(c, "bus: %s", uvp_strerror(rc));
  return 0;
}

/* Host b joined to the bus, with a counting subscriber on "bus". */
static int joined_host(const bench_case *c, bench_host *b, uvp_bus *bus,
                       uvp_topic *topic, uint64_t *count) {
  uvp_id id;
  int rc;
  if (bench_host_open(c, b, NULL) < 0) return -1;
  if ((rc = uvp_host_join_bus(b->host, bus)) < 0 ||
      (rc = uvp_host_topic(b->host, "bus", topic)) < 0 ||
      (count != NULL && (rc = b->api->subscribe(b->ctx, *topic, count_cb, count,
                                                NULL, &id)) < 0))
    return bench_fail(c, "join: %s", uvp_strerror(rc));
  return 0;
}

/* Publishes n 8-byte events on topic from b's loop thread, running a turn
 * of b's loop whenever the queue or the bus pushes back. */
static int publish_n(const bench_case *c, bench_host *b, uvp_topic topic,
                     uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    int rc;
    while ((rc = b->api->publish(b->ctx, topic, &i, sizeof i)) == UVP_EAGAIN)
      uv_run(&b->loop, UV_RUN_NOWAIT);
    if (rc < 0) return bench_fail(c, "publish: %s", uvp_strerror(rc));
  }
  return 0;
}

static int run_same(const bench_case *c, uint64_t n, bench_sample *out) {
  uvp_bus *bus;
  bench_host a;
  uvp_topic topic;
  uint64_t count = 0;
  if (bus_open(c, &bus) < 0 || joined_host(c, &a, bus, &topic, &count) < 0)
    return -1;
  uint64_t t0 = bench_now_ns();
  if (publish_n(c, &a, topic, n) < 0 ||
      bench_run_until(c, &a.loop, &count, n) < 0)
    return -1;
  out->ns = (double)(bench_now_ns() - t0) / (double)n;
  if (count != n)
    return bench_fail(c, "counted %llu of %llu", (unsigned long long)count,
                      (unsigned long long)n);
  if (bench_host_close(c, &a) < 0) return -1;
  uvp_bus_free(bus);
  return 0;
}

static void receiver_main(void *arg) {
  brun *r = arg;
  bench_host b;
  uvp_topic topic;
  if (joined_host(r->c, &b, r->bus, &topic, &r->count) < 0) r->error = 1;
  uv_barrier_wait(&r->joined);
  if (r->error == 0 && bench_run_until(r->c, &b.loop, &r->count, r->n) < 0)
    r->error = 1;
  if (r->error == 0 && bench_host_close(r->c, &b) < 0) r->error = 1;
}

static int run_cross(const bench_case *c, uint64_t n, bench_sample *out) {
  brun *r = calloc(1, sizeof *r);
  bench_host a;
  uvp_topic topic;
  uv_thread_t th;
  r->c = c;
  r->n = n;
  if (bus_open(c, &r->bus) < 0 || joined_host(c, &a, r->bus, &topic, NULL))
    return -1;
  uv_barrier_init(&r->joined, 2);
  uv_thread_create(&th, receiver_main, r);
  uv_barrier_wait(&r->joined); /* b joined: it gets every publish */
  uint64_t t0 = bench_now_ns();
  int rc = publish_n(c, &a, topic, n);
  uv_thread_join(&th);
  uint64_t t = bench_now_ns() - t0;
  uv_barrier_destroy(&r->joined);
  if (rc < 0 || r->error != 0) return -1;
  if (r->count != n)
    return bench_fail(c, "counted %llu of %llu on the other loop",
                      (unsigned long long)r->count, (unsigned long long)n);
  out->ns = (double)t / (double)n;
  if (bench_host_close(c, &a) < 0) return -1;
  uvp_bus_free(r->bus);
  free(r);
  return 0;
}

const bench_case bench_bus_cases[] = {
    {.name = "bus.cross_loop",
     .what = "publish on host A -> subscriber on host B, B on another thread",
     .peer = "bus.same_loop",
     .target = "",
     .run = run_cross,
     .n = 2000000,
     .n_quick = 20000},
    {.name = "bus.same_loop",
     .what = "peer: publish -> subscriber on the same host (bus joined)",
     .target = "",
     .run = run_same,
     .n = 2000000,
     .n_quick = 20000},
    {.name = NULL},
};
