/* A descriptor without on_init: UVP_EBADDESC (A7). */
#include <uvplug/plugin.h>

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "bad_desc",
    .on_init = NULL,
};
