/* Unload order and self-unload (U1, U6, S3).
 *
 * config: "post=1" (optional): on_start posts one callback to the plugin's
 * own remote from the loop thread; it is still queued when a test unloads
 * at once, so its destroy runs without its callback (R4).
 *
 *   on_init: subscribes to "self.in" (destroy traces "destroy:sub"), starts
 *            a one-hour timer (destroy traces "destroy:timer"), remote_new
 *   self.in ──► trace "cb:<payload>"; payload "bye": unload_self, trace
 *               "unload_self=<rc>", call it again: "again=<rc>", then
 *               "cb:end" and return 0 (the unload starts after that, S3)
 *   on_stop: trace "stop", try subscribe / timer_start / work_queue /
 *            remote_new and trace "reg=<rc>/<rc>/<rc>/<rc>" (U1: all
 *            UVP_ECLOSED), release the plugin's remote reference
 *   on_unload: trace "unload"
 *
 * Exports (process-wide, reset by on_init): uvp_self_trace() (the trace,
 * comma-separated), uvp_self_events() (self.in callbacks),
 * uvp_self_unloaded() (on_unload calls).
 * Thread: loop thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static char trace[4096];
static uint64_t events, unloaded;

EXPORT const char *uvp_self_trace(void) { return trace; }
EXPORT uint64_t uvp_self_events(void) { return events; }
EXPORT uint64_t uvp_self_unloaded(void) { return unloaded; }

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  size_t n = strlen(trace);
  if (n != 0 && n + 1 < sizeof trace) trace[n++] = ',', trace[n] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(trace + n, sizeof trace - n, fmt, ap);
  va_end(ap);
}

typedef struct self {
  const uvp_api *api;
  uvp_topic in;
  uvp_remote *remote;
  int post;
} self;

/* user_data is the text to trace. */
static void traced_destroy(void *user_data) { note("%s", (char *)user_data); }

static void sub_destroy(void *user_data) {
  (void)user_data;
  note("destroy:sub");
}

static int on_in(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  self *s = user_data;
  events++;
  note("cb:%.*s", (int)ev->len, (const char *)ev->data);
  if (ev->len == 3 && memcmp(ev->data, "bye", 3) == 0) {
    note("unload_self=%d", s->api->unload_self(ctx));
    note("again=%d", s->api->unload_self(ctx));
    note("cb:end");
  }
  return 0;
}

static int on_timer(uvp_ctx *ctx, void *user_data) {
  (void)ctx, (void)user_data;
  note("timer");
  return 0;
}

static int on_post(uvp_ctx *ctx, void *user_data) {
  (void)ctx, (void)user_data;
  note("post:cb");
  return 0;
}

static void work_fn(void *user_data) { (void)user_data; }

static int work_done(uvp_ctx *ctx, int status, void *user_data) {
  (void)ctx, (void)status, (void)user_data;
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  trace[0] = '\0';
  events = 0;
  unloaded = 0;
  self *s = calloc(1, sizeof *s);
  if (s == NULL) return UVP_ENOMEM;
  s->api = api;
  s->post = len == 6 && memcmp(config, "post=1", 6) == 0;
  uvp_id id;
  int rc;
  if ((rc = api->topic(ctx, "self.in", 7, &s->in)) < 0 ||
      (rc = api->subscribe(ctx, s->in, on_in, s, sub_destroy, &id)) < 0 ||
      (rc = api->timer_start(ctx, 3600000, 0, on_timer, "destroy:timer",
                             traced_destroy, &id)) < 0 ||
      (rc = api->remote_new(ctx, &s->remote)) < 0) {
    free(s); /* A9: the host destroys what was registered */
    return rc;
  }
  *out_state = s;
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx;
  self *s = state;
  if (!s->post) return 0;
  return s->api->remote_post(s->remote, on_post, "post:destroy", traced_destroy,
                             UVP_POST_NONBLOCK);
}

static int stop_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  return 0;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  self *s = state;
  note("stop");
  uvp_id id = 0;
  uvp_remote *r = NULL;
  int sub = s->api->subscribe(ctx, s->in, stop_cb, NULL, NULL, &id);
  int tim = s->api->timer_start(ctx, 0, 0, on_timer, NULL, NULL, &id);
  int wrk = s->api->work_queue(ctx, work_fn, work_done, NULL, NULL, &id);
  int rem = s->api->remote_new(ctx, &r);
  note("reg=%d/%d/%d/%d", sub, tim, wrk, rem);
  s->api->remote_release(s->remote);
  s->remote = NULL;
}

static void on_unload(void *state) {
  self *s = state;
  if (s->remote != NULL) s->api->remote_release(s->remote); /* no on_stop */
  note("unload");
  unloaded++;
  free(s);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "self",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
