/* Registration lifetime, shared by subscriptions, timers, fd watches, work,
 * service exports and references.
 *
 *   begin ──► live ──cancel──► retired (id stale at once, L4)
 *                                 │ callback running? finish after it (L2)
 *                                 ▼
 *                              finish: slot freed, then destroy() (L1)
 *
 * destroy runs after the slot is back on the free list, so a destroy that
 * cancels or registers more sees a consistent table.
 * Thread: loop thread only.
 */
#include "uvp-internal.h"

int uvp__reg_begin(uvp_ctx *ctx, int kind, void *user_data,
                   uvp_destroy_fn destroy, uint32_t *out_idx) {
  uvp_host *h = ctx->host;
  uint32_t idx;
  int rc = uvp__registry_alloc(&h->reg, &idx);
  if (rc < 0) return rc;
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->user_data = user_data;
  s->destroy = destroy;
  s->owner = ctx->index;
  s->kind = (uint8_t)kind;
  h->by_kind[kind]++; /* O1 */
  ctx->registrations++;
  *out_idx = idx;
  return 0;
}

/* Makes every id of the slot stale (L4). A slot retired to the last
 * generation is never handed out again (registry_release), so the
 * generation never wraps back to an id once issued. */
static void retire(uvp__slot *s) {
  assert(s->gen < UVP__GEN_LAST);
  s->gen++;
}

/* Undoes a begin whose registration failed later: no destroy (L6). */
void uvp__reg_abort(uvp_host *h, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  uvp_ctx *ctx = uvp__slot_ctx(h, s);
  retire(s);
  h->by_kind[s->kind]--;
  uvp__registry_release(&h->reg, idx);
  ctx->registrations--;
}

void uvp__reg_finish(uvp_host *h, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  uvp_ctx *ctx = uvp__slot_ctx(h, s);
  uvp_destroy_fn destroy = s->destroy;
  void *user_data = s->user_data;
  h->by_kind[s->kind]--;
  uvp__registry_release(&h->reg, idx);
  ctx->registrations--;
  if (destroy != NULL) {
    uvp__call_enter(ctx);
    destroy(user_data);
    ctx->depth--;
  }
}

/* Ends a registration that ran its course (a one-shot timer that fired). */
void uvp__reg_expire(uvp_host *h, uint32_t idx) {
  retire(uvp__registry_at(&h->reg, idx));
  uvp__reg_finish(h, idx);
}

void uvp__reg_cancel(uvp_host *h, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  assert(s->kind != UVP__FREE && !(s->flags & UVP__SLOT_CANCELLED));
  switch (s->kind) {
    case UVP__SUB:
      uvp__topic_remove_sub(&h->topics, s->u.sub.topic, s->u.sub.pos);
      uvp__topic_compact(&h->topics, &h->reg, s->u.sub.topic);
      break;
    case UVP__TIMER:
      uvp__timer_remove(h, idx);
      break;
    case UVP__FD:
      uvp__fd_stop(s->u.fd);
      s->u.fd = NULL;
      break;
    case UVP__WORK: /* always ends through its completion (W2) */
      uvp__work_cancel(s->u.work);
      retire(s);
      s->flags |= UVP__SLOT_CANCELLED;
      return;
    case UVP__SVC: /* ends with its last reference (V6) */
      retire(s);
      s->flags |= UVP__SLOT_CANCELLED;
      uvp__service_withdraw(h, s->u.svc);
      return;
    case UVP__SVCREF: { /* no callback of its own runs: ends now */
      uvp__svc *e = s->u.svc;
      retire(s);
      uvp__reg_finish(h, idx);
      uvp__service_unref(h, e);
      return;
    }
  }
  retire(s);
  if (h->running_slot == idx) {
    s->flags |= UVP__SLOT_CANCELLED; /* finished by uvp__call_returned */
    return;
  }
  uvp__reg_finish(h, idx);
}

void uvp__reg_cancel_all(uvp_host *h, uvp_ctx *owner) {
  for (uint32_t idx = 0; idx < h->reg.used && owner->registrations; idx++) {
    uvp__slot *s = uvp__registry_at(&h->reg, idx);
    if (s->kind != UVP__FREE && s->owner == owner->index &&
        !(s->flags & UVP__SLOT_CANCELLED))
      uvp__reg_cancel(h, idx);
  }
}

/* After a slot's callback returned: finishes a cancel made during it (L2).
 * Returns whether the registration is still live. */
bool uvp__call_returned(uvp_host *h, uvp_ctx *ctx, uint32_t idx) {
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  ctx->depth--;
  h->running_slot = UVP__NONE;
  if (!(s->flags & UVP__SLOT_CANCELLED)) return true;
  uvp__reg_finish(h, idx);
  return false;
}

/* Last step of every call into plugin code: count a failure (F1, F2), then
 * start an unload requested while the plugin's code ran (S3) or let a
 * draining plugin go on (U3). ctx may be freed when this returns. */
void uvp__call_after(uvp_ctx *ctx, int rc) {
  if (rc != 0) uvp__plugin_fault(ctx, rc); /* never frees ctx */
  if (ctx->depth != 0) return;
  if (ctx->quarantine_due) uvp__plugin_quarantine_due(ctx); /* F7 */
  if (ctx->unload_pending) {
    ctx->unload_pending = false;
    uvp__plugin_begin_unload(ctx);
  } else if (ctx->state == UVP__DRAINING) {
    uvp__plugin_poll(ctx);
  }
}
