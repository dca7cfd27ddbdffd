/* A C importer of the "kv" service (examples/kv), compiled against the
 * header cbindgen generates from the Rust declaration
 * (include/uvplug/services/kv.h): every call goes through its typed
 * inline wrappers, hence through api->service_call (V3).
 *
 *   kv.client.c.run ──► import kv (unless held), run a fixed exchange,
 *                       publish one line per step on kv.client.c.result
 *
 * A revoke (kv unloads, is reloaded or quarantined: V5) drops the
 * reference at once; the next run imports again (V7). integration.kv
 * asserts the lines. Thread: loop thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>
#include <uvplug/services/kv.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct client {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic run, result;
  uvp_id kv; /* 0: none held */
} client;

/* V5: drop the reference inside the revoke; calls through it would only
 * get UVP_ESTALE from now on. */
static void on_revoke(uvp_ctx *ctx, uvp_id ref, int reason, void *ud) {
  (void)reason;
  client *c = ud;
  c->api->cancel(ctx, ref);
  if (c->kv == ref) c->kv = 0;
}

/* Appends one "step: result" line to out. */
static void line(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line(char *out, size_t cap, const char *fmt, ...) {
  size_t n = strlen(out);
  if (n != 0 && n + 1 < cap) out[n++] = '\n', out[n] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + n, cap - n, fmt, ap);
  va_end(ap);
}

/* The exchange: put, replace, get, get into a short buffer, an oversized
 * put, stats, delete, get and delete of a missing key. */
static void exchange(client *c, char *out, size_t cap) {
  const uvp_api *api = c->api;
  uvp_ctx *ctx = c->ctx;
  int replaced = -1;
  char buf[16];
  size_t len = 0;
  int rc = kv_put(api, ctx, c->kv, "beta", 4, "two", 3, &replaced);
  line(out, cap, "put beta: %d replaced=%d", rc, replaced);
  rc = kv_put(api, ctx, c->kv, "beta", 4, "second", 6, &replaced);
  line(out, cap, "put beta: %d replaced=%d", rc, replaced);
  rc = kv_get(api, ctx, c->kv, "beta", 4, buf, sizeof buf, &len);
  line(out, cap, "get beta: %d %.*s", rc, rc == 0 ? (int)len : 0, buf);
  rc = kv_get(api, ctx, c->kv, "beta", 4, buf, 2, &len);
  line(out, cap, "get beta into 2 bytes: %d need %zu", rc, len);
  static char huge[KV_VALUE_MAX + 1];
  rc = kv_put(api, ctx, c->kv, "huge", 4, huge, sizeof huge, NULL);
  line(out, cap, "put huge: %d", rc);
  KvStatsArgs st = {0, 0, 0};
  rc = kv_stats(api, ctx, c->kv, &st);
  line(out, cap, "stats: %d entries=%llu bytes=%llu", rc,
       (unsigned long long)st.entries, (unsigned long long)st.bytes);
  line(out, cap, "delete beta: %d", kv_delete(api, ctx, c->kv, "beta", 4));
  rc = kv_get(api, ctx, c->kv, "beta", 4, buf, sizeof buf, &len);
  line(out, cap, "get beta: %d", rc);
  line(out, cap, "delete beta: %d", kv_delete(api, ctx, c->kv, "beta", 4));
}

static int on_run(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  (void)ev;
  client *c = ud;
  char out[1024] = "";
  if (c->kv == 0) {
    int rc = kv_import(c->api, ctx, 0, on_revoke, c, NULL, &c->kv);
    if (rc != 0) {
      c->kv = 0;
      line(out, sizeof out, "import: %d", rc);
      return c->api->publish(ctx, c->result, out, strlen(out));
    }
  }
  exchange(c, out, sizeof out);
  return c->api->publish(ctx, c->result, out, strlen(out));
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config;
  (void)len;
  if (!UVP_HAS_FIELD(api, uvp_api, service_call)) return UVP_EINVAL;
  client *c = calloc(1, sizeof *c);
  if (c == NULL) return UVP_ENOMEM;
  c->ctx = ctx;
  c->api = api;
  uvp_id id;
  int rc;
  if ((rc = api->topic(ctx, "kv.client.c.run", 15, &c->run)) < 0 ||
      (rc = api->topic(ctx, "kv.client.c.result", 18, &c->result)) < 0 ||
      (rc = api->subscribe(ctx, c->run, on_run, c, NULL, &id)) < 0) {
    free(c);
    return rc;
  }
  *out_state = c;
  return 0;
}

/* The reference, if still held, is dropped by the host with the other
 * registrations (an importer that unloads gets no revoke, V5). */
static void on_unload(void *state) { free(state); }

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "kv-client-c",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = NULL,
    .on_stop = NULL,
    .on_unload = on_unload,
};
