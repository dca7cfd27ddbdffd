/* Owned payloads and the end of a plugin (L8, U1, S3).
 *
 * config: "<sizes> [unload_in_free]", e.g. "3 100": on_start publishes one
 * owned payload of each size on "own.out", filled with the byte 'a' + i;
 * free_fn traces "free:<len>:alive=<1 while on_unload has not run>".
 * With unload_in_free, the first free_fn calls unload_self through the ctx
 * it finds in its hint and traces "unload_self=<rc>": code that never
 * returns into the host through a callback (S3).
 * on_unload traces "unload".
 *
 * Exports (process-wide, reset by on_init): uvp_owned_trace().
 * Thread: loop thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static char trace[1024];

EXPORT const char *uvp_owned_trace(void) { return trace; }

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  size_t n = strlen(trace);
  if (n != 0 && n + 1 < sizeof trace) trace[n++] = ',', trace[n] = '\0';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(trace + n, sizeof trace - n, fmt, ap);
  va_end(ap);
}

typedef struct owned {
  const uvp_api *api;
  uvp_ctx *ctx;
  int alive;
  int unload_in_free;
  unsigned sizes[8];
  int nsizes;
} owned;

static void free_payload(void *data, size_t len, void *hint) {
  owned *o = hint;
  note("free:%zu:alive=%d", len, o->alive);
  free(data);
  if (o->unload_in_free) {
    o->unload_in_free = 0;
    note("unload_self=%d", o->api->unload_self(o->ctx));
  }
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  owned *o = calloc(1, sizeof *o);
  if (o == NULL) return UVP_ENOMEM;
  trace[0] = '\0';
  o->api = api;
  o->ctx = ctx;
  o->alive = 1;
  const char *p = config;
  char *end;
  while (o->nsizes < 8) {
    unsigned long v = strtoul(p, &end, 10);
    if (end == p) break;
    o->sizes[o->nsizes++] = (unsigned)v;
    p = end;
  }
  o->unload_in_free = strstr(p, "unload_in_free") != NULL;
  *out_state = o;
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  owned *o = state;
  uvp_topic out;
  int rc = o->api->topic(ctx, "own.out", 7, &out);
  for (int i = 0; rc == 0 && i < o->nsizes; i++) {
    unsigned char *p = malloc(o->sizes[i]);
    if (p == NULL) return UVP_ENOMEM;
    memset(p, 'a' + i, o->sizes[i]);
    rc = o->api->publish_owned(ctx, out, p, o->sizes[i], free_payload, o);
    if (rc < 0) free(p);
  }
  return rc;
}

static void on_unload(void *state) {
  owned *o = state;
  o->alive = 0;
  note("unload");
  free(o);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "owned",
    .on_init = on_init,
    .on_start = on_start,
    .on_unload = on_unload,
};
