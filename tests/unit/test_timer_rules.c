/* Timer rules at the edges (D6, L10): a 0 ms timer re-arming itself for a
 * second of loop time next to other timers and handles (libuv#4245), the
 * start sequence past the point where the old 32-bit one wrapped, and host
 * close in the middle of a due round. Mirrors src/timer.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

/* Calls of one timer between two runs of the test's check handle. libuv
 * 1.44 runs timers twice per uv_run(ONCE) (before the idle phase and after
 * the check phase), and a due round runs from the host's idle handle, so a
 * healthy loop stays at 3; a frozen one reaches any bound within a second. */
#define PER_TURN_MAX 4

/* Loop time the 0 ms timer keeps re-arming for. */
#define SPIN_MS 1000

static uvt_fx fx;
static uv_check_t check;
static uv_idle_t idle;
static int checks, idles;

static void on_check(uv_check_t *h);
static void on_idle(uv_idle_t *h) {
  (void)h;
  idles++;
}

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  checks = idles = 0;
  ck_assert_int_eq(uv_check_init(&fx.loop, &check), 0);
  ck_assert_int_eq(uv_idle_init(&fx.loop, &idle), 0);
}

static void teardown(void) {
  uv_close((uv_handle_t *)&check, NULL);
  uv_close((uv_handle_t *)&idle, NULL);
  uvt_fx_close(&fx);
}

/* ---- 0 ms re-arm -------------------------------------------------------- */

/* Timers that re-arm at 0 ms: a one-shot starting itself again from its
 * callback, or two one-shots starting each other. (repeat_ms 0 means
 * one-shot, so a repeating timer cannot have a 0 ms period.) */
typedef struct spin {
  struct spin *next; /* the one this callback starts */
  uvp_id id, prev;
  int calls, destroys;
} spin;

/* The 5 ms repeating timer beside them. */
typedef struct tick {
  uvp_id id;
  int calls, destroys;
  uint64_t last;
} tick;

static spin sp[2];
static spin *pending;   /* the 0 ms timer started last */
static int since_check; /* 0 ms calls since the check handle last ran */
static tick tk;

static void on_check(uv_check_t *h) {
  (void)h;
  checks++;
  since_check = 0;
}

static void spin_destroy(void *ud) { ((spin *)ud)->destroys++; }

static int spin_cb(uvp_ctx *ctx, void *ud) {
  spin *s = ud;
  s->calls++;
  /* The watchdog: on a frozen loop the check handle never runs again. */
  since_check++;
  ck_assert_int_le(since_check, PER_TURN_MAX);
  if (s->prev != 0) /* L10: the one fired before is stale */
    ck_assert_int_eq(fx.api->cancel(ctx, s->prev), UVP_ESTALE);
  s->prev = s->id;
  pending = s->next;
  ck_assert_int_eq(fx.api->timer_start(ctx, 0, 0, spin_cb, s->next,
                                       spin_destroy, &s->next->id),
                   0);
  return 0;
}

static void tick_destroy(void *ud) { ((tick *)ud)->destroys++; }

static int tick_cb(uvp_ctx *ctx, void *ud) {
  tick *t = ud;
  uint64_t now = 0;
  ck_assert_int_eq(fx.api->now_ms(ctx, &now), 0);
  if (t->calls++ > 0) ck_assert_uint_ge(now, t->last + 5); /* D6 */
  t->last = now;
  return 0;
}

static uint64_t spin_until;
static bool spun(void *arg) {
  (void)arg;
  return uv_now(&fx.loop) >= spin_until;
}

/* Starts sp[0] at 0 ms; it re-arms itself (n = 1) or sp[1] (n = 2). */
static void spin_start(int n, uvp_timer_cb cb) {
  memset(sp, 0, sizeof sp);
  since_check = 0;
  sp[0].next = &sp[n - 1];
  sp[1].next = &sp[0];
  pending = &sp[0];
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 0, 0, cb, &sp[0], spin_destroy, &sp[0].id),
      0);
}

static void tick_start(tick *t) {
  memset(t, 0, sizeof *t);
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, 5, 5, tick_cb, t, tick_destroy, &t->id), 0);
}

/* D6, libuv#4245: 0 ms re-arms (_i = 0: a one-shot restarting itself, _i =
 * 1: two restarting each other) fire a bounded number of times per loop
 * iteration, for a second of loop time, while a 5 ms repeating timer still
 * fires on time and the test's own idle and check handles still run. L10:
 * each fired one-shot is destroyed once and its id is stale. */
START_TEST(zero_ms_rearm_keeps_loop_running) {
  spin_start(_i + 1, spin_cb);
  tick_start(&tk);
  ck_assert_int_eq(uv_check_start(&check, on_check), 0);
  ck_assert_int_eq(uv_idle_start(&idle, on_idle), 0);
  spin_until = uv_now(&fx.loop) + (uvt_valgrind() ? SPIN_MS / 10 : SPIN_MS);
  ck_assert(uvt_run_until(&fx, spun, NULL, 100000000));

  ck_assert_int_eq(fx.api->cancel(fx.ctx, pending->id), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, tk.id), 0);
  int calls = sp[0].calls + sp[1].calls;
  ck_assert_int_gt(calls, 0);
  if (_i == 1) ck_assert_int_le(abs(sp[0].calls - sp[1].calls), 1);
  ck_assert_int_gt(tk.calls, 0);
  ck_assert_int_gt(idles, 0);
  ck_assert_int_gt(checks, 0);
  ck_assert_int_le(calls, PER_TURN_MAX * (checks + 1));
  /* L1: one destroy per timer started, the pending one's at cancel */
  ck_assert_int_eq(sp[0].destroys + sp[1].destroys, calls + 1);
  ck_assert_int_eq(tk.destroys, 1);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(sp[0].calls + sp[1].calls, calls);
}
END_TEST

/* ---- closing in a due round ------------------------------------------- */

static int closed, late_calls;
static void on_closed(void *data) { (*(int *)data)++; }

static int late_cb(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  (void)ud;
  late_calls++;
  return 0;
}

/* Re-arms at 0 ms; on call stop_after - 1 also starts late_cb at 0 ms (due
 * in the same next round, after it), and on call stop_after closes. */
#define STOP_AFTER 50
static int closer_cb(uvp_ctx *ctx, void *ud) {
  spin *s = ud;
  s->calls++;
  ck_assert_int_eq(
      fx.api->timer_start(ctx, 0, 0, closer_cb, s, spin_destroy, &s->id), 0);
  uvp_id late;
  if (s->calls == STOP_AFTER - 1)
    ck_assert_int_eq(fx.api->timer_start(ctx, 0, 0, late_cb, NULL, NULL, &late),
                     0);
  if (s->calls == STOP_AFTER)
    ck_assert_int_eq(uvp_host_close(fx.host, on_closed, &closed), 0);
  return 0;
}

static bool is_closed(void *arg) {
  (void)arg;
  return closed != 0;
}

/* D6: once the host is closing no timer runs: not one due in the same
 * round (started after the closer, so FIFO puts it second), nor the 0 ms
 * re-arm waiting for the next round; L1: every destroy runs once. */
START_TEST(close_in_due_round) {
  memset(sp, 0, sizeof sp);
  closed = late_calls = 0;
  ck_assert_int_eq(fx.api->timer_start(fx.ctx, 0, 0, closer_cb, &sp[0],
                                       spin_destroy, &sp[0].id),
                   0);
  ck_assert(uvt_run_until(&fx, is_closed, NULL, 5000));
  fx.host = NULL; /* closed here, not by the fixture */
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(sp[0].calls, STOP_AFTER);
  ck_assert_int_eq(late_calls, 0);
  ck_assert_int_eq(sp[0].destroys, STOP_AFTER + 1);
}
END_TEST

/* ---- start sequence past 32 bits ---------------------------------------- */

typedef struct shot {
  char name;
  int calls;
  uint64_t fired_at;
  uvp_id id;
} shot;

static char trace[256];

static int shot_cb(uvp_ctx *ctx, void *ud) {
  shot *s = ud;
  s->calls++;
  ck_assert_int_eq(fx.api->now_ms(ctx, &s->fired_at), 0);
  size_t n = strlen(trace);
  snprintf(trace + n, sizeof trace - n, "%c", s->name);
  return 0;
}

static void shot_start(shot *s, char name, uint64_t timeout, uint64_t repeat) {
  memset(s, 0, sizeof *s);
  s->name = name;
  ck_assert_int_eq(
      fx.api->timer_start(fx.ctx, timeout, repeat, shot_cb, s, NULL, &s->id),
      0);
}

/* Internal hook: the start sequence the next timer gets. The old sequence
 * was 32 bits, so every value used here fits both. */
static void seq_jump(uint64_t by) {
  fx.host->timers.next_seq = (uint32_t)(fx.host->timers.next_seq + by);
}

/* D6: a timer that stays pending while 2^31 other timers start (a 12-hour
 * timer at 50,000 starts/s; the 32-bit sequence compared with wrap-around
 * took it for one started in the current round forever and froze the loop)
 * still fires after the earlier-due ones and before the later ones, while a
 * repeating timer and the loop keep running. */
START_TEST(pending_while_2pow31_start) {
  static shot lng, early, late, rep;
  trace[0] = '\0';
  shot_start(&lng, 'L', 20, 0);
  seq_jump((UINT64_C(1) << 31) + 1000);
  shot_start(&early, 'e', 10, 0);
  shot_start(&late, 'z', 40, 0);
  shot_start(&rep, 'r', 3, 3);
  ck_assert_int_eq(uv_check_start(&check, on_check), 0);
  ck_assert(uvt_run_until_int(&fx, &late.calls, 1));
  ck_assert_int_eq(lng.calls, 1);
  ck_assert_int_eq(early.calls, 1);
  ck_assert_uint_ge(lng.fired_at, early.fired_at);
  ck_assert_uint_ge(late.fired_at, lng.fired_at);
  /* one-shots in due order, whatever the repeating one did between them */
  char shots[8] = {0};
  for (size_t i = 0, n = 0; trace[i] != '\0' && n < 7; i++)
    if (trace[i] != 'r') shots[n++] = trace[i];
  ck_assert_str_eq(shots, "eLz");
  ck_assert_int_gt(rep.calls, 0);
  ck_assert_int_gt(checks, 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, rep.id), 0);
}
END_TEST

/* D6: timers due at the same time fire in start order across the 2^32
 * step of the sequence, and one started before the step waits its turn. */
START_TEST(fifo_across_2pow32) {
  static shot waiting, t[6];
  trace[0] = '\0';
  shot_start(&waiting, 'P', 8, 0);
  seq_jump(UINT32_MAX - 2 - fx.host->timers.next_seq);
  for (int i = 0; i < 6; i++) shot_start(&t[i], (char)('a' + i), 4, 0);
  ck_assert(uvt_run_until_int(&fx, &waiting.calls, 1));
  ck_assert_str_eq(trace, "abcdefP");
}
END_TEST

static bool fired(void *calls) { return *(int *)calls != 0; }

/* L10, D6: a 0 ms one-shot re-arming itself while the sequence crosses
 * 2^31 and 2^32 keeps firing once per round, next to a pending timer. */
START_TEST(zero_ms_rearm_across_seq_limits) {
  static shot late_pending;
  trace[0] = '\0';
  shot_start(&late_pending, 'P', 30, 0);
  seq_jump(INT32_MAX - 20 - fx.host->timers.next_seq);
  spin_start(1, spin_cb);
  ck_assert_int_eq(uv_check_start(&check, on_check), 0);
  ck_assert(uvt_run_until_int(&fx, &sp[0].calls, 40));
  seq_jump(UINT32_MAX - 20 - fx.host->timers.next_seq);
  /* turns do not wait while a 0 ms timer spins: allow many */
  ck_assert(uvt_run_until(&fx, fired, &late_pending.calls, 100000000));
  ck_assert_int_gt(sp[0].calls, 40);
  ck_assert_str_eq(trace, "P");
  ck_assert_int_eq(fx.api->cancel(fx.ctx, sp[0].id), 0);
  ck_assert_int_eq(sp[0].destroys, sp[0].calls + 1);
}
END_TEST

static Suite *timer_rules_suite(void) {
  Suite *s = suite_create("timer_rules");
  TCase *tc = uvt_tcase(s, "zero_ms");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, zero_ms_rearm_keeps_loop_running, 0, 2);
  tcase_add_test(tc, close_in_due_round);
  tc = uvt_tcase(s, "sequence");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, pending_while_2pow31_start);
  tcase_add_test(tc, fifo_across_2pow32);
  tcase_add_test(tc, zero_ms_rearm_across_seq_limits);
  return s;
}

int main(void) { return uvt_main(timer_rules_suite()); }
