/* Observing a host: the embedder's read-only view of it (host-wide and
 * per-topic counters, what a plugin instance is), its log level, and the
 * library version (O1-O3).
 *
 * Every counter read here is kept where the code that moves it already
 * writes (the queue, the topic, the registry, the ctx), so reading is a
 * walk over small tables and costs the dispatch path nothing.
 * Thread: loop thread only, except uvp_version.
 */
#include <string.h>

#include "uvp-internal.h"

unsigned int uvp_version(void) { return UVP_VERSION_HEX; }

/* As host.c's check: NULL, then the thread (T3), then closing. */
static int check_host(uvp_host *h) {
  if (h == NULL) return UVP_EINVAL;
  if (!uvp__on_loop_thread(h)) return UVP_EWRONGTHREAD;
  return h->closing ? UVP_ECLOSED : 0;
}

int uvp_host_set_log_level(uvp_host *host, int level) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (level < UVP_LOG_ERROR || level > UVP_LOG_DEBUG) return UVP_EINVAL;
  host->opts.log_level = level; /* log.c reads it before every line (O3) */
  return 0;
}

/* Topics are never dropped, so their sums are the host's for its life. */
static void topic_sums(const uvp_host *h, uvp_host_stats *st) {
  for (uint32_t i = 0; i < h->topics.count; i++) {
    st->published += h->topics.items[i]->published;
    st->delivered += h->topics.items[i]->delivered;
  }
}

int uvp_host_get_stats(uvp_host *host, uvp_host_stats *out) {
  if (out == NULL || !uvp__host_stats_size_ok(out->size))
    return UVP_EINVAL; /* F3 */
  int rc = check_host(host);
  if (rc < 0) return rc;
  const uint32_t *kind = host->by_kind;
  uvp_host_stats st = {
      .size = out->size,
      .topics = host->topics.count,
      .plugins = host->norder,
      .subscriptions = kind[UVP__SUB],
      .timers = kind[UVP__TIMER],
      .fd_watches = kind[UVP__FD],
      .work_items = kind[UVP__WORK],
      .queue_depth = host->queue.count,
      .queue_high_water = host->queue_high_water,
      .queue_refused = host->queue_refused,
      .slow_callbacks = host->slow_callbacks,
      .remote_dropped = host->remote_dropped,
  };
  for (uint32_t i = 0; i < host->norder; i++) {
    unsigned state = host->order[i]->state;
    if (state < ARRAY_SIZE(st.plugins_by_state)) st.plugins_by_state[state]++;
  }
  topic_sums(host, &st);
  uvp__remote_host_stats(host, &st);
  uvp__bus_host_stats(host, &st);
  memcpy(out, &st, st.size < sizeof st ? st.size : sizeof st);
  return 0;
}

int uvp_host_topic_stats(uvp_host *host, uint32_t index, const char **out_name,
                         uvp_topic_stats *out) {
  if (out == NULL || !uvp__topic_stats_size_ok(out->size)) return UVP_EINVAL;
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (index >= host->topics.count) return UVP_ENOENT;
  const uvp__topic *tp = host->topics.items[index]; /* id index + 1 */
  uvp_topic_stats st = {
      .size = out->size,
      .subscribers = tp->nsubs - tp->ndead,
      .published = tp->published,
      .delivered = tp->delivered,
  };
  if (out_name != NULL) *out_name = tp->name;
  memcpy(out, &st, st.size < sizeof st ? st.size : sizeof st);
  return 0;
}

int uvp_host_plugin_info(uvp_host *host, const char *name,
                         uvp_plugin_info *out) {
  if (out == NULL || !uvp__plugin_info_size_ok(out->size)) return UVP_EINVAL;
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (name == NULL) return UVP_EINVAL;
  uvp_ctx *ctx = uvp__plugin_find(host, name, false);
  if (ctx == NULL) return UVP_ENOENT;
  uvp_plugin_info info = {
      .size = out->size,
      .state = ctx->state,
      .unload_safe = (ctx->desc.flags & UVP_PLUGIN_UNLOAD_SAFE) != 0,
      .name = ctx->name,
      .desc_name = ctx->desc.name ? ctx->desc.name : "",
      .desc_version = ctx->desc.version ? ctx->desc.version : "",
      .path = ctx->path ? ctx->path : "",
  };
  memcpy(out, &info, info.size < sizeof info ? info.size : sizeof info);
  return 0;
}
