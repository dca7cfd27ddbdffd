/* Plugin instances: load, the unload state machine, faults.
 *
 *   load:   loader_open ─► ctx ─► on_init ─► on_start ─► RUNNING
 *   unload: STOPPING: importers of its services revoked (V5), on_stop,
 *           registrations refused, subscriptions/timers/
 *           fd watches cancelled (destroy runs), work cancelled, remote
 *           closed ─► DRAINING until running work returned, queued posts
 *           were destroyed (U3, R4) and every reference to its service
 *           exports was dropped (V6) ─► on_unload ─► DEAD ─► dlclose once no
 *           owned payload or remote reference pins the code (A10, U4)
 *
 * An unload asked for while the plugin's own code is on the stack starts
 * when that code returns (S3). Thread: loop thread only.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

/* The instance called name: a live one first, else one still unloading.
 * With live_only, only instances that hold on to their name. An unload
 * asked for inside the plugin's own callback (S3, unload_pending) gives
 * the name up at once, as uvp_host_unload returning 0 promises. */
uvp_ctx *uvp__plugin_find(uvp_host *h, const char *name, bool live_only) {
  uvp_ctx *fallback = NULL;
  for (uint32_t i = 0; i < h->norder; i++) {
    uvp_ctx *ctx = h->order[i];
    if (strcmp(ctx->name, name) != 0) continue;
    bool unloading = ctx->unload_pending && !ctx->quarantine_due; /* F7 */
    bool live = !ctx->retiring && !unloading && ctx->state != UVP__STOPPING &&
                ctx->state != UVP__DRAINING;
    if (live) return ctx;
    if (fallback == NULL) fallback = ctx;
  }
  return live_only ? NULL : fallback;
}

static int order_add(uvp_host *h, uvp_ctx *ctx) {
  uvp_ctx **order =
      uvp__realloc(&h->alloc, h->order, (h->norder + 1) * sizeof *order);
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

/* Frees a DEAD plugin once nothing pins its code any more. */
static void try_release(uvp_ctx *ctx) {
  if (ctx->pending_owned != 0 || ctx->remote != NULL || ctx->depth != 0) return;
  uvp_host *h = ctx->host;
  if (ctx->dl != NULL && !ctx->keep_mapped)
    dlclose(ctx->dl); /* unmaps only unload-safe objects (A10) */
  uvp__ctx_free(ctx);
  if (h->closing) uvp__host_close_continue(h);
}

static void try_finish(uvp_ctx *ctx);

/* An owned payload of ctx was freed: a draining publisher waited for it. */
void uvp__plugin_unpin(uvp_ctx *ctx) {
  assert(ctx->pending_owned > 0);
  if (--ctx->pending_owned != 0 || ctx->depth != 0) return;
  if (ctx->state == UVP__DRAINING)
    try_finish(ctx);
  else if (ctx->state == UVP__DEAD)
    try_release(ctx);
}

/* Hands the remote to whoever still holds references. An unload-safe
 * object waits for them before dlclose; any other stays mapped anyway. */
static void disown_remote(uvp_ctx *ctx) {
  uvp_host *h = ctx->host;
  uvp_plugin_stats st = {0};
  uvp__remote_stats(ctx->remote, &st);
  bool unload_safe = ctx->desc.flags & UVP_PLUGIN_UNLOAD_SAFE;
  bool wait = unload_safe && !h->closing;
  if (uvp__remote_disown(ctx->remote, wait)) {
    uvp__log(h, ctx->name, UVP_LOG_WARN,
             "unloaded; %u remote reference(s) still held: unmapping waits "
             "for the last release",
             (unsigned)st.remote_refs);
    return; /* finish_released clears ctx->remote */
  }
  if (st.remote_refs != 0) {
    uvp__log(h, ctx->name, UVP_LOG_WARN,
             "unloaded; %u remote reference(s) still held: their posts get "
             "UVP_ECLOSED and the object stays mapped",
             (unsigned)st.remote_refs);
    ctx->keep_mapped = unload_safe; /* U4: never dlclose under a reference */
  }
  ctx->remote = NULL;
}

/* DRAINING ─► DEAD once work and queued posts are done (U3). */
static void try_finish(uvp_ctx *ctx) {
  if (ctx->registrations != 0 || uvp__remote_queued(ctx->remote) != 0) return;
  /* L8: free_fn runs before on_unload; one being delivered now waits. */
  if (ctx->pending_owned != 0) uvp__queue_release_owned(ctx->host, ctx);
  if (ctx->pending_owned != 0) return;
  uvp__call_enter(ctx);
  if (ctx->desc.on_unload != NULL) ctx->desc.on_unload(ctx->state_ptr);
  ctx->depth--;
  ctx->state = UVP__DEAD;
  order_remove(ctx->host, ctx);
  if (ctx->remote != NULL) disown_remote(ctx);
  try_release(ctx);
}

void uvp__plugin_poll(uvp_ctx *ctx) {
  if (ctx->depth != 0) return;
  if (ctx->state == UVP__DRAINING)
    try_finish(ctx);
  else if (ctx->state == UVP__DEAD)
    try_release(ctx);
}

void uvp__plugin_begin_unload(uvp_ctx *ctx) {
  uvp_host *h = ctx->host;
  /* A quarantined plugin panicked: its state may be torn, so it gets no
   * on_stop; on_unload still runs so that its memory is freed. */
  bool was_running = ctx->state == UVP__RUNNING;
  ctx->state = UVP__STOPPING;
  /* V5: importers first, so that on_stop runs with no call coming in. */
  uvp__service_revoke_all(
      ctx, ctx->revoke_reason ? ctx->revoke_reason : UVP_ECLOSED);
  uvp__call_enter(ctx);
  if (was_running && ctx->desc.on_stop != NULL) {
    uint64_t t0 = uvp__time_begin(h); /* O2 */
    ctx->desc.on_stop(ctx, ctx->state_ptr);
    uvp__time_end(h, ctx, UVP__CB_STOP, t0);
  }
  ctx->depth--;
  uvp__reg_cancel_all(h, ctx);
  uvp__remote_close(ctx->remote);
  ctx->state = UVP__DRAINING;
  if (ctx->work_running != 0) { /* U3, bounded by work_drain_ms (W6) */
    uvp__log(h, ctx->name, UVP_LOG_INFO,
             "unloading; waiting for %u running work item(s), at most %u ms",
             (unsigned)ctx->work_running, (unsigned)h->opts.work_drain_ms);
    uvp__work_drain_start(ctx);
  }
  if (uvp__remote_queued(ctx->remote) != 0)
    uv_async_send(&h->async); /* R4: their destroys run on the next turn */
  try_finish(ctx);
}

int uvp__plugin_unload(uvp_ctx *ctx) {
  if (ctx->index == 0 || ctx->unload_pending ||
      (ctx->state != UVP__RUNNING && ctx->state != UVP__QUARANTINED &&
       ctx->state != UVP__LOADING))
    return UVP_ECLOSED;
  if (ctx->depth > 0) {
    /* S3: started by uvp__call_after when the code returns, or on the next
     * loop turn if it was a destroy or free_fn (no call_after follows). */
    ctx->unload_pending = true;
    ctx->host->unloads_due = true;
    uvp__host_schedule(ctx->host);
    return 0;
  }
  uvp__plugin_begin_unload(ctx);
  return 0;
}

/* on_init or on_start failed: undo everything, as if the load never
 * happened (A9). on_unload runs only if on_init had produced a state. */
static int fail_load(uvp_ctx *ctx, const char *path, bool inited, int rc) {
  uvp_host *h = ctx->host;
  uvp__log(h, "host", UVP_LOG_ERROR, "%s: %s of '%s' failed: %s (%d)", path,
           inited ? "on_start" : "on_init", ctx->name, uvp_err_name(rc), rc);
  if (!inited) ctx->desc.on_unload = NULL; /* there is no state to free */
  ctx->unload_pending = false;
  ctx->state = UVP__QUARANTINED; /* no on_stop: it never started */
  /* A9: unlisted and its name free at once; work it queued still ends
   * (done, destroy) on later turns, then on_unload. */
  order_remove(h, ctx);
  ctx->retiring = true;
  uvp__plugin_begin_unload(ctx);
  return UVP_EINIT;
}

static int resolve_options(uvp_host *h, const uvp_load_options *in,
                           uvp_load_options *out) {
  uvp_load_options o = UVP_LOAD_OPTIONS_INIT;
  if (in != NULL) {
    if (!uvp__load_options_size_ok(in->size)) return UVP_EINVAL; /* F3 */
    memcpy(&o, in, in->size < sizeof o ? in->size : sizeof o);
  }
  if (o.fault_policy < UVP_FAULT_DEFAULT || o.fault_policy > UVP_FAULT_ABORT)
    return UVP_EINVAL;
  if (o.fault_policy == UVP_FAULT_DEFAULT)
    o.fault_policy = h->opts.fault_policy;
  if (o.remote_limit == 0) o.remote_limit = h->opts.remote_capacity;
  *out = o;
  return 0;
}

static int new_instance(uvp_host *h, const char *path, const char *name,
                        uvp_ctx **out_ctx) {
  if (uvp__plugin_find(h, name, true) != NULL)
    return uvp__load_fail(h, path, UVP_EDUPNAME,
                          "a plugin named '%s' is loaded", name); /* A6 */
  uvp_ctx *ctx;
  int rc = uvp__ctx_new(h, name, &ctx);
  if (rc < 0) return rc;
  if ((rc = order_add(h, ctx)) < 0) {
    uvp__ctx_free(ctx);
    return rc;
  }
  *out_ctx = ctx;
  return 0;
}

int uvp__plugin_load(uvp_host *h, const char *path, const char *name,
                     const char *config, const uvp_load_options *options) {
  uvp_load_options opts;
  int rc = resolve_options(h, options, &opts);
  if (rc < 0) return rc;
  uvp_plugin_desc desc;
  void *dl;
  if ((rc = uvp__loader_open(h, path, &opts, &desc, &dl)) < 0) return rc;
  uvp_ctx *ctx = NULL; /* -O2 cannot see that a failure is < 0 */
  if ((rc = new_instance(h, path, name ? name : desc.name, &ctx)) < 0) {
    dlclose(dl);
    return rc;
  }
  ctx->dl = dl;
  ctx->desc = desc;
  ctx->state = UVP__LOADING;
  ctx->fault_policy = opts.fault_policy;
  ctx->remote_limit = opts.remote_limit;
  ctx->work_limit = opts.work_limit; /* W4: 0 = the host's */
  ctx->path =
      uvp__strdup(&h->alloc, path); /* uvp_host_plugin_info; NULL reads as "" */

  uvp__call_enter(ctx);
  uint64_t t0 = uvp__time_begin(h); /* O2 */
  rc = desc.on_init(ctx, &uvp__api, config, strlen(config), &ctx->state_ptr);
  uvp__time_end(h, ctx, UVP__CB_INIT, t0);
  ctx->depth--;
  if (rc != 0) return fail_load(ctx, path, false, rc);
  ctx->state = UVP__RUNNING;
  if (desc.on_start != NULL) {
    uvp__call_enter(ctx);
    t0 = uvp__time_begin(h);
    rc = desc.on_start(ctx, ctx->state_ptr);
    uvp__time_end(h, ctx, UVP__CB_START, t0);
    ctx->depth--;
    if (rc != 0) return fail_load(ctx, path, true, rc);
  }
  /* A7: the version string is the plugin's; read at most 64 bytes of it */
  uvp__log(h, ctx->name, UVP_LOG_DEBUG, "loaded %s (%s %.64s)", path, desc.name,
           desc.version ? desc.version : "");
  uvp__call_after(ctx, 0); /* an unload asked for during init or start */
  return 0;
}

/* F1: no further deliveries from now on (every registration cancelled, its
 * destroy run; the remote closed), then the unload on the next loop turn,
 * so the embedder can still read the plugin's stats in this one. Called at
 * depth 0 only (uvp__call_after). */
static void quarantine(uvp_ctx *ctx) {
  uvp_host *h = ctx->host;
  ctx->state = UVP__QUARANTINED;
  uvp__service_revoke_all(ctx, UVP_EPANIC); /* V4, V5 */
  uvp__reg_cancel_all(h, ctx);
  uvp__remote_close(ctx->remote);
  h->unloads_due = true;
  uvp__host_schedule(h);
}

/* Next loop turn: unloads the plugins quarantined since the last one, and
 * those that asked for an unload from code that never returns into the host
 * through uvp__call_after (a destroy or free_fn calling unload_self, S3). */
void uvp__plugin_unload_due(uvp_host *h) {
  h->unloads_due = false;
  for (uint32_t i = h->norder; i-- > 0;) {
    if (i >= h->norder) continue;
    uvp_ctx *ctx = h->order[i];
    if (ctx->quarantine_due && ctx->depth == 0) {
      uvp__plugin_quarantine_due(ctx);
    } else if (ctx->unload_pending && ctx->depth == 0) {
      ctx->unload_pending = false;
      uvp__plugin_begin_unload(ctx);
    } else if (ctx->state == UVP__QUARANTINED && !ctx->unload_pending) {
      uvp__plugin_unload(ctx);
    }
  }
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
  switch (ctx->fault_policy) {
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
      quarantine(ctx);
  }
}

/* F7: runs the quarantine a reported panic asked for, at depth 0: when the
 * callback that reported it returns, or on the next loop turn. */
void uvp__plugin_quarantine_due(uvp_ctx *ctx) {
  ctx->quarantine_due = false;
  ctx->unload_pending = false; /* set only to be noticed, see below */
  if (ctx->state == UVP__RUNNING) quarantine(ctx);
}

/* F7: a fault the plugin caught itself, reported from any depth (a destroy
 * or free_fn included). Counted and logged like a callback's status; a
 * quarantine waits for the next loop turn, where no plugin code is on the
 * stack. */
void uvp__plugin_report_fault(uvp_ctx *ctx, int rc) {
  bool quarantines = rc == UVP_EPANIC && ctx->index != 0 &&
                     ctx->state == UVP__RUNNING &&
                     ctx->fault_policy != UVP_FAULT_LOG &&
                     ctx->fault_policy != UVP_FAULT_ABORT;
  if (!quarantines) {
    uvp__plugin_fault(ctx, rc);
    return;
  }
  ctx->errors++;
  ctx->panics++;
  uvp__log(ctx->host, ctx->name, UVP_LOG_ERROR,
           "plugin reported a panic; quarantined and unloading");
  ctx->quarantine_due = true;
  /* The dispatcher and the post runner call uvp__call_after only for a
   * failed call or a pending unload: this flag gets their attention
   * without another test on their common path. */
  ctx->unload_pending = true;
  ctx->host->unloads_due = true;
  uvp__host_schedule(ctx->host);
}
