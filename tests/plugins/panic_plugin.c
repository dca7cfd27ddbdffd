/* A subscriber to f.in that fails on every event: with config "error" it
 * returns UVP_EINVAL (F2), otherwise UVP_EPANIC (F1).
 * Thread: loop thread. */
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static uint64_t calls, destroyed, unloaded;

EXPORT uint64_t uvp_panic_calls(void) { return calls; }
EXPORT uint64_t uvp_panic_destroyed(void) { return destroyed; }
EXPORT uint64_t uvp_panic_unloaded(void) { return unloaded; }

static int mode_error; /* same for all instances: tests load one at a time */

static void on_destroy(void *user_data) {
  (void)user_data;
  destroyed++;
}

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  calls++;
  return mode_error ? UVP_EINVAL : UVP_EPANIC;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)out_state;
  mode_error = len == 5 && memcmp(config, "error", 5) == 0;
  uvp_topic t;
  uvp_id sub;
  int rc;
  if ((rc = api->topic(ctx, "f.in", 4, &t)) < 0) return rc;
  return api->subscribe(ctx, t, on_event, NULL, on_destroy, &sub);
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
    .name = "panic",
    .on_init = on_init,
    .on_unload = on_unload,
};
