/* Timers: every plugin timer of a host in one binary min-heap, driving a
 * single uv_timer_t.
 *
 * A uv_timer_t per plugin timer costs a handle (~150 bytes) and a libuv
 * heap node each; here a timer is a 40-byte slot plus a 16-byte heap entry
 * ordered by (due, start sequence), which also gives FIFO among timers due
 * at the same time (D6). Timers started while due timers run wait for the
 * next round, so a 0 ms timer re-arming itself cannot spin the loop.
 * Thread: loop thread only.
 */
#include <stdlib.h>

#include "uvp-internal.h"

static bool before(const uvp__heap_entry *a, const uvp__heap_entry *b) {
  if (a->due != b->due) return a->due < b->due;
  return (int32_t)(a->seq - b->seq) < 0; /* sequence numbers wrap */
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

static int heap_push(uvp_host *h, uint32_t slot, uint64_t due) {
  uvp__timers *t = &h->timers;
  if (t->count == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    uvp__heap_entry *heap = realloc(t->heap, (size_t)cap * sizeof *heap);
    if (heap == NULL) return UVP_ENOMEM;
    t->heap = heap;
    t->cap = cap;
  }
  t->heap[t->count] =
      (uvp__heap_entry){.due = due, .seq = t->next_seq++, .slot = slot};
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

/* Points the shared uv_timer_t at the earliest due timer. */
static void rearm(uvp_host *h) {
  if (h->timers.count == 0 || h->closing) {
    uv_timer_stop(&h->timer);
    return;
  }
  uint64_t now = uv_now(h->loop), due = h->timers.heap[0].due;
  uv_timer_start(&h->timer, on_timer, due > now ? due - now : 0, 0);
}

int uvp__timer_start(uvp_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms,
                     uvp_timer_cb cb, void *user_data, uvp_destroy_fn destroy,
                     uvp_id *out_id) {
  uvp_host *h = ctx->host;
  uint64_t now = uv_now(h->loop);
  if (timeout_ms > UINT64_MAX - now) timeout_ms = UINT64_MAX - now;
  uint32_t idx;
  int rc = uvp__reg_begin(ctx, UVP__TIMER, user_data, destroy, &idx);
  if (rc < 0) return rc;
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->cb.timer = cb;
  s->u.timer.repeat_ms = (uint32_t)repeat_ms;
  s->u.timer.heap_pos = UVP__NONE;
  if ((rc = heap_push(h, idx, now + timeout_ms)) < 0) {
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
  free(t->heap);
  t->heap = NULL;
  t->count = t->cap = 0;
}

/* Runs one due timer taken off the heap; re-queues it if it repeats. */
static void fire(uvp_host *h, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  uvp_ctx *ctx = uvp__slot_ctx(h, s);
  if (h->metrics) ctx->calls++;
  uvp__call_enter(ctx);
  h->running_slot = idx;
  int rc = s->cb.timer(ctx, s->user_data);
  if (uvp__call_returned(h, ctx, idx)) {
    uint32_t repeat = s->u.timer.repeat_ms;
    if (repeat == 0 || h->closing ||
        heap_push(h, idx, uv_now(h->loop) + repeat) < 0)
      uvp__reg_expire(h, idx); /* L10: a one-shot id is stale once fired */
  }
  uvp__call_after(ctx, rc);
}

static void on_timer(uv_timer_t *handle) {
  uvp_host *h = container_of(handle, uvp_host, timer);
  uvp__timers *t = &h->timers;
  uint64_t now = uv_now(h->loop);
  uint32_t round = t->next_seq; /* timers started from now on wait */
  while (t->count != 0 && !h->closing) {
    uvp__heap_entry top = t->heap[0];
    if (top.due > now || (int32_t)(top.seq - round) >= 0) break;
    heap_remove(h, 0);
    fire(h, top.slot);
  }
  rearm(h);
}
