/* Work offload plugin (W1-W3, U3, T5): work items the test drives through
 * exported functions, called on the loop thread while the plugin is
 * loaded (the object stays mapped after unload: flags 0).
 *
 *   int  uvp_work_queue_item(int i, int kind)  queue item i (0..15):
 *        kind 0 "quick": work records its thread and returns;
 *        kind 1 "gate":  work waits until uvp_work_release(i);
 *        kind 2 "remote": work posts to the plugin's remote (T5) and tries
 *                        a loop-only function (expects UVP_EWRONGTHREAD).
 *   int  uvp_work_cancel_item(int i)            api->cancel(item i's id)
 *   void uvp_work_release(int i)                lets a gate item finish
 *   void uvp_work_item(int i, uint64_t out[8])  started, finished,
 *        done_calls, done_status (as int64), destroy_calls, work_thread,
 *        done_thread (pthread_t as integers), post_rc/wrong_rc packed;
 *        the last three are 0 until done ran (work may still write them)
 *   const char *uvp_work_trace(void)            "done:i:status", "destroy:i",
 *        "post:i", "stop", "unload", comma-separated, in order
 *   uint64_t uvp_work_unloaded(void)            on_unload calls
 *
 * config "init-fail": on_init queues gate item 0, then fails (A9);
 *        "start-fail": on_start does the same. WORK_FLAGS (default 0) is
 * the descriptor's flags, so work_safe_plugin.c builds an unload-safe copy.
 *
 * Counters and the trace are process-wide and reset by on_init.
 * Thread: hooks, done, destroy and the exports on the loop thread; work
 * functions on libuv pool threads, calling only the remote functions.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_ITEMS 16
#ifndef WORK_FLAGS
#define WORK_FLAGS 0
#endif

typedef struct item {
  int index, kind;
  uvp_id id;
  atomic_int started, finished;
  pthread_t work_thread; /* written by work, read after done */
  int post_rc, wrong_rc; /* kind 2, written by work */
  int done_calls, done_status, destroy_calls;
  int finished_at_done; /* work had returned when done ran */
  pthread_t done_thread;
  sem_t gate;
} item;

static item items[MAX_ITEMS];
static char trace[4096];
static uint64_t unloaded;
static uvp_ctx *g_ctx;
static const uvp_api *g_api;
static uvp_remote *g_remote;
static char g_mode[16]; /* config: "", "init-fail" or "start-fail" */

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  size_t n = strlen(trace);
  if (n != 0 && n + 1 < sizeof trace) trace[n++] = ',', trace[n] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(trace + n, sizeof trace - n, fmt, ap);
  va_end(ap);
}

static int on_post(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  note("post:%d", ((item *)user_data)->index);
  return 0;
}

static void work_fn(void *user_data) {
  item *it = user_data;
  it->work_thread = pthread_self();
  atomic_store(&it->started, 1);
  if (it->kind == 1) {
    while (sem_wait(&it->gate) != 0) {
    }
  } else if (it->kind == 2) {
    /* T5: only the remote functions; a loop-only one is refused. */
    it->post_rc =
        g_api->remote_post(g_remote, on_post, it, NULL, UVP_POST_BLOCK);
    uint64_t ms;
    it->wrong_rc = g_api->now_ms(g_ctx, &ms);
  }
  atomic_store(&it->finished, 1);
}

static int done_fn(uvp_ctx *ctx, int status, void *user_data) {
  (void)ctx;
  item *it = user_data;
  it->done_calls++;
  it->done_status = status;
  it->done_thread = pthread_self();
  it->finished_at_done = atomic_load(&it->finished);
  note("done:%d:%d", it->index, status);
  return 0;
}

static void destroy_fn(void *user_data) {
  item *it = user_data;
  it->destroy_calls++;
  note("destroy:%d", it->index);
}

EXPORT int uvp_work_queue_item(int i, int kind) {
  if (i < 0 || i >= MAX_ITEMS || g_ctx == NULL) return UVP_EINVAL;
  item *it = &items[i];
  it->kind = kind;
  return g_api->work_queue(g_ctx, work_fn, done_fn, it, destroy_fn, &it->id);
}

EXPORT int uvp_work_cancel_item(int i) {
  if (i < 0 || i >= MAX_ITEMS || g_ctx == NULL) return UVP_EINVAL;
  return g_api->cancel(g_ctx, items[i].id);
}

EXPORT void uvp_work_release(int i) {
  if (i >= 0 && i < MAX_ITEMS) sem_post(&items[i].gate);
}

EXPORT void uvp_work_item(int i, uint64_t out[8]) {
  item *it = &items[i];
  out[0] = (uint64_t)atomic_load(&it->started);
  out[1] = (uint64_t)it->finished_at_done;
  out[2] = (uint64_t)it->done_calls;
  out[3] = (uint64_t)(int64_t)it->done_status;
  out[4] = (uint64_t)it->destroy_calls;
  out[5] = out[6] = out[7] = 0;
  if (it->done_calls == 0) return; /* work may still write the rest */
  out[5] = (uint64_t)it->work_thread;
  out[6] = (uint64_t)it->done_thread;
  out[7] = ((uint64_t)(uint32_t)it->post_rc << 32) | (uint32_t)it->wrong_rc;
}

EXPORT int uvp_work_started(int i) { return atomic_load(&items[i].started); }
EXPORT const char *uvp_work_trace(void) { return trace; }
EXPORT uint64_t uvp_work_unloaded(void) { return unloaded; }

/* Queues gate item 0 and waits (at most ~5 s) until its work runs, so the
 * failing hook returns with work running, not merely queued. */
static int queue_started_gate(void) {
  int rc = uvp_work_queue_item(0, 1);
  for (int n = 0; rc == 0 && n < 5000 && !atomic_load(&items[0].started); n++)
    usleep(1000);
  return rc;
}

static void release_remote(void) {
  if (g_remote != NULL) g_api->remote_release(g_remote);
  g_remote = NULL;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len, (void)out_state;
  for (int i = 0; i < MAX_ITEMS; i++) {
    item *it = &items[i];
    memset(it, 0, sizeof *it);
    it->index = i;
    if (sem_init(&it->gate, 0, 0) != 0) return UVP_ENOMEM;
  }
  trace[0] = '\0';
  unloaded = 0;
  g_ctx = ctx;
  g_api = api;
  snprintf(g_mode, sizeof g_mode, "%.*s", (int)len, config);
  int rc = api->remote_new(ctx, &g_remote);
  if (rc == 0 && strcmp(g_mode, "init-fail") == 0) {
    rc = queue_started_gate();
    if (rc == 0) rc = UVP_EINVAL; /* fails with item 0 running (A9) */
    release_remote();             /* neither on_stop nor on_unload runs */
  }
  return rc;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  if (strcmp(g_mode, "start-fail") != 0) return 0;
  int rc = queue_started_gate();
  return rc == 0 ? UVP_EINVAL : rc;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  note("stop");
  release_remote();
}

static void on_unload(void *state) {
  (void)state;
  note("unload");
  unloaded++;
  g_ctx = NULL;
  release_remote(); /* a failed on_start had no on_stop */
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = WORK_FLAGS,
    .name = "work",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
