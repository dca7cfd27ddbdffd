/* Sets UVP_PLUGIN_UNLOAD_SAFE: after unload the object is unmapped (A10),
 * but only once the owned payload it publishes from on_stop ("bye" on
 * us.out, freed by code in this object) has been freed.
 * It subscribes to us.in so unload has a destroy to run first. */
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

typedef struct us {
  const uvp_api *api;
  uvp_topic out;
} us;

static void free_bye(void *data, size_t len, void *hint) {
  (void)len, (void)hint;
  free(data);
}

static void on_stop(uvp_ctx *ctx, void *state) {
  us *u = state;
  char *p = malloc(3);
  if (p == NULL) return;
  memcpy(p, "bye", 3);
  if (u->api->publish_owned(ctx, u->out, p, 3, free_bye, NULL) < 0) free(p);
}

static void on_unload(void *state) { free(state); }

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len;
  uvp_topic t;
  uvp_id sub;
  int rc;
  us *u = calloc(1, sizeof *u);
  if (u == NULL) return UVP_ENOMEM;
  u->api = api;
  *out_state = u;
  if ((rc = api->topic(ctx, "us.in", 5, &t)) < 0 ||
      (rc = api->topic(ctx, "us.out", 6, &u->out)) < 0 ||
      (rc = api->subscribe(ctx, t, on_event, NULL, NULL, &sub)) < 0) {
    free(u);
    return rc;
  }
  return 0;
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "unload_safe",
    .on_init = on_init,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
