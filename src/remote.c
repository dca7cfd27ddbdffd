/* Remotes: the thread-safe way into a host (R1-R6).
 *
 *   producer threads ──► inbox: the channel's MPSC ring (bounded,
 *        lock-free, per host) ──► loop thread: on_async drains ≤ batch
 *        cells, runs posts / delivers publishes (or destroys them when the
 *        owner stopped, R4); a wake-up only when the loop may sleep
 *
 * There is no allocation per post (payloads over 32 bytes excepted) and no
 * lock on the post path. Per-producer order holds because a thread's
 * claims in the ring are ordered (R1).
 *
 * A remote keeps one word, `state`: the posts it has queued (R2's limit)
 * and `closed`. A producer takes its place with one CAS on it that also
 * checks `closed`; the loop gives places back as it drains, and closes a
 * remote by setting `closed` in the same word, so no post of it is
 * accepted after that. A producer that took its place before may still be
 * pushing its cell: queued counts it, so a stopping plugin waits for it
 * like for any queued post (R4), and a closing host waits for every
 * remote's count to reach 0 (uvp__remote_drain_all). A producer holds no
 * gate after its push: it touches the host's async handle only under the
 * inbox lock, which says whether the host is alive.
 *
 * Wake-ups: producers wake the loop only when it said it may sleep (the
 * channel's waker, a Dekker handshake with a fence on each side). The
 * loop's side also orders libuv's reset of `pending` before its pops (libuv
 * PR #349 fixed the same race in libuv itself). A blocked poster and the
 * loop freeing room form another handshake (`waiters`); blocked posters
 * sleep on `epoch`, which only moves under the lock, so they need no
 * timeout.
 *
 * The mutex guards only lifecycle and sleeping: the last release of a
 * remote, host liveness (for wake-ups), blocked posters.
 * Thread: the remote_* entry points on any thread, the rest loop only.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "uvp-internal.h"

#define CLOSE_SPINS 64 /* yields before a closing host naps (drain_all) */

/* uvp_remote.state: places taken in the low 32 bits (mod 2^32), closed in
 * the top one; queued = taken - consumed. */
#define ST_CLOSED ((uint64_t)1 << 63)
#define ST_TAKEN(w) ((uint32_t)(w))

struct uvp__inbox {
  uvp__mpsc ring;
  uvp__waker wake;
  size_t high_water;   /* the loop: most cells found (O1) */
  atomic_uint waiters; /* producers blocked for room */
  atomic_uint epoch;   /* moves, under lock, when room appears or on close */
  atomic_uint refs;    /* the host's + one per remote */
  atomic_uint_fast64_t refused; /* posts and publishes given UVP_EAGAIN (O1) */
  uv_thread_t loop_thread;
  uint32_t max_payload;
  /* The host's allocator, copied: remotes and the inbox outlive the host
   * (R5), and producers copy payloads with it on their threads. */
  uvp_allocator alloc;
  uv_async_t *async; /* valid while the lock says host alive */
  uv_mutex_t lock;   /* guards the fields below, and sleeping on the conds */
  uv_cond_t room;    /* blocked posters wait for `epoch` to move */
  bool host_alive;
  uvp_remote *released; /* remotes whose waited-for last ref went */
};

struct uvp_remote {
  /* Read by producers on every post, written rarely. */
  atomic_uint refs;
  uint32_t limit;
  uint16_t owner;   /* ctx index; read on the loop thread only */
  bool detached;    /* lock: owner gone, the last release frees */
  bool waited_on;   /* lock: owner waits for the last release (U4) */
  bool closed;      /* loop only: `closed` of state, on a line it reads */
  uvp_remote *next; /* lock: in inbox->released */
  uvp__inbox *inbox;
  /* Written by producers on every post: their cache line. */
  _Alignas(64) atomic_uint_fast64_t state; /* see the top */
  atomic_uint high_water;
  /* Written by the loop once per run of cells: its own line, so that
   * producers' CAS on `state` stays in their cache. */
  _Alignas(64) atomic_uint consumed; /* places given back, mod 2^32 */
};

/* ---- inbox ----------------------------------------------------------- */

static uvp__inbox *inbox_new(uvp_host *h) {
  const uvp_allocator *a = &h->alloc;
  uvp__inbox *in = uvp__calloc(a, 1, sizeof *in);
  if (in == NULL) return NULL;
  if (uvp__mpsc_init(&in->ring, a, h->opts.remote_capacity) < 0) {
    uvp__free(a, in);
    return NULL;
  }
  if (uv_mutex_init(&in->lock) != 0) goto fail_ring;
  if (uv_cond_init(&in->room) != 0) goto fail_lock;
  in->alloc = *a;
  uvp__waker_init(&in->wake);
  atomic_init(&in->waiters, 0);
  atomic_init(&in->epoch, 0);
  atomic_init(&in->refs, 1);
  atomic_init(&in->refused, 0);
  in->loop_thread = h->thread;
  in->max_payload = h->opts.max_payload;
  in->async = &h->async;
  in->host_alive = true;
  return in;
fail_lock:
  uv_mutex_destroy(&in->lock);
fail_ring:
  uvp__mpsc_free(&in->ring, a);
  uvp__free(a, in);
  return NULL;
}

static void inbox_unref(uvp__inbox *in) {
  if (atomic_fetch_sub(&in->refs, 1) != 1) return;
  uv_cond_destroy(&in->room);
  uv_mutex_destroy(&in->lock);
  uvp_allocator a = in->alloc; /* in is one of its blocks */
  uvp__mpsc_free(&in->ring, &a);
  uvp__free(&a, in);
}

/* ---- posting (any thread) -------------------------------------------- */

static bool on_loop(const uvp__inbox *in) {
  return pthread_equal(pthread_self(), in->loop_thread); /* as api.c */
}

static void note_depth(uvp_remote *r, unsigned depth) {
  unsigned hw = atomic_load_explicit(&r->high_water, memory_order_relaxed);
  while (depth > hw && !atomic_compare_exchange_weak_explicit(
                           &r->high_water, &hw, depth, memory_order_relaxed,
                           memory_order_relaxed)) {
  }
}

/* Takes one place of r's limit (R2) in one CAS, or fails without touching
 * `state`: a failed attempt must not make another producer fail and sleep
 * on room that nobody will announce. The CAS fails if `closed` was set
 * since the load, so no place is taken after the close. Writes the new
 * depth. Returns 0, UVP_EAGAIN or UVP_ECLOSED. */
static int reserve(uvp_remote *r, unsigned *out_depth) {
  /* First: `consumed` only grows, so with `state` read after it the
   * difference is never below the true depth (at worst a place the loop
   * is giving back right now looks taken). */
  uint32_t done = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  uint64_t w = atomic_load_explicit(&r->state, memory_order_relaxed);
  do {
    if (w & ST_CLOSED) return UVP_ECLOSED;
    if (ST_TAKEN(w) - done >= r->limit) return UVP_EAGAIN;
  } while (!atomic_compare_exchange_weak_explicit(
      &r->state, &w, w + 1, memory_order_relaxed, memory_order_relaxed));
  *out_depth = ST_TAKEN(w) - done + 1;
  return 0;
}

/* Wakes blocked posters after room appeared or a remote closed. The fence
 * orders that room (pops, `queued`, `closed`) before the read of `waiters`;
 * it pairs with the one in send_blocking, so either the poster's retry sees
 * the room or this sees the poster and moves `epoch`. */
static void wake_posters(uvp__inbox *in) {
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&in->waiters, memory_order_relaxed) == 0) return;
  uv_mutex_lock(&in->lock);
  atomic_fetch_add_explicit(&in->epoch, 1, memory_order_release);
  uv_cond_broadcast(&in->room);
  uv_mutex_unlock(&in->lock);
}

/* Wakes the loop, if the host is still there to wake. */
static void wake_loop(uvp__inbox *in) {
  uv_mutex_lock(&in->lock);
  if (in->host_alive) uv_async_send(in->async);
  uv_mutex_unlock(&in->lock);
}

/* One attempt: 0, UVP_EAGAIN or UVP_ECLOSED. */
static int try_send(uvp_remote *r, const uvp__cell *c) {
  uvp__inbox *in = r->inbox;
  unsigned depth;
  int rc = reserve(r, &depth);
  if (rc < 0) return rc;
  if ((rc = uvp__mpsc_push(&in->ring, c)) < 0) {
    /* The host's ring is full: another poster may have failed on this
     * reservation and gone to sleep; nobody else would announce it. */
    atomic_fetch_sub_explicit(&r->state, 1, memory_order_relaxed);
    wake_posters(in);
    return rc;
  }
  note_depth(r, depth);
  /* R1, R6: the loop may be asleep: wake it. */
  if (uvp__waker_should_wake(&in->wake)) wake_loop(in);
  return 0;
}

/* R2: UVP_POST_BLOCK after a full queue. Sleeps until `epoch` moves, with
 * no timeout: `epoch` is read before each retry, and whoever makes room
 * after that retry looked (wake_posters) sees `waiters` and moves it. */
static int send_blocking(uvp_remote *r, const uvp__cell *c) {
  uvp__inbox *in = r->inbox;
  atomic_fetch_add(&in->waiters, 1);
  atomic_thread_fence(memory_order_seq_cst); /* pairs with wake_posters */
  int rc;
  for (;;) {
    unsigned epoch = atomic_load_explicit(&in->epoch, memory_order_acquire);
    if ((rc = try_send(r, c)) != UVP_EAGAIN) break;
    uv_mutex_lock(&in->lock);
    while (atomic_load_explicit(&in->epoch, memory_order_relaxed) == epoch)
      uv_cond_wait(&in->room, &in->lock);
    uv_mutex_unlock(&in->lock);
  }
  atomic_fetch_sub(&in->waiters, 1);
  return rc;
}

static int send_cell(uvp_remote *r, const uvp__cell *c, int flags) {
  int rc = try_send(r, c);
  if (rc == UVP_EAGAIN && flags == UVP_POST_BLOCK) /* R2 */
    return send_blocking(r, c);
  if (rc == UVP_EAGAIN) /* O1; relaxed: a count, read on the loop thread */
    atomic_fetch_add_explicit(&r->inbox->refused, 1, memory_order_relaxed);
  return rc;
}

static int check_send(uvp_remote *r, int flags) {
  if (r == NULL || (flags != UVP_POST_NONBLOCK && flags != UVP_POST_BLOCK))
    return UVP_EINVAL;
  if (flags == UVP_POST_BLOCK && on_loop(r->inbox)) return UVP_EINVAL;
  return 0;
}

int uvp__remote_post(uvp_remote *r, uvp_post_cb cb, void *user_data,
                     uvp_destroy_fn destroy, int flags) {
  int rc = check_send(r, flags);
  if (rc < 0) return rc;
  if (cb == NULL) return UVP_EINVAL;
  uvp__cell c = {.from = r, .kind = UVP__CELL_POST};
  c.u.post.cb = cb;
  c.u.post.user_data = user_data;
  c.u.post.destroy = destroy;
  return send_cell(r, &c, flags);
}

int uvp__remote_publish(uvp_remote *r, uvp_topic topic, const void *data,
                        size_t len, int flags) {
  int rc = check_send(r, flags);
  if (rc < 0) return rc;
  if ((data == NULL && len != 0) || topic == 0) return UVP_EINVAL;
  if (len > r->inbox->max_payload) return UVP_EMSGSIZE; /* F4 */
  uvp__cell c = {.from = r,
                 .len = (uint32_t)len,
                 .topic = topic,
                 .kind = UVP__CELL_PUB_INLINE};
  if (len <= sizeof c.u.bytes) {
    if (len != 0) memcpy(c.u.bytes, data, len);
  } else {
    void *copy = uvp__malloc(&r->inbox->alloc, len); /* freed by the loop */
    if (copy == NULL) return UVP_ENOMEM;
    memcpy(copy, data, len);
    c.kind = UVP__CELL_PUB_COPY;
    c.u.data = copy;
  }
  if ((rc = send_cell(r, &c, flags)) < 0 && c.kind == UVP__CELL_PUB_COPY)
    uvp__free(&r->inbox->alloc, c.u.data);
  return rc;
}

int uvp__remote_acquire(uvp_remote *r) {
  if (r == NULL) return UVP_EINVAL;
  atomic_fetch_add(&r->refs, 1);
  return 0;
}

void uvp__remote_release(uvp_remote *r) {
  if (r == NULL) return;
  uvp__inbox *in = r->inbox;
  bool free_it = false;
  uv_mutex_lock(&in->lock); /* the owner may be deciding r's fate */
  if (atomic_fetch_sub(&r->refs, 1) == 1) {
    if (r->detached) {
      free_it = true; /* R5: owner and maybe host are gone */
    } else if (r->waited_on && in->host_alive) {
      r->next = in->released; /* U4: the loop unmaps the plugin */
      in->released = r;
      /* No fence needed: the loop reads `released` under the lock after
       * libuv reset `pending`, so either it sees r or this send does. */
      uv_async_send(in->async);
    }
  }
  uv_mutex_unlock(&in->lock);
  if (free_it) {
    uvp__free(&in->alloc, r);
    inbox_unref(in);
  }
}

/* ---- the loop side ---------------------------------------------------- */

int uvp__remote_get(uvp_ctx *ctx, uint32_t limit, uvp_remote **out) {
  uvp_host *h = ctx->host;
  if (ctx->remote == NULL) {
    if (h->inbox == NULL && (h->inbox = inbox_new(h)) == NULL)
      return UVP_ENOMEM;
    uvp_remote *r = uvp__calloc(&h->alloc, 1, sizeof *r);
    if (r == NULL) return UVP_ENOMEM;
    atomic_init(&r->refs, 0);
    atomic_init(&r->state, 0);
    atomic_init(&r->consumed, 0);
    atomic_init(&r->high_water, 0);
    r->limit = limit;
    r->owner = ctx->index;
    r->inbox = h->inbox;
    atomic_fetch_add(&h->inbox->refs, 1);
    ctx->remote = r;
  }
  atomic_fetch_add(&ctx->remote->refs, 1);
  *out = ctx->remote;
  return 0;
}

/* Refuses every later post of r (R4); blocked posters wake up to
 * UVP_ECLOSED. Posts whose place was taken before are queued, or about to
 * be: the loop destroys them as they come (drain, drain_all). */
void uvp__remote_close(uvp_remote *r) {
  if (r == NULL || r->closed) return;
  r->closed = true;
  atomic_fetch_or_explicit(&r->state, ST_CLOSED, memory_order_relaxed);
  wake_posters(r->inbox);
}

static uint32_t queued(const uvp_remote *r) {
  uint32_t done = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  return ST_TAKEN(atomic_load(&r->state)) - done;
}

uint32_t uvp__remote_queued(const uvp_remote *r) { return r ? queued(r) : 0; }

/* The loop gives back n places of r after running (or destroying) their
 * cells; it is the only writer of `consumed`. */
static void consume(uvp_remote *r, unsigned n) {
  uint32_t done = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  atomic_store_explicit(&r->consumed, done + n, memory_order_relaxed);
}

void uvp__remote_stats(const uvp_remote *r, uvp_plugin_stats *st) {
  if (r == NULL) return;
  st->post_queued = queued(r);
  st->post_high_water = atomic_load(&r->high_water);
  st->remote_refs = atomic_load(&r->refs);
}

/* The owner finished unloading: frees r now if no reference is held, else
 * hands it to its holders (detach) or waits for them (U4). Returns true when
 * the owner must wait for the last release. */
bool uvp__remote_disown(uvp_remote *r, bool wait) {
  uvp__inbox *in = r->inbox;
  uv_mutex_lock(&in->lock);
  bool held = atomic_load(&r->refs) != 0;
  if (held && wait)
    r->waited_on = true;
  else if (held)
    r->detached = true;
  uv_mutex_unlock(&in->lock);
  if (!held) {
    uvp__free(&in->alloc, r);
    inbox_unref(in);
  }
  return held && wait;
}

/* Runs a post (or, once its owner stopped, only its destroy: R4), or
 * delivers a remote publish as its owner. Returns the callback's status. */
static int run_cell(uvp_host *h, uvp_ctx *ctx, bool live, uvp__cell *c) {
  int rc = 0;
  if (live && h->metrics) ctx->posts++;
  if (c->kind == UVP__CELL_POST) {
    uvp__call_enter(ctx);
    if (live && h->metrics) { /* O2 */
      uvp__span_enter(h, ctx, UVP__CB_POST);
      h->span.posts++;
    }
    if (live) rc = c->u.post.cb(ctx, c->u.post.user_data);
    if (c->u.post.destroy != NULL) c->u.post.destroy(c->u.post.user_data);
    ctx->depth--;
    return rc;
  }
  const void *data =
      c->kind == UVP__CELL_PUB_COPY ? c->u.data : (const void *)c->u.bytes;
  if (live && uvp__deliver(h, c->topic, data, c->len) < 0) {
    ctx->errors++;   /* a topic of no host of ours: dropped and counted */
  } else if (live) { /* O1: accepted on the topic when the loop takes it */
    uvp__topic *tp = uvp__topic_get(&h->topics, c->topic);
    tp->published++;
    if (tp->shared != 0 && h->bus != NULL) /* X5 */
      uvp__bus_forward(h, tp->shared, data, c->len);
  } else {
    h->remote_dropped++; /* R4: its owner stopped; nothing to destroy */
  }
  if (c->kind == UVP__CELL_PUB_COPY) uvp__free(&h->alloc, c->u.data);
  return 0;
}

static void finish_released(uvp_host *h) {
  uvp__inbox *in = h->inbox;
  uv_mutex_lock(&in->lock);
  uvp_remote *list = in->released;
  in->released = NULL;
  uv_mutex_unlock(&in->lock);
  while (list != NULL) {
    uvp_remote *r = list;
    list = r->next;
    uvp_ctx *ctx = h->ctxs[r->owner];
    ctx->remote = NULL;
    uvp__free(&in->alloc, r);
    inbox_unref(in);
    uvp__plugin_poll(ctx);
  }
}

/* Runs queued posts: at most `limit` cells, or, when limit is 0 (host
 * close, every remote closed), all of them, each only destroyed (R4).
 * Stops as soon as the host is closing (S4): what is left gets only its
 * destroy, at teardown. Returns whether cells may remain. A run of cells
 * of one remote gives back its `queued` count once, not once per cell:
 * that counter's cache line is shared with the producers. */
static bool drain(uvp_host *h, uint32_t limit) {
  uvp__inbox *in = h->inbox;
  uvp__cell c; /* max_align_t-aligned, as its inline payload is delivered */
  uint32_t n = 0;
  uvp_remote *run = NULL;
  unsigned run_cells = 0;
  /* O1: between drains the depth only grows, so its peak is here (cells
   * that arrive while this drain runs are seen by the next one). */
  size_t depth = uvp__mpsc_depth(&in->ring);
  if (depth > in->high_water) in->high_water = depth;
  while ((limit == 0 || (n < limit && !h->closing)) &&
         uvp__mpsc_pop(&in->ring, &c)) {
    n++;
    uvp_remote *r = c.from;
    if (r != run) {
      if (run != NULL) consume(run, run_cells);
      run = r;
      run_cells = 0;
    }
    run_cells++;
    uvp_ctx *ctx = h->ctxs[r->owner];
    bool live = !h->closing && !r->closed; /* not `state`: producers' line */
    int rc = run_cell(h, ctx, live, &c);
    if (rc != 0 || ctx->unload_pending || ctx->state == UVP__DRAINING) {
      consume(run, run_cells); /* try_finish reads it */
      run = NULL;
      uvp__call_after(ctx, rc); /* may finish a draining owner */
    }
  }
  if (run != NULL) consume(run, run_cells);
  uvp__span_end(h); /* O2 */
  if (n != 0) wake_posters(in);
  return limit != 0 && n == limit && !h->closing;
}

void uvp__remote_on_async(uvp_host *h) {
  if (h->inbox == NULL || h->closing) return;
  uvp__inbox *in = h->inbox;
  uvp__waker_awake(&in->wake);
  /* R1, R6: libuv reset `pending` (a seq_cst read-modify-write) before
   * calling us; this fence orders that reset before the pops. */
  atomic_thread_fence(memory_order_seq_cst);
  finish_released(h);
  if (drain(h, h->opts.batch)) { /* R6: more, on the next turn */
    uv_async_send(&h->async);
    return;
  }
  /* R6: a cell published after the drain looked is either seen here or
   * its producer sees `asleep` and wakes us. */
  uvp__waker_may_sleep(&in->wake);
  if (uvp__mpsc_ready(&in->ring)) uv_async_send(&h->async);
}

/* Places taken in the host's remotes: cells queued or about to be. */
static uint64_t reserved(const uvp_host *h) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < h->nctxs; i++)
    if (h->ctxs[i] != NULL && h->ctxs[i]->remote != NULL)
      n += queued(h->ctxs[i]->remote);
  return n;
}

/* Host close, once every remote is closed: runs each queued post's destroy
 * (R4) and finishes remotes whose last reference went. A producer that
 * took its place before the close pushes its cell within a few
 * instructions, unless it was preempted: wait for it, yielding the core. */
void uvp__remote_drain_all(uvp_host *h) {
  if (h->inbox == NULL) return;
  drain(h, 0);
  for (unsigned i = 0; reserved(h) != 0; i++) {
    if (i < CLOSE_SPINS)
      sched_yield();
    else
      uv_sleep(1);
    drain(h, 0);
  }
  finish_released(h);
}

/* Host close, last step: lets go of the inbox. Holders of references keep
 * their remotes, which the last release frees on any thread (R5). */
void uvp__remote_shutdown(uvp_host *h) {
  uvp__inbox *in = h->inbox;
  if (in == NULL) return;
  uv_mutex_lock(&in->lock);
  in->host_alive = false;
  in->async = NULL;
  uv_mutex_unlock(&in->lock);
  h->inbox = NULL;
  inbox_unref(in);
}

/* O1: the inbox's counters for uvp_host_get_stats. */
void uvp__remote_host_stats(const uvp_host *h, uvp_host_stats *st) {
  const uvp__inbox *in = h->inbox;
  if (in == NULL) return;
  st->remote_depth = uvp__mpsc_depth(&in->ring);
  st->remote_high_water =
      in->high_water > st->remote_depth ? in->high_water : st->remote_depth;
  st->remote_refused = atomic_load_explicit(&in->refused, memory_order_relaxed);
}
