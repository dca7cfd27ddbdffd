/* Hostile and unload-safe: takes a remote reference in on_init and never
 * gives it back (U4: the host keeps the object mapped until the test
 * releases the reference it reads through safe_leak_remote). */
#include <stdint.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static uvp_remote *leaked;

EXPORT uint64_t safe_leak_remote(void) { return (uint64_t)leaked; }

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len, (void)out_state;
  return api->remote_new(ctx, &leaked);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "safe_leak",
    .on_init = on_init,
};
