/* Services: typed function tables a plugin exports and others import and
 * call directly (contract V1-V7).
 *
 *   export ──► record (name, version, fns, instance) + a slot of the
 *              provider's (UVP__SVC); cancel or unload withdraws it
 *   import ──► a slot of the importer's (UVP__SVCREF) pointing at the
 *              record; record->refs counts them
 *   call   ──► ref slot (generation) ─► record (revoked? fn < count?)
 *              ─► provider idle? ─► fns[fn](instance, args)
 *   revoke ──► every reference's revoke callback, once (V5); the record
 *              and the provider's slot outlive it until the last
 *              reference is dropped, then the export's destroy (V6)
 *
 * The call is the fast path: no allocation, lock or clock read, one
 * lookup of the slot and of the record it points to. It is inline in
 * api.c's entry (uvp__service_call in uvp-internal.h): with the thread
 * check that makes one frame between the caller and the provider.
 * Thread: loop thread only.
 */
#include <stdio.h>
#include <string.h>

#include "uvp-internal.h"

/* V1: 1..UVP_TOPIC_MAX bytes of [A-Za-z0-9_.-]. */
static int name_check(const char *name, size_t *out_len) {
  if (name == NULL) return UVP_EINVAL;
  size_t len = strnlen(name, UVP_TOPIC_MAX + 1);
  if (len == 0 || len > UVP_TOPIC_MAX) return UVP_EINVAL;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return UVP_EINVAL;
  }
  *out_len = len;
  return 0;
}

/* The export a new import or export of name meets: not revoked, and not
 * of an instance a reload replaces (V7: the new one takes the name). */
static uvp__svc *find(uvp_host *h, const char *name) {
  for (uint32_t i = 0; i < h->nsvcs; i++) {
    uvp__svc *e = h->svcs[i];
    if (!e->revoked && !e->provider->retiring && strcmp(e->name, name) == 0)
      return e;
  }
  return NULL;
}

static int desc_check(const uvp_service_export *d, size_t *out_len) {
  if (d->size < sizeof(uvp_service_export) || d->fns == NULL || d->count == 0)
    return UVP_EINVAL;
  for (uint32_t i = 0; i < d->count; i++)
    if (d->fns[i] == NULL) return UVP_EINVAL;
  return name_check(d->name, out_len);
}

static int list_add(uvp_host *h, uvp__svc *e) {
  uvp__svc **svcs =
      uvp__realloc(&h->alloc, h->svcs, (h->nsvcs + 1) * sizeof *svcs);
  if (svcs == NULL) return UVP_ENOMEM;
  h->svcs = svcs;
  h->svcs[h->nsvcs++] = e;
  return 0;
}

static void list_remove(uvp_host *h, uvp__svc *e) {
  for (uint32_t i = 0; i < h->nsvcs; i++) {
    if (h->svcs[i] != e) continue;
    h->svcs[i] = h->svcs[--h->nsvcs];
    return;
  }
}

int uvp__service_export(uvp_ctx *ctx, const uvp_service_export *desc,
                        uvp_id *out_id) {
  uvp_host *h = ctx->host;
  size_t len;
  int rc = desc_check(desc, &len);
  if (rc < 0) return rc;
  if (ctx->index == 0) return UVP_EINVAL; /* V1: plugins export */
  if (find(h, desc->name) != NULL) return UVP_ESVCDUP;
  uvp__svc *e = uvp__calloc(&h->alloc, 1, sizeof *e + len + 1);
  if (e == NULL) return UVP_ENOMEM;
  memcpy(e->name, desc->name, len);
  e->fns = desc->fns;
  e->instance = desc->instance;
  e->provider = ctx;
  e->count = e->callable = desc->count;
  e->major = desc->major;
  e->minor = desc->minor;
  uint32_t idx;
  if ((rc = list_add(h, e)) < 0 ||
      (rc = uvp__reg_begin(ctx, UVP__SVC, desc->instance, desc->destroy,
                           &idx)) < 0) {
    list_remove(h, e);
    uvp__free(&h->alloc, e);
    return rc; /* L6: destroy not called */
  }
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->u.svc = e;
  e->slot = idx;
  *out_id = uvp__id_make(idx, s->gen);
  return 0;
}

int uvp__service_import(uvp_ctx *ctx, const uvp_service_import *req,
                        uvp_id *out_ref) {
  uvp_host *h = ctx->host;
  size_t len;
  if (req->size < sizeof(uvp_service_import) || req->revoke == NULL ||
      name_check(req->name, &len) < 0)
    return UVP_EINVAL;
  uvp__svc *e = find(h, req->name);
  if (e == NULL) return UVP_ENOENT;
  if (e->provider == ctx) return UVP_EINVAL; /* V2: never its own */
  if (e->major != req->major) return UVP_ESVCMAJOR;
  if (e->minor < req->min_minor) return UVP_ESVCMINOR;
  uint32_t idx;
  int rc = uvp__reg_begin(ctx, UVP__SVCREF, req->user_data, req->destroy, &idx);
  if (rc < 0) return rc;
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->cb.revoke = req->revoke;
  s->u.svc = e;
  e->refs++;
  *out_ref = uvp__id_make(idx, s->gen);
  return 0;
}

int uvp__service_info(uvp_ctx *ctx, uvp_id ref, uvp_service_info *out) {
  if (out == NULL || !uvp__service_info_size_ok(out->size)) return UVP_EINVAL;
  uvp_host *h = ctx->host;
  uint32_t idx;
  if (uvp__registry_lookup(&h->reg, ref, ctx->index, &idx) < 0)
    return UVP_ESTALE;
  const uvp__slot *s = uvp__registry_at(&h->reg, idx);
  if (s->kind != UVP__SVCREF) return UVP_ESTALE;
  const uvp__svc *e = s->u.svc;
  uvp_service_info info = {
      .size = out->size,
      .major = e->major,
      .minor = e->minor,
      .count = e->count,
      .revoked = e->revoked,
      .provider = e->provider->name,
  };
  memcpy(out, &info, out->size < sizeof info ? out->size : sizeof info);
  return 0;
}

/* ---- V6: the grace warning ------------------------------------------- */

static void on_grace(uv_timer_t *timer);

static void grace_rearm(uvp_host *h) {
  uint64_t due = 0;
  for (uint32_t i = 0; i < h->nsvcs; i++) {
    const uvp__svc *e = h->svcs[i];
    if (e->grace_due != 0 && e->refs != 0 && (due == 0 || e->grace_due < due))
      due = e->grace_due;
  }
  if (due == 0) {
    if (h->svc_timer_open) uv_timer_stop(&h->svc_timer);
    return;
  }
  if (!h->svc_timer_open) {
    uv_timer_init(h->loop, &h->svc_timer);
    h->svc_timer_open = true;
    h->handles_open++;
  }
  uint64_t now = uv_now(h->loop);
  uv_timer_start(&h->svc_timer, on_grace, due > now ? due - now : 0, 0);
}

/* Appends the names of the instances holding references to e, each once. */
static void holders(uvp_host *h, const uvp__svc *e, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (uint32_t idx = 0; idx < h->reg.used; idx++) {
    const uvp__slot *s = uvp__registry_at(&h->reg, idx);
    if (s->kind != UVP__SVCREF || s->u.svc != e) continue;
    const char *name = uvp__slot_ctx(h, s)->name;
    bool seen = false;
    for (uint32_t j = 0; j < idx && !seen; j++) {
      const uvp__slot *t = uvp__registry_at(&h->reg, j);
      seen = t->kind == UVP__SVCREF && t->u.svc == e && t->owner == s->owner;
    }
    if (seen) continue;
    int w = snprintf(buf + n, cap - n, "%s'%s'", n ? ", " : "", name);
    if (w < 0 || (size_t)w >= cap - n) return; /* truncated: enough said */
    n += (size_t)w;
  }
}

static void warn(uvp_host *h, const uvp__svc *e) {
  char who[256];
  holders(h, e, who, sizeof who);
  uvp__log(h, e->provider->name, UVP_LOG_WARN,
           "service '%s' was withdrawn %u ms ago and %u reference(s) are "
           "still held by %s: the unload waits until they are dropped",
           e->name, (unsigned)h->opts.service_grace_ms, (unsigned)e->refs, who);
}

static void on_grace(uv_timer_t *timer) {
  uvp_host *h = container_of(timer, uvp_host, svc_timer);
  uint64_t now = uv_now(h->loop);
  for (uint32_t i = 0; i < h->nsvcs; i++) {
    uvp__svc *e = h->svcs[i];
    if (e->grace_due == 0 || e->refs == 0 || e->grace_due > now) continue;
    e->grace_due = 0; /* one line per revoke */
    warn(h, e);
  }
  grace_rearm(h);
}

/* ---- V5: revoke ------------------------------------------------------- */

/* Tells every reference to e, once. A callback may drop its reference,
 * import another service or unload its plugin (which then waits for the
 * next loop turn, S3): the walk re-reads the table each step. e itself
 * stays: its slot is not retired before this returns. */
static void revoke(uvp_host *h, uvp__svc *e, int reason) {
  if (e->revoked) return;
  e->revoked = true;
  e->callable = 0; /* V5: calls stale from now on */
  for (uint32_t idx = 0; idx < h->reg.used && e->refs != 0; idx++) {
    uvp__slot *s = uvp__registry_at(&h->reg, idx);
    if (s->kind != UVP__SVCREF || s->u.svc != e ||
        (s->flags & UVP__SLOT_REVOKED))
      continue;
    s->flags |= UVP__SLOT_REVOKED;
    uvp_ctx *importer = uvp__slot_ctx(h, s);
    uvp__call_enter(importer);
    s->cb.revoke(importer, uvp__id_make(idx, s->gen), reason, s->user_data);
    importer->depth--;
  }
  if (e->refs == 0) return;
  uv_update_time(h->loop); /* the grace counts from now, as W6's bound */
  e->grace_due = uv_now(h->loop) + h->opts.service_grace_ms;
  grace_rearm(h);
}

void uvp__service_revoke_all(uvp_ctx *provider, int reason) {
  uvp_host *h = provider->host;
  /* From the start each time: a revoke callback may drop the last
   * reference of an export withdrawn earlier, which leaves the list. */
  for (uint32_t i = 0; i < h->nsvcs;) {
    uvp__svc *e = h->svcs[i];
    if (e->provider != provider || e->revoked) {
      i++;
      continue;
    }
    revoke(h, e, reason);
    i = 0;
  }
}

/* The last step of an export: its record goes, then its slot and the
 * instance's destroy (L1, V6); a draining provider may finish now. */
static void release(uvp_host *h, uvp__svc *e) {
  if (!e->cancelled || e->refs != 0) return;
  uvp_ctx *p = e->provider;
  uint32_t idx = e->slot;
  bool was_due = e->grace_due != 0;
  list_remove(h, e);
  uvp__free(&h->alloc, e);
  if (was_due) grace_rearm(h); /* its timer must not hold the loop */
  uvp__reg_finish(h, idx);
  if (p->state == UVP__DRAINING) uvp__plugin_poll(p); /* may free p */
}

/* The export's slot was retired (cancel, unload, quarantine, close). */
void uvp__service_withdraw(uvp_host *h, uvp__svc *e) {
  revoke(h, e, UVP_ECLOSED); /* unloads and quarantines revoked already */
  e->cancelled = true;
  release(h, e);
}

/* A reference's slot was finished (its importer's destroy ran). */
void uvp__service_unref(uvp_host *h, uvp__svc *e) {
  assert(e->refs > 0);
  e->refs--;
  release(h, e);
}

void uvp__services_free(uvp_host *h) {
  assert(h->nsvcs == 0); /* every provider is DEAD */
  uvp__free(&h->alloc, h->svcs);
  h->svcs = NULL;
}
