/* Owned payloads at the end of their publisher (L8, U1, S2, S3, D8):
 * free_fn runs before on_unload, queued events are still delivered from a
 * host copy (dropped at close), and unload_self from a free_fn is honoured.
 *
 * Plugin: owned_plugin.so (publishes owned payloads from on_start; its
 * trace shows whether on_unload had run when each free_fn ran).
 */
#include <stdint.h>
#include <string.h>

#include "uvp_test.h"

#define OWNED_PATH UVP_TEST_PLUGIN_DIR "/owned_plugin.so"

static uvt_fx fx;

static void setup(void) { uvt_fx_init(&fx, NULL); }
static void teardown(void) { uvt_fx_close(&fx); }

static const char *owned_trace(void) {
  return uvt_sym_str(OWNED_PATH, "uvp_owned_trace");
}

static bool gone(void *arg) {
  uvp_plugin_stats st;
  return uvt_stats(arg, "owned", &st) == UVP_ENOENT;
}

/* What the embedder's subscriber saw. */
typedef struct seen {
  int n;
  size_t len[4];
  unsigned char first[4], last[4];
  int misaligned;
  const char *unload_on; /* uvp_host_unload("owned") on the first event */
  int unload_rc;
} seen;

static int seen_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  seen *s = user_data;
  const unsigned char *p = ev->data;
  if (s->n < 4) {
    s->len[s->n] = ev->len;
    s->first[s->n] = p[0];
    s->last[s->n] = p[ev->len - 1];
  }
  if ((uintptr_t)p % _Alignof(max_align_t) != 0) s->misaligned++; /* D8 */
  if (s->n++ == 0 && s->unload_on != NULL)
    s->unload_rc = uvp_host_unload(fx.host, s->unload_on);
  return 0;
}

static void subscribe(seen *s) {
  memset(s, 0, sizeof *s);
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, uvt_topic(&fx, "own.out"), seen_cb,
                                     s, NULL, &id),
                   0);
}

/* L8, U1, D8: unloading a publisher whose owned payloads are still queued
 * runs their free_fn before its on_unload, and the events still reach the
 * subscriber, intact and max_align_t-aligned, from the host's copies (one
 * inline, one on the heap). */
START_TEST(freed_before_on_unload) {
  static seen s;
  subscribe(&s);
  ck_assert_int_eq(uvp_host_load(fx.host, OWNED_PATH, NULL, "3 100", NULL), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "owned"), 0);
  ck_assert_str_eq(owned_trace(), "free:3:alive=1,free:100:alive=1,unload");
  ck_assert(uvt_run_until_int(&fx, &s.n, 2));
  ck_assert_uint_eq(s.len[0], 3);
  ck_assert_int_eq(s.first[0], 'a');
  ck_assert_int_eq(s.last[0], 'a');
  ck_assert_uint_eq(s.len[1], 100);
  ck_assert_int_eq(s.first[1], 'b');
  ck_assert_int_eq(s.last[1], 'b');
  ck_assert_int_eq(s.misaligned, 0);
}
END_TEST

/* L8, U1: unloaded while one of its payloads is being delivered: the queued
 * one is freed at once, the one in flight when its delivery ends; on_unload
 * waits for both. */
START_TEST(freed_before_on_unload_in_flight) {
  static seen s;
  subscribe(&s);
  s.unload_on = "owned";
  ck_assert_int_eq(uvp_host_load(fx.host, OWNED_PATH, NULL, "3 100", NULL), 0);
  ck_assert(uvt_run_until_int(&fx, &s.n, 2));
  ck_assert_int_eq(s.unload_rc, 0);
  ck_assert_str_eq(owned_trace(), "free:100:alive=1,free:3:alive=1,unload");
  ck_assert_uint_eq(s.len[1], 100);
  ck_assert_int_eq(s.first[1], 'b');
  ck_assert(uvt_run_until(&fx, gone, &fx, 100));
}
END_TEST

/* S2, S4, L8: at host close the queued owned payloads are freed before the
 * publisher's on_unload and their events are dropped, not delivered. */
START_TEST(freed_before_on_unload_at_close) {
  static seen s;
  subscribe(&s);
  ck_assert_int_eq(uvp_host_load(fx.host, OWNED_PATH, NULL, "3 100", NULL), 0);
  uvt_fx_close_host(&fx);
  ck_assert_str_eq(owned_trace(), "free:3:alive=1,free:100:alive=1,unload");
  ck_assert_int_eq(s.n, 0);
}
END_TEST

/* S3, U6: unload_self from a free_fn (plugin code after which nothing
 * returns into the host) is accepted and the unload starts on the next loop
 * turn, instead of waiting for a callback that may never come. */
START_TEST(unload_self_in_free_fn) {
  static seen s;
  subscribe(&s);
  ck_assert_int_eq(
      uvp_host_load(fx.host, OWNED_PATH, NULL, "3 unload_in_free", NULL), 0);
  ck_assert(uvt_run_until(&fx, gone, &fx, 100));
  ck_assert_int_eq(s.n, 1);
  ck_assert_str_eq(owned_trace(), "free:3:alive=1,unload_self=0,unload");
  ck_assert_int_eq(uvp_host_unload(fx.host, "owned"), UVP_ENOENT);
}
END_TEST

int main(void) {
  Suite *s = suite_create("owned");
  TCase *tc = uvt_tcase(s, "end_of_publisher");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, freed_before_on_unload);
  tcase_add_test(tc, freed_before_on_unload_in_flight);
  tcase_add_test(tc, freed_before_on_unload_at_close);
  tcase_add_test(tc, unload_self_in_free_fn);
  return uvt_main(s);
}
