/* uvplugd's HTTP endpoint: GET /metrics (Prometheus text format), /ready
 * and /live, served by libmicrohttpd driven from the loop thread.
 *
 * MHD runs without a thread of its own (MHD_USE_EPOLL, external mode): its
 * epoll fd sits in a uv_poll_t and a uv_timer_t follows MHD_get_timeout, so
 * every request is answered on the loop thread, the one that owns the host
 * (T3): no second thread ever reads host state.
 */
#ifndef UVPD_METRICS_H
#define UVPD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <uvplug/uvplug.h>

typedef struct uvpd_metrics uvpd_metrics;

/* One configured instance as the daemon sees it, loaded or not. */
typedef struct uvpd_instance_status {
  const char *name;   /* instance name from the config */
  const char *status; /* "running", "failed" (did not load), "disabled",
                         "quarantined" */
  uint64_t restarts;  /* restarts by the restart policy */
} uvpd_instance_status;

/* What the daemon knows and the library does not; read at each scrape. */
typedef struct uvpd_daemon_view {
  uint64_t reloads_ok, reloads_failed, restarts_total;
  size_t n_instances;
  const uvpd_instance_status *instances; /* owned by the daemon state,
                                            updated in place */
  int ready; /* what /ready answers: 200 if nonzero, else 503 */
} uvpd_daemon_view;

/**
 * Start serving GET /metrics, /ready and /live on listen.
 *
 * @param loop          the daemon's loop.
 * @param host          the host whose statistics /metrics shows.
 * @param view          the daemon's own view, read at every request.
 * @param listen        "ADDR:PORT": an IPv4 literal ("127.0.0.1:9464"), a
 *                      bracketed IPv6 literal ("[::1]:9464") or
 *                      "localhost:PORT" (127.0.0.1); bound exactly.
 * @param allow_public  nonzero to accept an address that is not loopback.
 * @param out           receives the server; written only on success.
 * @param err           receives a one-line reason on failure.
 * @param errlen        size of err.
 * @return 0, UVP_EINVAL (bad address, or not loopback without
 *         allow_public), UVP_ENOMEM, -errno of socket, bind or listen
 *         (-EADDRINUSE...), or -EIO (MHD failed); err says which and why.
 *
 * THREAD:    the loop thread (the one that owns host).
 * OWNERSHIP: the caller owns *out until uvpd_metrics_stop.
 * LIFETIME:  host and view must outlive the server (stop it before
 *            uvp_host_close).
 * SINCE:     0.1
 */
int uvpd_metrics_start(uv_loop_t *loop, uvp_host *host,
                       const uvpd_daemon_view *view, const char *listen,
                       int allow_public, uvpd_metrics **out, char *err,
                       size_t errlen);

/**
 * Stop serving: the listening socket and open connections close now; the
 * libuv handles close on the loop and the server is freed in their close
 * callbacks (run the loop to finish).
 *
 * @param m  the server, or NULL (nothing happens).
 *
 * THREAD:    the loop thread.
 * OWNERSHIP: m is freed; do not use it after the call.
 * LIFETIME:  after this returns, no request reads host or view again.
 * SINCE:     0.1
 */
void uvpd_metrics_stop(uvpd_metrics *m);

/* Renders the /metrics body: 0 and a malloc'd *out_buf, or UVP_ENOMEM. */
typedef int (*uvpd_metrics_render_fn)(void *data, char **out_buf,
                                      size_t *out_len);

/**
 * Render /metrics with fn instead of uvpd_metrics_render of the host: the
 * daemon with worker loops merges every worker's exposition.
 *
 * @param m     the server.
 * @param fn    the renderer, or NULL for the host's own.
 * @param data  passed to fn.
 *
 * THREAD:    the loop thread; fn runs there, inside a request.
 * OWNERSHIP: data stays the caller's.
 * LIFETIME:  data must outlive the server.
 * SINCE:     0.3
 */
void uvpd_metrics_set_render(uvpd_metrics *m, uvpd_metrics_render_fn fn,
                             void *data);

#endif /* UVPD_METRICS_H */
