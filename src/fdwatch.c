/* fd watches: one uv_poll_t per watched fd, owned by the host.
 *
 * The poll handle lives in its own allocation because uv_close finishes on
 * a later loop turn, after the slot may already serve someone else: the
 * close callback only frees the handle and never looks at the slot.
 * uv_poll_init sets O_NONBLOCK on the fd, a change visible to every user of
 * the open file (stdin of the whole process, say): the watch clears it
 * again when it stops if the fd was blocking before (D7).
 * Thread: loop thread only.
 */
#include <fcntl.h>
#include <stdlib.h>

#include "uvp-internal.h"

static void on_close(uv_handle_t *handle);

struct uvp__fdwatch {
  uv_poll_t poll;
  uvp_host *host;
  uint32_t slot;
  int fd;
  bool was_blocking; /* O_NONBLOCK is ours to clear at stop */
};

static void restore_blocking(const uvp__fdwatch *w) {
  int fl = fcntl(w->fd, F_GETFL);
  if (w->was_blocking && fl >= 0 && (fl & O_NONBLOCK))
    (void)fcntl(w->fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Stops polling and closes the handle; the fd stays open (D7). */
static void watch_close(uvp__fdwatch *w) {
  restore_blocking(w);
  uv_close((uv_handle_t *)&w->poll, on_close);
}

static int to_uv_events(int events) {
  return ((events & UVP_FD_READABLE) ? UV_READABLE : 0) |
         ((events & UVP_FD_WRITABLE) ? UV_WRITABLE : 0);
}

static int from_uv_events(int events) {
  return ((events & UV_READABLE) ? UVP_FD_READABLE : 0) |
         ((events & UV_WRITABLE) ? UVP_FD_WRITABLE : 0);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  uvp__fdwatch *w = container_of(handle, uvp__fdwatch, poll);
  uvp_host *h = w->host;
  if (h->closing) return; /* S2: nothing runs once close has begun */
  uint32_t idx = w->slot;
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  uvp_ctx *ctx = uvp__slot_ctx(h, s);
  if (h->metrics) ctx->calls++;
  uvp__call_enter(ctx);
  h->running_slot = idx;
  uint64_t t0 = uvp__time_begin(h); /* O2 */
  int rc = s->cb.fd(ctx, w->fd, status, status < 0 ? 0 : from_uv_events(events),
                    s->user_data);
  uvp__time_end(h, ctx, UVP__CB_FD, t0);
  uvp__call_returned(h, ctx, idx);
  uvp__call_after(ctx, rc);
}

static void on_close(uv_handle_t *handle) {
  uvp__fdwatch *w = container_of((uv_poll_t *)handle, uvp__fdwatch, poll);
  uvp_host *h = w->host;
  uvp__free(&h->alloc, w);
  uvp__host_handle_closed(h); /* the host waits for its last handle */
}

int uvp__fd_watch(uvp_ctx *ctx, int fd, int events, uvp_fd_cb cb,
                  void *user_data, uvp_destroy_fn destroy, uvp_id *out_id) {
  uvp_host *h = ctx->host;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return UVP_EINVAL; /* not an open fd */
  uvp__fdwatch *w = uvp__malloc(&h->alloc, sizeof *w);
  if (w == NULL) return UVP_ENOMEM;
  int rc = uv_poll_init(h->loop, &w->poll, fd);
  if (rc < 0) {
    uvp__free(&h->alloc,
              w); /* uv_poll_init leaves nothing to close when it fails */
    uvp__log(h, ctx->name, UVP_LOG_WARN, "fd %d cannot be watched: %s", fd,
             uv_strerror(rc));
    return uvp__status_from_uv(rc);
  }
  w->host = h;
  w->fd = fd;
  w->was_blocking = !(fl & O_NONBLOCK);
  h->handles_open++;
  uint32_t idx;
  if ((rc = uvp__reg_begin(ctx, UVP__FD, user_data, destroy, &idx)) < 0) {
    watch_close(w);
    return rc;
  }
  w->slot = idx;
  if ((rc = uv_poll_start(&w->poll, to_uv_events(events), on_poll)) < 0) {
    uvp__reg_abort(h, idx);
    watch_close(w);
    return uvp__status_from_uv(rc);
  }
  uvp__slot *s = uvp__registry_at(&h->reg, idx);
  s->cb.fd = cb;
  s->u.fd = w;
  *out_id = uvp__id_make(idx, s->gen);
  return 0;
}

void uvp__fd_stop(uvp__fdwatch *w) {
  uv_poll_stop(&w->poll);
  watch_close(w);
}
