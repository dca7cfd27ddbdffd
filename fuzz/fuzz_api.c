/* fuzz_api: the input is a program of API operations against a real host
 * (the embedder's ctx, uvp_host_ctx) and instances of the C test plugin
 * counter_plugin.so; after every step the host's promises are checked and
 * a violation calls abort(), which libFuzzer reports with the input.
 *
 * Program: 2 bytes of host options, then 2 bytes per operation
 * [op][arg]; op % 16 picks one of: subscribe (arg bits: the callback
 * cancels itself, or publishes again), cancel, publish, publish_owned,
 * timer start, run the loop, drain, load, unload, reload, remote
 * post/publish from a thread (bit 7: while the loop runs), cancel a
 * foreign id, close (bit 0: from inside the next callback), "hook" (every
 * plugin instance calls back into the fuzzer inside its own callback, which
 * unloads it, unloads another, reloads it, loads a name, closes the host,
 * publishes or cancels), queue work, watch a pipe (bit 0: twice), write
 * to it.
 *
 * Checked: destroy exactly once (L1) and never before cancel returns (L1,
 * L2); no callback after cancel or after a one-shot timer's destroy (L3,
 * L10); FIFO per topic and publisher, and subscribers in subscribe order
 * (D1, R1); the queue bound (D4) and max_payload; a cancelled or ended id
 * is UVP_ESTALE; owned payloads freed exactly once (L8); every accepted post
 * runs or is destroyed exactly once (R4); work: done once, never inside
 * cancel, then destroy (W1-W3, W5); unload inside the own callback (S3) and
 * its name free at once; fd watches: one per fd (UVP_EBUSY), blocking
 * again after cancel (D7); nothing after a close from a callback (S4); the
 * host's counters balance (O1-O3: registrations, plugins, work items,
 * published and delivered per topic, refused); close runs every destroy
 * and leaves the loop empty (S2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "uvplug/uvplug.h"

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_api: %s:%d: violated: %s\n", __FILE__, __LINE__, \
              #cond);                                                        \
      abort();                                                               \
    }                                                                        \
  } while (0)

enum { N_TOPICS = 3, N_SLOTS = 16, N_PLUGINS = 4, MAX_OPS = 256 };
enum { SRC_LOOP = 0, SRC_REMOTE = 1, N_SRC = 2 };
enum { KIND_SUB = 1, KIND_TIMER = 2, KIND_WORK = 3, KIND_FD = 4 };

typedef struct slot {
  int kind; /* 0: never used */
  uvp_id id;
  int topic;        /* subscriptions */
  bool one_shot;    /* timers */
  bool self_cancel; /* the callback cancels its own registration */
  bool republish;   /* the callback publishes on the next topic */
  bool cancelling;  /* cancel called from inside the callback */
  bool ended;       /* cancel returned 0, or a one-shot timer fired */
  unsigned destroyed;
  uint64_t order; /* subscribe order (D1) */
  uint64_t last_seq[N_SRC];
  uint64_t calls;
  atomic_int work_runs; /* work items: runs of work() on the pool */
  bool work_cancelled;  /* cancel returned 0 before done */
  bool done_called;
  int fds[2]; /* fd watches: a pipe, the read end watched */
} slot;

typedef struct owned {
  unsigned char *data;
  bool freed;
} owned;

/* Everything one program touches; reset per input. */
typedef struct world {
  uv_loop_t loop;
  uvp_host *host;
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic topics[N_TOPICS + 1]; /* the last: the plugins' topic */
  uint32_t max_payload, queue_capacity;
  slot slots[N_SLOTS];
  bool loaded[N_PLUGINS];
  uint64_t next_order, seq[N_TOPICS + 1][N_SRC];
  uint64_t accepted[N_TOPICS + 1];    /* events the host took, per topic */
  uint64_t delivered[N_TOPICS];       /* embedder callbacks run, per topic */
  uint64_t remote_sent[N_TOPICS + 1]; /* accepted by remote_publish */
  uint64_t owned_accepted, owned_freed;
  uint64_t posts_accepted, posts_run, posts_destroyed;
  uint64_t refused;
  int republish_budget;
  struct {
    int topic; /* the event in flight per topic (D1: subscriber order) */
    uint64_t seq, src, last_order;
    bool valid;
  } flight[N_TOPICS];
  int closed_calls;
  bool in_callback;
  bool closing;
  bool in_cancel;
  unsigned plugin_stops; /* unloads and reloads that succeeded */
  bool close_in_cb;      /* the next callback closes the host (S4) */
  bool closed_in_cb;     /* ... and did: no callback may run after it */
  unsigned hook_action, hook_calls;
  uvp_topic cmd_topic; /* counter_plugin's command topic */
} world;

static world W;
static char plugin_path[4096];

static void quiet(void *data, int level, const char *plugin, const char *msg,
                  size_t len) {
  (void)data, (void)level, (void)plugin, (void)msg, (void)len;
}

/* ---- payloads: [seq u64][source u8][topic u8][filler] ---- */

static size_t payload_len(unsigned arg) { return 10 + (arg % 48) * 6; }

static void fill(unsigned char *p, size_t len, uint64_t seq, int src, int t) {
  memset(p, 0xA5, len);
  memcpy(p, &seq, sizeof seq);
  p[8] = (unsigned char)src;
  p[9] = (unsigned char)t;
}

/* ---- callbacks ---- */

static void on_destroy(void *ud) {
  slot *s = ud;
  CHECK(s->destroyed == 0);                        /* L1: exactly once */
  if (s->kind == KIND_WORK) CHECK(s->done_called); /* W1: done, then destroy */
  s->destroyed++;
  if (s->kind == KIND_TIMER && s->one_shot && s->calls == 1)
    s->ended = true; /* L10: right after its only call */
  /* L1: destroy runs inside cancel, or right after the own callback */
  CHECK(s->ended || s->cancelling || W.closing); /* or at close (S2) */
}

static int local_publish(int t, unsigned arg);
static void callback_entered(void);

static void check_order(slot *s, const uvp_event *ev) {
  CHECK(ev->len >= 10 && ev->data != NULL);
  const unsigned char *p = ev->data;
  uint64_t seq;
  memcpy(&seq, p, sizeof seq);
  int src = p[8], t = p[9];
  CHECK(src < N_SRC && t == s->topic);
  CHECK(ev->topic == W.topics[t]);
  CHECK(seq > s->last_seq[src]); /* D1, R1: FIFO per topic and publisher */
  s->last_seq[src] = seq;
  /* D1: one event reaches the subscribers in the order they subscribed */
  typeof(W.flight[0]) *f = &W.flight[t];
  if (f->valid && f->seq == seq && f->src == (uint64_t)src)
    CHECK(s->order > f->last_order);
  f->valid = true, f->seq = seq, f->src = (uint64_t)src;
  f->last_order = s->order;
}

static int on_event(uvp_ctx *ctx, const uvp_event *ev, void *ud) {
  slot *s = ud;
  CHECK(ctx == W.ctx && !W.in_callback);
  CHECK(!s->ended && s->destroyed == 0); /* L3 */
  check_order(s, ev);
  s->calls++;
  W.delivered[s->topic]++;
  callback_entered();
  if (W.closed_in_cb) return 0;
  if (s->republish && W.republish_budget > 0) {
    W.republish_budget--;
    W.in_callback = true;
    local_publish((s->topic + 1) % N_TOPICS, (unsigned)s->calls);
    W.in_callback = false;
  }
  if (s->self_cancel) {
    s->cancelling = true;
    CHECK(W.api->cancel(ctx, s->id) == 0);
    s->ended = true;
    CHECK(s->destroyed == 0); /* L2: destroy after this callback returns */
  }
  return 0;
}

static int on_timer(uvp_ctx *ctx, void *ud) {
  slot *s = ud;
  CHECK(ctx == W.ctx);
  CHECK(!s->ended && s->destroyed == 0); /* L3 */
  s->calls++;
  callback_entered();
  if (W.closed_in_cb) return 0;
  if (s->self_cancel && !s->one_shot) {
    s->cancelling = true;
    CHECK(W.api->cancel(ctx, s->id) == 0);
    s->ended = true;
    CHECK(s->destroyed == 0);
  }
  return 0;
}

static void on_owned_free(void *data, size_t len, void *hint) {
  owned *o = hint;
  (void)len;
  CHECK(o->data == data && !o->freed); /* L8: exactly once */
  o->freed = true;
  W.owned_freed++;
  free(o->data);
  free(o);
}

static int on_post(uvp_ctx *ctx, void *ud) {
  (void)ud;
  CHECK(ctx == W.ctx);
  W.posts_run++;
  callback_entered();
  return 0;
}

static void on_post_destroy(void *ud) {
  (void)ud;
  W.posts_destroyed++;
}

static void on_closed(void *data) {
  (void)data;
  W.closed_calls++;
}

/* S4: a callback that closes the host is the last one to run. */
static void callback_entered(void) {
  CHECK(!W.closed_in_cb);
  if (!W.close_in_cb || W.closing) return;
  W.closing = true;
  CHECK(uvp_host_close(W.host, on_closed, NULL) == 0);
  W.closed_in_cb = true;
}

/* ---- operations ---- */

static void close_pipe(slot *s) {
  if (s->kind != KIND_FD) return;
  close(s->fds[0]);
  close(s->fds[1]);
}

static slot *free_slot(unsigned arg) {
  slot *s = &W.slots[arg % N_SLOTS];
  if (s->kind != 0 && s->destroyed == 0) return NULL; /* still live */
  close_pipe(s);
  memset(s, 0, sizeof *s);
  return s;
}

static void op_subscribe(unsigned arg) {
  slot *s = free_slot(arg >> 3);
  if (s == NULL) return;
  s->kind = KIND_SUB;
  s->topic = (int)(arg % N_TOPICS);
  s->self_cancel = arg & 0x80;
  s->republish = (arg & 0x40) && !(arg & 0x80);
  s->order = ++W.next_order;
  int rc = W.api->subscribe(W.ctx, W.topics[s->topic], on_event, s, on_destroy,
                            &s->id);
  CHECK(rc == 0);
}

static void op_cancel(unsigned arg) {
  slot *s = &W.slots[arg % N_SLOTS];
  if (s->kind == 0) return;
  bool was_ended = s->ended;
  if (s->kind == KIND_WORK) { /* W2, W5: done follows, never inside */
    W.in_cancel = true;
    int rc = W.api->cancel(W.ctx, s->id);
    W.in_cancel = false;
    CHECK(rc == (was_ended || s->work_cancelled ? UVP_ESTALE : 0));
    if (rc == 0) s->work_cancelled = true;
    return;
  }
  s->cancelling = true; /* destroy may run inside (L1) */
  int rc = W.api->cancel(W.ctx, s->id);
  if (was_ended) {
    CHECK(rc == UVP_ESTALE); /* a used id stays stale */
  } else {
    CHECK(rc == 0);
    s->ended = true;
    CHECK(s->destroyed == 1); /* L1: before cancel returns */
    if (s->kind == KIND_FD)   /* D7: blocking again, as it was */
      CHECK(!(fcntl(s->fds[0], F_GETFL) & O_NONBLOCK));
  }
}

static int local_publish(int t, unsigned arg) {
  size_t len = payload_len(arg);
  unsigned char buf[512];
  uint64_t seq = W.seq[t][SRC_LOOP] + 1;
  fill(buf, len, seq, SRC_LOOP, t);
  int rc = W.api->publish(W.ctx, W.topics[t], buf, len);
  if (len > W.max_payload) {
    CHECK(rc == UVP_EMSGSIZE);
  } else if (rc == 0) {
    W.seq[t][SRC_LOOP] = seq;
    W.accepted[t]++;
  } else {
    CHECK(rc == UVP_EAGAIN); /* D4 */
    W.refused++;
  }
  return rc;
}

static void op_publish(unsigned arg) {
  local_publish((int)(arg % (N_TOPICS + 1)), arg >> 2);
}

static void op_publish_owned(unsigned arg) {
  int t = (int)(arg % (N_TOPICS + 1));
  size_t len = payload_len(arg >> 2);
  owned *o = calloc(1, sizeof *o);
  CHECK(o != NULL && (o->data = malloc(len)) != NULL);
  uint64_t seq = W.seq[t][SRC_LOOP] + 1;
  fill(o->data, len, seq, SRC_LOOP, t);
  int rc =
      W.api->publish_owned(W.ctx, W.topics[t], o->data, len, on_owned_free, o);
  if (rc == 0) {
    CHECK(len <= W.max_payload);
    W.seq[t][SRC_LOOP] = seq;
    W.accepted[t]++;
    W.owned_accepted++;
    return;
  }
  CHECK(rc == (len > W.max_payload ? UVP_EMSGSIZE : UVP_EAGAIN));
  if (rc == UVP_EAGAIN) W.refused++;
  free(o->data); /* on failure the caller still owns it */
  free(o);
}

static void op_timer(unsigned arg) {
  slot *s = free_slot(arg >> 4);
  if (s == NULL) return;
  s->kind = KIND_TIMER;
  uint64_t repeat = (arg >> 2) % 3;
  s->one_shot = repeat == 0;
  s->self_cancel = arg & 0x80;
  int rc = W.api->timer_start(W.ctx, arg % 3, repeat, on_timer, s, on_destroy,
                              &s->id);
  CHECK(rc == 0);
}

static void work_fn(void *ud) {
  slot *s = ud;
  CHECK(atomic_fetch_add(&s->work_runs, 1) == 0); /* W1: at most once */
}

static int work_done(uvp_ctx *ctx, int status, void *ud) {
  slot *s = ud;
  CHECK(ctx == W.ctx && !W.in_cancel);         /* W5: never inside cancel */
  CHECK(!s->done_called && s->destroyed == 0); /* W1: exactly once */
  s->done_called = true;
  s->ended = true; /* W3: the id is stale from here on */
  int runs = atomic_load(&s->work_runs);
  if (s->work_cancelled || W.closing)
    CHECK(status == UVP_ECANCELED || (status == 0 && runs == 1));
  else
    CHECK(status == 0 && runs == 1);
  if (status == UVP_ECANCELED && !W.closing && runs == 0)
    CHECK(s->work_cancelled); /* W2: only a cancel skips the work */
  if (W.closing) return 0;
  callback_entered();
  return 0;
}

static void op_work(unsigned arg) {
  slot *s = free_slot(arg);
  if (s == NULL) return;
  s->kind = KIND_WORK;
  atomic_init(&s->work_runs, 0);
  CHECK(W.api->work_queue(W.ctx, work_fn, work_done, s, on_destroy, &s->id) ==
        0);
}

static int on_fd(uvp_ctx *ctx, int fd, int status, int events, void *ud) {
  slot *s = ud;
  CHECK(ctx == W.ctx && fd == s->fds[0] && status == 0);
  CHECK(events == UVP_FD_READABLE);
  CHECK(!s->ended && s->destroyed == 0); /* L3 */
  s->calls++;
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) { /* non-blocking while watched */
  }
  callback_entered();
  if (W.closed_in_cb) return 0;
  if (s->self_cancel) {
    s->cancelling = true;
    CHECK(W.api->cancel(ctx, s->id) == 0);
    s->ended = true;
  }
  return 0;
}

static void op_fd_watch(unsigned arg) {
  slot *s = free_slot(arg >> 2);
  if (s == NULL) return;
  CHECK(pipe2(s->fds, O_CLOEXEC) == 0); /* blocking, as D7 restores it */
  s->kind = KIND_FD;
  s->self_cancel = arg & 0x80;
  CHECK(W.api->fd_watch(W.ctx, s->fds[0], UVP_FD_READABLE, on_fd, s, on_destroy,
                        &s->id) == 0);
  uvp_id again;
  if (arg & 1) /* one watch per fd and host */
    CHECK(W.api->fd_watch(W.ctx, s->fds[0], UVP_FD_READABLE, on_fd, s, NULL,
                          &again) == UVP_EBUSY);
}

/* Makes a watched (or formerly watched) pipe readable. */
static void op_fd_write(unsigned arg) {
  slot *s = &W.slots[arg % N_SLOTS];
  if (s->kind == KIND_FD) CHECK(write(s->fds[1], "x", 1) == 1);
}

static void op_run(unsigned arg) {
  for (unsigned i = 0; i <= arg % 4 && !W.closed_in_cb; i++)
    uv_run(&W.loop, UV_RUN_NOWAIT);
}

/* The plugins' registrations: counter_plugin subscribes to two topics. */
static unsigned plugins_loaded(void) {
  unsigned n = 0;
  for (int i = 0; i < N_PLUGINS; i++) n += W.loaded[i];
  return n;
}

static void check_counts(void) {
  uvp_host_stats hs = {.size = sizeof hs};
  CHECK(uvp_host_get_stats(W.host, &hs) == 0);
  unsigned subs = 0, timers = 0, works = 0, fds = 0;
  for (int i = 0; i < N_SLOTS; i++) {
    const slot *s = &W.slots[i];
    bool live = s->kind != 0 && s->destroyed == 0;
    CHECK(live == (s->kind != 0 && !s->ended) || s->cancelling);
    subs += live && s->kind == KIND_SUB;
    timers += live && s->kind == KIND_TIMER;
    works += live && s->kind == KIND_WORK;
    fds += live && s->kind == KIND_FD;
  }
  CHECK(hs.fd_watches == fds);
  CHECK(hs.work_items == works);
  CHECK(hs.plugins == plugins_loaded());
  CHECK(hs.subscriptions == subs + 2 * plugins_loaded());
  CHECK(hs.timers == timers);
  CHECK(hs.queue_depth <= W.queue_capacity);
  /* counter_plugin's on_stop publishes too, and may be refused */
  CHECK(W.plugin_stops ? hs.queue_refused >= W.refused
                       : hs.queue_refused == W.refused);
}

/* Runs the loop until nothing is queued, then every counter balances. */
static void op_drain(void) {
  uvp_host_stats hs = {.size = sizeof hs};
  /* work runs on the pool's threads: give a loaded machine 10 s */
  uint64_t until = uv_hrtime() + 10 * (uint64_t)1000000000;
  for (int i = 0; i < 1000 || uv_hrtime() < until; i++) {
    if (W.closed_in_cb) return; /* the host is gone */
    CHECK(uvp_host_get_stats(W.host, &hs) == 0);
    if (hs.queue_depth == 0 && hs.remote_depth == 0 &&
        W.posts_destroyed == W.posts_accepted && hs.work_items == 0)
      break;
    uv_run(&W.loop, UV_RUN_NOWAIT);
    if (hs.work_items != 0) usleep(50);
  }
  CHECK(hs.queue_depth == 0 && hs.remote_depth == 0 && hs.work_items == 0);
  CHECK(W.posts_destroyed == W.posts_accepted); /* R4 */
  CHECK(W.posts_run == W.posts_accepted);       /* the owner is running */
  CHECK(W.owned_freed == W.owned_accepted);     /* L8 */
  for (int t = 0; t <= N_TOPICS; t++) {
    uvp_topic_stats ts = {.size = sizeof ts};
    const char *name;
    CHECK(uvp_host_topic_stats(W.host, W.topics[t] - 1, &name, &ts) == 0);
    CHECK(name[0] == 't' && name[1] == '0' + t); /* the id is index + 1 */
    CHECK(ts.published == W.accepted[t] + W.remote_sent[t]);
    if (t < N_TOPICS) CHECK(ts.delivered == W.delivered[t]);
  }
  check_counts();
}

static void plugin_name(unsigned i, char *buf, size_t n) {
  snprintf(buf, n, "p%u", i % N_PLUGINS);
}

static void fuzz_hook(void *arg);

/* counter_plugin calls fuzz_hook(i) inside its callback on "hook". */
static void plugin_config(unsigned i, char *buf, size_t n) {
  void (*fn)(void *) = fuzz_hook;
  uintptr_t hook;
  memcpy(&hook, &fn, sizeof hook);
  snprintf(buf, n, "topic=t3 tag=p%u hook=%jx arg=%x", i % N_PLUGINS,
           (uintmax_t)hook, i % N_PLUGINS);
}

static int load(unsigned i) {
  char name[8], config[128];
  plugin_name(i, name, sizeof name);
  plugin_config(i, config, sizeof config);
  int rc = uvp_host_load(W.host, plugin_path, name, config, NULL);
  CHECK(rc == (W.loaded[i % N_PLUGINS] ? UVP_EDUPNAME : 0));
  W.loaded[i % N_PLUGINS] = true;
  return rc;
}

static void op_load(unsigned arg) { load(arg); }

static void op_unload(unsigned arg) {
  char name[8];
  plugin_name(arg, name, sizeof name);
  int rc = uvp_host_unload(W.host, name);
  CHECK(rc == (W.loaded[arg % N_PLUGINS] ? 0 : UVP_ENOENT));
  W.plugin_stops += rc == 0;
  W.loaded[arg % N_PLUGINS] = false;
}

static void op_reload(unsigned arg) {
  char name[8];
  plugin_name(arg, name, sizeof name);
  char config[128];
  plugin_config(arg, config, sizeof config);
  int rc = uvp_host_reload(W.host, name, plugin_path, config, NULL);
  CHECK(rc == (W.loaded[arg % N_PLUGINS] ? 0 : UVP_ENOENT));
  W.plugin_stops += rc == 0;
}

typedef struct remote_job {
  uvp_remote *remote;
  unsigned arg;
  int t;
  uint64_t first_seq;
  unsigned posts_ok, pubs_ok, refused;
  atomic_bool done;
} remote_job;

/* A foreign thread: posts and publishes, then gives its reference back. */
static void *remote_main(void *p) {
  remote_job *j = p;
  const uvp_api *api = W.api; /* read-only after the host was made */
  unsigned n = 1 + j->arg % 8;
  for (unsigned i = 0; i < n; i++) {
    int rc = api->remote_post(j->remote, on_post, NULL, on_post_destroy,
                              UVP_POST_NONBLOCK);
    if (rc == 0)
      j->posts_ok++;
    else if (rc == UVP_EAGAIN)
      j->refused++;
    else
      abort();
    unsigned char buf[64];
    fill(buf, sizeof buf, j->first_seq + i, SRC_REMOTE, j->t);
    rc = api->remote_publish(j->remote, W.topics[j->t], buf, sizeof buf,
                             UVP_POST_NONBLOCK);
    if (rc == 0)
      j->pubs_ok++;
    else if (rc == UVP_EAGAIN)
      j->refused++;
    else
      abort();
  }
  api->remote_release(j->remote);
  atomic_store(&j->done, true);
  return NULL;
}

static void op_remote(unsigned arg) {
  remote_job j = {.arg = arg, .t = (int)((arg >> 3) % (N_TOPICS + 1))};
  CHECK(W.api->remote_new(W.ctx, &j.remote) == 0);
  j.first_seq = W.seq[j.t][SRC_REMOTE] + 1;
  pthread_t th;
  atomic_init(&j.done, false);
  CHECK(pthread_create(&th, NULL, remote_main, &j) == 0);
  /* arg bit 7: the loop runs while the thread posts (R1 under load) */
  while ((arg & 0x80) && !atomic_load(&j.done) && !W.closed_in_cb)
    uv_run(&W.loop, UV_RUN_NOWAIT);
  CHECK(pthread_join(th, NULL) == 0);
  W.posts_accepted += j.posts_ok;
  W.remote_sent[j.t] += j.pubs_ok;
  W.seq[j.t][SRC_REMOTE] = j.first_seq + 1 + j.arg % 8;
}

/* An id that was never issued to the embedder's ctx is not UVP_ESTALE. */
static void op_foreign_cancel(unsigned arg) {
  int rc = W.api->cancel(W.ctx, (uvp_id)arg << 40 | 0xffffu);
  CHECK(rc == UVP_ENOENT || rc == UVP_EINVAL || rc == UVP_ESTALE);
}

/* Inside plugin i's callback (S3, S4, U5; "after unload returns 0 the
 * name may be loaded again"). */
static void fuzz_hook(void *arg) {
  unsigned i = (unsigned)(uintptr_t)arg, j = (i + 1) % N_PLUGINS;
  char name[8];
  CHECK(!W.closed_in_cb && W.loaded[i]); /* S1, S4: not after its unload */
  W.hook_calls++;
  int rc;
  switch (W.hook_action % 8) {
    case 0: /* unload itself: starts after this callback returns */
    case 6: /* ... and load the name again at once */
      plugin_name(i, name, sizeof name);
      CHECK(uvp_host_unload(W.host, name) == 0);
      W.loaded[i] = false;
      W.plugin_stops++;
      CHECK(uvp_host_unload(W.host, name) == UVP_ECLOSED); /* pending */
      if (W.hook_action % 8 == 6) CHECK(load(i) == 0);
      if (W.hook_action % 8 == 0 && (W.hook_action & 8)) /* U5 */
        CHECK(uvp_host_reload(W.host, name, plugin_path, "", NULL) ==
              UVP_ECLOSED);
      break;
    case 1: /* unload another instance */
      plugin_name(j, name, sizeof name);
      rc = uvp_host_unload(W.host, name);
      CHECK(rc == (W.loaded[j] ? 0 : UVP_ENOENT));
      W.plugin_stops += rc == 0;
      W.loaded[j] = false;
      break;
    case 2: /* reload itself */
      op_reload(i);
      break;
    case 3: /* close the host */
      W.closing = true;
      CHECK(uvp_host_close(W.host, on_closed, NULL) == 0);
      W.closed_in_cb = true;
      break;
    case 4:
      local_publish((int)(W.hook_action / 8) % N_TOPICS, i);
      break;
    case 5:
      op_cancel(W.hook_action / 8);
      break;
    case 7:
      load(j);
      break;
  }
}

/* Every instance gets "hook" on counter.cmd and calls fuzz_hook. */
static void op_hook(unsigned arg) {
  W.hook_action = arg;
  int rc = uvp_host_publish(W.host, W.cmd_topic, "hook", 4);
  CHECK(rc == 0 || rc == UVP_EAGAIN);
  if (rc == UVP_EAGAIN) W.refused++;
}

/* ---- one program ---- */

static void setup(const uint8_t *data) {
  memset(&W, 0, sizeof W);
  CHECK(uv_loop_init(&W.loop) == 0);
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  o.log = quiet;
  o.log_level = UVP_LOG_DEBUG;
  o.queue_capacity = W.queue_capacity = 1 + data[0] % 32;
  o.batch = 1 + data[1] % 8;
  o.max_payload = W.max_payload = 64 + (data[1] >> 3) * 8;
  o.remote_capacity = 4 + data[0] / 32;
  CHECK(uvp_host_new(&W.loop, &o, &W.host) == 0);
  CHECK(uvp_host_ctx(W.host, &W.ctx, &W.api) == 0);
  for (int t = 0; t <= N_TOPICS; t++) {
    char name[8];
    snprintf(name, sizeof name, "t%d", t);
    CHECK(uvp_host_topic(W.host, name, &W.topics[t]) == 0);
  }
  W.republish_budget = 64;
  CHECK(uvp_host_topic(W.host, "counter.cmd", &W.cmd_topic) == 0);
}

/* Closes the host: from the next callback when close_in_cb (S4), else (or
 * when no callback comes) from here. */
static void teardown(bool close_in_cb) {
  W.close_in_cb = close_in_cb;
  for (int i = 0; i < 64 && close_in_cb && !W.closed_in_cb; i++)
    uv_run(&W.loop, UV_RUN_NOWAIT);
  if (!W.closed_in_cb) {
    W.closing = true;
    CHECK(uvp_host_close(W.host, on_closed, NULL) == 0);
  }
  W.host = NULL;
  for (int i = 0; i < 100000 && W.closed_calls == 0; i++)
    uv_run(&W.loop, UV_RUN_ONCE);
  CHECK(W.closed_calls == 1);
  uv_run(&W.loop, UV_RUN_DEFAULT);
  CHECK(W.closed_calls == 1);
  for (int i = 0; i < N_SLOTS; i++) /* S2, L1: every destroy ran once */
    CHECK(W.slots[i].kind == 0 || W.slots[i].destroyed == 1);
  CHECK(W.owned_freed == W.owned_accepted);     /* dropped, still freed */
  CHECK(W.posts_destroyed == W.posts_accepted); /* R4 */
  CHECK(uv_loop_close(&W.loop) == 0);           /* no handle left */
  for (int i = 0; i < N_SLOTS; i++) close_pipe(&W.slots[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  snprintf(plugin_path, sizeof plugin_path, "%s/counter_plugin.so",
           UVP_TEST_PLUGIN_DIR);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  setup(data);
  bool close_in_cb = false;
  size_t n_ops = (size - 2) / 2;
  if (n_ops > MAX_OPS) n_ops = MAX_OPS;
  for (size_t i = 0; i < n_ops; i++) {
    unsigned op = data[2 + 2 * i], arg = data[3 + 2 * i];
    switch (op % 18) {
      case 0:
        op_subscribe(arg);
        break;
      case 1:
        op_cancel(arg);
        break;
      case 2:
        op_publish(arg);
        break;
      case 3:
        op_publish_owned(arg);
        break;
      case 4:
        op_timer(arg);
        break;
      case 5:
        op_run(arg);
        break;
      case 6:
        op_drain();
        break;
      case 7:
        op_load(arg);
        break;
      case 8:
        op_unload(arg);
        break;
      case 9:
        op_reload(arg);
        break;
      case 10:
        op_remote(arg);
        break;
      case 11:
        op_foreign_cancel(arg);
        break;
      case 12:
        op_publish(arg);
        break; /* publishing is the common case */
      case 13: /* close now; arg bit 0: from inside the next callback */
        close_in_cb = arg & 1;
        i = n_ops;
        break;
      case 14:
        op_hook(arg);
        break;
      case 15:
        op_work(arg);
        break;
      case 16:
        op_fd_watch(arg);
        break;
      case 17:
        op_fd_write(arg);
        break;
    }
    if (W.closed_in_cb) break;
    check_counts();
  }
  if (!close_in_cb && !W.closed_in_cb) op_drain();
  teardown(close_in_cb);
  return 0;
}
