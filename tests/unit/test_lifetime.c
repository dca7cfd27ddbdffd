/* Lifetime and ownership (L1, L6-L9, S2): destroy exactly once whichever
 * way a registration ends, failed registrations keep ownership with the
 * caller, owned payloads freed exactly once, copying publish copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static uvt_fx fx;
static char trace[1024];

static void note(const char *s) {
  size_t n = strlen(trace);
  snprintf(trace + n, sizeof trace - n, "%s%s", n ? " " : "", s);
}

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  trace[0] = '\0';
}
static void teardown(void) { uvt_fx_close(&fx); }

typedef struct owner {
  const char *name;
  int calls, destroys;
  bool off_thread;
  uv_thread_t loop_thread;
} owner;

static void owner_init(owner *o, const char *name) {
  memset(o, 0, sizeof *o);
  o->name = name;
  o->loop_thread = uv_thread_self();
}

static void owner_thread(owner *o) {
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &o->loop_thread)) o->off_thread = true;
}

static int o_event(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev;
  owner *o = ud;
  owner_thread(o);
  o->calls++;
  return 0;
}
static int o_timer(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  owner *o = ud;
  owner_thread(o);
  o->calls++;
  return 0;
}
static int o_fd(uvp_ctx *ctx, int fd, int st, int ev, void *ud) {
  (void)ctx, (void)fd, (void)st, (void)ev;
  owner *o = ud;
  owner_thread(o);
  o->calls++;
  return 0;
}
static void o_destroy(void *ud) {
  owner *o = ud;
  owner_thread(o);
  o->destroys++;
  char s[64];
  snprintf(s, sizeof s, "~%s", o->name);
  note(s);
}

/* -- destroy exactly once (L1) ------------------------------------------ */

enum { K_SUB, K_TIMER, K_FD, N_KINDS };
static const char *const kind_names[] = {"subscription", "timer", "fd watch"};
static int sv[2];

static uvp_id reg_kind(int kind, owner *o) {
  uvp_id id = 0;
  uvp_topic t = uvt_topic(&fx, "t");
  int rc = -1;
  switch (kind) {
    case K_SUB:
      rc = fx.api->subscribe(fx.ctx, t, o_event, o, o_destroy, &id);
      break;
    case K_TIMER:
      rc = fx.api->timer_start(fx.ctx, 100000, 0, o_timer, o, o_destroy, &id);
      break;
    case K_FD:
      ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
      rc = fx.api->fd_watch(fx.ctx, sv[0], UVP_FD_READABLE, o_fd, o, o_destroy,
                            &id);
      break;
  }
  ck_assert_msg(rc == 0, "%s: %d", kind_names[kind], rc);
  return id;
}

static void unreg_kind(int kind) {
  if (kind == K_FD) {
    close(sv[0]);
    close(sv[1]);
  }
}

/* L1: cancel: destroy runs once, on the loop thread, before cancel
 * returns; a second cancel is UVP_ESTALE and destroys nothing (L4). */
START_TEST(destroy_once_on_cancel) {
  static owner o;
  owner_init(&o, "o");
  uvp_id id = reg_kind(_i, &o);
  ck_assert_int_eq(o.destroys, 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, id), 0);
  ck_assert_int_eq(o.destroys, 1);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, id), UVP_ESTALE);
  uvt_run_turns(&fx, 3);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(o.destroys, 1);
  ck_assert_int_eq(o.calls, 0);
  ck_assert(!o.off_thread); /* T1 */
  unreg_kind(_i);
}
END_TEST

/* L1, S2: host close destroys every live registration exactly once, on
 * the loop thread, before on_closed runs. */
START_TEST(destroy_once_on_close) {
  static owner o;
  owner_init(&o, "o");
  reg_kind(_i, &o);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(o.destroys, 1);
  ck_assert(!o.off_thread);
  unreg_kind(_i);
}
END_TEST

static int closed_seen_destroys = -1;
static owner *close_watch;
static void on_closed_order(void *data) {
  (void)data;
  closed_seen_destroys = close_watch->destroys;
  note("closed");
}

/* S2: on_closed runs once, after every destroy and every owned free. */
static void free_note(void *data, size_t len, void *hint) {
  (void)len, (void)hint;
  note("free");
  free(data);
}

START_TEST(close_order) {
  static owner a, b;
  owner_init(&a, "a");
  owner_init(&b, "b");
  close_watch = &b;
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, o_event, &a, o_destroy, &id),
                   0);
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 100000, 1, o_timer, &b, o_destroy, &id), 0);
  char *p = malloc(4);
  memcpy(p, "abcd", 4);
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, p, 4, free_note, NULL), 0);
  ck_assert_int_eq(uvp_host_close(fx.host, on_closed_order, NULL), 0);
  ck_assert_int_eq(uvp_host_close(fx.host, on_closed_order, NULL),
                   UVP_ECLOSED); /* S2: second close */
  fx.host = NULL;
  for (int i = 0; i < 1000 && closed_seen_destroys < 0; i++)
    uvt_run_turns(&fx, 1);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(closed_seen_destroys, 1);
  ck_assert_int_eq(a.destroys, 1);
  ck_assert_int_eq(b.destroys, 1);
  ck_assert_int_eq(a.calls, 0); /* dropped, never delivered */
  /* each destroy and the free exactly once, all before on_closed */
  ck_assert_int_eq(strcmp(trace + strlen(trace) - strlen("closed"), "closed"),
                   0);
  int frees = 0;
  for (const char *q = trace; (q = strstr(q, "free")) != NULL; q++) frees++;
  ck_assert_int_eq(frees, 1);
  ck_assert_ptr_nonnull(strstr(trace, "~a"));
  ck_assert_ptr_nonnull(strstr(trace, "~b"));
}
END_TEST

/* -- failed registration keeps ownership (L6) --------------------------- */

enum {
  F_SUB_TOPIC,
  F_SUB_CB,
  F_TIMER_CB,
  F_TIMER_REPEAT,
  F_FD_EVENTS,
  F_FD_CB,
  F_FD_REGULAR,
  N_FAIL
};
static const struct {
  const char *what;
  int want;
} fail_cases[] = {
    {"subscribe: unknown topic", UVP_ENOENT},
    {"subscribe: NULL cb", UVP_EINVAL},
    {"timer_start: NULL cb", UVP_EINVAL},
    {"timer_start: repeat too big", UVP_EINVAL},
    {"fd_watch: events 0", UVP_EINVAL},
    {"fd_watch: NULL cb", UVP_EINVAL},
    {"fd_watch: regular file", UVP_EINVAL}, /* F3: no raw libuv code */
};

/* L6: when a registration fails, destroy is never called, out_id is not
 * written, and user_data stays the caller's; L8 likewise for a failed
 * publish_owned. */
START_TEST(failed_registration_keeps_ownership) {
  static owner o;
  owner_init(&o, "o");
  uvp_topic t = uvt_topic(&fx, "t");
  int sp[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  uvp_id id = 0xC0FFEE;
  int rc = 0;
  switch (_i) {
    case F_SUB_TOPIC:
      rc = fx.api->subscribe(fx.ctx, t + 100, o_event, &o, o_destroy, &id);
      break;
    case F_SUB_CB:
      rc = fx.api->subscribe(fx.ctx, t, NULL, &o, o_destroy, &id);
      break;
    case F_TIMER_CB:
      rc = fx.api->timer_start(fx.ctx, 0, 0, NULL, &o, o_destroy, &id);
      break;
    case F_TIMER_REPEAT:
      rc = fx.api->timer_start(fx.ctx, 0, 1ull << 40, o_timer, &o, o_destroy,
                               &id);
      break;
    case F_FD_EVENTS:
      rc = fx.api->fd_watch(fx.ctx, sp[0], 0, o_fd, &o, o_destroy, &id);
      break;
    case F_FD_CB:
      rc = fx.api->fd_watch(fx.ctx, sp[0], UVP_FD_READABLE, NULL, &o, o_destroy,
                            &id);
      break;
    case F_FD_REGULAR:
      rc = fx.api->fd_watch(fx.ctx, fileno(f), UVP_FD_READABLE, o_fd, &o,
                            o_destroy, &id);
      break;
  }
  ck_assert_msg(rc == fail_cases[_i].want, "%s: got %d want %d",
                fail_cases[_i].what, rc, fail_cases[_i].want);
  ck_assert_uint_eq(id, 0xC0FFEE);
  ck_assert_uint_eq(fx.ctx->registrations, 0);
  ck_assert_uint_eq(fx.host->reg.live, 0);
  ck_assert_int_eq(write(sp[1], "x", 1), 1);
  uvt_run_turns(&fx, 5);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(o.destroys, 0);
  ck_assert_int_eq(o.calls, 0);
  close(sp[0]);
  close(sp[1]);
  fclose(f);
}
END_TEST

/* -- owned payloads (L8) ------------------------------------------------ */

typedef struct owned {
  int frees;
  int subscribers_seen; /* deliveries counted when free_fn ran */
  const void *data;
  size_t len;
  void *hint;
  bool off_thread;
  uv_thread_t loop_thread;
} owned;

static int deliveries;
static owned ow;

static int count_delivery(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ud;
  deliveries++;
  ck_assert_ptr_eq(ev->data, ow.data); /* not copied: the same buffer */
  ck_assert_uint_eq(ev->len, ow.len);
  return 0;
}

static void owned_free(void *data, size_t len, void *hint) {
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &ow.loop_thread)) ow.off_thread = true;
  ow.frees++;
  ow.subscribers_seen = deliveries;
  ck_assert_ptr_eq(data, ow.data);
  ck_assert_uint_eq(len, ow.len);
  ck_assert_ptr_eq(hint, ow.hint);
  free(data);
}

static void owned_reset(size_t len) {
  memset(&ow, 0, sizeof ow);
  ow.loop_thread = uv_thread_self();
  deliveries = 0;
  char *p = malloc(len);
  memset(p, 'o', len);
  ow.data = p;
  ow.len = len;
  ow.hint = &ow;
}

/* L8: free_fn runs exactly once, on the loop thread, after all three
 * subscribers saw the event, with the data, len and hint given. */
START_TEST(owned_freed_after_all_subscribers) {
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(
        fx.api->subscribe(fx.ctx, t, count_delivery, NULL, NULL, &id), 0);
  owned_reset(_i == 0 ? 5 : 4096);
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, (void *)ow.data, ow.len,
                                         owned_free, ow.hint),
                   0);
  ck_assert_int_eq(ow.frees, 0);
  ck_assert(uvt_run_until_int(&fx, &ow.frees, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(ow.frees, 1);
  ck_assert_int_eq(ow.subscribers_seen, 3);
  ck_assert_int_eq(deliveries, 3);
  ck_assert(!ow.off_thread); /* T1 */
}
END_TEST

/* L8: with no subscriber the payload is still freed once. */
START_TEST(owned_freed_without_subscribers) {
  uvp_topic t = uvt_topic(&fx, "nobody");
  owned_reset(8);
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, (void *)ow.data, ow.len,
                                         owned_free, ow.hint),
                   0);
  ck_assert(uvt_run_until_int(&fx, &ow.frees, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(ow.frees, 1);
}
END_TEST

/* L8, S2: an owned event never dispatched is freed once at host close. */
START_TEST(owned_freed_on_close) {
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, count_delivery, NULL, NULL, &id), 0);
  owned_reset(100);
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, (void *)ow.data, ow.len,
                                         owned_free, ow.hint),
                   0);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(ow.frees, 1);
  ck_assert_int_eq(ow.subscribers_seen, 0);
  ck_assert_int_eq(deliveries, 0);
  ck_assert(!ow.off_thread);
}
END_TEST

/* L8: a failed publish_owned never calls free_fn; the caller still owns. */
START_TEST(owned_failed_publish_not_freed) {
  uvp_topic t = uvt_topic(&fx, "t");
  owned_reset(8);
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t + 50, (void *)ow.data,
                                         ow.len, owned_free, ow.hint),
                   UVP_ENOENT);
  ck_assert_int_eq(fx.api->publish_owned(NULL, t, (void *)ow.data, ow.len,
                                         owned_free, ow.hint),
                   UVP_EINVAL);
  uvt_run_turns(&fx, 3);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(ow.frees, 0);
  free((void *)ow.data); /* still ours */
}
END_TEST

/* -- copying publish (L9) and borrowed events (L7) ---------------------- */

static uvt_rec rec;

/* L9: the payload is copied before publish returns; the caller reuses its
 * buffer at once and subscribers see the original bytes. */
START_TEST(copying_publish_copies) {
  uvp_topic t = uvt_topic(&fx, "t");
  uvt_rec_init(&rec);
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, uvt_rec_cb, &rec, NULL, &id),
                   0);
  static const size_t sizes[] = {3, 40, 41, 250};
  char *buf = malloc(300);
  for (int i = 0; i < 4; i++) {
    memset(buf, 'A' + i, sizes[i]);
    if (i % 2 == 0)
      ck_assert_int_eq(uvp_host_publish(fx.host, t, buf, sizes[i]), 0);
    else
      ck_assert_int_eq(fx.api->publish(fx.ctx, t, buf, sizes[i]), 0);
    memset(buf, '#', 300);
  }
  free(buf); /* gone before any delivery */
  ck_assert(uvt_run_until_int(&fx, &rec.n, 4));
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_eq(rec.len[i], sizes[i]);
    for (size_t j = 0; j < sizes[i]; j++)
      ck_assert_int_eq(rec.data[i][j], 'A' + i);
  }
}
END_TEST

static const uvp_event *seen_ev;
static int borrow_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ud;
  /* L7: valid for the whole call: every byte readable, fields coherent */
  ck_assert_uint_eq(ev->size, sizeof(uvp_event));
  const unsigned char *p = ev->data;
  for (size_t i = 0; i < ev->len; i++) ck_assert_int_eq(p[i], (int)(i & 0xff));
  ck_assert_str_eq(ev->topic_name, "t");
  seen_ev = ev;
  deliveries++;
  return 0;
}

/* L7: the event and its data are borrowed for the call; the host frees its
 * copy afterwards (valgrind/ASan report a leak or an invalid read here). */
START_TEST(event_borrowed_for_call) {
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  deliveries = 0;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, borrow_cb, NULL, NULL, &id), 0);
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, borrow_cb, NULL, NULL, &id), 0);
  unsigned char big[1000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)i;
  ck_assert_int_eq(uvp_host_publish(fx.host, t, big, sizeof big), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, big, 10), 0);
  ck_assert(uvt_run_until_int(&fx, &deliveries, 4));
  ck_assert_ptr_nonnull(seen_ev);
}
END_TEST

/* L1: destroy may register again: the new registration is independent. */
static owner chained;
static void destroy_reregisters(void *ud) {
  (void)ud;
  uvp_id id;
  if (fx.host != NULL)
    ck_assert_int_eq(
        fx.api->timer_start(fx.ctx, 0, 0, o_timer, &chained, o_destroy, &id),
        0);
}

START_TEST(destroy_may_register) {
  owner_init(&chained, "chained");
  uvp_id id;
  ck_assert_int_eq(fx.api->timer_start(fx.ctx, 100000, 0, o_timer, NULL,
                                       destroy_reregisters, &id),
                   0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, id), 0);
  ck_assert(uvt_run_until_int(&fx, &chained.destroys, 1));
  ck_assert_int_eq(chained.calls, 1);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, id), UVP_ESTALE);
}
END_TEST

/* S2: closing the host from inside a subscriber callback is safe: close
 * returns 0, the rest is torn down on later turns, every destroy runs
 * once, queued events are dropped, and on_closed runs once. */
static owner in_cb_a, in_cb_b;
static int in_cb_closed, in_cb_rc = 1;
static void in_cb_on_closed(void *data) {
  (void)data;
  in_cb_closed++;
}
static int close_in_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx, (void)ev, (void)ud;
  in_cb_rc = uvp_host_close(fx.host, in_cb_on_closed, NULL);
  return 0;
}

START_TEST(close_from_callback) {
  owner_init(&in_cb_a, "a");
  owner_init(&in_cb_b, "b");
  in_cb_closed = 0;
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, close_in_cb, NULL, NULL, &id),
                   0);
  ck_assert_int_eq(
      fx.api->subscribe(fx.ctx, t, o_event, &in_cb_a, o_destroy, &id), 0);
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 100000, 0, o_timer, &in_cb_b, o_destroy, &id),
      0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "1", 1), 0);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "2", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &in_cb_closed, 1));
  fx.host = NULL;
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(in_cb_rc, 0);
  ck_assert_int_eq(in_cb_closed, 1);
  ck_assert_int_eq(in_cb_a.destroys, 1);
  ck_assert_int_eq(in_cb_b.destroys, 1);
  /* the round in flight may finish; the queued "2" never arrives */
  ck_assert_int_le(in_cb_a.calls, 1);
  ck_assert_int_eq(in_cb_b.calls, 0);
}
END_TEST

static Suite *lifetime_suite(void) {
  Suite *s = suite_create("lifetime");
  TCase *tc = uvt_tcase(s, "destroy");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, destroy_once_on_cancel, 0, N_KINDS);
  tcase_add_loop_test(tc, destroy_once_on_close, 0, N_KINDS);
  tcase_add_test(tc, close_order);
  tcase_add_test(tc, destroy_may_register);
  tcase_add_test(tc, close_from_callback);
  tc = uvt_tcase(s, "failure");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, failed_registration_keeps_ownership, 0, N_FAIL);
  tc = uvt_tcase(s, "owned");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, owned_freed_after_all_subscribers, 0, 2);
  tcase_add_test(tc, owned_freed_without_subscribers);
  tcase_add_test(tc, owned_freed_on_close);
  tcase_add_test(tc, owned_failed_publish_not_freed);
  tc = uvt_tcase(s, "copy");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, copying_publish_copies);
  tcase_add_test(tc, event_borrowed_for_call);
  return s;
}

int main(void) { return uvt_main(lifetime_suite()); }
