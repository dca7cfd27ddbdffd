/* Work offload: a plugin's function on the libuv thread pool, its
 * completion on the loop thread (W1-W6).
 *
 *   work_queue ─► under the bounds? ─yes─► uv_queue_work ─► pool thread:
 *                      │ no                    ▲             work(user_data)
 *                      ▼                       │ a running item      │
 *                 host FIFO (waiting) ─────────┘ finished (pump)     │
 *                                                                    ▼
 *   loop thread: done(ctx, status), then destroy(user_data) ◄────────┘
 *
 * libuv's pool is process-global (4 threads by default): the bounds
 * (work_concurrency per host, work_limit per plugin) keep plugins from
 * taking every thread the embedder's own filesystem and DNS requests need
 * (T4, W4).
 *
 * A work item is a registration like any other (same ids, same cancel),
 * except that it always ends through its completion: cancel only changes
 * the status done sees (W2). A waiting item cancelled never reaches the
 * pool; its done runs on the next idle turn, never inside cancel (W5).
 * Unload and close wait for running items (U3), at most work_drain_ms:
 * then they are abandoned (W6): the slot is released without done or
 * destroy, the plugin's object stays mapped, and the item is kept apart,
 * owned by no one but libuv, until its work function returns.
 * Thread: loop thread, except work_cb on a pool thread.
 */
#include <stdlib.h>

#include "uvp-internal.h"

enum work_state {
  W_WAITING,   /* in h->work_waiting, not on the pool yet */
  W_RUNNING,   /* handed to uv_queue_work */
  W_CANCELLED, /* cancelled while waiting: in h->work_cancelled */
  W_DONE,      /* its done runs now */
  W_ABANDONED, /* in h->work_abandoned, or owned by libuv alone */
};

struct uvp__work {
  uv_work_t req;
  uvp_host *host; /* NULL once abandoned by a host that has gone */
  uvp_ctx *ctx;
  uvp__work *prev, *next; /* links of the one list it is on */
  uint32_t slot;
  uint8_t state;  /* enum work_state */
  bool cancelled; /* cancel came while it ran */
  uvp_work_fn fn;
  uvp_work_done_cb done;
  void *user_data;
  /* The host's free and its data: an abandoned record outlives the host
   * (W6) and is freed without it. */
  void (*free)(void *data, void *ptr);
  void *free_data;
};

static void work_free(uvp__work *w) { w->free(w->free_data, w); }

static void list_push(uvp__work_list *l, uvp__work *w) {
  w->next = NULL;
  w->prev = l->tail;
  if (l->tail != NULL)
    l->tail->next = w;
  else
    l->head = w;
  l->tail = w;
  l->count++;
}

static void list_remove(uvp__work_list *l, uvp__work *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    l->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    l->tail = w->prev;
  w->prev = w->next = NULL;
  l->count--;
}

/* A plugin's own bound; more than the host's would mean nothing. */
static uint32_t limit(const uvp_ctx *ctx) {
  uint32_t n = ctx->host->opts.work_concurrency;
  return ctx->work_limit != 0 && ctx->work_limit < n ? ctx->work_limit : n;
}

static bool can_run(const uvp_host *h, const uvp_ctx *ctx) {
  return h->work_running < h->opts.work_concurrency &&
         ctx->work_running < limit(ctx);
}

static void work_cb(uv_work_t *req) {
  uvp__work *w = container_of(req, uvp__work, req);
  w->fn(w->user_data); /* T5: no ctx here, only the remote functions */
}

static void after_work_cb(uv_work_t *req, int status);

/* uv_queue_work fails only for a NULL work_cb, and ours never is: still,
 * no raw libuv code may leave the API. */
static int submit(uvp_host *h, uvp__work *w) {
  int rc = uv_queue_work(h->loop, &w->req, work_cb, after_work_cb);
  if (rc < 0) return uvp__status_from_uv(rc);
  w->state = W_RUNNING;
  h->work_running++;
  w->ctx->work_running++;
  return 0;
}

/* Its done runs on the next idle turn (W5), or in the teardown. */
static void defer_cancelled(uvp_host *h, uvp__work *w) {
  w->state = W_CANCELLED;
  list_push(&h->work_cancelled, w);
  if (!h->closing) uvp__host_schedule(h); /* closing: the teardown flushes */
}

/* Hands waiting items to the pool while the bounds allow, in FIFO order;
 * an item whose plugin is at its own limit lets later ones pass. */
static void pump(uvp_host *h) {
  uvp__work *next;
  for (uvp__work *w = h->work_waiting.head;
       w != NULL && h->work_running < h->opts.work_concurrency; w = next) {
    next = w->next;
    if (w->ctx->work_running >= limit(w->ctx)) continue;
    list_remove(&h->work_waiting, w);
    int rc = submit(h, w);
    if (rc < 0) {
      uvp__log(h, w->ctx->name, UVP_LOG_ERROR,
               "work item could not be queued: %s; done gets UVP_ECANCELED",
               uvp_err_name(rc));
      defer_cancelled(h, w);
    }
  }
}

/* done, then destroy (W1); the id goes stale (W3). */
static void complete(uvp__work *w, int status) {
  uvp_host *h = w->host;
  uvp_ctx *ctx = w->ctx;
  uint32_t idx = w->slot;
  w->state = W_DONE;
  if (h->metrics) ctx->calls++;
  uvp__call_enter(ctx);
  h->running_slot = idx;
  uint64_t t0 = uvp__time_begin(h); /* O2 */
  int rc = w->done(ctx, status, w->user_data);
  uvp__time_end(h, ctx, UVP__CB_WORK, t0);
  work_free(w);
  ctx->work_pending--;
  if (uvp__call_returned(h, ctx, idx)) uvp__reg_expire(h, idx); /* W3 */
  uvp__call_after(ctx, rc);
}

/* An abandoned item's work function returned: only the record is left to
 * free, and the pool thread it held is free again (W6). */
static void forget(uvp__work *w) {
  uvp_host *h = w->host;
  if (h != NULL) {
    list_remove(&h->work_abandoned, w);
    h->work_running--;
    pump(h);
  }
  work_free(w);
}

static void after_work_cb(uv_work_t *req, int status) {
  uvp__work *w = container_of(req, uvp__work, req);
  if (w->state == W_ABANDONED) {
    forget(w);
    return;
  }
  uvp_host *h = w->host;
  if (--w->ctx->work_running == 0) w->ctx->work_deadline = 0;
  h->work_running--;
  pump(h);
  /* S4: once close was called, done only hears that it was cancelled */
  bool cancelled = status == UV_ECANCELED || w->cancelled || h->closing;
  complete(w, cancelled ? UVP_ECANCELED : 0);
  if (h->closing) uvp__host_close_continue(h); /* S2: the embedder's too */
}

int uvp__work_queue(uvp_ctx *ctx, uvp_work_fn work, uvp_work_done_cb done,
                    void *user_data, uvp_destroy_fn destroy, uvp_id *out_id) {
  uvp_host *h = ctx->host;
  uvp__work *w = uvp__calloc(&h->alloc, 1, sizeof *w);
  if (w == NULL) return UVP_ENOMEM;
  w->free = h->alloc.free;
  w->free_data = h->alloc.data;
  uint32_t idx;
  int rc = uvp__reg_begin(ctx, UVP__WORK, user_data, destroy, &idx);
  if (rc < 0) {
    work_free(w);
    return rc;
  }
  w->host = h;
  w->ctx = ctx;
  w->slot = idx;
  w->fn = work;
  w->done = done;
  w->user_data = user_data;
  if (!can_run(h, ctx)) {
    w->state = W_WAITING; /* W4: the pool gets it when a running one ends */
    list_push(&h->work_waiting, w);
  } else if ((rc = submit(h, w)) < 0) {
    uvp__reg_abort(h, idx); /* L6 */
    work_free(w);
    return rc;
  }
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->u.work = w;
  ctx->work_pending++;
  *out_id = uvp__id_make(idx, s->gen);
  return 0;
}

/* Waiting: never runs, done on a later turn (W5). Running: cancelled
 * before it starts if libuv still can, else it finishes; either way done
 * gets UVP_ECANCELED (W2). */
void uvp__work_cancel(uvp__work *w) {
  uvp_host *h = w->host;
  if (w->state == W_WAITING) {
    list_remove(&h->work_waiting, w);
    defer_cancelled(h, w);
  } else if (w->state == W_RUNNING) {
    if (uv_cancel((uv_req_t *)&w->req) != 0) w->cancelled = true;
  } /* W_DONE: its done is running, with its status already decided */
}

/* Runs the done of items cancelled while waiting, those cancelled before
 * this call: a done that cancels more leaves them for the next call. */
void uvp__work_flush(uvp_host *h) {
  uvp__work *w = h->work_cancelled.head;
  h->work_cancelled = (uvp__work_list){0};
  while (w != NULL) {
    uvp__work *next = w->next;
    complete(w, UVP_ECANCELED);
    w = next;
  }
}

/* Gives up on ctx's running items (W6). */
static void abandon(uvp_host *h, uvp_ctx *ctx) {
  uint32_t n = 0;
  for (uint32_t idx = 0; idx < h->reg.used && ctx->work_running != 0; idx++) {
    uvp__slot *s = uvp__registry_at(&h->reg, idx);
    if (s->kind != UVP__WORK || s->owner != ctx->index ||
        s->u.work->state != W_RUNNING)
      continue;
    uvp__work *w = s->u.work;
    w->state = W_ABANDONED;
    list_push(&h->work_abandoned, w); /* still counted in h->work_running */
    ctx->work_running--;
    ctx->work_pending--;
    uvp__reg_abort(h, idx); /* no done, no destroy: work may use user_data */
    n++;
  }
  ctx->work_deadline = 0;
  ctx->keep_mapped = true; /* the abandoned work functions still run */
  uvp__log(h, ctx->name, UVP_LOG_ERROR,
           "%u work item(s) still running after %u ms: abandoned (their done "
           "and destroy never run; the object stays mapped)",
           (unsigned)n, (unsigned)h->opts.work_drain_ms);
  if (ctx->index == 0)
    uvp__host_close_continue(h);
  else
    uvp__plugin_poll(ctx); /* may free ctx */
}

static void on_drain_timer(uv_timer_t *timer);

/* Arms the timer for the earliest deadline of a ctx still waiting. */
static void rearm(uvp_host *h) {
  uint64_t due = 0;
  for (uint32_t i = 0; i < h->nctxs; i++) {
    uvp_ctx *ctx = h->ctxs[i];
    if (ctx != NULL && ctx->work_deadline != 0 && ctx->work_running != 0 &&
        (due == 0 || ctx->work_deadline < due))
      due = ctx->work_deadline;
  }
  if (due == 0) {
    uv_timer_stop(&h->work_timer);
    return;
  }
  uint64_t now = uv_now(h->loop);
  uv_timer_start(&h->work_timer, on_drain_timer, due > now ? due - now : 0, 0);
}

static void on_drain_timer(uv_timer_t *timer) {
  uvp_host *h = container_of(timer, uvp_host, work_timer);
  uint64_t now = uv_now(h->loop);
  /* Indexed: an abandon may unload a plugin, and close the host. */
  for (uint32_t i = 0; i < h->nctxs && !h->finishing; i++) {
    uvp_ctx *ctx = h->ctxs[i];
    if (ctx != NULL && ctx->work_deadline != 0 && ctx->work_running != 0 &&
        ctx->work_deadline <= now)
      abandon(h, ctx);
  }
  if (!h->finishing) rearm(h);
}

void uvp__work_drain_start(uvp_ctx *ctx) {
  uvp_host *h = ctx->host;
  if (ctx->work_running == 0 || ctx->work_deadline != 0) return;
  if (!h->work_timer_open) {
    uv_timer_init(h->loop, &h->work_timer);
    uv_unref((uv_handle_t *)&h->work_timer); /* the work keeps uv_run alive */
    h->work_timer_open = true;
    h->handles_open++;
  }
  /* W6: the bound counts from now. The loop's cached time may be far
   * behind (a long on_init, or a callback that held the loop before
   * asking for the unload): without the update an item that already
   * finished, its done still unseen, was abandoned on the next turn. */
  uv_update_time(h->loop);
  ctx->work_deadline = uv_now(h->loop) + h->opts.work_drain_ms;
  rearm(h);
}

void uvp__work_disown(uvp_host *h) {
  assert(h->work_waiting.count == 0 && h->work_cancelled.count == 0);
  for (uvp__work *w = h->work_abandoned.head; w != NULL; w = w->next)
    w->host = NULL; /* after_work_cb frees it alone */
  h->work_abandoned = (uvp__work_list){0};
}
