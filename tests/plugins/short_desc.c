/* A descriptor symbol of only 12 bytes (magic, ABI, size): UVP_ESHORT (A5).
 * The host must not read past the symbol. */
#include <uvplug/plugin.h>

struct short_desc {
  uint32_t magic;
  uint16_t abi_major;
  uint16_t abi_minor;
  uint32_t size;
};

_Static_assert(sizeof(struct short_desc) == 12, "12-byte descriptor");

__attribute__((visibility("default")))
const struct short_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(struct short_desc),
};
