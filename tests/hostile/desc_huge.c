/* Hostile descriptor: claims a size of 4 GiB - 1, a far future ABI minor,
 * unknown flags and a version string of 4000 bytes. A5: a larger
 * descriptor loads and only the fields the host knows are read; A7: the
 * version is read to at most 64 bytes. */
#include <uvplug/plugin.h>

#define V16 "0123456789abcdef"
#define V256 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16 V16
#define V4096                                                                \
  V256 V256 V256 V256 V256 V256 V256 V256 V256 V256 V256 V256 V256 V256 V256 \
      V256

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)ctx, (void)api, (void)config, (void)len, (void)out_state;
  return 0;
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = 0xffff,
    .size = 0xffffffffu,
    .flags = 0xfffffff0u,
    .name = "desc_huge",
    .version = V4096,
    .on_init = on_init,
};
