/* D8: an owned payload reaches subscribers at the address its publisher
 * gave, also when it is empty, so that a publisher can recognize its own
 * events (the NATS bridge's loop prevention relies on it); a copied
 * payload, local or remote, is NULL when empty.
 */
#include "uvp_test.h"

typedef struct seen {
  int calls;
  const void *data[8];
  size_t len[8];
} seen;

static int record(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  seen *s = user_data;
  if (s->calls < 8) {
    s->data[s->calls] = ev->data;
    s->len[s->calls] = ev->len;
  }
  s->calls++;
  return 0;
}

static int frees;
static void count_free(void *data, size_t len, void *hint) {
  (void)data;
  (void)len;
  (void)hint;
  frees++;
}

START_TEST(owned_payload_keeps_its_address_when_empty) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvp_topic t = uvt_topic(&fx, "t");
  seen s = {0};
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, record, &s, NULL, &id), 0);
  static char buf[16] = "hello";
  frees = 0;
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, buf, 0, count_free, NULL),
                   0);
  ck_assert_int_eq(
      fx.api->publish_owned(fx.ctx, t, buf + 1, 4, count_free, NULL), 0);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, buf, 0), 0);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, NULL, 0), 0);
  uvp_remote *r;
  ck_assert_int_eq(fx.api->remote_new(fx.ctx, &r), 0);
  ck_assert_int_eq(fx.api->remote_publish(r, t, buf, 0, UVP_POST_NONBLOCK), 0);
  ck_assert(uvt_run_until_int(&fx, &s.calls, 5));
  uvt_run_turns(&fx, 2);
  ck_assert_int_eq(s.calls, 5);
  ck_assert_ptr_eq(s.data[0], buf); /* owned, empty: as published */
  ck_assert_uint_eq(s.len[0], 0);
  ck_assert_ptr_eq(s.data[1], buf + 1); /* owned: as published */
  ck_assert_uint_eq(s.len[1], 4);
  ck_assert_ptr_null(s.data[2]); /* copied, empty */
  ck_assert_ptr_null(s.data[3]);
  ck_assert_ptr_null(s.data[4]); /* remote copy, empty */
  ck_assert_int_eq(frees, 2);
  fx.api->remote_release(r);
  uvt_fx_close(&fx);
}
END_TEST

int main(void) {
  Suite *s = suite_create("owned_address");
  TCase *tc = uvt_tcase(s, "owned_address");
  tcase_add_test(tc, owned_payload_keeps_its_address_when_empty);
  return uvt_main(s);
}
