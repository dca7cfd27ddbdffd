/* The host: one per libuv loop, bound to the thread that created it. It
 * owns the registry, topics, event queue, timers and plugin contexts, and
 * three handles on the loop (idle: drain/teardown, timer: plugin timers,
 * async: wake-ups from other threads).
 *
 * Closing is asynchronous, as uv_close is: uvp_host_close marks the host
 * closing (every new call gets UVP_ECLOSED) and the teardown runs on the
 * next loop turn, when no plugin code is on the stack (S2).
 * Thread: loop thread only, except uvp__host_wake.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "uvp-internal.h"

enum {
  DEFAULT_QUEUE = 65536,
  DEFAULT_PAYLOAD = 1 << 20,
  DEFAULT_BATCH = 1024,
  DEFAULT_TOPICS = 65536,
  DEFAULT_REMOTE = 65536,
  /* Half of libuv's default pool of 4: the embedder keeps 2 threads for
   * its own fs and DNS requests whatever the plugins do (W4). */
  DEFAULT_WORK_CONCURRENCY = 2,
  DEFAULT_WORK_DRAIN_MS = 30000,
  MAX_QUEUE = 1 << 30,
};

/* Copies the fields the caller's struct has (size negotiation) and fills
 * defaults for zeros. */
static int read_options(const uvp_host_options *in, uvp_host_options *out) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  if (in != NULL) {
    if (!uvp__host_options_size_ok(in->size)) return UVP_EINVAL; /* F3 */
    memcpy(&o, in, in->size < sizeof o ? in->size : sizeof o);
    o.size = sizeof o;
  }
  if (o.log_level < UVP_LOG_ERROR || o.log_level > UVP_LOG_DEBUG ||
      o.fault_policy < UVP_FAULT_DEFAULT || o.fault_policy > UVP_FAULT_ABORT ||
      o.queue_capacity > MAX_QUEUE || o.remote_capacity > MAX_QUEUE)
    return UVP_EINVAL;
  if (o.fault_policy == UVP_FAULT_DEFAULT)
    o.fault_policy = UVP_FAULT_QUARANTINE;
  if (o.queue_capacity == 0) o.queue_capacity = DEFAULT_QUEUE;
  if (o.max_payload == 0) o.max_payload = DEFAULT_PAYLOAD;
  if (o.batch == 0) o.batch = DEFAULT_BATCH;
  if (o.max_topics == 0) o.max_topics = DEFAULT_TOPICS;
  if (o.remote_capacity == 0) o.remote_capacity = DEFAULT_REMOTE;
  if (o.work_concurrency == 0) o.work_concurrency = DEFAULT_WORK_CONCURRENCY;
  if (o.work_drain_ms == 0) o.work_drain_ms = DEFAULT_WORK_DRAIN_MS;
  *out = o;
  return 0;
}

int uvp__ctx_new(uvp_host *h, const char *name, uvp_ctx **out_ctx) {
  uint32_t index = 0;
  while (index < h->nctxs && h->ctxs[index] != NULL) index++;
  if (index > UINT16_MAX) return UVP_ENOSPC;
  if (index == h->nctxs) {
    uint32_t n = h->nctxs ? h->nctxs * 2 : 8;
    uvp_ctx **ctxs = uvp__realloc(&h->alloc, h->ctxs, n * sizeof *ctxs);
    if (ctxs == NULL) return UVP_ENOMEM;
    memset(ctxs + h->nctxs, 0, (n - h->nctxs) * sizeof *ctxs);
    h->ctxs = ctxs;
    h->nctxs = n;
  }
  uvp_ctx *ctx = uvp__calloc(&h->alloc, 1, sizeof *ctx);
  if (ctx == NULL) return UVP_ENOMEM;
  ctx->magic = UVP__CTX_MAGIC;
  ctx->index = (uint16_t)index;
  ctx->host = h;
  atomic_init(&ctx->wrong_thread, 0);
  atomic_init(&ctx->wrong_thread_unlogged, false);
  strncpy(ctx->name, name, UVP_NAME_MAX);
  h->ctxs[index] = ctx;
  *out_ctx = ctx;
  return 0;
}

void uvp__ctx_free(uvp_ctx *ctx) {
  assert(ctx->registrations == 0 && ctx->pending_owned == 0);
  if (uvp__span_ctx(&ctx->host->span) == ctx) /* O2 */
    uvp__span_close(ctx->host);
  ctx->host->ctxs[ctx->index] = NULL;
  ctx->magic = 0;
  const uvp_allocator *a = &ctx->host->alloc;
  uvp__free(a, ctx->path);
  uvp__free(a, ctx);
}

void uvp__host_wake(uvp_host *h) { uv_async_send(&h->async); }

/* Wake-ups from other threads: queued posts, released remotes, and
 * wrong-thread calls to log. */
static void on_async(uv_async_t *handle) {
  uvp_host *h = container_of(handle, uvp_host, async);
  uvp__remote_on_async(h);
  uvp__bus_on_async(h);
  /* Logs, once per plugin, a call of a loop-only function off the loop
   * thread (T2): the refused thread itself may not call the log hook. The
   * fence pairs with the one in api.c's wrong_thread. */
  atomic_thread_fence(memory_order_seq_cst);
  for (uint32_t i = 0; i < h->nctxs; i++) {
    uvp_ctx *ctx = h->ctxs[i];
    if (ctx != NULL && atomic_exchange_explicit(&ctx->wrong_thread_unlogged,
                                                false, memory_order_acquire))
      uvp__log(h, ctx->name, UVP_LOG_ERROR,
               "called a loop-only function from another thread: refused "
               "with UVP_EWRONGTHREAD (logged once)");
  }
}

int uvp_host_new(uv_loop_t *loop, const uvp_host_options *options,
                 uvp_host **out_host) {
  if (loop == NULL || out_host == NULL) return UVP_EINVAL;
  /* Options first: the host itself comes from their allocator. */
  uvp_host_options opts;
  uvp_allocator alloc;
  int rc = read_options(options, &opts);
  if (rc == 0) rc = uvp__allocator_copy(opts.allocator, &alloc);
  if (rc < 0) return rc;
  uvp_host *h = uvp__calloc(&alloc, 1, sizeof *h);
  if (h == NULL) return UVP_ENOMEM;
  h->opts = opts;
  h->alloc = alloc;
  h->opts.allocator = &h->alloc;
  uvp_ctx *self = NULL;
  rc = uvp__ctx_new(h, "host", &self);
  if (rc == 0) rc = uv_async_init(loop, &h->async, on_async);
  if (rc < 0) {
    if (self != NULL) uvp__ctx_free(self);
    uvp__free(&alloc, h->ctxs);
    uvp__free(&alloc, h);
    return rc;
  }
  h->metrics = !h->opts.no_metrics;
  if (h->metrics) h->slow_ns = h->opts.slow_callback_ms * UINT64_C(1000000);
  h->running_slot = UVP__NONE;
  self->state = UVP__RUNNING;
  self->fault_policy = h->opts.fault_policy;
  self->remote_limit = h->opts.remote_capacity;
  h->loop = loop;
  h->thread = uv_thread_self();
  uvp__registry_init(&h->reg);
  uvp__topics_init(&h->topics, h->opts.max_topics);
  uvp__queue_init(&h->queue, h->opts.queue_capacity);
  h->reg.alloc = h->topics.alloc = h->queue.alloc = h->timers.alloc = &h->alloc;
  uv_idle_init(loop, &h->idle);
  uv_timer_init(loop, &h->timer);
  h->handles_open = 3;
  *out_host = h;
  return 0;
}

static int check_host(uvp_host *h) {
  if (h == NULL) return UVP_EINVAL;
  if (!uvp__on_loop_thread(h)) return UVP_EWRONGTHREAD; /* T3 */
  return h->closing ? UVP_ECLOSED : 0;
}

static void free_host(uvp_host *h) {
  uvp_host_closed_fn on_closed = h->on_closed;
  void *data = h->on_closed_data;
  uvp__registry_free(&h->reg);
  uvp__topics_free(&h->topics);
  uvp__timers_free(&h->timers);
  uvp_allocator alloc = h->alloc; /* h is one of its blocks */
  uvp__free(&alloc, h->ctxs);
  uvp__free(&alloc, h->order);
  uvp__free(&alloc, h);
  if (on_closed != NULL) on_closed(data);
}

void uvp__host_handle_closed(uvp_host *h) {
  if (--h->handles_open == 0) free_host(h);
}

static void on_handle_closed(uv_handle_t *handle) {
  uvp__host_handle_closed(handle->data);
}

/* First step of closing, on a loop turn with no plugin code on the stack:
 * unload every plugin, newest first (S2), then drop what is queued. */
void uvp__host_teardown(uvp_host *h) {
  uv_idle_stop(&h->idle);
  uv_timer_stop(&h->timer);
  for (uint32_t i = h->norder; i-- > 0;) {
    if (i >= h->norder) continue; /* an unload finished more than one */
    uvp_ctx *ctx = h->order[i];
    if (ctx->state != UVP__STOPPING && ctx->state != UVP__DRAINING &&
        ctx->state != UVP__DEAD)
      uvp__plugin_begin_unload(ctx);
    uvp__work_flush(h); /* W5: its work that never started ends now */
  }
  uvp_ctx *self = h->ctxs[0];
  uvp__reg_cancel_all(h, self);
  uvp__work_drain_start(self); /* W6: the embedder's work is bounded too */
  while (h->work_cancelled.head != NULL) uvp__work_flush(h);
  uvp__remote_close(self->remote);
  uvp__remote_drain_all(h); /* R4: destroys of posts nobody will run */
  uvp__queue_drop_all(h);   /* L8: owned payloads freed */
  h->torn_down = true;
  uvp__host_close_continue(h);
}

/* Last step of closing, once no plugin is left but DEAD ones that remote
 * references pin: those stay mapped (U4), the handles close, and the host
 * is freed when the last one has closed. */
void uvp__host_close_continue(uvp_host *h) {
  if (!h->torn_down || h->finishing) return;
  for (uint32_t i = 1; i < h->nctxs; i++) {
    uvp_ctx *ctx = h->ctxs[i];
    if (ctx != NULL && ctx->state != UVP__DEAD) return; /* U3: work runs */
  }
  if (h->ctxs[0]->registrations != 0) return; /* S2, W1: the embedder's */
  h->finishing = true;
  uvp__work_disown(h); /* W6: abandoned work outlives the host */
  for (uint32_t i = 0; i < h->nctxs; i++) {
    uvp_ctx *ctx = h->ctxs[i];
    if (ctx == NULL || ctx->remote == NULL) continue;
    if (!uvp__remote_disown(ctx->remote, false) && i != 0 &&
        (ctx->desc.flags & UVP_PLUGIN_UNLOAD_SAFE))
      ctx->keep_mapped = true;
    ctx->remote = NULL;
  }
  uvp__remote_shutdown(h);
  uvp__bus_leave(h); /* X6: no plugin code can publish any more */
  for (uint32_t i = 1; i < h->nctxs; i++) {
    uvp_ctx *ctx = h->ctxs[i];
    if (ctx == NULL) continue;
    if (ctx->dl != NULL && !ctx->keep_mapped) dlclose(ctx->dl);
    uvp__ctx_free(ctx);
  }
  uvp__ctx_free(h->ctxs[0]);
  uv_handle_t *handles[] = {(uv_handle_t *)&h->idle, (uv_handle_t *)&h->timer,
                            (uv_handle_t *)&h->async,
                            (uv_handle_t *)&h->work_timer};
  size_t nhandles = ARRAY_SIZE(handles) - !h->work_timer_open;
  for (size_t i = 0; i < nhandles; i++) {
    handles[i]->data = h;
    uv_close(handles[i], on_handle_closed);
  }
}

int uvp_host_close(uvp_host *host, uvp_host_closed_fn on_closed, void *data) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  host->closing = true;
  if (host->running_slot != UVP__NONE) /* S4: stops a fan-out in flight */
    uvp__registry_at(&host->reg, host->running_slot)->flags |= UVP__SLOT_HALT;
  host->on_closed = on_closed;
  host->on_closed_data = data;
  uvp__host_schedule(host);
  return 0;
}

int uvp_host_load(uvp_host *host, const char *path, const char *name,
                  const char *config, const uvp_load_options *options) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  host->load_error[0] = '\0';
  if (path == NULL || path[0] == '\0' || /* A12 */
      (name != NULL && uvp__name_check(name) < 0))
    rc = UVP_EINVAL;
  else
    rc = uvp__plugin_load(host, path, name, config ? config : "", options);
  return uvp__load_done(host, path, rc);
}

static int find_plugin(uvp_host *host, const char *name, uvp_ctx **out) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (name == NULL) return UVP_EINVAL;
  *out = uvp__plugin_find(host, name, false);
  return *out != NULL ? 0 : UVP_ENOENT;
}

int uvp_host_reload(uvp_host *host, const char *name, const char *path,
                    const char *config, const uvp_load_options *options) {
  uvp_ctx *old;
  int rc = find_plugin(host, name, &old);
  if (rc < 0) return rc;
  host->load_error[0] = '\0';
  if (path == NULL || path[0] == '\0')
    return uvp__load_done(host, path, UVP_EINVAL);
  if (old->retiring || old->unload_pending || old->state != UVP__RUNNING)
    return uvp__load_done(host, path, UVP_ECLOSED); /* already unloading */
  old->retiring = true; /* frees the name for the new instance (U5) */
  rc = uvp__plugin_load(host, path, old->name, config ? config : "", options);
  if (rc < 0) {
    old->retiring = false;
    return uvp__load_done(host, path, rc);
  }
  uvp__load_done(host, path, 0);
  return uvp__plugin_unload(old);
}

int uvp_host_unload(uvp_host *host, const char *name) {
  uvp_ctx *ctx;
  int rc = find_plugin(host, name, &ctx);
  return rc < 0 ? rc : uvp__plugin_unload(ctx);
}

int uvp_host_plugin_stats(uvp_host *host, const char *name,
                          uvp_plugin_stats *out_stats) {
  if (out_stats == NULL || !uvp__plugin_stats_size_ok(out_stats->size))
    return UVP_EINVAL; /* F3: arguments before the name */
  uvp_ctx *ctx;
  int rc = find_plugin(host, name, &ctx);
  if (rc < 0) return rc;
  uvp_plugin_stats st = {
      .size = out_stats->size,
      .state = ctx->state,
      .calls = ctx->calls,
      .events = ctx->events,
      .published = ctx->published,
      .errors = ctx->errors,
      .panics = ctx->panics,
      .wrong_thread = atomic_load(&ctx->wrong_thread),
      .registrations = ctx->registrations,
      .posts = ctx->posts,
      .work_pending = ctx->work_pending,
      .work_running = ctx->work_running,
      .work_queued = ctx->work_pending - ctx->work_running,
      .work_abandoned = host->work_abandoned.count,
      .cb_ns_total = ctx->cb_ns_total,
      .slow_callbacks = ctx->slow_callbacks,
  };
  memcpy(st.cb_hist, ctx->cb_hist, sizeof st.cb_hist);
  uvp__remote_stats(ctx->remote, &st);
  memcpy(out_stats, &st, st.size < sizeof st ? st.size : sizeof st);
  return 0;
}

int uvp_host_plugin_name(uvp_host *host, uint32_t index,
                         const char **out_name) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (out_name == NULL) return UVP_EINVAL;
  if (index >= host->norder) return UVP_ENOENT;
  *out_name = host->order[index]->name;
  return 0;
}

int uvp_host_ctx(uvp_host *host, uvp_ctx **out_ctx, const uvp_api **out_api) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (out_ctx == NULL || out_api == NULL) return UVP_EINVAL;
  *out_ctx = host->ctxs[0];
  *out_api = &uvp__api;
  return 0;
}

int uvp_host_topic(uvp_host *host, const char *name, uvp_topic *out_topic) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  if (name == NULL) return UVP_EINVAL;
  return uvp__api.topic(host->ctxs[0], name, strlen(name), out_topic);
}

int uvp_host_publish(uvp_host *host, uvp_topic topic, const void *data,
                     size_t len) {
  int rc = check_host(host);
  if (rc < 0) return rc;
  return uvp__api.publish(host->ctxs[0], topic, data, len);
}
