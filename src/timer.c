/* Timers: every plugin timer of a host in one binary min-heap, driving a
 * single uv_timer_t, or the host's idle handle while the earliest is due.
 *
 *   timer_start ──► heap by (due, start seq) ─┬─ earliest due later:
 *                                             │  uv_timer_t, due - now ms
 *                                             └─ earliest already due:
 *                                                idle handle, next turn
 *   a round: fire the timers due now that were started before it began
 *
 * A uv_timer_t per plugin timer costs a handle (~150 bytes) and a libuv
 * heap node each; here a timer is a 40-byte slot plus a 16-byte heap entry.
 * Its start sequence gives FIFO among equal due times (D6) and lets a round
 * skip timers started during it, so a 0 ms timer re-arming itself fires
 * once per round. The sequence is 56 bits and never compared with
 * wrap-around: a 32-bit one wrapped after 2^31 starts and froze the loop.
 *
 * The uv_timer_t is never started for a time already due: libuv before
 * 1.48 runs a timer restarted at 0 ms from its own callback again in the
 * same uv__run_timers pass, without updating the loop time (libuv#4245),
 * so a plugin re-arming at 0 ms would freeze the loop. A due round runs
 * from the idle handle on the next turn instead: libuv polls with timeout 0
 * while an idle handle is active, so I/O, other handles and later timers
 * still run every turn, and a 0 ms timer is not slowed to 1 ms as a
 * clamped uv timer would (Node clamps setTimeout to 1 ms).
 * Thread: loop thread only.
 */
#include <stdlib.h>

#include "uvp-internal.h"

/* The heap entry's key (see uvp__heap_entry): the due time in the top 40
 * bits of hi, the sequence in its low 24 bits and in lo. */
#define SEQ_HI_BITS 24
#define SEQ_MASK ((UINT64_C(1) << (32 + SEQ_HI_BITS)) - 1)
#define DUE_NEVER ((UINT64_C(1) << (64 - SEQ_HI_BITS)) - 1)

/* Absolute due time of e, UINT64_MAX for never. */
static uint64_t entry_due(const uvp__timers *t, const uvp__heap_entry *e) {
  uint64_t due = e->hi >> SEQ_HI_BITS;
  return due == DUE_NEVER ? UINT64_MAX : t->epoch + due;
}

static uint64_t entry_seq(const uvp__heap_entry *e) {
  return (e->hi & ((UINT64_C(1) << SEQ_HI_BITS) - 1)) << 32 | e->lo;
}

/* (due, seq) order; sequences are unique, so the slot never decides. */
static bool before(const uvp__heap_entry *a, const uvp__heap_entry *b) {
  if (a->hi != b->hi) return a->hi < b->hi;
  return a->lo < b->lo;
}

static void heap_set(uvp_host *h, uint32_t pos, uvp__heap_entry e) {
  h->timers.heap[pos] = e;
  uvp__registry_at(&h->reg, e.slot)->u.timer.heap_pos = pos;
}

static void sift_up(uvp_host *h, uint32_t pos) {
  uvp__heap_entry e = h->timers.heap[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!before(&e, &h->timers.heap[parent])) break;
    heap_set(h, pos, h->timers.heap[parent]);
    pos = parent;
  }
  heap_set(h, pos, e);
}

static void sift_down(uvp_host *h, uint32_t pos) {
  uvp__timers *t = &h->timers;
  uvp__heap_entry e = t->heap[pos];
  for (;;) {
    uint32_t child = 2 * pos + 1;
    if (child >= t->count) break;
    if (child + 1 < t->count && before(&t->heap[child + 1], &t->heap[child]))
      child++;
    if (!before(&t->heap[child], &e)) break;
    heap_set(h, pos, t->heap[child]);
    pos = child;
  }
  heap_set(h, pos, e);
}

/* Queues slot to fire timeout_ms after the loop time. */
static int heap_push(uvp_host *h, uint32_t slot, uint64_t timeout_ms) {
  uvp__timers *t = &h->timers;
  if (t->count == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    uvp__heap_entry *heap =
        uvp__realloc(t->alloc, t->heap, (size_t)cap * sizeof *heap);
    if (heap == NULL) return UVP_ENOMEM;
    t->heap = heap;
    t->cap = cap;
  }
  uint64_t now = uv_now(h->loop);
  if (t->count == 0) t->epoch = now; /* no due counts from the old one */
  uint64_t base = now - t->epoch, due = DUE_NEVER; /* past 34 years: never */
  if (base < DUE_NEVER && timeout_ms < DUE_NEVER - base)
    due = base + timeout_ms;
  /* Masking wraps after 2^56 starts: centuries at any rate a loop reaches. */
  uint64_t seq = t->next_seq++ & SEQ_MASK;
  t->heap[t->count] = (uvp__heap_entry){
      .hi = due << SEQ_HI_BITS | seq >> 32, .lo = (uint32_t)seq, .slot = slot};
  sift_up(h, t->count++);
  return 0;
}

static void heap_remove(uvp_host *h, uint32_t pos) {
  uvp__timers *t = &h->timers;
  uvp__registry_at(&h->reg, t->heap[pos].slot)->u.timer.heap_pos = UVP__NONE;
  if (pos == --t->count) return;
  uvp__heap_entry last = t->heap[t->count];
  heap_set(h, pos, last);
  if (pos > 0 && before(&last, &t->heap[(pos - 1) / 2]))
    sift_up(h, pos);
  else
    sift_down(h, pos);
}

static void on_timer(uv_timer_t *handle);

/* Points the shared uv_timer_t at the earliest timer, or, when that one is
 * due already, the host's idle handle (libuv#4245, see the top). */
static void rearm(uvp_host *h) {
  uvp__timers *t = &h->timers;
  t->on_idle = false;
  if (t->count == 0 || h->closing) {
    uv_timer_stop(&h->timer);
    return;
  }
  uint64_t now = uv_now(h->loop), due = entry_due(t, &t->heap[0]);
  if (due > now) {
    uv_timer_start(&h->timer, on_timer, due - now, 0);
    return;
  }
  uv_timer_stop(&h->timer);
  t->on_idle = true;
  uvp__host_schedule(h);
}

int uvp__timer_start(uvp_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms,
                     uvp_timer_cb cb, void *user_data, uvp_destroy_fn destroy,
                     uvp_id *out_id) {
  uvp_host *h = ctx->host;
  uint32_t idx;
  int rc = uvp__reg_begin(ctx, UVP__TIMER, user_data, destroy, &idx);
  if (rc < 0) return rc;
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->cb.timer = cb;
  s->u.timer.repeat_ms = (uint32_t)repeat_ms;
  s->u.timer.heap_pos = UVP__NONE;
  if ((rc = heap_push(h, idx, timeout_ms)) < 0) {
    uvp__reg_abort(h, idx);
    return rc;
  }
  if (s->u.timer.heap_pos == 0) rearm(h);
  *out_id = uvp__id_make(idx, s->gen);
  return 0;
}

void uvp__timer_remove(uvp_host *h, uint32_t idx) {
  uint32_t pos = uvp__registry_at(&h->reg, idx)->u.timer.heap_pos;
  if (pos != UVP__NONE) heap_remove(h, pos); /* a stale uv wake-up is fine */
}

void uvp__timers_free(uvp__timers *t) {
  uvp__free(t->alloc, t->heap);
  t->heap = NULL;
  t->count = t->cap = 0;
}

/* Runs one due timer taken off the heap; re-queues it if it repeats. */
static void fire(uvp_host *h, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  uvp_ctx *ctx = uvp__slot_ctx(h, s);
  if (h->metrics) {
    uvp__span_enter(h, ctx, UVP__CB_TIMER); /* O2: counts ctx->calls */
    ctx->calls++;
  }
  uvp__call_enter(ctx);
  h->running_slot = idx;
  int rc = s->cb.timer(ctx, s->user_data);
  if (uvp__call_returned(h, ctx, idx)) {
    uint32_t repeat = s->u.timer.repeat_ms;
    if (repeat == 0 || h->closing || heap_push(h, idx, repeat) < 0)
      uvp__reg_expire(h, idx); /* L10: a one-shot id is stale once fired */
  }
  uvp__call_after(ctx, rc);
}

/* Fires every timer due by the loop time that was started before the
 * round began; those its callbacks start wait for the next round. */
static void run_round(uvp_host *h) {
  uvp__timers *t = &h->timers;
  uint64_t now = uv_now(h->loop);
  uint64_t round = t->next_seq & SEQ_MASK;
  while (t->count != 0 && !h->closing) {
    uvp__heap_entry top = t->heap[0];
    if (entry_due(t, &top) > now || entry_seq(&top) >= round) break;
    heap_remove(h, 0);
    fire(h, top.slot);
  }
  uvp__span_end(h); /* O2 */
  rearm(h);
}

static void on_timer(uv_timer_t *handle) {
  run_round(container_of(handle, uvp_host, timer));
}

/* The round for on_idle (dispatch.c) while timers.on_idle is set. */
void uvp__timers_run(uvp_host *h) { run_round(h); }
