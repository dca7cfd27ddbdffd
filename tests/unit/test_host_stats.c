/* Observing a host (O1-O3): host-wide and per-topic counters, the log
 * level at run time, the watchdog on the embedder's own callbacks, the
 * version. Mirrors src/observe.c and src/timing.c; plugins are in
 * tests/integration/test_observe.c. Counts are asserted exactly; durations
 * never (a sleeping callback is behaviour: it is past the threshold). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static uvp_host_stats host_stats(uvt_fx *fx) {
  uvp_host_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvp_host_get_stats(fx->host, &st), 0);
  return st;
}

static uvp_topic_stats topic_stats(uvt_fx *fx, uint32_t index,
                                   const char **name) {
  uvp_topic_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvp_host_topic_stats(fx->host, index, name, &st), 0);
  return st;
}

static int count_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  (*(int *)user_data)++;
  return 0;
}

/* -- version and names ---------------------------------------------------- */

START_TEST(version_matches_the_string) {
  ck_assert_uint_eq(uvp_version(), UVP_VERSION_HEX);
  char s[32];
  unsigned v = uvp_version();
  snprintf(s, sizeof s, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
  ck_assert_str_eq(s, UVP_VERSION_STRING);
  ck_assert_str_eq(s, uvp_version_string());
}
END_TEST

START_TEST(log_level_names) {
  ck_assert_str_eq(uvp_log_level_name(UVP_LOG_ERROR), "error");
  ck_assert_str_eq(uvp_log_level_name(UVP_LOG_WARN), "warn");
  ck_assert_str_eq(uvp_log_level_name(UVP_LOG_INFO), "info");
  ck_assert_str_eq(uvp_log_level_name(UVP_LOG_DEBUG), "debug");
  ck_assert_str_eq(uvp_log_level_name(-1), "unknown");
  ck_assert_str_eq(uvp_log_level_name(4), "unknown");
}
END_TEST

/* -- O1: counters --------------------------------------------------------- */

/* O1: published and delivered per topic, summed by the host; the queue's
 * depth and high water before and after the drain; live subscribers. */
START_TEST(publish_and_deliver_counts) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvp_topic a = uvt_topic(&fx, "obs.a"), b = uvt_topic(&fx, "obs.b");
  int got = 0;
  uvp_id id1, id2;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, a, count_cb, &got, NULL, &id1), 0);
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, a, count_cb, &got, NULL, &id2), 0);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(uvp_host_publish(fx.host, a, "x", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, b, "y", 1), 0);

  uvp_host_stats st = host_stats(&fx);
  ck_assert_uint_eq(st.topics, 2);
  ck_assert_uint_eq(st.subscriptions, 2);
  ck_assert_uint_eq(st.queue_depth, 4);
  ck_assert_uint_eq(st.queue_high_water, 4);
  ck_assert_uint_eq(st.published, 4);
  ck_assert_uint_eq(st.delivered, 0);

  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(got, 6);
  st = host_stats(&fx);
  ck_assert_uint_eq(st.queue_depth, 0);
  ck_assert_uint_eq(st.queue_high_water, 4);
  ck_assert_uint_eq(st.queue_refused, 0);
  ck_assert_uint_eq(st.published, 4);
  ck_assert_uint_eq(st.delivered, 6);
  ck_assert_uint_eq(st.plugins, 0);
  ck_assert_uint_eq(st.slow_callbacks, 0);

  const char *name = NULL;
  uvp_topic_stats ts = topic_stats(&fx, 0, &name);
  ck_assert_str_eq(name, "obs.a");
  ck_assert_uint_eq(ts.subscribers, 2);
  ck_assert_uint_eq(ts.published, 3);
  ck_assert_uint_eq(ts.delivered, 6);
  ts = topic_stats(&fx, 1, &name);
  ck_assert_str_eq(name, "obs.b");
  ck_assert_uint_eq(ts.subscribers, 0);
  ck_assert_uint_eq(ts.published, 1);
  ck_assert_uint_eq(ts.delivered, 0);
  ts = topic_stats(&fx, 1, NULL); /* the name is optional */
  ck_assert_uint_eq(ts.published, 1);
  uvp_topic_stats none = {.size = sizeof none};
  ck_assert_int_eq(uvp_host_topic_stats(fx.host, 2, &name, &none), UVP_ENOENT);

  /* a cancelled subscription leaves the counts, not the subscriber count */
  ck_assert_int_eq(fx.api->cancel(fx.ctx, id1), 0);
  ts = topic_stats(&fx, 0, NULL);
  ck_assert_uint_eq(ts.subscribers, 1);
  ck_assert_uint_eq(ts.delivered, 6);
  ck_assert_uint_eq(host_stats(&fx).subscriptions, 1);
  uvt_fx_close(&fx);
}
END_TEST

/* O1: publishes refused for a full queue are counted, from every source. */
START_TEST(queue_refusals_are_counted) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.queue_capacity = 2;
  uvt_fx fx;
  uvt_fx_init(&fx, &o);
  uvp_topic t = uvt_topic(&fx, "obs.full");
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "1", 1), 0);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, "2", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "3", 1), UVP_EAGAIN);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, "4", 1), UVP_EAGAIN);
  uvp_host_stats st = host_stats(&fx);
  ck_assert_uint_eq(st.queue_refused, 2);
  ck_assert_uint_eq(st.queue_depth, 2);
  ck_assert_uint_eq(st.queue_high_water, 2);
  ck_assert_uint_eq(st.published, 2);
  ck_assert_uint_eq(topic_stats(&fx, 0, NULL).published, 2);
  uvt_fx_close(&fx);
}
END_TEST

static int timer_noop(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  (*(int *)user_data)++;
  return 0;
}

static int fd_noop(uvp_ctx *ctx, int fd, int status, int events, void *ud) {
  (void)ctx, (void)fd, (void)status, (void)events, (void)ud;
  return 0;
}

static void work_fn(void *user_data) { (void)user_data; }
static int work_done(uvp_ctx *ctx, int status, void *user_data) {
  (void)ctx;
  (void)status;
  (*(int *)user_data)++;
  return 0;
}

/* O1: live registrations by kind balance: every start is counted until its
 * registration ends (cancel, one-shot fired, work done). */
START_TEST(registrations_by_kind) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  int fired = 0, done = 0;
  uvp_id t1, t2, fdw, w;
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 0, 0, timer_noop, &fired, NULL, &t1), 0);
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 100000, 0, timer_noop, &fired, NULL, &t2), 0);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(fx.api->fd_watch(fx.ctx, fds[0], UVP_FD_READABLE, fd_noop,
                                    NULL, NULL, &fdw),
                   0);
  ck_assert_int_eq(
      fx.api->work_queue(fx.ctx, work_fn, work_done, &done, NULL, &w), 0);
  uvp_host_stats st = host_stats(&fx);
  ck_assert_uint_eq(st.timers, 2);
  ck_assert_uint_eq(st.fd_watches, 1);
  ck_assert_uint_eq(st.work_items, 1);
  ck_assert_uint_eq(st.subscriptions, 0);

  ck_assert(uvt_run_until_int(&fx, &fired, 1));
  ck_assert(uvt_run_until_int(&fx, &done, 1));
  st = host_stats(&fx);
  ck_assert_uint_eq(st.timers, 1); /* the one-shot that fired ended */
  ck_assert_uint_eq(st.work_items, 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, t2), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, fdw), 0);
  st = host_stats(&fx);
  ck_assert_uint_eq(st.timers, 0);
  ck_assert_uint_eq(st.fd_watches, 0);
  uvt_fx_close(&fx);
  close(fds[0]);
  close(fds[1]);
}
END_TEST

/* -- F3: sizes ------------------------------------------------------------ */

/* An older, smaller struct gets the fields it has and nothing past them; a
 * size inside a field, or too short for the first counter, is refused. */
START_TEST(short_sizes) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvp_topic t = uvt_topic(&fx, "obs.size");
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "x", 1), 0);

  uvp_host_stats hs;
  memset(&hs, 0xab, sizeof hs);
  hs.size = offsetof(uvp_host_stats, queue_depth);
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  ck_assert_uint_eq(hs.topics, 1);
  ck_assert_uint_eq(hs.queue_depth, UINT64_C(0xabababababababab));
  ck_assert_uint_eq(hs.published, UINT64_C(0xabababababababab));
  hs.size = offsetof(uvp_host_stats, queue_depth) + 4; /* inside a field */
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), UVP_EINVAL);
  hs.size = sizeof(uint32_t); /* only size */
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_get_stats(fx.host, NULL), UVP_EINVAL);

  uvp_topic_stats ts;
  memset(&ts, 0xab, sizeof ts);
  ts.size = offsetof(uvp_topic_stats, published);
  ck_assert_int_eq(uvp_host_topic_stats(fx.host, 0, NULL, &ts), 0);
  ck_assert_uint_eq(ts.subscribers, 0);
  ck_assert_uint_eq(ts.published, UINT64_C(0xabababababababab));
  ts.size = offsetof(uvp_topic_stats, published) + 2;
  ck_assert_int_eq(uvp_host_topic_stats(fx.host, 0, NULL, &ts), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_topic_stats(fx.host, 0, NULL, NULL), UVP_EINVAL);

  uvp_plugin_info pi = {.size = 2};
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "x", &pi), UVP_EINVAL);
  pi.size = sizeof pi;
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, NULL, &pi), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "nope", &pi), UVP_ENOENT);
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "x", NULL), UVP_EINVAL);

  /* uvp_plugin_stats of 0.1 (up to work_abandoned) is still valid; a size
   * inside the histogram is not */
  ck_assert(uvp__plugin_stats_size_ok(offsetof(uvp_plugin_stats, cb_ns_total)));
  ck_assert(uvp__plugin_stats_size_ok(sizeof(uvp_plugin_stats)));
  ck_assert(
      !uvp__plugin_stats_size_ok(offsetof(uvp_plugin_stats, cb_hist) + 4));
  /* and host options of 0.1 too */
  ck_assert(
      uvp__host_options_size_ok(offsetof(uvp_host_options, slow_callback_ms)));
  uvt_fx_close(&fx);
}
END_TEST

/* -- T3: wrong thread ----------------------------------------------------- */

typedef struct off_thread {
  uvp_host *host;
  int stats, topic, info, level;
} off_thread;

static void call_off_thread(void *arg) {
  off_thread *o = arg;
  uvp_host_stats hs = {.size = sizeof hs};
  uvp_topic_stats ts = {.size = sizeof ts};
  uvp_plugin_info pi = {.size = sizeof pi};
  o->stats = uvp_host_get_stats(o->host, &hs);
  o->topic = uvp_host_topic_stats(o->host, 0, NULL, &ts);
  o->info = uvp_host_plugin_info(o->host, "x", &pi);
  o->level = uvp_host_set_log_level(o->host, UVP_LOG_DEBUG);
}

/* T3: every new function is loop thread only. */
START_TEST(wrong_thread_is_refused) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvt_topic(&fx, "obs.t");
  off_thread o = {.host = fx.host};
  uv_thread_t th;
  ck_assert_int_eq(uv_thread_create(&th, call_off_thread, &o), 0);
  ck_assert_int_eq(uv_thread_join(&th), 0);
  ck_assert_int_eq(o.stats, UVP_EWRONGTHREAD);
  ck_assert_int_eq(o.topic, UVP_EWRONGTHREAD);
  ck_assert_int_eq(o.info, UVP_EWRONGTHREAD);
  ck_assert_int_eq(o.level, UVP_EWRONGTHREAD);
  ck_assert_int_eq(fx.host->opts.log_level, UVP_LOG_INFO); /* unchanged */
  uvt_fx_close(&fx);
}
END_TEST

/* -- O3: log level at run time -------------------------------------------- */

/* O3: a debug line reaches the hook only once the level is raised, and a
 * warn line no longer once it is lowered to error; the next line already
 * follows the new level. */
START_TEST(set_log_level_filters) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  const char dbg[] = "obs debug line", warn[] = "obs warn line";
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_DEBUG, dbg, strlen(dbg)), 0);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, dbg), 0);
  ck_assert_int_eq(uvp_host_set_log_level(fx.host, UVP_LOG_DEBUG), 0);
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_DEBUG, dbg, strlen(dbg)), 0);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, dbg), 1);
  ck_assert_int_eq(uvp_host_set_log_level(fx.host, UVP_LOG_ERROR), 0);
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_WARN, warn, strlen(warn)), 0);
  ck_assert_int_eq(fx.api->log(fx.ctx, UVP_LOG_DEBUG, dbg, strlen(dbg)), 0);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, warn), 0);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, dbg), 1);
  ck_assert_int_eq(uvp_host_set_log_level(fx.host, 4), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_set_log_level(fx.host, -1), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_set_log_level(NULL, UVP_LOG_INFO), UVP_EINVAL);
  ck_assert_int_eq(fx.host->opts.log_level, UVP_LOG_ERROR);
  uvt_fx_close(&fx);
}
END_TEST

/* -- O2: watchdog on the embedder's ctx ----------------------------------- */

static int timer_sleeps(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  uv_sleep(60); /* 3x the threshold below */
  (*(int *)user_data)++;
  return 0;
}

/* O2: a timer callback past slow_callback_ms is counted host-wide and
 * logged once at warn level, naming the ctx and the kind. */
START_TEST(watchdog_names_timer) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.slow_callback_ms = 20;
  uvt_fx fx;
  uvt_fx_init(&fx, &o);
  int fired = 0;
  uvp_id id;
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 0, 0, timer_sleeps, &fired, NULL, &id), 0);
  ck_assert(uvt_run_until_int(&fx, &fired, 1));
  ck_assert_uint_eq(host_stats(&fx).slow_callbacks, 1);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "slow callback: host timer "), 1);
  int line = -1;
  for (int i = 0; i < fx.log.n; i++)
    if (strstr(fx.log.lines[i].msg, "slow callback") != NULL) line = i;
  ck_assert_int_ge(line, 0);
  ck_assert_int_eq(fx.log.lines[line].level, UVP_LOG_WARN);
  ck_assert_str_eq(fx.log.lines[line].plugin, "host");
  uvt_fx_close(&fx);
}
END_TEST

/* O2: the watchdog is off by default and with no_metrics. */
START_TEST(watchdog_off) {
  for (int no_metrics = 0; no_metrics < 2; no_metrics++) {
    uvp_host_options o = UVP_HOST_OPTIONS_INIT;
    o.slow_callback_ms = no_metrics ? 20 : 0;
    o.no_metrics = no_metrics;
    uvt_fx fx;
    uvt_fx_init(&fx, &o);
    int fired = 0;
    uvp_id id;
    ck_assert_int_eq(
        fx.api->timer_start(fx.ctx, 0, 0, timer_sleeps, &fired, NULL, &id), 0);
    ck_assert(uvt_run_until_int(&fx, &fired, 1));
    ck_assert_uint_eq(host_stats(&fx).slow_callbacks, 0);
    ck_assert_int_eq(uvt_log_count(&fx.log, 0, "slow callback"), 0);
    uvt_fx_close(&fx);
  }
}
END_TEST

/* The histogram's bounds, as documented with UVP_CB_HIST_BUCKETS. */
START_TEST(bucket_bounds) {
  ck_assert_uint_eq(uvp__cb_bucket(0), 0);
  ck_assert_uint_eq(uvp__cb_bucket(999), 0);
  ck_assert_uint_eq(uvp__cb_bucket(1000), 1);
  ck_assert_uint_eq(uvp__cb_bucket(1999), 1);
  ck_assert_uint_eq(uvp__cb_bucket(2000), 2);
  ck_assert_uint_eq(uvp__cb_bucket(1024000), 11);
  ck_assert_uint_eq(uvp__cb_bucket(16383999), 14);
  ck_assert_uint_eq(uvp__cb_bucket(16384000), 15);
  ck_assert_uint_eq(uvp__cb_bucket(UINT64_MAX), 15);
}
END_TEST

int main(void) {
  Suite *s = suite_create("host_stats");
  TCase *tc = uvt_tcase(s, "observe");
  tcase_add_test(tc, version_matches_the_string);
  tcase_add_test(tc, log_level_names);
  tcase_add_test(tc, publish_and_deliver_counts);
  tcase_add_test(tc, queue_refusals_are_counted);
  tcase_add_test(tc, registrations_by_kind);
  tcase_add_test(tc, short_sizes);
  tcase_add_test(tc, wrong_thread_is_refused);
  tcase_add_test(tc, set_log_level_filters);
  tcase_add_test(tc, watchdog_names_timer);
  tcase_add_test(tc, watchdog_off);
  tcase_add_test(tc, bucket_bounds);
  return uvt_main(s);
}
