/* bench_svc_c_plugin.so: the C provider of uvplug-bench's service cases.
 * It exports "bench.add" 1.0, one function taking bench_add_args: the
 * shape every provider of the service cases has (a Rust one too), so that
 * service.c can load any of them by path and call it the same way.
 */
#include <stdint.h>

#include "uvplug/plugin.h"

#define EXPORT __attribute__((visibility("default")))

typedef struct bench_add_args {
  uint64_t a, b, out;
} bench_add_args;

static int add(void *instance, void *args) {
  (void)instance;
  bench_add_args *x = args;
  x->out = x->a + x->b;
  return 0;
}

static const uvp_service_fn fns[] = {add};

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)config;
  (void)len;
  uvp_service_export desc = {
      .size = sizeof desc,
      .major = 1,
      .minor = 0,
      .name = "bench.add",
      .fns = fns,
      .count = 1,
  };
  uvp_id id;
  *out_state = NULL;
  return api->service_export(ctx, &desc, &id);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "bench-svc-c",
    .version = "0.1.0",
    .on_init = on_init,
};
