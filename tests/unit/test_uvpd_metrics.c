/* uvplugd's metrics endpoint (src/uvplugd/metrics.c, metrics_text.c),
 * linked in directly: label escaping, the exposition text of a host with
 * known counters, the listen-address rules, and requests served by MHD
 * driven from the fixture's loop thread (a plain TCP client on the same
 * thread, so no MHD thread can be what answers). */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_process.h"
#include "metrics_text.h"
#include "uvp_test.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

/* The rendered text, NUL-terminated (caller frees). */
static char *render(uvt_fx *fx, uv_loop_t *loop, const uvpd_daemon_view *view) {
  char *buf = NULL;
  size_t len = 0;
  ck_assert_int_eq(uvpd_metrics_render(fx->host, loop, view, &buf, &len), 0);
  char *s = malloc(len + 1);
  ck_assert_ptr_nonnull(s);
  memcpy(s, buf, len);
  s[len] = '\0';
  free(buf);
  return s;
}

/* Whether text holds line as a whole line. */
static bool has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
    if ((p == text || p[-1] == '\n') && p[n] == '\n') return true;
  return false;
}

#define ck_has_line(text, line) \
  ck_assert_msg(has_line((text), (line)), "missing line: %s", (line))

/* The family a sample line belongs to: its name up to '{' or ' ', with a
 * histogram's _bucket/_sum/_count suffix taken off when base is a
 * histogram family. */
static void sample_family(const char *line, const char *hist, char *out,
                          size_t cap) {
  size_t n = strcspn(line, "{ ");
  if (n >= cap) n = cap - 1;
  memcpy(out, line, n);
  out[n] = '\0';
  size_t h = strlen(hist);
  if (h > 0 && strncmp(out, hist, h) == 0 &&
      (strcmp(out + h, "_bucket") == 0 || strcmp(out + h, "_sum") == 0 ||
       strcmp(out + h, "_count") == 0))
    out[h] = '\0';
}

/* The text format's grouping rule: every sample follows the TYPE line of
 * its own family, and no family is declared twice. Returns the number of
 * families. */
static int check_grouping(const char *text) {
  char fam[128] = "", seen[8192] = " ";
  int families = 0;
  char hist[128] = "";
  for (const char *p = text; *p != '\0';) {
    const char *nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl); /* every line ends with \n */
    char line[1024];
    size_t n = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p)
                                                   : sizeof(line) - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    p = nl + 1;
    char name[128], type[32];
    if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
      char key[132];
      snprintf(key, sizeof(key), " %s ", name);
      ck_assert_msg(strstr(seen, key) == NULL, "family twice: %s", name);
      strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
      snprintf(fam, sizeof(fam), "%s", name);
      snprintf(hist, sizeof(hist), "%s",
               strcmp(type, "histogram") == 0 ? name : "");
      families++;
      continue;
    }
    if (line[0] == '#') continue;
    char got[128];
    sample_family(line, hist, got, sizeof(got));
    ck_assert_msg(strcmp(got, fam) == 0, "sample %s outside its family %s",
                  line, fam);
  }
  return families;
}

/* A TCP port on 127.0.0.1 that nobody listened on a moment ago. */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

/* One HTTP exchange in progress: the server answers from the loop, which
 * uvt_run_until turns while this reads without blocking. */
typedef struct http {
  int fd;
  bool done;
  size_t len;
  char buf[65536];
} http;

static bool http_read(void *arg) {
  http *h = arg;
  for (;;) {
    ssize_t n =
        recv(h->fd, h->buf + h->len, sizeof(h->buf) - 1 - h->len, MSG_DONTWAIT);
    if (n > 0) {
      h->len += (size_t)n;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) h->done = true;
    break;
  }
  h->buf[h->len] = '\0';
  return h->done;
}

/* Send "METHOD PATH HTTP/1.0" to port and return the whole response. */
static void http_get(uvt_fx *fx, int port, const char *method, const char *path,
                     http *h) {
  memset(h, 0, sizeof(*h));
  h->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Completes in the kernel's backlog: the server has not run yet. */
  ck_assert_int_eq(connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  char req[256];
  int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n",
                   method, path);
  ck_assert_int_eq(send(h->fd, req, (size_t)n, 0), n);
  ck_assert(uvt_run_until(fx, http_read, h, 20000));
  close(h->fd);
}

/* The status code of a response, or -1. */
static int http_status(const http *h) {
  int code = -1;
  if (sscanf(h->buf, "HTTP/1.%*d %d", &code) != 1) return -1;
  return code;
}

/* ---------------------------------------------------------------------- */
/* Escaping                                                               */
/* ---------------------------------------------------------------------- */

START_TEST(escape_backslash_quote_newline) {
  char out[64];
  ck_assert_uint_eq(uvpd_metrics_escape(out, sizeof(out), "a\"b\\c\nd"), 10);
  ck_assert_str_eq(out, "a\\\"b\\\\c\\nd");
  ck_assert_uint_eq(uvpd_metrics_escape(out, sizeof(out), "plain-1.x"), 9);
  ck_assert_str_eq(out, "plain-1.x");
  /* A tab and UTF-8 stay as they are: the format escapes only these 3. */
  ck_assert_uint_eq(uvpd_metrics_escape(out, sizeof(out), "t\t\xc3\xa9"), 4);
  ck_assert_str_eq(out, "t\t\xc3\xa9");
  /* Cut like snprintf: the length it needs, NUL-terminated. */
  ck_assert_uint_eq(uvpd_metrics_escape(out, 4, "\"\"\""), 6);
  ck_assert_str_eq(out, "\\\"\\");
  ck_assert_uint_eq(uvpd_metrics_escape(NULL, 0, "\n"), 2);
  ck_assert_uint_eq(uvpd_metrics_escape(out, sizeof(out), NULL), 0);
  ck_assert_str_eq(out, "");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Exposition text                                                        */
/* ---------------------------------------------------------------------- */

START_TEST(process_metrics_read_this_process) {
  char buf[UVPD_PROCESS_TEXT_MAX];
  size_t n = uvpd_metrics_process(buf, sizeof(buf));
  ck_assert_uint_eq(n, strlen(buf));
  double fds = -1, start = -1, rss = -1;
  for (char *l = strtok(buf, "\n"); l != NULL; l = strtok(NULL, "\n")) {
    sscanf(l, "process_open_fds %lf", &fds);
    sscanf(l, "process_start_time_seconds %lf", &start);
    sscanf(l, "process_resident_memory_bytes %lf", &rss);
  }
  /* One more open fd is one more in the count. */
  int fd = dup(2);
  ck_assert_int_ge(fd, 0);
  char buf2[UVPD_PROCESS_TEXT_MAX];
  uvpd_metrics_process(buf2, sizeof(buf2));
  double fds2 = -1;
  for (char *l = strtok(buf2, "\n"); l != NULL; l = strtok(NULL, "\n"))
    sscanf(l, "process_open_fds %lf", &fds2);
  close(fd);
  ck_assert_double_ge(fds, 3);
  ck_assert_double_eq(fds2, fds + 1);
  /* Started after 2020 and not in the future; some memory resident. */
  ck_assert_double_gt(start, 1577836800.0);
  ck_assert_double_le(start, (double)time(NULL) + 1);
  ck_assert_double_gt(rss, 0);
  /* A buffer too small for a family leaves it out whole. */
  char tiny[40];
  ck_assert_uint_eq(uvpd_metrics_process(tiny, sizeof(tiny)), 0);
  ck_assert_str_eq(tiny, "");
}
END_TEST

START_TEST(render_host_topics_and_daemon_view) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvt_rec rec;
  uvt_rec_init(&rec);
  uvt_rec_subscribe(&fx, &rec, "we\"ird\\topic");
  uvp_topic t = uvt_topic(&fx, "we\"ird\\topic");
  uvt_topic(&fx, "idle");
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(fx.api->publish(fx.ctx, t, "x", 1), 0);
  ck_assert(uvt_run_until_int(&fx, &rec.calls, 3));

  uvpd_instance_status inst[2] = {{"ticker", "running", 0},
                                  {"bad\"one\n", "quarantined", 4}};
  uvpd_daemon_view view = {.reloads_ok = 2,
                           .reloads_failed = 1,
                           .restarts_total = 4,
                           .n_instances = 2,
                           .instances = inst,
                           .ready = 1};
  char *s = render(&fx, &fx.loop, &view);
  char line[256];
  snprintf(line, sizeof(line),
           "uvplug_build_info{version=\"%s\",library=\"%s\"} 1", UVPD_VERSION,
           uvp_version_string());
  ck_has_line(s, line);
  ck_has_line(s, "uvplug_ready 1");
  ck_has_line(s, "uvplug_reloads_total{result=\"ok\"} 2");
  ck_has_line(s, "uvplug_reloads_total{result=\"failed\"} 1");
  ck_has_line(s, "uvplug_restarts_total 4");
  ck_has_line(s,
              "uvplug_instance_status{plugin=\"ticker\",status=\"running\"} 1");
  ck_has_line(s,
              "uvplug_instance_status{plugin=\"ticker\",status=\"failed\"} 0");
  ck_has_line(s,
              "uvplug_instance_status{plugin=\"bad\\\"one\\n\",status="
              "\"quarantined\"} 1");
  ck_has_line(s, "uvplug_instance_restarts_total{plugin=\"bad\\\"one\\n\"} 4");
  ck_has_line(s, "uvplug_topics 2");
  ck_has_line(s,
              "uvplug_topic_published_total{topic=\"we\\\"ird\\\\topic\"} 3");
  ck_has_line(s,
              "uvplug_topic_delivered_total{topic=\"we\\\"ird\\\\topic\"} 3");
  ck_has_line(s, "uvplug_topic_subscribers{topic=\"we\\\"ird\\\\topic\"} 1");
  ck_has_line(s, "uvplug_topic_published_total{topic=\"idle\"} 0");
  ck_has_line(s, "uvplug_topic_subscribers{topic=\"idle\"} 0");
  ck_has_line(s, "uvplug_published_total 3");
  ck_has_line(s, "uvplug_delivered_total 3");
  ck_has_line(s, "uvplug_registrations{kind=\"subscription\"} 1");
  ck_has_line(s, "uvplug_plugins{state=\"running\"} 0");
  ck_has_line(s, "# TYPE uvplug_callback_duration_seconds histogram");
  ck_has_line(s, "# TYPE uvplug_loop_idle_seconds_total counter");
  /* The standard process families, as client libraries name them. */
  ck_has_line(s, "# TYPE process_cpu_seconds_total counter");
  ck_has_line(s, "# TYPE process_resident_memory_bytes gauge");
  ck_has_line(s, "# TYPE process_open_fds gauge");
  ck_has_line(s, "# TYPE process_start_time_seconds gauge");
  ck_assert_int_ge(check_grouping(s), 30);
  free(s);

  /* Not ready; no view at all leaves the daemon families out. */
  view.ready = 0;
  s = render(&fx, NULL, &view);
  ck_has_line(s, "uvplug_ready 0");
  free(s);
  s = render(&fx, NULL, NULL);
  ck_assert_ptr_null(strstr(s, "uvplug_ready"));
  ck_assert_ptr_null(strstr(s, "uvplug_loop_idle"));
  ck_assert_ptr_nonnull(strstr(s, "uvplug_build_info{"));
  check_grouping(s);
  free(s);
  uvt_fx_close(&fx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Listen address                                                         */
/* ---------------------------------------------------------------------- */

/* M2: a public address needs allow_public; malformed ones are refused. */
START_TEST(listen_refuses_public_and_bad_addresses) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvpd_daemon_view view = {.ready = 1};
  uvpd_metrics *m = NULL;
  char err[256];
  static const char *const public_addrs[] = {"0.0.0.0:9464", "[::]:9464",
                                             "10.1.2.3:80", "[fe80::1]:80"};
  for (size_t i = 0; i < 4; i++) {
    err[0] = '\0';
    ck_assert_int_eq(
        uvpd_metrics_start(&fx.loop, fx.host, &view, public_addrs[i], 0, &m,
                           err, sizeof(err)),
        UVP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "is not a loopback address"));
    ck_assert_ptr_nonnull(strstr(err, public_addrs[i]));
  }
  static const char *const bad[] = {"",
                                    "127.0.0.1",
                                    "127.0.0.1:",
                                    "127.0.0.1:0",
                                    "127.0.0.1:65536",
                                    "127.0.0.1:80x",
                                    "127.0.0.1:-1",
                                    "host.example:80",
                                    "[::1]9464",
                                    "[::1:9464",
                                    "::1:9464",
                                    "[127.0.0.1]:80"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err[0] = '\0';
    ck_assert_int_eq(uvpd_metrics_start(&fx.loop, fx.host, &view, bad[i], 1, &m,
                                        err, sizeof(err)),
                     UVP_EINVAL);
    ck_assert_msg(strstr(err, "bad listen address") != NULL, "%s: %s", bad[i],
                  err);
  }
  ck_assert_ptr_null(m);
  uvt_fx_close(&fx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Serving from the loop thread                                           */
/* ---------------------------------------------------------------------- */

START_TEST(serves_ready_live_metrics_on_the_loop) {
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvpd_daemon_view view = {.ready = 0};
  uvpd_metrics *m = NULL;
  char err[256] = "";
  int port = free_port();
  char addr[64];
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
  ck_assert_msg(uvpd_metrics_start(&fx.loop, fx.host, &view, addr, 0, &m, err,
                                   sizeof(err)) == 0,
                "%s", err);
  ck_assert_ptr_nonnull(m);

  http h;
  http_get(&fx, port, "GET", "/ready", &h);
  ck_assert_int_eq(http_status(&h), 503);
  view.ready = 1; /* read at every request */
  http_get(&fx, port, "GET", "/ready", &h);
  ck_assert_int_eq(http_status(&h), 200);
  http_get(&fx, port, "GET", "/live", &h);
  ck_assert_int_eq(http_status(&h), 200);
  ck_assert_ptr_nonnull(strstr(h.buf, "\r\n\r\nlive\n"));
  http_get(&fx, port, "GET", "/metrics", &h);
  ck_assert_int_eq(http_status(&h), 200);
  ck_assert_ptr_nonnull(
      strstr(h.buf, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  ck_assert_ptr_nonnull(strstr(h.buf, "\nuvplug_ready 1\n"));
  http_get(&fx, port, "HEAD", "/metrics", &h);
  ck_assert_int_eq(http_status(&h), 200);
  ck_assert_ptr_null(strstr(h.buf, "uvplug_ready"));
  http_get(&fx, port, "POST", "/metrics", &h);
  ck_assert_int_eq(http_status(&h), 405);
  ck_assert_ptr_nonnull(strstr(h.buf, "Allow: GET, HEAD"));
  http_get(&fx, port, "GET", "/metrics/x", &h);
  ck_assert_int_eq(http_status(&h), 404);

  /* The port is taken now: a second server says so, with the errno. */
  uvpd_metrics *m2 = NULL;
  ck_assert_int_eq(uvpd_metrics_start(&fx.loop, fx.host, &view, addr, 0, &m2,
                                      err, sizeof(err)),
                   -EADDRINUSE);
  ck_assert_ptr_nonnull(strstr(err, "cannot listen on"));
  ck_assert_ptr_nonnull(strstr(err, addr));
  ck_assert_ptr_null(m2);

  /* Stop closes the listener at once; the handles close on the loop and
   * uvt_fx_close asserts uv_loop_close succeeds. */
  uvpd_metrics_stop(m);
  uvpd_metrics_stop(NULL);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), -1);
  ck_assert_int_eq(errno, ECONNREFUSED);
  close(fd);
  uvt_fx_close(&fx);
}
END_TEST

START_TEST(binds_ipv6_loopback_only) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  if (probe < 0) return; /* no IPv6 in this sandbox: nothing to test */
  close(probe);
  uvt_fx fx;
  uvt_fx_init(&fx, NULL);
  uvpd_daemon_view view = {.ready = 1};
  uvpd_metrics *m = NULL;
  char err[256] = "", addr[64];
  int port = free_port();
  snprintf(addr, sizeof(addr), "[::1]:%d", port);
  int rc = uvpd_metrics_start(&fx.loop, fx.host, &view, addr, 0, &m, err,
                              sizeof(err));
  if (rc == -EADDRNOTAVAIL) { /* ::1 not configured */
    uvt_fx_close(&fx);
    return;
  }
  ck_assert_msg(rc == 0, "%s", err);
  /* IPV6_V6ONLY: 127.0.0.1 on the same port is not served. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), -1);
  close(fd);
  uvpd_metrics_stop(m);
  uvt_fx_close(&fx);
}
END_TEST

static Suite *metrics_suite(void) {
  Suite *s = suite_create("uvpd_metrics");
  TCase *tc = uvt_tcase(s, "text");
  tcase_add_test(tc, escape_backslash_quote_newline);
  tcase_add_test(tc, process_metrics_read_this_process);
  tcase_add_test(tc, render_host_topics_and_daemon_view);
  tc = uvt_tcase(s, "server");
  tcase_add_test(tc, listen_refuses_public_and_bad_addresses);
  tcase_add_test(tc, serves_ready_live_metrics_on_the_loop);
  tcase_add_test(tc, binds_ipv6_loopback_only);
  return s;
}

int main(void) { return uvt_main(metrics_suite()); }
