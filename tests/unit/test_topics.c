/* Topics: name validation (F4), interning, the topic limit, and unknown
 * topic ids (F5). Mirrors src/topic.c; uses uvp__topic_* internals for the
 * table-driven checks and the public API for the same rules end to end. */
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

/* -- validation table (F4) ---------------------------------------------- */

#define S(lit) lit, sizeof(lit) - 1
static const struct {
  const char *what;
  const char *name;
  size_t len;
  int want;
} name_cases[] = {
    {"ascii", S("metrics.cpu"), 0},
    {"one byte", S("a"), 0},
    {"2-byte utf-8", S("caf\xc3\xa9"), 0},
    {"3-byte utf-8", S("\xe2\x82\xac"), 0},
    {"4-byte utf-8", S("\xf0\x9f\x98\x80"), 0},
    {"max code point", S("\xf4\x8f\xbf\xbf"), 0},
    {"spaces and slashes", S("a b/c"), 0},
    {"empty", S(""), UVP_EINVAL},
    {"NULL", NULL, 0, UVP_EINVAL},
    {"NULL with length", NULL, 3, UVP_EINVAL},
    {"0xff byte", S("bad\xff"), UVP_EINVAL},
    {"lone continuation", S("\x80"), UVP_EINVAL},
    {"overlong '/' 2 bytes", S("\xc0\xaf"), UVP_EINVAL},
    {"overlong NUL 2 bytes", S("\xc0\x80"), UVP_EINVAL},
    {"overlong 3 bytes", S("\xe0\x80\xaf"), UVP_EINVAL},
    {"overlong 4 bytes", S("\xf0\x80\x80\xaf"), UVP_EINVAL},
    {"surrogate high", S("\xed\xa0\x80"), UVP_EINVAL},
    {"surrogate low", S("\xed\xbf\xbf"), UVP_EINVAL},
    {"above U+10FFFF", S("\xf4\x90\x80\x80"), UVP_EINVAL},
    {"5-byte form", S("\xf8\x88\x80\x80\x80"), UVP_EINVAL},
    {"truncated 3-byte", S("\xe2\x82"), UVP_EINVAL},
    {"truncated at end", S("ok\xc3"), UVP_EINVAL},
    {"embedded NUL", S("a\0b"), UVP_EINVAL},
    {"trailing NUL", S("ab\0"), UVP_EINVAL},
};
#undef S

/* F4: topic names are 1..255 bytes of valid UTF-8 without NUL. */
START_TEST(topic_name_validation) {
  int rc = uvp__topic_check(name_cases[_i].name, name_cases[_i].len);
  ck_assert_msg(rc == name_cases[_i].want, "%s: got %d want %d",
                name_cases[_i].what, rc, name_cases[_i].want);
}
END_TEST

static char long_name[UVP_TOPIC_MAX + 2];

static void fill_long_name(void) {
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
}

/* F4: exactly UVP_TOPIC_MAX (255) bytes is fine, 256 is too long. */
START_TEST(topic_name_length_limit) {
  fill_long_name();
  ck_assert_int_eq(uvp__topic_check(long_name, UVP_TOPIC_MAX), 0);
  ck_assert_int_eq(uvp__topic_check(long_name, UVP_TOPIC_MAX + 1), UVP_EINVAL);
  /* a 255-byte name whose last char is a 2-byte sequence is 256 bytes */
  long_name[UVP_TOPIC_MAX - 1] = '\xc3';
  long_name[UVP_TOPIC_MAX] = '\xa9';
  ck_assert_int_eq(uvp__topic_check(long_name, UVP_TOPIC_MAX + 1), UVP_EINVAL);
}
END_TEST

/* The same table through the plugin API: api->topic takes (name, len). */
START_TEST(api_topic_validation) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvp_topic t = 12345;
  int rc = fx.api->topic(fx.ctx, name_cases[_i].name, name_cases[_i].len, &t);
  ck_assert_msg(rc == name_cases[_i].want, "%s: got %d want %d",
                name_cases[_i].what, rc, name_cases[_i].want);
  if (rc == 0)
    ck_assert_uint_ne(t, 0);
  else
    ck_assert_uint_eq(t, 12345); /* written only on success */
  uvt_fx_close(&fx);
}
END_TEST

/* F4 through the embedding API, which takes NUL-terminated names. */
START_TEST(host_topic_validation) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  fill_long_name();
  uvp_topic t = 9;
  long_name[UVP_TOPIC_MAX] = '\0';
  ck_assert_int_eq(uvp_host_topic(fx.host, long_name, &t), 0);
  ck_assert_uint_ne(t, 9);
  t = 9;
  long_name[UVP_TOPIC_MAX] = 'x';
  ck_assert_int_eq(uvp_host_topic(fx.host, long_name, &t), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_topic(fx.host, "", &t), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_topic(fx.host, "bad\xff", &t), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_topic(fx.host, "\xed\xa0\x80", &t), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_topic(fx.host, NULL, &t), UVP_EINVAL);
  ck_assert_uint_eq(t, 9);
  /* F3: NULL out-parameter and NULL host */
  ck_assert_int_eq(uvp_host_topic(fx.host, "ok", NULL), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_topic(NULL, "ok", &t), UVP_EINVAL);
  ck_assert_int_eq(fx.api->topic(fx.ctx, "ok", 2, NULL), UVP_EINVAL);
  ck_assert_int_eq(fx.api->topic(NULL, "ok", 2, &t), UVP_EINVAL);
  uvt_fx_close(&fx);
}
END_TEST

/* -- interning ---------------------------------------------------------- */

static uvp__topics topics;
static void topics_setup(void) { uvp__topics_init(&topics, 4); }
static void topics_teardown(void) { uvp__topics_free(&topics); }

START_TEST(intern_same_name_same_id) {
  uvp_topic a = 0, b = 0, c = 0;
  ck_assert_int_eq(uvp__topic_intern(&topics, "metrics", 7, &a), 0);
  ck_assert_uint_ne(a, 0); /* 0 is never a topic */
  ck_assert_int_eq(uvp__topic_intern(&topics, "metrics", 7, &b), 0);
  ck_assert_uint_eq(a, b);
  /* names need not be NUL-terminated: only len bytes count */
  ck_assert_int_eq(uvp__topic_intern(&topics, "metricsXYZ", 7, &c), 0);
  ck_assert_uint_eq(a, c);
  ck_assert_uint_eq(topics.count, 1);
  uvp__topic *tp = uvp__topic_get(&topics, a);
  ck_assert_ptr_nonnull(tp);
  ck_assert_str_eq(tp->name, "metrics");
  ck_assert_uint_eq(tp->name_len, 7);
}
END_TEST

START_TEST(intern_distinct_names_distinct_ids) {
  static const char *const names[] = {"a", "b", "a.b", "\xc3\xa9"};
  uvp_topic ids[4];
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(
        uvp__topic_intern(&topics, names[i], strlen(names[i]), &ids[i]), 0);
    for (int j = 0; j < i; j++) ck_assert_uint_ne(ids[i], ids[j]);
  }
  for (int i = 0; i < 4; i++) {
    uvp_topic again;
    ck_assert_int_eq(
        uvp__topic_intern(&topics, names[i], strlen(names[i]), &again), 0);
    ck_assert_uint_eq(again, ids[i]);
  }
}
END_TEST

/* The topic limit: ENOSPC past max, while known names still resolve. */
START_TEST(intern_enospc_at_max) {
  uvp_topic t;
  char name[8];
  for (int i = 0; i < 4; i++) {
    int n = snprintf(name, sizeof name, "t%d", i);
    ck_assert_int_eq(uvp__topic_intern(&topics, name, (size_t)n, &t), 0);
  }
  t = 99;
  ck_assert_int_eq(uvp__topic_intern(&topics, "t4", 2, &t), UVP_ENOSPC);
  ck_assert_uint_eq(t, 99);
  ck_assert_int_eq(uvp__topic_intern(&topics, "t2", 2, &t), 0);
  ck_assert_uint_eq(t, 3);
  ck_assert_uint_eq(topics.count, 4);
}
END_TEST

/* Interning grows the hash index: many names keep their ids. */
START_TEST(intern_many) {
  uvp__topics_free(&topics);
  uvp__topics_init(&topics, 5000);
  char name[16];
  for (uint32_t i = 0; i < 3000; i++) {
    int n = snprintf(name, sizeof name, "topic.%u", i);
    uvp_topic t;
    ck_assert_int_eq(uvp__topic_intern(&topics, name, (size_t)n, &t), 0);
    ck_assert_uint_eq(t, i + 1);
  }
  for (uint32_t i = 0; i < 3000; i += 7) {
    int n = snprintf(name, sizeof name, "topic.%u", i);
    uvp_topic t;
    ck_assert_int_eq(uvp__topic_intern(&topics, name, (size_t)n, &t), 0);
    ck_assert_uint_eq(t, i + 1);
  }
}
END_TEST

/* max_topics reaches the public API; every plugin of a host shares ids. */
START_TEST(host_max_topics) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.max_topics = 2;
  uvt_fx fx;
  uvt_fx_init(&fx, &o);
  uvp_topic a, b, c = 77, again;
  ck_assert_int_eq(uvp_host_topic(fx.host, "a", &a), 0);
  ck_assert_int_eq(fx.api->topic(fx.ctx, "b", 1, &b), 0);
  ck_assert_uint_ne(a, b);
  ck_assert_int_eq(uvp_host_topic(fx.host, "c", &c), UVP_ENOSPC);
  ck_assert_int_eq(fx.api->topic(fx.ctx, "c", 1, &c), UVP_ENOSPC);
  ck_assert_uint_eq(c, 77);
  ck_assert_int_eq(fx.api->topic(fx.ctx, "a", 1, &again), 0);
  ck_assert_uint_eq(again, a);
  uvt_fx_close(&fx);
}
END_TEST

/* -- unknown topic ids (F5) --------------------------------------------- */

static const uvp_topic unknown_topics[] = {0, 2, 1000, UINT32_MAX};

static int never_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev;
  ((uvt_rec *)ud)->calls++;
  return 0;
}

/* F5: subscribe, publish and publish_owned with an unknown topic id get
 * UVP_ENOENT; L6: destroy not called and out_id not written. */
START_TEST(unknown_topic_enoent) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvt_topic(&fx, "known"); /* id 1 exists; unknown_topics never do */
  uvp_topic t = unknown_topics[_i];
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvp_id id = 0xABCD;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, never_cb, &rec, uvt_rec_destroy, &id),
      UVP_ENOENT);
  ck_assert_uint_eq(id, 0xABCD);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, "x", 1), UVP_ENOENT);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "x", 1), UVP_ENOENT);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(rec.calls, 0);
  ck_assert_int_eq(rec.destroys, 0);
  uvt_fx_close(&fx);
  ck_assert_int_eq(rec.destroys, 0);
}
END_TEST

/* The event names its topic: id, name and length (uvp_event fields). */
static int name_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx;
  uvt_rec *rec = ud;
  ck_assert_uint_eq(ev->size, sizeof(uvp_event));
  uvt_rec_push(rec, ev->topic, ev->topic_name, ev->topic_name_len);
  ck_assert_uint_eq(strlen(ev->topic_name), ev->topic_name_len);
  return 0;
}

START_TEST(event_names_topic) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvp_topic a = uvt_topic(&fx, "alpha"), b = uvt_topic(&fx, "b\xc3\xa9ta");
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, a, name_cb, &rec, NULL, &id), 0);
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, b, name_cb, &rec, NULL, &id), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, b, "1", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, a, "2", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 2));
  ck_assert_uint_eq(rec.topic[0], b);
  uvt_rec_is(&rec, 0, "b\xc3\xa9ta");
  ck_assert_uint_eq(rec.topic[1], a);
  uvt_rec_is(&rec, 1, "alpha");
  uvt_fx_close(&fx);
}
END_TEST

static Suite *topics_suite(void) {
  Suite *s = suite_create("topics");
  int ncases = (int)(sizeof name_cases / sizeof name_cases[0]);
  TCase *tc = uvt_tcase(s, "check");
  tcase_add_loop_test(tc, topic_name_validation, 0, ncases);
  tcase_add_test(tc, topic_name_length_limit);
  tcase_add_loop_test(tc, api_topic_validation, 0, ncases);
  tcase_add_test(tc, host_topic_validation);
  tc = uvt_tcase(s, "intern");
  tcase_add_checked_fixture(tc, topics_setup, topics_teardown);
  tcase_add_test(tc, intern_same_name_same_id);
  tcase_add_test(tc, intern_distinct_names_distinct_ids);
  tcase_add_test(tc, intern_enospc_at_max);
  tcase_add_test(tc, intern_many);
  tc = uvt_tcase(s, "host");
  tcase_add_test(tc, host_max_topics);
  tcase_add_loop_test(tc, unknown_topic_enoent, 0,
                      (int)(sizeof unknown_topics / sizeof unknown_topics[0]));
  tcase_add_test(tc, event_names_topic);
  return s;
}

int main(void) { return uvt_main(topics_suite()); }
