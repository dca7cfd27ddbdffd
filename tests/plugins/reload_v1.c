/* A plugin that says which build it is: on "reload.ask" it publishes
 * "v<VERSION> inits=<N>" on "reload.ver", N counting the on_init calls of
 * this mapped object (static state, shared by the instances of one mapped
 * file, A14). reload_v2.c is this source built with UVT_RELOAD_VERSION 2;
 * reload_safe_v*.c set UVT_RELOAD_SAFE. Tests copy the builds to a
 * temporary path and rename() one over the other (A13). */
#include <stdio.h>
#include <uvplug/plugin.h>

#ifndef UVT_RELOAD_VERSION
#define UVT_RELOAD_VERSION 1
#endif
#ifndef UVT_RELOAD_SAFE
#define UVT_RELOAD_SAFE 0
#endif

static const uvp_api *g_api;
static uvp_topic ver;
static int inits;

static int on_ask(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ev, (void)user_data;
  char msg[64];
  int n = snprintf(msg, sizeof msg, "v%d inits=%d", UVT_RELOAD_VERSION, inits);
  return g_api->publish(ctx, ver, msg, (size_t)n);
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config, (void)len, (void)out_state;
  uvp_topic ask;
  uvp_id sub;
  int rc;
  g_api = api;
  inits++;
  if ((rc = api->topic(ctx, "reload.ask", 10, &ask)) < 0 ||
      (rc = api->topic(ctx, "reload.ver", 10, &ver)) < 0)
    return rc;
  return api->subscribe(ctx, ask, on_ask, NULL, NULL, &sub);
}

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "reload",
    .flags = UVT_RELOAD_SAFE ? UVP_PLUGIN_UNLOAD_SAFE : 0,
    .on_init = on_init,
};
