/* Dispatch: the bounded event queue and its delivery to subscribers.
 *
 *   publish ──► ring (inline copy ≤ 40 B, heap copy, or owned pointer)
 *                 │ idle handle, at most `batch` events per loop turn (D5)
 *                 ▼
 *   deliver: walk the topic's subscribers as they were when the event's
 *   turn came (D3), skipping tombstones (L3), then release the payload (L8).
 *
 * Publishing only ever queues, so no subscriber runs inside publish (D2).
 * Thread: loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

void uvp__queue_init(uvp__queue *q, uint32_t max) {
  memset(q, 0, sizeof *q);
  q->max = max;
  q->alloc = &uvp__libc_allocator; /* the host sets its own */
}

/* Doubles the ring (up to the first power of two >= max), unwrapping it. */
static int queue_grow(uvp__queue *q) {
  uint32_t cap = q->cap ? q->cap * 2 : 64;
  uvp__qevent *ring = uvp__malloc(q->alloc, (size_t)cap * sizeof *ring);
  if (ring == NULL) return UVP_ENOMEM;
  for (uint32_t i = 0; i < q->count; i++)
    ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
  uvp__free(q->alloc, q->ring);
  q->ring = ring;
  q->cap = cap;
  q->head = 0;
  return 0;
}

static void on_idle(uv_idle_t *handle);

int uvp__publish(uvp_ctx *ctx, uvp_topic topic, const void *data, size_t len,
                 uvp_payload_free_fn free_fn, void *hint, bool owned) {
  uvp_host *h = ctx->host;
  uvp__queue *q = &h->queue;
  uvp__topic *tp = uvp__topic_get(&h->topics, topic);
  if (tp == NULL) return UVP_ENOENT;                  /* F5 */
  if (len > h->opts.max_payload) return UVP_EMSGSIZE; /* F4 */
  if (q->count == q->max) {
    h->queue_refused++; /* O1 */
    return UVP_EAGAIN;  /* D4 */
  }
  int rc;
  if (q->count == q->cap && (rc = queue_grow(q)) < 0) return rc;
  void *copy = NULL; /* made first: after the bus send nothing may fail */
  if (!owned && len > UVP__INLINE_MAX &&
      (copy = uvp__malloc(&h->alloc, len)) == NULL)
    return UVP_ENOMEM;
  /* X2, X3: copies to the other loops, all or none, before queuing here */
  if (tp->shared != 0 && h->bus != NULL &&
      (rc = uvp__bus_send(h, tp->shared, data, len)) < 0) {
    uvp__free(&h->alloc, copy);
    return rc;
  }

  uvp__qevent *ev = &q->ring[(q->head + q->count) & (q->cap - 1)];
  ev->topic = topic;
  ev->len = (uint32_t)len;
  if (owned) {
    ev->kind = UVP__PAY_OWNED;
    ev->u.ext.data = (void *)data;
    ev->u.ext.free_fn = free_fn;
    ev->u.ext.hint = hint;
    ev->u.ext.publisher = ctx;
    ctx->pending_owned++; /* pins the publisher's code (A10) */
  } else if (len <= UVP__INLINE_MAX) {
    ev->kind = UVP__PAY_INLINE;
    if (len != 0) memcpy(ev->u.bytes, data, len);
  } else {
    memcpy(copy, data, len);
    ev->kind = UVP__PAY_COPY;
    ev->u.ext.data = copy;
  }
  ctx->published++;
  tp->published++; /* O1 */
  if (q->count++ == 0) uvp__host_schedule(h);
  if (q->count > h->queue_high_water) h->queue_high_water = q->count;
  return 0;
}

static void payload_release(uvp_host *h, uvp__qevent *ev) {
  if (ev->kind == UVP__PAY_COPY) {
    uvp__free(&h->alloc, ev->u.ext.data);
  } else if (ev->kind == UVP__PAY_OWNED) {
    uvp_ctx *publisher = ev->u.ext.publisher;
    uvp__call_enter(publisher);
    ev->u.ext.free_fn(ev->u.ext.data, ev->len, ev->u.ext.hint);
    publisher->depth--;
    uvp__plugin_unpin(publisher);
  }
}

static bool queue_pop(uvp__queue *q, uvp__qevent *out) {
  if (q->count == 0) return false;
  *out = q->ring[q->head];
  q->head = (q->head + 1) & (q->cap - 1);
  q->count--;
  return true;
}

/* Turns a queued owned payload into a host copy (or, when closing or out
 * of memory, drops the event) so that its free_fn can run now. */
static void unown(uvp_host *h, uvp__qevent *ev) {
  void *data = ev->u.ext.data;
  if (!h->closing && ev->len <= UVP__INLINE_MAX) {
    if (ev->len != 0) memcpy(ev->u.bytes, data, ev->len);
    ev->kind = UVP__PAY_INLINE;
  } else if (!h->closing &&
             (ev->u.ext.data = uvp__malloc(&h->alloc, ev->len)) != NULL) {
    memcpy(ev->u.ext.data, data, ev->len);
    ev->kind = UVP__PAY_COPY;
  } else {
    if (!h->closing) /* out of memory: dropped, but not silently */
      uvp__log(h, ev->u.ext.publisher->name, UVP_LOG_ERROR,
               "out of memory copying an owned event (%u bytes) queued at "
               "its publisher's unload: dropped",
               (unsigned)ev->len);
    ev->topic = 0; /* no such topic: the drain skips it */
    ev->len = 0;
    ev->kind = UVP__PAY_INLINE;
  }
}

/* Runs the free_fn of every owned payload the publisher has queued, before
 * its on_unload (L8): the events are still delivered, from a copy, unless
 * the host is closing. A payload being delivered right now is left alone:
 * its release comes when its delivery ends. */
void uvp__queue_release_owned(uvp_host *h, uvp_ctx *publisher) {
  uvp__queue *q = &h->queue;
  for (uint32_t i = 0; i < q->count && publisher->pending_owned != 0; i++) {
    uvp__qevent *ev = &q->ring[(q->head + i) & (q->cap - 1)];
    if (ev->kind != UVP__PAY_OWNED || ev->u.ext.publisher != publisher)
      continue;
    void *data = ev->u.ext.data;
    uvp_payload_free_fn free_fn = ev->u.ext.free_fn;
    void *hint = ev->u.ext.hint;
    size_t len = ev->len;
    unown(h, ev);
    uvp__call_enter(publisher);
    free_fn(data, len, hint);
    publisher->depth--;
    publisher->pending_owned--;
  }
}

void uvp__queue_drop_all(uvp_host *h) {
  uvp__qevent ev;
  while (queue_pop(&h->queue, &ev)) payload_release(h, &ev);
  uvp__free(&h->alloc, h->queue.ring);
  uvp__queue_init(&h->queue, h->queue.max);
  h->queue.alloc = &h->alloc;
}

/* Ends a run of deliveries to one plugin (see uvp__deliver). */
static inline void end_run(uvp_host *h, uvp__topic *tp, uvp_ctx *ctx,
                           uint64_t calls) {
  if (ctx == NULL) return;
  ctx->depth--;
  if (h->metrics) {
    ctx->calls += calls;
    ctx->events += calls;
    tp->delivered += calls; /* O1; the span counts ctx->calls (O2) */
  }
}

/* Calls every subscriber of topic with the event; also used for remote
 * publishes, which arrive on the loop thread already. */
int uvp__deliver(uvp_host *h, uvp_topic topic, const void *data, size_t len) {
  uvp__topic *tp = uvp__topic_get(&h->topics, topic);
  if (tp == NULL) return UVP_ENOENT;
  uvp_event e = {
      .size = sizeof e,
      .topic = topic,
      .topic_name = tp->name,
      .topic_name_len = tp->name_len,
      .data = len != 0 ? data : NULL,
      .len = len,
  };
  uint32_t n = tp->nsubs; /* D3: later subscribers start with the next */
  /* Consecutive deliveries to one plugin form a run: its depth (S3) is
   * raised once and its counters added up once, because a chain of
   * read-modify-writes on the ctx around every call costs more than the
   * call itself. A run ends before any other code may run. */
  uvp_ctx *run = NULL;
  uint64_t run_calls = 0;
  tp->dispatching++;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t idx = tp->subs[i];     /* re-read: callbacks may grow the list */
    if (idx == UVP__NONE) continue; /* L3: cancelled during this round */
    uvp__slot *s = uvp__registry_at(&h->reg, idx);
    uvp_ctx *ctx = uvp__slot_ctx(h, s);
    if (ctx != run) {
      end_run(h, tp, run, run_calls);
      run = ctx;
      run_calls = 0;
      ctx->depth++;
      if (h->metrics) uvp__span_enter(h, ctx, UVP__CB_EVENT); /* O2 */
    }
    run_calls++;
    h->running_slot = idx;
    int rc = s->cb.event(ctx, &e, s->user_data);
    h->running_slot = UVP__NONE;
    /* S4 comes as the HALT flag, so the common case tests no more than
     * before: the host's closing flag is read only in this branch. */
    if ((s->flags & (UVP__SLOT_CANCELLED | UVP__SLOT_HALT)) || rc != 0 ||
        ctx->unload_pending) {
      end_run(h, tp, run, run_calls);
      run = NULL;
      if (s->flags & UVP__SLOT_CANCELLED) uvp__reg_finish(h, idx); /* L2 */
      uvp__call_after(ctx, rc);
      if (h->closing) break; /* S4: the rest of the fan-out is skipped */
    }
  }
  end_run(h, tp, run, run_calls);
  tp->dispatching--;
  if (tp->ndead != 0) uvp__topic_compact(&h->topics, &h->reg, topic);
  return 0;
}

static void drain(uvp_host *h) {
  uvp__qevent ev;
  for (uint32_t n = 0; n < h->opts.batch && !h->closing; n++) {
    if (!queue_pop(&h->queue, &ev)) break;
    uvp__deliver(h, ev.topic,
                 ev.kind == UVP__PAY_INLINE ? ev.u.bytes : ev.u.ext.data,
                 ev.len);
    payload_release(h, &ev);
  }
  uvp__span_end(h); /* O2: a batch is at most one span per plugin run */
  if (h->queue.count == 0 && !h->closing && !h->unloads_due &&
      !h->timers.on_idle &&           /* a due timer round (timer.c) */
      h->work_cancelled.head == NULL) /* W5: cancelled by a callback here */
    uv_idle_stop(&h->idle);
}

/* Runs on_idle on the next loop turns: to drain, or to tear down. */
void uvp__host_schedule(uvp_host *h) { uv_idle_start(&h->idle, on_idle); }

static void on_idle(uv_idle_t *handle) {
  uvp_host *h = container_of(handle, uvp_host, idle);
  if (h->closing) {
    uvp__host_teardown(h);
    return;
  }
  if (h->work_cancelled.head != NULL) uvp__work_flush(h); /* W5 */
  if (h->unloads_due) uvp__plugin_unload_due(h);
  if (h->timers.on_idle) uvp__timers_run(h); /* libuv#4245: see timer.c */
  drain(h);
}
