/* Work offload on the libuv thread pool (W1-W6, U3, T4, T5, A9), through the C
 * work plugin (tests/plugins/work_plugin.c), whose exported functions the
 * test calls on the loop thread to queue, cancel and release items.
 *
 * UVP_TEST_LABELS: tsan
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "uvp_test.h"

#define WORK_PATH UVP_TEST_PLUGIN_DIR "/work_plugin.so"
#define WORK_SAFE_PATH UVP_TEST_PLUGIN_DIR "/work_safe_plugin.so"
#define COUNTER_PATH UVP_TEST_PLUGIN_DIR "/counter_plugin.so"
#define POOL 4 /* UV_THREADPOOL_SIZE, set in main */

typedef struct work_fns {
  void *dl;
  int (*queue)(int i, int kind);
  int (*cancel)(int i);
  void (*release)(int i);
  void (*item)(int i, uint64_t out[8]);
  int (*started)(int i);
  const char *(*trace)(void);
  uint64_t (*unloaded)(void);
} work_fns;

static work_fns W;

typedef struct item_state {
  int started, finished_at_done, done_calls, done_status, destroy_calls;
  uv_thread_t work_thread, done_thread;
  int post_rc, wrong_rc;
} item_state;

static item_state item(int i) {
  uint64_t out[8];
  W.item(i, out);
  item_state s = {
      .started = (int)out[0],
      .finished_at_done = (int)out[1],
      .done_calls = (int)out[2],
      .done_status = (int)(int64_t)out[3],
      .destroy_calls = (int)out[4],
      .work_thread = (uv_thread_t)out[5],
      .done_thread = (uv_thread_t)out[6],
      .post_rc = (int)(int32_t)(uint32_t)(out[7] >> 32),
      .wrong_rc = (int)(int32_t)(uint32_t)out[7],
  };
  return s;
}

static void *sym(const char *name) {
  void *p = dlsym(W.dl, name);
  ck_assert_msg(p != NULL, "work_plugin.so lacks %s", name);
  return p;
}

/* Binds W to the work plugin's exports (the object must be mapped). */
static void bind_work(void) {
  W.dl = dlopen(WORK_PATH, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(W.dl);
  *(void **)&W.queue = sym("uvp_work_queue_item");
  *(void **)&W.cancel = sym("uvp_work_cancel_item");
  *(void **)&W.release = sym("uvp_work_release");
  *(void **)&W.item = sym("uvp_work_item");
  *(void **)&W.started = sym("uvp_work_started");
  *(void **)&W.trace = sym("uvp_work_trace");
  *(void **)&W.unloaded = sym("uvp_work_unloaded");
}

/* A host with opts (NULL: defaults) and the work plugin loaded as "work"
 * with lo (NULL: the host's settings). */
static void load_work_with(uvt_fx *fx, const uvp_host_options *opts,
                           const uvp_load_options *lo) {
  uvt_fx_init(fx, opts);
  ck_assert_int_eq(uvp_host_load(fx->host, WORK_PATH, "work", "", lo), 0);
  bind_work();
}

static void load_work(uvt_fx *fx) { load_work_with(fx, NULL, NULL); }

/* As load_work, with a host bound as large as the pool: these tests
 * saturate libuv's own queue (W2 before and after a work started). */
static void load_work_pool(uvt_fx *fx) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.work_concurrency = POOL;
  load_work_with(fx, &o, NULL);
}

static void close_work(uvt_fx *fx) {
  uvt_fx_close(fx);
  dlclose(W.dl); /* the reference RTLD_NOLOAD took; the host's is gone */
  memset(&W, 0, sizeof W);
}

typedef struct range {
  int from, to; /* [from, to) */
} range;

static bool all_done(void *arg) {
  range *r = arg;
  for (int i = r->from; i < r->to; i++)
    if (item(i).destroy_calls == 0) return false;
  return true;
}

static bool all_started(void *arg) {
  range *r = arg;
  for (int i = r->from; i < r->to; i++)
    if (!W.started(i)) return false;
  return true;
}

static void run_until_done(uvt_fx *fx, int from, int to) {
  range r = {from, to};
  ck_assert_msg(uvt_run_until(fx, all_done, &r, 5000), "work not done");
}

static void run_until_started(uvt_fx *fx, int from, int to) {
  range r = {from, to};
  ck_assert_msg(uvt_run_until(fx, all_started, &r, 5000), "work never started");
}

static uvp_plugin_stats stats(uvt_fx *fx) {
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(fx, "work", &st), 0);
  return st;
}

/* W1, T1: done runs once with status 0 on the loop thread, after work ran
 * on a pool thread; then destroy. W3: the id is stale once done ran. */
START_TEST(done_once_on_loop) {
  uvt_fx fx;
  load_work(&fx);
  uv_thread_t self = uv_thread_self();
  ck_assert_int_eq(W.queue(0, 0), 0);
  ck_assert_uint_eq(stats(&fx).work_pending, 1);
  run_until_done(&fx, 0, 1);
  item_state s = item(0);
  ck_assert_int_eq(s.started, 1);
  ck_assert_int_eq(s.finished_at_done, 1);
  ck_assert_int_eq(s.done_calls, 1);
  ck_assert_int_eq(s.done_status, 0);
  ck_assert_int_eq(s.destroy_calls, 1);
  ck_assert(!uv_thread_equal(&s.work_thread, &self)); /* a pool thread */
  ck_assert(uv_thread_equal(&s.done_thread, &self));  /* the loop thread */
  ck_assert_str_eq(W.trace(), "done:0:0,destroy:0");
  ck_assert_int_eq(W.cancel(0), UVP_ESTALE); /* W3 */
  uvp_plugin_stats st = stats(&fx);
  ck_assert_uint_eq(st.work_pending, 0);
  ck_assert_uint_eq(st.registrations, 0);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(item(0).done_calls, 1); /* exactly once */
  close_work(&fx);
}
END_TEST

static bool post1_traced(void *arg) {
  (void)arg;
  return strstr(W.trace(), "post:1") != NULL;
}

/* T5: a work function may post through the plugin's remote; a loop-only
 * function called from it gets UVP_EWRONGTHREAD. */
START_TEST(work_uses_remote_only) {
  uvt_fx fx;
  load_work(&fx);
  ck_assert_int_eq(W.queue(1, 2), 0);
  run_until_done(&fx, 1, 2);
  item_state s = item(1);
  ck_assert_int_eq(s.post_rc, 0);
  ck_assert_int_eq(s.wrong_rc, UVP_EWRONGTHREAD);
  ck_assert_int_eq(s.done_status, 0);
  /* The post may run before or after done; both end up traced once. */
  ck_assert(uvt_run_until(&fx, post1_traced, NULL, 5000));
  const char *t = W.trace();
  ck_assert(strcmp(t, "post:1,done:1:0,destroy:1") == 0 ||
            strcmp(t, "done:1:0,destroy:1,post:1") == 0);
  ck_assert_uint_eq(stats(&fx).wrong_thread, 1);
  close_work(&fx);
}
END_TEST

/* W2: cancelled before it started (the pool is saturated by POOL gated
 * items): work never runs, done gets UVP_ECANCELED. W3: a second cancel of
 * the same id is stale at once. */
START_TEST(cancel_before_start) {
  uvt_fx fx;
  load_work_pool(&fx);
  for (int i = 0; i < POOL; i++) ck_assert_int_eq(W.queue(i, 1), 0);
  run_until_started(&fx, 0, POOL); /* every pool thread is taken */
  ck_assert_int_eq(W.queue(POOL, 0), 0);
  ck_assert_int_eq(W.cancel(POOL), 0);
  ck_assert_int_eq(W.cancel(POOL), UVP_ESTALE);
  run_until_done(&fx, POOL, POOL + 1);
  item_state v = item(POOL);
  ck_assert_int_eq(v.started, 0); /* work never ran */
  ck_assert_int_eq(v.done_calls, 1);
  ck_assert_int_eq(v.done_status, UVP_ECANCELED);
  ck_assert_int_eq(v.destroy_calls, 1);
  ck_assert_str_eq(W.trace(), "done:4:-125,destroy:4");
  for (int i = 0; i < POOL; i++) ck_assert_int_eq(item(i).done_calls, 0);
  for (int i = 0; i < POOL; i++) W.release(i);
  run_until_done(&fx, 0, POOL);
  for (int i = 0; i < POOL; i++) {
    item_state s = item(i);
    ck_assert_int_eq(s.done_calls, 1);
    ck_assert_int_eq(s.done_status, 0);
    ck_assert_int_eq(s.destroy_calls, 1);
  }
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(item(POOL).started, 0);
  ck_assert_int_eq(item(POOL).done_calls, 1);
  ck_assert_uint_eq(stats(&fx).work_pending, 0);
  close_work(&fx);
}
END_TEST

/* W2: cancelled while it runs: work finishes, then done gets
 * UVP_ECANCELED, then destroy. */
START_TEST(cancel_while_running) {
  uvt_fx fx;
  load_work(&fx);
  ck_assert_int_eq(W.queue(0, 1), 0);
  run_until_started(&fx, 0, 1);
  ck_assert_int_eq(W.cancel(0), 0);
  ck_assert_int_eq(W.cancel(0), UVP_ESTALE); /* W3, L4 */
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(item(0).done_calls, 0); /* still running */
  ck_assert_uint_eq(stats(&fx).work_pending, 1);
  W.release(0);
  run_until_done(&fx, 0, 1);
  item_state s = item(0);
  ck_assert_int_eq(s.done_calls, 1);
  ck_assert_int_eq(s.finished_at_done, 1); /* after work returned */
  ck_assert_int_eq(s.done_status, UVP_ECANCELED);
  ck_assert_int_eq(s.destroy_calls, 1);
  ck_assert_str_eq(W.trace(), "done:0:-125,destroy:0");
  ck_assert_uint_eq(stats(&fx).work_pending, 0);
  close_work(&fx);
}
END_TEST

/* W4, T4: at most work_concurrency (default 2) items of the host's plugins
 * are on libuv's process-wide pool at once; the rest wait in FIFO order and
 * start as running ones finish. */
START_TEST(host_bound_default) {
  uvt_fx fx;
  load_work(&fx);
  for (int i = 0; i < 4; i++) ck_assert_int_eq(W.queue(i, 1), 0);
  run_until_started(&fx, 0, 2);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(W.started(2), 0);
  ck_assert_int_eq(W.started(3), 0);
  uvp_plugin_stats st = stats(&fx);
  ck_assert_uint_eq(st.work_pending, 4);
  ck_assert_uint_eq(st.work_running, 2);
  ck_assert_uint_eq(st.work_queued, 2);
  W.release(0);
  run_until_started(&fx, 2, 3); /* FIFO: 2 before 3 */
  ck_assert_int_eq(W.started(3), 0);
  ck_assert_uint_eq(stats(&fx).work_running, 2);
  ck_assert_uint_eq(stats(&fx).work_queued, 1);
  W.release(1);
  run_until_started(&fx, 3, 4);
  W.release(2);
  W.release(3);
  run_until_done(&fx, 0, 4);
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(item(i).done_calls, 1);
    ck_assert_int_eq(item(i).done_status, 0);
    ck_assert_int_eq(item(i).destroy_calls, 1);
  }
  st = stats(&fx);
  ck_assert_uint_eq(st.work_pending, 0);
  ck_assert_uint_eq(st.work_running, 0);
  ck_assert_uint_eq(st.work_queued, 0);
  close_work(&fx);
}
END_TEST

static int quick_runs, quick_dones;
static void quick_work(void *arg) { (void)arg; }
static int quick_done(uvp_ctx *ctx, int status, void *arg) {
  (void)ctx, (void)arg;
  quick_dones++;
  quick_runs += status == 0;
  return 0;
}

/* W4: a plugin's work_limit bounds it below the host's bound; a waiting
 * item whose plugin is at its limit lets others' work pass (here the
 * embedder's, through the host ctx). */
START_TEST(plugin_limit) {
  uvt_fx fx;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.work_concurrency = POOL;
  uvp_load_options lo = UVP_LOAD_OPTIONS_INIT;
  lo.work_limit = 1;
  load_work_with(&fx, &o, &lo);
  ck_assert_int_eq(W.queue(0, 1), 0);
  ck_assert_int_eq(W.queue(1, 1), 0);
  run_until_started(&fx, 0, 1);
  uvp_plugin_stats st = stats(&fx);
  ck_assert_uint_eq(st.work_running, 1);
  ck_assert_uint_eq(st.work_queued, 1);
  quick_runs = quick_dones = 0;
  uvp_id id;
  ck_assert_int_eq(
      fx.api->work_queue(fx.ctx, quick_work, quick_done, NULL, NULL, &id), 0);
  ck_assert(uvt_run_until_int(&fx, &quick_dones, 1));
  ck_assert_int_eq(quick_runs, 1);
  ck_assert_int_eq(W.started(1), 0); /* still behind the plugin's limit */
  W.release(0);
  run_until_started(&fx, 1, 2);
  W.release(1);
  run_until_done(&fx, 0, 2);
  ck_assert_str_eq(W.trace(), "done:0:0,destroy:0,done:1:0,destroy:1");
  close_work(&fx);
}
END_TEST

/* W5: a waiting item cancelled never runs; its done gets UVP_ECANCELED on
 * a later loop turn, never inside cancel, then destroy; the id is stale at
 * once (W3, L4). */
START_TEST(cancel_waiting) {
  uvt_fx fx;
  load_work(&fx); /* work_concurrency 2 */
  ck_assert_int_eq(W.queue(0, 1), 0);
  ck_assert_int_eq(W.queue(1, 1), 0);
  run_until_started(&fx, 0, 2);
  ck_assert_int_eq(W.queue(2, 0), 0);
  ck_assert_uint_eq(stats(&fx).work_queued, 1);
  ck_assert_int_eq(W.cancel(2), 0);
  ck_assert_int_eq(item(2).done_calls, 0); /* not inside cancel */
  ck_assert_int_eq(W.cancel(2), UVP_ESTALE);
  run_until_done(&fx, 2, 3);
  item_state v = item(2);
  ck_assert_int_eq(v.started, 0);
  ck_assert_int_eq(v.done_calls, 1);
  ck_assert_int_eq(v.done_status, UVP_ECANCELED);
  ck_assert_int_eq(v.destroy_calls, 1);
  ck_assert_str_eq(W.trace(), "done:2:-125,destroy:2");
  uvp_plugin_stats st = stats(&fx);
  ck_assert_uint_eq(st.work_queued, 0);
  ck_assert_uint_eq(st.work_running, 2);
  W.release(0);
  W.release(1);
  run_until_done(&fx, 0, 2);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(item(2).started, 0); /* never handed to the pool */
  ck_assert_int_eq(item(2).done_calls, 1);
  close_work(&fx);
}
END_TEST

static bool work_gone(void *arg) {
  uvp_plugin_stats st;
  return uvt_stats(arg, "work", &st) == UVP_ENOENT;
}

static bool item0_destroyed(void *arg) {
  (void)arg;
  return item(0).destroy_calls == 1;
}

/* A9: on_init (or on_start) fails with work it queued still running: the
 * load returns UVP_EINIT, the instance is not listed and its name is free
 * at once; the work's done (UVP_ECANCELED) and destroy run later on the
 * loop thread, then on_unload when on_init had produced a state. */
static void failed_load_with_running_work(const char *config,
                                          const char *want) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, WORK_PATH, "work", config, NULL),
                   UVP_EINIT);
  bind_work();
  ck_assert_int_eq(W.started(0), 1);
  const char *name;
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), UVP_ENOENT);
  ck_assert(work_gone(&fx));
  ck_assert_int_eq(uvp_host_unload(fx.host, "work"), UVP_ENOENT);
  /* The name is free: another object takes it while the work runs. */
  ck_assert_int_eq(uvp_host_load(fx.host, COUNTER_PATH, "work", "", NULL), 0);
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 0, &name), 0);
  ck_assert_str_eq(name, "work");
  ck_assert_int_eq(uvp_host_plugin_name(fx.host, 1, &name), UVP_ENOENT);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(item(0).done_calls, 0);
  W.release(0);
  ck_assert(uvt_run_until(&fx, item0_destroyed, NULL, 5000));
  uvt_run_turns(&fx, 2);
  item_state s = item(0);
  ck_assert_int_eq(s.done_calls, 1);
  ck_assert_int_eq(s.done_status, UVP_ECANCELED);
  ck_assert_int_eq(s.finished_at_done, 1);
  ck_assert_str_eq(W.trace(), want);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "running work"), 1);
  close_work(&fx);
}

START_TEST(init_fails_with_running_work) {
  failed_load_with_running_work("init-fail", "done:0:-125,destroy:0");
}
END_TEST

START_TEST(start_fails_with_running_work) {
  failed_load_with_running_work("start-fail", "done:0:-125,destroy:0,unload");
}
END_TEST

/* U3: unloading while a work function runs leaves the plugin DRAINING,
 * without on_unload, until it returns; then done (cancelled: U1), destroy
 * and on_unload run in that order. */
START_TEST(unload_waits_for_running_work) {
  uvt_fx fx;
  load_work(&fx);
  ck_assert_int_eq(W.queue(0, 1), 0);
  run_until_started(&fx, 0, 1);
  ck_assert_int_eq(uvp_host_unload(fx.host, "work"), 0);
  uvp_plugin_stats st = stats(&fx);
  ck_assert_int_eq(st.state, UVP_PLUGIN_DRAINING);
  ck_assert_uint_eq(st.work_pending, 1);
  ck_assert_str_eq(W.trace(), "stop");
  ck_assert_uint_eq(W.unloaded(), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "work"), UVP_ECLOSED);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "running work"), 1);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(stats(&fx).state, UVP_PLUGIN_DRAINING);
  ck_assert_uint_eq(W.unloaded(), 0);
  W.release(0);
  ck_assert_msg(uvt_run_until(&fx, work_gone, &fx, 5000),
                "work plugin never finished unloading");
  ck_assert_str_eq(W.trace(), "stop,done:0:-125,destroy:0,unload");
  ck_assert_uint_eq(W.unloaded(), 1);
  item_state s = item(0);
  ck_assert_int_eq(s.done_calls, 1);
  ck_assert_int_eq(s.finished_at_done, 1);
  ck_assert_int_eq(s.destroy_calls, 1);
  close_work(&fx);
}
END_TEST

/* U1, W2: work still queued behind a saturated pool is cancelled by the
 * unload: it never runs, its done and destroy run before on_unload. */
START_TEST(unload_cancels_queued_work) {
  uvt_fx fx;
  load_work_pool(&fx);
  for (int i = 0; i < POOL; i++) ck_assert_int_eq(W.queue(i, 1), 0);
  run_until_started(&fx, 0, POOL);
  ck_assert_int_eq(W.queue(POOL, 0), 0);
  ck_assert_int_eq(uvp_host_unload(fx.host, "work"), 0);
  ck_assert_int_eq(stats(&fx).state, UVP_PLUGIN_DRAINING);
  run_until_done(&fx, POOL, POOL + 1);
  ck_assert_int_eq(item(POOL).started, 0);
  ck_assert_int_eq(item(POOL).done_status, UVP_ECANCELED);
  ck_assert_uint_eq(W.unloaded(), 0);
  for (int i = 0; i < POOL; i++) W.release(i);
  ck_assert(uvt_run_until(&fx, work_gone, &fx, 5000));
  ck_assert_uint_eq(W.unloaded(), 1);
  const char *t = W.trace();
  ck_assert_int_eq(strncmp(t, "stop,done:4:-125,destroy:4,", 27), 0);
  size_t n = strlen(t);
  ck_assert(n > 7 && strcmp(t + n - 7, ",unload") == 0);
  for (int i = 0; i < POOL; i++) {
    ck_assert_int_eq(item(i).done_status, UVP_ECANCELED);
    ck_assert_int_eq(item(i).destroy_calls, 1);
  }
  ck_assert_int_eq(item(POOL).started, 0);
  close_work(&fx);
}
END_TEST

static uint32_t abandoned_in(uvt_fx *fx, const char *name) {
  uvp_plugin_stats st;
  ck_assert_int_eq(uvt_stats(fx, name, &st), 0);
  return st.work_abandoned;
}

typedef struct abandon_wait {
  uvt_fx *fx;
  const char *name;
} abandon_wait;

static bool none_abandoned(void *arg) {
  abandon_wait *a = arg;
  return abandoned_in(a->fx, a->name) == 0;
}

/* W6, U3: an unload waits at most work_drain_ms for a hung work function,
 * then logs the plugin and the count, abandons the item (no done, no
 * destroy: the one exception to W1) and goes on to on_unload. The item is
 * counted in work_abandoned (host-wide, read here through another plugin)
 * until its function returns; then the loop closes cleanly. */
START_TEST(unload_abandons_hung_work) {
  uvt_fx fx;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.work_drain_ms = 50;
  load_work_with(&fx, &o, NULL);
  ck_assert_int_eq(uvp_host_load(fx.host, COUNTER_PATH, "other", "", NULL), 0);
  ck_assert_int_eq(W.queue(0, 1), 0);
  ck_assert_int_eq(W.queue(1, 0), 0); /* runs and ends: only 0 hangs */
  run_until_started(&fx, 0, 2);
  run_until_done(&fx, 1, 2);
  ck_assert_int_eq(uvp_host_unload(fx.host, "work"), 0);
  ck_assert_int_eq(stats(&fx).state, UVP_PLUGIN_DRAINING);
  ck_assert_msg(uvt_run_until(&fx, work_gone, &fx, 5000),
                "the unload waited for the hung work");
  ck_assert_str_eq(W.trace(), "done:1:0,destroy:1,stop,unload");
  ck_assert_uint_eq(W.unloaded(), 1);
  item_state s = item(0);
  ck_assert_int_eq(s.done_calls, 0);
  ck_assert_int_eq(s.destroy_calls, 0);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "abandoned"), 1);
  ck_assert_int_eq(uvt_log_count(&fx.log, 0, "1 work item(s) still running"),
                   1);
  for (int i = 0; i < fx.log.n; i++)
    if (strstr(fx.log.lines[i].msg, "abandoned") != NULL)
      ck_assert_str_eq(fx.log.lines[i].plugin, "work");
  ck_assert_uint_eq(abandoned_in(&fx, "other"), 1);
  W.release(0);
  abandon_wait a = {&fx, "other"};
  ck_assert(uvt_run_until(&fx, none_abandoned, &a, 5000));
  ck_assert_int_eq(item(0).done_calls, 0); /* never, also once it returned */
  ck_assert_int_eq(item(0).destroy_calls, 0);
  close_work(&fx);
}
END_TEST

static void release_mapped(const char *path, int i) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(dl);
  void (*release)(int) = NULL;
  *(void **)&release = dlsym(dl, "uvp_work_release");
  ck_assert_ptr_nonnull(release);
  release(i);
  dlclose(dl);
}

static int (*safe_started)(int);
static bool safe_item0_started(void *arg) {
  (void)arg;
  return safe_started(0) != 0;
}

/* W6, A10: an unload-safe object whose work was abandoned stays mapped:
 * the work function still runs its code. */
START_TEST(abandoned_keeps_object_mapped) {
  uvt_fx fx;
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.work_drain_ms = 50;
  uvt_fx_init(&fx, &o);
  ck_assert_int_eq(uvp_host_load(fx.host, COUNTER_PATH, "other", "", NULL), 0);
  ck_assert_int_eq(uvp_host_load(fx.host, WORK_SAFE_PATH, "work", "", NULL), 0);
  void *dl = dlopen(WORK_SAFE_PATH, RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(dl);
  int (*queue)(int, int) = NULL;
  *(void **)&queue = dlsym(dl, "uvp_work_queue_item");
  *(void **)&safe_started = dlsym(dl, "uvp_work_started");
  ck_assert_int_eq(queue(0, 1), 0);
  ck_assert(uvt_run_until(&fx, safe_item0_started, NULL, 5000));
  dlclose(dl); /* the host holds the only reference now */
  ck_assert_int_eq(uvp_host_unload(fx.host, "work"), 0);
  ck_assert(uvt_run_until(&fx, work_gone, &fx, 5000));
  ck_assert_uint_eq(abandoned_in(&fx, "other"), 1);
  ck_assert(uvt_is_mapped(WORK_SAFE_PATH));
  release_mapped(WORK_SAFE_PATH, 0);
  abandon_wait a = {&fx, "other"};
  ck_assert(uvt_run_until(&fx, none_abandoned, &a, 5000));
  ck_assert(uvt_is_mapped(WORK_SAFE_PATH)); /* for the process's life */
  uvt_fx_close(&fx);
}
END_TEST

static Suite *work_suite(void) {
  Suite *s = suite_create("work");
  TCase *tc = uvt_tcase(s, "done");
  tcase_add_test(tc, done_once_on_loop);
  tcase_add_test(tc, work_uses_remote_only);
  tc = uvt_tcase(s, "cancel");
  tcase_add_test(tc, cancel_before_start);
  tcase_add_test(tc, cancel_while_running);
  tc = uvt_tcase(s, "unload");
  tcase_add_test(tc, unload_waits_for_running_work);
  tcase_add_test(tc, unload_cancels_queued_work);
  tcase_add_test(tc, unload_abandons_hung_work);
  tcase_add_test(tc, abandoned_keeps_object_mapped);
  tc = uvt_tcase(s, "bounds");
  tcase_add_test(tc, host_bound_default);
  tcase_add_test(tc, plugin_limit);
  tcase_add_test(tc, cancel_waiting);
  tc = uvt_tcase(s, "failed_load");
  tcase_add_test(tc, init_fails_with_running_work);
  tcase_add_test(tc, start_fails_with_running_work);
  return s;
}

int main(void) {
  setenv("UV_THREADPOOL_SIZE", "4", 1); /* before libuv starts its pool */
  return uvt_main(work_suite());
}
