/* Timers (D6, L10): one-shot and repeating, equal-due FIFO, cancel from
 * callbacks, destroy counts. Mirrors src/timer.c. */
#include <stdio.h>
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

typedef struct tmr {
  char name;
  uvt_fx *fx;
  uvp_id id;
  int calls;
  int destroys;
  int destroys_seen_in_cb;
  int cancel_self_on; /* cancel its own id on this call (1-based) */
  struct tmr *cancel_other;
  uint64_t fired_at[8];
  char *log;
} tmr;

static uvt_fx fx;
static char trace[1024];

static void note(const char *s) {
  size_t n = strlen(trace);
  snprintf(trace + n, sizeof trace - n, "%s%s", n ? " " : "", s);
}

static int tmr_cb(uvp_ctx *ctx, void *ud) {
  tmr *t = ud;
  uint64_t now = 0;
  ck_assert_int_eq(t->fx->api->now_ms(ctx, &now), 0);
  if (t->calls < 8) t->fired_at[t->calls] = now;
  t->calls++;
  char s[4] = {t->name, 0};
  note(s);
  if (t->cancel_other != NULL) {
    ck_assert_int_eq(t->fx->api->cancel(ctx, t->cancel_other->id), 0);
    ck_assert_int_eq(t->cancel_other->destroys, 1); /* L1: in cancel */
  }
  if (t->calls == t->cancel_self_on) {
    ck_assert_int_eq(t->fx->api->cancel(ctx, t->id), 0);
    ck_assert_int_eq(t->fx->api->cancel(ctx, t->id), UVP_ESTALE); /* L4 */
  }
  t->destroys_seen_in_cb = t->destroys;
  return 0;
}

static void tmr_destroy(void *ud) {
  tmr *t = ud;
  t->destroys++;
  char s[4] = {'~', t->name, 0};
  note(s);
}

static void tmr_init(tmr *t, char name) {
  memset(t, 0, sizeof *t);
  t->name = name;
  t->fx = &fx;
}

static void tmr_start(tmr *t, uint64_t timeout, uint64_t repeat) {
  ck_assert_int_eq(fx.api->timer_start(fx.ctx, timeout, repeat, tmr_cb, t,
                                       tmr_destroy, &t->id),
                   0);
  ck_assert_uint_ne(t->id, 0);
}

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  trace[0] = '\0';
}
static void teardown(void) { uvt_fx_close(&fx); }

/* D6, L10: a one-shot timer fires once, no earlier than its due time; its
 * destroy runs right after its only call and its id is stale at once. */
START_TEST(one_shot) {
  static tmr a;
  tmr_init(&a, 'A');
  uint64_t start = uv_now(&fx.loop);
  tmr_start(&a, 15, 0);
  ck_assert(uvt_run_until_int(&fx, &a.destroys, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.destroys_seen_in_cb, 0);
  ck_assert_int_eq(a.destroys, 1);
  ck_assert_uint_ge(a.fired_at[0], start + 15);
  ck_assert_str_eq(trace, "A ~A");
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), UVP_ESTALE); /* L10 */
}
END_TEST

/* D6: a repeating timer fires every repeat_ms until cancelled; L2: cancel
 * from inside its own callback, destroy right after it returns. */
START_TEST(repeating_until_cancel) {
  static tmr a;
  tmr_init(&a, 'A');
  a.cancel_self_on = 4;
  tmr_start(&a, 1, 2);
  ck_assert(uvt_run_until_int(&fx, &a.destroys, 1));
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(a.calls, 4);
  ck_assert_int_eq(a.destroys_seen_in_cb, 0);
  ck_assert_int_eq(a.destroys, 1);
  ck_assert_str_eq(trace, "A A A A ~A");
  for (int i = 1; i < 4; i++)
    ck_assert_uint_ge(a.fired_at[i], a.fired_at[i - 1] + 2);
}
END_TEST

/* D6: timers due at the same time fire in the order started; an earlier
 * due time goes first whatever the start order. */
START_TEST(equal_due_fifo) {
  static tmr t[6];
  for (int i = 0; i < 5; i++) {
    tmr_init(&t[i], (char)('a' + i));
    tmr_start(&t[i], 5, 0);
  }
  tmr_init(&t[5], 'z');
  tmr_start(&t[5], 2, 0);
  ck_assert(uvt_run_until_int(&fx, &t[4].destroys, 1));
  ck_assert_str_eq(trace, "z ~z a ~a b ~b c ~c d ~d e ~e");
}
END_TEST

/* L3: a timer cancelling another one due in the same round: the other
 * never fires, and its destroy runs inside cancel (L1). */
START_TEST(cancel_other_in_callback) {
  static tmr a, b;
  tmr_init(&a, 'A');
  tmr_init(&b, 'B');
  a.cancel_other = &b;
  tmr_start(&a, 3, 0);
  tmr_start(&b, 3, 0);
  ck_assert(uvt_run_until_int(&fx, &a.destroys, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(b.calls, 0);
  ck_assert_int_eq(b.destroys, 1);
  ck_assert_str_eq(trace, "A ~B ~A");
}
END_TEST

/* L1: cancel before the timer is due: no call, destroy before cancel
 * returns, the id stale after (L4). */
START_TEST(cancel_before_due) {
  static tmr a, b;
  tmr_init(&a, 'A');
  tmr_init(&b, 'B');
  tmr_start(&a, 5, 0);
  tmr_start(&b, 10, 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), 0);
  ck_assert_int_eq(a.destroys, 1);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), UVP_ESTALE);
  ck_assert(uvt_run_until_int(&fx, &b.destroys, 1));
  ck_assert_int_eq(a.calls, 0);
  ck_assert_str_eq(trace, "~A B ~B");
}
END_TEST

static int restarts, restart_max, since_check;
static void restart_on_check(uv_check_t *h) {
  (void)h;
  since_check = 0;
}

static int restart_cb(uvp_ctx *ctx, void *ud) {
  tmr *t = ud;
  t->calls++;
  /* libuv 1.44 runs timers twice per uv_run(ONCE), then the idle phase:
   * a loop that still turns calls this at most 3 times per check phase. */
  since_check++;
  ck_assert_int_le(since_check, 4);
  if (restarts++ < restart_max) {
    uvp_id id;
    ck_assert_int_eq(
        t->fx->api->timer_start(ctx, 0, 0, restart_cb, t, tmr_destroy, &id), 0);
  }
  return 0;
}

/* D6, libuv#4245: a 0 ms timer started again from its own callback, many
 * times over, runs on a later round each time: the loop keeps turning (the
 * check handle runs between calls); L10: each one-shot is destroyed once. */
START_TEST(restart_from_callback) {
  static tmr a;
  static uv_check_t check;
  tmr_init(&a, 'A');
  restarts = since_check = 0;
  restart_max = uvt_scale(2000);
  ck_assert_int_eq(uv_check_init(&fx.loop, &check), 0);
  ck_assert_int_eq(uv_check_start(&check, restart_on_check), 0);
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 0, 0, restart_cb, &a, tmr_destroy, &a.id), 0);
  ck_assert(uvt_run_until_int(&fx, &a.destroys, restart_max + 1));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(a.calls, restart_max + 1);
  ck_assert_int_eq(a.destroys, restart_max + 1);
  uv_close((uv_handle_t *)&check, NULL);
}
END_TEST

/* L1 at host close: a pending one-shot and a repeating timer are destroyed
 * exactly once each, and neither fires. */
START_TEST(destroy_on_close) {
  static tmr a, b;
  tmr_init(&a, 'A');
  tmr_init(&b, 'B');
  tmr_start(&a, 10000, 0);
  tmr_start(&b, 10000, 5);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(a.destroys, 1);
  ck_assert_int_eq(b.destroys, 1);
  ck_assert_int_eq(a.calls + b.calls, 0);
}
END_TEST

/* F3, L6: bad arguments fail, destroy is not called, out_id untouched. */
START_TEST(bad_args) {
  static tmr a;
  tmr_init(&a, 'A');
  uvp_id id = 0x55;
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 1, 0, NULL, &a, tmr_destroy, &id),
      UVP_EINVAL);
  ck_assert_int_eq(fx.api->timer_start(fx.ctx, 1, (uint64_t)UINT32_MAX + 1,
                                       tmr_cb, &a, tmr_destroy, &id),
                   UVP_EINVAL);
  ck_assert_int_eq(
      fx.api->timer_start(NULL, 1, 0, tmr_cb, &a, tmr_destroy, &id),
      UVP_EINVAL);
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 1, 0, tmr_cb, &a, tmr_destroy, NULL),
      UVP_EINVAL);
  ck_assert_uint_eq(id, 0x55);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(a.destroys, 0);
  ck_assert_int_eq(a.calls, 0);
  /* UINT32_MAX itself is a valid period */
  ck_assert_int_eq(fx.api->timer_start(fx.ctx, 100000, UINT32_MAX, tmr_cb, &a,
                                       tmr_destroy, &id),
                   0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, id), 0);
  ck_assert_int_eq(a.destroys, 1);
}
END_TEST

/* now_ms is the loop's cached time, the clock timers use. */
START_TEST(now_ms_is_uv_now) {
  uint64_t now = 1;
  ck_assert_int_eq(fx.api->now_ms(fx.ctx, &now), 0);
  ck_assert_uint_eq(now, uv_now(&fx.loop));
  ck_assert_int_eq(fx.api->now_ms(fx.ctx, NULL), UVP_EINVAL);
  ck_assert_int_eq(fx.api->now_ms(NULL, &now), UVP_EINVAL);
}
END_TEST

/* Many timers: every one fires once, in due order, and is destroyed. */
static int order_ok = 1, fired;
static uint64_t last_due;
static int due_cb(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  uint64_t due = (uint64_t)(uintptr_t)ud;
  if (due < last_due) order_ok = 0;
  last_due = due;
  fired++;
  return 0;
}

START_TEST(many_timers_due_order) {
  int n = uvt_scale(500);
  fired = 0;
  last_due = 0;
  order_ok = 1;
  for (int i = 0; i < n; i++) {
    uint64_t due = (uint64_t)((i * 7919) % 23);
    uvp_id id;
    ck_assert_int_eq(fx.api->timer_start(fx.ctx, due, 0, due_cb,
                                         (void *)(uintptr_t)due, NULL, &id),
                     0);
  }
  ck_assert(uvt_run_until_int(&fx, &fired, n));
  ck_assert_int_eq(fired, n);
  ck_assert_int_eq(order_ok, 1);
}
END_TEST

/* The heap under random cancels: the survivors fire once each in due
 * order (D6), the cancelled never fire, every destroy runs once (L1). */
typedef struct ht {
  uint64_t due;
  int calls, destroys;
  uvp_id id;
} ht;
static ht hts[400];
static int ht_fired, ht_order_ok;
static uint64_t ht_last;

static int ht_cb(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  ht *h = ud;
  h->calls++;
  if (h->due < ht_last) ht_order_ok = 0;
  ht_last = h->due;
  ht_fired++;
  return 0;
}
static void ht_destroy(void *ud) { ((ht *)ud)->destroys++; }

START_TEST(heap_random_cancels) {
  int n = uvt_valgrind() ? 100 : 400;
  unsigned seed = 12345;
  ht_fired = 0;
  ht_order_ok = 1;
  ht_last = 0;
  for (int i = 0; i < n; i++) {
    memset(&hts[i], 0, sizeof hts[i]);
    seed = seed * 1103515245u + 12345u;
    hts[i].due = (seed >> 16) % 40;
    ck_assert_int_eq(fx.api->timer_start(fx.ctx, hts[i].due, 0, ht_cb, &hts[i],
                                         ht_destroy, &hts[i].id),
                     0);
  }
  int kept = 0;
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    if ((seed >> 16) % 2) {
      ck_assert_int_eq(fx.api->cancel(fx.ctx, hts[i].id), 0);
      ck_assert_int_eq(hts[i].destroys, 1);
    } else {
      kept++;
    }
  }
  ck_assert(uvt_run_until_int(&fx, &ht_fired, kept));
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(ht_fired, kept);
  ck_assert_int_eq(ht_order_ok, 1);
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(hts[i].destroys, 1);
    ck_assert_int_le(hts[i].calls, 1);
  }
}
END_TEST

static Suite *timers_suite(void) {
  Suite *s = suite_create("timers");
  TCase *tc = uvt_tcase(s, "fire");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, one_shot);
  tcase_add_test(tc, repeating_until_cancel);
  tcase_add_test(tc, equal_due_fifo);
  tcase_add_test(tc, restart_from_callback);
  tcase_add_test(tc, many_timers_due_order);
  tc = uvt_tcase(s, "cancel");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, cancel_other_in_callback);
  tcase_add_test(tc, cancel_before_due);
  tcase_add_test(tc, destroy_on_close);
  tcase_add_test(tc, heap_random_cancels);
  tc = uvt_tcase(s, "args");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, bad_args);
  tcase_add_test(tc, now_ms_is_uv_now);
  return s;
}

int main(void) { return uvt_main(timers_suite()); }
