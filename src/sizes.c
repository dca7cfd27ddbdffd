/* Size negotiation of the structs the host reads or fills (F3).
 *
 * A caller compiled against an older header passes a smaller `size`: the
 * fields it has are used, the rest take defaults (or are not written).
 * A size that ends inside a field is no version's sizeof: copying up to it
 * would take half a pointer, so it is refused. Every known field is listed
 * here; a field appended to a struct is appended to its table.
 * Thread: any; everything here is pure.
 */
#include "uvp-internal.h"

typedef struct field {
  uint16_t offset, size;
} field;

#define FIELD(type, member) \
  { offsetof(type, member), sizeof(((type *)0)->member) }

static const field host_options[] = {
    FIELD(uvp_host_options, size),
    FIELD(uvp_host_options, log),
    FIELD(uvp_host_options, log_data),
    FIELD(uvp_host_options, log_level),
    FIELD(uvp_host_options, queue_capacity),
    FIELD(uvp_host_options, max_payload),
    FIELD(uvp_host_options, batch),
    FIELD(uvp_host_options, max_topics),
    FIELD(uvp_host_options, fault_policy),
    FIELD(uvp_host_options, remote_capacity),
    FIELD(uvp_host_options, no_metrics),
    FIELD(uvp_host_options, work_concurrency),
    FIELD(uvp_host_options, work_drain_ms),
    FIELD(uvp_host_options, slow_callback_ms),
    FIELD(uvp_host_options, allocator),
};

static const field load_options[] = {
    FIELD(uvp_load_options, size),
    FIELD(uvp_load_options, fault_policy),
    FIELD(uvp_load_options, remote_limit),
    FIELD(uvp_load_options, work_limit),
    FIELD(uvp_load_options, strict_modes),
    FIELD(uvp_load_options, sha256),
};

static const field plugin_stats[] = {
    FIELD(uvp_plugin_stats, size),
    FIELD(uvp_plugin_stats, state),
    FIELD(uvp_plugin_stats, calls),
    FIELD(uvp_plugin_stats, events),
    FIELD(uvp_plugin_stats, published),
    FIELD(uvp_plugin_stats, errors),
    FIELD(uvp_plugin_stats, panics),
    FIELD(uvp_plugin_stats, wrong_thread),
    FIELD(uvp_plugin_stats, registrations),
    FIELD(uvp_plugin_stats, posts),
    FIELD(uvp_plugin_stats, post_queued),
    FIELD(uvp_plugin_stats, post_high_water),
    FIELD(uvp_plugin_stats, remote_refs),
    FIELD(uvp_plugin_stats, work_pending),
    FIELD(uvp_plugin_stats, work_running),
    FIELD(uvp_plugin_stats, work_queued),
    FIELD(uvp_plugin_stats, work_abandoned),
    FIELD(uvp_plugin_stats, cb_ns_total),
    FIELD(uvp_plugin_stats, cb_hist),
    FIELD(uvp_plugin_stats, slow_callbacks),
};

static const field host_stats[] = {
    FIELD(uvp_host_stats, size),
    FIELD(uvp_host_stats, topics),
    FIELD(uvp_host_stats, plugins),
    FIELD(uvp_host_stats, plugins_by_state),
    FIELD(uvp_host_stats, subscriptions),
    FIELD(uvp_host_stats, timers),
    FIELD(uvp_host_stats, fd_watches),
    FIELD(uvp_host_stats, work_items),
    FIELD(uvp_host_stats, queue_depth),
    FIELD(uvp_host_stats, queue_high_water),
    FIELD(uvp_host_stats, queue_refused),
    FIELD(uvp_host_stats, remote_depth),
    FIELD(uvp_host_stats, remote_high_water),
    FIELD(uvp_host_stats, remote_refused),
    FIELD(uvp_host_stats, published),
    FIELD(uvp_host_stats, delivered),
    FIELD(uvp_host_stats, slow_callbacks),
    FIELD(uvp_host_stats, remote_dropped),
    FIELD(uvp_host_stats, bus_sent),
    FIELD(uvp_host_stats, bus_received),
    FIELD(uvp_host_stats, bus_refused),
    FIELD(uvp_host_stats, bus_dropped),
};

static const field topic_stats[] = {
    FIELD(uvp_topic_stats, size),
    FIELD(uvp_topic_stats, subscribers),
    FIELD(uvp_topic_stats, published),
    FIELD(uvp_topic_stats, delivered),
};

static const field plugin_info[] = {
    FIELD(uvp_plugin_info, size),        FIELD(uvp_plugin_info, state),
    FIELD(uvp_plugin_info, unload_safe), FIELD(uvp_plugin_info, name),
    FIELD(uvp_plugin_info, desc_name),   FIELD(uvp_plugin_info, desc_version),
    FIELD(uvp_plugin_info, path),
};

/* size covers at least `min` bytes and ends in no field of the table. */
static bool fits(uint32_t size, size_t min, const field *f, size_t n) {
  if (size < min) return false;
  for (size_t i = 0; i < n; i++)
    if (size > f[i].offset && size < (size_t)f[i].offset + f[i].size)
      return false;
  return true;
}

bool uvp__host_options_size_ok(uint32_t size) {
  return fits(size, offsetof(uvp_host_options, log), host_options,
              ARRAY_SIZE(host_options));
}

bool uvp__load_options_size_ok(uint32_t size) {
  return fits(size, offsetof(uvp_load_options, fault_policy), load_options,
              ARRAY_SIZE(load_options));
}

bool uvp__plugin_stats_size_ok(uint32_t size) {
  return fits(size, offsetof(uvp_plugin_stats, calls), plugin_stats,
              ARRAY_SIZE(plugin_stats));
}

/* The O1 structs: at least the first field after size. */
bool uvp__host_stats_size_ok(uint32_t size) {
  return fits(size, offsetof(uvp_host_stats, topics) + sizeof(uint32_t),
              host_stats, ARRAY_SIZE(host_stats));
}

bool uvp__topic_stats_size_ok(uint32_t size) {
  return fits(size, offsetof(uvp_topic_stats, subscribers) + sizeof(uint32_t),
              topic_stats, ARRAY_SIZE(topic_stats));
}

bool uvp__plugin_info_size_ok(uint32_t size) {
  return fits(size, offsetof(uvp_plugin_info, state) + sizeof(int), plugin_info,
              ARRAY_SIZE(plugin_info));
}
