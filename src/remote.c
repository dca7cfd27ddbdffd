/* Remotes: the thread-safe way into a host (R1-R6).
 *
 *   producer thread ──► its lane: an SPSC ring of the host's inbox ──┐
 *   (the first LANES threads to post to a host)                      ├► loop
 *   any other thread ──► the inbox's shared MPSC ring ───────────────┘
 *        loop thread: on_async drains ≤ batch cells, lane after lane,
 *        runs posts / delivers publishes (or destroys them when the owner
 *        stopped, R4); a wake-up only when the loop may sleep
 *
 * There is no allocation per post (payloads over 32 bytes, and a thread's
 * first post to a host, excepted) and no lock on the post path.
 *
 * Lanes (R1). A thread is named by the address of its uvp__thread_mark.
 * Its first post to a host claims one of the inbox's LANES slots under the
 * inbox lock and allocates the slot's ring; every later post of that
 * thread to any remote of that host goes through that ring, so its posts
 * stay in order. Threads that find every slot taken, or whose ring could
 * not be allocated (the slot is kept, ring NULL), use the MPSC ring for
 * good: one path per thread, so order holds there too (the shared ring
 * holds at most SHARED_CAP cells: when full, such a thread waits or gets
 * UVP_EAGAIN). Lanes belong to the inbox and go with it: at most LANES
 * rings per host, however many threads come and go (a thread that exits
 * leaves its slot to whichever thread later gets the same TLS address; its
 * posts were all pushed).
 *
 * Places (R2). A remote keeps one word, `state`: places taken (its limit)
 * and `closed`; the inbox keeps `taken` (the host's capacity). Taking
 * both per post would put every producer on the same two cache lines, so
 * a lane takes places in batches and keeps the rest as credit in the
 * remote (`credit[lane]`, on the lane's own cache line), spending one per
 * post with a CAS nobody else contends. A batch is at most 1/SPREAD of the
 * room left (and none below 2*SPREAD of room: then one place per post), so
 * credits held by lanes that stopped posting never fill a remote or the
 * host: they leave room for at least 2*SPREAD - 2 posts, and a blocked
 * poster is woken by the room the loop frees (no freed room goes
 * unnoticed). Counts in `state` minus `consumed` minus credits are the
 * posts queued or being pushed.
 *
 * Close (R4). The loop sets `closed` in `state`, then takes every lane's
 * credit back: a producer that spent a credit before that (its CAS came
 * first) has a place and pushes its cell, which the loop destroys; after
 * it, the producer finds no credit and `closed`. A producer that stores
 * fresh credit re-reads `closed` after (both sides seq_cst), so no credit
 * outlives a close. A producer that took its place may still be pushing
 * its cell: queued counts it, so a stopping plugin waits for it like for
 * any queued post, and a closing host waits for every remote's count to
 * reach 0 (uvp__remote_drain_all). A producer holds no gate after its
 * push: it touches the host's async handle only under the inbox lock,
 * which says whether the host is alive.
 *
 * Wake-ups: producers wake the loop only when it said it may sleep (the
 * channel's waker: a Dekker handshake whose barriers the loop pays). The
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
#define LANES 8        /* producer threads with a ring of their own, per host */
#define BATCH 64       /* most places a lane takes at once */
#define SPREAD (2 * LANES) /* a batch takes at most 1/SPREAD of the room */
/* Cells of the shared ring, which only threads without a lane use: its
 * initialisation touches every cell, so it is kept small (when it is full,
 * they wait or get UVP_EAGAIN as when their remote is full). */
#define SHARED_CAP 4096

/* uvp_remote.state: places taken in the low 32 bits (mod 2^32), closed in
 * the top one; queued = taken - consumed. */
#define ST_CLOSED ((uint64_t)1 << 63)
#define ST_TAKEN(w) ((uint32_t)(w))

struct uvp__inbox {
  uvp__mpsc ring; /* threads without a lane */
  uvp__waker wake;
  /* Read by producers on every post; each slot is written once. */
  _Alignas(64) const char *_Atomic owner[LANES]; /* &uvp__thread_mark */
  uvp__spsc *lane[LANES]; /* set before owner; NULL: owner uses `ring` */
  uint32_t capacity;      /* remote_capacity */
  /* R2 per host: places taken by every remote, batched like theirs. */
  _Alignas(64) atomic_uint taken;
  _Alignas(64) atomic_uint consumed; /* written by the loop */
  unsigned next_source;              /* the loop: where the next drain starts */
  size_t high_water;                 /* the loop: most cells found (O1) */
  atomic_uint waiters;               /* producers blocked for room */
  atomic_bool gave_back; /* a closed remote's place was given back */
  atomic_uint epoch;     /* moves, under lock, when room appears or on close */
  atomic_uint refs;      /* the host's + one per remote */
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
  /* Written by producers once per batch (per post without a lane). */
  _Alignas(64) atomic_uint_fast64_t state; /* see the top */
  /* Written by the loop once per run of cells: its own line, so that
   * producers' CAS on `state` stays in their cache. */
  _Alignas(64) atomic_uint consumed; /* places given back, mod 2^32 */
  atomic_uint high_water;            /* written by the loop (O1) */
  /* Places lane i took and did not use yet: its producer's line. */
  struct {
    _Alignas(64) atomic_uint n;
  } credit[LANES];
};

/* ---- inbox ----------------------------------------------------------- */

static uvp__inbox *inbox_new(uvp_host *h) {
  const uvp_allocator *a = &h->alloc;
  uvp__inbox *in = uvp__calloc(a, 1, sizeof *in);
  if (in == NULL) return NULL;
  uint32_t shared = h->opts.remote_capacity;
  if (shared > SHARED_CAP) shared = SHARED_CAP;
  if (uvp__mpsc_init(&in->ring, a, shared) < 0) {
    uvp__free(a, in);
    return NULL;
  }
  if (uv_mutex_init(&in->lock) != 0) goto fail_ring;
  if (uv_cond_init(&in->room) != 0) goto fail_lock;
  in->alloc = *a;
  uvp__waker_init(&in->wake);
  for (unsigned i = 0; i < LANES; i++) atomic_init(&in->owner[i], NULL);
  in->capacity = h->opts.remote_capacity;
  atomic_init(&in->taken, 0);
  atomic_init(&in->consumed, 0);
  atomic_init(&in->waiters, 0);
  atomic_init(&in->gave_back, false);
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
  for (unsigned i = 0; i < LANES; i++) {
    if (in->lane[i] == NULL) continue;
    uvp__spsc_free(in->lane[i], &a);
    uvp__free(&a, in->lane[i]);
  }
  uvp__mpsc_free(&in->ring, &a);
  uvp__free(&a, in);
}

/* ---- posting (any thread) -------------------------------------------- */

static bool on_loop(const uvp__inbox *in) {
  return pthread_equal(pthread_self(), in->loop_thread); /* as api.c */
}

static void give_back(uvp_remote *r, uint32_t n);

/* Takes places in r and in its host (R2): one, or with `batch` up to
 * BATCH and 1/SPREAD of the room left in both. Never takes more than the
 * room, so a remote's or host's count never passes its limit. Returns how
 * many (>= 1), or UVP_EAGAIN or UVP_ECLOSED. */
static int take(uvp_remote *r, bool batch) {
  uvp__inbox *in = r->inbox;
  /* First: `consumed` only grows, so with `state` read after it the
   * difference is never below the true count. */
  uint32_t done = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  uint64_t w = atomic_load_explicit(&r->state, memory_order_relaxed);
  uint32_t k;
  do {
    if (w & ST_CLOSED) return UVP_ECLOSED;
    uint32_t used = ST_TAKEN(w) - done;
    if (used >= r->limit) return UVP_EAGAIN;
    uint32_t room = r->limit - used;
    k = batch && room >= 2 * SPREAD ? room / SPREAD : 1;
    if (k > BATCH) k = BATCH;
  } while (!atomic_compare_exchange_weak_explicit(
      &r->state, &w, w + k, memory_order_relaxed, memory_order_relaxed));
  uint32_t hdone = atomic_load_explicit(&in->consumed, memory_order_relaxed);
  unsigned t = atomic_load_explicit(&in->taken, memory_order_relaxed);
  uint32_t hk;
  do {
    uint32_t used = t - hdone;
    uint32_t room = used >= in->capacity ? 0 : in->capacity - used;
    hk = room >= 2 * SPREAD ? room / SPREAD : room != 0;
    if (hk > k) hk = k;
    if (hk == 0) break;
  } while (!atomic_compare_exchange_weak_explicit(
      &in->taken, &t, t + hk, memory_order_relaxed, memory_order_relaxed));
  if (hk < k) give_back(r, k - hk); /* only r's: the host gave hk */
  return hk == 0 ? UVP_EAGAIN : (int)hk;
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

/* A place taken before its remote closed was given back (the ring was
 * full): its stopping owner may be waiting for that count to reach 0 (R4),
 * and no cell will tell the loop. Release: the loop reads the count after
 * it took the flag. */
static void gave_back_closed(uvp__inbox *in) {
  atomic_store_explicit(&in->gave_back, true, memory_order_release);
  uv_mutex_lock(&in->lock);
  if (in->host_alive) uv_async_send(in->async);
  uv_mutex_unlock(&in->lock);
}

/* Gives back n places taken in r (not in the host) that got no cell. A
 * producer may have failed on them and gone to sleep (nobody else would
 * announce the room), and a stopping owner may be waiting for them. */
static void give_back(uvp_remote *r, uint32_t n) {
  uint64_t w = atomic_fetch_sub_explicit(&r->state, n, memory_order_relaxed);
  if (w & ST_CLOSED) gave_back_closed(r->inbox);
  wake_posters(r->inbox);
}

/* Gives back n places taken in r and in its host. */
static void give_back_both(uvp_remote *r, uint32_t n) {
  atomic_fetch_sub_explicit(&r->inbox->taken, n, memory_order_relaxed);
  give_back(r, n);
}

/* ---- lanes ------------------------------------------------------------ */

/* Claims a slot for the calling thread (`me`) and its ring; LANES when
 * every slot is taken. A ring that cannot be allocated leaves the slot
 * claimed with no ring: the thread uses the shared ring from then on. */
static unsigned lane_add(uvp__inbox *in, const char *me) {
  uv_mutex_lock(&in->lock);
  unsigned i = 0;
  while (i < LANES &&
         atomic_load_explicit(&in->owner[i], memory_order_relaxed) != NULL)
    i++;
  if (i < LANES) {
    uvp__spsc *q = uvp__malloc(&in->alloc, sizeof *q);
    if (q != NULL && uvp__spsc_init(q, &in->alloc, in->capacity) < 0) {
      uvp__free(&in->alloc, q);
      q = NULL;
    }
    in->lane[i] = q;
    atomic_store_explicit(&in->owner[i], me, memory_order_release);
  }
  uv_mutex_unlock(&in->lock);
  return i;
}

/* The calling thread's slot in the host's inbox, claimed on its first
 * post; LANES when it has none. Only this thread claims a slot for
 * itself, so a scan that meets a free slot has not missed its own. */
static unsigned lane_of(uvp__inbox *in) {
  const char *me = &uvp__thread_mark;
  for (unsigned i = 0; i < LANES; i++) {
    const char *o = atomic_load_explicit(&in->owner[i], memory_order_acquire);
    if (o == me) return i;
    if (o == NULL) return lane_add(in, me);
  }
  return LANES;
}

/* A place in r for lane i: a credit, else a batch (see the top). */
static int lane_take(uvp_remote *r, unsigned i) {
  atomic_uint *cr = &r->credit[i].n;
  unsigned c = atomic_load_explicit(cr, memory_order_relaxed);
  while (c != 0)
    if (atomic_compare_exchange_weak_explicit(
            cr, &c, c - 1, memory_order_relaxed, memory_order_relaxed))
      return 0;
  int k = take(r, true);
  if (k <= 1) return k < 0 ? k : 0;
  /* R4: pairs with uvp__remote_close; a credit stored after its
   * take-back is taken back here. */
  atomic_fetch_add_explicit(cr, (unsigned)k - 1, memory_order_seq_cst);
  if (atomic_load_explicit(&r->state, memory_order_seq_cst) & ST_CLOSED) {
    unsigned left = atomic_exchange_explicit(cr, 0, memory_order_seq_cst);
    if (left != 0) give_back_both(r, left);
  }
  return 0;
}

/* One attempt: 0, UVP_EAGAIN or UVP_ECLOSED. */
static int try_send(uvp_remote *r, const uvp__cell *c) {
  uvp__inbox *in = r->inbox;
  unsigned i = lane_of(in);
  uvp__spsc *q = i < LANES ? in->lane[i] : NULL;
  int rc = q != NULL ? lane_take(r, i) : take(r, false);
  if (rc < 0) return rc;
  if (q != NULL && uvp__spsc_has_room(q)) {
    uvp__spsc_push(q, c); /* always room: cells <= places <= capacity */
  } else if (q != NULL || uvp__mpsc_push(&in->ring, c) < 0) {
    give_back_both(r, 1);
    return UVP_EAGAIN;
  }
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
    for (unsigned i = 0; i < LANES; i++) atomic_init(&r->credit[i].n, 0);
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
  atomic_fetch_or_explicit(&r->state, ST_CLOSED, memory_order_seq_cst);
  uint32_t n = 0; /* credits: places no post holds (see the top) */
  for (unsigned i = 0; i < LANES; i++)
    n += atomic_exchange_explicit(&r->credit[i].n, 0, memory_order_seq_cst);
  if (n != 0) {
    atomic_fetch_sub_explicit(&r->inbox->taken, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&r->state, n, memory_order_relaxed);
  }
  wake_posters(r->inbox);
}

/* Posts of r queued or being pushed. Credits first, then `consumed`, then
 * `state`: a post or batch racing with this is counted, never missed. */
static uint32_t queued(const uvp_remote *r) {
  uint32_t credit = 0;
  for (unsigned i = 0; i < LANES; i++)
    credit += atomic_load_explicit(&r->credit[i].n, memory_order_relaxed);
  uint32_t done = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  return ST_TAKEN(atomic_load(&r->state)) - done - credit;
}

/* O1: between drains a remote's count only grows, so its peak is seen at
 * the start of a run of its cells, or now (stats). */
static void note_depth(uvp_remote *r) {
  uint32_t depth = queued(r);
  if (depth > atomic_load_explicit(&r->high_water, memory_order_relaxed))
    atomic_store_explicit(&r->high_water, depth, memory_order_relaxed);
}

uint32_t uvp__remote_queued(const uvp_remote *r) { return r ? queued(r) : 0; }

/* The loop gives back n places of r after running (or destroying) their
 * cells; it is the only writer of `consumed`. */
static void consume(uvp_remote *r, unsigned n) {
  uint32_t done = atomic_load_explicit(&r->consumed, memory_order_relaxed);
  atomic_store_explicit(&r->consumed, done + n, memory_order_relaxed);
  atomic_uint *hc = &r->inbox->consumed;
  done = atomic_load_explicit(hc, memory_order_relaxed);
  atomic_store_explicit(hc, done + n, memory_order_relaxed);
}

void uvp__remote_stats(const uvp_remote *r, uvp_plugin_stats *st) {
  if (r == NULL) return;
  st->post_queued = queued(r);
  st->post_high_water = atomic_load(&r->high_water);
  if (st->post_queued > st->post_high_water)
    st->post_high_water = st->post_queued;
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

/* Lets every draining plugin check whether its last queued post went
 * (see gave_back_closed). */
static void poll_draining(uvp_host *h) {
  for (uint32_t i = 1; i < h->nctxs; i++)
    if (h->ctxs[i] != NULL && h->ctxs[i]->state == UVP__DRAINING)
      uvp__plugin_poll(h->ctxs[i]);
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

/* Source i of the loop's drains: lane i, or (i == LANES) the shared
 * ring. The slot's acquire pairs with lane_add's release. */
static uvp__spsc *lane_at(uvp__inbox *in, unsigned i) {
  if (atomic_load_explicit(&in->owner[i], memory_order_acquire) == NULL)
    return NULL;
  return in->lane[i];
}

static bool source_pop(uvp__inbox *in, unsigned i, uvp__cell *c) {
  if (i == LANES) return uvp__mpsc_pop(&in->ring, c);
  uvp__spsc *q = lane_at(in, i);
  return q != NULL && uvp__spsc_pop(q, c);
}

/* Whether any source has a published cell (the loop, before it sleeps). */
static bool any_ready(uvp__inbox *in) {
  for (unsigned i = 0; i < LANES; i++) {
    uvp__spsc *q = lane_at(in, i);
    if (q != NULL && uvp__spsc_ready(q)) return true;
  }
  return uvp__mpsc_ready(&in->ring);
}

/* Cells in the host's rings (the loop). */
static size_t host_depth(uvp__inbox *in) {
  size_t depth = uvp__mpsc_depth(&in->ring);
  for (unsigned i = 0; i < LANES; i++) {
    uvp__spsc *q = lane_at(in, i);
    if (q != NULL) depth += uvp__spsc_depth(q);
  }
  return depth;
}

/* Runs queued posts: at most `limit` cells, or, when limit is 0 (host
 * close, every remote closed), all of them, each only destroyed (R4).
 * Stops as soon as the host is closing (S4): what is left gets only its
 * destroy, at teardown. Takes the sources in turn, each until it is empty
 * (R1 needs order within a source only), starting one further each time
 * so that no lane waits behind the others for long. Returns how many it
 * took. A run of cells of one remote gives back its `queued` count once,
 * not once per cell: that counter's cache line is shared with the
 * producers. */
static uint32_t drain(uvp_host *h, uint32_t limit) {
  uvp__inbox *in = h->inbox;
  uvp__cell c; /* max_align_t-aligned, as its inline payload is delivered */
  uint32_t n = 0;
  uvp_remote *run = NULL;
  unsigned run_cells = 0;
  /* O1: between drains the depth only grows, so its peak is here (cells
   * that arrive while this drain runs are seen by the next one). */
  size_t depth = host_depth(in);
  if (depth > in->high_water) in->high_water = depth;
  unsigned first = in->next_source;
  in->next_source = (first + 1) % (LANES + 1);
  for (unsigned k = 0; k <= LANES; k++) {
    unsigned src = (first + k) % (LANES + 1);
    while ((limit == 0 || (n < limit && !h->closing)) &&
           source_pop(in, src, &c)) {
      n++;
      uvp_remote *r = c.from;
      if (r != run) {
        if (run != NULL) consume(run, run_cells);
        run = r;
        run_cells = 0;
        note_depth(r);
      }
      run_cells++;
      uvp_ctx *ctx = h->ctxs[r->owner];
      bool live = !h->closing && !r->closed; /* not `state`: producers' */
      int rc = run_cell(h, ctx, live, &c);
      if (rc != 0 || ctx->unload_pending || ctx->state == UVP__DRAINING) {
        consume(run, run_cells); /* try_finish reads it */
        run = NULL;
        uvp__call_after(ctx, rc); /* may finish a draining owner */
      }
    }
  }
  if (run != NULL) consume(run, run_cells);
  uvp__span_end(h); /* O2 */
  if (n != 0) wake_posters(in);
  return n;
}

void uvp__remote_on_async(uvp_host *h) {
  if (h->inbox == NULL || h->closing) return;
  uvp__inbox *in = h->inbox;
  uvp__waker_awake(&in->wake);
  /* R1, R6: libuv reset `pending` (a seq_cst read-modify-write) before
   * calling us; this fence orders that reset before the pops. */
  atomic_thread_fence(memory_order_seq_cst);
  finish_released(h);
  if (atomic_exchange_explicit(&in->gave_back, false, memory_order_acquire))
    poll_draining(h);
  uint32_t taken = drain(h, h->opts.batch);
  if (h->closing) return;
  if (taken == h->opts.batch) { /* R6: more, on the next turn */
    uv_async_send(&h->async);
    return;
  }
  /* R6: a cell published after the drain looked is either seen here or
   * its producer sees `asleep` and wakes us. */
  if (!uvp__waker_may_sleep(&in->wake, taken) || any_ready(in))
    uv_async_send(&h->async);
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
  uvp__inbox *in = h->inbox;
  if (in == NULL) return;
  st->remote_depth = host_depth(in);
  st->remote_high_water =
      in->high_water > st->remote_depth ? in->high_water : st->remote_depth;
  st->remote_refused = atomic_load_explicit(&in->refused, memory_order_relaxed);
}
