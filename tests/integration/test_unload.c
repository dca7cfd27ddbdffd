/* Unload: the order of the state machine (U1, R4), self-unload from a
 * callback (U6, S3), other plugins unaffected (U2), and unload-safe
 * objects pinned by remote references (U4, R5).
 *
 * Plugins: selfunload_plugin.so (trace of its hooks and destroys),
 * counter_plugin.so (the bystander), remote_holder.so (unload-safe, a
 * thread of its own holds a remote reference).
 *
 * UVP_TEST_LABELS: tsan
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"

#define SELF_PATH UVP_TEST_PLUGIN_DIR "/selfunload_plugin.so"
#define COUNTER_PATH UVP_TEST_PLUGIN_DIR "/counter_plugin.so"
#define HOLDER_PATH UVP_TEST_PLUGIN_DIR "/remote_holder.so"

/* "-4004" etc., so the expected traces read as the codes they check. */
#define S_(x) #x
#define S(x) S_(x)

static const char *self_trace(void) {
  return uvt_sym_str(SELF_PATH, "uvp_self_trace");
}

static int call_int(const char *path, const char *name) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_msg(dl != NULL, "%s is not mapped", path);
  int (*fn)(void);
  *(void **)&fn = dlsym(dl, name);
  ck_assert_ptr_nonnull(fn);
  int rc = fn();
  dlclose(dl);
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

static void run_until_gone(uvt_fx *fx, const char *name) {
  gone_arg g = {fx, name};
  ck_assert_msg(uvt_run_until(fx, plugin_gone, &g, 5000),
                "%s never finished unloading", name);
}

#define ECLOSED_S S(-4004)

/* U1, R4, S1: on_stop; registrations refused with UVP_ECLOSED inside it;
 * subscriptions and timers destroyed; the post still queued is destroyed
 * without running; on_unload last. */
START_TEST(unload_order) {
  ck_assert_int_eq(UVP_ECLOSED, -4004);
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, SELF_PATH, "self", "post=1", NULL),
                   0);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "self", &st), 0);
  ck_assert_uint_eq(st.post_queued, 1);
  ck_assert_uint_eq(st.registrations, 2);
  /* No loop turn yet: the post is still queued when the unload starts. */
  ck_assert_int_eq(uvp_host_unload(fx.host, "self"), 0);
  ck_assert_int_eq(uvt_stats(&fx, "self", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_DRAINING); /* the post's destroy */
  ck_assert_uint_eq(st.registrations, 0);
  ck_assert_str_eq(self_trace(),
                   "stop,reg=" ECLOSED_S "/" ECLOSED_S "/" ECLOSED_S
                   "/" ECLOSED_S ",destroy:sub,destroy:timer");
  run_until_gone(&fx, "self");
  ck_assert_str_eq(self_trace(), "stop,reg=" ECLOSED_S "/" ECLOSED_S
                                 "/" ECLOSED_S "/" ECLOSED_S
                                 ",destroy:sub,destroy:timer,post:destroy,"
                                 "unload");
  ck_assert_uint_eq(uvt_sym_u64(SELF_PATH, "uvp_self_unloaded"), 1);
  ck_assert(uvt_is_mapped(SELF_PATH)); /* not unload-safe: stays mapped */
  ck_assert_int_eq(uvp_host_unload(fx.host, "self"), UVP_ENOENT);
  uvt_fx_close(&fx);
}
END_TEST

static void publish_n(uvt_fx *fx, uvp_topic t, const char *const *msgs, int n) {
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(uvp_host_publish(fx->host, t, msgs[i], strlen(msgs[i])),
                     0);
}

typedef struct events_arg {
  uint64_t want;
} events_arg;

static bool counter_has(void *arg) {
  events_arg *a = arg;
  return uvt_sym_u64(COUNTER_PATH, "uvp_counter_events") >= a->want;
}

/* U6, S3: unload_self inside the plugin's own subscriber: the callback
 * runs to its end, then the unload runs; the events after "bye" in the
 * same round and every later one never reach it. U2: the counter plugin
 * receives every event, during and after. */
START_TEST(unload_self_in_callback) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(fx.api->unload_self(fx.ctx), UVP_ECLOSED); /* embedder */
  ck_assert_int_eq(
      uvp_host_load(fx.host, COUNTER_PATH, "counter", "topic=self.in", NULL),
      0);
  ck_assert_int_eq(uvp_host_load(fx.host, SELF_PATH, "self", "", NULL), 0);
  uint64_t c0 = uvt_sym_u64(COUNTER_PATH, "uvp_counter_events");
  uvp_topic t = uvt_topic(&fx, "self.in");
  static const char *const round1[] = {"e1", "e2", "bye", "e4", "e5"};
  publish_n(&fx, t, round1, 5);
  events_arg a = {c0 + 5};
  ck_assert(uvt_run_until(&fx, counter_has, &a, 5000));
  run_until_gone(&fx, "self");
  ck_assert_str_eq(self_trace(),
                   "cb:e1,cb:e2,cb:bye,unload_self=0,again=" ECLOSED_S
                   ",cb:end,stop,reg=" ECLOSED_S "/" ECLOSED_S "/" ECLOSED_S
                   "/" ECLOSED_S ",destroy:sub,destroy:timer,unload");
  ck_assert_uint_eq(uvt_sym_u64(SELF_PATH, "uvp_self_events"), 3);
  ck_assert_uint_eq(uvt_sym_u64(SELF_PATH, "uvp_self_unloaded"), 1);

  static const char *const round2[] = {"f1", "f2", "f3", "f4", "f5", "f6"};
  publish_n(&fx, t, round2, 6);
  a.want = c0 + 11;
  ck_assert(uvt_run_until(&fx, counter_has, &a, 5000));
  uvt_run_turns(&fx, 3);
  ck_assert_uint_eq(uvt_sym_u64(COUNTER_PATH, "uvp_counter_events"), c0 + 11);
  ck_assert_uint_eq(uvt_sym_u64(SELF_PATH, "uvp_self_events"), 3);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "counter", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.events, 11);
  ck_assert_uint_eq(st.errors, 0);
  /* The name is free again: the same plugin loads anew. */
  ck_assert_int_eq(uvp_host_load(fx.host, SELF_PATH, "self", "", NULL), 0);
  uvt_fx_close(&fx);
}
END_TEST

/* U2: a plugin unloading by the embedder's hand in the middle of a round
 * does not cost the other plugin a single event. */
START_TEST(bystander_gets_every_event) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, SELF_PATH, "self", "", NULL), 0);
  ck_assert_int_eq(
      uvp_host_load(fx.host, COUNTER_PATH, "counter", "topic=self.in", NULL),
      0);
  uint64_t c0 = uvt_sym_u64(COUNTER_PATH, "uvp_counter_events");
  uvp_topic t = uvt_topic(&fx, "self.in");
  const int n = 1000;
  for (int i = 0; i < n; i++) {
    char msg[16];
    snprintf(msg, sizeof msg, "m%d", i);
    ck_assert_int_eq(uvp_host_publish(fx.host, t, msg, strlen(msg)), 0);
    if (i == n / 2) ck_assert_int_eq(uvp_host_unload(fx.host, "self"), 0);
  }
  events_arg a = {c0 + (uint64_t)n};
  ck_assert(uvt_run_until(&fx, counter_has, &a, 5000));
  uvt_run_turns(&fx, 3);
  ck_assert_uint_eq(uvt_sym_u64(COUNTER_PATH, "uvp_counter_events"),
                    c0 + (uint64_t)n);
  ck_assert_uint_eq(uvt_sym_u64(SELF_PATH, "uvp_self_events"), 0);
  ck_assert_uint_eq(uvt_sym_u64(SELF_PATH, "uvp_self_unloaded"), 1);
  uvt_fx_close(&fx);
}
END_TEST

static bool holder_unmapped(void *arg) {
  (void)arg;
  return !uvt_is_mapped(HOLDER_PATH);
}

/* U4, R5: an unload-safe object stays mapped while a thread holds a
 * remote reference of its plugin; after the last release and a loop turn
 * the host unmaps it. */
START_TEST(unload_safe_waits_for_reference) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert(!uvt_is_mapped(HOLDER_PATH));
  ck_assert_int_eq(uvp_host_load(fx.host, HOLDER_PATH, "holder", "", NULL), 0);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "holder", &st), 0);
  ck_assert_uint_eq(st.remote_refs, 2); /* the plugin's and the thread's */
  int log0 = fx.log.n;
  ck_assert_int_eq(uvp_host_unload(fx.host, "holder"), 0);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(uvt_stats(&fx, "holder", &st), UVP_ENOENT);
  ck_assert_uint_eq(uvt_sym_u64(HOLDER_PATH, "uvp_holder_unloaded"), 1);
  ck_assert(uvt_is_mapped(HOLDER_PATH)); /* pinned by the thread's ref */
  ck_assert_int_eq(uvt_log_count(&fx.log, log0, "1 remote reference"), 1);
  /* The thread posts (refused: R3, R4) and gives its reference back. */
  ck_assert_int_eq(call_int(HOLDER_PATH, "uvp_holder_let_go"), UVP_ECLOSED);
  ck_assert_msg(uvt_run_until(&fx, holder_unmapped, NULL, 100),
                "unload-safe object still mapped after the last release");
  uvt_fx_close(&fx);
}
END_TEST

/* U4, R5: at host close with a reference still held, the object stays
 * mapped, even after the thread's late release. Runs last: the object
 * stays mapped for the rest of the process (CK_FORK=no). */
START_TEST(host_close_keeps_pinned_object) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, HOLDER_PATH, "holder", "", NULL), 0);
  uvt_fx_close_host(&fx);
  ck_assert(uvt_is_mapped(HOLDER_PATH));
  ck_assert_uint_eq(uvt_sym_u64(HOLDER_PATH, "uvp_holder_unloaded"), 1);
  ck_assert_int_eq(call_int(HOLDER_PATH, "uvp_holder_let_go"), UVP_ECLOSED);
  uvt_run_turns(&fx, 3);
  ck_assert(uvt_is_mapped(HOLDER_PATH)); /* never dlclose'd */
  uvt_fx_close(&fx);
}
END_TEST

static Suite *unload_suite(void) {
  Suite *s = suite_create("unload");
  TCase *tc = uvt_tcase(s, "order");
  tcase_add_test(tc, unload_order);
  tcase_add_test(tc, unload_self_in_callback);
  tcase_add_test(tc, bystander_gets_every_event);
  tc = uvt_tcase(s, "unload_safe");
  tcase_add_test(tc, unload_safe_waits_for_reference);
  tcase_add_test(tc, host_close_keeps_pinned_object);
  return s;
}

int main(void) { return uvt_main(unload_suite()); }
