/* The hostile-plugin corpus (issue 12): every case loads one misbehaving
 * plugin (the .c files of tests/hostile, or the Rust crate
 * rust-plugins/examples/ hostile) into a fresh host next to a well-behaved
 * bystander (counter_plugin as "by", counting h.in), and checks the host's
 * exact reaction: the status of the load, a log line, counters, and (F6) that
 * the bystander is still served every event.
 *
 * Each case is one iteration of a Check loop test, so in Check's fork
 * mode every case runs in its own process with its own timeout; a failure
 * reads "case NAME [RULES]: expected ..., got ...". The run writes
 * <build>/reliability/hostile.txt (cases=, passed=, one line per case).
 * Cases marked known_defect are skipped unless UVP_HOSTILE_KNOWN=1.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp_test.h"

#define HDIR UVP_TEST_PLUGIN_DIR "/../hostile/"
#define HOSTILE HDIR "hostile.so"
#define RUST UVP_RUST_PLUGIN_DIR "/libhostile.so"
#define BY UVP_TEST_PLUGIN_DIR "/counter_plugin.so"
#define REPORT UVP_TEST_PLUGIN_DIR "/../../reliability"

typedef struct hcase {
  const char *name;   /* case id; the plugin's config is "case=<name>" */
  const char *rules;  /* contract rules it exercises (docs/contract.md) */
  const char *expect; /* the expected reaction, for hostile.txt */
  const char *plugin; /* HOSTILE, RUST or another object */
  int load_rc;        /* what uvp_host_load returns */
  const char *log;    /* a log line (substring) the case must produce */
  void (*setup)(uvp_host_options *o, uvp_load_options *lo);
  void (*check)(void); /* further checks after the load */
  int by_extra;        /* events the case itself gives the bystander */
  int known_defect;    /* 1: skipped in make test (see the report) */
} hcase;

static const hcase *C;
static uvt_fx fx;
static char config[256];
static int pipe_fds[2] = {-1, -1};
static uvp_id embedder_sub;
static uvt_rec rec;

#define EXPECT(got, want)                                               \
  ck_assert_msg((long long)(got) == (long long)(want),                  \
                "case %s [%s]: expected %s == %lld, got %lld", C->name, \
                C->rules, #got, (long long)(want), (long long)(got))
#define EXPECT_TRUE(cond)                                                \
  ck_assert_msg((cond), "case %s [%s]: expected %s, got false", C->name, \
                C->rules, #cond)
#define EXPECT_LOG(s)                                                      \
  ck_assert_msg(uvt_log_count(&fx.log, 0, (s)) >= 1,                       \
                "case %s [%s]: expected a log line with \"%s\", got none " \
                "(%d lines, last: \"%s\")",                                \
                C->name, C->rules, (s), fx.log.n,                          \
                fx.log.n ? fx.log.lines[fx.log.n - 1].msg : "")

static uint64_t sym(const char *name) { return uvt_sym_u64(HOSTILE, name); }

static uvp_plugin_stats pstats(const char *name) {
  uvp_plugin_stats st;
  int rc = uvt_stats(&fx, name, &st);
  ck_assert_msg(rc == 0, "case %s: stats of %s: %s", C->name, name,
                uvp_err_name(rc));
  return st;
}

static uvp_host_stats hstats(void) {
  uvp_host_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvp_host_get_stats(fx.host, &st), 0);
  return st;
}

static bool hx_gone(void *arg) {
  (void)arg;
  uvp_plugin_stats st;
  return uvt_stats(&fx, "hx", &st) == UVP_ENOENT;
}

static void run_ms(int ms) {
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  while (uv_hrtime() < end) uvt_run_turns(&fx, 1), usleep(500);
}

/* Runs the loop until pred holds, at most 5 s (by time, not turns: a
 * loaded machine or a spinning plugin changes what a turn lasts). */
static bool wait_for(uvt_pred pred) {
  uint64_t end = uv_hrtime() + 5000000000u;
  while (!pred(NULL)) {
    if (uv_hrtime() > end) return false;
    uvt_run_turns(&fx, 1);
    usleep(200);
  }
  return true;
}

static void kick(void) {
  uvp_topic t = uvt_topic(&fx, "h.kick");
  EXPECT(uvp_host_publish(fx.host, t, "k", 1), 0);
  uvt_run_turns(&fx, 3);
}

/* ---- options --------------------------------------------------------- */

static void o_slow(uvp_host_options *o, uvp_load_options *lo) {
  (void)lo;
  o->slow_callback_ms = 100;
}
static void o_slow50(uvp_host_options *o, uvp_load_options *lo) {
  (void)lo;
  o->slow_callback_ms = 50;
}
static void o_limit(uvp_host_options *o, uvp_load_options *lo) {
  (void)o;
  lo->remote_limit = 64;
}
static void o_topics(uvp_host_options *o, uvp_load_options *lo) {
  (void)lo;
  o->max_topics = 8;
}
static void o_fault_log(uvp_host_options *o, uvp_load_options *lo) {
  (void)o;
  lo->fault_policy = UVP_FAULT_LOG;
}
/* The pipe of fd_twice; the embedder's subscription of cancel_others. */
static void o_pipe(uvp_host_options *o, uvp_load_options *lo) {
  (void)o, (void)lo;
  ck_assert_int_eq(pipe(pipe_fds), 0);
  snprintf(config, sizeof config, "case=fd_twice fd=%d", pipe_fds[0]);
}

/* ---- checks ----------------------------------------------------------- */

/* O2: the 300 ms on_init is counted once as slow; the load succeeds. */
static void c_init_sleep(void) {
  EXPECT(pstats("hx").slow_callbacks, 1);
  EXPECT(hstats().slow_callbacks, 1);
  EXPECT_LOG("slow callback: hx on_init");
}

/* A9: the three registrations were destroyed, nothing listed is left. */
static void c_init_fail(void) {
  EXPECT(sym("hostile_destroys"), 3);
  EXPECT(sym("hostile_unloads"), 0);
  uvp_host_stats st = hstats();
  EXPECT(st.plugins, 1);
  EXPECT(st.subscriptions, 2); /* the bystander's: h.in, counter.cmd */
  EXPECT(st.timers, 0);
  EXPECT(st.fd_watches, 0);
  EXPECT_TRUE(hx_gone(NULL));
}

static bool work_destroyed(void *arg) {
  (void)arg;
  return sym("hostile_destroys") == 1;
}
/* A9, W1: the running item ends later: done (UVP_ECANCELED) then destroy. */
static void c_init_fail_work(void) {
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT_TRUE(wait_for(work_destroyed));
  EXPECT(sym("hostile_work_done"), 1);
  EXPECT((int)sym("hostile_done_status"), UVP_ECANCELED);
  EXPECT(hstats().work_items, 0);
}

/* W6 (regression): the drain bound starts when the unload does. */
static void c_init_fail_slow(void) {
  c_init_fail_work();
  EXPECT(uvt_log_count(&fx.log, 0, "abandoned"), 0);
  EXPECT(pstats("by").work_abandoned, 0);
}

/* A9, R5: the remote it leaked stays usable and refuses posts. */
static int never_post(uvp_ctx *c, void *ud) {
  (void)c, (void)ud;
  ck_abort_msg("a post to a closed remote ran");
  return 0;
}
static void c_leaked_remote_closed(void) {
  uvp_remote *r = (uvp_remote *)(uintptr_t)sym("hostile_remote");
  EXPECT_TRUE(r != NULL);
  EXPECT(fx.api->remote_post(r, never_post, NULL, NULL, UVP_POST_NONBLOCK),
         UVP_ECLOSED);
  fx.api->remote_release(r);
}

/* A9: on_start failed after subscribing: destroy, then on_unload. */
static void c_start_fail(void) {
  EXPECT(sym("hostile_destroys"), 1);
  EXPECT(sym("hostile_unloads"), 1);
  EXPECT_TRUE(hx_gone(NULL));
}

static void c_gone_after_turn(void) {
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT(sym("hostile_unloads"), 1);
}

/* L5: the embedder's subscription survived and still gets events. */
static void o_others(uvp_host_options *o, uvp_load_options *lo) {
  (void)o, (void)lo;
  uvt_rec_init(&rec);
  embedder_sub = uvt_rec_subscribe(&fx, &rec, "h.other");
  snprintf(config, sizeof config, "case=cancel_others id=%llu",
           (unsigned long long)embedder_sub);
}
static void c_others(void) {
  uvp_topic t = uvt_topic(&fx, "h.other");
  EXPECT(uvp_host_publish(fx.host, t, "x", 1), 0);
  EXPECT_TRUE(uvt_run_until_int(&fx, &rec.n, 1));
  EXPECT(fx.api->cancel(fx.ctx, embedder_sub), 0);
}

static void c_double_cancel(void) { EXPECT(sym("hostile_destroys"), 1); }

/* D4: exactly 100 refused, the queue never held more than its capacity. */
static void c_init_storm(void) {
  uvp_host_stats st = hstats();
  EXPECT(st.queue_refused, 100);
  EXPECT(st.queue_high_water, 256);
}

static void c_huge(void) { EXPECT(sym("hostile_frees"), 0); }

static void c_fd_twice(void) {
  EXPECT(hstats().fd_watches, 1);
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT(sym("hostile_destroys"), 1);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static void c_timer_never(void) {
  run_ms(20);
  EXPECT(hstats().timers, 1);
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT(sym("hostile_destroys"), 1);
}

/* D6: other timers, the bystander and the embedder run while it spins. */
static int embedder_timer(uvp_ctx *c, void *ud) {
  (void)c;
  (*(int *)ud)++;
  return 0;
}
static void c_timer_spin(void) {
  int fired = 0;
  uvp_id id;
  EXPECT(fx.api->timer_start(fx.ctx, 5, 5, embedder_timer, &fired, NULL, &id),
         0);
  /* bounded by time, not turns: a spinning timer makes turns short */
  uint64_t end = uv_hrtime() + 3000000000u;
  while ((fired < 3 || sym("hostile_spins") <= 3) && uv_hrtime() < end)
    uvt_run_turns(&fx, 1);
  EXPECT_TRUE(fired >= 3);
  EXPECT_TRUE(sym("hostile_spins") > 3);
  EXPECT(fx.api->cancel(fx.ctx, id), 0);
}

/* D4, D5: 1024 publishes from one callback: 256 accepted, 768 refused. */
static void c_storm_cb(void) {
  kick();
  EXPECT_LOG("storm_cb: ok=256 again=768");
  uvp_host_stats st = hstats();
  EXPECT(st.queue_refused, 768);
  EXPECT(st.queue_high_water, 256);
}

static bool frees_256(void *arg) {
  (void)arg;
  return sym("hostile_frees") == 256;
}
/* L8: every accepted owned payload is freed once, refused ones never. */
static void c_storm_owned(void) {
  kick();
  EXPECT_LOG("storm_owned: ok=256 again=768");
  EXPECT_TRUE(wait_for(frees_256));
  EXPECT(hstats().queue_refused, 768);
}

static void c_slow_event(void) {
  kick();
  EXPECT(pstats("hx").slow_callbacks, 1);
  EXPECT_LOG("slow callback: hx event");
}

static void c_epanic(void) {
  kick();
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT_LOG("callback panicked; quarantined and unloading");
}

static void c_epanic_log(void) {
  kick();
  kick();
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.panics, 2);
  EXPECT(st.state, UVP_PLUGIN_RUNNING);
  EXPECT_LOG("callback panicked; continuing");
}

static void c_error(void) {
  kick();
  kick();
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.errors, 2);
  EXPECT(st.panics, 0);
  EXPECT(st.state, UVP_PLUGIN_RUNNING);
}

static void c_self_kick(void) {
  kick();
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT(sym("hostile_unloads"), 1);
}

static void c_self_wait(void) {
  EXPECT_TRUE(wait_for(hx_gone));
  EXPECT(sym("hostile_unloads"), 1);
}

static void c_unload_then_gone(void) {
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT(sym("hostile_unloads"), 1);
}

static void c_reg_destroy(void) {
  kick();
  EXPECT_LOG("reg_destroy: destroy subscribe=OK timer=OK");
  c_unload_then_gone();
  EXPECT_LOG("reg_destroy: destroy subscribe=ECLOSED timer=ECLOSED");
  EXPECT(sym("hostile_destroys"), 2);
}

static void c_pub_destroy(void) {
  c_unload_then_gone();
  EXPECT(sym("hostile_destroys"), 1);
}

static void c_free_publish(void) {
  kick();
  uvt_run_turns(&fx, 5);
  EXPECT(sym("hostile_frees"), 1);
  EXPECT_LOG("free_publish: free publish=OK");
}

static void c_fault_destroy(void) {
  kick();
  uvt_run_turns(&fx, 3);
  EXPECT(sym("hostile_destroys"), 1);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT_LOG("destroy panicked");
  EXPECT_LOG("plugin reported a panic; quarantined and unloading");
}

static void c_log_flood(void) {
  EXPECT_LOG("BEGINzz\\x01zzzzzz\\x01");
  EXPECT_LOG(" [...] ");
  EXPECT_LOG("zEND");
}

static void c_topic_exhaust(void) { EXPECT(hstats().topics, 8); }

static bool posts_64(void *arg) {
  (void)arg;
  return pstats("hx").posts == 64;
}
static void c_remote_flood(void) {
  EXPECT_TRUE(wait_for(posts_64));
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.post_high_water, 64);
  EXPECT(hstats().remote_refused, 36);
  EXPECT(sym("hostile_destroys"), 64);
}

/* U4: not unload-safe: unloaded, the reference still works (R5). */
static void c_leak_remote(void) {
  EXPECT(pstats("hx").remote_refs, 1);
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT_LOG("unloaded; 1 remote reference(s) still held");
  c_leaked_remote_closed();
}

/* U4: unload-safe: stays mapped until the last release. */
static void c_safe_leak(void) {
  uvp_remote *r = (uvp_remote *)(uintptr_t)uvt_sym_u64(HDIR "safe_leak.so",
                                                       "safe_leak_remote");
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT_LOG("unmapping waits for the last release");
  EXPECT_TRUE(uvt_is_mapped(HDIR "safe_leak.so"));
  fx.api->remote_release(r);
  uvt_run_turns(&fx, 5);
  EXPECT_TRUE(!uvt_is_mapped(HDIR "safe_leak.so"));
}

static bool abandoned(void *arg) {
  (void)arg;
  return uvt_log_count(&fx.log, 0, "abandoned") >= 1;
}
static bool abandon_over(void *arg) {
  (void)arg;
  return hstats().work_items == 0 && pstats("by").work_abandoned == 0;
}
/* W6, U3: unload waits work_drain_ms (200), logs, abandons, goes on. */
static bool stuck_started(void *arg) {
  (void)arg;
  return sym("hostile_work_now") == 1;
}
static void c_work_stuck(void) {
  EXPECT_TRUE(wait_for(stuck_started));
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  EXPECT(pstats("hx").state, UVP_PLUGIN_DRAINING);
  EXPECT_TRUE(wait_for(abandoned));
  EXPECT_LOG("1 work item(s) still running after 200 ms: abandoned");
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT(sym("hostile_unloads"), 1);
  EXPECT(sym("hostile_work_done"), 0);
  EXPECT(pstats("by").work_abandoned, 1);
  sym("hostile_release_work");
  EXPECT_TRUE(wait_for(abandon_over));
  EXPECT(sym("hostile_destroys"), 0);
}

static bool flood_done(void *arg) {
  (void)arg;
  return sym("hostile_work_done") == 50;
}
/* W4: 50 items, at most 2 (work_concurrency) on the pool at once. */
static void c_work_flood(void) {
  EXPECT_TRUE(wait_for(flood_done));
  EXPECT_TRUE(sym("hostile_work_max") <= 2);
  EXPECT(sym("hostile_destroys"), 50);
}

/* T2: 14 refusals, counted, logged once. */
static void c_foreign(void) {
  uvt_run_turns(&fx, 3);
  EXPECT(pstats("hx").wrong_thread, 14);
  EXPECT(uvt_log_count(&fx.log, 0,
                       "called a loop-only function from another "
                       "thread"),
         1);
  EXPECT(sym("hostile_destroys"), 0);
}

/* T3: the embedder's uvp_host_* functions from another thread. */
static void host_thread(void *arg) {
  int *n = arg;
  uvp_host_stats hs = {.size = sizeof hs};
  uvp_plugin_stats ps = {.size = sizeof ps};
  uvp_topic t;
  int rc[8] = {
      uvp_host_unload(fx.host, "hx"),
      uvp_host_load(fx.host, HOSTILE, "hy", "case=idle", NULL),
      uvp_host_reload(fx.host, "hx", HOSTILE, "case=idle", NULL),
      uvp_host_get_stats(fx.host, &hs),
      uvp_host_plugin_stats(fx.host, "hx", &ps),
      uvp_host_topic(fx.host, "h.in", &t),
      uvp_host_publish(fx.host, 1, "a", 1),
      uvp_host_close(fx.host, NULL, NULL),
  };
  for (int i = 0; i < 8; i++) *n += rc[i] == UVP_EWRONGTHREAD;
}
static void c_host_foreign(void) {
  int n = 0;
  uv_thread_t t;
  EXPECT(uv_thread_create(&t, host_thread, &n), 0);
  EXPECT(uv_thread_join(&t), 0);
  EXPECT(n, 8);
  EXPECT(pstats("hx").state, UVP_PLUGIN_RUNNING);
  EXPECT(hstats().plugins, 2);
}

/* ---- second round ------------------------------------------------------- */

/* F6 before a check closes the host itself (by_extra -1 in the table). */
static void f6_now(int extra) {
  uvt_run_turns(&fx, 5);
  uvp_topic in = uvt_topic(&fx, "h.in");
  for (int i = 0; i < 10; i++)
    EXPECT(uvp_host_publish(fx.host, in, &i, sizeof i), 0);
  uvt_run_turns(&fx, 5);
  EXPECT(pstats("by").events, (uint64_t)extra + 10);
}

static int closed_calls;
static void on_closed(void *data) { (*(int *)data)++; }
static bool host_closed(void *arg) {
  (void)arg;
  return closed_calls == 1;
}

/* W6, S2: close waits work_drain_ms for a stuck item, logs it, finishes;
 * libuv keeps the abandoned request on the loop until it returns. */
static void c_work_stuck_close(void) {
  EXPECT_TRUE(wait_for(stuck_started));
  f6_now(0);
  closed_calls = 0;
  EXPECT(uvp_host_close(fx.host, on_closed, &closed_calls), 0);
  fx.host = NULL;
  uint64_t t0 = uv_hrtime();
  EXPECT_TRUE(wait_for(host_closed));
  EXPECT_TRUE(uv_hrtime() - t0 >= 150000000u); /* it did wait (200 ms) */
  EXPECT_LOG("1 work item(s) still running after 200 ms: abandoned");
  EXPECT(sym("hostile_unloads"), 1);
  EXPECT(uv_loop_alive(&fx.loop), 1);
  sym("hostile_release_work");
  uint64_t end = uv_hrtime() + 5000000000u;
  while (sym("hostile_work_now") != 0 && uv_hrtime() < end) usleep(1000);
  uvt_run_turns(&fx, 20);
  EXPECT(sym("hostile_work_done"), 0);
  EXPECT(sym("hostile_destroys"), 0);
}

/* U5: the new instance fails; the old one keeps running, untouched. */
static void c_reload_fail(void) {
  EXPECT(uvp_host_reload(fx.host, "hx", HOSTILE, "case=init_fail", NULL),
         UVP_EINIT);
  int status;
  const char *msg;
  EXPECT(uvp_host_load_error(fx.host, &status, &msg), 0);
  EXPECT(status, UVP_EINIT);
  EXPECT(sym("hostile_destroys"), 3);
  EXPECT(pstats("hx").state, UVP_PLUGIN_RUNNING);
  EXPECT(hstats().plugins, 2);
}

static void c_self_panic(void) {
  kick();
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT(sym("hostile_unloads"), 1);
  EXPECT(sym("hostile_destroys"), 1);
  EXPECT_LOG("callback panicked");
}

static bool one_done(void *arg) {
  (void)arg;
  return sym("hostile_work_done") == 1;
}
static void c_work_calls_loop(void) {
  EXPECT_TRUE(wait_for(one_done));
  uvt_run_turns(&fx, 3);
  EXPECT((int)sym("hostile_thread_rc"), 0);
  EXPECT(pstats("hx").wrong_thread, 2);
  EXPECT_LOG("called a loop-only function from another thread");
}

static void o_limit4(uvp_host_options *o, uvp_load_options *lo) {
  (void)o;
  lo->remote_limit = 4;
}
static void c_block_then_unload(void) {
  EXPECT(sym("hostile_spins"), 4);
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  EXPECT_TRUE(wait_for(hx_gone));
  EXPECT((int)sym("hostile_thread_rc"), UVP_ECLOSED);
  EXPECT(sym("hostile_destroys"), 4); /* R4: destroyed, never run */
  EXPECT(sym("hostile_unloads"), 1);
}

static void c_positive_rc(void) {
  kick();
  kick();
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.state, UVP_PLUGIN_RUNNING);
  EXPECT(st.panics, 0);
  EXPECT(st.errors, 2); /* outside the ABI (0 or negative): an error */
}

static void c_init_fail_owned(void) {
  uvt_run_turns(&fx, 5);
  EXPECT(sym("hostile_frees"), 1);
}

/* S4: a destroy run by the close publishes: refused, nothing delivered. */
static void c_pub_destroy_close(void) {
  f6_now(0);
  uvt_fx_close_host(&fx);
  EXPECT(sym("hostile_destroys"), 1);
  EXPECT((int)sym("hostile_spins"), UVP_ECLOSED);
}

/* ---- third round --------------------------------------------------------- */

static void c_cancel_work(void) {
  EXPECT_TRUE(wait_for(stuck_started));
  kick();
  EXPECT_LOG("cancel_work: cancel_running=OK");
  sym("hostile_release_work");
  EXPECT_TRUE(wait_for(one_done));
  uvt_run_turns(&fx, 3);
  EXPECT((int)sym("hostile_done_status"), UVP_ECANCELED);
  EXPECT_LOG("cancel_work: done status=ECANCELED cancel_in_done=ESTALE");
  EXPECT(sym("hostile_destroys"), 1);
  EXPECT(hstats().work_items, 0);
}

static bool one_error(void *arg) {
  (void)arg;
  return pstats("hx").errors == 1;
}
static void c_remote_pub(void) {
  EXPECT_TRUE(wait_for(one_error));
  EXPECT(pstats("hx").posts, 2);
}

static void c_slow_stop(void) {
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT(hstats().slow_callbacks, 1);
  EXPECT_LOG("slow callback: hx on_stop");
}

static void o_readable_pipe(uvp_host_options *o, uvp_load_options *lo) {
  (void)o, (void)lo;
  ck_assert_int_eq(pipe(pipe_fds), 0);
  ck_assert_int_eq(write(pipe_fds[1], "r", 1), 1);
  snprintf(config, sizeof config, "case=fd_never_read fd=%d", pipe_fds[0]);
}
static void c_fd_never_read(void) {
  c_timer_spin();
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT(sym("hostile_destroys"), 1);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static bool flood_fired(void *arg) {
  (void)arg;
  return sym("hostile_spins") == 10000;
}
/* D6: all 10000 fire, in the order started; each destroyed once. */
static void c_timer_flood(void) {
  EXPECT_TRUE(wait_for(flood_fired));
  EXPECT(sym("hostile_work_max"), 0);
  EXPECT(sym("hostile_destroys"), 10000);
  EXPECT(hstats().timers, 0);
}

static int owned_frees;
static void o_safe_owned(uvp_host_options *o, uvp_load_options *lo) {
  (void)o, (void)lo;
  owned_frees = 0;
  snprintf(config, sizeof config, "count=%llx",
           (unsigned long long)(uintptr_t)&owned_frees);
}
static void o_safe_owned_fail(uvp_host_options *o, uvp_load_options *lo) {
  o_safe_owned(o, lo);
  strcat(config, " fail=1");
}
/* L8, A10: freed once before the unload ends, then unmapped. */
static void c_safe_owned(void) {
  if (uvp_host_unload(fx.host, "hx") != UVP_ENOENT) /* failed init: gone */
    uvt_run_turns(&fx, 1);
  EXPECT(owned_frees, 1);
  uvt_run_turns(&fx, 5);
  EXPECT(owned_frees, 1);
  EXPECT_TRUE(!uvt_is_mapped(HDIR "safe_owned.so"));
}

/* U3, W2: unload while the item runs; done sees ECANCELED and its
 * registrations are refused. */
static void c_requeue(void) {
  EXPECT_TRUE(wait_for(stuck_started));
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  EXPECT(pstats("hx").state, UVP_PLUGIN_DRAINING);
  sym("hostile_release_work");
  EXPECT_TRUE(wait_for(hx_gone));
  EXPECT(sym("hostile_work_done"), 1);
  EXPECT(sym("hostile_destroys"), 1);
  EXPECT(sym("hostile_unloads"), 1);
}

/* A second unload, and a reload, of a DRAINING instance: ECLOSED (it is
 * unloading); its name is free again at once (uvp_host_unload LIFETIME). */
static void c_drain_twice(void) {
  EXPECT_TRUE(wait_for(stuck_started));
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  EXPECT(uvp_host_unload(fx.host, "hx"), UVP_ECLOSED);
  EXPECT(uvp_host_reload(fx.host, "hx", HOSTILE, "case=idle", NULL),
         UVP_ECLOSED);
  /* the live instance is found first; the DRAINING one stays listed */
  EXPECT(uvp_host_load(fx.host, HOSTILE, "hx", "case=idle", NULL), 0);
  EXPECT(pstats("hx").state, UVP_PLUGIN_RUNNING);
  EXPECT(hstats().plugins, 3);
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT(pstats("hx").state, UVP_PLUGIN_DRAINING);
  EXPECT(hstats().plugins, 2);
  sym("hostile_release_work");
  EXPECT_TRUE(wait_for(hx_gone));
  EXPECT(hstats().plugins, 1);
  EXPECT(sym("hostile_unloads"), 2);
}

/* ---- Rust (rust-plugins/examples/hostile) ------------------------------ */

static void c_rust_unload(void) {
  EXPECT(uvp_host_unload(fx.host, "hx"), 0);
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
}

static void c_rust_quarantined(void) {
  kick();
  uvt_run_turns(&fx, 3);
  EXPECT_TRUE(hx_gone(NULL));
  EXPECT_LOG("quarantined and unloading");
}

static void c_rust_never_ok(void) {
  kick();
  kick();
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.errors, 2);
  EXPECT(st.panics, 0);
  EXPECT(st.state, UVP_PLUGIN_RUNNING);
}

static bool work_logged(void *arg) {
  (void)arg;
  return uvt_log_count(&fx.log, 0, "hostile: work done") >= 1;
}
static void c_rust_panic_work(void) {
  kick();
  EXPECT_TRUE(wait_for(work_logged));
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.state, UVP_PLUGIN_RUNNING);
  EXPECT(st.panics, 0);
  EXPECT(st.work_pending, 0);
}

static bool two_errors(void *arg) {
  (void)arg;
  return pstats("hx").errors >= 2;
}
static void c_rust_timer_err(void) {
  EXPECT_TRUE(wait_for(two_errors));
  uvp_plugin_stats st = pstats("hx");
  EXPECT(st.panics, 0);
  EXPECT(st.state, UVP_PLUGIN_RUNNING);
}

static void c_desc_huge(void) {
  uvp_plugin_info info = {.size = sizeof info};
  EXPECT(uvp_host_plugin_info(fx.host, "hx", &info), 0);
  EXPECT(info.unload_safe, 0);
}

/* ---- the corpus -------------------------------------------------------- */

static const hcase cases[] = {
    {"init_sleep", "O2 F6", "load 0, slow_callbacks 1, log slow callback",
     HOSTILE, 0, "init_sleep: slept 300 ms", o_slow, c_init_sleep, 0, 0},
    {"init_fail", "A9 L1", "UVP_EINIT, 3 destroys, unlisted", HOSTILE,
     UVP_EINIT, "on_init of 'hx' failed: UVP_EINVAL", NULL, c_init_fail, 0, 0},
    {"init_fail_work", "A9 W1", "UVP_EINIT, done ECANCELED later", HOSTILE,
     UVP_EINIT, "init_fail_work: work=OK", NULL, c_init_fail_work, 0, 0},
    {"init_fail_slow", "A9 W6 B7", "UVP_EINIT, not abandoned: done ECANCELED",
     HOSTILE, UVP_EINIT, "init_fail_slow: work=OK", NULL, c_init_fail_slow, 0,
     0},
    {"init_fail_remote", "A9 R5", "UVP_EINIT, leaked remote gets ECLOSED",
     HOSTILE, UVP_EINIT, "on_init of 'hx' failed", NULL, c_leaked_remote_closed,
     0, 0},
    {"start_fail", "A9 L1", "UVP_EINIT, destroy then on_unload", HOSTILE,
     UVP_EINIT, "on_start of 'hx' failed: UVP_EINVAL", NULL, c_start_fail, 0,
     0},
    {"init_panic", "A9 F1", "UVP_EINIT", HOSTILE, UVP_EINIT,
     "on_init of 'hx' failed: UVP_EPANIC", NULL, NULL, 0, 0},
    {"init_unload_self", "U6 S3", "load 0, unloaded next turn", HOSTILE, 0,
     "init_unload_self: unload_self=OK", NULL, c_gone_after_turn, 0, 0},
    {"cancel_others", "L5", "ENOENT, the owner's id still live", HOSTILE, 0,
     "cancel_others: cancel=ENOENT", o_others, c_others, 0, 0},
    {"cancel_garbage", "L5 F3", "ENOENT for 0, ~0, unissued", HOSTILE, 0,
     "cancel_garbage: zero=ENOENT ones=ENOENT unissued=ENOENT", NULL, NULL, 0,
     0},
    {"double_cancel", "L4 L1", "OK then ESTALE, 1 destroy", HOSTILE, 0,
     "double_cancel: first=OK second=ESTALE", NULL, c_double_cancel, 0, 0},
    {"init_storm", "D4 O1 B5", "256 OK, 100 EAGAIN, high water 256", HOSTILE, 0,
     "init_storm: ok=256 again=100 other=0", NULL, c_init_storm, 256, 0},
    {"huge_payload", "F4 L8", "EMSGSIZE over max_payload, no free", HOSTILE, 0,
     "huge_payload: over=EMSGSIZE owned_over=EMSGSIZE sizemax=EMSGSIZE "
     "max=OK",
     NULL, c_huge, 1, 0},
    {"bad_topics", "F4", "EINVAL for every bad name, 255 bytes OK", HOSTILE, 0,
     "bad_topics: empty=EINVAL nul=EINVAL ff=EINVAL cut=EINVAL "
     "overlong=EINVAL surrogate=EINVAL 256=EINVAL null=EINVAL noout=EINVAL "
     "255=OK",
     NULL, NULL, 0, 0},
    {"bad_args", "F3 F5 L6 B8", "EINVAL/ENOENT, nothing registered", HOSTILE, 0,
     "bad_args: sub_nullcb=EINVAL sub_noid=EINVAL sub_topic=ENOENT "
     "pub_topic=ENOENT pub_null=EINVAL",
     NULL, NULL, 0, 0},
    {"bad_args_timer", "F3 L6", "EINVAL", HOSTILE, 0,
     "timer_nullcb=EINVAL timer_repeat=EINVAL owned_nofree=EINVAL "
     "now_null=EINVAL",
     NULL, NULL, 0, 0},
    {"bad_args_fd", "F3", "EINVAL", HOSTILE, 0,
     "fd_noevents=EINVAL fd_badflag=EINVAL work_null=EINVAL log_level=EINVAL",
     NULL, NULL, 0, 0},
    {"bad_args_fault", "F3 F7", "EINVAL", HOSTILE, 0,
     "fault_zero=EINVAL fault_pos=EINVAL name_null=EINVAL ctx_null=EINVAL "
     "remote_null=EINVAL",
     NULL, NULL, 0, 0},
    {"fd_closed", "D7", "EINVAL for a closed and a negative fd", HOSTILE, 0,
     "fd_closed: closed=EINVAL negative=EINVAL", NULL, NULL, 0, 0},
    {"fd_regular", "D7", "EINVAL for a regular file", HOSTILE, 0,
     "fd_regular: regular=EINVAL", NULL, NULL, 0, 0},
    {"fd_twice", "D7 L6", "OK then EBUSY, 1 destroy", HOSTILE, 0,
     "fd_twice: first=OK second=EBUSY", o_pipe, c_fd_twice, 0, 0},
    {"timer_never", "D6", "OK, never fires, destroyed at unload", HOSTILE, 0,
     "timer_never: never=OK", NULL, c_timer_never, 0, 0},
    {"timer_spin", "D6 F6 B9", "0 ms re-arm: others' timers still fire",
     HOSTILE, 0, "", NULL, c_timer_spin, 0, 0},
    {"timer_busy", "D6 F6 B9", "1 ms repeat, 3 ms callback: others run",
     HOSTILE, 0, "", NULL, c_timer_spin, 0, 0},
    {"storm_cb", "D4 D5 O1 B5", "256 OK 768 EAGAIN, high water 256", HOSTILE, 0,
     "", NULL, c_storm_cb, 256, 0},
    {"storm_owned", "D4 L8 B5", "256 freed once, 768 stay the caller's",
     HOSTILE, 0, "", NULL, c_storm_owned, 256, 0},
    {"slow_event", "O2", "slow_callbacks 1, log slow callback", HOSTILE, 0, "",
     o_slow50, c_slow_event, 0, 0},
    {"epanic", "F1 F6", "quarantined, unloaded, log", HOSTILE, 0, "", NULL,
     c_epanic, 0, 0},
    {"epanic_log", "F1 F6", "panics 2, keeps running under log policy", HOSTILE,
     0, "", o_fault_log, c_epanic_log, 0, 0},
    {"error", "F2", "errors 2, keeps running", HOSTILE, 0,
     "callback failed: UVP_UNKNOWN (-5)", NULL, c_error, 0, 0},
    {"self_event", "U6 S3", "OK then ECLOSED; unloaded after return", HOSTILE,
     0, "self_event: first=OK second=ECLOSED register=OK", NULL, c_self_kick, 0,
     0},
    {"self_timer", "U6 S3", "unloaded after the timer returns", HOSTILE, 0,
     "self_timer: timer unload_self=OK", NULL, c_self_wait, 0, 0},
    {"self_destroy", "S3 L1", "unload starts next turn", HOSTILE, 0,
     "self_destroy: destroy unload_self=OK", NULL, c_self_kick, 0, 0},
    {"self_stop", "S1", "ECLOSED from on_stop", HOSTILE, 0,
     "self_stop: stop unload_self=ECLOSED", NULL, c_unload_then_gone, 0, 0},
    {"self_free", "S3 L8", "unload starts next turn", HOSTILE, 0,
     "self_free: free unload_self=OK", NULL, c_self_kick, 1, 0},
    {"self_post", "U6 R4", "unloaded after the post returns", HOSTILE, 0,
     "self_post: post unload_self=OK", NULL, c_self_wait, 0, 0},
    {"self_done", "U6 W1", "unloaded after done returns", HOSTILE, 0,
     "self_done: done status=OK unload_self=OK", NULL, c_self_wait, 0, 0},
    {"reg_destroy", "U1 L1", "OK while running, ECLOSED at unload", HOSTILE, 0,
     "", NULL, c_reg_destroy, 0, 0},
    {"pub_destroy", "U1 F6", "publish from a destroy at unload", HOSTILE, 0,
     "pub_destroy: destroy publish=OK", NULL, c_pub_destroy, 1, 0},
    {"free_publish", "L8 D2", "publish from a free_fn: OK", HOSTILE, 0, "",
     NULL, c_free_publish, 2, 0},
    {"fault_destroy", "F7", "counted, quarantined next turn", HOSTILE, 0,
     "fault_destroy: fault=OK", NULL, c_fault_destroy, 0, 0},
    {"log_flood", "A16", "100 kB line: escaped, cut", HOSTILE, 0,
     "log_flood: log=OK", NULL, c_log_flood, 0, 0},
    {"topic_exhaust", "F3", "ENOSPC at max_topics", HOSTILE, 0,
     "topic_exhaust: ok=4 last=ENOSPC", o_topics, c_topic_exhaust, 0, 0},
    {"block_on_loop", "R2", "EINVAL for UVP_POST_BLOCK on the loop", HOSTILE, 0,
     "block_on_loop: post=EINVAL publish=EINVAL", NULL, NULL, 0, 0},
    {"remote_flood", "R2 R1", "64 OK 36 EAGAIN, all 64 run", HOSTILE, 0,
     "remote_flood: ok=64 again=36", o_limit, c_remote_flood, 0, 0},
    {"leak_remote", "U4 R5", "unloaded, ref logged, posts ECLOSED", HOSTILE, 0,
     "", NULL, c_leak_remote, 0, 0},
    {"safe_leak", "U4 A10", "mapped until the last release",
     HDIR "safe_leak.so", 0, "", NULL, c_safe_leak, 0, 0},
    {"work_stuck", "W6 U3", "DRAINING, abandoned after 200 ms, logged", HOSTILE,
     0, "unloading; waiting for 1 running work item(s), at most 200 ms", NULL,
     c_work_stuck, 0, 0},
    {"work_flood", "W4 W1", "50 done, at most 2 at once", HOSTILE, 0, "", NULL,
     c_work_flood, 0, 0},
    {"foreign", "T2", "14 x EWRONGTHREAD, wrong_thread 14, logged once",
     HOSTILE, 0, "foreign: wrongthread=14/14", NULL, c_foreign, 0, 0},
    {"work_stuck_close", "W6 S2", "close waits 200 ms, logs, on_closed once",
     HOSTILE, 0, "", NULL, c_work_stuck_close, -1, 0},
    {"reload_fail", "U5 A9 A15", "UVP_EINIT, old instance runs untouched",
     HOSTILE, 0, "on_init of 'hx' failed", NULL, c_reload_fail, 0, 0},
    {"fake_ctx", "F3 B8", "EINVAL for a ctx that is not one", HOSTILE, 0,
     "fake_ctx: publish=EINVAL subscribe=EINVAL topic=EINVAL cancel=EINVAL",
     NULL, NULL, 0, 0},
    {"self_panic", "F1 U6", "unload_self then EPANIC: unloaded once", HOSTILE,
     0, "self_panic: unload_self=OK", NULL, c_self_panic, 0, 0},
    {"work_calls_loop", "T5 T2", "EWRONGTHREAD from the pool, counted", HOSTILE,
     0, "", NULL, c_work_calls_loop, 0, 0},
    {"block_then_unload", "R2 R4 U4", "blocked poster gets ECLOSED, 4 destroys",
     HOSTILE, 0, "", o_limit4, c_block_then_unload, 0, 0},
    {"id_churn", "L4", "100000 ids, none reused, old ones ESTALE", HOSTILE, 0,
     "id_churn: dup=0 first=ESTALE last=ESTALE", NULL, NULL, 0, 0},
    {"positive_rc", "F2 B6", "positive status: counted in errors, runs on",
     HOSTILE, 0, "callback failed: UVP_UNKNOWN (7)", NULL, c_positive_rc, 0, 0},
    {"init_fail_owned", "A9 L8", "UVP_EINIT, payload freed once", HOSTILE,
     UVP_EINIT, "init_fail_owned: owned=OK", NULL, c_init_fail_owned, 1, 0},
    {"pub_destroy_close", "S4 S2", "publish at close: ECLOSED", HOSTILE, 0, "",
     NULL, c_pub_destroy_close, -1, 0},
    {"cancel_work", "W2 W3", "running item cancelled: done ECANCELED once",
     HOSTILE, 0, "", NULL, c_cancel_work, 0, 0},
    {"remote_pub", "R3 F4 F5", "unknown topic dropped and counted, EMSGSIZE",
     HOSTILE, 0, "remote_pub: results=7", NULL, c_remote_pub, 1, 0},
    {"slow_stop", "O2", "slow on_stop counted and logged", HOSTILE, 0, "",
     o_slow, c_slow_stop, 0, 0},
    {"fd_never_read", "D7 D5 F6 B9", "level-triggered spin: others still run",
     HOSTILE, 0, "", o_readable_pipe, c_fd_never_read, 0, 0},
    {"echo_loop", "D2 D5 F6 B9", "endless self-publish: others still run",
     HOSTILE, 0, "", NULL, c_timer_spin, 0, 0},
    {"timer_flood", "D6 L10", "10000 due at once: all fire, in order", HOSTILE,
     0, "", NULL, c_timer_flood, 0, 0},
    {"safe_owned", "L8 A10", "payload freed once, then unmapped",
     HDIR "safe_owned.so", 0, "", o_safe_owned, c_safe_owned, 1, 0},
    {"safe_owned_fail", "L8 A9 A10", "UVP_EINIT, freed once, unmapped",
     HDIR "safe_owned.so", UVP_EINIT, "", o_safe_owned_fail, c_safe_owned, 1,
     0},
    {"requeue", "U3 W2 U1", "done ECANCELED, its requests ECLOSED", HOSTILE, 0,
     "requeue: done status=ECANCELED requeue=ECLOSED unload_self=ECLOSED", NULL,
     c_requeue, 0, 0},
    {"drain_twice", "U3 S1 B10",
     "DRAINING: unload/reload ECLOSED, name reusable", HOSTILE, 0, "", NULL,
     c_drain_twice, 0, 0},
    {"host_foreign", "T3", "8 x EWRONGTHREAD, nothing changed", HOSTILE, 0, "",
     NULL, c_host_foreign, 0, 0},
    {"rust_panic_init", "A9 F1", "UVP_EINIT, panic message logged", RUST,
     UVP_EINIT, "panic in init: hostile: init asked to panic", NULL, NULL, 0,
     0},
    {"rust_panic_start", "A9 F1", "UVP_EINIT, panic message logged", RUST,
     UVP_EINIT, "hostile: start asked to panic", NULL, NULL, 0, 0},
    {"rust_panic_stop", "F7 U1", "reported via fault, unload finishes", RUST, 0,
     "hostile: stop asked to panic", NULL, c_rust_unload, 0, 0},
    {"rust_panic_handler", "F1 F6", "quarantined, unloaded", RUST, 0,
     "hostile: handler asked to panic", NULL, c_rust_quarantined, 0, 0},
    {"rust_never_ok", "F2", "errors 2, keeps running", RUST, 0,
     "callback failed: UVP_EINVAL", NULL, c_rust_never_ok, 0, 0},
    {"rust_timer_err", "F2 D6", "every tick counted, keeps running", RUST, 0,
     "callback failed: UVP_EBUSY", NULL, c_rust_timer_err, 0, 0},
    {"rust_panic_handler_drop", "F7 L1", "drop panic reported, unloaded", RUST,
     0, "panic while dropping a handler", NULL, c_rust_unload, 0, 0},
    {"rust_panic_state_drop", "A10 F6", "contained, unloaded", RUST, 0, "",
     NULL, c_rust_unload, 0, 0},
    {"rust_leak_remote", "U4 R5", "unloaded, reference logged", RUST, 0,
     "unloaded; 1 remote reference(s) still held: their posts get "
     "UVP_ECLOSED",
     NULL, c_rust_unload, 0, 0},
    {"rust_panic_work", "W1 T5", "done gets Err(Panic), keeps running", RUST, 0,
     "hostile: work done Some(Panic)", NULL, c_rust_panic_work, 0, 0},
    {"rust_panic_post", "F1 R1", "quarantined, unloaded", RUST, 0,
     "hostile: posted closure panics", NULL, c_rust_quarantined, 0, 0},
    {"desc_null_init", "A7 A8", "UVP_EBADDESC", HDIR "desc_null_init.so",
     UVP_EBADDESC, "descriptor needs on_init and a name", NULL, NULL, 0, 0},
    {"desc_name_slash", "A7 A8", "UVP_EBADDESC, on_init never runs",
     HDIR "desc_name_slash.so", UVP_EBADDESC,
     "descriptor needs on_init and a name", NULL, NULL, 0, 0},
    {"desc_huge", "A5 A7", "loads: size 4 GiB, minor 65535, version cut",
     HDIR "desc_huge.so", 0, "", NULL, c_desc_huge, 0, 0},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* Cases sharing a plugin behaviour under another name. */
static const char *plugin_case(const char *name) {
  if (strncmp(name, "bad_args", 8) == 0) return "bad_args";
  if (strcmp(name, "epanic_log") == 0) return "epanic";
  if (strcmp(name, "host_foreign") == 0) return "idle";
  if (strcmp(name, "reload_fail") == 0) return "idle";
  if (strcmp(name, "work_stuck_close") == 0) return "work_stuck";
  if (strcmp(name, "drain_twice") == 0) return "work_stuck";
  if (strncmp(name, "rust_", 5) == 0) return name + 5;
  return name;
}

static bool skipped(const hcase *c) {
  const char *only = getenv("UVP_HOSTILE_CASE"); /* for debugging one case */
  if (only != NULL && strcmp(only, c->name) != 0) return true;
  const char *k = getenv("UVP_HOSTILE_KNOWN");
  return c->known_defect && !(k && strcmp(k, "1") == 0);
}

START_TEST(hostile_case) {
  C = &cases[_i];
  if (skipped(C)) return;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.queue_capacity = 256;
  o.max_payload = 4096;
  o.work_drain_ms = 200;
  uvp_load_options lo = UVP_LOAD_OPTIONS_INIT;
  snprintf(config, sizeof config, "case=%s", plugin_case(C->name));
  uvt_fx_init(&fx, &o);
  /* the options that need a host are applied after it exists */
  uvp_host_options o2 = o;
  if (C->setup != NULL) C->setup(&o2, &lo);
  if (memcmp(&o2, &o, sizeof o) != 0) {
    uvt_fx_close(&fx);
    uvt_fx_init(&fx, &o2);
  }
  EXPECT(uvp_host_load(fx.host, BY, "by", "topic=h.in", NULL), 0);
  int rc = uvp_host_load(fx.host, C->plugin, "hx", config, &lo);
  ck_assert_msg(rc == C->load_rc, "case %s [%s]: expected load %s, got %s (%s)",
                C->name, C->rules, uvp_err_name(C->load_rc), uvp_err_name(rc),
                fx.log.n ? fx.log.lines[fx.log.n - 1].msg : "");
  if (C->check != NULL) C->check();
  if (C->log != NULL && C->log[0] != '\0') EXPECT_LOG(C->log);
  /* F6: the bystander got every event the case gave it, and 10 more. */
  if (C->by_extra >= 0) {
    f6_now(C->by_extra);
    EXPECT(pstats("by").errors, 0);
  }
  uvt_fx_close(&fx);
  EXPECT(uvt_log_off_thread(&fx.log), 0); /* T1 */
}
END_TEST

static void write_report(int failed) {
  mkdir(REPORT, 0755);
  FILE *f = fopen(REPORT "/hostile.txt", "w");
  if (f == NULL) return;
  int run = 0;
  for (int i = 0; i < NCASES; i++) run += !skipped(&cases[i]);
  fprintf(f, "cases=%d\npassed=%d\nknown_defects=%d\n", NCASES, run - failed,
          NCASES - run);
  for (int i = 0; i < NCASES; i++)
    fprintf(f, "case=%s expect=%s\n", cases[i].name, cases[i].expect);
  fclose(f);
}

int main(void) {
  Suite *s = suite_create("hostile");
  TCase *tc = uvt_tcase(s, "corpus");
  tcase_set_timeout(tc, uvt_valgrind() ? 120 : 20);
  tcase_add_loop_test(tc, hostile_case, 0, NCASES);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  write_report(failed);
  return failed == 0 ? 0 : 1;
}
