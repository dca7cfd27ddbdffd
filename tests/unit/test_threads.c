/* Thread affinity (T1-T4): loop-only functions called from another thread
 * get UVP_EWRONGTHREAD and change nothing; hosts on different threads are
 * independent.
 * UVP_TEST_LABELS: tsan
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static uvt_fx fx;
static uvp_topic topic;
static uvt_rec rec;
static uvp_id sub_id;
static int frees;

static void count_free(void *data, size_t len, void *hint) {
  (void)data, (void)len, (void)hint;
  frees++;
}

static int never_timer(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  ((uvt_rec *)ud)->calls += 1000;
  return 0;
}

static int never_fd(uvp_ctx *ctx, int fd, int status, int events, void *ud) {
  (void)ctx, (void)fd, (void)status, (void)events;
  ((uvt_rec *)ud)->calls += 1000;
  return 0;
}

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  uvt_rec_init(&rec);
  frees = 0;
  topic = uvt_topic(&fx, "t");
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, topic, uvt_rec_cb, &rec,
                                     uvt_rec_destroy, &sub_id),
                   0);
}

static void teardown(void) { uvt_fx_close(&fx); }

/* Runs fn(arg) on a new thread and joins it. */
static void on_thread(uv_thread_cb fn, void *arg) {
  uv_thread_t t;
  ck_assert_int_eq(uv_thread_create(&t, fn, arg), 0);
  ck_assert_int_eq(uv_thread_join(&t), 0);
}

/* -- every uvp_api entry from another thread (T2) ----------------------- */

enum {
  A_TOPIC,
  A_TOPIC_KNOWN,
  A_SUBSCRIBE,
  A_PUBLISH,
  A_PUBLISH_OWNED,
  A_TIMER,
  A_FD,
  A_CANCEL,
  A_LOG,
  A_NOW,
  N_API
};
static const char *const api_names[] = {
    "topic",       "topic (known)", "subscribe", "publish", "publish_owned",
    "timer_start", "fd_watch",      "cancel",    "log",     "now_ms"};

typedef struct api_call {
  int which;
  int rc;
  uint64_t out; /* out-parameter, preset to a sentinel */
  int fd;
} api_call;

#define SENTINEL 0x5A5A5A5Aull

static void api_call_fn(void *arg) {
  api_call *c = arg;
  const uvp_api *api = fx.api;
  uvp_ctx *ctx = fx.ctx;
  static char owned[] = "owned";
  uvp_topic t = (uvp_topic)SENTINEL;
  uvp_id id = SENTINEL;
  uint64_t ms = SENTINEL;
  switch (c->which) {
    case A_TOPIC:
      c->rc = api->topic(ctx, "new.topic", 9, &t);
      break;
    case A_TOPIC_KNOWN:
      c->rc = api->topic(ctx, "t", 1, &t);
      break;
    case A_SUBSCRIBE:
      c->rc =
          api->subscribe(ctx, topic, uvt_rec_cb, &rec, uvt_rec_destroy, &id);
      break;
    case A_PUBLISH:
      c->rc = api->publish(ctx, topic, "x", 1);
      break;
    case A_PUBLISH_OWNED:
      c->rc = api->publish_owned(ctx, topic, owned, 5, count_free, NULL);
      break;
    case A_TIMER:
      c->rc =
          api->timer_start(ctx, 0, 0, never_timer, &rec, uvt_rec_destroy, &id);
      break;
    case A_FD:
      c->rc = api->fd_watch(ctx, c->fd, UVP_FD_READABLE, never_fd, &rec,
                            uvt_rec_destroy, &id);
      break;
    case A_CANCEL:
      c->rc = api->cancel(ctx, sub_id);
      break;
    case A_LOG:
      c->rc = api->log(ctx, UVP_LOG_ERROR, "from thread", 11);
      break;
    case A_NOW:
      c->rc = api->now_ms(ctx, &ms);
      break;
  }
  c->out = c->which == A_TOPIC || c->which == A_TOPIC_KNOWN ? t
           : c->which == A_NOW                              ? ms
                                                            : id;
}

/* T2: each loop-only uvp_api function called off the loop thread returns
 * UVP_EWRONGTHREAD, writes no out-parameter, changes nothing, counts the
 * call in wrong_thread and is logged once, later, on the loop thread. */
START_TEST(api_from_other_thread) {
  uvp_host *h = fx.host;
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ck_assert_int_eq(write(sv[1], "r", 1), 1); /* readable, were it watched */
  uint32_t topics_before = h->topics.count;
  uint32_t live_before = h->reg.live;
  uint32_t regs_before = fx.ctx->registrations;
  api_call c = {.which = _i, .rc = 12345, .fd = sv[0]};
  on_thread(api_call_fn, &c);
  ck_assert_msg(c.rc == UVP_EWRONGTHREAD, "%s: got %d", api_names[_i], c.rc);
  ck_assert_uint_eq(c.out, SENTINEL);
  ck_assert_uint_eq(h->topics.count, topics_before);
  ck_assert_uint_eq(h->reg.live, live_before);
  ck_assert_uint_eq(fx.ctx->registrations, regs_before);
  ck_assert_uint_eq(h->queue.count, 0);
  ck_assert_uint_eq(atomic_load(&fx.ctx->wrong_thread), 1);
  int lines = fx.log.n;
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(frees, 0);
  ck_assert_int_eq(rec.calls, 0);
  ck_assert_int_eq(rec.destroys, 0);
  /* logged exactly once, by the loop thread, tagged with the ctx name */
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, "UVP_EWRONGTHREAD"), 1);
  ck_assert_int_eq(uvt_log_count_from(&fx.log, lines, fx.ctx->name), 1);
  ck_assert_int_eq(uvt_log_off_thread(&fx.log), 0); /* T1 */
  /* the subscription still works and is still the caller's */
  ck_assert_int_eq(uvp_host_publish(fx.host, topic, "ok", 2), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.calls, 1));
  uvt_rec_is(&rec, 0, "ok");
  ck_assert_int_eq(fx.api->cancel(fx.ctx, sub_id), 0);
  ck_assert_int_eq(rec.destroys, 1);
  close(sv[0]);
  close(sv[1]);
}
END_TEST

/* T2: the log line is once per plugin: a second refused call counts but
 * logs nothing more. */
START_TEST(wrong_thread_logged_once) {
  api_call c = {.which = A_PUBLISH};
  on_thread(api_call_fn, &c);
  ck_assert_int_eq(c.rc, UVP_EWRONGTHREAD);
  uvt_run_turns(&fx, 5);
  int lines = fx.log.n;
  c.rc = 0;
  on_thread(api_call_fn, &c);
  ck_assert_int_eq(c.rc, UVP_EWRONGTHREAD);
  c.which = A_NOW;
  on_thread(api_call_fn, &c);
  ck_assert_int_eq(c.rc, UVP_EWRONGTHREAD);
  uvt_run_turns(&fx, 5);
  ck_assert_uint_eq(atomic_load(&fx.ctx->wrong_thread), 3);
  ck_assert_int_eq(fx.log.n, lines);
  ck_assert_int_eq(rec.calls, 0);
}
END_TEST

/* -- every uvp_host_* function from another thread (T3) ----------------- */

enum {
  H_CLOSE,
  H_LOAD,
  H_UNLOAD,
  H_STATS,
  H_NAME,
  H_CTX,
  H_TOPIC,
  H_PUBLISH,
  N_HOST
};
static const char *const host_names[] = {
    "uvp_host_close",        "uvp_host_load",        "uvp_host_unload",
    "uvp_host_plugin_stats", "uvp_host_plugin_name", "uvp_host_ctx",
    "uvp_host_topic",        "uvp_host_publish"};

typedef struct host_call {
  int which;
  int rc;
  bool out_untouched;
  int closed;
} host_call;

static void host_closed(void *data) { ((host_call *)data)->closed++; }

static void host_call_fn(void *arg) {
  host_call *c = arg;
  uvp_host *h = fx.host;
  uvp_plugin_stats st;
  memset(&st, 0x5A, sizeof st);
  st.size = sizeof st;
  const char *name = (const char *)SENTINEL;
  uvp_ctx *ctx = (uvp_ctx *)SENTINEL;
  const uvp_api *api = (const uvp_api *)SENTINEL;
  uvp_topic t = (uvp_topic)SENTINEL;
  c->out_untouched = true;
  switch (c->which) {
    case H_CLOSE:
      c->rc = uvp_host_close(h, host_closed, c);
      break;
    case H_LOAD:
      c->rc = uvp_host_load(h, "/nonexistent.so", "x", "", NULL);
      break;
    case H_UNLOAD:
      c->rc = uvp_host_unload(h, "host");
      break;
    case H_STATS:
      c->rc = uvp_host_plugin_stats(h, "host", &st);
      c->out_untouched = st.calls == 0x5A5A5A5A5A5A5A5Aull;
      break;
    case H_NAME:
      c->rc = uvp_host_plugin_name(h, 0, &name);
      c->out_untouched = name == (const char *)SENTINEL;
      break;
    case H_CTX:
      c->rc = uvp_host_ctx(h, &ctx, &api);
      c->out_untouched =
          ctx == (uvp_ctx *)SENTINEL && api == (const uvp_api *)SENTINEL;
      break;
    case H_TOPIC:
      c->rc = uvp_host_topic(h, "other", &t);
      c->out_untouched = t == (uvp_topic)SENTINEL;
      break;
    case H_PUBLISH:
      c->rc = uvp_host_publish(h, topic, "x", 1);
      break;
  }
}

/* T3: the host binds to the thread that created it; uvp_host_* from any
 * other thread returns UVP_EWRONGTHREAD and changes nothing (in
 * particular, close does not start closing). */
START_TEST(host_from_other_thread) {
  uvp_host *h = fx.host;
  uint32_t topics_before = h->topics.count;
  host_call c = {.which = _i, .rc = 12345};
  on_thread(host_call_fn, &c);
  ck_assert_msg(c.rc == UVP_EWRONGTHREAD, "%s: got %d", host_names[_i], c.rc);
  ck_assert(c.out_untouched);
  ck_assert(!h->closing);
  ck_assert_uint_eq(h->topics.count, topics_before);
  ck_assert_uint_eq(h->queue.count, 0);
  ck_assert_uint_eq(h->norder, 0);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(c.closed, 0);
  ck_assert_int_eq(rec.calls, 0);
  /* the host still works from its own thread */
  ck_assert_int_eq(uvp_host_publish(fx.host, topic, "ok", 2), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.calls, 1));
  uvt_rec_is(&rec, 0, "ok");
}
END_TEST

/* -- hosts on several threads (T4) -------------------------------------- */

typedef struct host_run {
  char tag;
  int n;         /* events to publish */
  int ticks_max; /* timer ticks before it cancels itself */
  int rc_new, rc_ctx, rc_loop_close;
  int events, wrong_payload, ticks, destroys, closed;
  int publish_failures;
  bool off_thread; /* a callback ran off this thread (T1) */
  uv_thread_t self;
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_id timer_id;
} host_run;

static void run_check_thread(host_run *r) {
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &r->self)) r->off_thread = true;
}

static int run_event(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx;
  host_run *r = ud;
  run_check_thread(r);
  r->events++;
  if (ev->len != 1 || *(const char *)ev->data != r->tag) r->wrong_payload++;
  return 0;
}

static int run_tick(uvp_ctx *ctx, void *ud) {
  host_run *r = ud;
  run_check_thread(r);
  if (++r->ticks == r->ticks_max) r->api->cancel(ctx, r->timer_id);
  return 0;
}

static void run_destroy(void *ud) {
  host_run *r = ud;
  run_check_thread(r);
  r->destroys++;
}

static void run_closed(void *ud) { ((host_run *)ud)->closed++; }

/* One host on its own loop, driven to completion on the calling thread.
 * Uses no Check asserts (they are not thread-safe); the main thread checks
 * the recorded results. */
static void host_thread(void *arg) {
  host_run *r = arg;
  r->self = uv_thread_self();
  uv_loop_t loop;
  uv_loop_init(&loop);
  uvp_host *h = NULL;
  if ((r->rc_new = uvp_host_new(&loop, NULL, &h)) != 0) return;
  r->rc_ctx = uvp_host_ctx(h, &r->ctx, &r->api);
  uvp_topic t = 0;
  uvp_id sub;
  uvp_host_topic(h, "shared.name", &t);
  r->api->subscribe(r->ctx, t, run_event, r, run_destroy, &sub);
  r->api->timer_start(r->ctx, 1, 1, run_tick, r, run_destroy, &r->timer_id);
  int published = 0;
  for (int turn = 0; turn < 100000; turn++) {
    while (published < r->n) {
      int rc = uvp_host_publish(h, t, &r->tag, 1);
      if (rc == UVP_EAGAIN) break;
      if (rc != 0) r->publish_failures++;
      published++;
    }
    if (r->events >= r->n && r->ticks >= r->ticks_max) break;
    uv_run(&loop, UV_RUN_ONCE);
  }
  uvp_host_close(h, run_closed, r);
  for (int i = 0; i < 10000 && r->closed == 0; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_DEFAULT);
  r->rc_loop_close = uv_loop_close(&loop);
}

/* T4, T1: two hosts on two loop threads run at once without sharing
 * state: each gets exactly its own events, on its own thread, with its own
 * topic table (the same name in both), and closes cleanly. */
START_TEST(two_hosts_two_threads) {
  host_run r[2];
  memset(r, 0, sizeof r);
  r[0].tag = 'a';
  r[1].tag = 'b';
  for (int i = 0; i < 2; i++) {
    r[i].n = uvt_scale(20000);
    r[i].ticks_max = 5;
  }
  uv_thread_t t[2];
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&t[i], host_thread, &r[i]), 0);
  for (int i = 0; i < 2; i++) ck_assert_int_eq(uv_thread_join(&t[i]), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(r[i].rc_new, 0);
    ck_assert_int_eq(r[i].rc_ctx, 0);
    ck_assert_int_eq(r[i].publish_failures, 0);
    ck_assert_int_eq(r[i].events, r[i].n);
    ck_assert_int_eq(r[i].wrong_payload, 0);
    ck_assert_int_eq(r[i].ticks, 5);
    ck_assert_int_eq(r[i].destroys, 2); /* timer by cancel, sub at close */
    ck_assert_int_eq(r[i].closed, 1);
    ck_assert(!r[i].off_thread);
    ck_assert_int_eq(r[i].rc_loop_close, 0);
  }
}
END_TEST

/* T4, L5: two hosts on one thread share nothing: an id of one is unknown
 * to the other, and events stay in their host. */
START_TEST(two_hosts_one_thread) {
  static uvt_fx other;
  uvt_fx_init(&other, NULL);
  uvp_topic ot = uvt_topic(&other, "t");
  static uvt_rec orec;
  uvt_rec_init(&orec);
  ck_assert_int_eq(fx.api->cancel(other.ctx, sub_id), UVP_ENOENT);
  ck_assert_int_eq(uvp_host_publish(fx.host, topic, "mine", 4), 0);
  uvp_id oid;
  ck_assert_int_eq(other.api->subscribe(other.ctx, ot, uvt_rec_cb, &orec,
                                        uvt_rec_destroy, &oid),
                   0);
  ck_assert_int_eq(uvp_host_publish(other.host, ot, "theirs", 6), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.calls, 1));
  ck_assert(uvt_run_until_int(&other, &orec.calls, 1));
  uvt_run_turns(&fx, 3);
  uvt_run_turns(&other, 3);
  ck_assert_int_eq(rec.calls, 1);
  uvt_rec_is(&rec, 0, "mine");
  ck_assert_int_eq(orec.calls, 1);
  uvt_rec_is(&orec, 0, "theirs");
  /* a ctx of one host with the api of the other still acts on its own */
  ck_assert_int_eq(fx.api->cancel(other.ctx, oid), 0);
  ck_assert_int_eq(orec.destroys, 1);
  ck_assert_int_eq(rec.destroys, 0);
  uvt_fx_close(&other);
}
END_TEST

static Suite *threads_suite(void) {
  Suite *s = suite_create("threads");
  TCase *tc = uvt_tcase(s, "api");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, api_from_other_thread, 0, N_API);
  tcase_add_test(tc, wrong_thread_logged_once);
  tc = uvt_tcase(s, "host");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, host_from_other_thread, 0, N_HOST);
  tc = uvt_tcase(s, "hosts");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, two_hosts_two_threads);
  tcase_add_test(tc, two_hosts_one_thread);
  return s;
}

int main(void) { return uvt_main(threads_suite()); }
