/* Hostile descriptor: a name with a path separator and a dot-dot (A7:
 * UVP_EBADDESC; the on_init below must never run, A8). */
#include <stdlib.h>
#include <uvplug/plugin.h>

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  abort();
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "../etc/passwd",
    .on_init = on_init,
};
