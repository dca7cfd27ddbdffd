/* fd watches (D7): readiness callbacks on a socketpair, cancel, destroy
 * counts and argument checks. Mirrors src/fdwatch.c. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uvp-internal.h"
#include "uvp_test.h"

typedef struct watch {
  uvt_fx *fx;
  uvp_id id;
  int fd;
  int calls;
  int destroys;
  int destroys_seen_in_cb;
  int last_status, last_events, last_fd;
  int cancel_self_on;
  int bytes;
} watch;

static uvt_fx fx;
static int sv[2];

static void setup(void) {
  uvt_fx_init(&fx, NULL);
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void teardown(void) {
  uvt_fx_close(&fx);
  close(sv[0]);
  close(sv[1]);
}

static int watch_cb(uvp_ctx *ctx, int fd, int status, int events, void *ud) {
  watch *w = ud;
  w->calls++;
  w->last_fd = fd;
  w->last_status = status;
  w->last_events = events;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf); /* drain: level-triggered */
  if (n > 0) w->bytes += (int)n;
  if (w->calls == w->cancel_self_on) {
    ck_assert_int_eq(w->fx->api->cancel(ctx, w->id), 0);
    ck_assert_int_eq(w->fx->api->cancel(ctx, w->id), UVP_ESTALE);
  }
  w->destroys_seen_in_cb = w->destroys;
  return 0;
}

static void watch_destroy(void *ud) { ((watch *)ud)->destroys++; }

static void watch_start(watch *w, int fd, int events) {
  memset(w, 0, sizeof *w);
  w->fx = &fx;
  w->fd = fd;
  ck_assert_int_eq(
      fx.api->fd_watch(fx.ctx, fd, events, watch_cb, w, watch_destroy, &w->id),
      0);
  ck_assert_uint_ne(w->id, 0);
}

static bool fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* D7: readable fires with UVP_FD_READABLE, each time the fd is ready;
 * cancel stops it, destroy runs once, and the host never closes the fd. */
START_TEST(readable_then_cancel) {
  static watch w;
  watch_start(&w, sv[0], UVP_FD_READABLE);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(w.calls, 0); /* nothing to read yet */
  ck_assert_int_eq(write(sv[1], "ab", 2), 2);
  ck_assert(uvt_run_until_int(&fx, &w.calls, 1));
  ck_assert_int_eq(w.last_status, 0);
  ck_assert_int_eq(w.last_events, UVP_FD_READABLE);
  ck_assert_int_eq(w.last_fd, sv[0]);
  ck_assert_int_eq(w.bytes, 2);
  ck_assert_int_eq(write(sv[1], "c", 1), 1);
  ck_assert(uvt_run_until_int(&fx, &w.calls, 2));
  ck_assert_int_eq(w.bytes, 3);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, w.id), 0);
  ck_assert_int_eq(w.destroys, 1); /* L1: before cancel returned */
  ck_assert_int_eq(write(sv[1], "d", 1), 1);
  uvt_run_turns(&fx, 10);
  ck_assert_int_eq(w.calls, 2);
  ck_assert_int_eq(w.destroys, 1);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, w.id), UVP_ESTALE); /* L4 */
  ck_assert(fd_open(sv[0]));                                  /* D7 */
}
END_TEST

/* L2: cancel from inside its own fd callback. */
START_TEST(cancel_self_in_callback) {
  static watch w;
  watch_start(&w, sv[0], UVP_FD_READABLE);
  w.cancel_self_on = 1;
  ck_assert_int_eq(write(sv[1], "a", 1), 1);
  ck_assert(uvt_run_until_int(&fx, &w.destroys, 1));
  ck_assert_int_eq(write(sv[1], "b", 1), 1);
  uvt_run_turns(&fx, 10);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.destroys_seen_in_cb, 0);
  ck_assert_int_eq(w.destroys, 1);
  ck_assert(fd_open(sv[0]));
}
END_TEST

/* D7: a writable socket reports UVP_FD_WRITABLE. */
START_TEST(writable) {
  static watch w;
  watch_start(&w, sv[1], UVP_FD_WRITABLE);
  w.cancel_self_on = 1;
  ck_assert(uvt_run_until_int(&fx, &w.calls, 1));
  ck_assert_int_eq(w.last_status, 0);
  ck_assert_int_eq(w.last_events, UVP_FD_WRITABLE);
  ck_assert_int_eq(w.destroys, 1);
}
END_TEST

/* Two watches on the two ends work independently. */
START_TEST(two_watches) {
  static watch a, b;
  watch_start(&a, sv[0], UVP_FD_READABLE);
  watch_start(&b, sv[1], UVP_FD_READABLE);
  ck_assert_int_eq(write(sv[1], "x", 1), 1);
  ck_assert(uvt_run_until_int(&fx, &a.calls, 1));
  ck_assert_int_eq(b.calls, 0);
  ck_assert_int_eq(write(sv[0], "yz", 2), 2);
  ck_assert(uvt_run_until_int(&fx, &b.calls, 1));
  ck_assert_int_eq(b.bytes, 2);
  ck_assert_int_eq(a.calls, 1);
}
END_TEST

/* D7: after cancel the same fd can be watched again at once (the old
 * poll handle may still be closing) and the new watch works. */
START_TEST(rewatch_after_cancel) {
  static watch a, b;
  watch_start(&a, sv[0], UVP_FD_READABLE);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), 0);
  watch_start(&b, sv[0], UVP_FD_READABLE);
  ck_assert_int_eq(write(sv[1], "z", 1), 1);
  ck_assert(uvt_run_until_int(&fx, &b.calls, 1));
  ck_assert_int_eq(b.last_events, UVP_FD_READABLE);
  ck_assert_int_eq(a.calls, 0);
  ck_assert_int_eq(a.destroys, 1);
}
END_TEST

/* L2 then D7: cancel inside the callback, then watch the fd again from
 * the same callback's aftermath. */
START_TEST(rewatch_from_callback) {
  static watch a, b;
  watch_start(&a, sv[0], UVP_FD_READABLE);
  a.cancel_self_on = 1;
  ck_assert_int_eq(write(sv[1], "1", 1), 1);
  ck_assert(uvt_run_until_int(&fx, &a.destroys, 1));
  watch_start(&b, sv[0], UVP_FD_READABLE);
  ck_assert_int_eq(write(sv[1], "2", 1), 1);
  ck_assert(uvt_run_until_int(&fx, &b.calls, 1));
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(b.bytes, 1);
}
END_TEST

/* L1 at host close: a live watch is destroyed once; the fd stays open. */
START_TEST(destroy_on_close) {
  static watch w;
  watch_start(&w, sv[0], UVP_FD_READABLE);
  uvt_fx_close_host(&fx);
  ck_assert_int_eq(w.destroys, 1);
  ck_assert_int_eq(w.calls, 0);
  ck_assert(fd_open(sv[0]));
}
END_TEST

/* F3, L6: bad events, NULL callback, bad fd: UVP_EINVAL, no destroy, out_id
 * untouched. */
static const struct {
  const char *what;
  int fd_kind; /* 0: socket, 1: -1 */
  int events;
  bool null_cb;
} bad_cases[] = {
    {"events 0", 0, 0, false},
    {"unknown event bit", 0, 4, false},
    {"known and unknown bits", 0, UVP_FD_READABLE | 8, false},
    {"negative events", 0, -1, false},
    {"NULL callback", 0, UVP_FD_READABLE, true},
    {"fd -1", 1, UVP_FD_READABLE, false},
};

START_TEST(bad_args) {
  static watch w;
  memset(&w, 0, sizeof w);
  uvp_id id = 0x77;
  int fd = bad_cases[_i].fd_kind == 1 ? -1 : sv[0];
  int rc = fx.api->fd_watch(fx.ctx, fd, bad_cases[_i].events,
                            bad_cases[_i].null_cb ? NULL : watch_cb, &w,
                            watch_destroy, &id);
  ck_assert_msg(rc == UVP_EINVAL, "%s: got %d", bad_cases[_i].what, rc);
  ck_assert_uint_eq(id, 0x77);
  ck_assert_int_eq(write(sv[1], "a", 1), 1);
  uvt_run_turns(&fx, 5);
  ck_assert_int_eq(w.calls, 0);
  ck_assert_int_eq(w.destroys, 0);
}
END_TEST

/* F3, L6: a regular file cannot be polled (EPERM from epoll): UVP_EINVAL,
 * never libuv's raw code; destroy is not called and out_id is untouched. */
START_TEST(regular_file) {
  char path[] = "/tmp/uvt-fdwatch-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  unlink(path);
  static watch w;
  memset(&w, 0, sizeof w);
  uvp_id id = 0x77;
  ck_assert_int_eq(fx.api->fd_watch(fx.ctx, fd, UVP_FD_READABLE, watch_cb, &w,
                                    watch_destroy, &id),
                   UVP_EINVAL);
  ck_assert_uint_eq(id, 0x77);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(w.destroys, 0);
  ck_assert(fd_open(fd));
  close(fd);
}
END_TEST

/* F3: watching an fd this loop already watches is UVP_EBUSY (libuv's
 * UV_EEXIST, which uvp_strerror does not know, never leaks out), and a
 * closed fd is UVP_EINVAL. */
START_TEST(already_watched_is_busy) {
  static watch a, b;
  watch_start(&a, sv[0], UVP_FD_READABLE);
  memset(&b, 0, sizeof b);
  uvp_id id = 0x77;
  ck_assert_int_eq(fx.api->fd_watch(fx.ctx, sv[0], UVP_FD_READABLE, watch_cb,
                                    &b, watch_destroy, &id),
                   UVP_EBUSY);
  ck_assert_str_ne(uvp_strerror(UVP_EBUSY), "unknown error");
  int dead = dup(sv[1]);
  ck_assert_int_ge(dead, 0);
  close(dead);
  ck_assert_int_eq(fx.api->fd_watch(fx.ctx, dead, UVP_FD_READABLE, watch_cb, &b,
                                    watch_destroy, &id),
                   UVP_EINVAL);
  ck_assert_uint_eq(id, 0x77);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, a.id), 0);
  uvt_run_turns(&fx, 3);
  ck_assert_int_eq(b.destroys, 0);
}
END_TEST

/* D7: a watch leaves the fd's O_NONBLOCK flag as it found it: set by libuv
 * while watched, cleared again on cancel (and on host close) if the fd was
 * blocking; an fd that was already non-blocking stays so. */
START_TEST(blocking_flag_restored) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0); /* blocking, unlike sv */
  static watch w, nb;
  watch_start(&w, p[0], UVP_FD_READABLE);
  ck_assert(fcntl(p[0], F_GETFL) & O_NONBLOCK); /* libuv's, while watched */
  watch_start(&nb, sv[0], UVP_FD_READABLE);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, w.id), 0);
  ck_assert_int_eq(fx.api->cancel(fx.ctx, nb.id), 0);
  ck_assert(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
  ck_assert(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
  watch_start(&w, p[0], UVP_FD_READABLE);
  uvt_fx_close_host(&fx); /* close cancels it: restored too */
  ck_assert(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
  ck_assert_int_eq(w.destroys, 1);
  close(p[0]);
  close(p[1]);
}
END_TEST

static Suite *fdwatch_suite(void) {
  Suite *s = suite_create("fdwatch");
  TCase *tc = uvt_tcase(s, "watch");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, readable_then_cancel);
  tcase_add_test(tc, cancel_self_in_callback);
  tcase_add_test(tc, writable);
  tcase_add_test(tc, two_watches);
  tcase_add_test(tc, rewatch_after_cancel);
  tcase_add_test(tc, rewatch_from_callback);
  tcase_add_test(tc, destroy_on_close);
  tc = uvt_tcase(s, "args");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, bad_args, 0,
                      (int)(sizeof bad_cases / sizeof bad_cases[0]));
  tcase_add_test(tc, regular_file);
  tcase_add_test(tc, already_watched_is_busy);
  tcase_add_test(tc, blocking_flag_restored);
  return s;
}

int main(void) { return uvt_main(fdwatch_suite()); }
