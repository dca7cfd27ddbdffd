/* Remotes: cross-thread posts and publishes into a host (R1-R6, T5).
 *
 * The stress scenarios run against the C stress plugin and its Rust twin
 * (same spec: the comment at the top of tests/plugins/stress_plugin.c),
 * through tcase_add_loop_test over stress_paths. The others use the
 * embedder's own remote (uvp_host_ctx + api->remote_new on the host ctx).
 *
 * UVP_TEST_LABELS: tsan
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "uvp_test.h"

static const char *const stress_paths[] = {
    UVP_TEST_PLUGIN_DIR "/stress_plugin.so",
    UVP_RUST_PLUGIN_DIR "/libstress_plugin.so",
};
#define NPATHS 2

/* ---- stress plugin helpers -------------------------------------------- */

typedef struct report {
  uint64_t attempted, received, destroyed, refused_closed, retries_eagain,
      order_errors, dropped;
} report;

/* Reads the plugin's process-wide counters (the object stays mapped after
 * unload: the stress plugin is not unload-safe). */
static report read_report(const char *path) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_msg(dl != NULL, "%s is not mapped", path);
  void (*fn)(uint64_t out[6]);
  *(void **)&fn = dlsym(dl, "uvp_stress_report");
  ck_assert_msg(fn != NULL, "%s lacks uvp_stress_report", path);
  uint64_t out[6] = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull};
  fn(out);
  dlclose(dl);
  report r = {out[0], out[1], out[2], out[3], out[4], out[5], 0};
  r.dropped = uvt_sym_u64(path, "uvp_stress_dropped");
  return r;
}

static int load_stress(uvt_fx *fx, const char *path, const char *config,
                       const uvp_load_options *lo) {
  int rc = uvp_host_load(fx->host, path, "stress", config, lo);
  ck_assert_msg(rc == 0, "load %s: %s (%d)", path, uvp_err_name(rc), rc);
  return rc;
}

typedef struct gone_arg {
  uvt_fx *fx;
  const char *name;
} gone_arg;

static bool plugin_gone(void *arg) {
  gone_arg *g = arg;
  uvp_plugin_stats st;
  return uvt_stats(g->fx, g->name, &st) == UVP_ENOENT;
}

/* Unloads name and runs the loop until the instance is gone (DEAD). */
static void unload_and_wait(uvt_fx *fx, const char *name) {
  ck_assert_int_eq(uvp_host_unload(fx->host, name), 0);
  gone_arg g = {fx, name};
  ck_assert_msg(uvt_run_until(fx, plugin_gone, &g, 100000),
                "%s did not finish unloading", name);
}

static bool rec_called(void *arg) { return ((uvt_rec *)arg)->calls >= 1; }

typedef struct refs_arg {
  uvt_fx *fx;
  uint32_t want;
} refs_arg;

static bool refs_are(void *arg) {
  refs_arg *a = arg;
  uvp_plugin_stats st;
  return uvt_stats(a->fx, "stress", &st) == 0 && st.remote_refs == a->want;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* One complete stress run: load, wait for "stress.done", check the text,
 * the stats and the report. Returns the elapsed seconds. */
typedef struct stress_case {
  const char *mode; /* "post" or "publish" */
  int block;
  int producers;
  int count;
  uint32_t remote_limit; /* 0: the host's capacity */
  bool print;
} stress_case;

static void stress_run(const char *path, const stress_case *c) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvt_rec done;
  uvt_rec_init(&done);
  uvp_id sub;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, uvt_topic(&fx, "stress.done"),
                                     uvt_rec_cb, &done, uvt_rec_destroy, &sub),
                   0);
  char config[128];
  snprintf(config, sizeof config, "producers=%d count=%d mode=%s block=%d",
           c->producers, c->count, c->mode, c->block);
  uvp_load_options lo = UVP_LOAD_OPTIONS_INIT;
  lo.remote_limit = c->remote_limit;
  const bool post = strcmp(c->mode, "post") == 0;
  const uint64_t total = (uint64_t)c->producers * (uint64_t)c->count;

  uint64_t t0 = uv_hrtime();
  load_stress(&fx, path, config, &lo);
  ck_assert_msg(uvt_run_until(&fx, rec_called, &done, 100000000),
                "stress.done never came");
  double secs = (double)(uv_hrtime() - t0) / 1e9;

  /* R1: exactly P*N in per-producer order; every destroy ran (mode=post). */
  char want[160];
  snprintf(want, sizeof want, "received=%llu order_errors=0 destroyed=%llu",
           (unsigned long long)total, (unsigned long long)(post ? total : 0));
  ck_assert_int_eq(done.calls, 1);
  uvt_rec_is(&done, 0, want);

  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "stress", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.posts, total); /* posts and remote publishes run */
  ck_assert_uint_eq(st.post_queued, 0);
  ck_assert_uint_ge(st.post_high_water, 1);
  if (c->remote_limit != 0) /* R2: the per-plugin limit holds */
    ck_assert_uint_le(st.post_high_water, c->remote_limit);
  ck_assert_uint_eq(st.errors, 0);
  /* Every producer released its reference: only the plugin's is left. */
  refs_arg ra = {&fx, 1};
  ck_assert_msg(uvt_run_until(&fx, refs_are, &ra, 100000),
                "producers kept their references");

  unload_and_wait(&fx, "stress");
  report r = read_report(path);
  ck_assert_uint_eq(r.attempted, total);
  ck_assert_uint_eq(r.received, total);
  ck_assert_uint_eq(r.destroyed, post ? total : 0);
  ck_assert_uint_eq(r.refused_closed, 0);
  ck_assert_uint_eq(r.order_errors, 0);
  ck_assert_uint_eq(r.dropped, 0);
  if (c->block) ck_assert_uint_eq(r.retries_eagain, 0);
  if (c->print)
    printf(
        "stress %s mode=%s block=%d: %d producers x %d = %llu events, "
        "%.3f s, %.0f events/s, peak RSS %ld KiB%s\n",
        strstr(path, "libstress") ? "rust" : "c", c->mode, c->block,
        c->producers, c->count, (unsigned long long)total, secs,
        (double)total / secs, peak_rss_kib(),
        uvt_valgrind() ? " (valgrind)" : "");
  fflush(stdout);
  uvt_fx_close(&fx);
  ck_assert_int_eq(done.destroys, 1);
}

static int stress_count(void) { return uvt_valgrind() ? 10000 : 1000000; }

/* R1, R5, T5: 4 producers x 1,000,000 posts, blocking; exact totals. */
START_TEST(stress_post_block) {
  stress_case c = {"post", 1, 4, stress_count(), 0, true};
  stress_run(stress_paths[_i], &c);
}
END_TEST

/* R1: the same through remote_publish to the plugin's own subscription. */
START_TEST(stress_publish_block) {
  stress_case c = {"publish", 1, 4, stress_count(), 0, true};
  stress_run(stress_paths[_i], &c);
}
END_TEST

/* R1: more producer threads than a host has lanes (8): the first ones
 * post through rings of their own, the others through the shared ring;
 * each keeps its order and nothing is lost. */
START_TEST(stress_more_threads_than_lanes) {
  stress_case c = {"post", 1, 12, uvt_valgrind() ? 2000 : 100000, 0, false};
  stress_run(stress_paths[_i], &c);
}
END_TEST

/* R2: a small per-plugin remote_limit. Non-blocking producers see
 * UVP_EAGAIN and retry; nothing is lost and the high-water mark never
 * passes the limit. */
START_TEST(limit_nonblock_retries) {
  stress_case c = {"post", 0, 4, uvt_valgrind() ? 2000 : 100000, 64, false};
  stress_run(stress_paths[_i], &c);
  report r = read_report(stress_paths[_i]);
  ck_assert_uint_gt(r.retries_eagain, 0); /* the limit was hit */
}
END_TEST

/* R2: blocking producers wait for room instead: no retry, nothing lost. */
START_TEST(limit_block_waits) {
  stress_case c = {"publish", 1, 4, uvt_valgrind() ? 2000 : 100000, 64, false};
  stress_run(stress_paths[_i], &c);
}
END_TEST

/* ---- R4: unload while producers post ----------------------------------- */

typedef struct unloader {
  uvt_fx *fx;
  uvp_id timer;
  uint64_t after_posts;
  int unload_rc;
  int fired;
  int state_after; /* the plugin's state right after uvp_host_unload */
} unloader;

static int unload_timer(uvp_ctx *ctx, void *user_data) {
  unloader *u = user_data;
  uvp_plugin_stats st;
  if (uvt_stats(u->fx, "stress", &st) != 0 || st.posts <= u->after_posts)
    return 0;
  u->fired++;
  u->unload_rc = uvp_host_unload(u->fx->host, "stress");
  u->state_after = uvt_stats(u->fx, "stress", &st) == 0 ? st.state : -1;
  return u->fx->api->cancel(ctx, u->timer); /* L2: from its own callback */
}

/* Loads the stress plugin with UNLOAD_PRODUCERS non-blocking producers of
 * UNLOAD_COUNT items each (mode "post" or "publish") against a small inbox,
 * unloads it mid-stream from a timer (after u->after_posts items) and runs
 * until it is gone. fx stays open for the caller's checks. */
enum { UNLOAD_PRODUCERS = 4, UNLOAD_COUNT = 1000000, UNLOAD_CAPACITY = 1024 };

static report unload_mid_stream(uvt_fx *fx, const char *path, const char *mode,
                                unloader *u) {
  uvp_host_options ho = UVP_HOST_OPTIONS_INIT;
  ho.remote_capacity = UNLOAD_CAPACITY;
  uvt_fx_init(fx, &ho);
  *u = (unloader){fx, 0, 2000, 1, 0, -1};
  ck_assert_int_eq(
      fx->api->timer_start(fx->ctx, 1, 1, unload_timer, u, NULL, &u->timer), 0);
  char config[128];
  snprintf(config, sizeof config, "producers=%d count=%d mode=%s block=0",
           UNLOAD_PRODUCERS, UNLOAD_COUNT, mode);
  load_stress(fx, path, config, NULL);
  ck_assert_msg(uvt_run_until_int(fx, &u->fired, 1), "unload never fired");
  ck_assert_int_eq(u->unload_rc, 0);
  gone_arg g = {fx, "stress"};
  ck_assert_msg(uvt_run_until(fx, plugin_gone, &g, 100000),
                "stress did not finish unloading");
  return read_report(path);
}

/* R4, R3: every attempted post was delivered (callback ran), dropped
 * (queued when the plugin stopped: destroy ran, callback did not) or
 * refused with UVP_ECLOSED (the thread kept it). */
START_TEST(unload_while_posting) {
  const char *path = stress_paths[_i];
  uvt_fx fx;
  unloader u;
  report r = unload_mid_stream(&fx, path, "post", &u);
  const uint64_t total = (uint64_t)UNLOAD_PRODUCERS * UNLOAD_COUNT;
  ck_assert_uint_gt(r.received, u.after_posts);
  ck_assert_uint_lt(r.received, total); /* it really stopped mid-stream */
  ck_assert_uint_eq(r.attempted, r.received + r.dropped + r.refused_closed);
  ck_assert_uint_eq(r.destroyed, r.received + r.dropped);
  ck_assert_uint_le(r.dropped, UNLOAD_CAPACITY);
  /* No producer could finish 1,000,000 items: each was refused once. */
  ck_assert_uint_eq(r.refused_closed, (uint64_t)UNLOAD_PRODUCERS);
  ck_assert_uint_eq(r.order_errors, 0);
  printf(
      "unload while posting (%s): attempted=%llu received=%llu "
      "dropped=%llu refused_closed=%llu retries_eagain=%llu\n",
      _i == 0 ? "c" : "rust", (unsigned long long)r.attempted,
      (unsigned long long)r.received, (unsigned long long)r.dropped,
      (unsigned long long)r.refused_closed,
      (unsigned long long)r.retries_eagain);
  fflush(stdout);
  uvt_fx_close(&fx);
}
END_TEST

/* R4, O1, B13: publishes queued when the plugin stops are dropped
 * undelivered and counted in remote_dropped, so that every attempt is
 * accounted for: attempted = received + dropped + refused with
 * UVP_ECLOSED. */
START_TEST(unload_while_publishing) {
  const char *path = stress_paths[_i];
  uvt_fx fx;
  unloader u;
  report r = unload_mid_stream(&fx, path, "publish", &u);
  uvp_host_stats hs;
  memset(&hs, 0, sizeof hs);
  hs.size = sizeof hs;
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  ck_assert_uint_eq(r.attempted,
                    r.received + hs.remote_dropped + r.refused_closed);
  ck_assert_uint_le(hs.remote_dropped, UNLOAD_CAPACITY);
  ck_assert_uint_eq(r.refused_closed, (uint64_t)UNLOAD_PRODUCERS);
  ck_assert_uint_eq(r.order_errors, 0);
  uvt_fx_close(&fx);
}
END_TEST

/* ---- embedder remote --------------------------------------------------- */

typedef struct mark {
  int cb, destroy;
  int cb_seq, destroy_seq;
} mark;

static int seq;

static int mark_cb(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  mark *m = user_data;
  m->cb++;
  m->cb_seq = ++seq;
  return 0;
}

static void mark_destroy(void *user_data) {
  mark *m = user_data;
  m->destroy++;
  m->destroy_seq = ++seq;
}

typedef struct marks_arg {
  mark *m;
  int n;
} marks_arg;

static bool marks_done(void *arg) {
  marks_arg *a = arg;
  for (int i = 0; i < a->n; i++)
    if (a->m[i].destroy == 0) return false;
  return true;
}

/* R3: a failed post leaves user_data with the caller and calls nothing;
 * R2: the 65th post into a full queue of 64 gets UVP_EAGAIN. */
START_TEST(failed_post_calls_nothing) {
  uvp_host_options ho = UVP_HOST_OPTIONS_INIT;
  ho.remote_capacity = 64;
  ho.max_payload = 64;
  uvt_fx fx;
  uvt_fx_init(&fx, &ho);
  uvp_remote *r = NULL;
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, NULL), UVP_EINVAL);
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, &r), 0);
  ck_assert_ptr_nonnull(r);
  uvp_topic t = uvt_topic(&fx, "remote.t");
  static mark m[66];
  memset(m, 0, sizeof m);
  mark *bad = &m[65];

  ck_assert_int_eq(
      fx.api->remote_post(r, NULL, bad, mark_destroy, UVP_POST_NONBLOCK),
      UVP_EINVAL);
  /* UVP_POST_BLOCK on the loop thread could wait forever. */
  ck_assert_int_eq(
      fx.api->remote_post(r, mark_cb, bad, mark_destroy, UVP_POST_BLOCK),
      UVP_EINVAL);
  ck_assert_int_eq(fx.api->remote_post(r, mark_cb, bad, mark_destroy, 7),
                   UVP_EINVAL);
  ck_assert_int_eq(
      fx.api->remote_post(NULL, mark_cb, bad, mark_destroy, UVP_POST_NONBLOCK),
      UVP_EINVAL);
  ck_assert_int_eq(fx.api->remote_publish(r, 0, "x", 1, UVP_POST_NONBLOCK),
                   UVP_EINVAL);
  ck_assert_int_eq(fx.api->remote_publish(r, t, NULL, 3, UVP_POST_NONBLOCK),
                   UVP_EINVAL);
  char big[65] = {0};
  ck_assert_int_eq(
      fx.api->remote_publish(r, t, big, sizeof big, UVP_POST_NONBLOCK),
      UVP_EMSGSIZE);
  ck_assert_int_eq(
      fx.api->remote_publish(r, t, big, sizeof big, UVP_POST_BLOCK),
      UVP_EINVAL);
  ck_assert_int_eq(fx.api->remote_acquire(NULL), UVP_EINVAL);
  fx.api->remote_release(NULL); /* a no-op */

  for (int i = 0; i < 64; i++)
    ck_assert_int_eq(
        fx.api->remote_post(r, mark_cb, &m[i], mark_destroy, UVP_POST_NONBLOCK),
        0);
  ck_assert_int_eq(
      fx.api->remote_post(r, mark_cb, &m[64], mark_destroy, UVP_POST_NONBLOCK),
      UVP_EAGAIN);
  for (int i = 0; i < 64; i++) ck_assert_int_eq(m[i].cb, 0); /* queued */

  marks_arg a = {m, 64};
  ck_assert(uvt_run_until(&fx, marks_done, &a, 5000));
  for (int i = 0; i < 64; i++) {
    ck_assert_int_eq(m[i].cb, 1);
    ck_assert_int_eq(m[i].destroy, 1);
    ck_assert_int_eq(m[i].destroy_seq, m[i].cb_seq + 1);       /* right after */
    if (i > 0) ck_assert_int_gt(m[i].cb_seq, m[i - 1].cb_seq); /* R1 */
  }
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(m[64].cb, 0); /* the refused one: nothing called */
  ck_assert_int_eq(m[64].destroy, 0);
  ck_assert_int_eq(bad->cb, 0);
  ck_assert_int_eq(bad->destroy, 0);
  fx.api->remote_release(r);
  uvt_fx_close(&fx);
}
END_TEST

/* ---- R2, R4, O1: places a thread's lane holds in advance --------------- */

typedef struct one_poster {
  const uvp_api *api;
  uvp_remote *remote;
  mark *m;
  int n;
  int rc[4];
} one_poster;

static void one_poster_main(void *arg) {
  one_poster *p = arg;
  for (int i = 0; i < p->n; i++)
    p->rc[i] = p->api->remote_post(p->remote, mark_cb, &p->m[i], mark_destroy,
                                   UVP_POST_NONBLOCK);
}

static uvp_host_stats host_stats(uvt_fx *fx) {
  uvp_host_stats hs;
  memset(&hs, 0, sizeof hs);
  hs.size = sizeof hs;
  ck_assert_int_eq(uvp_host_get_stats(fx->host, &hs), 0);
  return hs;
}

/* A thread that posted a few times and went away leaves places taken in
 * advance (its lane's credit) behind. They are not queued posts: the
 * host's depth says 3 (O1); the limit (R2) still admits limit - 3
 * more from another thread; and the host's close, which waits for every
 * queued post (R4), is not held up by them. */
START_TEST(lane_credit_left_behind) {
  enum { LIMIT = 4096 };
  uvp_host_options ho = UVP_HOST_OPTIONS_INIT;
  ho.remote_capacity = LIMIT;
  uvt_fx fx;
  uvt_fx_init(&fx, &ho);
  uvp_remote *r;
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, &r), 0);
  static mark m[3], more[LIMIT];
  memset(m, 0, sizeof m);
  memset(more, 0, sizeof more);
  one_poster p = {fx.api, r, m, 3, {1, 1, 1, 1}};
  uv_thread_t t;
  ck_assert_int_eq(uv_thread_create(&t, one_poster_main, &p), 0);
  ck_assert_int_eq(uv_thread_join(&t), 0);
  for (int i = 0; i < 3; i++) ck_assert_int_eq(p.rc[i], 0);

  ck_assert_uint_eq(host_stats(&fx).remote_depth, 3);
  ck_assert_uint_eq(host_stats(&fx).remote_high_water, 3);

  /* This thread (another lane) fills the rest: exactly LIMIT - 3. */
  int ok = 0;
  for (int i = 0; i < LIMIT; i++) {
    int rc = fx.api->remote_post(r, mark_cb, &more[i], mark_destroy,
                                 UVP_POST_NONBLOCK);
    if (rc == UVP_EAGAIN) break;
    ck_assert_int_eq(rc, 0);
    ok++;
  }
  ck_assert_int_le(ok, LIMIT - 3);
  /* Credits left behind never take more than a sixteenth of the room
   * each (the thread above holds at most one batch). */
  ck_assert_int_ge(ok, LIMIT - 3 - LIMIT / 16);
  ck_assert_uint_eq(host_stats(&fx).remote_depth, 3 + (uint64_t)ok);

  marks_arg a = {m, 3};
  ck_assert(uvt_run_until(&fx, marks_done, &a, 5000));
  marks_arg b = {more, ok};
  ck_assert(uvt_run_until(&fx, marks_done, &b, 5000));
  for (int i = 0; i < 3; i++) ck_assert_int_eq(m[i].cb, 1);
  for (int i = 1; i < 3; i++) ck_assert_int_gt(m[i].cb_seq, m[i - 1].cb_seq);
  ck_assert_uint_eq(host_stats(&fx).remote_depth, 0);
  ck_assert_uint_eq(host_stats(&fx).remote_high_water, 3 + (uint64_t)ok);
  ck_assert_uint_eq(host_stats(&fx).remote_refused, 1); /* O1 */
  fx.api->remote_release(r);
  uvt_fx_close(&fx); /* R4: returns although the lane kept credit */
}
END_TEST

/* ---- R5: the last release on a foreign thread after the host closed ---- */

typedef struct holder {
  const uvp_api *api;
  uvp_remote *remote;
  uv_sem_t go;
  int post_rc;
  int publish_rc;
  mark m;
} holder;

static void holder_main(void *arg) {
  holder *h = arg;
  uv_sem_wait(&h->go);
  h->post_rc = h->api->remote_post(h->remote, mark_cb, &h->m, mark_destroy,
                                   UVP_POST_BLOCK);
  h->publish_rc =
      h->api->remote_publish(h->remote, 1, "x", 1, UVP_POST_NONBLOCK);
  h->api->remote_release(h->remote); /* the last reference */
}

START_TEST(release_after_host_close) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  holder h;
  memset(&h, 0, sizeof h);
  ck_assert_int_eq(uv_sem_init(&h.go, 0), 0);
  h.api = fx.api;
  uvp_remote *r;
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, &r), 0);
  ck_assert_int_eq(fx.api->remote_acquire(r), 0); /* the thread's */
  h.remote = r;
  uv_thread_t t;
  ck_assert_int_eq(uv_thread_create(&t, holder_main, &h), 0);
  fx.api->remote_release(r); /* the loop gives its own back first */
  uvt_fx_close_host(&fx);    /* on_closed ran: the host is freed */
  uv_sem_post(&h.go);
  ck_assert_int_eq(uv_thread_join(&t), 0);
  ck_assert_int_eq(h.post_rc, UVP_ECLOSED); /* R3: nothing called */
  ck_assert_int_eq(h.publish_rc, UVP_ECLOSED);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(h.m.cb, 0);
  ck_assert_int_eq(h.m.destroy, 0);
  uv_sem_destroy(&h.go);
  uvt_fx_close(&fx); /* ASan / valgrind: the remote and inbox were freed */
}
END_TEST

/* ---- R6: coalesced wake-ups, at most `batch` per loop turn ------------- */

enum { R6_COUNT = 10000, R6_BATCH = 16 };

typedef struct r6 {
  const uvp_api *api;
  uvp_remote *remote;
  int post_errors;
  uint64_t received, destroyed, order_errors, last;
  int this_turn, max_per_turn, turns_with_posts;
} r6;

static r6 r6s;

static int r6_cb(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  uint64_t i = (uint64_t)(uintptr_t)user_data;
  if (i != r6s.last + 1) r6s.order_errors++;
  r6s.last = i;
  r6s.received++;
  r6s.this_turn++;
  return 0;
}

static void r6_destroy(void *user_data) {
  (void)user_data;
  r6s.destroyed++;
}

static void r6_check(uv_check_t *c) {
  (void)c;
  if (r6s.this_turn > r6s.max_per_turn) r6s.max_per_turn = r6s.this_turn;
  if (r6s.this_turn > 0) r6s.turns_with_posts++;
  r6s.this_turn = 0;
}

static void r6_main(void *arg) {
  (void)arg;
  int errors = 0;
  for (uintptr_t i = 1; i <= R6_COUNT; i++)
    if (r6s.api->remote_post(r6s.remote, r6_cb, (void *)i, r6_destroy,
                             UVP_POST_BLOCK) != 0)
      errors++;
  r6s.api->remote_release(r6s.remote);
  r6s.post_errors = errors; /* read after the join */
}

static bool r6_done(void *arg) {
  (void)arg;
  return r6s.destroyed == R6_COUNT;
}

START_TEST(batch_per_turn) {
  uvp_host_options ho = UVP_HOST_OPTIONS_INIT;
  ho.batch = R6_BATCH;
  uvt_fx fx;
  uvt_fx_init(&fx, &ho);
  memset(&r6s, 0, sizeof r6s);
  r6s.api = fx.api;
  uvp_remote *r;
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, &r), 0);
  ck_assert_int_eq(fx.api->remote_acquire(r), 0);
  r6s.remote = r;
  uv_check_t check;
  ck_assert_int_eq(uv_check_init(&fx.loop, &check), 0);
  ck_assert_int_eq(uv_check_start(&check, r6_check), 0);
  uv_thread_t t;
  ck_assert_int_eq(uv_thread_create(&t, r6_main, NULL), 0);
  ck_assert(uvt_run_until(&fx, r6_done, NULL, 1000000));
  ck_assert_int_eq(uv_thread_join(&t), 0);
  r6_check(&check); /* close the last turn */
  ck_assert_int_eq(r6s.post_errors, 0);
  ck_assert_uint_eq(r6s.received, R6_COUNT);
  ck_assert_uint_eq(r6s.destroyed, R6_COUNT);
  ck_assert_uint_eq(r6s.order_errors, 0);
  ck_assert_int_le(r6s.max_per_turn, R6_BATCH);
  ck_assert_int_ge(r6s.turns_with_posts, R6_COUNT / R6_BATCH);
  fx.api->remote_release(r);
  uv_close((uv_handle_t *)&check, NULL);
  uvt_fx_close(&fx);
}
END_TEST

static Suite *remote_suite(void) {
  Suite *s = suite_create("remote");
  const int big = uvt_valgrind() ? 1200 : 600; /* TSan runs are slow */

  TCase *tc = tcase_create("stress");
  tcase_set_timeout(tc, big);
  tcase_add_loop_test(tc, stress_post_block, 0, NPATHS);
  tcase_add_loop_test(tc, stress_publish_block, 0, NPATHS);
  suite_add_tcase(s, tc);

  tc = tcase_create("limit");
  tcase_set_timeout(tc, big);
  tcase_add_loop_test(tc, stress_more_threads_than_lanes, 0, NPATHS);
  tcase_add_loop_test(tc, limit_nonblock_retries, 0, NPATHS);
  tcase_add_loop_test(tc, limit_block_waits, 0, NPATHS);
  suite_add_tcase(s, tc);

  tc = tcase_create("unload");
  tcase_set_timeout(tc, big);
  tcase_add_loop_test(tc, unload_while_posting, 0, NPATHS);
  tcase_add_loop_test(tc, unload_while_publishing, 0, NPATHS);
  suite_add_tcase(s, tc);

  tc = uvt_tcase(s, "embedder");
  tcase_add_test(tc, failed_post_calls_nothing);
  tcase_add_test(tc, release_after_host_close);
  tcase_add_test(tc, lane_credit_left_behind);
  tcase_add_test(tc, batch_per_turn);
  return s;
}

int main(void) { return uvt_main(remote_suite()); }
