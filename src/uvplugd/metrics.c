/* The HTTP endpoint (see metrics.h): libmicrohttpd in external epoll mode,
 * driven by a uv_poll_t on MHD's epoll fd and a uv_timer_t that follows
 * MHD_get_timeout. Every MHD_run, hence every request handler, runs on the
 * loop thread.
 *
 *   listen fd ─► MHD epoll fd ─► uv_poll_t ─┐
 *                          MHD_get_timeout ─► uv_timer_t ─► drive(): MHD_run,
 *                                                            re-arm the timer
 *
 * The listening socket is ours (bound before MHD starts), so a bind error
 * names the address and the errno, and the address is bound exactly.
 */
#define _GNU_SOURCE /* accept4 in MHD's headers, SOCK_CLOEXEC */

#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_text.h"

struct uvpd_metrics {
  uv_loop_t *loop;
  uvp_host *host;
  const uvpd_daemon_view *view;
  uvpd_metrics_render_fn render; /* NULL: uvpd_metrics_render of host */
  void *render_data;
  struct MHD_Daemon *mhd;
  uv_poll_t poll;
  uv_timer_t timer;
  int open_handles; /* freed when the last close callback ran */
};

/* Format a one-line reason into err. */
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Parse "A.B.C.D:PORT", "[V6]:PORT" or "localhost:PORT" into ss. Returns 0
 * or -1. Host names other than localhost are refused: the operator binds
 * an address, not whatever a resolver says. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss) {
  char host[64];
  const char *colon;
  const char *h = listen;
  size_t hlen;
  if (listen[0] == '[') {
    const char *rb = strchr(listen, ']');
    if (rb == NULL || rb[1] != ':') return -1;
    h = listen + 1;
    hlen = (size_t)(rb - h);
    colon = rb + 1;
  } else {
    colon = strrchr(listen, ':');
    if (colon == NULL) return -1;
    hlen = (size_t)(colon - listen);
  }
  if (hlen == 0 || hlen >= sizeof(host)) return -1;
  memcpy(host, h, hlen);
  host[hlen] = '\0';

  char *end;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
      port == 0 || port > 65535)
    return -1;

  memset(ss, 0, sizeof(*ss));
  if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  if (listen[0] == '[')
    return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0 ? 0
                                                                        : -1;
  return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0 ? 0 : -1;
}

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int is_loopback(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
    return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
  }
  const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(a)) return 1;
  return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

/* A bound, listening, non-blocking socket on ss, or -errno with err set. */
static int open_listener(const struct sockaddr_storage *ss, const char *addr,
                         char *err, size_t errlen) {
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    int e = errno;
    set_err(err, errlen, "metrics: socket: %s", strerror(e));
    return -e;
  }
  int one = 1;
  /* A restart must not wait out TIME_WAIT of the previous run's scrapes. */
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  /* [::1] means IPv6 only; dual-stack would bind more than was asked. */
  if (ss->ss_family == AF_INET6)
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 16) != 0) {
    int e = errno;
    set_err(err, errlen, "metrics: cannot listen on %s: %s", addr, strerror(e));
    close(fd);
    return -e;
  }
  return fd;
}

/* Queue a response of len bytes; buf is copied unless must_free, in which
 * case MHD frees it with free(). */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code,
                             const char *ctype, char *buf, size_t len,
                             int must_free) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, buf, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (r == NULL) {
    if (must_free) free(buf);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  enum MHD_Result rc = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return rc;
}

/* Reply with a static text body. */
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code,
                                  const char *text) {
  return reply(c, code, "text/plain; charset=utf-8", (char *)text, strlen(text),
               0);
}

/* Marks a request whose headers were seen (req_cls). */
static int headers_seen;

/* MHD's request handler: runs inside MHD_run, on the loop thread. MHD calls
 * it once when the headers are in, then for each piece of body, then once
 * more with *upload_size 0. Answering on that last call, not the first,
 * keeps HTTP/1.1 connections alive: MHD closes a connection whose response
 * was queued before the request was fully read. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
  uvpd_metrics *m = cls;
  (void)version;
  (void)upload;
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
      strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
  if (*req_cls == NULL) {
    *req_cls = &headers_seen;
    return MHD_YES;
  }
  if (*upload_size != 0) { /* a GET with a body: ignore the body */
    *upload_size = 0;
    return MHD_YES;
  }

  if (strcmp(url, "/live") == 0) return reply_text(c, MHD_HTTP_OK, "live\n");
  if (strcmp(url, "/ready") == 0) {
    if (m->view != NULL && m->view->ready)
      return reply_text(c, MHD_HTTP_OK, "ready\n");
    return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
  }
  if (strcmp(url, "/metrics") == 0) {
    char *buf = NULL;
    size_t len = 0;
    int rc = m->render != NULL
                 ? m->render(m->render_data, &buf, &len)
                 : uvpd_metrics_render(m->host, m->loop, m->view, &buf, &len);
    if (rc != 0)
      return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                 buf, len, 1);
  }
  return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void on_timer(uv_timer_t *t);

/* Run MHD once, then let the timer follow its next deadline (none: MHD
 * only waits for the epoll fd). */
static void drive(uvpd_metrics *m) {
  MHD_run(m->mhd);
  MHD_UNSIGNED_LONG_LONG ms = 0;
  if (MHD_get_timeout(m->mhd, &ms) == MHD_YES)
    uv_timer_start(&m->timer, on_timer, (uint64_t)ms, 0);
  else
    uv_timer_stop(&m->timer);
}

/* MHD's epoll fd is readable: a connection or the listener has work. */
static void on_poll(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  drive(p->data);
}

/* MHD's deadline (a connection timeout, or buffered work) came. */
static void on_timer(uv_timer_t *t) { drive(t->data); }

/* Close callback of both handles: the last one frees. */
static void on_handle_closed(uv_handle_t *h) {
  uvpd_metrics *m = h->data;
  if (--m->open_handles == 0) free(m);
}

/* Parse listen and apply the loopback rule; 0 or UVP_EINVAL with err. */
static int check_listen(const char *listen, int allow_public,
                        struct sockaddr_storage *ss, char *err, size_t errlen) {
  if (parse_listen(listen, ss) != 0) {
    set_err(err, errlen,
            "metrics: bad listen address '%s' (want ADDR:PORT, [V6]:PORT or "
            "localhost:PORT)",
            listen);
    return UVP_EINVAL;
  }
  if (!allow_public && !is_loopback(ss)) {
    set_err(err, errlen,
            "metrics: %s is not a loopback address; set metrics_public = yes "
            "to serve it",
            listen);
    return UVP_EINVAL;
  }
  return 0;
}

/* MHD on the bound fd, without a thread of its own: MHD_USE_EPOLL without
 * MHD_USE_INTERNAL_POLLING_THREAD is the external epoll mode. A few
 * connections and a short idle timeout are plenty for a scraper and a
 * health checker. NULL on failure. */
static struct MHD_Daemon *start_mhd(uvpd_metrics *m, int fd, int family) {
  unsigned int flags = MHD_USE_EPOLL;
  if (family == AF_INET6) flags |= MHD_USE_IPv6;
  return MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
}

/* Put MHD's epoll fd in a uv_poll_t and start the timer handle. On failure
 * nothing is left on the loop but what uvpd_metrics_stop closes. */
static int watch_mhd(uvpd_metrics *m, char *err, size_t errlen) {
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
  if (info == NULL) {
    set_err(err, errlen, "metrics: MHD has no epoll fd");
    return -1;
  }
  int rc = uv_poll_init(m->loop, &m->poll, info->epoll_fd);
  if (rc != 0) {
    set_err(err, errlen, "metrics: cannot watch MHD's epoll fd: %s",
            uv_strerror(rc));
    return -1;
  }
  m->poll.data = m;
  uv_timer_init(m->loop, &m->timer); /* cannot fail on Linux */
  m->timer.data = m;
  m->open_handles = 2;
  rc = uv_poll_start(&m->poll, UV_READABLE, on_poll);
  if (rc != 0) {
    set_err(err, errlen, "metrics: uv_poll_start: %s", uv_strerror(rc));
    return -1;
  }
  return 0;
}

int uvpd_metrics_start(uv_loop_t *loop, uvp_host *host,
                       const uvpd_daemon_view *view, const char *listen,
                       int allow_public, uvpd_metrics **out, char *err,
                       size_t errlen) {
  if (loop == NULL || host == NULL || listen == NULL || out == NULL) {
    set_err(err, errlen, "metrics: missing argument");
    return UVP_EINVAL;
  }
  struct sockaddr_storage ss;
  int rc = check_listen(listen, allow_public, &ss, err, errlen);
  if (rc != 0) return rc;
  uvpd_metrics *m = calloc(1, sizeof(*m));
  if (m == NULL) {
    set_err(err, errlen, "metrics: out of memory");
    return UVP_ENOMEM;
  }
  m->loop = loop;
  m->host = host;
  m->view = view;
  /* libuv counts the loop's idle time only when asked; the cost is two
   * clock reads per loop iteration. */
  (void)uv_loop_configure(loop, UV_METRICS_IDLE_TIME);

  int fd = open_listener(&ss, listen, err, errlen);
  if (fd < 0) {
    free(m);
    return fd;
  }
  m->mhd = start_mhd(m, fd, ss.ss_family);
  if (m->mhd == NULL) {
    /* MHD may or may not have closed fd; a leaked fd on a start-up
     * failure beats closing a number that may be reused. */
    set_err(err, errlen, "metrics: MHD_start_daemon failed on %s", listen);
    free(m);
    return -EIO;
  }
  if (watch_mhd(m, err, errlen) != 0) {
    if (m->open_handles > 0) {
      uvpd_metrics_stop(m); /* frees m once the handles closed */
    } else {
      MHD_stop_daemon(m->mhd);
      free(m);
    }
    return -EIO;
  }
  drive(m);
  *out = m;
  return 0;
}

void uvpd_metrics_stop(uvpd_metrics *m) {
  if (m == NULL || m->mhd == NULL) return;
  /* Closing the poll handle takes the epoll fd out of libuv's set now, so
   * MHD may close it right after. */
  uv_close((uv_handle_t *)&m->poll, on_handle_closed);
  uv_close((uv_handle_t *)&m->timer, on_handle_closed);
  MHD_stop_daemon(m->mhd);
  m->mhd = NULL;
}

void uvpd_metrics_set_render(uvpd_metrics *m, uvpd_metrics_render_fn fn,
                             void *data) {
  m->render = fn;
  m->render_data = data;
}
