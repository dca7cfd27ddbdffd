/* The plugin of integration.alloc_fail: registers one subscription and one
 * timer in on_init, asks for its remote, and counts every hook and destroy
 * into a struct of the test, whose address is its config (hex). It keeps
 * nothing of its own, so that what the test counts is the host's doing even
 * when the object is unmapped between loads.
 *
 *   probe.in  ──► events += 1
 *   probe.cmd ──► publish_owned 100 bytes on probe.out, then unload_self:
 *                 the payload is still queued when the unload comes (L8)
 *
 * Failure in on_init (the host's allocator refusing) returns the status
 * untouched and records it in last_init_rc: the load reports UVP_EINIT
 * (A9) and the registrations made so far are destroyed by the host.
 * Thread: loop thread.
 */
#include <stdlib.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

/* Shared with tests/integration/test_alloc_fail.c (same layout). */
typedef struct probe_counts {
  int inits, init_failed, last_init_rc, starts, stops, unloads;
  int registered, destroys, events;
  int owned_published, owned_freed;
} probe_counts;

typedef struct probe {
  probe_counts *pc;
  const uvp_api *api;
  uvp_topic out;
} probe;

static probe probes[16]; /* instances at once, at most */

static void on_destroy(void *user_data) {
  ((probe_counts *)user_data)->destroys++;
}

static int on_in(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  ((probe_counts *)user_data)->events++;
  return 0;
}

static void owned_free(void *data, size_t len, void *hint) {
  (void)len;
  free(data);
  ((probe_counts *)hint)->owned_freed++;
}

static int on_cmd(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ev;
  probe *p = user_data;
  char *data = calloc(1, 100);
  if (data == NULL) return UVP_ENOMEM;
  int rc = p->api->publish_owned(ctx, p->out, data, 100, owned_free, p->pc);
  if (rc < 0) {
    free(data); /* L8: a failed publish leaves it to us */
    return rc;
  }
  p->pc->owned_published++;
  return p->api->unload_self(ctx);
}

static void cmd_destroy(void *user_data) {
  probe *p = user_data;
  p->pc->destroys++;
  p->pc = NULL; /* the slot is free again */
}

static int on_timer(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  (void)user_data;
  return 0;
}

static int setup(uvp_ctx *ctx, const uvp_api *api, probe_counts *pc) {
  uvp_topic in, cmd;
  uvp_id id;
  uvp_remote *remote;
  probe *p = NULL;
  for (size_t i = 0; i < sizeof probes / sizeof probes[0] && !p; i++)
    if (probes[i].pc == NULL) p = &probes[i];
  if (p == NULL) return UVP_ENOSPC;
  int rc = api->topic(ctx, "probe.in", 8, &in);
  if (rc < 0) return rc;
  if ((rc = api->subscribe(ctx, in, on_in, pc, on_destroy, &id)) < 0) return rc;
  pc->registered++;
  if ((rc = api->topic(ctx, "probe.cmd", 9, &cmd)) < 0 ||
      (rc = api->topic(ctx, "probe.out", 9, &p->out)) < 0)
    return rc;
  p->pc = pc;
  p->api = api;
  if ((rc = api->subscribe(ctx, cmd, on_cmd, p, cmd_destroy, &id)) < 0) {
    p->pc = NULL;
    return rc;
  }
  pc->registered++;
  /* never due: it is cancelled by the unload, its destroy counted */
  if ((rc = api->timer_start(ctx, 3600000, 0, on_timer, pc, on_destroy, &id)) <
      0)
    return rc;
  pc->registered++;
  if ((rc = api->remote_new(ctx, &remote)) < 0) return rc;
  api->remote_release(remote);
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  probe_counts *pc = (probe_counts *)(uintptr_t)strtoull(config, NULL, 16);
  if (pc == NULL) return UVP_EINVAL;
  pc->inits++;
  int rc = setup(ctx, api, pc);
  if (rc < 0) {
    pc->init_failed++;
    pc->last_init_rc = rc;
    return rc;
  }
  *out_state = pc;
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx;
  ((probe_counts *)state)->starts++;
  return 0;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  ((probe_counts *)state)->stops++;
}

static void on_unload(void *state) { ((probe_counts *)state)->unloads++; }

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "alloc-probe",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
