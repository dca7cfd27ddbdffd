/* The plugin of the load.* cases (load.c): unload-safe and empty, so each
 * load maps the object and each unload unmaps it, as a raw dlopen/dlclose
 * pair does. */
#include <uvplug/plugin.h>

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  return 0;
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "bench-load",
    .on_init = on_init,
};
