/* The embedding API: host options, close, stats, names, the host ctx and
 * the log hook. Mirrors src/host.c. */
#include <stdio.h>
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static uv_loop_t loop;
static void loop_setup(void) { ck_assert_int_eq(uv_loop_init(&loop), 0); }
static void loop_teardown(void) {
  for (int i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT) != 0; i++) {
  }
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* -- uvp_host_new (F3) -------------------------------------------------- */

enum {
  O_NULL_LOOP,
  O_NULL_OUT,
  O_SIZE_0,
  O_SIZE_2,
  O_LOG_LEVEL_HIGH,
  O_LOG_LEVEL_NEG,
  O_FAULT_POLICY,
  O_SIZE_MID_POINTER,
  O_SIZE_MID_INT,
  N_OPT
};
static const char *const opt_names[] = {
    "NULL loop",       "NULL out_host",   "size 0",
    "size 2",          "log_level 9",     "log_level -1",
    "fault_policy 42", "size inside log", "size inside batch"};

/* F3: NULL pointers, bad sizes and out-of-range values get UVP_EINVAL and
 * out_host is not written. */
START_TEST(new_rejects_bad_options) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  uvp_host *h = (uvp_host *)0x1234;
  uv_loop_t *l = &loop;
  uvp_host **out = &h;
  switch (_i) {
    case O_NULL_LOOP:
      l = NULL;
      break;
    case O_NULL_OUT:
      out = NULL;
      break;
    case O_SIZE_0:
      o.size = 0;
      break;
    case O_SIZE_2:
      o.size = 2;
      break;
    case O_LOG_LEVEL_HIGH:
      o.log_level = 9;
      break;
    case O_LOG_LEVEL_NEG:
      o.log_level = -1;
      break;
    case O_FAULT_POLICY:
      o.fault_policy = 42;
      break;
    case O_SIZE_MID_POINTER: /* would copy half of the log hook */
      o.size = offsetof(uvp_host_options, log) + 4;
      break;
    case O_SIZE_MID_INT:
      o.size = offsetof(uvp_host_options, batch) + 2;
      break;
  }
  int rc = uvp_host_new(l, &o, out);
  ck_assert_msg(rc == UVP_EINVAL, "%s: got %d", opt_names[_i], rc);
  ck_assert_ptr_eq(h, (uvp_host *)0x1234);
}
END_TEST

static int closed;
static void on_closed(void *data) {
  ck_assert_ptr_eq(data, &closed);
  closed++;
}

static void close_and_run(uvp_host *h) {
  closed = 0;
  ck_assert_int_eq(uvp_host_close(h, on_closed, &closed), 0);
  for (int i = 0; i < 1000 && closed == 0; i++) uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(closed, 1);
}

/* NULL options take every default; so does an older, smaller struct
 * (size negotiation): fields it lacks are defaults. */
START_TEST(new_defaults) {
  uvp_host *h = NULL;
  ck_assert_int_eq(uvp_host_new(&loop, NULL, &h), 0);
  ck_assert_ptr_nonnull(h);
  ck_assert_uint_eq(h->opts.queue_capacity, 65536);
  ck_assert_uint_eq(h->opts.max_payload, 1u << 20);
  ck_assert_uint_eq(h->opts.batch, 1024);
  ck_assert_uint_eq(h->opts.max_topics, 65536);
  ck_assert_int_eq(h->opts.fault_policy, UVP_FAULT_QUARANTINE);
  ck_assert_int_eq(h->opts.log_level, UVP_LOG_INFO);
  close_and_run(h);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.size = offsetof(uvp_host_options, queue_capacity);
  o.batch = 7; /* beyond the declared size: must be ignored */
  ck_assert_int_eq(uvp_host_new(&loop, &o, &h), 0);
  ck_assert_uint_eq(h->opts.batch, 1024);
  close_and_run(h);
  /* F3: a newer caller's larger struct is fine (its tail is not read) */
  struct {
    uvp_host_options o;
    uint64_t newer_field;
  } big = {UVP_HOST_OPTIONS_INIT, 42};
  big.o.size = sizeof big;
  big.o.batch = 9;
  ck_assert_int_eq(uvp_host_new(&loop, &big.o, &h), 0);
  ck_assert_uint_eq(h->opts.batch, 9);
  close_and_run(h);
}
END_TEST

/* S2: close twice → UVP_ECLOSED; on_closed exactly once; NULL host is
 * UVP_EINVAL; the loop closes with nothing left (uv_loop_close == 0). */
START_TEST(close_twice) {
  uvp_host *h = NULL;
  ck_assert_int_eq(uvp_host_new(&loop, NULL, &h), 0);
  closed = 0;
  ck_assert_int_eq(uvp_host_close(h, on_closed, &closed), 0);
  ck_assert_int_eq(uvp_host_close(h, on_closed, &closed), UVP_ECLOSED);
  ck_assert_int_eq(closed, 0); /* finishes on the loop, like uv_close */
  for (int i = 0; i < 1000 && closed == 0; i++) uv_run(&loop, UV_RUN_NOWAIT);
  for (int i = 0; i < 10; i++) uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(uvp_host_close(NULL, on_closed, &closed), UVP_EINVAL);
}
END_TEST

/* S2: on_closed may be NULL; the host still closes every handle. */
START_TEST(close_without_callback) {
  uvp_host *h = NULL;
  ck_assert_int_eq(uvp_host_new(&loop, NULL, &h), 0);
  ck_assert_int_eq(uvp_host_close(h, NULL, NULL), 0);
  /* loop_teardown asserts uv_loop_close == 0 */
}
END_TEST

/* uvp_host_new's LIFETIME: "the host holds handles on [the loop], so
 * uv_run does not return until the host is closed": an open host keeps the
 * loop alive even with nothing queued; once closed, the loop is not. */
START_TEST(open_host_keeps_loop_alive) {
  uvp_host *h = NULL;
  ck_assert_int_eq(uvp_host_new(&loop, NULL, &h), 0);
  ck_assert_int_ne(uv_loop_alive(&loop), 0);
  ck_assert_int_ne(uv_run(&loop, UV_RUN_NOWAIT), 0);
  close_and_run(h);
  for (int i = 0; i < 10; i++) uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(uv_loop_alive(&loop), 0);
}
END_TEST

/* -- queries on a fixture ------------------------------------------------ */

static uvt_fx fx;
static void fx_setup(void) { uvt_fx_init(&fx, NULL); }
static void fx_teardown(void) { uvt_fx_close(&fx); }

/* F3: stats and names of nothing: ENOENT; NULL arguments: EINVAL; the
 * out-parameter is written only on success. */
START_TEST(stats_and_names_empty) {
  uvp_plugin_stats st;
  memset(&st, 0x5A, sizeof st);
  st.size = sizeof st;
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "nope", &st), UVP_ENOENT);
  ck_assert_uint_eq(st.calls, 0x5A5A5A5A5A5A5A5Aull);
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, NULL, &st), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_plugin_stats(NULL, "nope", &st), UVP_EINVAL);
  const char *name = "untouched";
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 5, &name), UVP_ENOENT);
  ck_assert_str_eq(name, "untouched");
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_plugin_name(NULL, 0, &name), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_unload(fx.host, "nope"), UVP_ENOENT);
  ck_assert_int_eq(uvp_host_unload(fx.host, NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_unload(NULL, "nope"), UVP_EINVAL);
}
END_TEST

/* The host ctx and API table: the same on every call, size-prefixed with
 * this build's ABI version. */
START_TEST(host_ctx_and_api) {
  uvp_ctx *ctx = NULL;
  const uvp_api *api = NULL;
  ck_assert_int_eq(uvp_host_ctx(fx.host, &ctx, &api), 0);
  ck_assert_ptr_eq(ctx, fx.ctx);
  ck_assert_ptr_eq(api, fx.api);
  ck_assert_uint_eq(api->size, sizeof(uvp_api));
  ck_assert_uint_eq(api->abi_major, UVP_ABI_MAJOR);
  ck_assert_uint_eq(api->abi_minor, UVP_ABI_MINOR);
  ck_assert(UVP_HAS_FIELD(api, uvp_api, now_ms));
  ck_assert_ptr_nonnull(api->topic);
  ck_assert_ptr_nonnull(api->subscribe);
  ck_assert_ptr_nonnull(api->publish);
  ck_assert_ptr_nonnull(api->publish_owned);
  ck_assert_ptr_nonnull(api->timer_start);
  ck_assert_ptr_nonnull(api->fd_watch);
  ck_assert_ptr_nonnull(api->cancel);
  ck_assert_ptr_nonnull(api->log);
  ck_assert_ptr_nonnull(api->now_ms);
  ctx = (uvp_ctx *)0x1;
  ck_assert_int_eq(uvp_host_ctx(fx.host, NULL, &api), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_ctx(fx.host, &ctx, NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_ctx(NULL, &ctx, &api), UVP_EINVAL);
  ck_assert_ptr_eq(ctx, (uvp_ctx *)0x1);
}
END_TEST

/* F3: uvp_host_load argument checks; A1: a path that does not exist is
 * UVP_ENOTSO and one log line names the file. */
START_TEST(load_bad_args) {
  char long_name[UVP_NAME_MAX + 2];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  ck_assert_int_eq(uvp_host_load(fx.host, NULL, "x", "", NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load(NULL, "/x.so", "x", "", NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load(fx.host, "/x.so", "", "", NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load(fx.host, "/x.so", "a b", "", NULL),
                   UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load(fx.host, "/x.so", "a/b", "", NULL),
                   UVP_EINVAL);
  ck_assert_int_eq(uvp_host_load(fx.host, "/x.so", long_name, "", NULL),
                   UVP_EINVAL);
  int lines = fx.log.n;
  const char *path = "/nonexistent/uvt-no-such-plugin.so";
  ck_assert_int_eq(uvp_host_load(fx.host, path, "x", "", NULL),
                   UVP_ENOTFOUND); /* A1: one code per cause */
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, path), 1);
  const char *name = NULL;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
}
END_TEST

/* The log hook gets api->log lines tagged with the ctx name, without the
 * bytes past len, filtered by log_level; bad levels and NULL text with a
 * length are UVP_EINVAL (F3). */
START_TEST(log_hook) {
  int lines = fx.log.n;
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_INFO, "abcdef", 3), 0);
  ck_assert_int_eq(fx.log.n, lines + 1);
  ck_assert_str_eq(fx.log.lines[lines].msg, "abc");
  ck_assert_str_eq(fx.log.lines[lines].plugin, fx.ctx->name);
  ck_assert_int_eq(fx.log.lines[lines].level, UVP_LOG_INFO);
  ck_assert(fx.log.lines[lines].on_loop_thread); /* T1 */
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_DEBUG, "hidden", 6), 0);
  ck_assert_int_eq(fx.log.n, lines + 1); /* default level is INFO */
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_ERROR, "", 0), 0);
  ck_assert_int_eq(fx.log.n, lines + 2);
  ck_assert_int_eq(fx.api->log(fx.ctx, 9, "x", 1), UVP_EINVAL);
  ck_assert_int_eq(fx.api->log(fx.ctx, -1, "x", 1), UVP_EINVAL);
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_INFO, NULL, 4), UVP_EINVAL);
  ck_assert_int_eq(fx.api->log(NULL, UVP_LOG_INFO, "x", 1), UVP_EINVAL);
  ck_assert_int_eq(fx.log.n, lines + 2);
}
END_TEST

START_TEST(log_level_debug) {
  uvt_fx_close(&fx);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log_level = UVP_LOG_DEBUG;
  uvt_fx_init(&fx, &o);
  int lines = fx.log.n;
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_DEBUG, "shown", 5), 0);
  ck_assert_int_eq(fx.log.n, lines + 1);
  ck_assert_str_eq(fx.log.lines[lines].msg, "shown");
  ck_assert_int_eq(fx.log.lines[lines].level, UVP_LOG_DEBUG);
}
END_TEST

/* S2: while closing, the host refuses new work with UVP_ECLOSED. */
START_TEST(closing_refuses) {
  uvp_topic t = uvt_topic(&fx, "t");
  ck_assert_int_eq(uvp_host_close(fx.host, NULL, NULL), 0);
  uvp_topic t2 = 0;
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "x", 1), UVP_ECLOSED);
  ck_assert_int_eq(uvp_host_topic(fx.host, "u", &t2), UVP_ECLOSED);
  ck_assert_int_eq(uvp_host_load(fx.host, "/x.so", NULL, NULL, NULL),
                   UVP_ECLOSED);
  ck_assert_int_eq(uvp_host_close(fx.host, NULL, NULL), UVP_ECLOSED);
  fx.host = NULL; /* closed without on_closed: nothing to wait for */
}
END_TEST

/* What the S4 test's registrations saw. */
static int s4_calls[4], s4_destroys[4], s4_closed;
static uvp_host *s4_host;
static void s4_on_closed(void *data) {
  (void)data;
  s4_closed++;
}
static void s4_destroy(void *ud) { s4_destroys[(intptr_t)ud]++; }
static int s4_timer(uvp_ctx *ctx, void *ud);
/* A work item that finishes while close is under way: it runs until the
 * subscriber lets it go, and tells the subscriber it has returned. */
static uv_sem_t s4_go, s4_ran;
static int s4_done_status = 1;
static void s4_work(void *ud) {
  (void)ud;
  uv_sem_wait(&s4_go);
  uv_sem_post(&s4_ran);
}
static int s4_work_done(uvp_ctx *ctx, int status, void *ud) {
  (void)ctx, (void)ud;
  s4_done_status = status;
  return 0;
}

static int s4_event(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ev;
  if (s4_calls[(intptr_t)ud]++ == 0 && (intptr_t)ud == 0) {
    uvp_id id;
    ck_assert_int_eq(
        fx.api->timer_start(ctx, 0, 0, s4_timer, (void *)3, s4_destroy, &id),
        0);
    uv_sem_post(&s4_go);
    uv_sem_wait(&s4_ran); /* its completion is on its way to the loop */
    ck_assert_int_eq(uvp_host_close(s4_host, s4_on_closed, NULL), 0);
  }
  return 0;
}
static int s4_timer(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  s4_calls[(intptr_t)ud]++;
  return 0;
}
static bool s4_done(void *arg) {
  (void)arg;
  return s4_closed != 0;
}

/* S4: uvp_host_close from inside a subscriber: the rest of that fan-out
 * (subscribers 1 and 2), the next queued event and a timer due at once
 * (started by the same callback) never run, and work that finishes during
 * the close hears UVP_ECANCELED; every destroy runs once at teardown, then
 * on_closed. */
START_TEST(close_in_callback_runs_nothing_more) {
  memset(s4_calls, 0, sizeof s4_calls);
  memset(s4_destroys, 0, sizeof s4_destroys);
  s4_closed = 0;
  ck_assert_int_eq(uv_sem_init(&s4_go, 0), 0);
  ck_assert_int_eq(uv_sem_init(&s4_ran, 0), 0);
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  ck_assert_int_eq(
      fx.api->work_queue(fx.ctx, s4_work, s4_work_done, NULL, NULL, &id), 0);
  for (intptr_t i = 0; i < 3; i++)
    ck_assert_int_eq(
        fx.api->subscribe(fx.ctx, t, s4_event, (void *)i, s4_destroy, &id), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "1", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "2", 1), 0);
  s4_host = fx.host;
  fx.host = NULL; /* closed by the callback, as the fixture learns here */
  ck_assert(uvt_run_until(&fx, s4_done, NULL, 1000));
  ck_assert_int_eq(s4_calls[0], 1);
  ck_assert_int_eq(s4_calls[1], 0);
  ck_assert_int_eq(s4_calls[2], 0);
  ck_assert_int_eq(s4_calls[3], 0);
  for (int i = 0; i < 4; i++) ck_assert_int_eq(s4_destroys[i], 1); /* L1 */
  ck_assert_int_eq(s4_done_status, UVP_ECANCELED); /* W1: once, cancelled */
  ck_assert_int_eq(s4_closed, 1);
  uv_sem_destroy(&s4_go);
  uv_sem_destroy(&s4_ran);
}
END_TEST

/* F3: uvp_load_options and uvp_plugin_stats: a size ending inside a field
 * is UVP_EINVAL (nothing loaded, nothing written); a field boundary of an
 * older version is fine. */
START_TEST(struct_sizes_end_between_fields) {
  uvp_load_options lo = UVP_LOAD_OPTIONS_INIT;
  lo.size = offsetof(uvp_load_options, remote_limit) + 2;
  ck_assert_int_eq(uvp_host_load(fx.host, "/nonexistent.so", NULL, "", &lo),
                   UVP_EINVAL);
  uvp_plugin_stats st;
  memset(&st, 0xAB, sizeof st);
  st.size = offsetof(uvp_plugin_stats, calls) + 4;
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "host", &st), UVP_EINVAL);
  ck_assert_uint_eq(st.calls, 0xABABABABABABABABull); /* not written */
  st.size = offsetof(uvp_plugin_stats, events);       /* an older caller */
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "host", &st), UVP_ENOENT);
}
END_TEST

static Suite *host_suite(void) {
  Suite *s = suite_create("host");
  TCase *tc = uvt_tcase(s, "new");
  tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
  tcase_add_loop_test(tc, new_rejects_bad_options, 0, N_OPT);
  tcase_add_test(tc, new_defaults);
  tc = uvt_tcase(s, "close");
  tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
  tcase_add_test(tc, close_twice);
  tcase_add_test(tc, close_without_callback);
  tcase_add_test(tc, open_host_keeps_loop_alive);
  tc = uvt_tcase(s, "query");
  tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
  tcase_add_test(tc, stats_and_names_empty);
  tcase_add_test(tc, host_ctx_and_api);
  tcase_add_test(tc, load_bad_args);
  tcase_add_test(tc, closing_refuses);
  tcase_add_test(tc, close_in_callback_runs_nothing_more);
  tcase_add_test(tc, struct_sizes_end_between_fields);
  tc = uvt_tcase(s, "log");
  tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
  tcase_add_test(tc, log_hook);
  tcase_add_test(tc, log_level_debug);
  return s;
}

int main(void) { return uvt_main(host_suite()); }
