/* Sets UVP_PLUGIN_UNLOAD_SAFE: after unload the object is unmapped (A10).
 * It subscribes to us.in so unload has a destroy to run first. */
#include <uvplug/plugin.h>

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len, (void)out_state;
  uvp_topic t;
  uvp_id sub;
  int rc;
  if ((rc = api->topic(ctx, "us.in", 5, &t)) < 0) return rc;
  return api->subscribe(ctx, t, on_event, NULL, NULL, &sub);
}

__attribute__((visibility("default"))) const uvp_plugin_desc
    uvp_plugin_descriptor = {
        .magic = UVP_PLUGIN_MAGIC,
        .abi_major = UVP_ABI_MAJOR,
        .abi_minor = UVP_ABI_MINOR,
        .size = sizeof(uvp_plugin_desc),
        .flags = UVP_PLUGIN_UNLOAD_SAFE,
        .name = "unload_safe",
        .on_init = on_init,
};
