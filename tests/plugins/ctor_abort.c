/* An object whose ELF constructor aborts: dlopen never returns. uvplugd
 * --check loads each plugin in a child, so it reports "crashed while
 * loading (signal 6)" and goes on with the next plugin. */
#include <stdlib.h>
#include <uvplug/plugin.h>

__attribute__((constructor)) static void boom(void) { abort(); }

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
    .name = "ctor_abort",
    .on_init = on_init,
};
