/* Per-publisher order across loops, for the daemon's worker tests: a
 * publisher numbers its events, a subscriber checks that each publisher's
 * numbers arrive in order, none missing or repeated.
 *
 * config: space-separated tokens:
 *   pub=TOPIC id=K count=N burst=B every_ms=M
 *       publish N events of 8 bytes, (K << 32) | seq with seq 1..N, up to
 *       B per timer tick (default 64 every 1 ms); a publish refused with
 *       UVP_EAGAIN is tried again at the next tick with the same seq.
 *       Logs "seq: sent N (refused R)" when done.
 *   sub=TOPIC
 *       count events per publisher id (K < 64); an event whose seq is not
 *       the publisher's last + 1 counts as out of order. Logs at stop
 *       "seq: seen X events from P publishers, O out of order".
 * Thread: loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define MAX_PUBS 64

typedef struct seq {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic out;
  int pub;
  uint64_t id, count, burst, every_ms, next, refused;
  uvp_id timer;
  uint64_t last[MAX_PUBS];
  uint64_t seen, disorder;
} seq;

static void say(seq *s, const char *line) {
  s->api->log(s->ctx, UVP_LOG_INFO, line, strlen(line));
}

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  seq *s = user_data;
  uint64_t v;
  if (ev->len != sizeof v) return UVP_EINVAL;
  memcpy(&v, ev->data, sizeof v);
  uint64_t id = v >> 32, n = v & 0xffffffffu;
  if (id >= MAX_PUBS) return UVP_EINVAL;
  if (n != s->last[id] + 1) s->disorder++;
  s->last[id] = n;
  s->seen++;
  return 0;
}

/* Up to burst events; stops at the first refusal and retries it later. */
static int on_tick(uvp_ctx *ctx, void *user_data) {
  seq *s = user_data;
  for (uint64_t i = 0; i < s->burst && s->next <= s->count; i++) {
    uint64_t v = s->id << 32 | s->next;
    int rc = s->api->publish(ctx, s->out, &v, sizeof v);
    if (rc == UVP_EAGAIN) {
      s->refused++;
      return 0;
    }
    if (rc < 0) return rc;
    s->next++;
  }
  if (s->next > s->count) {
    s->api->cancel(ctx, s->timer);
    char line[96];
    snprintf(line, sizeof line, "seq: sent %llu (refused %llu)",
             (unsigned long long)s->count, (unsigned long long)s->refused);
    say(s, line);
  }
  return 0;
}

static int token(seq *s, const char *k, const char *v) {
  uvp_topic t;
  uvp_id id;
  int rc;
  if (strcmp(k, "sub") == 0) {
    if ((rc = s->api->topic(s->ctx, v, strlen(v), &t)) < 0) return rc;
    return s->api->subscribe(s->ctx, t, on_event, s, NULL, &id);
  }
  if (strcmp(k, "pub") == 0) {
    s->pub = 1;
    return s->api->topic(s->ctx, v, strlen(v), &s->out);
  }
  uint64_t n = strtoull(v, NULL, 10);
  if (strcmp(k, "id") == 0 && n < MAX_PUBS) return s->id = n, 0;
  if (strcmp(k, "count") == 0) return s->count = n, 0;
  if (strcmp(k, "burst") == 0 && n > 0) return s->burst = n, 0;
  if (strcmp(k, "every_ms") == 0 && n > 0) return s->every_ms = n, 0;
  return UVP_EINVAL;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  seq *s = calloc(1, sizeof *s);
  if (s == NULL) return UVP_ENOMEM;
  *s = (seq){.ctx = ctx, .api = api, .burst = 64, .every_ms = 1, .next = 1};
  *out_state = s;
  char buf[256];
  if (len >= sizeof buf) return free(s), UVP_EINVAL;
  memcpy(buf, config, len);
  buf[len] = '\0';
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok != NULL;
       tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (eq == NULL) return free(s), UVP_EINVAL;
    *eq = '\0';
    int rc = token(s, tok, eq + 1);
    if (rc < 0) return free(s), rc;
  }
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  seq *s = state;
  if (!s->pub) return 0;
  return s->api->timer_start(ctx, s->every_ms, s->every_ms, on_tick, s, NULL,
                             &s->timer);
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  seq *s = state;
  if (s->pub) return;
  unsigned pubs = 0;
  for (int i = 0; i < MAX_PUBS; i++) pubs += s->last[i] != 0;
  char line[128];
  snprintf(line, sizeof line,
           "seq: seen %llu events from %u publishers, %llu out of order",
           (unsigned long long)s->seen, pubs, (unsigned long long)s->disorder);
  say(s, line);
}

static void on_unload(void *state) { free(state); }

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "seq",
    .version = "1.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
