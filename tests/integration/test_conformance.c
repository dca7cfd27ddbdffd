/* Conformance: ONE suite, run with identical assertions against the C
 * reference plugin (tests/plugins/ref_plugin.c) and its Rust twin
 * (rust-plugins/examples/ref-plugin, libref_plugin.so). The embedder
 * drives both through ref.in / ref.cmd and reads ref.out; the spec is the
 * comment at the top of ref_plugin.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"

static const char *const conf_plugins[] = {
    UVP_TEST_PLUGIN_DIR "/ref_plugin.so",
    UVP_RUST_PLUGIN_DIR "/libref_plugin.so",
};
#define N_PLUGINS ((int)(sizeof conf_plugins / sizeof conf_plugins[0]))

static uvt_fx fx;
static uvt_rec out;
static uvp_topic t_in, t_cmd, t_out;
static const char *path;
static uint64_t destroyed0, unloaded0;

static uint64_t destroyed(void) {
  return uvt_sym_u64(path, "uvp_ref_destroyed") - destroyed0;
}
static uint64_t unloaded(void) {
  return uvt_sym_u64(path, "uvp_ref_unloaded") - unloaded0;
}

/* Loads plugin i as "ref" and subscribes the embedder to ref.out (after
 * the plugin's own subscriptions, so it runs after the plugin, D1). */
static void conf_begin(int i) {
  path = conf_plugins[i];
  ck_assert_msg(uvt_file_exists(path), "%s is not built", path);
  uvt_fx_init(&fx, NULL);
  uvt_rec_init(&out);
  int rc = uvp_host_load(fx.host, path, NULL, "ignored config", NULL);
  ck_assert_msg(rc == 0, "load %s: %s", path, uvp_strerror(rc));
  destroyed0 = uvt_sym_u64(path, "uvp_ref_destroyed");
  unloaded0 = uvt_sym_u64(path, "uvp_ref_unloaded");
  t_in = uvt_topic(&fx, "ref.in");
  t_cmd = uvt_topic(&fx, "ref.cmd");
  t_out = uvt_topic(&fx, "ref.out");
  uvp_id id;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t_out, uvt_rec_cb, &out, uvt_rec_destroy, &id),
      0);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.registrations, 2);
}

static void conf_end(void) {
  uvt_fx_close(&fx);
  ck_assert_int_eq(out.destroys, 1);
  ck_assert(!out.off_thread); /* T1 */
}

static void put(uvp_topic t, const char *s) {
  ck_assert_int_eq(uvp_host_publish(fx.host, t, s, strlen(s)), 0);
}

static void expect_outputs(int n) {
  ck_assert_msg(uvt_run_until_int(&fx, &out.n, n), "%s: %d of %d outputs", path,
                out.n, n);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(out.n, n);
}

/* D1, L9: every ref.in payload comes back on ref.out, byte-exact and in
 * order, including an empty one and a binary one with NUL bytes. */
START_TEST(echo_in_order) {
  conf_begin(_i);
  static unsigned char bin[100];
  for (int i = 0; i < 100; i++) bin[i] = (unsigned char)(i % 3 == 0 ? 0 : i);
  put(t_in, "p0");
  put(t_in, "p1");
  ck_assert_int_eq(uvp_host_publish(fx.host, t_in, bin, sizeof bin), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t_in, NULL, 0), 0);
  put(t_in, "p4");
  expect_outputs(5);
  uvt_rec_is(&out, 0, "p0");
  uvt_rec_is(&out, 1, "p1");
  ck_assert_uint_eq(out.len[2], sizeof bin);
  ck_assert_int_eq(memcmp(out.data[2], bin, sizeof bin), 0);
  ck_assert_uint_eq(out.len[3], 0);
  uvt_rec_is(&out, 4, "p4");
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), 0);
  ck_assert_uint_eq(st.events, 5);
  ck_assert_uint_eq(st.published, 5);
  ck_assert_uint_eq(st.errors, 0);
  conf_end();
}
END_TEST

/* D1: the count reply follows the three events published before it. */
START_TEST(count_reply) {
  conf_begin(_i);
  put(t_in, "a");
  put(t_in, "b");
  put(t_in, "c");
  put(t_cmd, "count");
  expect_outputs(4);
  uvt_rec_is(&out, 3, "count=3");
  conf_end();
}
END_TEST

/* L1, L4: "unsub" cancels the ref.in subscription (rc 0), its destroy runs
 * exactly once, and later ref.in events are neither echoed nor counted. */
START_TEST(unsub) {
  conf_begin(_i);
  put(t_in, "before");
  put(t_cmd, "unsub");
  expect_outputs(2);
  uvt_rec_is(&out, 0, "before");
  uvt_rec_is(&out, 1, "unsub=0");
  ck_assert_uint_eq(destroyed(), 1);
  put(t_in, "after");
  put(t_cmd, "count");
  expect_outputs(3);
  uvt_rec_is(&out, 2, "count=1");
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), 0);
  ck_assert_uint_eq(st.registrations, 1);
  conf_end();
  ck_assert_uint_eq(destroyed(), 2);
  ck_assert_uint_eq(unloaded(), 1);
}
END_TEST

static bool errors_are_1(void *arg) {
  (void)arg;
  uvp_plugin_stats st;
  return uvt_stats(&fx, "ref", &st) == 0 && st.errors >= 1;
}

/* F2: "fail" returns UVP_EINVAL: counted in errors, logged once under the
 * plugin's name, and the plugin keeps running. */
START_TEST(fail_counted) {
  conf_begin(_i);
  int lines = fx.log.n;
  put(t_cmd, "fail");
  ck_assert(uvt_run_until(&fx, errors_are_1, NULL, 5000));
  put(t_in, "still");
  expect_outputs(1);
  uvt_rec_is(&out, 0, "still");
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), 0);
  ck_assert_uint_eq(st.errors, 1);
  ck_assert_uint_eq(st.panics, 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_int_eq(uvt_log_count_from(&fx.log, lines, "ref"), 1);
  conf_end();
}
END_TEST

typedef struct panic_seen {
  int calls;
  int rc;
  uvp_plugin_stats st;
} panic_seen;

static panic_seen seen;

/* Runs right after the plugin's own ref.cmd callback in the same round. */
static int observe_cmd(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev, (void)ud;
  seen.calls++;
  seen.rc = uvt_stats(&fx, "ref", &seen.st);
  return 0;
}

/* F1: "panic" (UVP_EPANIC; the Rust twin really panics and the SDK turns
 * it into UVP_EPANIC); with the default quarantine policy the plugin gets
 * no further deliveries and is unloaded with every destroy run (its 2
 * subscriptions) and one on_unload, and the fault is logged under its
 * name; S3: the unload happens after the callback returned. */
START_TEST(panic_quarantines) {
  conf_begin(_i);
  int lines = fx.log.n;
  put(t_cmd, "panic");
  put(t_in, "after");
  uvt_run_turns(&fx, 10);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), UVP_ENOENT);
  ck_assert_int_eq(out.n, 0); /* "after" not echoed */
  ck_assert_uint_eq(destroyed(), 2);
  ck_assert_uint_eq(unloaded(), 1);
  /* the host's line; the Rust SDK may log the panic message as well */
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, "panicked"), 1);
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
  conf_end();
  ck_assert_uint_eq(destroyed(), 2);
  ck_assert_uint_eq(unloaded(), 1);
}
END_TEST

/* F1: the panic is counted in the plugin's panics statistic, readable by
 * the embedder in the same dispatch round (its ref.cmd subscriber runs
 * right after the plugin's), before the quarantine unload removes it. */
START_TEST(panic_counted) {
  conf_begin(_i);
  memset(&seen, 0, sizeof seen);
  uvp_id id;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t_cmd, observe_cmd, NULL, NULL, &id), 0);
  put(t_cmd, "panic");
  ck_assert(uvt_run_until_int(&fx, &seen.calls, 1));
  uvt_run_turns(&fx, 5);
  ck_assert_msg(seen.rc == 0, "stats right after the panic: %s",
                uvp_err_name(seen.rc));
  ck_assert_uint_eq(seen.st.panics, 1);
  ck_assert_int_eq(seen.st.state, UVP_PLUGIN_QUARANTINED);
  conf_end();
}
END_TEST

/* D6, L10: "timer 20" → "timer" on ref.out no earlier than 20 ms later;
 * the one-shot's destroy has run by then. */
START_TEST(timer_fires) {
  conf_begin(_i);
  uint64_t start = uv_now(&fx.loop);
  put(t_cmd, "timer 20");
  expect_outputs(1);
  uvt_rec_is(&out, 0, "timer");
  ck_assert_uint_ge(uv_now(&fx.loop), start + 20);
  ck_assert_uint_eq(destroyed(), 1);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), 0);
  ck_assert_uint_eq(st.registrations, 2);
  conf_end();
}
END_TEST

/* L8: "owned" is published with publish_owned and arrives intact; its
 * free_fn frees it (valgrind checks nothing leaks). */
START_TEST(owned_publish) {
  conf_begin(_i);
  put(t_cmd, "owned");
  expect_outputs(1);
  uvt_rec_is(&out, 0, "owned");
  conf_end();
}
END_TEST

/* T2: api->publish from a plugin's own thread is refused with
 * UVP_EWRONGTHREAD (-4001), queues nothing, and counts in wrong_thread. */
START_TEST(wrong_thread) {
  conf_begin(_i);
  put(t_cmd, "wrongthread");
  expect_outputs(1);
  uvt_rec_is(&out, 0, "wrongthread=-4001");
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), 0);
  ck_assert_uint_eq(st.wrong_thread, 1);
  ck_assert_uint_eq(st.published, 1);
  conf_end();
}
END_TEST

/* S1, L1: unload runs each destroy once and on_unload once; the plugin
 * then gets nothing, and the name can be loaded again. */
START_TEST(unload_counts) {
  conf_begin(_i);
  put(t_in, "queued"); /* dropped: the plugin is unloaded before it runs */
  ck_assert_int_eq(uvp_host_unload(fx.host, "ref"), 0);
  ck_assert_uint_eq(destroyed(), 2);
  ck_assert_uint_eq(unloaded(), 1);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "ref", &st), UVP_ENOENT);
  put(t_in, "gone");
  uvt_run_turns(&fx, 10);
  ck_assert_int_eq(out.n, 0);
  ck_assert_int_eq(uvp_host_load(fx.host, path, NULL, "", NULL), 0);
  put(t_in, "back");
  expect_outputs(1);
  uvt_rec_is(&out, 0, "back");
  conf_end();
  ck_assert_uint_eq(destroyed(), 4);
  ck_assert_uint_eq(unloaded(), 2);
}
END_TEST

static int unload_in_cb_rc = 1;
static int unload_on_cmd(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev, (void)ud;
  unload_in_cb_rc = uvp_host_unload(fx.host, "ref");
  return 0;
}

/* L8, S1, A10: the plugin publishes an owned payload and is unloaded (by
 * the embedder, in the same round) before it is dispatched: the event is
 * still delivered to the other subscribers, and its free_fn (plugin code,
 * kept mapped) runs once after (valgrind checks the free). */
START_TEST(unload_with_owned_pending) {
  conf_begin(_i);
  uvp_id id;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t_cmd, unload_on_cmd, NULL, NULL, &id), 0);
  unload_in_cb_rc = 1;
  put(t_cmd, "owned");
  expect_outputs(1);
  ck_assert_int_eq(unload_in_cb_rc, 0);
  uvt_rec_is(&out, 0, "owned");
  ck_assert_uint_eq(destroyed(), 2);
  ck_assert_uint_eq(unloaded(), 1);
  ck_assert(uvt_is_mapped(path));
  conf_end();
}
END_TEST

static bool three_registrations(void *arg) {
  (void)arg;
  uvp_plugin_stats st;
  return uvt_stats(&fx, "ref", &st) == 0 && st.registrations == 3;
}

/* S2, L1: closing the host unloads the plugin: each destroy once (its two
 * subscriptions and a pending timer) and one on_unload. */
START_TEST(close_counts) {
  conf_begin(_i);
  put(t_cmd, "timer 100000");
  ck_assert(uvt_run_until(&fx, three_registrations, NULL, 5000));
  conf_end();
  ck_assert_uint_eq(destroyed(), 3);
  ck_assert_uint_eq(unloaded(), 1);
  ck_assert_int_eq(out.n, 0);
}
END_TEST

static Suite *conformance_suite(void) {
  Suite *s = suite_create("conformance");
  TCase *tc = uvt_tcase(s, "events");
  tcase_add_loop_test(tc, echo_in_order, 0, N_PLUGINS);
  tcase_add_loop_test(tc, count_reply, 0, N_PLUGINS);
  tcase_add_loop_test(tc, unsub, 0, N_PLUGINS);
  tcase_add_loop_test(tc, owned_publish, 0, N_PLUGINS);
  tcase_add_loop_test(tc, timer_fires, 0, N_PLUGINS);
  tc = uvt_tcase(s, "faults");
  tcase_add_loop_test(tc, fail_counted, 0, N_PLUGINS);
  tcase_add_loop_test(tc, panic_quarantines, 0, N_PLUGINS);
  tcase_add_loop_test(tc, panic_counted, 0, N_PLUGINS);
  tcase_add_loop_test(tc, wrong_thread, 0, N_PLUGINS);
  tc = uvt_tcase(s, "lifetime");
  tcase_add_loop_test(tc, unload_counts, 0, N_PLUGINS);
  tcase_add_loop_test(tc, unload_with_owned_pending, 0, N_PLUGINS);
  tcase_add_loop_test(tc, close_counts, 0, N_PLUGINS);
  return s;
}

int main(void) { return uvt_main(conformance_suite()); }
