/* A plugin built against a newer ABI minor: its descriptor is larger, with
 * fields appended at the end. It must load, and the host reads only the
 * fields it knows (A5). It echoes nm.in to nm.out to prove it runs. */
#include <uvplug/plugin.h>

struct newer_desc {
  uvp_plugin_desc base;
  /* ABI 1.1 (hypothetical): fields the host does not know */
  int (*on_reconfigure)(uvp_ctx *ctx, void *state, const char *cfg, size_t len);
  uint64_t reserved[4];
};

static uvp_topic out;
static const uvp_api *g_api;

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)user_data;
  return g_api->publish(ctx, out, ev->data, ev->len);
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len, (void)out_state;
  uvp_topic in;
  uvp_id sub;
  int rc;
  g_api = api;
  if ((rc = api->topic(ctx, "nm.in", 5, &in)) < 0 ||
      (rc = api->topic(ctx, "nm.out", 6, &out)) < 0)
    return rc;
  return api->subscribe(ctx, in, on_event, NULL, NULL, &sub);
}

__attribute__((visibility("default")))
const struct newer_desc uvp_plugin_descriptor = {
    .base =
        {
            .magic = UVP_PLUGIN_MAGIC,
            .abi_major = UVP_ABI_MAJOR,
            .abi_minor = UVP_ABI_MINOR + 1,
            .size = sizeof(struct newer_desc),
            .name = "newer_minor",
            .on_init = on_init,
        },
    .on_reconfigure = (void *)1, /* garbage: must never be called */
    .reserved = {~0ull, ~0ull, ~0ull, ~0ull},
};
