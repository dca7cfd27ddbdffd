/* Plugin instances: load, the unload state machine, faults.
 *
 *   load:   loader_open ─► ctx ─► on_init ─► on_start ─► RUNNING
 *   unload: STOPPING (registrations refused) ─► on_stop ─► cancel all
 *           (every destroy runs) ─► on_unload ─► DEAD ─► dlclose once no
 *           owned payload it published is pending (S1, A10)
 *
 * An unload asked for while the plugin's own code is on the stack waits
 * until that code returns (S3). Thread: loop thread only.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

uvp_ctx *uvp__plugin_find(uvp_host *h, const char *name) {
  for (uint32_t i = 0; i < h->norder; i++)
    if (strcmp(h->order[i]->name, name) == 0) return h->order[i];
  return NULL;
}

static int order_add(uvp_host *h, uvp_ctx *ctx) {
  uvp_ctx **order = realloc(h->order, (h->norder + 1) * sizeof *order);
  if (order == NULL) return UVP_ENOMEM;
  h->order = order;
  h->order[h->norder++] = ctx;
  return 0;
}

static void order_remove(uvp_host *h, uvp_ctx *ctx) {
  for (uint32_t i = 0; i < h->norder; i++) {
    if (h->order[i] != ctx) continue;
    memmove(&h->order[i], &h->order[i + 1],
            (h->norder - i - 1) * sizeof *h->order);
    h->norder--;
    return;
  }
}

/* Frees what is left of a plugin once no code of it can run again. */
static void release(uvp_ctx *ctx) {
  order_remove(ctx->host, ctx);
  ctx->state = UVP__DEAD;
  if (ctx->pending_owned != 0) return; /* uvp__plugin_unpin finishes */
  if (ctx->dl != NULL) dlclose(ctx->dl); /* a no-op unmap unless unload-safe */
  uvp__ctx_free(ctx);
}

void uvp__plugin_unpin(uvp_ctx *ctx) {
  assert(ctx->pending_owned > 0);
  if (--ctx->pending_owned == 0 && ctx->state == UVP__DEAD) {
    if (ctx->dl != NULL) dlclose(ctx->dl);
    uvp__ctx_free(ctx);
  }
}

static void finish_unload(uvp_ctx *ctx) {
  uvp_host *h = ctx->host;
  /* A quarantined plugin panicked: its state may be torn, so it gets no
   * on_stop; on_unload still runs so that its memory is freed. */
  bool was_running = ctx->state == UVP__RUNNING;
  ctx->state = UVP__STOPPING;
  uvp__call_enter(ctx, NULL);
  if (was_running && ctx->desc.on_stop != NULL)
    ctx->desc.on_stop(ctx, ctx->state_ptr);
  ctx->depth--;
  uvp__reg_cancel_all(h, ctx);
  uvp__call_enter(ctx, NULL);
  if (ctx->desc.on_unload != NULL) ctx->desc.on_unload(ctx->state_ptr);
  ctx->depth--;
  release(ctx);
}

int uvp__plugin_unload(uvp_ctx *ctx) {
  if (ctx->state == UVP__STOPPING || ctx->state == UVP__DEAD ||
      ctx->unload_pending)
    return UVP_ECLOSED;
  if (ctx->depth > 0) {
    ctx->unload_pending = true; /* S3: finished by uvp__call_after */
    return 0;
  }
  finish_unload(ctx);
  return 0;
}

void uvp__plugin_finish_deferred(uvp_ctx *ctx) {
  ctx->unload_pending = false;
  finish_unload(ctx);
}

/* Init or start failed: undo everything, as if the load never happened
 * (A9). on_unload runs only if on_init had produced a state. */
static int fail_load(uvp_ctx *ctx, const char *path, const char *hook, int rc,
                     bool inited) {
  uvp_host *h = ctx->host;
  uvp__log(h, "host", UVP_LOG_ERROR, "%s: %s of '%s' failed: %s (%d)", path,
           hook, ctx->name, uvp_err_name(rc), rc);
  ctx->state = UVP__STOPPING;
  uvp__reg_cancel_all(h, ctx);
  if (inited && ctx->desc.on_unload != NULL) {
    uvp__call_enter(ctx, NULL);
    ctx->desc.on_unload(ctx->state_ptr);
    ctx->depth--;
  }
  ctx->unload_pending = false;
  release(ctx);
  return UVP_EINIT;
}

int uvp__plugin_load(uvp_host *h, const char *path, const char *name,
                     const char *config) {
  uvp_plugin_desc desc;
  void *dl;
  int rc = uvp__loader_open(h, path, &desc, &dl);
  if (rc < 0) return rc;
  const char *instance = name != NULL ? name : desc.name;
  uvp_ctx *ctx = NULL;
  if (uvp__plugin_find(h, instance) != NULL) {
    uvp__log(h, "host", UVP_LOG_ERROR, "%s: a plugin named '%s' is loaded",
             path, instance);
    rc = UVP_EDUPNAME; /* A6 */
  } else if ((rc = uvp__ctx_new(h, instance, &ctx)) == 0 &&
             (rc = order_add(h, ctx)) < 0) {
    uvp__ctx_free(ctx);
  }
  if (rc < 0) {
    dlclose(dl);
    return rc;
  }
  ctx->dl = dl;
  ctx->desc = desc;
  ctx->state = UVP__LOADING;

  uvp__call_enter(ctx, NULL);
  rc = desc.on_init(ctx, &uvp__api, config, strlen(config), &ctx->state_ptr);
  ctx->depth--;
  if (rc != 0) return fail_load(ctx, path, "on_init", rc, false);
  ctx->state = UVP__RUNNING;
  if (desc.on_start != NULL) {
    uvp__call_enter(ctx, NULL);
    rc = desc.on_start(ctx, ctx->state_ptr);
    ctx->depth--;
    if (rc != 0) return fail_load(ctx, path, "on_start", rc, true);
  }
  uvp__log(h, ctx->name, UVP_LOG_DEBUG, "loaded %s (%s %s)", path, desc.name,
           desc.version ? desc.version : "");
  uvp__call_after(ctx, 0); /* an unload asked for during init/start */
  return 0;
}

void uvp__plugin_fault(uvp_ctx *ctx, int rc) {
  uvp_host *h = ctx->host;
  ctx->errors++;
  if (rc != UVP_EPANIC) { /* F2 */
    uvp__log(h, ctx->name, UVP_LOG_WARN, "callback failed: %s (%d)",
             uvp_err_name(rc), rc);
    return;
  }
  ctx->panics++; /* F1 */
  switch (h->opts.fault_policy) {
    case UVP_FAULT_LOG:
      uvp__log(h, ctx->name, UVP_LOG_ERROR, "callback panicked; continuing");
      return;
    case UVP_FAULT_ABORT:
      uvp__log(h, ctx->name, UVP_LOG_ERROR, "callback panicked; aborting");
      abort(); /* the embedder asked for it with UVP_FAULT_ABORT */
    default:
      if (ctx->index == 0 || ctx->state != UVP__RUNNING) return;
      uvp__log(h, ctx->name, UVP_LOG_ERROR,
               "callback panicked; quarantined and unloading");
      ctx->state = UVP__QUARANTINED;
      uvp__plugin_unload(ctx);
  }
}
