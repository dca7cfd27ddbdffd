/* nats_bridge: carries uvplug topics to NATS subjects and back
 * (docs/nats-bridge.md has the design, the config keys and the
 * guarantees; frame.h the wire format).
 *
 *   local event on an out topic ──► frame (origin, seq, topic, payload)
 *       ──► natsConnection_Publish(prefix + topic)        [loop thread]
 *   NATS message on an in subject ──► inbox ──► remote_post(drain)
 *       [libnats thread]  ──► check origin and sequence, publish_owned
 *       the payload on the frame's topic                   [loop thread]
 *
 * Loop prevention: the server does not echo our own messages back
 * (no_echo), a frame of our own origin is dropped anyway, and an event
 * this bridge published from NATS is recognized by its payload pointer
 * (publish_owned hands subscribers the pointer as published, D8) and never
 * sent back out.
 * Counters (uvp_api.counter): sent, received, dropped, reconnects,
 * disconnects, refused, local_refused, suppressed, own_dropped,
 * out_of_order, bad_frames.
 * Thread: hooks and callbacks on the loop thread; the nats_* callbacks
 * below run on libnats's threads and touch only the inbox (inbox.h).
 */
#include <nats/nats.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uvplug/plugin.h>

#include "config.h"
#include "frame.h"
#include "inbox.h"
#include "streams.h"

#define QUIET_TIMEOUT_MS 5000 /* unload: wait for libnats's callbacks */

typedef struct bridge bridge;

/* An inbound message checked and counted, waiting for its local publish. */
typedef struct nb_pending {
  natsMsg *msg; /* NULL: none */
  uvp_topic topic;
  void *data;
  size_t len;
} nb_pending;

/* One out topic: its subject and its stream's sequence numbers. */
typedef struct nb_out {
  bridge *b;
  uvp_topic topic;
  const char *name;
  size_t name_len;
  char *subject;
  uint64_t seq;    /* last seq sent (accepted by libnats) */
  uint64_t synced; /* last seq announced by a sync frame */
} nb_out;

typedef struct nb_counters {
  uint64_t *sent, *received, *dropped, *reconnects, *disconnects, *refused,
      *local_refused, *suppressed, *own_dropped, *out_of_order, *bad_frames;
} nb_counters;

struct bridge {
  uvp_ctx *ctx;
  const uvp_api *api;
  nb_config cfg;
  uint64_t origin;
  nb_counters c;
  nb_out *outs;
  uvp_topic status;
  natsOptions *opts;
  natsConnection *nc;
  natsSubscription **subs;
  size_t n_subs;
  uvp_remote *remote;
  nb_inbox inbox;
  bool inbox_ready;
  natsMsg **take;          /* cfg.batch slots for nb_inbox_take */
  size_t take_pos, take_n; /* take[take_pos..take_n) not delivered yet */
  nb_pending stall;        /* refused by a full host queue, retried */
  uvp_id retry;            /* the retry timer; 0: none */
  nb_streams streams;
  const void **echo; /* payloads published from NATS on an out topic, */
  size_t echo_cap, echo_head, echo_n; /* not yet seen by on_out (FIFO) */
  unsigned char *buf;                 /* frame being encoded */
  size_t buf_cap;
  bool refusing;        /* the last publish to NATS failed: log once a streak */
  uvp_topic last_topic; /* intern cache of the last inbound topic */
  char last_name[256];
  size_t last_len;
};

static void say(bridge *b, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(bridge *b, int level, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  b->api->log(b->ctx, level, line,
              (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- loop prevention: payloads this bridge published from NATS ---- */

static int echo_reserve(bridge *b) {
  if (b->echo_n < b->echo_cap) return 0;
  size_t cap = b->echo_cap ? b->echo_cap * 2 : 1024;
  const void **v = malloc(cap * sizeof *v);
  if (v == NULL) return UVP_ENOMEM;
  for (size_t i = 0; i < b->echo_n; i++)
    v[i] = b->echo[(b->echo_head + i) % b->echo_cap];
  free(b->echo);
  b->echo = v;
  b->echo_cap = cap;
  b->echo_head = 0;
  return 0;
}

static void echo_push(bridge *b, const void *p) {
  b->echo[(b->echo_head + b->echo_n++) % b->echo_cap] = p;
}

/* Whether p is the oldest payload we published from NATS: events reach a
 * subscriber in publish order, so ours arrive in FIFO order. */
static bool echo_take(bridge *b, const void *p) {
  if (b->echo_n == 0 || b->echo[b->echo_head] != p) return false;
  b->echo_head = (b->echo_head + 1) % b->echo_cap;
  b->echo_n--;
  return true;
}

/* ---- out: local events to NATS ---- */

static int frame_buf(bridge *b, size_t need) {
  if (need <= b->buf_cap) return 0;
  unsigned char *p = realloc(b->buf, need);
  if (p == NULL) return UVP_ENOMEM;
  b->buf = p;
  b->buf_cap = need;
  return 0;
}

/* Publishes one frame of o's stream; a data frame takes the next seq only
 * when libnats accepted it, so a refusal leaves no gap for the receiver. */
static void send_frame(bridge *b, nb_out *o, uint8_t flags, const void *data,
                       size_t len) {
  bool sync = flags & NB_FRAME_SYNC;
  nb_frame f = {flags,   b->origin,   sync ? o->seq : o->seq + 1,
                o->name, o->name_len, data,
                len};
  size_t need = nb_frame_size(o->name_len, len);
  natsStatus s = NATS_NO_MEMORY;
  if (need <= INT32_MAX && frame_buf(b, need) == 0) {
    nb_frame_encode(&f, b->buf);
    s = natsConnection_Publish(b->nc, o->subject, b->buf, (int)need);
  }
  if (s == NATS_OK) {
    if (sync) {
      o->synced = o->seq;
    } else {
      o->seq++;
      ++*b->c.sent;
    }
    b->refusing = false;
    return;
  }
  if (!sync) ++*b->c.refused;
  if (!b->refusing)
    say(b, UVP_LOG_WARN, "publish to %s refused: %s (counted in refused)",
        o->subject, natsStatus_GetText(s));
  b->refusing = true;
}

static int on_out(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  nb_out *o = user_data;
  bridge *b = o->b;
  if (echo_take(b, ev->data)) { /* came in from NATS: never back out */
    ++*b->c.suppressed;
    return 0;
  }
  send_frame(b, o, 0, ev->data, ev->len);
  return 0;
}

/* Sync frames announce each stream's last seq, so the receiver also
 * counts losses at the end of a burst, which no later frame reveals. */
static int on_sync(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  bridge *b = user_data;
  for (size_t i = 0; i < b->cfg.n_out; i++)
    if (b->outs[i].seq != b->outs[i].synced)
      send_frame(b, &b->outs[i], NB_FRAME_SYNC, NULL, 0);
  return 0;
}

/* ---- in: NATS messages to local events ---- */

static void free_msg(void *data, size_t len, void *hint) {
  (void)data;
  (void)len;
  natsMsg_Destroy(hint);
}

static int intern(bridge *b, const char *name, size_t len, uvp_topic *out) {
  if (len == b->last_len && memcmp(name, b->last_name, len) == 0) {
    *out = b->last_topic;
    return 0;
  }
  int rc = b->api->topic(b->ctx, name, len, out);
  if (rc < 0) return rc;
  memcpy(b->last_name, name, len);
  b->last_len = len;
  b->last_topic = *out;
  return 0;
}

static bool is_out(const bridge *b, uvp_topic t) {
  for (size_t i = 0; i < b->cfg.n_out; i++)
    if (b->outs[i].topic == t) return true;
  return false;
}

/* Publishes an accounted message's payload locally; on success the host
 * owns msg (free_msg). A full host queue (UVP_EAGAIN) keeps it in
 * b->stall for a retry: backpressure, not a drop. */
static int publish_local(bridge *b, const nb_pending *p) {
  bool mark = is_out(b, p->topic);
  int rc = mark ? echo_reserve(b) : 0;
  if (rc == 0)
    rc = b->api->publish_owned(b->ctx, p->topic, p->data, p->len, free_msg,
                               p->msg);
  if (rc == UVP_EAGAIN) {
    b->stall = *p;
    return rc;
  }
  b->stall.msg = NULL;
  if (rc < 0) {
    if (++*b->c.local_refused == 1)
      say(b, UVP_LOG_WARN,
          "local publish refused: %s (counted in "
          "local_refused)",
          rc == UVP_EMSGSIZE ? "too large" : "error");
    natsMsg_Destroy(p->msg);
    return rc;
  }
  if (mark) echo_push(b, p->data);
  return 0;
}

/* Checks and accounts one message, then publishes it. Returns UVP_EAGAIN
 * when it is stalled, else 0. */
static int deliver(bridge *b, natsMsg *msg) {
  nb_frame f;
  uvp_topic t;
  const char *raw = natsMsg_GetData(msg);
  if (nb_frame_decode(raw, (size_t)natsMsg_GetDataLength(msg), &f) < 0 ||
      intern(b, f.topic, f.topic_len, &t) < 0) {
    ++*b->c.bad_frames;
    natsMsg_Destroy(msg);
    return 0;
  }
  if (f.origin == b->origin) { /* our own, echoed by the server */
    ++*b->c.own_dropped;
    natsMsg_Destroy(msg);
    return 0;
  }
  nb_seen seen;
  bool sync = f.flags & NB_FRAME_SYNC;
  if (nb_streams_seen(&b->streams, f.origin, t, f.seq, sync, &seen) == 0) {
    *b->c.dropped += seen.dropped;
    *b->c.out_of_order += (uint64_t)seen.out_of_order;
  }
  if (sync) {
    natsMsg_Destroy(msg);
    return 0;
  }
  ++*b->c.received;
  /* A zero-length payload still needs a unique pointer (loop prevention). */
  nb_pending p = {msg, t, (void *)(f.len ? f.data : raw), f.len};
  return publish_local(b, &p) == UVP_EAGAIN ? UVP_EAGAIN : 0;
}

static void pump(bridge *b);

static int on_retry(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  bridge *b = user_data;
  b->retry = 0; /* one-shot: finished */
  pump(b);
  return 0;
}

/* The host queue is full: try again on a later loop turn, after the
 * dispatch made room. Returns false for the caller's convenience. */
static bool stalled(bridge *b) {
  if (b->retry == 0)
    b->api->timer_start(b->ctx, 1, 0, on_retry, b, NULL, &b->retry);
  return false;
}

/* Delivers what was taken from the inbox; false when stalled. */
static bool deliver_taken(bridge *b) {
  if (b->stall.msg != NULL && publish_local(b, &b->stall) == UVP_EAGAIN)
    return stalled(b);
  while (b->take_pos < b->take_n)
    if (deliver(b, b->take[b->take_pos++]) == UVP_EAGAIN) return stalled(b);
  return true;
}

/* ---- connection events ---- */

static void flush_work(void *user_data) {
  bridge *b = user_data;
  /* Once the server answered the PING, it has our subscriptions. */
  natsConnection_FlushTimeout(b->nc, 5000);
}

static int flush_done(uvp_ctx *ctx, int status, void *user_data) {
  bridge *b = user_data;
  if (status < 0 || natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED)
    return 0; /* a later (re)connect flushes again */
  say(b, UVP_LOG_INFO, "ready: %zu out, %zu in, server %s", b->cfg.n_out,
      b->cfg.n_in, b->cfg.url);
  int rc = b->api->publish(ctx, b->status, "ready", 5);
  return rc == UVP_EAGAIN ? 0 : rc;
}

static void connected(bridge *b, const char *what) {
  say(b, UVP_LOG_INFO, "%s", what);
  b->api->publish(b->ctx, b->status, what, strlen(what));
  uvp_id id;
  if (b->api->work_queue(b->ctx, flush_work, flush_done, b, NULL, &id) < 0)
    say(b, UVP_LOG_WARN, "cannot confirm subscriptions");
}

static void conn_events(bridge *b, const nb_events *ev) {
  if (ev->disconnected != 0) {
    *b->c.disconnects += ev->disconnected;
    say(b, UVP_LOG_WARN, "disconnected; buffering up to %llu bytes",
        (unsigned long long)b->cfg.buffer);
    b->api->publish(b->ctx, b->status, "disconnected", 12);
  }
  if (ev->connected != 0) connected(b, "connected");
  if (ev->reconnected != 0) {
    *b->c.reconnects += ev->reconnected;
    connected(b, "reconnected");
  }
}

/* At most one batch per call, then a fresh post while more wait: the
 * host's dispatch runs in between, so the queue drains as it fills. */
static void pump(bridge *b) {
  if (!deliver_taken(b)) return;
  nb_events ev;
  bool more;
  b->take_n = nb_inbox_take(&b->inbox, b->take, b->cfg.batch, &ev, &more);
  b->take_pos = 0;
  conn_events(b, &ev);
  if (deliver_taken(b) && more) nb_inbox_repost(&b->inbox);
}

static int on_drain(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  pump(user_data);
  return 0;
}

/* ---- libnats's threads: only the inbox ---- */

static uint32_t *ev_connected(nb_events *e) { return &e->connected; }
static uint32_t *ev_disconnected(nb_events *e) { return &e->disconnected; }
static uint32_t *ev_reconnected(nb_events *e) { return &e->reconnected; }

static void nats_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                        void *closure) {
  (void)nc;
  (void)sub;
  nb_inbox_push(&((bridge *)closure)->inbox, msg);
}

static void nats_on_connected(natsConnection *nc, void *closure) {
  (void)nc;
  nb_inbox_event(&((bridge *)closure)->inbox, ev_connected);
}

static void nats_on_disconnected(natsConnection *nc, void *closure) {
  (void)nc;
  nb_inbox_event(&((bridge *)closure)->inbox, ev_disconnected);
}

static void nats_on_reconnected(natsConnection *nc, void *closure) {
  (void)nc;
  nb_inbox_event(&((bridge *)closure)->inbox, ev_reconnected);
}

static void nats_on_closed(natsConnection *nc, void *closure) {
  (void)nc;
  nb_inbox_conn_closed(&((bridge *)closure)->inbox);
}

static void nats_on_sub_done(void *closure) {
  nb_inbox_sub_done(&((bridge *)closure)->inbox);
}

/* ---- setup ---- */

static int make_counters(bridge *b) {
  static const char *const names[] = {
      "sent",        "received",     "dropped",       "reconnects",
      "disconnects", "refused",      "local_refused", "suppressed",
      "own_dropped", "out_of_order", "bad_frames"};
  uint64_t **slots[] = {
      &b->c.sent,          &b->c.received,    &b->c.dropped,
      &b->c.reconnects,    &b->c.disconnects, &b->c.refused,
      &b->c.local_refused, &b->c.suppressed,  &b->c.own_dropped,
      &b->c.out_of_order,  &b->c.bad_frames};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int rc = b->api->counter(b->ctx, names[i], strlen(names[i]), slots[i]);
    if (rc < 0) return rc;
  }
  return 0;
}

/* A random origin id: two bridges (or one restarted) never share one. */
static uint64_t new_origin(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
               ((uint64_t)getpid() << 48) ^ (uint64_t)(uintptr_t)&ts;
  x ^= x >> 33; /* splitmix64 finalizer */
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x ? x : 1;
}

static int setup_outs(bridge *b) {
  b->outs = calloc(b->cfg.n_out ? b->cfg.n_out : 1, sizeof *b->outs);
  if (b->outs == NULL) return UVP_ENOMEM;
  for (size_t i = 0; i < b->cfg.n_out; i++) {
    nb_out *o = &b->outs[i];
    o->b = b;
    o->name = b->cfg.out[i];
    o->name_len = strlen(o->name);
    size_t n = strlen(b->cfg.prefix) + o->name_len + 1;
    if ((o->subject = malloc(n)) == NULL) return UVP_ENOMEM;
    snprintf(o->subject, n, "%s%s", b->cfg.prefix, o->name);
    uvp_id id;
    int rc = b->api->topic(b->ctx, o->name, o->name_len, &o->topic);
    if (rc == 0) rc = b->api->subscribe(b->ctx, o->topic, on_out, o, NULL, &id);
    if (rc < 0) return rc;
  }
  return 0;
}

static natsStatus make_options(bridge *b) {
  natsOptions *o;
  natsStatus s = natsOptions_Create(&o);
  if (s != NATS_OK) return s;
  b->opts = o;
  const nb_config *c = &b->cfg;
  if (s == NATS_OK) s = natsOptions_SetURL(o, c->url);
  if (s == NATS_OK) s = natsOptions_SetNoEcho(o, !c->echo);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1); /* forever */
  if (s == NATS_OK)
    s = natsOptions_SetReconnectWait(o, (int64_t)c->reconnect_wait_ms);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, (int)c->buffer);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxPendingMsgs(o, (int)c->pending);
  if (s == NATS_OK)
    s = natsOptions_SetDisconnectedCB(o, nats_on_disconnected, b);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, nats_on_reconnected, b);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(o, nats_on_closed, b);
  if (s == NATS_OK)
    s = natsOptions_SetRetryOnFailedConnect(o, true, nats_on_connected, b);
  return s;
}

static natsStatus subscribe_all(bridge *b) {
  b->subs = calloc(b->cfg.n_in ? b->cfg.n_in : 1, sizeof *b->subs);
  if (b->subs == NULL) return NATS_NO_MEMORY;
  for (size_t i = 0; i < b->cfg.n_in; i++) {
    natsSubscription *sub;
    natsStatus s =
        natsConnection_Subscribe(&sub, b->nc, b->cfg.in[i], nats_on_msg, b);
    if (s != NATS_OK) return s;
    b->subs[b->n_subs++] = sub;
    s = natsSubscription_SetOnCompleteCB(sub, nats_on_sub_done, b);
    if (s == NATS_OK)
      s = natsSubscription_SetPendingLimits(sub, (int)b->cfg.pending, -1);
    if (s != NATS_OK) return s;
  }
  return NATS_OK;
}

/* The first connect attempt runs here, on the loop thread, bounded by the
 * 2 s connect timeout; later attempts are libnats's, in the background. */
static int connect_nats(bridge *b) {
  natsStatus s = make_options(b);
  bool now = false;
  if (s == NATS_OK) {
    s = natsConnection_Connect(&b->nc, b->opts);
    now = s == NATS_OK;
    if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
  }
  if (s == NATS_OK) s = subscribe_all(b);
  if (s != NATS_OK) {
    say(b, UVP_LOG_ERROR, "NATS setup failed: %s", natsStatus_GetText(s));
    return UVP_EINIT;
  }
  if (now)
    connected(b, "connected");
  else
    say(b, UVP_LOG_WARN, "%s not reachable yet; retrying", b->cfg.url);
  return 0;
}

static int setup(bridge *b, const char *config) {
  char err[256];
  if (nb_config_parse(config, &b->cfg, err, sizeof err) < 0) {
    say(b, UVP_LOG_ERROR, "config: %s", err);
    return UVP_EINVAL;
  }
  int rc = make_counters(b);
  if (rc == 0) rc = setup_outs(b);
  if (rc == 0)
    rc =
        b->api->topic(b->ctx, b->cfg.status, strlen(b->cfg.status), &b->status);
  if (rc == 0 && (b->take = calloc(b->cfg.batch, sizeof *b->take)) == NULL)
    rc = UVP_ENOMEM;
  if (rc == 0) rc = b->api->remote_new(b->ctx, &b->remote);
  if (rc == 0)
    rc = nb_inbox_init(&b->inbox, b->cfg.inbox, b->api, b->remote, on_drain, b);
  if (rc < 0) return rc;
  b->inbox_ready = true;
  uvp_id id;
  if (b->cfg.sync_ms != 0 &&
      (rc = b->api->timer_start(b->ctx, b->cfg.sync_ms, b->cfg.sync_ms, on_sync,
                                b, NULL, &id)) < 0)
    return rc;
  return connect_nats(b);
}

/* Closes the subscriptions and the connection and waits until libnats
 * calls none of our callbacks any more. Returns -1 when that did not
 * happen in time: the state must then stay allocated. */
static int quiesce(bridge *b) {
  if (b->inbox_ready) nb_inbox_close(&b->inbox);
  for (size_t i = 0; i < b->n_subs; i++)
    natsSubscription_Unsubscribe(b->subs[i]);
  if (b->nc != NULL) natsConnection_Close(b->nc);
  if (b->inbox_ready &&
      nb_inbox_wait_quiet(&b->inbox, (uint32_t)b->n_subs, b->nc != NULL,
                          QUIET_TIMEOUT_MS) < 0)
    return -1;
  for (size_t i = 0; i < b->n_subs; i++) natsSubscription_Destroy(b->subs[i]);
  natsConnection_Destroy(b->nc);
  natsOptions_Destroy(b->opts);
  return 0;
}

static void bridge_free(bridge *b) {
  if (quiesce(b) < 0) {
    /* A libnats thread may still hold b: leak it rather than free it
     * under that thread (the object is never unmapped, see the desc).
     * ctx is gone in on_unload, so stderr, not the host's log. */
    fprintf(stderr,
            "nats_bridge: libnats did not stop in %d ms; state "
            "leaked\n",
            QUIET_TIMEOUT_MS);
    return;
  }
  if (b->inbox_ready) nb_inbox_free(&b->inbox);
  if (b->stall.msg != NULL) natsMsg_Destroy(b->stall.msg);
  while (b->take_pos < b->take_n) natsMsg_Destroy(b->take[b->take_pos++]);
  b->api->remote_release(b->remote);
  for (size_t i = 0; b->outs != NULL && i < b->cfg.n_out; i++)
    free(b->outs[i].subject);
  free(b->outs);
  free(b->subs);
  free(b->take);
  free(b->echo);
  free(b->buf);
  nb_streams_free(&b->streams);
  nb_config_free(&b->cfg);
  free(b);
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  if (!UVP_HAS_FIELD(api, uvp_api, counter)) return UVP_EINVAL;
  bridge *b = calloc(1, sizeof *b);
  if (b == NULL) return UVP_ENOMEM;
  b->ctx = ctx;
  b->api = api;
  b->origin = new_origin();
  int rc = setup(b, config);
  if (rc < 0) {
    bridge_free(b);
    return rc;
  }
  *out_state = b;
  return 0;
}

/* Closing the connection here, before the host waits for this plugin's
 * work (U1, U3), makes a flush in flight (flush_work) fail at once instead
 * of being abandoned and then finding its connection destroyed by
 * on_unload. The wait for libnats's last callbacks stays in on_unload. */
static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  bridge *b = state;
  if (b->nc != NULL) natsConnection_Close(b->nc);
}

static void on_unload(void *state) { bridge_free(state); }

/* Not UVP_PLUGIN_UNLOAD_SAFE: libnats keeps process-wide threads that may
 * still be returning through this object after on_unload. */
__attribute__((visibility("default")))
const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "nats_bridge",
    .version = "1",
    .on_init = on_init,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
