/* UVP_TEST_LABELS: tsan */
/* O1 across threads: the inbox's refusals are counted by the producer
 * threads that get UVP_EAGAIN and read on the loop thread; its depth and
 * high water are the loop's. Mirrors the O1 part of src/remote.c. */
#include <string.h>

#include "uvp_test.h"

enum { PRODUCERS = 2, PER_PRODUCER = 50, LIMIT = 4 };

typedef struct producer {
  const uvp_api *api;
  uvp_remote *remote;
  int ok, again, other;
} producer;

static int post_cb(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  (*(int *)user_data)++;
  return 0;
}

static int ran; /* loop thread only */

static void produce(void *arg) {
  producer *p = arg;
  for (int i = 0; i < PER_PRODUCER; i++) {
    int rc =
        p->api->remote_post(p->remote, post_cb, &ran, NULL, UVP_POST_NONBLOCK);
    if (rc == 0)
      p->ok++;
    else if (rc == UVP_EAGAIN)
      p->again++;
    else
      p->other++;
  }
}

/* O1: with the loop not draining, exactly LIMIT posts fit and every other
 * one is refused and counted once; the loop sees them all. */
START_TEST(remote_refusals_balance) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.remote_capacity = LIMIT;
  uvt_fx fx;
  uvt_fx_init(&fx, &o);
  ran = 0;
  uvp_remote *r;
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, &r), 0);
  producer p[PRODUCERS];
  uv_thread_t th[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++) {
    p[i] = (producer){.api = fx.api, .remote = r};
    ck_assert_int_eq(uv_thread_create(&th[i], produce, &p[i]), 0);
  }
  int ok = 0, again = 0;
  for (int i = 0; i < PRODUCERS; i++) {
    ck_assert_int_eq(uv_thread_join(&th[i]), 0);
    ck_assert_int_eq(p[i].other, 0);
    ok += p[i].ok;
    again += p[i].again;
  }
  ck_assert_int_eq(ok, LIMIT);
  ck_assert_int_eq(again, PRODUCERS * PER_PRODUCER - LIMIT);

  uvp_host_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &st), 0);
  ck_assert_uint_eq(st.remote_depth, LIMIT);
  ck_assert_uint_eq(st.remote_high_water, LIMIT);
  ck_assert_uint_eq(st.remote_refused, (uint64_t)again);

  ck_assert(uvt_run_until_int(&fx, &ran, LIMIT));
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &st), 0);
  ck_assert_uint_eq(st.remote_depth, 0);
  ck_assert_uint_eq(st.remote_high_water, LIMIT);
  ck_assert_uint_eq(st.remote_refused, (uint64_t)again);
  fx.api->remote_release(r);
  uvt_fx_close(&fx);
}
END_TEST

int main(void) {
  Suite *s = suite_create("observe_remote");
  TCase *tc = uvt_tcase(s, "remote");
  tcase_add_test(tc, remote_refusals_balance);
  return uvt_main(s);
}
