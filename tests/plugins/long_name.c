/* A descriptor name of UVP_NAME_MAX + 1 (64) bytes: UVP_EBADDESC (A7). */
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
    .size = sizeof(uvp_plugin_desc),
    .name = "n123456789012345678901234567890123456789012345678901234567890123",
    .on_init = on_init,
};

_Static_assert(
    sizeof "n123456789012345678901234567890123456789012345678901234567890123" ==
        UVP_NAME_MAX + 2,
    "64-byte name");
