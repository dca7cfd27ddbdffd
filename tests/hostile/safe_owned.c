/* Hostile and unload-safe: publishes an owned payload whose free_fn is
 * its own code, then (config "fail=1") fails on_init, or is unloaded by
 * the test before the payload was delivered. L8, A10: free_fn runs exactly
 * once, before on_unload and before the object is unmapped; it counts into
 * the int whose address the test passes as "count=<hex>". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

static void free_payload(void *data, size_t len, void *hint) {
  (void)len;
  free(data);
  (*(int *)hint)++;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len, (void)out_state;
  const char *c = strstr(config, "count=");
  if (c == NULL) return UVP_EINVAL;
  int *count = (int *)(uintptr_t)strtoull(c + 6, NULL, 16);
  uvp_topic t;
  int rc = api->topic(ctx, "h.in", 4, &t);
  if (rc < 0) return rc;
  char *p = malloc(5);
  if (p == NULL) return UVP_ENOMEM;
  memcpy(p, "owned", 5);
  rc = api->publish_owned(ctx, t, p, 5, free_payload, count);
  if (rc < 0) {
    free(p);
    return rc;
  }
  return strstr(config, "fail=1") ? UVP_EINVAL : 0;
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "safe_owned",
    .on_init = on_init,
};
