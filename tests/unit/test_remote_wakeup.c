/* Remote wake-ups and waits (R1-R4, R6, S4, D8): no accepted post waits
 * for a wake-up that never comes, blocked posters sleep until room
 * appears, a close refuses and destroys exactly once, a closing host runs
 * no further post, and inline remote payloads arrive max_align_t-aligned.
 *
 * Every test uses the embedder's own remote (api->remote_new on the host
 * ctx). Stress loops drive the loop with uv_run(ONCE) under a per-round
 * watchdog: a lost wake-up leaves the loop asleep, and the watchdog fails
 * the test instead of hanging it.
 *
 * UVP_TEST_LABELS: tsan
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "uvp-internal.h"
#include "uvp_test.h"

#define WATCHDOG_MS 10000 /* per round: generous, fails instead of hanging */

static uvt_fx fx;
static const uvp_api *api; /* fx.api, kept past the host's close */
static uvp_remote *remote;

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  api = fx.api;
  remote = NULL;
}

static void teardown(void) {
  uvt_fx_close(&fx);
  if (remote != NULL) api->remote_release(remote); /* R5: after close */
}

/* The host ctx's remote with a per-plugin limit (R2); limit 0 keeps the
 * default. The internal field stands in for uvp_load_options.remote_limit,
 * which only plugins get. */
static void get_remote(uint32_t limit) {
  if (limit != 0) fx.ctx->remote_limit = limit;
  ck_assert_int_eq(api->remote_new(fx.ctx, &remote), 0);
}

/* ---- a watchdog-guarded loop driver ------------------------------------ */

typedef struct watchdog {
  uv_timer_t timer;
  bool fired;
} watchdog;

static void on_watchdog(uv_timer_t *t) {
  watchdog *w = container_of(t, watchdog, timer);
  w->fired = true;
}

static void watchdog_init(watchdog *w) {
  w->fired = false;
  ck_assert_int_eq(uv_timer_init(&fx.loop, &w->timer), 0);
}

static void watchdog_close(watchdog *w) {
  uv_close((uv_handle_t *)&w->timer, NULL);
  uv_run(&fx.loop, UV_RUN_NOWAIT);
}

/* Runs uv_run(ONCE) until *counter reaches want. Only the armed watchdog
 * keeps the loop alive besides the host, so a turn sleeps until the host's
 * async or the watchdog fires: a wake-up the host never gets is a hang,
 * reported as false. */
static bool run_until(watchdog *w, const int *counter, int want) {
  uv_timer_start(&w->timer, on_watchdog, WATCHDOG_MS, 0);
  while (*counter < want && !w->fired) uv_run(&fx.loop, UV_RUN_ONCE);
  uv_timer_stop(&w->timer);
  return *counter >= want;
}

/* ---- posts counted by the loop ----------------------------------------- */

typedef struct tally {
  int ran;       /* post callbacks (loop thread) */
  int destroyed; /* destroys (loop thread) */
  int after_close;
  bool closing; /* uvp_host_close was called */
} tally;

static int tally_cb(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  tally *t = ud;
  t->ran++;
  if (t->closing) t->after_close++;
  return 0;
}

static void tally_destroy(void *ud) { ((tally *)ud)->destroyed++; }

/* ---- lost wake-up: post two, both must run (R1, R6) -------------------- */

typedef struct pair_producer {
  uv_sem_t go;  /* the loop starts a round */
  int rounds;   /* producer: stop after this many */
  int refused;  /* producer: posts that did not return 0 */
  tally *tally; /* user_data of every post */
} pair_producer;

/* Busy-waits about n iterations: a sleep would drain the store buffer. */
static void spin(unsigned n) {
  static atomic_uint sink; /* test-only: keeps the loop from vanishing */
  for (unsigned i = 0; i < n; i++)
    atomic_fetch_add_explicit(&sink, 0, memory_order_relaxed);
}

static int post_one(pair_producer *p) {
  return api->remote_post(remote, tally_cb, p->tally, tally_destroy,
                          UVP_POST_NONBLOCK);
}

/* The second post of each round comes a varying moment after the first,
 * sweeping across the loop's wake-up: the race needs the loop to be
 * consuming the first post's wake-up just as the second is made. */
static void post_pairs(void *arg) {
  pair_producer *p = arg;
  for (int i = 0; i < p->rounds; i++) {
    uv_sem_wait(&p->go);
    if (post_one(p) != 0) p->refused++;
    spin(((unsigned)i * 7919u) % 8192u);
    if (post_one(p) != 0) p->refused++;
  }
}

/* R1, R6: many short rounds of "a producer posts two, the loop must run
 * both". Before the fence in try_send, libuv's relaxed read of `pending`
 * could pass the second cell's store, see the wake-up the loop had just
 * consumed and skip its own, while the loop drained without the cell: the
 * round then slept until the watchdog. */
START_TEST(post_two_both_run) {
  get_remote(0);
  const char *env = getenv("UVT_WAKEUP_ROUNDS"); /* long soaks, by hand */
  int rounds = env != NULL ? atoi(env) : uvt_scale(20000);
  tally t = {0};
  pair_producer p = {.rounds = rounds, .tally = &t};
  ck_assert_int_eq(uv_sem_init(&p.go, 0), 0);
  watchdog w;
  watchdog_init(&w);
  uv_thread_t th;
  ck_assert_int_eq(uv_thread_create(&th, post_pairs, &p), 0);
  for (int i = 0; i < rounds; i++) {
    uv_sem_post(&p.go);
    bool ok = run_until(&w, &t.ran, 2 * (i + 1));
    ck_assert_msg(ok, "round %d: %d of %d posts ran after %d ms", i, t.ran,
                  2 * (i + 1), WATCHDOG_MS);
  }
  ck_assert_int_eq(uv_thread_join(&th), 0);
  ck_assert_int_eq(p.refused, 0);
  ck_assert_int_eq(t.ran, 2 * rounds); /* none twice (R1) */
  ck_assert_int_eq(t.destroyed, 2 * rounds);
  uv_sem_destroy(&p.go);
  watchdog_close(&w);
}
END_TEST

/* ---- blocked posters (R2) ---------------------------------------------- */

typedef struct block_producer {
  int posts;   /* to make, each UVP_POST_BLOCK */
  int refused; /* posts that did not return 0 */
  tally *tally;
  uv_sem_t filled; /* the limit is full, the next post blocks */
  long switches;   /* voluntary context switches during that post */
} block_producer;

static long voluntary_switches(void) {
  struct rusage ru;
  ck_assert_int_eq(getrusage(RUSAGE_THREAD, &ru), 0);
  return ru.ru_nvcsw;
}

static void post_blocking(void *arg) {
  block_producer *p = arg;
  for (int i = 0; i < p->posts; i++)
    if (api->remote_post(remote, tally_cb, p->tally, tally_destroy,
                         UVP_POST_BLOCK) != 0)
      p->refused++;
}

/* R2: against a full per-plugin limit of 1, every UVP_POST_BLOCK waits for
 * the loop to run the previous post and is woken when it has: many rounds
 * of sleep and wake-up, none lost (the wait has no timeout to save it). */
START_TEST(block_woken_by_room) {
  get_remote(1);
  int posts = uvt_scale(5000);
  tally t = {0};
  block_producer p = {.posts = posts, .tally = &t};
  watchdog w;
  watchdog_init(&w);
  uv_thread_t th;
  ck_assert_int_eq(uv_thread_create(&th, post_blocking, &p), 0);
  bool ok = run_until(&w, &t.ran, posts);
  ck_assert_msg(ok, "%d of %d blocking posts ran", t.ran, posts);
  ck_assert_int_eq(uv_thread_join(&th), 0);
  ck_assert_int_eq(p.refused, 0);
  ck_assert_int_eq(t.ran, posts);
  ck_assert_int_eq(t.destroyed, posts);
  uvp_plugin_stats st = {.size = sizeof st};
  uvp__remote_stats(remote, &st); /* the host ctx has no stats by name */
  ck_assert_uint_eq(st.post_high_water, 1); /* R2: the limit held */
  ck_assert_uint_eq(st.post_queued, 0);
  watchdog_close(&w);
}
END_TEST

static void post_two_blocking(void *arg) {
  block_producer *p = arg;
  if (api->remote_post(remote, tally_cb, p->tally, tally_destroy,
                       UVP_POST_BLOCK) != 0)
    p->refused++;
  uv_sem_post(&p->filled);
  long before = voluntary_switches();
  if (api->remote_post(remote, tally_cb, p->tally, tally_destroy,
                       UVP_POST_BLOCK) != 0)
    p->refused++;
  p->switches = voluntary_switches() - before;
}

/* R2: a blocked poster sleeps until room appears instead of polling: while
 * the loop holds off for 100 ms it is switched out a handful of times at
 * most (a 1 ms poll was switched out about 100 times). */
START_TEST(block_sleeps_until_room) {
  if (uvt_valgrind()) return; /* valgrind runs threads in turns: no count */
  get_remote(1);
  tally t = {0};
  block_producer p = {.tally = &t};
  ck_assert_int_eq(uv_sem_init(&p.filled, 0), 0);
  watchdog w;
  watchdog_init(&w);
  uv_thread_t th;
  ck_assert_int_eq(uv_thread_create(&th, post_two_blocking, &p), 0);
  uv_sem_wait(&p.filled);
  uv_sleep(100); /* the loop is busy elsewhere: the limit stays full */
  ck_assert(run_until(&w, &t.ran, 2));
  ck_assert_int_eq(uv_thread_join(&th), 0);
  ck_assert_int_eq(p.refused, 0);
  ck_assert_int_eq(t.destroyed, 2);
  ck_assert_msg(p.switches <= 10, "blocked poster switched out %ld times",
                p.switches);
  uv_sem_destroy(&p.filled);
  watchdog_close(&w);
}
END_TEST

/* ---- close while producers hammer (R3, R4) ----------------------------- */

#define HAMMERS 4

typedef struct hammer {
  int flags;         /* UVP_POST_NONBLOCK or UVP_POST_BLOCK */
  atomic_bool *stop; /* set once the host closed */
  tally *t;          /* shared by all hammers: loop thread */
  long accepted;     /* this thread: posts that returned 0 */
  long closed;       /* this thread: UVP_ECLOSED */
  long other;        /* this thread: neither 0, EAGAIN nor ECLOSED */
} hammer;

static void hammer_posts(void *arg) {
  hammer *hm = arg;
  if (api->remote_acquire(remote) != 0) hm->other++;
  while (hm->closed == 0 || !atomic_load(hm->stop)) {
    int rc =
        api->remote_post(remote, tally_cb, hm->t, tally_destroy, hm->flags);
    if (rc == 0)
      hm->accepted++;
    else if (rc == UVP_ECLOSED)
      hm->closed++;
    else if (rc == UVP_EAGAIN)
      sched_yield(); /* let the loop (and valgrind's one core) run */
    else
      hm->other++;
  }
  api->remote_release(remote); /* R5: after host close, any thread */
}

/* R3, R4: producers (half blocking, against a small limit) post while the
 * host closes. Every accepted post gets exactly one destroy, none runs
 * after the close, every later post (and every poster blocked at the close)
 * gets UVP_ECLOSED, and refused posts call nothing. */
START_TEST(close_while_hammered) {
  get_remote(4);
  atomic_bool stop = false;
  tally t = {0};
  hammer hm[HAMMERS];
  uv_thread_t th[HAMMERS];
  for (int i = 0; i < HAMMERS; i++) {
    hm[i] = (hammer){.flags = i % 2 ? UVP_POST_BLOCK : UVP_POST_NONBLOCK,
                     .stop = &stop,
                     .t = &t};
    ck_assert_int_eq(uv_thread_create(&th[i], hammer_posts, &hm[i]), 0);
  }
  watchdog w;
  watchdog_init(&w);
  int want = uvt_scale(8000);
  ck_assert_msg(run_until(&w, &t.ran, want), "%d of %d ran", t.ran, want);
  watchdog_close(&w);
  t.closing = true;
  uvt_fx_close_host(&fx); /* runs until on_closed */
  atomic_store(&stop, true);
  long accepted = 0;
  for (int i = 0; i < HAMMERS; i++) {
    ck_assert_int_eq(uv_thread_join(&th[i]), 0);
    ck_assert_int_eq(hm[i].other, 0);
    ck_assert_int_gt(hm[i].closed, 0); /* blocked ones woke to ECLOSED */
    accepted += hm[i].accepted;
  }
  ck_assert_int_eq(t.after_close, 0); /* R4 */
  ck_assert_int_ge(t.ran, want);
  ck_assert_int_eq(t.destroyed, accepted); /* R3, R4: each exactly once */
}
END_TEST

/* ---- a closing host runs no further post (S4) -------------------------- */

static void count_closed(void *data) { ((uvt_fx *)data)->closed++; }

/* Closes the host as uvt_fx_close_host would, from inside a post. */
static int close_host_cb(uvp_ctx *ctx, void *ud) {
  (void)ctx;
  tally *t = ud;
  t->ran++;
  t->closing = true;
  if (uvp_host_close(fx.host, count_closed, &fx) != 0) t->after_close++;
  return 0;
}

/* S4: a post callback closes the host; the next post, queued in the same
 * batch, never runs: only its destroy does, exactly once, at teardown, and
 * on_closed still runs. A queued remote publish is dropped undelivered. */
START_TEST(close_from_post_stops_batch) {
  get_remote(0);
  uvp_topic topic = uvt_topic(&fx, "s4");
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvp_id sub;
  ck_assert_int_eq(api->subscribe(fx.ctx, topic, uvt_rec_cb, &rec, NULL, &sub),
                   0);
  tally first = {0}, second = {0};
  int nb = UVP_POST_NONBLOCK;
  ck_assert_int_eq(
      api->remote_post(remote, close_host_cb, &first, tally_destroy, nb), 0);
  ck_assert_int_eq(
      api->remote_post(remote, tally_cb, &second, tally_destroy, nb), 0);
  ck_assert_int_eq(api->remote_publish(remote, topic, "late", 4, nb), 0);
  ck_assert_int_eq(api->remote_publish(remote, topic, fx.log.lines, 100, nb),
                   0); /* a copied payload, freed undelivered */
  ck_assert(uvt_run_until_int(&fx, &first.ran, 1));
  ck_assert_int_eq(first.after_close, 0); /* the close was accepted */
  fx.host = NULL; /* closing: the fixture must not close it again */
  ck_assert(uvt_run_until_int(&fx, &fx.closed, 1));
  uvt_run_turns(&fx, 2);
  ck_assert_int_eq(fx.closed, 1); /* on_closed, once */
  ck_assert_int_eq(first.ran, 1);
  ck_assert_int_eq(first.destroyed, 1);
  ck_assert_int_eq(second.ran, 0);       /* S4: not in the rest of the batch */
  ck_assert_int_eq(second.destroyed, 1); /* R4 path, exactly once */
  ck_assert_int_eq(rec.calls, 0);        /* remote publishes dropped */
  ck_assert_int_eq(rec.destroys, 0);
}
END_TEST

/* ---- inline payload alignment (D8) ------------------------------------- */

typedef struct aligned_rec {
  int calls;
  int misaligned;
  int wrong; /* bytes or length not as published */
} aligned_rec;

static int check_aligned(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ctx;
  aligned_rec *a = ud;
  size_t want = (size_t)a->calls + 1;
  a->calls++;
  if ((uintptr_t)ev->data % _Alignof(max_align_t) != 0) a->misaligned++;
  const unsigned char *d = ev->data;
  if (ev->len != want) a->wrong++;
  for (size_t i = 0; i < ev->len && ev->len == want; i++)
    if (d[i] != (unsigned char)(want + i)) a->wrong++;
  return 0;
}

/* D8, R1: remote publishes of 1..32 bytes (carried inline in the cell)
 * arrive in order, intact, with data aligned to max_align_t. */
START_TEST(inline_payload_aligned) {
  get_remote(0);
  uvp_topic topic = uvt_topic(&fx, "aligned");
  aligned_rec a = {0};
  uvp_id sub;
  ck_assert_int_eq(api->subscribe(fx.ctx, topic, check_aligned, &a, NULL, &sub),
                   0);
  for (size_t len = 1; len <= 32; len++) {
    unsigned char buf[33];
    for (size_t i = 0; i < len; i++) buf[i + 1] = (unsigned char)(len + i);
    /* from an odd address, so that the cell, not the source, aligns it */
    ck_assert_int_eq(
        api->remote_publish(remote, topic, buf + 1, len, UVP_POST_NONBLOCK), 0);
  }
  ck_assert(uvt_run_until_int(&fx, &a.calls, 32));
  ck_assert_int_eq(a.calls, 32);
  ck_assert_int_eq(a.misaligned, 0);
  ck_assert_int_eq(a.wrong, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("remote_wakeup");
  TCase *tc = uvt_tcase(s, "wakeup");
  tcase_set_timeout(tc, 4 * uvt_timeout() + WATCHDOG_MS / 1000);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, post_two_both_run);
  tc = uvt_tcase(s, "block");
  tcase_set_timeout(tc, 4 * uvt_timeout() + WATCHDOG_MS / 1000);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, block_woken_by_room);
  tcase_add_test(tc, block_sleeps_until_room);
  tc = uvt_tcase(s, "close");
  tcase_set_timeout(tc, 4 * uvt_timeout() + WATCHDOG_MS / 1000);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, close_while_hammered);
  tcase_add_test(tc, close_from_post_stops_batch);
  tc = uvt_tcase(s, "align");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, inline_payload_aligned);
  return uvt_main(s);
}
