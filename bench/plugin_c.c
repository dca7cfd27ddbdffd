/* bench_c_plugin.so: the C subscriber of uvplug-bench, loaded through the
 * host's loader like any plugin (the C side of pub1.c vs pub1.rust).
 *
 * Config: "topic=NAME subs=N" (defaults bench.c, 1). Every handler adds one
 * to the counter the bench reads with dlsym("uvp_bench_c_counter").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvplug/plugin.h"

#define EXPORT __attribute__((visibility("default")))

/* Read by the bench (dlsym) between runs, on the loop thread. */
EXPORT uint64_t uvp_bench_c_counter;

EXPORT uint64_t uvp_bench_c_count(void) { return uvp_bench_c_counter; }

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  (void)ev;
  (*(uint64_t *)user_data)++;
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  char topic[UVP_TOPIC_MAX + 1] = "bench.c";
  unsigned subs = 1;
  const char *t = strstr(config, "topic=");
  const char *s = strstr(config, "subs=");
  if (t != NULL && sscanf(t, "topic=%255s", topic) != 1) return UVP_EINVAL;
  if (s != NULL && (sscanf(s, "subs=%u", &subs) != 1 || subs == 0))
    return UVP_EINVAL;
  uvp_topic id;
  int rc = api->topic(ctx, topic, strlen(topic), &id);
  for (unsigned i = 0; rc == 0 && i < subs; i++) {
    uvp_id sub;
    rc = api->subscribe(ctx, id, on_event, &uvp_bench_c_counter, NULL, &sub);
  }
  *out_state = NULL;
  return rc;
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "bench-c",
    .version = "0.1.0",
    .on_init = on_init,
};
