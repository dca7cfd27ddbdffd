/* Prometheus text exposition of the host's statistics (see metrics_text.h).
 *
 * Every family is written whole (HELP, TYPE, then all its samples) as the
 * format requires, so the per-plugin statistics are read once into an
 * array and walked once per family.
 */
#include "metrics_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_process.h"

#ifndef UVPD_VERSION
#define UVPD_VERSION "0.2.0"
#endif

/* A growing output buffer; oom sticks once an allocation failed. */
typedef struct sb {
  char *buf;
  size_t len, cap;
  int oom;
} sb;

/* One loaded plugin's name and statistics, read once per scrape. */
typedef struct plug {
  const char *name;
  uvp_plugin_stats st;
} plug;

/* Make room for n more bytes plus a NUL. */
static int sb_reserve(sb *b, size_t n) {
  if (b->oom) return -1;
  if (b->len + n + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + n + 1) cap *= 2;
  char *p = realloc(b->buf, cap);
  if (p == NULL) {
    b->oom = 1;
    return -1;
  }
  b->buf = p;
  b->cap = cap;
  return 0;
}

/* Append printf-formatted text. */
static void sb_printf(sb *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || sb_reserve(b, (size_t)n) != 0) return;
  va_start(ap, fmt);
  vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

size_t uvpd_metrics_escape(char *out, size_t outlen, const char *s) {
  size_t n = 0;
  for (; s != NULL && *s != '\0'; s++) {
    char esc = *s == '\\' ? '\\' : *s == '"' ? '"' : *s == '\n' ? 'n' : 0;
    char pair[2] = {'\\', esc};
    const char *src = esc ? pair : s;
    size_t k = esc ? 2 : 1;
    for (size_t i = 0; i < k; i++, n++)
      if (n + 1 < outlen) out[n] = src[i];
  }
  if (outlen > 0) out[n < outlen ? n : outlen - 1] = '\0';
  return n;
}

/* Append s escaped as a label value (without the quotes). */
static void sb_label(sb *b, const char *s) {
  size_t need = uvpd_metrics_escape(NULL, 0, s);
  if (sb_reserve(b, need) != 0) return;
  uvpd_metrics_escape(b->buf + b->len, need + 1, s);
  b->len += need;
}

/* The HELP and TYPE lines that open a family. */
static void family(sb *b, const char *name, const char *type,
                   const char *help) {
  sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} v */
static void sample1(sb *b, const char *name, const char *label,
                    const char *value, uint64_t v) {
  sb_printf(b, "%s{%s=\"", name, label);
  sb_label(b, value);
  sb_printf(b, "\"} %" PRIu64 "\n", v);
}

/* Read every loaded plugin's statistics; *out is NULL when none. */
static int read_plugins(uvp_host *host, plug **out, size_t *n_out) {
  size_t n = 0, cap = 0;
  plug *p = NULL;
  const char *name;
  for (uint32_t i = 0; uvp_host_plugin_name(host, i, &name) == 0; i++) {
    if (n == cap) {
      size_t c = cap ? cap * 2 : 8;
      plug *q = realloc(p, c * sizeof(*q));
      if (q == NULL) {
        free(p);
        return UVP_ENOMEM;
      }
      p = q;
      cap = c;
    }
    memset(&p[n].st, 0, sizeof(p[n].st));
    p[n].st.size = sizeof(p[n].st);
    if (uvp_host_plugin_stats(host, name, &p[n].st) != 0) continue;
    p[n].name = name;
    n++;
  }
  *out = p;
  *n_out = n;
  return 0;
}

/* A per-plugin field: metric name, type, help, and where it is. */
typedef struct field {
  const char *name;
  const char *type;
  const char *help;
  size_t off;
  int is32; /* uint32_t, else uint64_t */
} field;

#define F64(n, t, h, f) \
  { n, t, h, offsetof(uvp_plugin_stats, f), 0 }
#define F32(n, t, h, f) \
  { n, t, h, offsetof(uvp_plugin_stats, f), 1 }

static const field plugin_fields[] = {
    F64("uvplug_plugin_calls_total", "counter",
        "Callbacks run (events, timers, fd watches).", calls),
    F64("uvplug_plugin_events_total", "counter",
        "Topic events delivered to the plugin.", events),
    F64("uvplug_plugin_published_total", "counter",
        "Events the plugin published.", published),
    F64("uvplug_plugin_errors_total", "counter",
        "Callbacks that returned a negative status.", errors),
    F64("uvplug_plugin_panics_total", "counter",
        "Callbacks that returned UVP_EPANIC.", panics),
    F64("uvplug_plugin_wrong_thread_total", "counter",
        "Calls refused with UVP_EWRONGTHREAD.", wrong_thread),
    F64("uvplug_plugin_posts_total", "counter",
        "Posted callbacks and remote publishes run.", posts),
    F64("uvplug_plugin_slow_callbacks_total", "counter",
        "Callback spans longer than the host's slow_callback_ms.",
        slow_callbacks),
    F32("uvplug_plugin_registrations", "gauge",
        "Live subscriptions, timers, fd watches and work items.",
        registrations),
    F32("uvplug_plugin_post_queued", "gauge", "Posts waiting in the queue.",
        post_queued),
    F32("uvplug_plugin_post_high_water", "gauge",
        "Most posts ever waiting at once.", post_high_water),
    F32("uvplug_plugin_remote_refs", "gauge",
        "References held on the plugin's remote handle.", remote_refs),
    F32("uvplug_plugin_work_pending", "gauge", "Work items queued or running.",
        work_pending),
    F32("uvplug_plugin_work_running", "gauge",
        "Work items running on the thread pool.", work_running),
    F32("uvplug_plugin_work_queued", "gauge", "Work items waiting for a slot.",
        work_queued),
};

/* Value of field f in st. */
static uint64_t field_value(const uvp_plugin_stats *st, const field *f) {
  const char *p = (const char *)st + f->off;
  if (f->is32) {
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
  }
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static const char *const state_names[] = {"loading", "running", "stopping",
                                          "quarantined", "draining"};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

/* The upper bound of cb_hist bucket i < UVP_CB_HIST_BUCKETS - 1, in
 * seconds: 2^i microseconds (uvplug.h). */
static double bucket_le(size_t i) { return (double)(1u << i) * 1e-6; }

/* uvplug_callback_duration_seconds: cb_hist made cumulative, as the
 * format wants; the last bucket is +Inf, so _count is their sum. */
static void render_histograms(sb *b, const plug *p, size_t n) {
  const char *h = "uvplug_callback_duration_seconds";
  family(b, h, "histogram",
         "Plugin callback durations (log2 buckets; the mean of a span of "
         "consecutive callbacks).");
  for (size_t i = 0; i < n; i++) {
    uint64_t cum = 0;
    for (size_t k = 0; k < UVP_CB_HIST_BUCKETS; k++) {
      cum += p[i].st.cb_hist[k];
      sb_printf(b, "%s_bucket{plugin=\"", h);
      sb_label(b, p[i].name);
      if (k + 1 < UVP_CB_HIST_BUCKETS)
        sb_printf(b, "\",le=\"%.6f\"} %" PRIu64 "\n", bucket_le(k), cum);
      else
        sb_printf(b, "\",le=\"+Inf\"} %" PRIu64 "\n", cum);
    }
    sb_printf(b, "%s_sum{plugin=\"", h);
    sb_label(b, p[i].name);
    sb_printf(b, "\"} %.9f\n", (double)p[i].st.cb_ns_total / 1e9);
    sb_printf(b, "%s_count{plugin=\"", h);
    sb_label(b, p[i].name);
    sb_printf(b, "\"} %" PRIu64 "\n", cum);
  }
}

/* uvplug_plugin_info: what was loaded, from which file. */
static void render_info(sb *b, uvp_host *host, const plug *p, size_t n) {
  family(b, "uvplug_plugin_info", "gauge",
         "Descriptor name and version and path of each instance; always 1.");
  for (size_t i = 0; i < n; i++) {
    uvp_plugin_info in;
    memset(&in, 0, sizeof(in));
    in.size = sizeof(in);
    if (uvp_host_plugin_info(host, p[i].name, &in) != 0) continue;
    sb_printf(b, "uvplug_plugin_info{plugin=\"");
    sb_label(b, p[i].name);
    sb_printf(b, "\",descriptor=\"");
    sb_label(b, in.desc_name);
    sb_printf(b, "\",version=\"");
    sb_label(b, in.desc_version);
    sb_printf(b, "\",path=\"");
    sb_label(b, in.path);
    sb_printf(b, "\",unload_safe=\"%s\"} 1\n", in.unload_safe ? "yes" : "no");
  }
}

/* A host-wide value: one family of one sample. */
static void scalar(sb *b, const char *name, const char *type, const char *help,
                   uint64_t v) {
  family(b, name, type, help);
  sb_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* The host-wide families (uvp_host_get_stats). */
static void render_host(sb *b, uvp_host *host) {
  uvp_host_stats hs;
  memset(&hs, 0, sizeof(hs));
  hs.size = sizeof(hs);
  if (uvp_host_get_stats(host, &hs) != 0) return;
  scalar(b, "uvplug_topics", "gauge", "Interned topics.", hs.topics);
  family(b, "uvplug_plugins", "gauge", "Loaded instances, by state.");
  for (size_t s = 0; s < N_STATES; s++)
    sb_printf(b, "uvplug_plugins{state=\"%s\"} %" PRIu32 "\n", state_names[s],
              hs.plugins_by_state[s]);
  family(b, "uvplug_registrations", "gauge",
         "Live registrations of every plugin and the embedder, by kind.");
  sb_printf(b,
            "uvplug_registrations{kind=\"subscription\"} %" PRIu32
            "\n"
            "uvplug_registrations{kind=\"timer\"} %" PRIu32
            "\n"
            "uvplug_registrations{kind=\"fd_watch\"} %" PRIu32
            "\n"
            "uvplug_registrations{kind=\"work\"} %" PRIu32 "\n",
            hs.subscriptions, hs.timers, hs.fd_watches, hs.work_items);
  scalar(b, "uvplug_queue_depth", "gauge", "Events queued now.",
         hs.queue_depth);
  scalar(b, "uvplug_queue_high_water", "gauge",
         "Most events ever queued at once.", hs.queue_high_water);
  scalar(b, "uvplug_queue_refused_total", "counter",
         "Publishes refused with UVP_EAGAIN (queue full).", hs.queue_refused);
  scalar(b, "uvplug_remote_depth", "gauge",
         "Cross-thread posts and publishes waiting for the loop.",
         hs.remote_depth);
  scalar(b, "uvplug_remote_high_water", "gauge",
         "Most cross-thread items the loop found waiting at once.",
         hs.remote_high_water);
  scalar(b, "uvplug_remote_refused_total", "counter",
         "Cross-thread posts and publishes refused with UVP_EAGAIN.",
         hs.remote_refused);
  scalar(b, "uvplug_remote_dropped_total", "counter",
         "Remote publishes still queued when their plugin stopped (R4).",
         hs.remote_dropped);
  scalar(b, "uvplug_bus_sent_total", "counter",
         "Shared-topic copies handed to other workers' hosts.", hs.bus_sent);
  scalar(b, "uvplug_bus_received_total", "counter",
         "Shared-topic copies this host took from other workers.",
         hs.bus_received);
  scalar(b, "uvplug_bus_refused_total", "counter",
         "Shared-topic publishes refused: a receiving ring was full.",
         hs.bus_refused);
  scalar(b, "uvplug_bus_dropped_total", "counter",
         "Shared-topic copies freed undelivered when this host closed.",
         hs.bus_dropped);
  scalar(b, "uvplug_published_total", "counter",
         "Events accepted on every topic.", hs.published);
  scalar(b, "uvplug_delivered_total", "counter",
         "Subscriber callbacks run on every topic.", hs.delivered);
  scalar(b, "uvplug_slow_callbacks_total", "counter",
         "Slow callback spans of every plugin, unloaded ones included.",
         hs.slow_callbacks);
}

/* One topic's name and counters. */
typedef struct topic {
  const char *name;
  uvp_topic_stats st;
} topic;

/* Per-topic families; topics are never dropped, so their names stay. */
static void render_topics(sb *b, uvp_host *host) {
  size_t n = 0, cap = 0;
  topic *t = NULL;
  for (uint32_t i = 0;; i++) {
    if (n == cap) {
      size_t c = cap ? cap * 2 : 16;
      topic *q = realloc(t, c * sizeof(*q));
      if (q == NULL) {
        b->oom = 1;
        break;
      }
      t = q;
      cap = c;
    }
    memset(&t[n].st, 0, sizeof(t[n].st));
    t[n].st.size = sizeof(t[n].st);
    if (uvp_host_topic_stats(host, i, &t[n].name, &t[n].st) != 0) break;
    n++;
  }
  family(b, "uvplug_topic_published_total", "counter",
         "Events accepted on the topic.");
  for (size_t i = 0; i < n; i++)
    sample1(b, "uvplug_topic_published_total", "topic", t[i].name,
            t[i].st.published);
  family(b, "uvplug_topic_delivered_total", "counter",
         "Subscriber callbacks run for the topic's events.");
  for (size_t i = 0; i < n; i++)
    sample1(b, "uvplug_topic_delivered_total", "topic", t[i].name,
            t[i].st.delivered);
  family(b, "uvplug_topic_subscribers", "gauge",
         "Live subscriptions to the topic.");
  for (size_t i = 0; i < n; i++)
    sample1(b, "uvplug_topic_subscribers", "topic", t[i].name,
            t[i].st.subscribers);
  free(t);
}

/* Every per-plugin family. */
static void render_plugins(sb *b, const plug *p, size_t n) {
  for (size_t f = 0; f < sizeof(plugin_fields) / sizeof(plugin_fields[0]);
       f++) {
    const field *fd = &plugin_fields[f];
    family(b, fd->name, fd->type, fd->help);
    for (size_t i = 0; i < n; i++)
      sample1(b, fd->name, "plugin", p[i].name, field_value(&p[i].st, fd));
  }
  /* One-hot, so a state that is left shows 0 rather than vanishing. */
  family(b, "uvplug_plugin_state", "gauge",
         "1 for the plugin's current state, 0 for the others.");
  for (size_t i = 0; i < n; i++)
    for (size_t s = 0; s < N_STATES; s++) {
      sb_printf(b, "uvplug_plugin_state{plugin=\"");
      sb_label(b, p[i].name);
      sb_printf(b, "\",state=\"%s\"} %d\n", state_names[s],
                p[i].st.state == (int)s);
    }
  render_histograms(b, p, n);
  family(b, "uvplug_work_abandoned", "gauge",
         "Work items abandoned at an unload or close that still run.");
  sb_printf(b, "uvplug_work_abandoned %" PRIu32 "\n",
            n > 0 ? p[0].st.work_abandoned : 0);
}

/* The plugins' named counters (uvp_api.counter, O4): one family, labelled
 * by instance and counter name. Names are [a-z0-9_], so they need no
 * escaping, but go through sb_label like every label value. */
static void render_counters(sb *b, uvp_host *host, const plug *p, size_t n) {
  family(b, "uvplug_plugin_named_total", "counter",
         "Named counters a plugin keeps (uvp_api.counter).");
  for (size_t i = 0; i < n; i++) {
    const char *cname;
    uint64_t v;
    for (uint32_t k = 0;
         uvp_host_plugin_counter(host, p[i].name, k, &cname, &v) == 0; k++) {
      sb_printf(b, "uvplug_plugin_named_total{plugin=\"");
      sb_label(b, p[i].name);
      sb_printf(b, "\",counter=\"");
      sb_label(b, cname);
      sb_printf(b, "\"} %" PRIu64 "\n", v);
    }
  }
}

/* The daemon's own families: build, readiness, reloads, instances. */
static void render_daemon(sb *b, const uvpd_daemon_view *v) {
  family(b, "uvplug_build_info", "gauge",
         "Daemon and library versions; always 1.");
  sb_printf(b, "uvplug_build_info{version=\"%s\",library=\"", UVPD_VERSION);
  sb_label(b, uvp_version_string());
  sb_printf(b, "\"} 1\n");
  if (v == NULL) return;
  family(b, "uvplug_ready", "gauge", "1 when /ready answers 200.");
  sb_printf(b, "uvplug_ready %d\n", v->ready != 0);
  family(b, "uvplug_reloads_total", "counter",
         "Config reloads (SIGHUP), by result.");
  sb_printf(b, "uvplug_reloads_total{result=\"ok\"} %" PRIu64 "\n",
            v->reloads_ok);
  sb_printf(b, "uvplug_reloads_total{result=\"failed\"} %" PRIu64 "\n",
            v->reloads_failed);
  family(b, "uvplug_restarts_total", "counter",
         "Plugin restarts by the restart policy.");
  sb_printf(b, "uvplug_restarts_total %" PRIu64 "\n", v->restarts_total);

  static const char *const statuses[] = {"running", "failed", "disabled",
                                         "quarantined"};
  family(b, "uvplug_instance_status", "gauge",
         "1 for each configured instance's status, 0 for the others.");
  for (size_t i = 0; i < v->n_instances && v->instances != NULL; i++)
    for (size_t s = 0; s < 4; s++) {
      const char *cur = v->instances[i].status;
      sb_printf(b, "uvplug_instance_status{plugin=\"");
      sb_label(b, v->instances[i].name);
      sb_printf(b, "\",status=\"%s\"} %d\n", statuses[s],
                cur != NULL && strcmp(cur, statuses[s]) == 0);
    }
  family(b, "uvplug_instance_restarts_total", "counter",
         "Restarts of each configured instance by the restart policy.");
  for (size_t i = 0; i < v->n_instances && v->instances != NULL; i++)
    sample1(b, "uvplug_instance_restarts_total", "plugin", v->instances[i].name,
            v->instances[i].restarts);
}

/* How long the loop waited for events (libuv's idle time, counted from
 * the UV_METRICS_IDLE_TIME configure on): 1 - its rate is the share of
 * time the loop thread was busy, callbacks and blocking calls alike. */
static void render_loop(sb *b, uv_loop_t *loop) {
  if (loop == NULL) return;
  family(b, "uvplug_loop_idle_seconds_total", "counter",
         "Time the event loop waited for events since metrics started.");
  sb_printf(b, "uvplug_loop_idle_seconds_total %.9f\n",
            (double)uv_metrics_idle_time(loop) / 1e9);
}

int uvpd_metrics_render(uvp_host *host, uv_loop_t *loop,
                        const uvpd_daemon_view *view, char **out_buf,
                        size_t *out_len) {
  sb b = {0};
  plug *p = NULL;
  size_t n = 0;
  if (read_plugins(host, &p, &n) != 0) return UVP_ENOMEM;
  render_daemon(&b, view);
  render_loop(&b, loop);
  render_host(&b, host);
  render_topics(&b, host);
  render_plugins(&b, p, n);
  render_counters(&b, host, p, n);
  render_info(&b, host, p, n);
  free(p);
  char proc[UVPD_PROCESS_TEXT_MAX];
  uvpd_metrics_process(proc, sizeof(proc));
  sb_printf(&b, "%s", proc);
  if (b.oom || sb_reserve(&b, 0) != 0) {
    free(b.buf);
    return UVP_ENOMEM;
  }
  *out_buf = b.buf;
  *out_len = b.len;
  return 0;
}
