/* Dispatch order and flow (D1-D5) through the public API, with the host's
 * own ctx from uvp_host_ctx acting as every subscriber. Mirrors
 * src/dispatch.c. */
#include <stdio.h>
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

/* A subscriber: which one it is, where it records, and what it does on the
 * event numbered `act_on` (1-based over its calls). */
typedef struct sub {
  char name;
  uvt_fx *fx;
  uvp_topic topic;
  uvp_id id;
  int calls;
  int destroys;
  int destroys_seen_in_cb; /* its own destroys, read inside its callback */
  int act_on;
  int (*act)(struct sub *self);
  struct sub *other;
  char *log; /* shared "A1 B1 ..." trace */
} sub;

static int record(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx;
  sub *s = ud;
  s->calls++;
  size_t n = strlen(s->log);
  snprintf(s->log + n, 1024 - n, "%s%c%.*s", n ? " " : "", s->name,
           (int)ev->len, (const char *)ev->data);
  if (s->act != NULL && s->calls == s->act_on) return s->act(s);
  return 0;
}

static void sub_destroy(void *ud) {
  sub *s = ud;
  s->destroys++;
  size_t n = strlen(s->log);
  snprintf(s->log + n, 1024 - n, "%s~%c", n ? " " : "", s->name);
}

static void sub_init(sub *s, char name, uvt_fx *fx, uvp_topic topic,
                     char *log) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->fx = fx;
  s->topic = topic;
  s->log = log;
}

static void sub_start(sub *s) {
  ck_assert_int_eq(s->fx->api->subscribe(s->fx->ctx, s->topic, record, s,
                                         sub_destroy, &s->id),
                   0);
  ck_assert_uint_ne(s->id, 0);
}

static void pub(uvt_fx *fx, uvp_topic t, const char *s) {
  ck_assert_int_eq(uvp_host_publish(fx->host, t, s, strlen(s)), 0);
}

static uvt_fx fx;
static char trace[1024];

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  trace[0] = '\0';
}
static void teardown(void) { uvt_fx_close(&fx); }

/* -- order -------------------------------------------------------------- */

/* D1: FIFO per topic and publisher; subscribers in subscription order. */
START_TEST(fifo_order) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  sub_start(&a);
  sub_start(&b);
  for (int i = 1; i <= 4; i++) {
    char p[4];
    snprintf(p, sizeof p, "%d", i);
    pub(&fx, t, p);
  }
  ck_assert(uvt_run_until_int(&fx, &b.calls, 4));
  ck_assert_str_eq(trace, "A1 B1 A2 B2 A3 B3 A4 B4");
}
END_TEST

/* D1: two topics from one publisher keep each topic's order, and the
 * plugin API's publish is the same queue as uvp_host_publish. */
START_TEST(fifo_two_topics) {
  uvp_topic t = uvt_topic(&fx, "t"), u = uvt_topic(&fx, "u");
  static sub a, b;
  sub_init(&a, 'T', &fx, t, trace);
  sub_init(&b, 'U', &fx, u, trace);
  sub_start(&a);
  sub_start(&b);
  pub(&fx, t, "1");
  ck_assert_int_eq(fx.api->publish(fx.ctx, u, "2", 1), 0);
  pub(&fx, t, "3");
  ck_assert_int_eq(fx.api->publish(fx.ctx, u, "4", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &b.calls, 2));
  ck_assert(uvt_run_until_int(&fx, &a.calls, 2));
  ck_assert_str_eq(trace, "T1 U2 T3 U4");
}
END_TEST

/* D2: publish only queues: nothing runs inside uvp_host_publish. */
START_TEST(publish_never_calls_inline) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a;
  sub_init(&a, 'A', &fx, t, trace);
  sub_start(&a);
  pub(&fx, t, "1");
  ck_assert_int_eq(a.calls, 0);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, "2", 1), 0);
  ck_assert_int_eq(a.calls, 0);
  ck_assert(uvt_run_until_int(&fx, &a.calls, 2));
  ck_assert_str_eq(trace, "A1 A2");
}
END_TEST

static int publish_x2(sub *s) {
  int depth_before = s->calls;
  int rc = s->fx->api->publish(s->fx->ctx, s->topic, "x2", 2);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(s->calls, depth_before); /* not re-entered (D2) */
  return 0;
}

/* D2: an event published from inside a callback is delivered after the
 * current round: every subscriber sees x1 before anyone sees x2. */
START_TEST(publish_in_callback_after_round) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  a.act_on = 1;
  a.act = publish_x2;
  sub_start(&a);
  sub_start(&b);
  pub(&fx, t, "x1");
  ck_assert(uvt_run_until_int(&fx, &b.calls, 2));
  uvt_run_turns(&fx, 3);
  ck_assert_str_eq(trace, "Ax1 Bx1 Ax2 Bx2");
}
END_TEST

static sub late;

static int subscribe_late(sub *s) {
  sub_start(&late);
  (void)s;
  return 0;
}

/* D3: a subscription made during a dispatch misses the event in flight
 * but gets the next one, even one already queued before it subscribed. */
START_TEST(subscribe_during_dispatch) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  sub_init(&late, 'C', &fx, t, trace);
  a.act_on = 1;
  a.act = subscribe_late;
  sub_start(&a);
  sub_start(&b);
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  ck_assert(uvt_run_until_int(&fx, &late.calls, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_str_eq(trace, "A1 B1 A2 B2 C2");
  ck_assert_int_eq(late.calls, 1);
}
END_TEST

/* -- cancel during a round ---------------------------------------------- */

static int cancel_self(sub *s) {
  ck_assert_int_eq(s->fx->api->cancel(s->fx->ctx, s->id), 0);
  s->destroys_seen_in_cb = s->destroys; /* L2: destroy waits for return */
  ck_assert_int_eq(s->fx->api->cancel(s->fx->ctx, s->id), UVP_ESTALE);
  return 0;
}

/* L2: cancel from inside its own callback: never called again, destroy
 * right after the callback returns; L4: the id is stale at once. */
START_TEST(cancel_self_in_callback) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  a.act_on = 1;
  a.act = cancel_self;
  sub_start(&a);
  sub_start(&b);
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  pub(&fx, t, "3");
  ck_assert(uvt_run_until_int(&fx, &b.calls, 3));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.destroys_seen_in_cb, 0);
  ck_assert_int_eq(a.destroys, 1);
  /* destroy ran right after A's callback, before B saw the same event */
  ck_assert_str_eq(trace, "A1 ~A B1 B2 B3");
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), UVP_ESTALE);
}
END_TEST

static int cancel_other(sub *s) {
  ck_assert_int_eq(s->fx->api->cancel(s->fx->ctx, s->other->id), 0);
  /* L1: the other callback is not running, so destroy ran in cancel */
  ck_assert_int_eq(s->other->destroys, 1);
  return 0;
}

/* L3: cancelling a later subscriber during a round prevents its pending
 * delivery of the event in flight, and of every later event. */
START_TEST(cancel_later_subscriber_in_round) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b, c;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  sub_init(&c, 'C', &fx, t, trace);
  a.act_on = 1;
  a.act = cancel_other;
  a.other = &b;
  sub_start(&a);
  sub_start(&b);
  sub_start(&c);
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  ck_assert(uvt_run_until_int(&fx, &c.calls, 2));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(b.calls, 0);
  ck_assert_int_eq(b.destroys, 1);
  ck_assert_str_eq(trace, "A1 ~B C1 A2 C2");
}
END_TEST

/* L3: cancelling an earlier subscriber: it already had the event in
 * flight, and gets nothing after. */
START_TEST(cancel_earlier_subscriber_in_round) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  b.act_on = 1;
  b.act = cancel_other;
  b.other = &a;
  sub_start(&a);
  sub_start(&b);
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  ck_assert(uvt_run_until_int(&fx, &b.calls, 2));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.destroys, 1);
  ck_assert_str_eq(trace, "A1 B1 ~A B2");
}
END_TEST

/* L3 from outside any callback: cancel after publish, before the loop
 * runs: the queued event never reaches the cancelled subscriber. */
START_TEST(cancel_before_queued_event) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a, b;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&b, 'B', &fx, t, trace);
  sub_start(&a);
  sub_start(&b);
  pub(&fx, t, "1");
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), 0);
  ck_assert_int_eq(a.destroys, 1); /* L1: before cancel returned */
  ck_assert(uvt_run_until_int(&fx, &b.calls, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_str_eq(trace, "~A B1");
}
END_TEST

/* Many subscribers cancelled mid-round (tombstones and compaction): the
 * survivors keep their order and each cancelled one is destroyed once. */
static sub many[16];

static int cancel_odd(sub *s) {
  for (int i = 1; i < 16; i += 2)
    ck_assert_int_eq(s->fx->api->cancel(s->fx->ctx, many[i].id), 0);
  return 0;
}

START_TEST(cancel_many_keeps_order) {
  uvp_topic t = uvt_topic(&fx, "t");
  for (int i = 0; i < 16; i++) {
    sub_init(&many[i], (char)('a' + i), &fx, t, trace);
    sub_start(&many[i]);
  }
  many[0].act_on = 1;
  many[0].act = cancel_odd;
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  ck_assert(uvt_run_until_int(&fx, &many[14].calls, 2));
  uvt_run_turns(&fx, 3);
  ck_assert_str_eq(trace,
                   "a1 ~b ~d ~f ~h ~j ~l ~n ~p c1 e1 g1 i1 k1 m1 o1 "
                   "a2 c2 e2 g2 i2 k2 m2 o2");
  for (int i = 1; i < 16; i += 2) ck_assert_int_eq(many[i].destroys, 1);
  /* a subscriber added after compaction goes last */
  static sub z;
  sub_init(&z, 'z', &fx, t, trace);
  sub_start(&z);
  trace[0] = '\0';
  pub(&fx, t, "3");
  ck_assert(uvt_run_until_int(&fx, &z.calls, 1));
  ck_assert_str_eq(trace, "a3 c3 e3 g3 i3 k3 m3 o3 z3");
}
END_TEST

/* -- flow control ------------------------------------------------------- */

static int owned_frees;
static void count_free(void *data, size_t len, void *hint) {
  (void)data, (void)len, (void)hint;
  owned_frees++;
}

/* D4: past queue_capacity publish returns UVP_EAGAIN and queues nothing;
 * a failed publish_owned leaves ownership with the caller (L8). */
START_TEST(bounded_queue_eagain) {
  uvt_fx_close(&fx);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.queue_capacity = 4;
  uvt_fx_init(&fx, &o);
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a;
  sub_init(&a, 'A', &fx, t, trace);
  sub_start(&a);
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, "3", 1), 0);
  pub(&fx, t, "4");
  ck_assert_int_eq(uvp_host_publish(fx.host, t, "5", 1), UVP_EAGAIN);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, "6", 1), UVP_EAGAIN);
  owned_frees = 0;
  static char owned[] = "7";
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, owned, 1, count_free, NULL),
                   UVP_EAGAIN);
  ck_assert_int_eq(owned_frees, 0);
  ck_assert(uvt_run_until_int(&fx, &a.calls, 4));
  uvt_run_turns(&fx, 3);
  ck_assert_str_eq(trace, "A1 A2 A3 A4");
  /* the queue has room again once drained */
  pub(&fx, t, "8");
  ck_assert(uvt_run_until_int(&fx, &a.calls, 5));
  ck_assert_str_eq(trace, "A1 A2 A3 A4 A8");
  ck_assert_int_eq(owned_frees, 0);
}
END_TEST

/* D5 bookkeeping: a prepare handle counts loop turns; each delivery and
 * the timer record the turn they ran in. */
typedef struct turns {
  uv_prepare_t prepare;
  int turn;
  int event_turn[16];
  int nevents;
  int timer_after_events; /* events delivered before the timer fired */
  int timer_calls;
  uvt_fx *fx;
} turns;

static void on_prepare(uv_prepare_t *p) {
  turns *tr = container_of(p, turns, prepare);
  tr->turn++;
}

static int storm_timer(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  turns *tr = ud;
  tr->timer_calls++;
  tr->timer_after_events = tr->nevents;
  return 0;
}

static int storm_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ev;
  turns *tr = ud;
  tr->event_turn[tr->nevents++] = tr->turn;
  if (tr->nevents == 1) {
    uvp_id id;
    ck_assert_int_eq(
        tr->fx->api->timer_start(ctx, 0, 0, storm_timer, tr, NULL, &id), 0);
  }
  return 0;
}

/* D5: with batch = 2, six queued events take three loop turns, two per
 * turn, and a timer started during the first turn runs before the storm
 * is over (D6: due at once, it fires on the next turn's timer phase). */
START_TEST(batch_spreads_over_turns) {
  uvt_fx_close(&fx);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.batch = 2;
  uvt_fx_init(&fx, &o);
  static turns tr;
  memset(&tr, 0, sizeof tr);
  tr.fx = &fx;
  ck_assert_int_eq(uv_prepare_init(&fx.loop, &tr.prepare), 0);
  ck_assert_int_eq(uv_prepare_start(&tr.prepare, on_prepare), 0);
  uvp_topic t = uvt_topic(&fx, "t");
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, storm_cb, &tr, NULL, &id), 0);
  for (int i = 0; i < 6; i++) pub(&fx, t, "e");
  ck_assert(uvt_run_until_int(&fx, &tr.nevents, 6));
  ck_assert(uvt_run_until_int(&fx, &tr.timer_calls, 1));
  int per_turn[64] = {0};
  int distinct = 0;
  for (int i = 0; i < 6; i++) {
    int k = tr.event_turn[i] - tr.event_turn[0];
    ck_assert_int_lt(k, 64);
    if (per_turn[k]++ == 0) distinct++;
    ck_assert_int_le(per_turn[k], 2);
  }
  ck_assert_int_eq(distinct, 3);
  ck_assert_int_eq(tr.timer_calls, 1);
  ck_assert_int_eq(tr.timer_after_events, 2);
  uv_close((uv_handle_t *)&tr.prepare, NULL);
}
END_TEST

/* D1 across ring wrap-around and growth: with batch = 3, callbacks keep
 * publishing while the queue drains, so the ring wraps and grows while
 * wrapped; every event still arrives once, in publish order. */
typedef struct wrap {
  uvt_fx *fx;
  uvp_topic t;
  int next;  /* next sequence number to publish */
  int limit; /* total events */
  int got;   /* delivered */
  int out_of_order;
} wrap;

static int wrap_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  wrap *w = ud;
  int seq;
  ck_assert_uint_eq(ev->len, sizeof seq);
  memcpy(&seq, ev->data, sizeof seq);
  if (seq != w->got) w->out_of_order++;
  w->got++;
  /* each delivery publishes two more until the limit: the queue grows */
  for (int k = 0; k < 2 && w->next < w->limit; k++, w->next++)
    ck_assert_int_eq(w->fx->api->publish(ctx, w->t, &w->next, sizeof w->next),
                     0);
  return 0;
}

START_TEST(fifo_across_wrap_and_growth) {
  uvt_fx_close(&fx);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.batch = 3;
  uvt_fx_init(&fx, &o);
  static wrap w;
  memset(&w, 0, sizeof w);
  w.fx = &fx;
  w.t = uvt_topic(&fx, "t");
  w.limit = uvt_scale(3000);
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, w.t, wrap_cb, &w, NULL, &id), 0);
  for (; w.next < 50; w.next++)
    ck_assert_int_eq(uvp_host_publish(fx.host, w.t, &w.next, sizeof w.next), 0);
  ck_assert(uvt_run_until_int(&fx, &w.got, w.limit));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(w.got, w.limit);
  ck_assert_int_eq(w.out_of_order, 0);
}
END_TEST

static sub fresh;
static int subscribe_then_cancel(sub *s) {
  sub_start(&fresh);
  ck_assert_int_eq(s->fx->api->cancel(s->fx->ctx, fresh.id), 0);
  ck_assert_int_eq(fresh.destroys, 1);
  return 0;
}

/* D3, L1: a subscription made and cancelled inside one callback is never
 * called and destroyed exactly once. */
START_TEST(subscribe_and_cancel_in_callback) {
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a;
  sub_init(&a, 'A', &fx, t, trace);
  sub_init(&fresh, 'F', &fx, t, trace);
  a.act_on = 1;
  a.act = subscribe_then_cancel;
  sub_start(&a);
  pub(&fx, t, "1");
  pub(&fx, t, "2");
  ck_assert(uvt_run_until_int(&fx, &a.calls, 2));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(fresh.calls, 0);
  ck_assert_int_eq(fresh.destroys, 1);
  ck_assert_str_eq(trace, "A1 ~F A2");
}
END_TEST

/* -- payloads (F3, F4) -------------------------------------------------- */

/* F4: a payload larger than max_payload gets UVP_EMSGSIZE; exactly
 * max_payload is fine. */
START_TEST(payload_too_large) {
  uvt_fx_close(&fx);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.max_payload = 16;
  uvt_fx_init(&fx, &o);
  uvp_topic t = uvt_topic(&fx, "t");
  static sub a;
  sub_init(&a, 'A', &fx, t, trace);
  sub_start(&a);
  static char big[17];
  memset(big, 'x', sizeof big);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, big, 17), UVP_EMSGSIZE);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, big, 17), UVP_EMSGSIZE);
  owned_frees = 0;
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, big, 17, count_free, NULL),
                   UVP_EMSGSIZE);
  ck_assert_int_eq(uvp_host_publish(fx.host, t, big, 16), 0);
  ck_assert(uvt_run_until_int(&fx, &a.calls, 1));
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(owned_frees, 0);
}
END_TEST

/* F3: NULL data with a length, NULL callbacks and NULL contexts. */
START_TEST(publish_bad_args) {
  uvp_topic t = uvt_topic(&fx, "t");
  ck_assert_int_eq(uvp_host_publish(fx.host, t, NULL, 3), UVP_EINVAL);
  ck_assert_int_eq(fx.api->publish(fx.ctx, t, NULL, 3), UVP_EINVAL);
  ck_assert_int_eq(fx.api->publish(NULL, t, "x", 1), UVP_EINVAL);
  ck_assert_int_eq(uvp_host_publish(NULL, t, "x", 1), UVP_EINVAL);
  static char d[] = "x";
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, d, 1, NULL, NULL),
                   UVP_EINVAL);
  ck_assert_int_eq(fx.api->publish_owned(fx.ctx, t, NULL, 1, count_free, NULL),
                   UVP_EINVAL);
  uvp_id id = 5;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, NULL, NULL, NULL, &id),
                   UVP_EINVAL);
  ck_assert_int_eq(fx.api->subscribe(NULL, t, record, NULL, NULL, &id),
                   UVP_EINVAL);
  ck_assert_uint_eq(id, 5);
  ck_assert_int_eq(fx.api->cancel(NULL, 1), UVP_EINVAL);
}
END_TEST

static int check_event(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx;
  uvt_rec *rec = ud;
  ck_assert_uint_eq(ev->size, sizeof(uvp_event));
  if (ev->len == 0)
    ck_assert_uint_eq(ev->len, 0);
  else
    ck_assert_ptr_nonnull(ev->data);
  uvt_rec_push(rec, ev->topic, ev->data, ev->len);
  return 0;
}

/* Payload sizes around the inline limit arrive byte-exact, including
 * empty and binary payloads with NUL bytes. */
START_TEST(payload_sizes_exact) {
  uvp_topic t = uvt_topic(&fx, "t");
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvp_id id;
  ck_assert_int_eq(fx.api->subscribe(fx.ctx, t, check_event, &rec, NULL, &id),
                   0);
  static const size_t sizes[] = {0, 1, 39, 40, 41, 200, UVT_REC_LEN};
  static unsigned char buf[UVT_REC_LEN];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7);
  for (size_t i = 0; i < 7; i++)
    ck_assert_int_eq(
        uvp_host_publish(fx.host, t, sizes[i] ? buf : NULL, sizes[i]), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.n, 7));
  for (int i = 0; i < 7; i++) {
    ck_assert_uint_eq(rec.len[i], sizes[i]);
    ck_assert_int_eq(memcmp(rec.data[i], buf, sizes[i]), 0);
    ck_assert_uint_eq(rec.topic[i], t);
  }
}
END_TEST

static Suite *dispatch_suite(void) {
  Suite *s = suite_create("dispatch");
  TCase *tc = uvt_tcase(s, "order");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, fifo_order);
  tcase_add_test(tc, fifo_two_topics);
  tcase_add_test(tc, publish_never_calls_inline);
  tcase_add_test(tc, publish_in_callback_after_round);
  tcase_add_test(tc, subscribe_during_dispatch);
  tcase_add_test(tc, subscribe_and_cancel_in_callback);
  tc = uvt_tcase(s, "cancel");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, cancel_self_in_callback);
  tcase_add_test(tc, cancel_later_subscriber_in_round);
  tcase_add_test(tc, cancel_earlier_subscriber_in_round);
  tcase_add_test(tc, cancel_before_queued_event);
  tcase_add_test(tc, cancel_many_keeps_order);
  tc = uvt_tcase(s, "flow");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, bounded_queue_eagain);
  tcase_add_test(tc, batch_spreads_over_turns);
  tcase_add_test(tc, fifo_across_wrap_and_growth);
  tc = uvt_tcase(s, "payload");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, payload_too_large);
  tcase_add_test(tc, publish_bad_args);
  tcase_add_test(tc, payload_sizes_exact);
  return s;
}

int main(void) { return uvt_main(dispatch_suite()); }
