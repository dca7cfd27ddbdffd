/* The channel's rings and waker (see channel.h for the picture).
 *
 * Wake-ups are store-then-load handshakes (Dekker): a producer stores its
 * cell, then loads `asleep`; the loop stores `asleep`, then loads the next
 * cell. Each side puts a seq_cst fence between its store and its load, so
 * at least one of them sees the other's store: either the loop finds the
 * cell before it sleeps, or the producer finds the loop asleep and wakes
 * it. While the loop drains, `asleep` is 0 and producers skip the wake-up
 * (libuv's uv_async_send would also read and write its `pending` word,
 * a cache line the loop writes on every wake-up).
 * Thread: producer functions on any thread, consumer ones on the loop.
 */
#include "channel.h"

#define PREFETCH_AHEAD 8 /* cells: a few posts ahead of the tail */

#include <string.h>

static size_t ring_cap(size_t min_cap) {
  size_t cap = 64;
  while (cap < min_cap) cap *= 2;
  return cap;
}

/* ---- MPSC (Vyukov): a producer claims a cell with one CAS on `tail` and
 * publishes it by storing its sequence number; per-producer order holds
 * because a thread's claims are ordered. ---- */

int uvp__mpsc_init(uvp__mpsc *q, const uvp_allocator *a, size_t min_cap) {
  size_t cap = ring_cap(min_cap);
  uvp__cell *cells = uvp__calloc(a, cap, sizeof *cells);
  if (cells == NULL) return UVP_ENOMEM;
  for (size_t i = 0; i < cap; i++) atomic_init(&cells[i].seq, i);
  atomic_init(&q->tail, 0);
  q->head = 0;
  q->cells = cells;
  q->mask = cap - 1;
  return 0;
}

void uvp__mpsc_free(uvp__mpsc *q, const uvp_allocator *a) {
  uvp__free(a, q->cells);
  q->cells = NULL;
}

static void cell_copy(uvp__cell *dst, const uvp__cell *src) {
  dst->from = src->from;
  dst->len = src->len;
  dst->topic = src->topic;
  dst->kind = src->kind;
  dst->u = src->u;
}

int uvp__mpsc_push(uvp__mpsc *q, const uvp__cell *src) {
  size_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
  uvp__cell *c;
  for (;;) {
    c = &q->cells[pos & q->mask];
    size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
    intptr_t dif = (intptr_t)seq - (intptr_t)pos;
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1,
                                                memory_order_relaxed,
                                                memory_order_relaxed))
        break;
    } else if (dif < 0) {
      return UVP_EAGAIN; /* full */
    } else {
      pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    }
  }
  /* The cells ahead were last written by the loop a lap ago, so they are
   * out of this core's caches: fetch one for the next posts meanwhile. */
  __builtin_prefetch(&q->cells[(pos + PREFETCH_AHEAD) & q->mask], 1);
  cell_copy(c, src);
  atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
  return 0;
}

/* Whether the next cell is published (loop thread). */
bool uvp__mpsc_ready(uvp__mpsc *q) {
  const uvp__cell *c = &q->cells[q->head & q->mask];
  return atomic_load_explicit(&c->seq, memory_order_acquire) == q->head + 1;
}

bool uvp__mpsc_pop(uvp__mpsc *q, uvp__cell *out) {
  uvp__cell *c = &q->cells[q->head & q->mask];
  if (atomic_load_explicit(&c->seq, memory_order_acquire) != q->head + 1)
    return false; /* empty, or the next producer has not finished */
  cell_copy(out, c);
  atomic_store_explicit(&c->seq, q->head + q->mask + 1, memory_order_release);
  q->head++;
  return true;
}

/* ---- SPSC: each side caches the other's index and re-reads it only when
 * the cached value says full (producer) or empty (consumer), so that in a
 * steady stream the two indices' cache lines rarely move. ---- */

int uvp__spsc_init(uvp__spsc *q, const uvp_allocator *a, size_t min_cap) {
  size_t cap = ring_cap(min_cap);
  uvp__cell *cells = uvp__calloc(a, cap, sizeof *cells);
  if (cells == NULL) return UVP_ENOMEM;
  atomic_init(&q->tail, 0);
  atomic_init(&q->head, 0);
  q->head_seen = 0;
  q->tail_seen = 0;
  q->cells = cells;
  q->mask = cap - 1;
  return 0;
}

void uvp__spsc_free(uvp__spsc *q, const uvp_allocator *a) {
  uvp__free(a, q->cells);
  q->cells = NULL;
}

/* Producer: whether one push fits. Room only grows until this producer
 * pushes, so a true answer holds for its next push. */
bool uvp__spsc_has_room(uvp__spsc *q) {
  size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  if (tail - q->head_seen <= q->mask) return true;
  q->head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
  return tail - q->head_seen <= q->mask;
}

/* Producer, after uvp__spsc_has_room said yes. */
void uvp__spsc_push(uvp__spsc *q, const uvp__cell *src) {
  size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  cell_copy(&q->cells[tail & q->mask], src);
  atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
}

bool uvp__spsc_ready(uvp__spsc *q) {
  size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
  if (head != q->tail_seen) return true;
  q->tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
  return head != q->tail_seen;
}

bool uvp__spsc_pop(uvp__spsc *q, uvp__cell *out) {
  if (!uvp__spsc_ready(q)) return false;
  size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
  cell_copy(out, &q->cells[head & q->mask]);
  atomic_store_explicit(&q->head, head + 1, memory_order_release);
  return true;
}

/* ---- waker ------------------------------------------------------------ */

void uvp__waker_init(uvp__waker *w) { atomic_init(&w->asleep, 1); }

/* Producer, after its cells are published: whether it must wake the loop.
 * The fence orders the cells before the load of `asleep` and pairs with
 * the one in uvp__waker_may_sleep. Of several producers that find the
 * loop asleep, the exchange lets one wake it; acquire, so that it sees
 * libuv's reset of the async handle's `pending`, which came before the
 * loop said it may sleep (else uv_async_send might skip the wake-up). */
bool uvp__waker_should_wake(uvp__waker *w) {
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&w->asleep, memory_order_relaxed) == 0) return false;
  return atomic_exchange_explicit(&w->asleep, 0, memory_order_acquire) != 0;
}

/* Loop, when it starts draining: producers need not wake it. Relaxed: a
 * stale 1 seen by a producer costs one spurious wake-up, nothing else. */
void uvp__waker_awake(uvp__waker *w) {
  atomic_store_explicit(&w->asleep, 0, memory_order_relaxed);
}

/* Loop, after it drained its rings empty: from now on producers wake it.
 * The caller checks its rings again after this; a cell found then is one
 * whose producer may have seen `asleep` still 0. */
void uvp__waker_may_sleep(uvp__waker *w) {
  atomic_store_explicit(&w->asleep, 1, memory_order_release);
  atomic_thread_fence(memory_order_seq_cst); /* pairs with should_wake */
}
