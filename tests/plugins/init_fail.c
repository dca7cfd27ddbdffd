/* on_init registers a subscription and a timer, then fails with -22: the
 * load must return UVP_EINIT, both destroys run, on_unload is not called
 * and nothing is leaked (A9). */
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static uint64_t destroyed, unloaded, calls;

EXPORT uint64_t uvp_initfail_destroyed(void) { return destroyed; }
EXPORT uint64_t uvp_initfail_unloaded(void) { return unloaded; }
EXPORT uint64_t uvp_initfail_calls(void) { return calls; }

static void on_destroy(void *user_data) {
  (void)user_data;
  destroyed++;
}

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  calls++;
  return 0;
}

static int on_timer(uvp_ctx *ctx, void *user_data) {
  (void)ctx, (void)user_data;
  calls++;
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len, (void)out_state;
  uvp_topic t;
  uvp_id sub, timer;
  if (api->topic(ctx, "if.in", 5, &t) < 0) return UVP_EBUSY;
  if (api->subscribe(ctx, t, on_event, NULL, on_destroy, &sub) < 0)
    return UVP_EBUSY;
  if (api->timer_start(ctx, 0, 1, on_timer, NULL, on_destroy, &timer) < 0)
    return UVP_EBUSY;
  return -22;
}

static void on_unload(void *state) {
  (void)state;
  unloaded++;
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "init_fail",
    .on_init = on_init,
    .on_unload = on_unload,
};
