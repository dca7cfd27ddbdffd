/* The daemon tests' probe: counts, publishes and logs what happens to it,
 * so a shell test can check uvplugd through its log.
 *
 * config: space-separated tokens, all optional; say= takes the rest:
 *   in=TOPIC       subscribe, count events; "probe: seen N events" at stop
 *   out=TOPIC      publish count= events (8-byte counter), one per every_ms
 *   count=N        (default 10)      every_ms=M   (default 20)
 *   subs=K         K more subscriptions (on probe.idle), each with a destroy
 *   panic=1        the in= subscriber returns UVP_EPANIC (quarantine)
 *   debug=1        log "probe: a debug line" at debug level at start
 *   saylen=N       log one line of N 'x' at start
 *   stop_sleep_ms=N  block N ms in on_stop (a slow shutdown)
 *   work_ms=N      at start, queue work that sleeps N ms on the pool (an
 *                  unload then drains it: the loop runs meanwhile)
 *   cmdline=1      log "probe: cmdline ARGV..." (its process's command
 *                  line, from /proc/self/cmdline) at warn level in on_init
 *   say=TEXT       log TEXT (the rest of the config, as is) at start
 *
 * Every destroy logs "probe: destroy"; on_unload logs nothing (ctx gone).
 * Thread: loop thread.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uvplug/plugin.h>

typedef struct probe {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic out;
  uint64_t seen, sent, count, every_ms;
  uvp_id timer;
  int panic, ticking;
  unsigned long stop_sleep_ms, work_ms;
} probe;

static void sleep_ms(unsigned long ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Pool thread: only sleeps (no API call off the loop thread). */
static void slow_work(void *user_data) {
  sleep_ms(((probe *)user_data)->work_ms);
}

static int work_done(uvp_ctx *ctx, int status, void *user_data) {
  (void)ctx, (void)status, (void)user_data;
  return 0;
}

static void say(probe *p, const char *fmt, unsigned long long v) {
  char line[128];
  int n = snprintf(line, sizeof line, fmt, v);
  p->api->log(p->ctx, UVP_LOG_INFO, line, (size_t)n);
}

static void on_destroy(void *user_data) {
  probe *p = user_data;
  p->api->log(p->ctx, UVP_LOG_INFO, "probe: destroy", 14);
}

static int on_in(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev;
  probe *p = user_data;
  p->seen++;
  return p->panic ? UVP_EPANIC : 0;
}

static int on_idle(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev, (void)user_data;
  return 0;
}

static int on_tick(uvp_ctx *ctx, void *user_data) {
  probe *p = user_data;
  p->sent++;
  int rc = p->api->publish(ctx, p->out, &p->sent, sizeof p->sent);
  if (p->sent >= p->count && p->ticking) {
    p->ticking = 0;
    p->api->cancel(ctx, p->timer);
    say(p, "probe: sent %llu", (unsigned long long)p->sent);
  }
  return rc;
}

/* "probe: cmdline uvplugd --check-one ...": which process runs on_init. */
static void log_cmdline(probe *p) {
  char line[512] = "probe: cmdline";
  size_t n = strlen(line);
  FILE *f = fopen("/proc/self/cmdline", "r");
  if (f == NULL) return;
  int c;
  line[n++] = ' ';
  while (n + 1 < sizeof line && (c = fgetc(f)) != EOF)
    line[n++] = c == '\0' ? ' ' : (char)c;
  fclose(f);
  p->api->log(p->ctx, UVP_LOG_WARN, line, n);
}

static int token(probe *p, const char *k, const char *v, size_t vlen) {
  char buf[128];
  uvp_topic t;
  uvp_id id;
  int rc;
  if (vlen >= sizeof buf) return UVP_EINVAL;
  memcpy(buf, v, vlen);
  buf[vlen] = '\0';
  if (strcmp(k, "in") == 0) {
    if ((rc = p->api->topic(p->ctx, buf, vlen, &t)) < 0) return rc;
    return p->api->subscribe(p->ctx, t, on_in, p, on_destroy, &id);
  }
  if (strcmp(k, "out") == 0) {
    p->ticking = 1;
    return p->api->topic(p->ctx, buf, vlen, &p->out);
  }
  if (strcmp(k, "count") == 0) return p->count = strtoull(buf, NULL, 10), 0;
  if (strcmp(k, "every_ms") == 0)
    return p->every_ms = strtoull(buf, NULL, 10), 0;
  if (strcmp(k, "work_ms") == 0) return p->work_ms = strtoul(buf, NULL, 10), 0;
  if (strcmp(k, "stop_sleep_ms") == 0)
    return p->stop_sleep_ms = strtoul(buf, NULL, 10), 0;
  if (strcmp(k, "panic") == 0) return p->panic = buf[0] == '1', 0;
  if (strcmp(k, "subs") == 0) {
    if ((rc = p->api->topic(p->ctx, "probe.idle", 10, &t)) < 0) return rc;
    for (unsigned long n = strtoul(buf, NULL, 10); n > 0; n--)
      if ((rc = p->api->subscribe(p->ctx, t, on_idle, p, on_destroy, &id)) < 0)
        return rc;
    return 0;
  }
  if (strcmp(k, "debug") == 0)
    return p->api->log(p->ctx, UVP_LOG_DEBUG, "probe: a debug line", 19), 0;
  if (strcmp(k, "cmdline") == 0) return log_cmdline(p), 0;
  if (strcmp(k, "saylen") == 0) {
    size_t n = strtoul(buf, NULL, 10);
    char *line = malloc(n + 1);
    if (line == NULL) return UVP_ENOMEM;
    memset(line, 'x', n);
    p->api->log(p->ctx, UVP_LOG_INFO, line, n);
    free(line);
    return 0;
  }
  return UVP_EINVAL;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  probe *p = calloc(1, sizeof *p);
  if (p == NULL) return UVP_ENOMEM;
  *p = (probe){.ctx = ctx, .api = api, .count = 10, .every_ms = 20};
  *out_state = p;
  const char *s = config, *end = config + len;
  while (s < end) {
    while (s < end && *s == ' ') s++;
    if (s >= end) break;
    if ((size_t)(end - s) >= 4 && memcmp(s, "say=", 4) == 0) {
      api->log(ctx, UVP_LOG_INFO, s + 4, (size_t)(end - s - 4));
      break;
    }
    const char *eq = memchr(s, '=', (size_t)(end - s));
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    if (sp == NULL) sp = end;
    if (eq == NULL || eq > sp || eq - s >= 16) return free(p), UVP_EINVAL;
    char key[16];
    memcpy(key, s, (size_t)(eq - s));
    key[eq - s] = '\0';
    int rc = token(p, key, eq + 1, (size_t)(sp - eq - 1));
    if (rc < 0) return free(p), rc;
    s = sp;
  }
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  probe *p = state;
  p->api->log(ctx, UVP_LOG_INFO, "probe: started", 14);
  uvp_id id;
  int rc;
  if (p->work_ms > 0 &&
      (rc = p->api->work_queue(ctx, slow_work, work_done, p, NULL, &id)) < 0)
    return rc;
  if (!p->ticking) return 0;
  return p->api->timer_start(ctx, p->every_ms, p->every_ms, on_tick, p, NULL,
                             &p->timer);
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  probe *p = state;
  say(p, "probe: seen %llu events", (unsigned long long)p->seen);
  if (p->stop_sleep_ms > 0) sleep_ms(p->stop_sleep_ms);
}

static void on_unload(void *state) { free(state); }

__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = UVP_PLUGIN_UNLOAD_SAFE,
    .name = "probe",
    .version = "1.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
