/* Publishes a numbered stream: n events on one topic, `batch` per loop
 * turn (a 1 ms repeating timer), each payload starting with its sequence
 * number 1..n as 8 little-endian bytes, padded with zeros to `size`.
 *
 * config: space-separated key=value, all optional:
 *   topic=<name>     topic to publish on (default "seq")
 *   n=<count>        events in all (default 1000)
 *   batch=<count>    most events per timer tick (default 1000)
 *   size=<bytes>     payload size, >= 8 (default 16)
 *   start_on=<name>  wait for the first event on this topic before
 *                    publishing (e.g. the NATS bridge's status topic)
 *
 * A full host queue (UVP_EAGAIN) ends the tick's batch; that event is
 * retried on the next tick, so the stream has no gaps at the source.
 * Counters (uvp_api.counter, O4): published, refused (EAGAIN retries).
 * Logs "seq_pub start" at the first tick and "seq_pub done n=<n>" once the
 * last event is published (tools/bench-nats.sh times the stream by them).
 * Thread: loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

typedef struct pub {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic topic;
  uint64_t n, batch, size, next;
  uint64_t *published, *refused;
  uvp_id timer, start_sub;
  unsigned char buf[4096];
} pub;

/* Copies the value of key=... from config into buf (empty if absent). */
static void config_get(const char *config, const char *key, char *buf,
                       size_t cap) {
  size_t klen = strlen(key);
  buf[0] = '\0';
  for (const char *p = config; *p != '\0';) {
    while (*p == ' ') p++;
    const char *end = strchr(p, ' ');
    size_t tlen = end ? (size_t)(end - p) : strlen(p);
    if (tlen > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
      size_t vlen = tlen - klen - 1;
      if (vlen >= cap) vlen = cap - 1;
      memcpy(buf, p + klen + 1, vlen);
      buf[vlen] = '\0';
      return;
    }
    p += tlen;
  }
}

static uint64_t config_u64(const char *config, const char *key, uint64_t def) {
  char v[32];
  config_get(config, key, v, sizeof v);
  return v[0] ? strtoull(v, NULL, 10) : def;
}

static void put_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void say(pub *p, const char *msg) {
  p->api->log(p->ctx, UVP_LOG_INFO, msg, strlen(msg));
}

static int on_tick(uvp_ctx *ctx, void *user_data) {
  pub *p = user_data;
  if (p->next == 1 && *p->refused == 0) say(p, "seq_pub start");
  for (uint64_t k = 0; k < p->batch && p->next <= p->n; k++) {
    put_le64(p->buf, p->next);
    int rc = p->api->publish(ctx, p->topic, p->buf, p->size);
    if (rc == UVP_EAGAIN) {
      ++*p->refused;
      return 0; /* retried next tick */
    }
    if (rc < 0) return rc;
    ++*p->published;
    p->next++;
  }
  if (p->next > p->n && p->timer != 0) {
    char line[64];
    snprintf(line, sizeof line, "seq_pub done n=%llu",
             (unsigned long long)p->n);
    say(p, line);
    p->api->cancel(ctx, p->timer);
    p->timer = 0;
  }
  return 0;
}

static int start(pub *p) {
  return p->api->timer_start(p->ctx, 0, 1, on_tick, p, NULL, &p->timer);
}

static int on_start_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ev;
  pub *p = user_data;
  if (p->start_sub == 0) return 0;
  p->api->cancel(ctx, p->start_sub);
  p->start_sub = 0;
  return p->timer == 0 && p->next == 1 ? start(p) : 0;
}

static int setup(pub *p, const char *config) {
  char topic[UVP_TOPIC_MAX + 1], start_on[UVP_TOPIC_MAX + 1];
  config_get(config, "topic", topic, sizeof topic);
  config_get(config, "start_on", start_on, sizeof start_on);
  p->n = config_u64(config, "n", 1000);
  p->batch = config_u64(config, "batch", 1000);
  p->size = config_u64(config, "size", 16);
  p->next = 1;
  if (p->size < 8 || p->size > sizeof p->buf || p->batch == 0)
    return UVP_EINVAL;
  const char *t = topic[0] ? topic : "seq";
  int rc = p->api->topic(p->ctx, t, strlen(t), &p->topic);
  if (rc == 0) rc = p->api->counter(p->ctx, "published", 9, &p->published);
  if (rc == 0) rc = p->api->counter(p->ctx, "refused", 7, &p->refused);
  if (rc < 0 || start_on[0] == '\0') return rc;
  uvp_topic st;
  rc = p->api->topic(p->ctx, start_on, strlen(start_on), &st);
  if (rc < 0) return rc;
  return p->api->subscribe(p->ctx, st, on_start_event, p, NULL, &p->start_sub);
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  if (!UVP_HAS_FIELD(api, uvp_api, counter))
    return UVP_EINVAL; /* a host older than ABI 1.3 */
  pub *p = calloc(1, sizeof *p);
  if (p == NULL) return UVP_ENOMEM;
  p->ctx = ctx;
  p->api = api;
  int rc = setup(p, config);
  if (rc < 0) {
    free(p);
    return rc;
  }
  *out_state = p;
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx;
  pub *p = state;
  return p->start_sub != 0 ? 0 : start(p);
}

static void on_unload(void *state) { free(state); }

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "seq_pub",
    .version = "1",
    .on_init = on_init,
    .on_start = on_start,
    .on_unload = on_unload,
};
