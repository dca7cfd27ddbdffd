/* Work offload: a plugin's function on the libuv thread pool, its
 * completion on the loop thread (W1-W3).
 *
 *   work_queue ──► uv_queue_work ──► pool thread: work(user_data)
 *                                       │
 *   loop thread: done(ctx, status) ◄────┘ then destroy(user_data)
 *
 * A work item is a registration like any other (same ids, same cancel),
 * except that it always ends through its completion: cancel only changes
 * the status done sees (W2). Unload waits for it (U3).
 * Thread: loop thread, except work_cb on a pool thread.
 */
#include <stdlib.h>

#include "uvp-internal.h"

struct uvp__work {
  uv_work_t req;
  uvp_host *host;
  uint32_t slot;
  bool cancelled; /* loop thread only: cancel came while it ran */
  uvp_work_fn fn;
  uvp_work_done_cb done;
  void *user_data;
};

static void work_cb(uv_work_t *req) {
  uvp__work *w = container_of(req, uvp__work, req);
  w->fn(w->user_data); /* T5: no ctx here, only the remote functions */
}

static void after_work_cb(uv_work_t *req, int status) {
  uvp__work *w = container_of(req, uvp__work, req);
  uvp_host *h = w->host;
  uint32_t idx = w->slot;
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  uvp_ctx *ctx = uvp__slot_ctx(h, s);
  int st = (status == UV_ECANCELED || w->cancelled) ? UVP_ECANCELED : 0;
  if (h->metrics) ctx->calls++;
  uvp__call_enter(ctx);
  h->running_slot = idx;
  int rc = w->done(ctx, st, w->user_data);
  free(w);
  ctx->work_pending--;
  if (uvp__call_returned(h, ctx, idx)) uvp__reg_expire(h, idx); /* W3 */
  uvp__call_after(ctx, rc);
}

int uvp__work_queue(uvp_ctx *ctx, uvp_work_fn work, uvp_work_done_cb done,
                    void *user_data, uvp_destroy_fn destroy, uvp_id *out_id) {
  uvp_host *h = ctx->host;
  uvp__work *w = calloc(1, sizeof *w);
  if (w == NULL) return UVP_ENOMEM;
  uint32_t idx;
  int rc = uvp__reg_begin(ctx, UVP__WORK, user_data, destroy, &idx);
  if (rc < 0) {
    free(w);
    return rc;
  }
  w->host = h;
  w->slot = idx;
  w->fn = work;
  w->done = done;
  w->user_data = user_data;
  if ((rc = uv_queue_work(h->loop, &w->req, work_cb, after_work_cb)) < 0) {
    uvp__reg_abort(h, idx); /* L6 */
    free(w);
    return rc;
  }
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->u.work = w;
  ctx->work_pending++;
  *out_id = uvp__id_make(idx, s->gen);
  return 0;
}

/* Cancels before it starts if libuv still can; else lets it finish and
 * reports UVP_ECANCELED (W2). Either way after_work_cb ends it. */
void uvp__work_cancel(uvp__work *w) {
  if (uv_cancel((uv_req_t *)&w->req) != 0) w->cancelled = true;
}
