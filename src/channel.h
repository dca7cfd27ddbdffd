/* The channel: how other threads feed one loop (remotes and the bus).
 *
 *   producers ──► rings of 64-byte cells ──► the loop drains them
 *        └─ waker: a uv_async_send only when the loop may be asleep
 *
 * Two rings: an SPSC one (a send is plain stores and one release; the
 * bus: one per sending and receiving loop; remotes: one per producer
 * thread and host, a "lane", see remote.c) and an MPSC one (Vyukov's
 * bounded queue; remotes, for threads beyond the lanes). Both carry the
 * same cell. The waker replaces a fence and a uv_async_send per post by
 * a load while the loop is awake: the loop says when it may go to sleep
 * (`asleep`), and only then does a producer wake it; under dense traffic
 * the loop pays for the barriers of that handshake (membarrier, see
 * channel.c).
 * Nothing here is ABI; thread rules are on each function.
 */
#ifndef UVP_CHANNEL_H
#define UVP_CHANNEL_H

#include "uvp-internal.h"

#define UVP__CELL_INLINE 32 /* payload bytes carried in the cell itself */

enum uvp__cell_kind {
  UVP__CELL_POST,       /* remote_post */
  UVP__CELL_PUB_INLINE, /* a payload of at most UVP__CELL_INLINE bytes */
  UVP__CELL_PUB_COPY,   /* a copy made with the channel's allocator */
};

/* 64 bytes on LP64: the header fills the first 32, the union the second.
 * Inline payloads are delivered in place (from the loop's copy of the
 * cell), and uvp_event.data is promised max_align_t-aligned, so `bytes`
 * is. */
typedef struct uvp__cell {
  atomic_size_t seq; /* MPSC ring only */
  void *from;        /* remotes: the uvp_remote; the bus: unused */
  uint32_t len;
  uvp_topic topic; /* remotes: the host's topic; bus: shared index */
  uint8_t kind;    /* enum uvp__cell_kind */
  union {
    struct {
      uvp_post_cb cb;
      void *user_data;
      uvp_destroy_fn destroy;
    } post;
    _Alignas(max_align_t) unsigned char bytes[UVP__CELL_INLINE];
    void *data; /* UVP__CELL_PUB_COPY */
  } u;
} uvp__cell;

STATIC_ASSERT(offsetof(uvp__cell, u) % _Alignof(max_align_t) == 0);
STATIC_ASSERT(sizeof(void *) != 8 || sizeof(uvp__cell) == 64);

/* ---- MPSC ring: any thread pushes, the loop pops --------------------- */

typedef struct uvp__mpsc {
  _Alignas(64) atomic_size_t tail; /* producers */
  _Alignas(64) size_t head;        /* the loop */
  uvp__cell *cells;
  size_t mask;
} uvp__mpsc;

int uvp__mpsc_init(uvp__mpsc *q, const uvp_allocator *a, size_t min_cap);
void uvp__mpsc_free(uvp__mpsc *q, const uvp_allocator *a);
int uvp__mpsc_push(uvp__mpsc *q, const uvp__cell *src);
bool uvp__mpsc_pop(uvp__mpsc *q, uvp__cell *out);
bool uvp__mpsc_ready(uvp__mpsc *q);

/* Cells claimed and not yet popped (loop thread). */
static inline size_t uvp__mpsc_depth(const uvp__mpsc *q) {
  return atomic_load_explicit(&q->tail, memory_order_relaxed) - q->head;
}

/* ---- SPSC ring: one thread pushes, one loop pops --------------------- */

typedef struct uvp__spsc {
  _Alignas(64) atomic_size_t tail; /* written by the producer */
  size_t head_seen;                /* producer: a past value of head */
  _Alignas(64) atomic_size_t head; /* written by the consumer */
  size_t tail_seen;                /* consumer: a past value of tail */
  _Alignas(64) uvp__cell *cells;
  size_t mask;
} uvp__spsc;

int uvp__spsc_init(uvp__spsc *q, const uvp_allocator *a, size_t min_cap);
void uvp__spsc_free(uvp__spsc *q, const uvp_allocator *a);
bool uvp__spsc_has_room(uvp__spsc *q);
void uvp__spsc_push(uvp__spsc *q, const uvp__cell *src);
bool uvp__spsc_pop(uvp__spsc *q, uvp__cell *out);
bool uvp__spsc_ready(uvp__spsc *q);

/* Cells pushed and not yet popped (consumer thread). */
static inline size_t uvp__spsc_depth(uvp__spsc *q) {
  return atomic_load_explicit(&q->tail, memory_order_relaxed) -
         atomic_load_explicit(&q->head, memory_order_relaxed);
}

/* ---- waker: a loop's "wake me" flag ------------------------------------ */

/* A loop's "wake me" flag. Who holds the loop's async handle alive while a
 * producer calls uv_async_send is the user's business (remotes: the inbox
 * lock; the bus: the receiver's lock). */
typedef struct uvp__waker {
  _Alignas(64) atomic_int asleep; /* 1: the loop may wait; wake it */
  atomic_bool fence; /* producers fence themselves (see channel.c) */
  bool membarrier;   /* the loop's: membarrier(2) is there */
} uvp__waker;

void uvp__waker_init(uvp__waker *w);
bool uvp__waker_should_wake(uvp__waker *w);
void uvp__waker_awake(uvp__waker *w);
bool uvp__waker_may_sleep(uvp__waker *w, uint32_t taken);

#endif /* UVP_CHANNEL_H */
