/* The C reference plugin. Its Rust twin (rust-plugins/examples/ref-plugin,
 * libref_plugin.so) behaves identically; test_conformance.c runs the same
 * assertions against both.
 *
 *   ref.in  ──► count += 1, publish a copy on ref.out
 *   ref.cmd ──► "count" | "unsub" | "fail" | "panic" | "timer <ms>" |
 *               "owned" | "wrongthread"   (see each branch below)
 *
 * uvp_ref_destroyed() and uvp_ref_unloaded() are process-wide counters the
 * tests read through dlopen(RTLD_NOLOAD) + dlsym.
 * Thread: loop thread, except the helper thread of "wrongthread".
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static uint64_t destroyed; /* destroy callbacks run, all instances */
static uint64_t unloaded;  /* on_unload calls, all instances */

EXPORT uint64_t uvp_ref_destroyed(void) { return destroyed; }
EXPORT uint64_t uvp_ref_unloaded(void) { return unloaded; }

typedef struct ref {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic in, out, cmd;
  uvp_id in_sub, cmd_sub;
  uint64_t count;
} ref;

static void on_destroy(void *user_data) {
  (void)user_data;
  destroyed++;
}

static int say(ref *r, const char *s) {
  return r->api->publish(r->ctx, r->out, s, strlen(s));
}

static int on_in(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  ref *r = user_data;
  r->count++;
  return r->api->publish(ctx, r->out, ev->data, ev->len);
}

static int on_timer(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  return say(user_data, "timer");
}

static void free_owned(void *data, size_t len, void *hint) {
  (void)len;
  (void)hint;
  free(data);
}

typedef struct wt_arg {
  ref *r;
  int rc;
} wt_arg;

static void *wrong_thread(void *arg) {
  wt_arg *a = arg;
  a->rc = a->r->api->publish(a->r->ctx, a->r->out, "x", 1);
  return NULL;
}

static bool is(const uvp_event *ev, const char *s) {
  return ev->len == strlen(s) && memcmp(ev->data, s, ev->len) == 0;
}

static int on_cmd(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  ref *r = user_data;
  char line[64];
  if (is(ev, "count")) {
    snprintf(line, sizeof line, "count=%llu", (unsigned long long)r->count);
    return say(r, line);
  }
  if (is(ev, "unsub")) {
    int rc = r->api->cancel(ctx, r->in_sub);
    snprintf(line, sizeof line, "unsub=%d", rc);
    return say(r, line);
  }
  if (is(ev, "fail")) return UVP_EINVAL;
  if (is(ev, "panic")) return UVP_EPANIC;
  if (is(ev, "owned")) {
    char *p = malloc(5);
    if (p == NULL) return UVP_ENOMEM;
    memcpy(p, "owned", 5);
    int rc = r->api->publish_owned(ctx, r->out, p, 5, free_owned, NULL);
    if (rc < 0) free(p);
    return rc;
  }
  if (is(ev, "wrongthread")) {
    wt_arg a = {r, 0};
    pthread_t t;
    if (pthread_create(&t, NULL, wrong_thread, &a) != 0) return UVP_ENOMEM;
    pthread_join(t, NULL);
    snprintf(line, sizeof line, "wrongthread=%d", a.rc);
    return say(r, line);
  }
  if (ev->len > 6 && ev->len < sizeof line &&
      memcmp(ev->data, "timer ", 6) == 0) {
    memcpy(line, ev->data, ev->len);
    line[ev->len] = '\0';
    uint64_t ms = strtoull(line + 6, NULL, 10);
    uvp_id id;
    return r->api->timer_start(ctx, ms, 0, on_timer, r, on_destroy, &id);
  }
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config;
  (void)len;
  ref *r = calloc(1, sizeof *r);
  if (r == NULL) return UVP_ENOMEM;
  r->ctx = ctx;
  r->api = api;
  int rc;
  if ((rc = api->topic(ctx, "ref.in", 6, &r->in)) < 0 ||
      (rc = api->topic(ctx, "ref.out", 7, &r->out)) < 0 ||
      (rc = api->topic(ctx, "ref.cmd", 7, &r->cmd)) < 0 ||
      (rc = api->subscribe(ctx, r->in, on_in, r, on_destroy, &r->in_sub)) < 0 ||
      (rc = api->subscribe(ctx, r->cmd, on_cmd, r, on_destroy, &r->cmd_sub)) <
          0) {
    free(r); /* A9: the host destroys what was registered */
    return rc;
  }
  *out_state = r;
  return 0;
}

static void on_unload(void *state) {
  unloaded++;
  free(state);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "ref",
    .version = "1.0.0",
    .on_init = on_init,
    .on_unload = on_unload,
};
