/* The NATS bridge's pure parts (plugins/nats-bridge): the wire frame, the
 * receive-side sequence accounting and the config parser. The bridge as a
 * whole, with a real nats-server, is tested by tests/nats/test_*.sh.
 */
#include <string.h>

#include "config.h"
#include "frame.h"
#include "streams.h"
#include "uvp_test.h"

START_TEST(frame_round_trip_and_layout) {
  unsigned char buf[64];
  nb_frame in = {0, 0x0102030405060708ull, 42, "ev", 2, "hello", 5};
  size_t n = nb_frame_encode(&in, buf);
  ck_assert_uint_eq(n, NB_FRAME_HDR + 2 + 5);
  ck_assert_uint_eq(n, nb_frame_size(2, 5));
  ck_assert_uint_eq(buf[0], NB_FRAME_VERSION);
  ck_assert_uint_eq(buf[2], 2);
  ck_assert_uint_eq(buf[4], 0x08); /* origin little-endian */
  ck_assert_uint_eq(buf[11], 0x01);
  ck_assert_uint_eq(buf[12], 42);
  ck_assert_int_eq(memcmp(buf + 20, "evhello", 7), 0);

  nb_frame out;
  ck_assert_int_eq(nb_frame_decode(buf, n, &out), 0);
  ck_assert_uint_eq(out.flags, 0);
  ck_assert_uint_eq(out.origin, 0x0102030405060708ull);
  ck_assert_uint_eq(out.seq, 42);
  ck_assert_uint_eq(out.topic_len, 2);
  ck_assert_int_eq(memcmp(out.topic, "ev", 2), 0);
  ck_assert_uint_eq(out.len, 5);
  ck_assert_int_eq(memcmp(out.data, "hello", 5), 0);
}
END_TEST

START_TEST(frame_sync_and_bad_input) {
  unsigned char buf[64];
  nb_frame in = {NB_FRAME_SYNC, 7, 9, "t", 1, NULL, 0};
  size_t n = nb_frame_encode(&in, buf);
  nb_frame out;
  ck_assert_int_eq(nb_frame_decode(buf, n, &out), 0);
  ck_assert_uint_eq(out.flags, NB_FRAME_SYNC);
  ck_assert_uint_eq(out.len, 0);
  ck_assert_ptr_null(out.data);
  ck_assert_int_eq(nb_frame_decode(buf, n - 1, &out), -1); /* topic cut */
  ck_assert_int_eq(nb_frame_decode(buf, NB_FRAME_HDR - 1, &out), -1);
  ck_assert_int_eq(nb_frame_decode(NULL, 0, &out), -1);
  buf[0] = NB_FRAME_VERSION + 1;
  ck_assert_int_eq(nb_frame_decode(buf, n, &out), -1);
  buf[0] = NB_FRAME_VERSION;
  buf[2] = 0; /* empty topic */
  ck_assert_int_eq(nb_frame_decode(buf, n, &out), -1);
}
END_TEST

static nb_seen see(nb_streams *s, uint64_t origin, uint32_t topic, uint64_t seq,
                   int sync) {
  nb_seen r;
  ck_assert_int_eq(nb_streams_seen(s, origin, topic, seq, sync, &r), 0);
  return r;
}

/* Delivered + dropped adds up to the last seq, from the baseline on. */
START_TEST(streams_count_gaps_per_stream) {
  nb_streams s = {0};
  ck_assert_uint_eq(see(&s, 1, 1, 5, 0).dropped, 0); /* baseline */
  ck_assert_uint_eq(see(&s, 1, 1, 6, 0).dropped, 0);
  ck_assert_uint_eq(see(&s, 1, 1, 9, 0).dropped, 2); /* 7, 8 */
  nb_seen r = see(&s, 1, 1, 8, 0);                   /* late */
  ck_assert_uint_eq(r.dropped, 0);
  ck_assert_int_eq(r.out_of_order, 1);
  ck_assert_uint_eq(see(&s, 1, 1, 12, 1).dropped, 3); /* sync: 10..12 */
  ck_assert_uint_eq(see(&s, 1, 1, 12, 1).dropped, 0); /* sync repeated */
  r = see(&s, 1, 1, 12, 0); /* a data frame announced lost comes late */
  ck_assert_int_eq(r.out_of_order, 1);
  ck_assert_uint_eq(see(&s, 1, 1, 13, 0).dropped, 0);
  /* Other origin, other topic: streams of their own. */
  ck_assert_uint_eq(see(&s, 2, 1, 100, 0).dropped, 0);
  ck_assert_uint_eq(see(&s, 1, 2, 3, 0).dropped, 0);
  ck_assert_uint_eq(see(&s, 2, 1, 102, 0).dropped, 1);
  ck_assert_uint_eq(see(&s, 1, 1, 15, 0).dropped, 1);
  /* A stream first seen through a sync frame starts at that seq. */
  ck_assert_uint_eq(see(&s, 3, 1, 50, 1).dropped, 0);
  ck_assert_uint_eq(see(&s, 3, 1, 51, 0).dropped, 0);
  for (uint32_t t = 10; t < 40; t++) see(&s, 4, t, 1, 0); /* growth */
  ck_assert_uint_eq(s.n, 4 + 30);
  ck_assert_uint_eq(see(&s, 1, 1, 16, 0).dropped, 0);
  nb_streams_free(&s);
}
END_TEST

START_TEST(config_defaults_and_keys) {
  nb_config c;
  char err[128];
  ck_assert_int_eq(nb_config_parse("out=ev", &c, err, sizeof err), 0);
  ck_assert_str_eq(c.url, "nats://127.0.0.1:4222");
  ck_assert_str_eq(c.prefix, "uvplug.");
  ck_assert_str_eq(c.status, "nats_bridge.status");
  ck_assert_uint_eq(c.n_out, 1);
  ck_assert_str_eq(c.out[0], "ev");
  ck_assert_uint_eq(c.n_in, 0);
  ck_assert_uint_eq(c.buffer, 8u << 20);
  ck_assert_uint_eq(c.sync_ms, 1000);
  ck_assert_int_eq(c.echo, 0);
  nb_config_free(&c);

  ck_assert_int_eq(
      nb_config_parse("url=nats://h:1 prefix=a.b. out=x,y.z in=a.>,q "
                      "status=st buffer=0 inbox=8 pending=9 batch=3 "
                      "sync_ms=0 reconnect_wait_ms=5 echo=1",
                      &c, err, sizeof err),
      0);
  ck_assert_str_eq(c.url, "nats://h:1");
  ck_assert_str_eq(c.prefix, "a.b.");
  ck_assert_uint_eq(c.n_out, 2);
  ck_assert_str_eq(c.out[1], "y.z");
  ck_assert_uint_eq(c.n_in, 2);
  ck_assert_str_eq(c.in[0], "a.>");
  ck_assert_str_eq(c.status, "st");
  ck_assert_uint_eq(c.buffer, 0);
  ck_assert_uint_eq(c.inbox, 8);
  ck_assert_uint_eq(c.pending, 9);
  ck_assert_uint_eq(c.batch, 3);
  ck_assert_uint_eq(c.sync_ms, 0);
  ck_assert_uint_eq(c.reconnect_wait_ms, 5);
  ck_assert_int_eq(c.echo, 1);
  nb_config_free(&c);
  ck_assert_int_eq(nb_config_parse("in=x pending=2097151", &c, err, sizeof err),
                   0);
  ck_assert_uint_eq(c.pending, NB_PENDING_MAX);
  nb_config_free(&c);
}
END_TEST

START_TEST(config_refuses_bad_input) {
  const char *bad[] = {
      "",                  /* nothing to bridge */
      "out=ev colour=red", /* unknown key */
      "out=ev buffer=x",
      "out=ev buffer=-1",
      "out=ev inbox=0",
      "out=ev batch=",
      "out=ev echo=2",
      "out=ev prefix=nodot",
      "out=a*b",
      "out=a..b",
      "out=.a",
      "out=a,,b",
      "out=",
      "in=x,",
      "out=ev novalue",
      "out=ev buffer=99999999999",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nb_config c;
    char err[128] = "";
    ck_assert_msg(nb_config_parse(bad[i], &c, err, sizeof err) == -1,
                  "accepted: %s", bad[i]);
    ck_assert_msg(err[0] != '\0', "no message for: %s", bad[i]);
    nb_config_free(&c);
  }
  ck_assert_int_eq(nb_subject_ok("a.b", 3), 1);
  ck_assert_int_eq(nb_subject_ok("a b", 3), 0);
  ck_assert_int_eq(nb_subject_ok("a.", 2), 0);
  ck_assert_int_eq(nb_subject_ok("", 0), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("nats_bridge");
  TCase *tc = uvt_tcase(s, "nats_bridge");
  tcase_add_test(tc, frame_round_trip_and_layout);
  tcase_add_test(tc, frame_sync_and_bad_input);
  tcase_add_test(tc, streams_count_gaps_per_stream);
  tcase_add_test(tc, config_defaults_and_keys);
  tcase_add_test(tc, config_refuses_bad_input);
  return uvt_main(s);
}
