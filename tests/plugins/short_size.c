/* A full-size descriptor symbol whose size field claims less than the ABI
 * 1.0 descriptor: UVP_ESHORT (A5), decided from the size field alone. */
#include <stddef.h>
#include <stdlib.h>
#include <uvplug/plugin.h>

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  abort(); /* A8: must never run */
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = offsetof(uvp_plugin_desc, on_init),
    .name = "short_size",
    .on_init = on_init,
};
