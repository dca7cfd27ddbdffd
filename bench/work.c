/* Work offload round trip: queue a no-op on the libuv thread pool, wait for
 * its completion on the loop, queue the next one (one in flight at a time).
 *
 *   work.uvplug  uvp_api.work_queue -> done(ctx, status)
 *   work.uv      peer: raw uv_queue_work -> after_work_cb
 */
#include <stdlib.h>

#include "bench.h"

typedef struct wrun {
  const bench_case *c;
  bench_host b;
  uv_loop_t *loop;
  uint64_t n, done;
  int error;
  uv_work_t req;
} wrun;

static void noop_work(void *user_data) { (void)user_data; }

static int work_done(uvp_ctx *ctx, int status, void *user_data) {
  wrun *w = user_data;
  if (status != 0) w->error = status;
  if (++w->done < w->n && w->error == 0) {
    uvp_id id;
    int rc = w->b.api->work_queue(ctx, noop_work, work_done, w, NULL, &id);
    if (rc < 0) w->error = rc;
  }
  return 0;
}

static int run_work(const bench_case *c, uint64_t n, bench_sample *out) {
  wrun *w = calloc(1, sizeof *w);
  w->c = c;
  w->n = n;
  if (bench_host_open(c, &w->b, NULL) < 0) return -1;
  uvp_id id;
  uint64_t t0 = bench_now_ns();
  int rc = w->b.api->work_queue(w->b.ctx, noop_work, work_done, w, NULL, &id);
  if (rc < 0) return bench_fail(c, "work_queue: %s", uvp_strerror(rc));
  if (bench_run_until(c, &w->b.loop, &w->done, n) < 0) return -1;
  uint64_t t = bench_now_ns() - t0;
  if (w->error != 0) return bench_fail(c, "work: %s", uvp_strerror(w->error));
  if (w->done != n)
    return bench_fail(c, "completed %llu of %llu work items",
                      (unsigned long long)w->done, (unsigned long long)n);
  out->ns = (double)t / (double)n;
  rc = bench_host_close(c, &w->b);
  free(w);
  return rc;
}

static void uv_noop(uv_work_t *req) { (void)req; }

static void uv_after(uv_work_t *req, int status) {
  wrun *w = req->data;
  if (status != 0) w->error = status;
  if (++w->done < w->n && w->error == 0) {
    int rc = uv_queue_work(w->loop, &w->req, uv_noop, uv_after);
    if (rc < 0) w->error = rc;
  }
}

static int run_uv_work(const bench_case *c, uint64_t n, bench_sample *out) {
  wrun *w = calloc(1, sizeof *w);
  uv_loop_t loop;
  uv_loop_init(&loop);
  w->n = n;
  w->loop = &loop;
  w->req.data = w;
  uint64_t t0 = bench_now_ns();
  int rc = uv_queue_work(&loop, &w->req, uv_noop, uv_after);
  if (rc < 0) return bench_fail(c, "uv_queue_work: %s", uv_strerror(rc));
  uv_run(&loop, UV_RUN_DEFAULT);
  uint64_t t = bench_now_ns() - t0;
  if (w->error != 0) return bench_fail(c, "work: %s", uv_strerror(w->error));
  if (w->done != n)
    return bench_fail(c, "completed %llu of %llu work items",
                      (unsigned long long)w->done, (unsigned long long)n);
  out->ns = (double)t / (double)n;
  uv_loop_close(&loop);
  free(w);
  return 0;
}

const bench_case bench_work_cases[] = {
    {.name = "work.uvplug",
     .what = "work_queue round trip (no-op work, one in flight)",
     .peer = "work.uv",
     .target = "",
     .run = run_work,
     .n = 10000,
     .n_quick = 500},
    {.name = "work.uv",
     .what = "peer: raw uv_queue_work round trip",
     .target = "",
     .run = run_uv_work,
     .n = 10000,
     .n_quick = 500},
    {0},
};
