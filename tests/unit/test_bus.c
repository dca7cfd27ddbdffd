/* The process bus (X1-X7): shared topics cross hosts on different loops,
 * all or nothing, in order per publisher, and hosts leave when they close.
 * The single-thread cases run two hosts on two loops of this thread, so
 * every step is deterministic; the threaded ones run one host per thread.
 * UVP_TEST_LABELS: tsan
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"
#include "uvp_test.h"

static uvt_fx fa, fb;
static uvp_bus *bus;
static uvt_rec ra, rb, rb_local;

static uvp_host_stats host_stats(uvt_fx *fx) {
  uvp_host_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvp_host_get_stats(fx->host, &st), 0);
  return st;
}

/* Two hosts joined to a bus sharing "s"; both subscribe to "s", b to "l". */
static void setup_pair_cap(uint32_t capacity) {
  uvp_bus_options o = UVP_BUS_OPTIONS_INIT;
  o.capacity = capacity;
  ck_assert_int_eq(uvp_bus_new(&o, &bus), 0);
  ck_assert_int_eq(uvp_bus_share(bus, "s"), 0);
  uvt_fx_init(&fa, NULL);
  uvt_fx_init(&fb, NULL);
  ck_assert_int_eq(uvp_host_join_bus(fa.host, bus), 0);
  ck_assert_int_eq(uvp_host_join_bus(fb.host, bus), 0);
  uvt_rec_init(&ra);
  uvt_rec_init(&rb);
  uvt_rec_init(&rb_local);
  uvt_rec_subscribe(&fa, &ra, "s");
  uvt_rec_subscribe(&fb, &rb, "s");
  uvt_rec_subscribe(&fb, &rb_local, "l");
}

static void setup_pair(void) { setup_pair_cap(0); }

static void teardown_pair(void) {
  uvt_fx_close(&fa);
  uvt_fx_close(&fb);
  uvp_bus_free(bus);
}

/* Runs both loops a few turns: deliveries in both directions settle. */
static void settle(void) {
  for (int i = 0; i < 4; i++) {
    uvt_run_turns(&fa, 3);
    uvt_run_turns(&fb, 3);
  }
}

/* -- API rules (X1) ------------------------------------------------------ */

static void join_off_thread(void *arg) {
  int *rc = arg;
  *rc = uvp_host_join_bus(fa.host, bus);
}

/* X1: scope is declared before hosts join, and only once per host. */
START_TEST(api_rules) {
  uvp_bus_options o = UVP_BUS_OPTIONS_INIT;
  ck_assert_int_eq(uvp_bus_new(NULL, NULL), UVP_EINVAL);
  o.size = 4;
  ck_assert_int_eq(uvp_bus_new(&o, &bus), UVP_EINVAL);
  o.size = sizeof o;
  o.max_hosts = 257;
  ck_assert_int_eq(uvp_bus_new(&o, &bus), UVP_EINVAL);
  o.max_hosts = 1;
  ck_assert_int_eq(uvp_bus_new(&o, &bus), 0);
  ck_assert_int_eq(uvp_bus_share(bus, ""), UVP_EINVAL);
  ck_assert_int_eq(uvp_bus_share(NULL, "s"), UVP_EINVAL);
  ck_assert_int_eq(uvp_bus_share(bus, "s"), 0);
  ck_assert_int_eq(uvp_bus_share(bus, "s"), 0); /* already shared */
  uvt_fx_init(&fa, NULL);
  uvt_fx_init(&fb, NULL);
  int rc = 12345;
  uv_thread_t t;
  ck_assert_int_eq(uv_thread_create(&t, join_off_thread, &rc), 0);
  ck_assert_int_eq(uv_thread_join(&t), 0);
  ck_assert_int_eq(rc, UVP_EWRONGTHREAD);
  ck_assert_ptr_null(fa.host->bus);
  ck_assert_int_eq(uvp_host_join_bus(fa.host, bus), 0);
  ck_assert_int_eq(uvp_host_join_bus(fa.host, bus), UVP_EBUSY);
  ck_assert_int_eq(uvp_host_join_bus(fb.host, bus), UVP_ENOSPC); /* 1 max */
  ck_assert_int_eq(uvp_bus_share(bus, "later"), UVP_EBUSY);
  /* joining interned the shared topic in the host */
  uvp_topic id;
  uint32_t before = fa.host->topics.count;
  ck_assert_int_eq(uvp_host_topic(fa.host, "s", &id), 0);
  ck_assert_uint_eq(fa.host->topics.count, before);
  ck_assert_uint_eq(uvp__topic_get(&fa.host->topics, id)->shared, 1);
  uvt_fx_close(&fa);
  uvt_fx_close(&fb);
  uvp_bus_free(bus);
  uvp_bus_free(NULL);
}
END_TEST

/* -- delivery (X1, X2, X7) ----------------------------------------------- */

/* X1, X2: a shared topic reaches both hosts' subscribers exactly once (the
 * receiver does not send it back); a local one stays on its loop. */
START_TEST(shared_crosses_local_stays) {
  uvp_topic s = uvt_topic(&fa, "s"), l = uvt_topic(&fa, "l");
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "one", 3), 0);
  ck_assert_int_eq(uvp_host_publish(fa.host, l, "mine", 4), 0);
  settle();
  ck_assert_int_eq(ra.calls, 1);
  uvt_rec_is(&ra, 0, "one");
  ck_assert_int_eq(rb.calls, 1);
  uvt_rec_is(&rb, 0, "one");
  ck_assert_int_eq(rb_local.calls, 0);
  uvp_host_stats sa = host_stats(&fa), sb = host_stats(&fb);
  ck_assert_uint_eq(sa.bus_sent, 1);
  ck_assert_uint_eq(sa.bus_received, 0);
  ck_assert_uint_eq(sb.bus_sent, 0);
  ck_assert_uint_eq(sb.bus_received, 1);
  /* O1: the receiver counts it as published on its topic */
  ck_assert_uint_eq(sb.published, 1);
  ck_assert_uint_eq(sb.delivered, 1);
  /* and the other way round */
  uvp_topic sbid = uvt_topic(&fb, "s");
  ck_assert_int_eq(uvp_host_publish(fb.host, sbid, "two", 3), 0);
  settle();
  ck_assert_int_eq(ra.calls, 2);
  uvt_rec_is(&ra, 1, "two");
  ck_assert_int_eq(rb.calls, 2);
  ck_assert_uint_eq(host_stats(&fa).bus_received, 1);
  ck_assert_uint_eq(host_stats(&fb).bus_sent, 1);
}
END_TEST

static int owned_frees;
static uv_thread_t owned_free_thread;

static void owned_free(void *data, size_t len, void *hint) {
  (void)hint;
  ck_assert_uint_eq(len, 100);
  owned_frees++;
  owned_free_thread = uv_thread_self();
  free(data);
}

/* X7: payloads over the inline size are copied for the other loop; an
 * owned payload's free_fn runs once, on the publisher's loop, and the
 * receiver's copy carries the same bytes. */
START_TEST(owned_and_large_payloads) {
  owned_frees = 0;
  char *big = malloc(100);
  for (int i = 0; i < 99; i++) big[i] = (char)('a' + i % 26);
  big[99] = '\0';
  char expect[100];
  memcpy(expect, big, 100);
  uvp_topic s = uvt_topic(&fa, "s");
  ck_assert_int_eq(fa.api->publish_owned(fa.ctx, s, big, 100, owned_free, NULL),
                   0);
  ck_assert_int_eq(uvp_host_publish(fa.host, s,
                                    "0123456789abcdef"
                                    "0123456789abcdef!",
                                    33),
                   0);
  settle();
  ck_assert_int_eq(owned_frees, 1);
  ck_assert(uv_thread_equal(&owned_free_thread, &fa.host->thread));
  ck_assert_int_eq(rb.calls, 2);
  ck_assert_uint_eq(rb.len[0], 100);
  ck_assert_str_eq(rb.data[0], expect);
  uvt_rec_is(&rb, 1, "0123456789abcdef0123456789abcdef!");
  ck_assert_int_eq(ra.calls, 2);
}
END_TEST

/* -- backpressure (X3) ------------------------------------------------------
 */

/* X3: with the receiver's ring full a publish is refused whole: not queued
 * on its own loop either, counted once; after the receiver drained, the
 * same publish succeeds and everything arrives once, in order (X4). */
START_TEST(refused_all_or_nothing) {
  uvp_topic s = uvt_topic(&fa, "s");
  char buf[16];
  for (int i = 0; i < 64; i++) {
    snprintf(buf, sizeof buf, "%d", i);
    ck_assert_int_eq(uvp_host_publish(fa.host, s, buf, strlen(buf)), 0);
  }
  uvp_host_stats before = host_stats(&fa);
  ck_assert_uint_eq(before.queue_depth, 64);
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "x", 1), UVP_EAGAIN);
  ck_assert_int_eq(fa.api->publish(fa.ctx, s, "x", 1), UVP_EAGAIN);
  uvp_host_stats after = host_stats(&fa);
  ck_assert_uint_eq(after.queue_depth, 64); /* nothing queued here */
  ck_assert_uint_eq(after.bus_refused, 2);
  ck_assert_uint_eq(after.bus_sent, 64);
  ck_assert_uint_eq(after.published, before.published);
  ck_assert_uint_eq(after.queue_refused, 0); /* O1: only bus_refused */
  uvt_run_turns(&fb, 3);                     /* the receiver takes its 64 */
  ck_assert_int_eq(rb.calls, 64);
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "x", 1), 0);
  settle();
  ck_assert_int_eq(ra.calls, 65);
  ck_assert_int_eq(rb.calls, 65);
  for (int i = 0; i < 64; i++) {
    snprintf(buf, sizeof buf, "%d", i);
    uvt_rec_is(&rb, i, buf);
    uvt_rec_is(&ra, i, buf);
  }
  uvt_rec_is(&rb, 64, "x");
  ck_assert_uint_eq(host_stats(&fb).bus_received, 65);
}
END_TEST

static void setup_small(void) { setup_pair_cap(64); }

/* The bus's allocator: libc's, or failing every malloc while `fail`. */
static bool fail;
static void *a_malloc(void *d, size_t n) {
  (void)d;
  return fail ? NULL : malloc(n);
}
static void *a_calloc(void *d, size_t n, size_t s) {
  (void)d;
  return calloc(n, s);
}
static void *a_realloc(void *d, void *p, size_t n) {
  (void)d;
  return realloc(p, n);
}
static void a_free(void *d, void *p) {
  (void)d;
  free(p);
}

/* X3: a publish whose copy for another loop cannot be made returns
 * UVP_ENOMEM with nothing delivered or queued anywhere; made again later,
 * it goes through once. */
START_TEST(enomem_leaves_nothing) {
  uvp_allocator a = {.size = sizeof a,
                     .malloc = a_malloc,
                     .calloc = a_calloc,
                     .realloc = a_realloc,
                     .free = a_free};
  uvp_bus_options o = UVP_BUS_OPTIONS_INIT;
  o.allocator = &a;
  fail = false;
  ck_assert_int_eq(uvp_bus_new(&o, &bus), 0);
  ck_assert_int_eq(uvp_bus_share(bus, "s"), 0);
  uvt_fx_init(&fa, NULL);
  uvt_fx_init(&fb, NULL);
  ck_assert_int_eq(uvp_host_join_bus(fa.host, bus), 0);
  ck_assert_int_eq(uvp_host_join_bus(fb.host, bus), 0);
  uvt_rec_init(&ra);
  uvt_rec_init(&rb);
  uvt_rec_subscribe(&fa, &ra, "s");
  uvt_rec_subscribe(&fb, &rb, "s");
  uvp_topic s = uvt_topic(&fa, "s");
  const char *big = "a payload longer than the thirty-two inline bytes";
  fail = true;
  ck_assert_int_eq(uvp_host_publish(fa.host, s, big, strlen(big)), UVP_ENOMEM);
  uvp_host_stats st = host_stats(&fa);
  ck_assert_uint_eq(st.queue_depth, 0);
  ck_assert_uint_eq(st.bus_sent, 0);
  ck_assert_uint_eq(st.published, 0);
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "small", 5), 0); /* inline */
  fail = false;
  ck_assert_int_eq(uvp_host_publish(fa.host, s, big, strlen(big)), 0);
  settle();
  ck_assert_int_eq(ra.calls, 2);
  ck_assert_int_eq(rb.calls, 2);
  uvt_rec_is(&rb, 0, "small");
  uvt_rec_is(&rb, 1, big);
  uvt_fx_close(&fa);
  uvt_fx_close(&fb);
  uvp_bus_free(bus);
}
END_TEST

/* -- remote publishes (X5) ------------------------------------------------ */

typedef struct remote_job {
  const uvp_api *api;
  uvp_remote *remote;
  uvp_topic topic;
  int n;
  int rc;
} remote_job;

static void remote_publisher(void *arg) {
  remote_job *j = arg;
  char buf[16];
  j->rc = 0;
  for (int i = 0; i < j->n && j->rc == 0; i++) {
    snprintf(buf, sizeof buf, "r%d", i);
    j->rc = j->api->remote_publish(j->remote, j->topic, buf, strlen(buf),
                                   UVP_POST_BLOCK);
  }
}

/* X5: a remote publish on a shared topic crosses when its loop delivers
 * it, in order; a full receiving ring skips that host and counts. */
START_TEST(remote_publish_forwarded) {
  remote_job j = {.api = fa.api, .topic = uvt_topic(&fa, "s"), .n = 100};
  ck_assert_int_eq(fa.api->remote_new(fa.ctx, &j.remote), 0);
  uv_thread_t t;
  ck_assert_int_eq(uv_thread_create(&t, remote_publisher, &j), 0);
  ck_assert_int_eq(uv_thread_join(&t), 0);
  ck_assert_int_eq(j.rc, 0);
  /* a's loop delivers the 100 and forwards them; b's ring holds 64 */
  uvt_run_turns(&fa, 5);
  ck_assert_int_eq(ra.calls, 100);
  uvp_host_stats sa = host_stats(&fa);
  ck_assert_uint_eq(sa.bus_sent, 64);
  ck_assert_uint_eq(sa.bus_refused, 36);
  uvt_run_turns(&fb, 5);
  ck_assert_int_eq(rb.calls, 64);
  char buf[16];
  for (int i = 0; i < 64; i++) {
    snprintf(buf, sizeof buf, "r%d", i);
    uvt_rec_is(&rb, i, buf);
  }
  fa.api->remote_release(j.remote);
}
END_TEST

/* -- leaving (X6) -----------------------------------------------------------
 */

/* X6: a host that closes with copies queued to it frees them (bus_dropped)
 * and the others stop sending to it; the rest of the bus keeps working. */
START_TEST(closing_host_leaves) {
  uvp_topic s = uvt_topic(&fa, "s");
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "q1", 2), 0);
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "q2", 2), 0);
  uvt_fx_close_host(&fb); /* b never ran: both copies were queued to it */
  ck_assert_int_eq(rb.calls, 0);
  ck_assert_int_eq(uvp_host_publish(fa.host, s, "q3", 2), 0);
  uvt_run_turns(&fa, 3);
  ck_assert_int_eq(ra.calls, 3);
  uvp_host_stats sa = host_stats(&fa);
  ck_assert_uint_eq(sa.bus_sent, 2); /* not to the host that left */
  ck_assert_uint_eq(sa.bus_refused, 0);
  ck_assert_uint_eq(fb.host == NULL, 1);
}
END_TEST

/* -- N hosts on N threads (X4, X6; TSan) ---------------------------------- */

#define NHOSTS 4

typedef struct msg {
  uint32_t from, seq;
} msg;

typedef struct worker {
  int index;
  int per_host;         /* publishes of each host */
  int close_after;      /* 0: never early; else close after this many */
  uint64_t want;        /* events to get from the other hosts */
  uv_barrier_t *joined; /* all joined before anyone publishes */
  uv_barrier_t *done;   /* everyone received before anyone closes */
  uv_loop_t loop;
  uvp_host *host;
  uvp_topic topic;
  uint32_t next[NHOSTS]; /* next seq expected from each publisher */
  uint64_t got, got_own, disorder, refusals, foreign;
  int errors;        /* API errors (checked on the main thread) */
  uvp_host_stats st; /* read before close */
  bool closed;
} worker;

static int worker_cb(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx;
  worker *w = ud;
  msg m;
  if (ev->len != sizeof m) {
    w->foreign++;
    return 0;
  }
  memcpy(&m, ev->data, sizeof m);
  if (m.from >= NHOSTS || m.seq != w->next[m.from]) w->disorder++;
  if (m.from < NHOSTS) w->next[m.from] = m.seq + 1;
  if (m.from == (uint32_t)w->index)
    w->got_own++;
  else
    w->got++;
  return 0;
}

static void on_worker_closed(void *data) { ((worker *)data)->closed = true; }

static void worker_close(worker *w) {
  w->st.size = sizeof w->st;
  if (uvp_host_get_stats(w->host, &w->st) < 0) w->errors++;
  if (uvp_host_close(w->host, on_worker_closed, w) < 0) w->errors++;
  while (!w->closed) uv_run(&w->loop, UV_RUN_ONCE);
}

static void worker_main(void *arg) {
  worker *w = arg;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_id id;
  uv_loop_init(&w->loop);
  if (uvp_host_new(&w->loop, &o, &w->host) < 0 ||
      uvp_host_join_bus(w->host, bus) < 0 ||
      uvp_host_ctx(w->host, &ctx, &api) < 0 ||
      uvp_host_topic(w->host, "s", &w->topic) < 0 ||
      api->subscribe(ctx, w->topic, worker_cb, w, NULL, &id) < 0)
    w->errors++;
  uv_barrier_wait(w->joined);
  for (int i = 0; i < w->per_host; i++) {
    if (w->close_after != 0 && i == w->close_after) break;
    msg m = {(uint32_t)w->index, (uint32_t)i};
    int rc;
    while ((rc = api->publish(ctx, w->topic, &m, sizeof m)) == UVP_EAGAIN) {
      w->refusals++; /* X3: retry-safe: run the loop, try again */
      uv_run(&w->loop, UV_RUN_NOWAIT);
    }
    if (rc < 0) w->errors++;
  }
  if (w->close_after != 0) {
    worker_close(w); /* X6: leaves while the others still publish */
    uv_barrier_wait(w->done);
    uv_loop_close(&w->loop);
    return;
  }
  while (w->got < w->want || w->got_own < (uint64_t)w->per_host)
    uv_run(&w->loop, UV_RUN_ONCE);
  uv_barrier_wait(w->done);
  worker_close(w);
  if (uv_loop_close(&w->loop) != 0) w->errors++;
}

static void run_workers(worker *w, int per_host, int closer) {
  uv_barrier_t joined, done;
  uv_barrier_init(&joined, NHOSTS);
  uv_barrier_init(&done, NHOSTS);
  uvp_bus_options o = UVP_BUS_OPTIONS_INIT;
  o.capacity = 256; /* small: refusals and wrap-around happen */
  ck_assert_int_eq(uvp_bus_new(&o, &bus), 0);
  ck_assert_int_eq(uvp_bus_share(bus, "s"), 0);
  uv_thread_t t[NHOSTS];
  for (int i = 0; i < NHOSTS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].index = i;
    w[i].per_host = per_host;
    w[i].close_after = i == closer ? per_host / 10 : 0;
    w[i].want = closer < 0 ? (uint64_t)per_host * (NHOSTS - 1)
                           : (uint64_t)per_host * (NHOSTS - 2) +
                                 (uint64_t)(per_host / 10);
    w[i].joined = &joined;
    w[i].done = &done;
    ck_assert_int_eq(uv_thread_create(&t[i], worker_main, &w[i]), 0);
  }
  for (int i = 0; i < NHOSTS; i++) ck_assert_int_eq(uv_thread_join(&t[i]), 0);
  uvp_bus_free(bus);
  uv_barrier_destroy(&joined);
  uv_barrier_destroy(&done);
}

/* X4: N hosts on N threads each publish K events on one shared topic:
 * every host gets every other host's K exactly once and in order, and its
 * own K locally; the counters balance. */
START_TEST(n_hosts_n_threads) {
  worker w[NHOSTS];
  int k = uvt_scale(20000);
  run_workers(w, k, -1);
  uint64_t sent = 0, received = 0;
  for (int i = 0; i < NHOSTS; i++) {
    ck_assert_int_eq(w[i].errors, 0);
    ck_assert_uint_eq(w[i].disorder, 0);
    ck_assert_uint_eq(w[i].foreign, 0);
    ck_assert_uint_eq(w[i].got, (uint64_t)k * (NHOSTS - 1));
    ck_assert_uint_eq(w[i].got_own, (uint64_t)k);
    ck_assert_uint_eq(w[i].st.bus_sent, (uint64_t)k * (NHOSTS - 1));
    ck_assert_uint_eq(w[i].st.bus_received, (uint64_t)k * (NHOSTS - 1));
    ck_assert_uint_eq(w[i].st.bus_refused, w[i].refusals);
    ck_assert_uint_eq(w[i].st.delivered, (uint64_t)k * NHOSTS);
    sent += w[i].st.bus_sent;
    received += w[i].st.bus_received;
  }
  ck_assert_uint_eq(sent, received);
}
END_TEST

/* X6: one host closes early while the others keep publishing to each
 * other: no deadlock, the others' exchange stays exact and ordered, and
 * the closed host got in order a prefix of each stream. */
START_TEST(host_closes_while_others_publish) {
  worker w[NHOSTS];
  int k = uvt_scale(20000);
  run_workers(w, k, 0);
  for (int i = 0; i < NHOSTS; i++) {
    ck_assert_int_eq(w[i].errors, 0);
    ck_assert_uint_eq(w[i].disorder, 0);
  }
  uint64_t from_closer = (uint64_t)(k / 10);
  for (int i = 1; i < NHOSTS; i++) {
    /* all of the two other open hosts, and the closer's first k/10 */
    ck_assert_uint_eq(w[i].got, (uint64_t)k * (NHOSTS - 2) + from_closer);
    ck_assert_uint_eq(w[i].got_own, (uint64_t)k);
  }
  ck_assert_uint_eq(w[0].st.bus_sent, from_closer * (NHOSTS - 1));
  ck_assert(w[0].closed);
}
END_TEST

static Suite *bus_suite(void) {
  Suite *s = suite_create("bus");
  TCase *tc = uvt_tcase(s, "api");
  tcase_add_test(tc, api_rules);
  tcase_add_test(tc, enomem_leaves_nothing);
  tc = uvt_tcase(s, "pair");
  tcase_add_checked_fixture(tc, setup_pair, teardown_pair);
  tcase_add_test(tc, shared_crosses_local_stays);
  tcase_add_test(tc, owned_and_large_payloads);
  tcase_add_test(tc, closing_host_leaves);
  tc = uvt_tcase(s, "small");
  tcase_add_checked_fixture(tc, setup_small, teardown_pair);
  tcase_add_test(tc, refused_all_or_nothing);
  tcase_add_test(tc, remote_publish_forwarded);
  tc = uvt_tcase(s, "threads");
  tcase_add_test(tc, n_hosts_n_threads);
  tcase_add_test(tc, host_closes_while_others_publish);
  return s;
}

int main(void) { return uvt_main(bus_suite()); }
