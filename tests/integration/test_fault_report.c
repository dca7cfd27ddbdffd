/* Faults a plugin reports itself (F7) and its instance name (ABI 1.2).
 *
 * Plugin: fault_report.so (see its header for what each event does).
 */
#include <string.h>

#include "uvp_test.h"

#define FR_PATH UVP_TEST_PLUGIN_DIR "/fault_report.so"

static const char *fr_trace(void) {
  return uvt_sym_str(FR_PATH, "uvp_fr_trace");
}

static void send_in(uvt_fx *fx, const char *what) {
  uvp_topic in = uvt_topic(fx, "fr.in");
  ck_assert_int_eq(fx->api->publish(fx->ctx, in, what, strlen(what)), 0);
  uvt_run_turns(fx, 4);
}

static int state_of(uvt_fx *fx, const char *name) {
  uvp_plugin_stats st;
  int rc = uvt_stats(fx, name, &st);
  return rc < 0 ? rc : st.state;
}

/* ABI 1.2: instance_name gives the name the embedder chose at load. */
START_TEST(instance_name_is_the_load_name) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "fr.name");
  ck_assert_int_eq(uvp_host_load(fx.host, FR_PATH, "my-fr", "", NULL), 0);
  uvt_run_turns(&fx, 4);
  ck_assert_int_eq(rec.n, 1);
  uvt_rec_is(&rec, 0, "my-fr");
  uvt_fx_close(&fx);
}
END_TEST

/* F7: a fault reported from a destroy (cancel inside a callback) with a
 * status other than UVP_EPANIC is counted in errors and logged; the plugin
 * keeps running. Bad statuses get UVP_EINVAL (F3) and count nothing. */
START_TEST(reported_error_is_counted_not_quarantined) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, FR_PATH, "fr", "", NULL), 0);
  send_in(&fx, "bad");
  send_in(&fx, "cancel");
  ck_assert_str_eq(fr_trace(),
                   "zero=-22,positive=-22,nullmsg=-22,fault=0,cancel=0");
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "fr", &st), 0);
  ck_assert_uint_eq(st.errors, 1);
  ck_assert_uint_eq(st.panics, 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "timer destroy fault"), 1);
  uvt_fx_close(&fx);
}
END_TEST

static bool reported(void *arg) {
  (void)arg;
  return strstr(fr_trace(), "fault=0") != NULL;
}

/* F7, F1: a reported panic quarantines a running plugin: no on_stop, every
 * destroy runs (the timer's reports again, only counted), then unloaded. */
START_TEST(reported_panic_quarantines) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, FR_PATH, "fr", "", NULL), 0);
  uvp_topic in = uvt_topic(&fx, "fr.in");
  ck_assert_int_eq(fx.api->publish(fx.ctx, in, "panic", 5), 0);
  /* quarantined when the callback returns, unloaded on the next turn */
  ck_assert(uvt_run_until(&fx, reported, NULL, 5000));
  ck_assert_int_eq(state_of(&fx, "fr"), UVP_PLUGIN_QUARANTINED);
  uvt_run_turns(&fx, 4);
  ck_assert_int_eq(state_of(&fx, "fr"), UVP_ENOENT);
  ck_assert_uint_eq(uvt_sym_u64(FR_PATH, "uvp_fr_stops"), 0);
  ck_assert_str_eq(fr_trace(), "fault=0,fault=0");
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "reported panic"), 1);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "quarantined"), 1);
  uvt_fx_close(&fx);
}
END_TEST

/* F7: a panic reported from on_stop is logged and counted; the unload
 * goes on as it was (the plugin is stopping, so no quarantine). */
START_TEST(reported_panic_in_stop_is_logged) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, FR_PATH, "fr", "", NULL), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "fr"), 0);
  uvt_run_turns(&fx, 4);
  ck_assert_int_eq(state_of(&fx, "fr"), UVP_ENOENT);
  ck_assert_str_eq(fr_trace(), "fault=0,fault=0");
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "panic in stop"), 1);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "quarantined"), 0);
  uvt_fx_close(&fx);
}
END_TEST

static Suite *fault_report_suite(void) {
  Suite *s = suite_create("fault_report");
  TCase *tc = tcase_create("fault");
  tcase_set_timeout(tc, uvt_timeout());
  tcase_add_test(tc, instance_name_is_the_load_name);
  tcase_add_test(tc, reported_error_is_counted_not_quarantined);
  tcase_add_test(tc, reported_panic_quarantines);
  tcase_add_test(tc, reported_panic_in_stop_is_logged);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return uvt_main(fault_report_suite()); }
