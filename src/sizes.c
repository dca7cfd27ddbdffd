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
