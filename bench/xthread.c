/* Cross-thread cases: producer threads hand tiny events to the loop thread,
 * where every one is counted.
 *
 *   xthreadP.uvplug   P threads, uvp_api.remote_post(UVP_POST_BLOCK) of a
 *                     callback; the bounded inbox pushes back when full
 *   xthreadP.mutexq   peer: malloc a node, lock, append, unlock,
 *                     uv_async_send; the loop swaps the list out and frees
 *   xthreadP.glib     peer: g_main_context_invoke_full to a GMainContext
 *                     owned by the consuming thread
 *   rss5m.*           the same with 1 producer and 5 M events, in a forked
 *                     child: peak RSS (the bounded queue vs unbounded ones)
 *   rtt.uvplug        round trip: remote_post, the loop answers through a
 *                     semaphore; p50/p99
 *   rtt.uv_async      peer: uv_async_send, answered the same way
 *   payloadS.remote   remote_publish of S bytes from 1 thread -> 1
 *                     subscriber; payloadS.mutexq copies S bytes per node
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef UVP_BENCH_HAVE_GLIB
#include <glib.h>
#endif

#include "bench.h"

#define MAX_PRODUCERS 8

typedef struct node {
  struct node *next;
  uint32_t len;
  unsigned char data[];
} node;

typedef struct xrun xrun;

struct xrun {
  const bench_case *c;
  int producers;
  uint64_t per_thread;
  size_t len;
  uv_barrier_t start;
  atomic_int errors;
  atomic_int first_error;
  void (*produce)(xrun *x);
  uv_loop_t *loop;
  /* Consumer thread only, and written per event: padded so that no field a
   * producer reads per post (api, remote; lock, async) shares its cache
   * line, which would cost every post a line transfer. */
  char pad0[64];
  uint64_t count, target;
  char pad1[64];
  /* uvplug */
  const uvp_api *api;
  uvp_remote *remote;
  uvp_topic topic;
  /* mutexq */
  uv_mutex_t lock;
  node *head, *tail;
  uv_async_t async;
#ifdef UVP_BENCH_HAVE_GLIB
  GMainContext *gctx;
  GMainLoop *gloop;
#endif
};

static void producer_main(void *arg) {
  xrun *x = arg;
  uv_barrier_wait(&x->start);
  x->produce(x);
}

static void note_error(xrun *x, int rc) {
  if (atomic_fetch_add(&x->errors, 1) == 0) atomic_store(&x->first_error, rc);
}

/* Starts the producers, releases them together, runs `consume` on this
 * thread until every event was counted, joins them; returns elapsed ns. */
static uint64_t drive(xrun *x, void (*consume)(xrun *x)) {
  uv_thread_t th[MAX_PRODUCERS];
  uv_barrier_init(&x->start, (unsigned)x->producers + 1);
  atomic_init(&x->errors, 0);
  atomic_init(&x->first_error, 0);
  for (int i = 0; i < x->producers; i++)
    uv_thread_create(&th[i], producer_main, x);
  uv_barrier_wait(&x->start);
  uint64_t t0 = bench_now_ns();
  consume(x);
  uint64_t t = bench_now_ns() - t0;
  for (int i = 0; i < x->producers; i++) uv_thread_join(&th[i]);
  uv_barrier_destroy(&x->start);
  return t ? t : 1;
}

static int check_x(xrun *x) {
  if (atomic_load(&x->errors) != 0)
    return bench_fail(x->c, "%d posts failed, first: %s",
                      atomic_load(&x->errors),
                      uvp_strerror(atomic_load(&x->first_error)));
  if (x->count != x->target)
    return bench_fail(x->c, "counted %llu of %llu events on the loop",
                      (unsigned long long)x->count,
                      (unsigned long long)x->target);
  return 0;
}

static void loop_consume(xrun *x) { uv_run(x->loop, UV_RUN_DEFAULT); }

static void got_one(xrun *x) {
  if (++x->count == x->target) uv_stop(x->loop);
}

/* ---- uvplug ------------------------------------------------------------ */

static int post_cb(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  got_one(user_data);
  return 0;
}

static int sub_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  got_one(user_data);
  return 0;
}

static void produce_post(xrun *x) {
  for (uint64_t i = 0; i < x->per_thread; i++) {
    int rc = x->api->remote_post(x->remote, post_cb, x, NULL, UVP_POST_BLOCK);
    if (rc < 0) {
      note_error(x, rc);
      return;
    }
  }
}

static void produce_publish(xrun *x) {
  unsigned char *buf = calloc(1, x->len ? x->len : 1);
  for (uint64_t i = 0; i < x->per_thread; i++) {
    int rc = x->api->remote_publish(x->remote, x->topic, buf, x->len,
                                    UVP_POST_BLOCK);
    if (rc < 0) {
      note_error(x, rc);
      break;
    }
  }
  free(buf);
}

static void keepalive_cb(uv_async_t *a) { (void)a; }

/* uvplug producers; publish != 0: remote_publish of x->len bytes to one
 * subscriber instead of remote_post. */
static int uvplug_run(const bench_case *c, xrun *x, bench_sample *out,
                      int publish) {
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  x->api = b.api;
  x->loop = &b.loop;
  int rc = b.api->remote_new(b.ctx, &x->remote);
  if (rc < 0) return bench_fail(c, "remote_new: %s", uvp_strerror(rc));
  if (publish) {
    uvp_id id;
    if ((rc = uvp_host_topic(b.host, "xthread", &x->topic)) < 0 ||
        (rc = b.api->subscribe(b.ctx, x->topic, sub_cb, x, NULL, &id)) < 0)
      return bench_fail(c, "subscribe: %s", uvp_strerror(rc));
  }
  x->produce = publish ? produce_publish : produce_post;
  uv_async_t keep; /* keeps uv_run up whatever the host's handles do */
  uv_async_init(&b.loop, &keep, keepalive_cb);
  uint64_t ns = drive(x, loop_consume);
  if (check_x(x) < 0) return -1;
  out->ns = (double)ns / (double)x->target;
  uv_close((uv_handle_t *)&keep, NULL);
  b.api->remote_release(x->remote);
  return bench_host_close(c, &b);
}

/* ---- peer: mutex queue + malloc + uv_async_send ------------------------- */

static void produce_mutexq(xrun *x) {
  for (uint64_t i = 0; i < x->per_thread; i++) {
    node *n = malloc(sizeof *n + x->len);
    if (n == NULL) {
      note_error(x, UVP_ENOMEM);
      return;
    }
    n->next = NULL;
    n->len = (uint32_t)x->len;
    memset(n->data, (int)i, x->len);
    uv_mutex_lock(&x->lock);
    if (x->tail)
      x->tail->next = n;
    else
      x->head = n;
    x->tail = n;
    uv_mutex_unlock(&x->lock);
    uv_async_send(&x->async);
  }
}

static void mutexq_async(uv_async_t *a) {
  xrun *x = a->data;
  uv_mutex_lock(&x->lock);
  node *n = x->head;
  x->head = x->tail = NULL;
  uv_mutex_unlock(&x->lock);
  while (n != NULL) {
    node *next = n->next;
    got_one(x);
    free(n);
    n = next;
  }
}

static int mutexq_run(const bench_case *c, xrun *x, bench_sample *out) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  x->loop = &loop;
  uv_mutex_init(&x->lock);
  x->head = x->tail = NULL;
  uv_async_init(&loop, &x->async, mutexq_async);
  x->async.data = x;
  x->produce = produce_mutexq;
  uint64_t ns = drive(x, loop_consume);
  if (check_x(x) < 0) return -1;
  out->ns = (double)ns / (double)x->target;
  uv_close((uv_handle_t *)&x->async, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_mutex_destroy(&x->lock);
  if (uv_loop_close(&loop) != 0) return bench_fail(c, "loop not closed");
  return 0;
}

/* ---- peer: GLib g_main_context_invoke_full ------------------------------ */

#ifdef UVP_BENCH_HAVE_GLIB
static gboolean invoke_cb(gpointer data) {
  xrun *x = data;
  if (++x->count == x->target) g_main_loop_quit(x->gloop);
  return G_SOURCE_REMOVE;
}

static void produce_glib(xrun *x) {
  for (uint64_t i = 0; i < x->per_thread; i++)
    g_main_context_invoke_full(x->gctx, G_PRIORITY_DEFAULT, invoke_cb, x, NULL);
}

static void glib_consume(xrun *x) { g_main_loop_run(x->gloop); }

static int glib_run(const bench_case *c, xrun *x, bench_sample *out) {
  (void)c;
  x->gctx = g_main_context_new();
  x->gloop = g_main_loop_new(x->gctx, FALSE);
  /* Owned by this thread before the producers start: otherwise an invoke
   * could acquire the free context and run on the producer itself. */
  g_main_context_acquire(x->gctx);
  x->produce = produce_glib;
  uint64_t ns = drive(x, glib_consume);
  g_main_context_release(x->gctx);
  g_main_loop_unref(x->gloop);
  g_main_context_unref(x->gctx);
  if (check_x(x) < 0) return -1;
  out->ns = (double)ns / (double)x->target;
  return 0;
}
#else
static int glib_run(const bench_case *c, xrun *x, bench_sample *out) {
  (void)x;
  (void)out;
  return bench_fail(c, "built without GLib");
}
#endif

/* ---- cases ------------------------------------------------------------- */

enum peer_kind { K_UVPLUG, K_MUTEXQ, K_GLIB, K_UVPLUG_PUB };

static int xthread_run(const bench_case *c, uint64_t n, bench_sample *out,
                       int kind, int producers, size_t len) {
  xrun *x = calloc(1, sizeof *x);
  x->c = c;
  x->producers = producers;
  x->per_thread = n / (uint64_t)producers;
  x->target = x->per_thread * (uint64_t)producers;
  x->len = len;
  int rc = kind == K_UVPLUG       ? uvplug_run(c, x, out, 0)
           : kind == K_UVPLUG_PUB ? uvplug_run(c, x, out, 1)
           : kind == K_MUTEXQ     ? mutexq_run(c, x, out)
                                  : glib_run(c, x, out);
  free(x);
  return rc;
}

/* arg: producers in the low byte, kind in the next. */
#define XARG(kind, producers) ((uint64_t)(kind) << 8 | (producers))

static int run_xthread(const bench_case *c, uint64_t n, bench_sample *out) {
  return xthread_run(c, n, out, (int)(c->arg >> 8), (int)(c->arg & 0xff), 8);
}

static int run_rss(const bench_case *c, uint64_t n, bench_sample *out) {
  double before = bench_rss_bytes();
  if (xthread_run(c, n, out, (int)c->arg, 1, 8) < 0) return -1;
  double peak = bench_peak_rss_bytes();
  out->x[BX_PEAK_RSS_MB] = peak / 1048576.0;
  out->x[BX_RSS_GROWTH_MB] = (peak - before) / 1048576.0;
  return 0;
}

static int run_payload(const bench_case *c, uint64_t n, bench_sample *out) {
  int kind = c->arg >> 16 ? K_MUTEXQ : K_UVPLUG_PUB;
  return xthread_run(c, n, out, kind, 1, (size_t)(c->arg & 0xffff));
}

/* ---- round trips -------------------------------------------------------- */

typedef struct rtt {
  const bench_case *c;
  uv_loop_t *loop;
  uv_sem_t answer;
  uint64_t m, count;
  uint64_t *lat;
  atomic_int error;
  const uvp_api *api;
  uvp_remote *remote;
  uv_async_t async;
  int use_async;
} rtt;

static void answer(rtt *r) {
  uv_sem_post(&r->answer);
  if (++r->count == r->m) uv_stop(r->loop);
}

static int rtt_post_cb(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  answer(user_data);
  return 0;
}

static void rtt_async_cb(uv_async_t *a) { answer(a->data); }

static void rtt_client(void *arg) {
  rtt *r = arg;
  for (uint64_t i = 0; i < r->m; i++) {
    uint64_t t0 = bench_now_ns();
    if (r->use_async) {
      uv_async_send(&r->async);
    } else {
      int rc =
          r->api->remote_post(r->remote, rtt_post_cb, r, NULL, UVP_POST_BLOCK);
      if (rc < 0) {
        atomic_store(&r->error, rc);
        return;
      }
    }
    uv_sem_wait(&r->answer);
    r->lat[i] = bench_now_ns() - t0;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int run_rtt(const bench_case *c, uint64_t n, bench_sample *out) {
  rtt *r = calloc(1, sizeof *r);
  r->c = c;
  r->m = n;
  r->lat = calloc(n, sizeof *r->lat);
  r->use_async = (int)c->arg;
  atomic_init(&r->error, 0);
  uv_sem_init(&r->answer, 0);
  bench_host b;
  if (bench_host_open(c, &b, NULL) < 0) return -1;
  r->loop = &b.loop;
  r->api = b.api;
  int rc = b.api->remote_new(b.ctx, &r->remote);
  if (rc < 0) return bench_fail(c, "remote_new: %s", uvp_strerror(rc));
  uv_async_init(&b.loop, &r->async, rtt_async_cb); /* also keeps uv_run up */
  r->async.data = r;
  uv_thread_t th;
  uv_thread_create(&th, rtt_client, r);
  uv_run(&b.loop, UV_RUN_DEFAULT);
  uv_thread_join(&th);
  if ((rc = atomic_load(&r->error)) < 0)
    return bench_fail(c, "remote_post: %s", uvp_strerror(rc));
  if (r->count != n)
    return bench_fail(c, "answered %llu of %llu round trips",
                      (unsigned long long)r->count, (unsigned long long)n);
  qsort(r->lat, n, sizeof *r->lat, cmp_u64);
  out->x[BX_P50_NS] = (double)r->lat[n / 2];
  out->x[BX_P99_NS] = (double)r->lat[n * 99 / 100];
  out->ns = out->x[BX_P50_NS];
  uv_close((uv_handle_t *)&r->async, NULL);
  b.api->remote_release(r->remote);
  uv_sem_destroy(&r->answer);
  free(r->lat);
  free(r);
  return bench_host_close(c, &b);
}

/* ---- targets ----------------------------------------------------------- */

static int check_xthread(const bench_result *r, char *note, size_t len) {
  char g[32];
  snprintf(g, sizeof g, "xthread%d.glib", (int)(r->c->arg & 0xff));
  const bench_result *glib = bench_find(g);
  if (isnan(r->ratio_peer)) return -1;
  int ok = r->ratio_peer <= 0.25;
  int n =
      snprintf(note, len, "%.2fx faster than mutex+async", 1 / r->ratio_peer);
  if (glib != NULL) {
    double speed = glib->med.ns / r->med.ns;
    ok = ok && speed >= 50;
    snprintf(note + n, len - (size_t)n, ", %.0fx faster than GLib", speed);
  }
  return ok;
}

static int check_rss(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "peak RSS %.1f MB", r->med.x[BX_PEAK_RSS_MB]);
  return r->med.x[BX_PEAK_RSS_MB] < 64;
}

static int check_rtt(const bench_result *r, char *note, size_t len) {
  const bench_result *p = bench_find("rtt.uv_async");
  if (p == NULL) return -1;
  snprintf(note, len, "p99 %.1f us vs %.1f us", r->med.x[BX_P99_NS] / 1e3,
           p->med.x[BX_P99_NS] / 1e3);
  return r->ratio_peer <= 1.1;
}

static int check_rss_peer(const bench_result *r, char *note, size_t len) {
  snprintf(note, len, "peak RSS %.1f MB", r->med.x[BX_PEAK_RSS_MB]);
  return -1;
}

#define XT(P, target_text, chk)                                                \
  {.name = "xthread" #P ".uvplug",                                             \
   .what = "remote_post from " #P " thread(s), counted on the loop",           \
   .peer = "xthread" #P ".mutexq",                                             \
   .target = target_text,                                                      \
   .check = chk,                                                               \
   .run = run_xthread,                                                         \
   .n = 4000000,                                                               \
   .n_quick = 20000,                                                           \
   .arg = XARG(K_UVPLUG, P)},                                                  \
      {.name = "xthread" #P ".mutexq",                                         \
       .what = "peer: malloc + mutex queue + uv_async_send, " #P " thread(s)", \
       .target = "",                                                           \
       .run = run_xthread,                                                     \
       .n = 4000000,                                                           \
       .n_quick = 20000,                                                       \
       .arg = XARG(K_MUTEXQ, P)},                                              \
  {                                                                            \
    .name = "xthread" #P ".glib",                                              \
    .what = "peer: g_main_context_invoke_full, " #P " thread(s)",              \
    .target = "", .run = run_xthread, .n = 100000, .n_quick = 4000,            \
    .arg = XARG(K_GLIB, P), .flags = BENCH_GLIB                                \
  }

#define PAYLOAD(S)                                                          \
  {.name = "payload" #S ".remote",                                          \
   .what = "remote_publish " #S " bytes from 1 thread -> 1 subscriber",     \
   .peer = "payload" #S ".mutexq",                                          \
   .target = "",                                                            \
   .run = run_payload,                                                      \
   .n = 2000000,                                                            \
   .n_quick = 20000,                                                        \
   .arg = S},                                                               \
  {                                                                         \
    .name = "payload" #S ".mutexq",                                         \
    .what = "peer: mutex queue, malloc node + " #S " bytes", .target = "",  \
    .run = run_payload, .n = 2000000, .n_quick = 20000, .arg = 1u << 16 | S \
  }

const bench_case bench_xthread_cases[] = {
    XT(1, ">=4x mutexq, >=50x GLib", check_xthread),
    XT(2, "", NULL),
    XT(4, ">=4x mutexq, >=50x GLib", check_xthread),
    {.name = "rss5m.uvplug",
     .what = "peak RSS of 5 M remote_posts from 1 thread (forked child)",
     .peer = "rss5m.mutexq",
     .target = "peak RSS < 64 MB, 0 lost",
     .check = check_rss,
     .run = run_rss,
     .n = 5000000,
     .n_quick = 50000,
     .arg = K_UVPLUG,
     .flags = BENCH_FORK | BENCH_NO_WARMUP,
     .max_runs = 3},
    {.name = "rss5m.mutexq",
     .what = "peer: peak RSS of 5 M posts, malloc + mutex queue",
     .target = "",
     .check = check_rss_peer,
     .run = run_rss,
     .n = 5000000,
     .n_quick = 50000,
     .arg = K_MUTEXQ,
     .flags = BENCH_FORK | BENCH_NO_WARMUP,
     .max_runs = 3},
    {.name = "rss5m.glib",
     .what = "peer: peak RSS of 5 M g_main_context_invoke_full (1 run)",
     .target = "",
     .check = check_rss_peer,
     .run = run_rss,
     .n = 5000000,
     .n_quick = 20000,
     .arg = K_GLIB,
     .flags = BENCH_FORK | BENCH_NO_WARMUP | BENCH_GLIB,
     .max_runs = 1},
    {.name = "rtt.uvplug",
     .what = "round trip p50: remote_post, the loop answers (semaphore)",
     .peer = "rtt.uv_async",
     .target = "p50 <=1.1x uv_async",
     .check = check_rtt,
     .run = run_rtt,
     .n = 20000,
     .n_quick = 500,
     .arg = 0},
    {.name = "rtt.uv_async",
     .what = "peer: round trip p50 with raw uv_async_send",
     .target = "",
     .run = run_rtt,
     .n = 20000,
     .n_quick = 500,
     .arg = 1},
    PAYLOAD(8),
    PAYLOAD(64),
    PAYLOAD(1024),
    {0},
};
