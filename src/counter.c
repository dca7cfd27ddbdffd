/* Named per-instance counters (uvp_api.counter, contract O4).
 *
 * A plugin asks for a counter by name and increments the uint64_t it gets
 * back; the embedder reads them by index (uvp_host_plugin_counter). The
 * table is allocated whole on the first request so that a returned pointer
 * never moves, and freed with the ctx, after on_unload.
 * Thread: loop thread only (the api entry checks it).
 */
#include <string.h>

#include "uvp-internal.h"

struct uvp__counters {
  uint32_t n;
  uint64_t value[UVP_COUNTERS_MAX];
  char name[UVP_COUNTERS_MAX][UVP_NAME_MAX + 1];
};

/* 1..UVP_NAME_MAX bytes of [a-z0-9_]: a Prometheus label value and a
 * metric-name fragment without escaping. */
static int name_check(const char *name, size_t len) {
  if (name == NULL || len == 0 || len > UVP_NAME_MAX) return UVP_EINVAL;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return UVP_EINVAL;
  }
  return 0;
}

static int find(const uvp__counters *t, const char *name, size_t len) {
  for (uint32_t i = 0; i < t->n; i++)
    if (strncmp(t->name[i], name, len) == 0 && t->name[i][len] == '\0')
      return (int)i;
  return -1;
}

int uvp__counter_get(uvp_ctx *ctx, const char *name, size_t len,
                     uint64_t **out_counter) {
  int rc = name_check(name, len);
  if (rc < 0) return rc;
  uvp__counters *t = ctx->counters;
  if (t == NULL) {
    t = uvp__calloc(&ctx->host->alloc, 1, sizeof(*t));
    if (t == NULL) return UVP_ENOMEM;
    ctx->counters = t;
  }
  int i = find(t, name, len);
  if (i < 0) {
    if (t->n == UVP_COUNTERS_MAX) return UVP_ENOSPC;
    i = (int)t->n++;
    memcpy(t->name[i], name, len);
    t->name[i][len] = '\0';
  }
  *out_counter = &t->value[i];
  return 0;
}

int uvp__counter_read(const uvp_ctx *ctx, uint32_t index, const char **out_name,
                      uint64_t *out_value) {
  const uvp__counters *t = ctx->counters;
  if (t == NULL || index >= t->n) return UVP_ENOENT;
  if (out_name != NULL) *out_name = t->name[index];
  if (out_value != NULL) *out_value = t->value[index];
  return 0;
}

void uvp__counters_free(uvp_ctx *ctx) {
  uvp__free(&ctx->host->alloc, ctx->counters);
  ctx->counters = NULL;
}
