/* Remotes: the thread-safe way into a host (R1-R6).
 *
 *   producer threads ──► inbox ring (bounded, lock-free, per host) ──►
 *        uv_async_send        loop thread: on_async drains ≤ batch cells,
 *                             runs posts / delivers publishes (or destroys
 *                             them when the owner stopped, R4)
 *
 * The ring is Vyukov's bounded queue: a producer claims a cell with one CAS
 * on `tail` and publishes it by storing its sequence number; the loop is
 * the only consumer. There is no allocation per post (payloads over 40
 * bytes excepted) and no lock on the post path. Per-producer order holds
 * because a thread's claims are ordered (R1).
 *
 * Closing uses a gate: producers count themselves in the remote's `users`
 * (on the cache line they write anyway) around the check of `closed` and
 * the push; the loop sets `closed` and then waits for `users` to drop to 0
 * (the producer that leaves last signals `gate`). After that no post of
 * that remote can arrive, so the loop may drain and destroy what is queued.
 *
 * Wake-ups are store-then-load handshakes (Dekker), so each side puts a
 * seq_cst fence between its store and its load: a producer between its cell
 * and libuv's read of `pending` (libuv PR #349 fixed the same race in libuv
 * itself), the loop between libuv's reset of `pending` and its pops, a
 * blocked poster between `waiters` and its retry, the loop between freeing
 * room and reading `waiters`. Blocked posters sleep on `epoch`, which only
 * moves under the lock, so they need no timeout.
 *
 * The mutex guards only lifecycle and sleeping: the last release of a
 * remote, host liveness, blocked posters, the loop waiting at a gate.
 * Thread: the remote_* entry points on any thread, the rest loop only.
 */
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

#define CELL_INLINE 32 /* payload bytes carried in the cell itself */
#define GATE_SPINS 128 /* loads of `users` before the loop sleeps on it */

enum cell_kind { CELL_POST, CELL_PUB_INLINE, CELL_PUB_COPY };

/* 64 bytes on LP64, as before the payload got its alignment: the header
 * fills the first 32, the union the second. Inline payloads are delivered
 * in place (from the loop's copy of the cell), and uvp_event.data is
 * promised max_align_t-aligned, so `bytes` is. */
typedef struct cell {
  atomic_size_t seq;
  uvp_remote *remote;
  uint32_t len;
  uvp_topic topic; /* CELL_PUB_* */
  uint8_t kind;
  union {
    struct {
      uvp_post_cb cb;
      void *user_data;
      uvp_destroy_fn destroy;
    } post;
    _Alignas(max_align_t) unsigned char bytes[CELL_INLINE];
    void *data; /* CELL_PUB_COPY */
  } u;
} cell;

STATIC_ASSERT(offsetof(cell, u) % _Alignof(max_align_t) == 0);
STATIC_ASSERT(sizeof(void *) != 8 || sizeof(cell) == 64);

struct uvp__inbox {
  _Alignas(64) atomic_size_t tail; /* producers */
  _Alignas(64) size_t head;        /* the loop */
  size_t high_water;               /* the loop: most cells found (O1) */
  cell *cells;
  size_t mask;
  atomic_uint waiters; /* producers blocked for room */
  atomic_uint epoch;   /* moves, under lock, when room appears or on close */
  atomic_uint refs;    /* the host's + one per remote */
  atomic_uint_fast64_t refused; /* posts and publishes given UVP_EAGAIN (O1) */
  uv_thread_t loop_thread;
  uint32_t max_payload;
  /* The host's allocator, copied: remotes and the inbox outlive the host
   * (R5), and producers copy payloads with it on their threads. */
  uvp_allocator alloc;
  uv_async_t *async; /* valid while the gate or lock says host alive */
  uv_mutex_t lock;   /* guards the fields below, and sleeping on the conds */
  uv_cond_t room;    /* blocked posters wait for `epoch` to move */
  uv_cond_t gate;    /* the loop waits for a closed remote's users to go */
  bool host_alive;
  uvp_remote *released; /* remotes whose waited-for last ref went */
};

struct uvp_remote {
  /* Read by producers on every post, written rarely. */
  atomic_bool closed;
  atomic_uint refs;
  uint32_t limit;
  uint16_t owner;   /* ctx index; read on the loop thread only */
  bool detached;    /* lock: owner gone, the last release frees */
  bool waited_on;   /* lock: owner waits for the last release (U4) */
  uvp_remote *next; /* lock: in inbox->released */
  uvp__inbox *inbox;
  /* Written by producers and the loop on every post: its own cache line,
   * so that the loop's decrements do not evict `closed` from producers. */
  _Alignas(64) atomic_uint queued;
  atomic_uint high_water;
  atomic_int users; /* producers inside the gate (see the top) */
};

/* ---- inbox ----------------------------------------------------------- */

static uvp__inbox *inbox_new(uvp_host *h) {
  const uvp_allocator *a = &h->alloc;
  uvp__inbox *in = uvp__calloc(a, 1, sizeof *in);
  size_t cap = 64;
  while (cap < h->opts.remote_capacity) cap *= 2;
  cell *cells = in ? uvp__calloc(a, cap, sizeof *cells) : NULL;
  if (cells == NULL || uv_mutex_init(&in->lock) != 0) {
    uvp__free(a, cells);
    uvp__free(a, in);
    return NULL;
  }
  if (uv_cond_init(&in->room) != 0) {
    uv_mutex_destroy(&in->lock);
    uvp__free(a, cells);
    uvp__free(a, in);
    return NULL;
  }
  if (uv_cond_init(&in->gate) != 0) {
    uv_cond_destroy(&in->room);
    uv_mutex_destroy(&in->lock);
    uvp__free(a, cells);
    uvp__free(a, in);
    return NULL;
  }
  in->alloc = *a;
  for (size_t i = 0; i < cap; i++) atomic_init(&cells[i].seq, i);
  in->cells = cells;
  in->mask = cap - 1;
  atomic_init(&in->tail, 0);
  atomic_init(&in->waiters, 0);
  atomic_init(&in->epoch, 0);
  atomic_init(&in->refs, 1);
  atomic_init(&in->refused, 0);
  in->loop_thread = h->thread;
  in->max_payload = h->opts.max_payload;
  in->async = &h->async;
  in->host_alive = true;
  return in;
}

static void inbox_unref(uvp__inbox *in) {
  if (atomic_fetch_sub(&in->refs, 1) != 1) return;
  uv_cond_destroy(&in->gate);
  uv_cond_destroy(&in->room);
  uv_mutex_destroy(&in->lock);
  uvp_allocator a = in->alloc; /* in is one of its blocks */
  uvp__free(&a, in->cells);
  uvp__free(&a, in);
}

static int ring_push(uvp__inbox *in, const cell *src) {
  size_t pos = atomic_load_explicit(&in->tail, memory_order_relaxed);
  cell *c;
  for (;;) {
    c = &in->cells[pos & in->mask];
    size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
    intptr_t dif = (intptr_t)seq - (intptr_t)pos;
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&in->tail, &pos, pos + 1,
                                                memory_order_relaxed,
                                                memory_order_relaxed))
        break;
    } else if (dif < 0) {
      return UVP_EAGAIN; /* full */
    } else {
      pos = atomic_load_explicit(&in->tail, memory_order_relaxed);
    }
  }
  c->remote = src->remote;
  c->len = src->len;
  c->topic = src->topic;
  c->kind = src->kind;
  c->u = src->u;
  atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
  return 0;
}

static bool ring_pop(uvp__inbox *in, cell *out) {
  cell *c = &in->cells[in->head & in->mask];
  if (atomic_load_explicit(&c->seq, memory_order_acquire) != in->head + 1)
    return false; /* empty, or the next producer has not finished */
  out->remote = c->remote;
  out->len = c->len;
  out->topic = c->topic;
  out->kind = c->kind;
  out->u = c->u;
  atomic_store_explicit(&c->seq, in->head + in->mask + 1, memory_order_release);
  in->head++;
  return true;
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

/* Whether the cell at the tail is still unconsumed: a hint, read before a
 * producer reserves a place in its remote's limit, so that a full ring
 * rarely costs a reservation given back (see give_back). */
static bool ring_full(uvp__inbox *in) {
  size_t pos = atomic_load_explicit(&in->tail, memory_order_relaxed);
  cell *c = &in->cells[pos & in->mask];
  size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
  return (intptr_t)seq - (intptr_t)pos < 0;
}

/* Takes one place of r's limit (R2), or fails without touching `queued`:
 * a failed attempt must not make another producer fail and sleep on room
 * that nobody will announce. Relaxed: the count needs only atomicity; the
 * loop reads it after the gate (`users`) or the cell's `seq` ordered it.
 * Returns the new depth, or 0. */
static unsigned reserve(uvp_remote *r) {
  unsigned q = atomic_load_explicit(&r->queued, memory_order_relaxed);
  do {
    if (q >= r->limit) return 0;
  } while (!atomic_compare_exchange_weak_explicit(
      &r->queued, &q, q + 1, memory_order_relaxed, memory_order_relaxed));
  return q + 1;
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

/* A reservation whose push found the ring full: another poster may have
 * failed on it and gone to sleep; nobody else would announce this room. */
static void give_back(uvp_remote *r) {
  atomic_fetch_sub(&r->queued, 1);
  wake_posters(r->inbox);
}

/* The last producer out of a closed remote's gate wakes the loop waiting in
 * close_gate. Taking the lock orders this after the loop's check. */
static void gate_left(uvp__inbox *in) {
  uv_mutex_lock(&in->lock);
  uv_cond_signal(&in->gate);
  uv_mutex_unlock(&in->lock);
}

/* One attempt inside the gate: 0, UVP_EAGAIN or UVP_ECLOSED. */
static int try_send(uvp_remote *r, const cell *c) {
  uvp__inbox *in = r->inbox;
  atomic_fetch_add(&r->users, 1); /* seq_cst pairs with close_gate */
  int rc = UVP_ECLOSED;
  if (!atomic_load(&r->closed)) {
    unsigned depth = ring_full(in) ? 0 : reserve(r);
    if (depth == 0) {
      rc = UVP_EAGAIN;
    } else if ((rc = ring_push(in, c)) < 0) {
      give_back(r);
    } else {
      note_depth(r, depth);
      /* R1, R6: the cell before libuv's relaxed read of `pending`: without
       * the fence that read may pass the cell's store, see a wake-up the
       * loop has just consumed, and skip ours while the loop finds no
       * cell. Pairs with the fence in uvp__remote_on_async. */
      atomic_thread_fence(memory_order_seq_cst);
      uv_async_send(in->async); /* host alive: the gate holds close back */
    }
  }
  /* seq_cst, as is the read of `closed`: pairs with close_gate's store of
   * `closed` and read of `users`, so the loop sleeps only when the last
   * producer out sees `closed` and wakes it. */
  if (atomic_fetch_sub(&r->users, 1) == 1 && atomic_load(&r->closed))
    gate_left(in);
  return rc;
}

/* R2: UVP_POST_BLOCK after a full queue. Sleeps until `epoch` moves, with
 * no timeout: `epoch` is read before each retry, and whoever makes room
 * after that retry looked (wake_posters) sees `waiters` and moves it. */
static int send_blocking(uvp_remote *r, const cell *c) {
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

static int send_cell(uvp_remote *r, const cell *c, int flags) {
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
  cell c = {.remote = r, .kind = CELL_POST};
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
  cell c = {.remote = r,
            .len = (uint32_t)len,
            .topic = topic,
            .kind = CELL_PUB_INLINE};
  if (len <= sizeof c.u.bytes) {
    if (len != 0) memcpy(c.u.bytes, data, len);
  } else {
    void *copy = uvp__malloc(&r->inbox->alloc, len); /* freed by the loop */
    if (copy == NULL) return UVP_ENOMEM;
    memcpy(copy, data, len);
    c.kind = CELL_PUB_COPY;
    c.u.data = copy;
  }
  if ((rc = send_cell(r, &c, flags)) < 0 && c.kind == CELL_PUB_COPY)
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
    atomic_init(&r->closed, false);
    atomic_init(&r->queued, 0);
    atomic_init(&r->high_water, 0);
    atomic_init(&r->users, 0);
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

/* Waits until no producer is inside r's gate: a short spin for one that is
 * mid-post, then sleep, so that a preempted producer does not cost the loop
 * a core; the last producer out signals `gate` (try_send). */
static void close_gate(uvp_remote *r) {
  for (int i = 0; i < GATE_SPINS; i++)
    if (atomic_load(&r->users) == 0) return;
  uvp__inbox *in = r->inbox;
  uv_mutex_lock(&in->lock);
  while (atomic_load(&r->users) != 0) uv_cond_wait(&in->gate, &in->lock);
  uv_mutex_unlock(&in->lock);
}

/* Refuses every later post of r and waits out producers mid-post (R4);
 * blocked posters wake up to UVP_ECLOSED. */
void uvp__remote_close(uvp_remote *r) {
  if (r == NULL || atomic_load(&r->closed)) return;
  atomic_store(&r->closed, true); /* seq_cst: see try_send */
  close_gate(r);
  wake_posters(r->inbox);
}

uint32_t uvp__remote_queued(const uvp_remote *r) {
  return r ? atomic_load(&r->queued) : 0;
}

void uvp__remote_stats(const uvp_remote *r, uvp_plugin_stats *st) {
  if (r == NULL) return;
  st->post_queued = atomic_load(&r->queued);
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
static int run_cell(uvp_host *h, uvp_ctx *ctx, bool live, cell *c) {
  int rc = 0;
  if (live && h->metrics) ctx->posts++;
  if (c->kind == CELL_POST) {
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
      c->kind == CELL_PUB_COPY ? c->u.data : (const void *)c->u.bytes;
  if (live && uvp__deliver(h, c->topic, data, c->len) < 0)
    ctx->errors++; /* a topic of no host of ours: dropped and counted */
  else if (live)   /* O1: accepted on the topic when the loop takes it */
    uvp__topic_get(&h->topics, c->topic)->published++;
  else
    h->remote_dropped++; /* R4: its owner stopped; nothing to destroy */
  if (c->kind == CELL_PUB_COPY) uvp__free(&h->alloc, c->u.data);
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
  cell c; /* max_align_t-aligned, as its inline payload is delivered */
  uint32_t n = 0;
  uvp_remote *run = NULL;
  unsigned run_cells = 0;
  /* O1: between drains the depth only grows, so its peak is here (cells
   * that arrive while this drain runs are seen by the next one). */
  size_t depth =
      atomic_load_explicit(&in->tail, memory_order_relaxed) - in->head;
  if (depth > in->high_water) in->high_water = depth;
  while ((limit == 0 || (n < limit && !h->closing)) && ring_pop(in, &c)) {
    n++;
    uvp_remote *r = c.remote;
    if (r != run) {
      if (run != NULL) atomic_fetch_sub(&run->queued, run_cells);
      run = r;
      run_cells = 0;
    }
    run_cells++;
    uvp_ctx *ctx = h->ctxs[r->owner];
    bool live =
        !h->closing && !atomic_load_explicit(&r->closed, memory_order_relaxed);
    int rc = run_cell(h, ctx, live, &c);
    if (rc != 0 || ctx->unload_pending || ctx->state == UVP__DRAINING) {
      atomic_fetch_sub(&run->queued, run_cells); /* try_finish reads it */
      run = NULL;
      uvp__call_after(ctx, rc); /* may finish a draining owner */
    }
  }
  if (run != NULL) atomic_fetch_sub(&run->queued, run_cells);
  uvp__span_end(h); /* O2 */
  if (n != 0) wake_posters(in);
  return limit != 0 && n == limit && !h->closing;
}

void uvp__remote_on_async(uvp_host *h) {
  if (h->inbox == NULL || h->closing) return;
  /* R1, R6: libuv reset `pending` (a seq_cst read-modify-write) before
   * calling us; this fence orders that reset before the pops, and pairs
   * with the producer's fence in try_send. */
  atomic_thread_fence(memory_order_seq_cst);
  finish_released(h);
  if (drain(h, h->opts.batch)) uv_async_send(&h->async); /* R6: more */
}

/* Host close, once every remote is closed: runs each queued post's destroy
 * (R4) and finishes remotes whose last reference went. */
void uvp__remote_drain_all(uvp_host *h) {
  if (h->inbox == NULL) return;
  drain(h, 0);
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
  size_t tail = atomic_load_explicit(&in->tail, memory_order_relaxed);
  st->remote_depth = tail - in->head;
  st->remote_high_water =
      in->high_water > st->remote_depth ? in->high_water : st->remote_depth;
  st->remote_refused = atomic_load_explicit(&in->refused, memory_order_relaxed);
}
