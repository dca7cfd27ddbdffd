/* Hostile descriptor: every hook NULL, on_init included (A7: UVP_EBADDESC;
 * A8: nothing of it runs). */
#include <uvplug/plugin.h>

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "desc_null_init",
};
