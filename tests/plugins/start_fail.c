/* on_start fails: the load returns UVP_EINIT, on_stop is not called,
 * on_unload is, and the subscription made in on_init is destroyed (A9). */
#include <stdlib.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static uint64_t destroyed, unloaded, stopped;

EXPORT uint64_t uvp_startfail_destroyed(void) { return destroyed; }
EXPORT uint64_t uvp_startfail_unloaded(void) { return unloaded; }
EXPORT uint64_t uvp_startfail_stopped(void) { return stopped; }

static void on_destroy(void *user_data) {
  (void)user_data;
  destroyed++;
}

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len;
  uvp_topic t;
  uvp_id sub;
  int rc;
  if ((rc = api->topic(ctx, "sf.in", 5, &t)) < 0) return rc;
  if ((rc = api->subscribe(ctx, t, on_event, NULL, on_destroy, &sub)) < 0)
    return rc;
  *out_state = malloc(16); /* freed by on_unload: leak check */
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  return -5;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  stopped++;
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
    .name = "start_fail",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
