/* A descriptor whose name is outside [A-Za-z0-9_.-]: UVP_EBADDESC (A7).
 * on_init marks the environment so the test can prove it never ran (A8). */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdlib.h>
#include <uvplug/plugin.h>

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  setenv("UVT_A8_RAN", "bad_name", 1);
  return 0;
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "bad name!",
    .on_init = on_init,
};
