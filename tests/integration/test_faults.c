/* Faults (F1, F2, F6): a panicking plugin is quarantined (or logged, or
 * aborts) per the fault policy; errors are counted; the other plugins keep
 * receiving every event. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "uvp_test.h"

#define PLUGIN(stem) UVP_TEST_PLUGIN_DIR "/" stem ".so"

static uvt_fx fx;
static uvt_rec rec; /* the embedder, subscribed to f.in after both plugins */
static uvp_topic f_in;
static uint64_t calls0, destroyed0, unloaded0, counter_events0;

static uint64_t panic_u64(const char *sym) {
  return uvt_sym_u64(PLUGIN("panic_plugin"), sym);
}

/* Loads panic_plugin (config given) first, then counter_plugin as "c"
 * counting the same topic, then subscribes the embedder. */
static void faults_begin(int policy, const char *panic_config,
                         const uvp_load_options *panic_opts) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.fault_policy = policy;
  uvt_fx_init(&fx, &o);
  uvt_rec_init(&rec);
  ck_assert_int_eq(uvp_host_load(fx.host, PLUGIN("panic_plugin"), NULL,
                                 panic_config, panic_opts),
                   0);
  ck_assert_int_eq(
      uvp_host_load(fx.host, PLUGIN("counter_plugin"), "c", "topic=f.in", NULL),
      0);
  f_in = uvt_topic(&fx, "f.in");
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, f_in, uvt_rec_cb, &rec, NULL, &id),
                   0);
  calls0 = panic_u64("uvp_panic_calls");
  destroyed0 = panic_u64("uvp_panic_destroyed");
  unloaded0 = panic_u64("uvp_panic_unloaded");
  counter_events0 = uvt_sym_u64(PLUGIN("counter_plugin"), "uvp_counter_events");
}

static void publish_n(int n) {
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(uvp_host_publish(fx.host, f_in, &i, sizeof i), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, n));
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(rec.n, n);
  for (int i = 0; i < n; i++) {
    int v;
    memcpy(&v, rec.data[i], sizeof v);
    ck_assert_int_eq(v, i);
  }
}

/* F6: the counter plugin saw every one of the n events. */
static void counter_saw_all(int n) {
  ck_assert_uint_eq(
      uvt_sym_u64(PLUGIN("counter_plugin"), "uvp_counter_events") -
          counter_events0,
      (uint64_t)n);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "c", &st), 0);
  ck_assert_uint_eq(st.events, (uint64_t)n);
  ck_assert_uint_eq(st.errors, 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
}

/* F1 (quarantine, the default), F6: the panicking plugin is called once,
 * then unloaded with its destroy and on_unload run; the counter plugin and
 * the embedder, later in the same subscriber list, keep receiving every
 * event, including the one whose delivery panicked. */
START_TEST(quarantine_keeps_others) {
  faults_begin(UVP_FAULT_DEFAULT, "", NULL);
  int n = uvt_scale(100);
  int lines = fx.log.n;
  publish_n(n);
  ck_assert_uint_eq(panic_u64("uvp_panic_calls") - calls0, 1);
  ck_assert_uint_eq(panic_u64("uvp_panic_destroyed") - destroyed0, 1);
  ck_assert_uint_eq(panic_u64("uvp_panic_unloaded") - unloaded0, 1);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "panic", &st), UVP_ENOENT);
  ck_assert_int_eq(uvt_log_count(&fx.log, lines, "panicked"), 1);
  counter_saw_all(n);
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "c");
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 1, &name), UVP_ENOENT);
  uvt_fx_close(&fx);
}
END_TEST

/* F1 with UVP_FAULT_LOG: every panic is counted and logged, the plugin
 * keeps running and keeps receiving; F6 the others too. */
START_TEST(log_policy_keeps_plugin) {
  faults_begin(UVP_FAULT_LOG, "", NULL);
  int n = uvt_scale(50);
  publish_n(n);
  ck_assert_uint_eq(panic_u64("uvp_panic_calls") - calls0, (uint64_t)n);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "panic", &st), 0);
  ck_assert_uint_eq(st.panics, (uint64_t)n);
  ck_assert_uint_eq(st.calls, (uint64_t)n);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.registrations, 1);
  ck_assert_uint_eq(panic_u64("uvp_panic_destroyed") - destroyed0, 0);
  counter_saw_all(n);
  uvt_fx_close(&fx);
  ck_assert_uint_eq(panic_u64("uvp_panic_destroyed") - destroyed0, 1);
  ck_assert_uint_eq(panic_u64("uvp_panic_unloaded") - unloaded0, 1);
}
END_TEST

/* F1: the policy can be set per plugin at load (uvp_load_options): the
 * host quarantines by default, this plugin only logs. */
START_TEST(per_plugin_log_policy) {
  uvp_load_options lo = UVP_LOAD_OPTIONS_INIT;
  lo.fault_policy = UVP_FAULT_LOG;
  faults_begin(UVP_FAULT_QUARANTINE, "", &lo);
  int n = uvt_scale(20);
  publish_n(n);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "panic", &st), 0);
  ck_assert_uint_eq(st.panics, (uint64_t)n);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  counter_saw_all(n);
  uvt_fx_close(&fx);
}
END_TEST

/* F2: a callback returning UVP_EINVAL is counted in errors (not panics)
 * and logged; the plugin keeps running under any policy. */
START_TEST(errors_counted) {
  faults_begin(UVP_FAULT_QUARANTINE, "error", NULL);
  int n = uvt_scale(30);
  int lines = fx.log.n;
  publish_n(n);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "panic", &st), 0);
  ck_assert_uint_eq(st.errors, (uint64_t)n);
  ck_assert_uint_eq(st.panics, 0);
  ck_assert_uint_eq(st.calls, (uint64_t)n);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_int_ge(uvt_log_count(&fx.log, lines, "UVP_EINVAL"), 1);
  ck_assert_int_eq(uvt_log_count_from(&fx.log, lines, "c"), 0);
  counter_saw_all(n);
  uvt_fx_close(&fx);
}
END_TEST

/* F1 with UVP_FAULT_ABORT: the process aborts (fork mode only). */
START_TEST(abort_policy_aborts) {
  faults_begin(UVP_FAULT_ABORT, "", NULL);
  int zero = 0;
  ck_assert_int_eq(uvp_host_publish(fx.host, f_in, &zero, sizeof zero), 0);
  uvt_run_turns(&fx, 10);
  ck_abort_msg("UVP_FAULT_ABORT did not abort");
}
END_TEST

static Suite *faults_suite(void) {
  Suite *s = suite_create("faults");
  TCase *tc = uvt_tcase(s, "policy");
  tcase_add_test(tc, quarantine_keeps_others);
  tcase_add_test(tc, log_policy_keeps_plugin);
  tcase_add_test(tc, per_plugin_log_policy);
  tcase_add_test(tc, errors_counted);
  const char *fork = getenv("CK_FORK");
  if (fork == NULL || strcmp(fork, "no") != 0)
    tcase_add_test_raise_signal(tc, abort_policy_aborts, SIGABRT);
  return s;
}

int main(void) { return uvt_main(faults_suite()); }
