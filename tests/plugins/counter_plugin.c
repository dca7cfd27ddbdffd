/* A simple counting plugin, loadable as many instances.
 *
 * config: space-separated "key=value" tokens, all optional:
 *   topic=<name>  topic to count (default "counter.in")
 *   tag=<text>    prefix of its replies (default "c")
 *   hook=<hex>    void (*)(void *) the "hook" command calls with arg=<hex>
 *
 *   <topic>     ──► count += 1
 *   counter.cmd ──► "get"  → publish "<tag>:<count>" on counter.out
 *                   "hook" → call the embedder's hook inside this callback
 *
 * Hooks append "<what>:<tag>" to a process-wide trace (uvp_counter_trace)
 * so tests can check the unload order (S1, S2, S3).
 * Thread: loop thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static uint64_t destroyed, unloaded, stopped, started, events;
static char trace[4096];

EXPORT uint64_t uvp_counter_destroyed(void) { return destroyed; }
EXPORT uint64_t uvp_counter_unloaded(void) { return unloaded; }
EXPORT uint64_t uvp_counter_stopped(void) { return stopped; }
EXPORT uint64_t uvp_counter_started(void) { return started; }
EXPORT uint64_t uvp_counter_events(void) { return events; }
EXPORT const char *uvp_counter_trace(void) { return trace; }
EXPORT void uvp_counter_trace_reset(void) { trace[0] = '\0'; }

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  size_t n = strlen(trace);
  if (n != 0 && n + 1 < sizeof trace) trace[n++] = ',', trace[n] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(trace + n, sizeof trace - n, fmt, ap);
  va_end(ap);
}

typedef struct counter {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic in, cmd, out;
  uint64_t count;
  char tag[32];
  void (*hook)(void *);
  void *hook_arg;
} counter;

static void on_destroy(void *user_data) {
  counter *c = user_data;
  destroyed++;
  note("destroy:%s", c->tag);
}

static int on_in(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  counter *c = user_data;
  c->count++;
  events++;
  return 0;
}

static int on_cmd(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  counter *c = user_data;
  if (ev->len == 3 && memcmp(ev->data, "get", 3) == 0) {
    char line[64];
    int n = snprintf(line, sizeof line, "%s:%llu", c->tag,
                     (unsigned long long)c->count);
    return c->api->publish(ctx, c->out, line, (size_t)n);
  }
  if (ev->len == 4 && memcmp(ev->data, "hook", 4) == 0 && c->hook != NULL) {
    note("hook-begin:%s", c->tag);
    c->hook(c->hook_arg);
    note("hook-end:%s destroyed=%llu unloaded=%llu", c->tag,
         (unsigned long long)destroyed, (unsigned long long)unloaded);
  }
  return 0;
}

/* Copies the value of key=... from config into buf (empty if absent). */
static void config_get(const char *config, const char *key, char *buf,
                       size_t cap) {
  buf[0] = '\0';
  size_t klen = strlen(key);
  for (const char *p = config; p != NULL && *p != '\0';) {
    while (*p == ' ') p++;
    const char *end = strchr(p, ' ');
    size_t tlen = end ? (size_t)(end - p) : strlen(p);
    if (tlen > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
      size_t vlen = tlen - klen - 1;
      if (vlen >= cap) vlen = cap - 1;
      memcpy(buf, p + klen + 1, vlen);
      buf[vlen] = '\0';
      return;
    }
    p = end;
  }
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  counter *c = calloc(1, sizeof *c);
  if (c == NULL) return UVP_ENOMEM;
  c->ctx = ctx;
  c->api = api;
  char topic[256], hex[32];
  config_get(config, "topic", topic, sizeof topic);
  if (topic[0] == '\0') strcpy(topic, "counter.in");
  config_get(config, "tag", c->tag, sizeof c->tag);
  if (c->tag[0] == '\0') strcpy(c->tag, "c");
  config_get(config, "hook", hex, sizeof hex);
  if (hex[0] != '\0') {
    uintptr_t fn = (uintptr_t)strtoull(hex, NULL, 16);
    memcpy(&c->hook, &fn, sizeof fn);
    config_get(config, "arg", hex, sizeof hex);
    c->hook_arg = (void *)(uintptr_t)strtoull(hex, NULL, 16);
  }
  uvp_id id;
  int rc;
  if ((rc = api->topic(ctx, topic, strlen(topic), &c->in)) < 0 ||
      (rc = api->topic(ctx, "counter.cmd", 11, &c->cmd)) < 0 ||
      (rc = api->topic(ctx, "counter.out", 11, &c->out)) < 0 ||
      (rc = api->subscribe(ctx, c->in, on_in, c, on_destroy, &id)) < 0 ||
      (rc = api->subscribe(ctx, c->cmd, on_cmd, c, on_destroy, &id)) < 0) {
    free(c);
    return rc;
  }
  *out_state = c;
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx;
  counter *c = state;
  started++;
  note("start:%s", c->tag);
  return 0;
}

static int on_stop_cb(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  (void)user_data;
  return 0;
}

/* S1: after on_stop begins, registering fails with UVP_ECLOSED while
 * publish still works. */
static void on_stop(uvp_ctx *ctx, void *state) {
  counter *c = state;
  stopped++;
  uvp_id id = 0;
  int sub = c->api->subscribe(ctx, c->in, on_stop_cb, NULL, NULL, &id);
  int pub = c->api->publish(ctx, c->out, "stopping", 8);
  note("stop:%s sub=%d pub=%d", c->tag, sub, pub);
}

static void on_unload(void *state) {
  counter *c = state;
  unloaded++;
  note("unload:%s", c->tag);
  free(c);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "counter",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
