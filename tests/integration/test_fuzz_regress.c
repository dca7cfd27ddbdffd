/* Regressions found by the fuzzers (fuzz/, issue 12; contract B10), each
 * with the input that found it in fuzz/corpus/<target>/.
 *
 * fuzz_api, fuzz/corpus/api/hook_unload_load_again: uvp_host_unload
 * called inside the plugin's own callback returned 0 (S3: the unload
 * finishes after the callback), but the name stayed taken until then, so
 * loading it again in the same callback failed with UVP_EDUPNAME, against
 * uvp_host_unload's "after it returns 0 the name may be loaded again".
 * And uvp_host_reload of that instance loaded a new one, then returned
 * UVP_ECLOSED from the old one's unload.
 */
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"

#define COUNTER UVP_TEST_PLUGIN_DIR "/counter_plugin.so"

static uvt_fx fx;
static void setup(void) { uvt_fx_init(&fx, NULL); }
static void teardown(void) { uvt_fx_close(&fx); }

typedef struct hook_arg {
  int calls;
  int unload_rc, again_rc, second_unload_rc, reload_rc;
  int reload; /* 1: reload after the unload instead of loading again */
} hook_arg;

/* Runs inside c1's callback on "hook" (counter_plugin.c). */
static void unload_then_again(void *arg) {
  hook_arg *h = arg;
  h->calls++;
  h->unload_rc = uvp_host_unload(fx.host, "c1");
  h->second_unload_rc = uvp_host_unload(fx.host, "c1");
  if (h->reload)
    h->reload_rc = uvp_host_reload(fx.host, "c1", COUNTER, "tag=r", NULL);
  else
    h->again_rc = uvp_host_load(fx.host, COUNTER, "c1", "tag=b", NULL);
}

static void load_hooked(hook_arg *h) {
  char config[128];
  snprintf(config, sizeof config, "tag=a hook=%llx arg=%llx",
           (unsigned long long)(uintptr_t)unload_then_again,
           (unsigned long long)(uintptr_t)h);
  ck_assert_int_eq(uvp_host_load(fx.host, COUNTER, "c1", config, NULL), 0);
  ck_assert_int_eq(
      uvp_host_publish(fx.host, uvt_topic(&fx, "counter.cmd"), "hook", 4), 0);
  ck_assert(uvt_run_until_int(&fx, &h->calls, 1));
  uvt_run_turns(&fx, 3);
}

static uint32_t plugins(void) {
  uvp_host_stats hs = {.size = sizeof hs};
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &hs), 0);
  return hs.plugins;
}

/* S3 and uvp_host_unload's LIFETIME: the name is free once unload returned
 * 0, also from inside the plugin's own callback; a second unload of the
 * instance still finishing says UVP_ECLOSED. */
START_TEST(unload_in_own_callback_frees_name) {
  static hook_arg h;
  memset(&h, 0, sizeof h);
  load_hooked(&h);
  ck_assert_int_eq(h.unload_rc, 0);
  ck_assert_int_eq(h.second_unload_rc, UVP_ECLOSED);
  ck_assert_int_eq(h.again_rc, 0);
  /* the old instance is gone, the new one runs under the name */
  ck_assert_uint_eq(plugins(), 1);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), 0);
  ck_assert_int_eq(st.state, UVP_PLUGIN_RUNNING);
  ck_assert_uint_eq(st.registrations, 2);
}
END_TEST

/* U5: reloading an instance whose unload is already asked for is refused
 * with UVP_ECLOSED and loads nothing. */
START_TEST(reload_after_unload_in_own_callback) {
  static hook_arg h;
  memset(&h, 0, sizeof h);
  h.reload = 1;
  load_hooked(&h);
  ck_assert_int_eq(h.unload_rc, 0);
  ck_assert_int_eq(h.reload_rc, UVP_ECLOSED);
  ck_assert_uint_eq(plugins(), 0);
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(&fx, "c1", &st), UVP_ENOENT);
}
END_TEST

static Suite *fuzz_regress_suite(void) {
  Suite *s = suite_create("fuzz_regress");
  TCase *tc = uvt_tcase(s, "api");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, unload_in_own_callback_frees_name);
  tcase_add_test(tc, reload_after_unload_in_own_callback);
  return s;
}

int main(void) { return uvt_main(fuzz_regress_suite()); }
