/* uvplugd's /metrics with worker loops (src/uvplugd/metrics_workers.c),
 * linked in directly: the expositions of several workers merged into one,
 * each family once with every worker's samples, a worker label on the
 * per-worker series and none on the process-wide ones (M7). */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "uvp_test.h"

/* Merge n NUL-terminated texts (NULL: a worker that rendered nothing);
 * returns the result NUL-terminated (caller frees). */
static char *merge(const char *const *in, size_t n) {
  char *text[4];
  size_t len[4];
  for (size_t k = 0; k < n; k++) {
    text[k] = in[k] ? strdup(in[k]) : NULL;
    len[k] = in[k] ? strlen(in[k]) : 0;
  }
  char *buf = NULL;
  size_t blen = 0;
  ck_assert_int_eq(uvpd_metrics_merge(text, len, n, &buf, &blen), 0);
  for (size_t k = 0; k < n; k++) free(text[k]);
  char *s = malloc(blen + 1);
  ck_assert_ptr_nonnull(s);
  memcpy(s, buf, blen);
  s[blen] = '\0';
  free(buf);
  return s;
}

static const char w0[] =
    "# HELP uvplug_build_info Versions.\n"
    "# TYPE uvplug_build_info gauge\n"
    "uvplug_build_info{version=\"0.3.0\",library=\"0.3.0\"} 1\n"
    "# HELP uvplug_topics Interned topics.\n"
    "# TYPE uvplug_topics gauge\n"
    "uvplug_topics 3\n"
    "# HELP uvplug_plugin_events_total Events.\n"
    "# TYPE uvplug_plugin_events_total counter\n"
    "uvplug_plugin_events_total{plugin=\"a\"} 5\n"
    "uvplug_plugin_events_total{plugin=\"b\"} 6\n"
    "# HELP process_open_fds Open fds.\n"
    "# TYPE process_open_fds gauge\n"
    "process_open_fds 9\n";

static const char w1[] =
    "# HELP uvplug_build_info Versions.\n"
    "# TYPE uvplug_build_info gauge\n"
    "uvplug_build_info{version=\"0.3.0\",library=\"0.3.0\"} 1\n"
    "# HELP uvplug_topics Interned topics.\n"
    "# TYPE uvplug_topics gauge\n"
    "uvplug_topics 2\n"
    "# HELP uvplug_plugin_events_total Events.\n"
    "# TYPE uvplug_plugin_events_total counter\n"
    "uvplug_plugin_events_total{plugin=\"a\"} 7\n"
    "# HELP uvplug_only_here Only worker 1 has it.\n"
    "# TYPE uvplug_only_here gauge\n"
    "uvplug_only_here 1\n"
    "# HELP process_open_fds Open fds.\n"
    "# TYPE process_open_fds gauge\n"
    "process_open_fds 9\n";

START_TEST(merges_families_with_a_worker_label) {
  const char *in[] = {w0, w1};
  char *got = merge(in, 2);
  static const char want[] =
      "# HELP uvplug_build_info Versions.\n"
      "# TYPE uvplug_build_info gauge\n"
      "uvplug_build_info{version=\"0.3.0\",library=\"0.3.0\"} 1\n"
      "# HELP uvplug_topics Interned topics.\n"
      "# TYPE uvplug_topics gauge\n"
      "uvplug_topics{worker=\"0\"} 3\n"
      "uvplug_topics{worker=\"1\"} 2\n"
      "# HELP uvplug_plugin_events_total Events.\n"
      "# TYPE uvplug_plugin_events_total counter\n"
      "uvplug_plugin_events_total{worker=\"0\",plugin=\"a\"} 5\n"
      "uvplug_plugin_events_total{worker=\"0\",plugin=\"b\"} 6\n"
      "uvplug_plugin_events_total{worker=\"1\",plugin=\"a\"} 7\n"
      "# HELP process_open_fds Open fds.\n"
      "# TYPE process_open_fds gauge\n"
      "process_open_fds 9\n"
      "# HELP uvplug_only_here Only worker 1 has it.\n"
      "# TYPE uvplug_only_here gauge\n"
      "uvplug_only_here{worker=\"1\"} 1\n";
  ck_assert_str_eq(got, want);
  free(got);
}
END_TEST

START_TEST(one_worker_gets_worker_0) {
  const char *in[] = {w0};
  char *got = merge(in, 1);
  ck_assert_ptr_nonnull(strstr(got, "\nuvplug_topics{worker=\"0\"} 3\n"));
  ck_assert_ptr_nonnull(strstr(
      got, "\nuvplug_plugin_events_total{worker=\"0\",plugin=\"b\"} 6\n"));
  ck_assert_ptr_nonnull(strstr(got, "\nprocess_open_fds 9\n"));
  ck_assert_uint_eq(strlen(got), strlen(w0) + 3 * strlen("worker=\"0\",") + 1);
  free(got);
}
END_TEST

START_TEST(a_worker_without_text_is_left_out) {
  const char *in[] = {w0, NULL, w1};
  char *got = merge(in, 3);
  ck_assert_ptr_nonnull(strstr(got, "uvplug_topics{worker=\"2\"} 2\n"));
  ck_assert_ptr_null(strstr(got, "worker=\"1\""));
  free(got);
}
END_TEST

static Suite *merge_suite(void) {
  Suite *s = suite_create("uvpd_merge");
  TCase *tc = uvt_tcase(s, "merge");
  tcase_add_test(tc, merges_families_with_a_worker_label);
  tcase_add_test(tc, one_worker_gets_worker_0);
  tcase_add_test(tc, a_worker_without_text_is_left_out);
  return s;
}

int main(void) { return uvt_main(merge_suite()); }
