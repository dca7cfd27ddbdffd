/* The uvp_api table: argument and thread checks in front of every host
 * function a plugin (or the embedder, through its own ctx) can call.
 *
 * Every entry checks the calling thread first and, off the loop thread,
 * touches nothing but two atomics of the ctx (T2). Then come the arguments
 * (F3) and the state (S1), and only then the module doing the work.
 * Thread: any thread may call; only the loop thread gets past the check.
 */
#include <string.h>

#include "uvp-internal.h"

static int wrong_thread(uvp_ctx *ctx) {
  if (atomic_fetch_add_explicit(&ctx->wrong_thread, 1, memory_order_relaxed) ==
      0) {
    atomic_store_explicit(&ctx->wrong_thread_unlogged, true,
                          memory_order_release);
    /* uv_async_send reads `pending` next: without a full fence the store
     * may still be invisible when the loop drains (as in remote.c). */
    atomic_thread_fence(memory_order_seq_cst);
    uvp__host_wake(ctx->host); /* the loop thread logs it once */
  }
  return UVP_EWRONGTHREAD;
}

static int check_ctx(uvp_ctx *ctx) {
  if (ctx == NULL || ctx->magic != UVP__CTX_MAGIC) return UVP_EINVAL;
  if (!uvp__on_loop_thread(ctx->host)) return wrong_thread(ctx);
  return 0;
}

/* New registrations need a live plugin and an open host (S1, S2). */
static int check_register(uvp_ctx *ctx, bool has_cb, const uvp_id *out_id) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (!has_cb || out_id == NULL) return UVP_EINVAL;
  if (ctx->host->closing ||
      (ctx->state != UVP__RUNNING && ctx->state != UVP__LOADING))
    return UVP_ECLOSED;
  return 0;
}

static int api_topic(uvp_ctx *ctx, const char *name, size_t len,
                     uvp_topic *out_topic) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (out_topic == NULL) return UVP_EINVAL;
  return uvp__topic_intern(&ctx->host->topics, name, len, out_topic);
}

static int api_subscribe(uvp_ctx *ctx, uvp_topic topic, uvp_event_cb cb,
                         void *user_data, uvp_destroy_fn destroy,
                         uvp_id *out_id) {
  int rc = check_register(ctx, cb != NULL, out_id);
  if (rc < 0) return rc;
  uvp_host *h = ctx->host;
  if (uvp__topic_get(&h->topics, topic) == NULL) return UVP_ENOENT; /* F5 */
  uint32_t idx, pos;
  if ((rc = uvp__reg_begin(ctx, UVP__SUB, user_data, destroy, &idx)) < 0)
    return rc;
  if ((rc = uvp__topic_add_sub(&h->topics, topic, idx, &pos)) < 0) {
    uvp__reg_abort(h, idx); /* L6 */
    return rc;
  }
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->cb.event = cb;
  s->u.sub.topic = topic;
  s->u.sub.pos = pos;
  *out_id = uvp__id_make(idx, s->gen);
  return 0;
}

static int check_publish(uvp_ctx *ctx, const void *data, size_t len) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (data == NULL && len != 0) return UVP_EINVAL;
  if (ctx->host->closing || ctx->state == UVP__DEAD) return UVP_ECLOSED;
  return 0;
}

static int api_publish(uvp_ctx *ctx, uvp_topic topic, const void *data,
                       size_t len) {
  int rc = check_publish(ctx, data, len);
  if (rc < 0) return rc;
  return uvp__publish(ctx, topic, data, len, NULL, NULL, false);
}

static int api_publish_owned(uvp_ctx *ctx, uvp_topic topic, void *data,
                             size_t len, uvp_payload_free_fn free_fn,
                             void *hint) {
  int rc = check_publish(ctx, data, len);
  if (rc < 0) return rc;
  if (free_fn == NULL) return UVP_EINVAL;
  return uvp__publish(ctx, topic, data, len, free_fn, hint, true);
}

static int api_timer_start(uvp_ctx *ctx, uint64_t timeout_ms,
                           uint64_t repeat_ms, uvp_timer_cb cb, void *user_data,
                           uvp_destroy_fn destroy, uvp_id *out_id) {
  int rc = check_register(ctx, cb != NULL, out_id);
  if (rc < 0) return rc;
  if (repeat_ms > UINT32_MAX) return UVP_EINVAL;
  return uvp__timer_start(ctx, timeout_ms, repeat_ms, cb, user_data, destroy,
                          out_id);
}

static int api_fd_watch(uvp_ctx *ctx, int fd, int events, uvp_fd_cb cb,
                        void *user_data, uvp_destroy_fn destroy,
                        uvp_id *out_id) {
  int rc = check_register(ctx, cb != NULL, out_id);
  if (rc < 0) return rc;
  const int all = UVP_FD_READABLE | UVP_FD_WRITABLE;
  if (fd < 0 || events == 0 || (events & ~all) != 0) return UVP_EINVAL;
  return uvp__fd_watch(ctx, fd, events, cb, user_data, destroy, out_id);
}

static int api_cancel(uvp_ctx *ctx, uvp_id id) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  uint32_t idx;
  if ((rc = uvp__registry_lookup(&ctx->host->reg, id, ctx->index, &idx)) < 0)
    return rc; /* L4, L5 */
  uvp__reg_cancel(ctx->host, idx);
  return 0;
}

static int api_log(uvp_ctx *ctx, int level, const char *msg, size_t len) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if ((msg == NULL && len != 0) || level < UVP_LOG_ERROR ||
      level > UVP_LOG_DEBUG)
    return UVP_EINVAL;
  uvp__log_raw(ctx->host, ctx->name, level, msg ? msg : "", len);
  return 0;
}

static int api_now_ms(uvp_ctx *ctx, uint64_t *out_ms) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (out_ms == NULL) return UVP_EINVAL;
  *out_ms = uv_now(ctx->host->loop);
  return 0;
}

static int api_unload_self(uvp_ctx *ctx) {
  int rc = check_ctx(ctx);
  return rc < 0 ? rc : uvp__plugin_unload(ctx); /* U6 */
}

static int api_work_queue(uvp_ctx *ctx, uvp_work_fn work, uvp_work_done_cb done,
                          void *user_data, uvp_destroy_fn destroy,
                          uvp_id *out_id) {
  int rc = check_register(ctx, work != NULL && done != NULL, out_id);
  if (rc < 0) return rc;
  return uvp__work_queue(ctx, work, done, user_data, destroy, out_id);
}

static int api_remote_new(uvp_ctx *ctx, uvp_remote **out_remote) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (out_remote == NULL) return UVP_EINVAL;
  if (ctx->host->closing ||
      (ctx->state != UVP__RUNNING && ctx->state != UVP__LOADING))
    return UVP_ECLOSED;
  return uvp__remote_get(ctx, ctx->remote_limit, out_remote);
}

static int api_remote_publish(uvp_remote *remote, uvp_topic topic,
                              const void *data, size_t len, int flags) {
  return uvp__remote_publish(remote, topic, data, len, flags);
}

static int api_fault(uvp_ctx *ctx, int status, const char *msg, size_t len) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (status >= 0 || (msg == NULL && len != 0)) return UVP_EINVAL;
  if (len != 0) uvp__log_raw(ctx->host, ctx->name, UVP_LOG_ERROR, msg, len);
  uvp__plugin_report_fault(ctx, status); /* F7 */
  return 0;
}

static int api_instance_name(uvp_ctx *ctx, const char **out_name,
                             size_t *out_len) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (out_name == NULL) return UVP_EINVAL;
  *out_name = ctx->name;
  if (out_len != NULL) *out_len = strlen(ctx->name);
  return 0;
}

static int api_service_export(uvp_ctx *ctx, const uvp_service_export *desc,
                              uvp_id *out_id) {
  int rc = check_register(ctx, desc != NULL, out_id);
  if (rc < 0) return rc;
  return uvp__service_export(ctx, desc, out_id); /* V1 */
}

static int api_service_import(uvp_ctx *ctx, const uvp_service_import *req,
                              uvp_id *out_ref) {
  int rc = check_register(ctx, req != NULL, out_ref);
  if (rc < 0) return rc;
  return uvp__service_import(ctx, req, out_ref); /* V2 */
}

/* The fast path (V3): the thread check, then service.c. */
static int api_service_call(uvp_ctx *ctx, uvp_id ref, uint32_t fn, void *args) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  return uvp__service_call(ctx, ref, fn, args);
}

static int api_service_info(uvp_ctx *ctx, uvp_id ref, uvp_service_info *out) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  return uvp__service_info(ctx, ref, out);
}

static int api_counter(uvp_ctx *ctx, const char *name, size_t len,
                       uint64_t **out_counter) {
  int rc = check_ctx(ctx);
  if (rc < 0) return rc;
  if (out_counter == NULL) return UVP_EINVAL;
  return uvp__counter_get(ctx, name, len, out_counter);
}

const uvp_api uvp__api = {
    .size = sizeof(uvp_api),
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .topic = api_topic,
    .subscribe = api_subscribe,
    .publish = api_publish,
    .publish_owned = api_publish_owned,
    .timer_start = api_timer_start,
    .fd_watch = api_fd_watch,
    .cancel = api_cancel,
    .log = api_log,
    .now_ms = api_now_ms,
    .unload_self = api_unload_self,
    .work_queue = api_work_queue,
    .remote_new = api_remote_new,
    .remote_acquire = uvp__remote_acquire,
    .remote_release = uvp__remote_release,
    .remote_post = uvp__remote_post,
    .remote_publish = api_remote_publish,
    .fault = api_fault,
    .instance_name = api_instance_name,
    .service_export = api_service_export,
    .service_import = api_service_import,
    .service_call = api_service_call,
    .service_info = api_service_info,
    .counter = api_counter,
};
