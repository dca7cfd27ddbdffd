/* Counts a numbered stream (as seq_pub publishes it) and checks its order:
 * each payload starts with a sequence number, 8 little-endian bytes.
 *
 * config: topic=<name> (default "seq"), expect=<n> (optional: log
 * "seq_count complete n=<n>" when the n-th event arrives).
 *
 * Counters (uvp_api.counter, O4):
 *   received      events seen
 *   gaps          sequence numbers skipped (seq > last + 1: seq - last - 1)
 *   out_of_order  events whose seq is not above the last one seen
 *   last_seq      the highest seq seen
 * Thread: loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

typedef struct count {
  uvp_ctx *ctx;
  const uvp_api *api;
  uint64_t expect;
  uint64_t *received, *gaps, *out_of_order, *last_seq;
} count;

static uint64_t get_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  count *c = user_data;
  if (++*c->received == c->expect) {
    char line[64];
    int n = snprintf(line, sizeof line, "seq_count complete n=%llu",
                     (unsigned long long)c->expect);
    c->api->log(ctx, UVP_LOG_INFO, line, (size_t)n);
  }
  if (ev->len < 8) return UVP_EINVAL; /* counted, and a fault */
  uint64_t seq = get_le64(ev->data);
  if (seq <= *c->last_seq) {
    ++*c->out_of_order;
    return 0;
  }
  *c->gaps += seq - *c->last_seq - 1;
  *c->last_seq = seq;
  return 0;
}

/* Copies the value of topic=... from config (default "seq"). */
static void topic_of(const char *config, char *buf, size_t cap) {
  const char *p = strstr(config, "topic=");
  const char *v = p ? p + 6 : "seq";
  size_t n = strcspn(v, " ");
  if (n >= cap) n = cap - 1;
  memcpy(buf, v, n);
  buf[n] = '\0';
}

static int setup(uvp_ctx *ctx, const uvp_api *api, count *c,
                 const char *config) {
  static const char *const names[] = {"received", "gaps", "out_of_order",
                                      "last_seq"};
  uint64_t **slots[] = {&c->received, &c->gaps, &c->out_of_order, &c->last_seq};
  for (int i = 0; i < 4; i++) {
    int rc = api->counter(ctx, names[i], strlen(names[i]), slots[i]);
    if (rc < 0) return rc;
  }
  char topic[UVP_TOPIC_MAX + 1];
  topic_of(config, topic, sizeof topic);
  const char *e = strstr(config, "expect=");
  c->expect = e ? strtoull(e + 7, NULL, 10) : 0;
  c->ctx = ctx;
  c->api = api;
  uvp_topic t;
  uvp_id sub;
  int rc = api->topic(ctx, topic, strlen(topic), &t);
  return rc < 0 ? rc : api->subscribe(ctx, t, on_event, c, NULL, &sub);
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  if (!UVP_HAS_FIELD(api, uvp_api, counter)) return UVP_EINVAL;
  count *c = calloc(1, sizeof *c);
  if (c == NULL) return UVP_ENOMEM;
  int rc = setup(ctx, api, c, config);
  if (rc < 0) {
    free(c);
    return rc;
  }
  *out_state = c;
  return 0;
}

static void on_unload(void *state) { free(state); }

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "seq_count",
    .version = "1",
    .on_init = on_init,
    .on_unload = on_unload,
};
