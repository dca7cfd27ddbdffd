/* A plugin that needs a function no library defines: RTLD_NOW refuses it
 * with "undefined symbol", which is UVP_ENOTSO (A1). */
#include <uvplug/plugin.h>

extern int uvt_no_such_function(void);

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  return uvt_no_such_function();
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "unresolved",
    .on_init = on_init,
};
