/* Observing loaded plugins (O1, O2): callback timing and its histogram,
 * the slow-callback watchdog and its bounded log, uvp_host_plugin_info,
 * plugins by state. Durations are never asserted: a callback that sleeps
 * 60 ms against a 20 ms threshold is behaviour, one that returns at once is
 * counted, not measured.
 *
 * Which bucket a fast callback lands in is not asserted either: under
 * valgrind the first run of the plugin's code (on_init) can take longer
 * than the threshold. The counts are exact; the sleeping callback's bucket
 * and watchdog count are asserted as deltas.
 *
 * Plugin: counter_plugin.so. Its "hook" command on counter.cmd calls the
 * embedder's hook (here: sleep) inside the subscriber callback.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "uvp_test.h"

#define COUNTER_PATH UVP_TEST_PLUGIN_DIR "/counter_plugin.so"
#define SLOW_LINE "slow callback: counter-a event "

static void sleep_hook(void *arg) {
  (void)arg;
  uv_sleep(60); /* 3x slow_callback_ms */
}

static void load_counter(uvt_fx *fx, const char *name) {
  char config[128];
  snprintf(config, sizeof config, "tag=%s hook=%llx", name,
           (unsigned long long)(uintptr_t)sleep_hook);
  ck_assert_int_eq(uvp_host_load(fx->host, COUNTER_PATH, name, config, NULL),
                   0);
}

static void publish_turn(uvt_fx *fx, const char *topic, const char *what) {
  ck_assert_int_eq(
      uvp_host_publish(fx->host, uvt_topic(fx, topic), what, strlen(what)), 0);
  uvt_run_turns(fx, 2);
}

static uvp_plugin_stats stats_of(uvt_fx *fx, const char *name) {
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(fx, name, &st), 0);
  return st;
}

static uint64_t hist_sum(const uvp_plugin_stats *st) {
  uint64_t n = 0;
  for (int i = 0; i < UVP_CB_HIST_BUCKETS; i++) n += st->cb_hist[i];
  return n;
}

static uvp_host_options slow_opts(void) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.slow_callback_ms = 20;
  return o;
}

/* O2: every timed callback lands in one bucket: on_init, on_start and each
 * event; the sleeping one in the last bucket, counted as slow. */
START_TEST(histogram_counts_every_callback) {
  uvp_host_options o = slow_opts();
  uvt_fx fx;
  uvt_fx_init(&fx, &o);
  load_counter(&fx, "counter-a");
  uvp_plugin_stats st = stats_of(&fx, "counter-a");
  ck_assert_uint_eq(hist_sum(&st), 2); /* on_init, on_start */
  for (int i = 0; i < 5; i++) publish_turn(&fx, "counter.in", "x");
  st = stats_of(&fx, "counter-a");
  ck_assert_uint_eq(st.events, 5);
  ck_assert_uint_eq(hist_sum(&st), 2 + 5);
  uint64_t last = st.cb_hist[UVP_CB_HIST_BUCKETS - 1], slow = st.slow_callbacks;
  ck_assert_uint_le(slow, last); /* over 20 ms is in the last bucket */

  publish_turn(&fx, "counter.cmd", "hook");
  st = stats_of(&fx, "counter-a");
  ck_assert_uint_eq(hist_sum(&st), 2 + 6);
  ck_assert_uint_eq(st.cb_hist[UVP_CB_HIST_BUCKETS - 1], last + 1);
  ck_assert_uint_eq(st.slow_callbacks, slow + 1);
  ck_assert_uint_ge(st.cb_ns_total, UINT64_C(60000000)); /* it slept 60 ms */
  uvt_fx_close(&fx);
}
END_TEST

/* O2: one warn line per slow span, naming plugin and kind, at most one per
 * plugin per second; the rest are counted, and the next line says how
 * many. The host counts every plugin's. */
START_TEST(watchdog_log_is_bounded) {
  uvp_host_options o = slow_opts();
  uvt_fx fx;
  uvt_fx_init(&fx, &o);
  load_counter(&fx, "counter-a");
  /* A slow on_init or on_start (valgrind) was logged: let its interval
   * pass, so that the first slow event is logged. */
  uint64_t pre = stats_of(&fx, "counter-a").slow_callbacks;
  if (pre != 0) uv_sleep(1100);
  publish_turn(&fx, "counter.cmd", "hook");
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, SLOW_LINE), 1);
  int line = -1;
  for (int i = 0; i < fx.log.n; i++)
    if (strstr(fx.log.lines[i].msg, SLOW_LINE) != NULL) line = i;
  ck_assert_int_eq(fx.log.lines[line].level, UVP_LOG_WARN);
  ck_assert_str_eq(fx.log.lines[line].plugin, "counter-a");

  /* two more within the second (each takes 60 ms): counted, not logged */
  publish_turn(&fx, "counter.cmd", "hook");
  publish_turn(&fx, "counter.cmd", "hook");
  ck_assert_uint_eq(stats_of(&fx, "counter-a").slow_callbacks, pre + 3);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, SLOW_LINE), 1);

  uv_sleep(1000); /* past the per-plugin interval */
  publish_turn(&fx, "counter.cmd", "hook");
  ck_assert_uint_eq(stats_of(&fx, "counter-a").slow_callbacks, pre + 4);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, SLOW_LINE), 2);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "(2 more since the last line)"),
                   1);

  uvp_host_stats hs = {.size = sizeof hs};
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  ck_assert_uint_eq(hs.slow_callbacks, pre + 4);
  /* O1: still counted once the plugin is gone (on_stop may add one) */
  ck_assert_int_eq(uvp_host_unload(fx.host, "counter-a"), 0);
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  ck_assert_uint_ge(hs.slow_callbacks, pre + 4);
  ck_assert_uint_eq(hs.plugins, 0);
  uvt_fx_close(&fx);
}
END_TEST

/* O2: no_metrics skips the timing and so the watchdog; without a
 * threshold the histogram still counts the slow callback. */
START_TEST(no_metrics_no_timing) {
  for (int no_metrics = 0; no_metrics < 2; no_metrics++) {
    uvp_host_options o = UVP_HOST_OPTIONS_INIT;
    o.no_metrics = no_metrics;
    o.slow_callback_ms = no_metrics ? 20 : 0;
    uvt_fx fx;
    uvt_fx_init(&fx, &o);
    load_counter(&fx, "counter-a");
    publish_turn(&fx, "counter.cmd", "hook");
    uvp_plugin_stats st = stats_of(&fx, "counter-a");
    ck_assert_uint_eq(st.slow_callbacks, 0);
    if (no_metrics)
      ck_assert_uint_eq(st.cb_hist[UVP_CB_HIST_BUCKETS - 1], 0);
    else
      ck_assert_uint_ge(st.cb_hist[UVP_CB_HIST_BUCKETS - 1], 1);
    ck_assert_uint_eq(hist_sum(&st), no_metrics ? 0 : 3);
    if (no_metrics) ck_assert_uint_eq(st.cb_ns_total, 0);
    ck_assert_int_eq(uvt_log_count(&fx.log, 0, "slow callback"), 0);
    uvt_fx_close(&fx);
  }
}
END_TEST

/* F3: a uvp_plugin_stats of 0.1, without the timing fields, still works
 * and nothing past its size is written. */
START_TEST(old_plugin_stats_size) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  load_counter(&fx, "counter-a");
  uvp_plugin_stats st;
  memset(&st, 0xab, sizeof st);
  st.size = offsetof(uvp_plugin_stats, cb_ns_total);
  ck_assert_int_eq(uvp_host_plugin_stats(fx.host, "counter-a", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.registrations, 2);
  ck_assert_uint_eq(st.cb_ns_total, UINT64_C(0xabababababababab));
  ck_assert_uint_eq(st.cb_hist[0], UINT64_C(0xabababababababab));
  uvt_fx_close(&fx);
}
END_TEST

/* plugin_info: what was loaded, from where; a short struct gets only its
 * fields; the path follows a reload. Plugins by state in the host stats. */
START_TEST(plugin_info_and_states) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  load_counter(&fx, "counter-a");
  load_counter(&fx, "counter-b");
  uvp_plugin_info pi = {.size = sizeof pi};
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "counter-a", &pi), 0);
  ck_assert_int_eq(pi.state, UVP_PLUGIN_RUNNING);
  ck_assert_int_eq(pi.unload_safe, 0);
  ck_assert_str_eq(pi.name, "counter-a");
  ck_assert_str_eq(pi.desc_name, "counter");
  ck_assert_str_eq(pi.desc_version, "1.0.0");
  ck_assert_str_eq(pi.path, COUNTER_PATH);
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "counter-c", &pi), UVP_ENOENT);

  uvp_plugin_info old;
  memset(&old, 0xab, sizeof old);
  old.size = offsetof(uvp_plugin_info, name);
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "counter-b", &old), 0);
  ck_assert_int_eq(old.state, UVP_PLUGIN_RUNNING);
  const char *untouched;
  memset(&untouched, 0xab, sizeof untouched);
  ck_assert_ptr_eq(old.name, untouched);

  uvp_host_stats hs = {.size = sizeof hs};
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  ck_assert_uint_eq(hs.plugins, 2);
  ck_assert_uint_eq(hs.plugins_by_state[UVP_PLUGIN_RUNNING], 2);
  ck_assert_uint_eq(hs.plugins_by_state[UVP_PLUGIN_LOADING], 0);
  ck_assert_uint_eq(hs.subscriptions, 4); /* two each */

  char copy[64]; /* per process: ctest runs integration. and valgrind. */
  snprintf(copy, sizeof copy, "/tmp/uvp-observe-%ld.so", (long)getpid());
  uvt_copy_file(COUNTER_PATH, copy);
  ck_assert_int_eq(uvp_host_reload(fx.host, "counter-a", copy, "", NULL), 0);
  ck_assert_int_eq(uvp_host_plugin_info(fx.host, "counter-a", &pi), 0);
  ck_assert_str_eq(pi.path, copy);
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  ck_assert_uint_eq(hs.plugins, 2);
  ck_assert_uint_eq(hs.subscriptions, 4);
  uvt_fx_close(&fx);
  remove(copy);
}
END_TEST

int main(void) {
  Suite *s = suite_create("observe");
  TCase *tc = uvt_tcase(s, "observe");
  tcase_add_test(tc, histogram_counts_every_callback);
  tcase_add_test(tc, watchdog_log_is_bounded);
  tcase_add_test(tc, no_metrics_no_timing);
  tcase_add_test(tc, old_plugin_stats_size);
  tcase_add_test(tc, plugin_info_and_states);
  return uvt_main(s);
}
