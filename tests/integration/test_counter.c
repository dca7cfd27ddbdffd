/* Named per-instance counters (O4): uvp_api.counter as a plugin and the
 * embedder call it, uvp_host_plugin_counter as the embedder reads them.
 *
 * Plugins: seq_pub.so (counters published, refused) publishes a numbered
 * stream that seq_count.so (received, gaps, out_of_order, last_seq)
 * counts, so the values read back are exact and known.
 */
#include <stdio.h>
#include <string.h>

#include "uvp_test.h"

#define PUB_PATH UVP_TEST_PLUGIN_DIR "/seq_pub.so"
#define COUNT_PATH UVP_TEST_PLUGIN_DIR "/seq_count.so"

static uint64_t counter_of(uvt_fx *fx, const char *plugin, uint32_t index,
                           const char *want_name) {
  const char *name = NULL;
  uint64_t v = 0;
  ck_assert_int_eq(uvp_host_plugin_counter(fx->host, plugin, index, &name, &v),
                   0);
  ck_assert_str_eq(name, want_name);
  return v;
}

static bool count_done(void *arg) {
  uvt_fx *fx = arg;
  const char *name;
  uint64_t v = 0;
  uvp_host_plugin_counter(fx->host, "count", 0, &name, &v);
  return v == 500;
}

/* O4: values are what the plugins wrote, in creation order, ENOENT past
 * the end; a reload starts a new table at 0. */
START_TEST(plugin_counters_read_back) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, COUNT_PATH, "count", "topic=s", NULL),
                   0);
  ck_assert_int_eq(uvp_host_load(fx.host, PUB_PATH, "pub",
                                 "topic=s n=500 batch=100 size=8", NULL),
                   0);
  ck_assert(uvt_run_until(&fx, count_done, &fx, 5000));
  uvt_run_turns(&fx, 3);
  ck_assert_uint_eq(counter_of(&fx, "pub", 0, "published"), 500);
  ck_assert_uint_eq(counter_of(&fx, "pub", 1, "refused"), 0);
  ck_assert_uint_eq(counter_of(&fx, "count", 0, "received"), 500);
  ck_assert_uint_eq(counter_of(&fx, "count", 1, "gaps"), 0);
  ck_assert_uint_eq(counter_of(&fx, "count", 2, "out_of_order"), 0);
  ck_assert_uint_eq(counter_of(&fx, "count", 3, "last_seq"), 500);

  const char *name = "untouched";
  uint64_t v = 77;
  ck_assert_int_eq(uvp_host_plugin_counter(fx.host, "count", 4, &name, &v),
                   UVP_ENOENT);
  ck_assert_str_eq(name, "untouched"); /* out-parameters only on success */
  ck_assert_uint_eq(v, 77);
  ck_assert_int_eq(uvp_host_plugin_counter(fx.host, "nobody", 0, &name, &v),
                   UVP_ENOENT);
  ck_assert_int_eq(uvp_host_plugin_counter(fx.host, "count", 0, NULL, &v),
                   UVP_EINVAL);
  ck_assert_int_eq(uvp_host_plugin_counter(fx.host, "count", 0, &name, NULL),
                   UVP_EINVAL);
  ck_assert_int_eq(uvp_host_plugin_counter(NULL, "count", 0, &name, &v),
                   UVP_EINVAL);

  ck_assert_int_eq(
      uvp_host_reload(fx.host, "count", COUNT_PATH, "topic=s", NULL), 0);
  uvt_run_turns(&fx, 5);
  ck_assert_uint_eq(counter_of(&fx, "count", 0, "received"), 0);
  ck_assert_uint_eq(counter_of(&fx, "count", 3, "last_seq"), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "count"), 0);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(uvp_host_plugin_counter(fx.host, "count", 0, &name, &v),
                   UVP_ENOENT);
  uvt_fx_close(&fx); /* valgrind: every table freed */
}
END_TEST

/* O4: same name, same pointer, starting at 0; bad names and the 33rd name
 * are refused and create nothing. */
START_TEST(counter_names_and_bound) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uint64_t *a = NULL, *a2 = NULL, *b = NULL;
  ck_assert_int_eq(fx.api->counter(fx.ctx, "sent", 4, &a), 0);
  ck_assert_uint_eq(*a, 0);
  *a += 5;
  ck_assert_int_eq(fx.api->counter(fx.ctx, "sent_and_more", 4, &a2), 0);
  ck_assert_ptr_eq(a, a2); /* only len bytes are the name */
  ck_assert_uint_eq(*a2, 5);
  ck_assert_int_eq(fx.api->counter(fx.ctx, "x_9", 3, &b), 0);
  ck_assert_ptr_ne(a, b);

  uint64_t *untouched = (uint64_t *)&fx;
  const char *bad[] = {"", "Sent", "a-b", "a.b", "a b", "\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_int_eq(
        fx.api->counter(fx.ctx, bad[i], strlen(bad[i]), &untouched),
        UVP_EINVAL);
  char longname[UVP_NAME_MAX + 2];
  memset(longname, 'a', sizeof longname);
  ck_assert_int_eq(
      fx.api->counter(fx.ctx, longname, UVP_NAME_MAX + 1, &untouched),
      UVP_EINVAL);
  ck_assert_int_eq(fx.api->counter(fx.ctx, longname, UVP_NAME_MAX, &b), 0);
  ck_assert_int_eq(fx.api->counter(fx.ctx, NULL, 0, &untouched), UVP_EINVAL);
  ck_assert_int_eq(fx.api->counter(fx.ctx, "ok", 2, NULL), UVP_EINVAL);
  ck_assert_int_eq(fx.api->counter(NULL, "ok", 2, &untouched), UVP_EINVAL);
  ck_assert_ptr_eq(untouched, (uint64_t *)&fx);

  /* 3 exist; fill up to UVP_COUNTERS_MAX, then the next name is refused. */
  for (int i = 3; i < UVP_COUNTERS_MAX; i++) {
    char name[16];
    int n = snprintf(name, sizeof name, "c%d", i);
    ck_assert_int_eq(fx.api->counter(fx.ctx, name, (size_t)n, &b), 0);
  }
  ck_assert_int_eq(fx.api->counter(fx.ctx, "one_more", 8, &untouched),
                   UVP_ENOSPC);
  ck_assert_ptr_eq(untouched, (uint64_t *)&fx);
  ck_assert_int_eq(fx.api->counter(fx.ctx, "sent", 4, &a2), 0);
  ck_assert_ptr_eq(a, a2); /* existing names still found when full */
  uvt_fx_close(&fx);
}
END_TEST

static void *call_off_thread(void *arg) {
  uvt_fx *fx = arg;
  uint64_t *c = NULL;
  intptr_t rc = fx->api->counter(fx->ctx, "late", 4, &c);
  return (void *)rc;
}

/* T2 for the new entry: another thread gets UVP_EWRONGTHREAD. */
START_TEST(counter_wrong_thread) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  pthread_t t;
  void *rc;
  ck_assert_int_eq(pthread_create(&t, NULL, call_off_thread, &fx), 0);
  ck_assert_int_eq(pthread_join(t, &rc), 0);
  ck_assert_int_eq((int)(intptr_t)rc, UVP_EWRONGTHREAD);
  uvt_run_turns(&fx, 2);
  uvt_fx_close(&fx);
}
END_TEST

int main(void) {
  Suite *s = suite_create("counter");
  TCase *tc = uvt_tcase(s, "counter");
  tcase_add_test(tc, plugin_counters_read_back);
  tcase_add_test(tc, counter_names_and_bound);
  tcase_add_test(tc, counter_wrong_thread);
  return uvt_main(s);
}
