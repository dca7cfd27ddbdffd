/* The hostile plugin: misbehaves in the way its config "case=NAME" asks, for
 * integration.hostile (tests/integration/test_hostile.c holds each case's
 * expected reaction and the contract rules it exercises).
 *
 * config: "case=NAME" plus, for some cases, "fd=N" (a descriptor of the
 * test's) or "id=N" (a registration id of the embedder's).
 * It reports what the host answered through log lines "NAME: key=STATUS
 * ..." (status names as uvp_err_name spells them, without "UVP_"), and
 * through the exported counters below, which on_init resets (one hostile
 * instance per case).
 * Thread: loop thread, except the threads the "foreign" and "flood" cases
 * start (joined before on_init returns) and the work functions.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static atomic_uint_fast64_t destroys, unloads, frees, spins, work_max, work_now,
    work_done;
static atomic_int release_work; /* set by the test: blocked work returns */
static atomic_int done_status;
static uvp_remote *leaked_remote;

EXPORT uint64_t hostile_destroys(void) { return destroys; }
EXPORT uint64_t hostile_unloads(void) { return unloads; }
EXPORT uint64_t hostile_frees(void) { return frees; }
EXPORT uint64_t hostile_spins(void) { return spins; }
EXPORT uint64_t hostile_work_max(void) { return work_max; }
EXPORT uint64_t hostile_work_now(void) { return work_now; }
/* rc of the blocked poster of block_then_unload, or of work_calls_loop */
static atomic_int thread_rc = 1;
EXPORT uint64_t hostile_thread_rc(void) { return (uint64_t)(int64_t)thread_rc; }
EXPORT uint64_t hostile_work_done(void) { return work_done; }
EXPORT uint64_t hostile_done_status(void) { return (uint64_t)done_status; }
EXPORT uint64_t hostile_release_work(void) { return release_work = 1; }
/* The remote the "leak" cases never release (the test releases it). */
EXPORT uint64_t hostile_remote(void) { return (uint64_t)leaked_remote; }

typedef struct hostile hostile;
typedef void (*hook_fn)(hostile *h);

struct hostile {
  uvp_ctx *ctx;
  const uvp_api *api;
  char name[32];
  uvp_topic in, kick;
  int fd;
  uvp_id id, id2;
  int n;
  hook_fn on_start, on_stop, on_kick;
  int start_rc;
  pthread_t thread; /* joined in on_unload when has_thread */
  int has_thread;
};

static const char *st(int rc) {
  switch (rc) {
    case 0:
      return "OK";
#define X(name, value, text) \
  case UVP_##name:           \
    return #name;
      UVP_ERRNO_MAP(X)
#undef X
    default:
      return "?";
  }
}

static void say(hostile *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(hostile *h, const char *fmt, ...) {
  char line[400];
  int n = snprintf(line, sizeof line, "%s: ", h->name);
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  h->api->log(h->ctx, UVP_LOG_INFO, line, strlen(line));
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void count_destroy(void *ud) {
  (void)ud;
  destroys++;
}
static void count_free(void *data, size_t len, void *hint) {
  (void)len;
  (void)hint;
  free(data);
  frees++;
}
static int nop_event(uvp_ctx *c, const uvp_event *ev, void *ud) {
  (void)c, (void)ev, (void)ud;
  return 0;
}
static int nop_timer(uvp_ctx *c, void *ud) {
  (void)c, (void)ud;
  return 0;
}
static int nop_fd(uvp_ctx *c, int fd, int status, int events, void *ud) {
  (void)c, (void)fd, (void)status, (void)events, (void)ud;
  return 0;
}
static int nop_post(uvp_ctx *c, void *ud) {
  (void)c, (void)ud;
  return 0;
}
static void quick_work(void *ud) { (void)ud; }
static int count_done(uvp_ctx *c, int status, void *ud) {
  (void)c, (void)ud;
  done_status = status;
  work_done++;
  return 0;
}

static int sub(hostile *h, uvp_topic t, uvp_event_cb cb, uvp_destroy_fn d,
               uvp_id *id) {
  uvp_id tmp;
  return h->api->subscribe(h->ctx, t, cb, h, d, id ? id : &tmp);
}

/* ---- init and start --------------------------------------------------- */

static int init_sleep(hostile *h) {
  sleep_ms(300);
  say(h, "slept 300 ms");
  return 0;
}

/* A9: registers one of each, then fails. */
static int init_fail(hostile *h) {
  int p[2];
  if (pipe(p) != 0) return UVP_EINVAL;
  uvp_id id;
  int a = sub(h, h->in, nop_event, count_destroy, NULL);
  int b = h->api->timer_start(h->ctx, 10, 10, nop_timer, h, count_destroy, &id);
  int c = h->api->fd_watch(h->ctx, p[0], UVP_FD_READABLE, nop_fd, h,
                           count_destroy, &id);
  say(h, "sub=%s timer=%s fd=%s", st(a), st(b), st(c));
  close(p[0]);
  close(p[1]);
  return UVP_EINVAL;
}

static void slow_work(void *ud) {
  (void)ud;
  sleep_ms(100);
}

/* A9: work still running when on_init fails ends later, cancelled. */
static int init_fail_work(hostile *h) {
  uvp_id id;
  int rc =
      h->api->work_queue(h->ctx, slow_work, count_done, h, count_destroy, &id);
  say(h, "work=%s", st(rc));
  sleep_ms(20); /* let the pool thread start it */
  return UVP_EINVAL;
}

/* W6: on_init holds the loop 250 ms after queuing a 100 ms item, then
 * fails: the drain bound must count from the failure, not from the loop's
 * last time update (the item finished long before its deadline). */
static int init_fail_slow(hostile *h) {
  uvp_id id;
  int rc =
      h->api->work_queue(h->ctx, slow_work, count_done, h, count_destroy, &id);
  say(h, "work=%s", st(rc));
  sleep_ms(250);
  return UVP_EINVAL;
}

static void start_fail_hook(hostile *h) {
  int rc = sub(h, h->in, nop_event, count_destroy, NULL);
  say(h, "start sub=%s", st(rc));
  h->start_rc = UVP_EINVAL;
}

static int init_panic(hostile *h) {
  (void)h;
  return UVP_EPANIC;
}

static int init_unload_self(hostile *h) {
  say(h, "unload_self=%s", st(h->api->unload_self(h->ctx)));
  return 0;
}

/* L5: another owner's live id. */
static int init_cancel_others(hostile *h) {
  say(h, "cancel=%s", st(h->api->cancel(h->ctx, h->id)));
  return 0;
}

static int init_cancel_garbage(hostile *h) {
  int a = h->api->cancel(h->ctx, 0);
  int b = h->api->cancel(h->ctx, ~(uvp_id)0);
  int c = h->api->cancel(h->ctx, ((uvp_id)77 << 32) | 5000);
  say(h, "zero=%s ones=%s unissued=%s", st(a), st(b), st(c));
  return 0;
}

static int init_double_cancel(hostile *h) {
  uvp_id id;
  sub(h, h->in, nop_event, count_destroy, &id);
  int a = h->api->cancel(h->ctx, id);
  int b = h->api->cancel(h->ctx, id);
  say(h, "first=%s second=%s", st(a), st(b));
  return 0;
}

/* D4: the queue holds queue_capacity (256 in the test), the rest EAGAIN. */
static int init_storm(hostile *h) {
  int ok = 0, again = 0, other = 0;
  for (int i = 0; i < 356; i++) {
    int rc = h->api->publish(h->ctx, h->in, &i, sizeof i);
    rc == 0 ? ok++ : rc == UVP_EAGAIN ? again++ : other++;
  }
  say(h, "ok=%d again=%d other=%d", ok, again, other);
  return 0;
}

/* F4: max_payload is 4096 in the test. */
static int init_huge(hostile *h) {
  size_t max = 4096;
  char *buf = calloc(1, max + 1);
  if (buf == NULL) return UVP_ENOMEM;
  int a = h->api->publish(h->ctx, h->in, buf, max + 1);
  int b = h->api->publish_owned(h->ctx, h->in, buf, max + 1, count_free, NULL);
  int c = h->api->publish(h->ctx, h->in, buf, SIZE_MAX);
  int d = h->api->publish(h->ctx, h->in, buf, max);
  free(buf);
  say(h, "over=%s owned_over=%s sizemax=%s max=%s", st(a), st(b), st(c), st(d));
  return 0;
}

/* F4: topic names. */
static int init_topics(hostile *h) {
  uvp_topic t;
  char big[300];
  memset(big, 'a', sizeof big);
  int a = h->api->topic(h->ctx, "", 0, &t);
  int b = h->api->topic(h->ctx, "a\0b", 3, &t);
  int c = h->api->topic(h->ctx, "\xff\xfe", 2, &t);
  int d = h->api->topic(h->ctx, "\xc3", 1, &t);
  int e = h->api->topic(h->ctx, "\xc0\xaf", 2, &t);
  int f = h->api->topic(h->ctx, "\xed\xa0\x80", 3, &t);
  int g = h->api->topic(h->ctx, big, 256, &t);
  int i = h->api->topic(h->ctx, NULL, 3, &t);
  int j = h->api->topic(h->ctx, "ok", 2, NULL);
  int k = h->api->topic(h->ctx, big, 255, &t);
  say(h,
      "empty=%s nul=%s ff=%s cut=%s overlong=%s surrogate=%s 256=%s null=%s "
      "noout=%s 255=%s",
      st(a), st(b), st(c), st(d), st(e), st(f), st(g), st(i), st(j), st(k));
  return 0;
}

/* F3, F5: bad arguments to every registering function. */
static int init_bad_args(hostile *h) {
  const uvp_api *A = h->api;
  uvp_ctx *x = h->ctx;
  uvp_id id;
  say(h, "sub_nullcb=%s sub_noid=%s sub_topic=%s pub_topic=%s pub_null=%s",
      st(A->subscribe(x, h->in, NULL, h, NULL, &id)),
      st(A->subscribe(x, h->in, nop_event, h, NULL, NULL)),
      st(A->subscribe(x, 99999, nop_event, h, count_destroy, &id)),
      st(A->publish(x, 99999, "a", 1)), st(A->publish(x, h->in, NULL, 5)));
  say(h, "timer_nullcb=%s timer_repeat=%s owned_nofree=%s now_null=%s",
      st(A->timer_start(x, 1, 0, NULL, h, NULL, &id)),
      st(A->timer_start(x, 1, (uint64_t)UINT32_MAX + 1, nop_timer, h,
                        count_destroy, &id)),
      st(A->publish_owned(x, h->in, "a", 1, NULL, NULL)),
      st(A->now_ms(x, NULL)));
  say(h, "fd_noevents=%s fd_badflag=%s work_null=%s log_level=%s",
      st(A->fd_watch(x, 0, 0, nop_fd, h, NULL, &id)),
      st(A->fd_watch(x, 0, 8 | UVP_FD_READABLE, nop_fd, h, NULL, &id)),
      st(A->work_queue(x, NULL, count_done, h, NULL, &id)),
      st(A->log(x, 9, "x", 1)));
  say(h, "fault_zero=%s fault_pos=%s name_null=%s ctx_null=%s remote_null=%s",
      st(A->fault(x, 0, "x", 1)), st(A->fault(x, 5, "x", 1)),
      st(A->instance_name(x, NULL, NULL)), st(A->publish(NULL, h->in, "a", 1)),
      st(A->remote_post(NULL, nop_post, h, NULL, UVP_POST_NONBLOCK)));
  return 0;
}

/* D7: descriptors that cannot be watched. */
static int init_fd_closed(hostile *h) {
  int p[2];
  if (pipe(p) != 0) return UVP_EINVAL;
  close(p[0]);
  close(p[1]);
  uvp_id id;
  int rc = h->api->fd_watch(h->ctx, p[0], UVP_FD_READABLE, nop_fd, h,
                            count_destroy, &id);
  int neg = h->api->fd_watch(h->ctx, -1, UVP_FD_READABLE, nop_fd, h,
                             count_destroy, &id);
  say(h, "closed=%s negative=%s", st(rc), st(neg));
  return 0;
}

static int init_fd_regular(hostile *h) {
  FILE *f = tmpfile();
  if (f == NULL) return UVP_EINVAL;
  uvp_id id;
  int rc = h->api->fd_watch(h->ctx, fileno(f), UVP_FD_READABLE, nop_fd, h,
                            count_destroy, &id);
  fclose(f);
  say(h, "regular=%s", st(rc));
  return 0;
}

/* D7: the test's pipe, watched twice; the first watch lives on. */
static int init_fd_twice(hostile *h) {
  uvp_id id;
  int a = h->api->fd_watch(h->ctx, h->fd, UVP_FD_READABLE, nop_fd, h,
                           count_destroy, &id);
  int b = h->api->fd_watch(h->ctx, h->fd, UVP_FD_WRITABLE, nop_fd, h,
                           count_destroy, &id);
  say(h, "first=%s second=%s", st(a), st(b));
  return 0;
}

/* D6: a timer past 2^40 ms is never due; repeat past UINT32_MAX is bad. */
static int init_timer_never(hostile *h) {
  uvp_id id;
  int rc = h->api->timer_start(h->ctx, UINT64_MAX, 0, nop_timer, h,
                               count_destroy, &id);
  say(h, "never=%s", st(rc));
  return 0;
}

/* D6: re-arms a 0 ms one-shot timer from its own callback, forever. */
static int spin_timer(uvp_ctx *c, void *ud) {
  hostile *h = ud;
  spins++;
  uvp_id id;
  return h->api->timer_start(c, 0, 0, spin_timer, h, NULL, &id);
}
static int init_timer_spin(hostile *h) {
  uvp_id id;
  return h->api->timer_start(h->ctx, 0, 0, spin_timer, h, NULL, &id);
}

/* A repeating timer whose callback is slower than its period. */
static int busy_timer(uvp_ctx *c, void *ud) {
  (void)c, (void)ud;
  spins++;
  sleep_ms(3);
  return 0;
}
static int init_timer_busy(hostile *h) {
  uvp_id id;
  return h->api->timer_start(h->ctx, 0, 1, busy_timer, h, NULL, &id);
}

/* ---- callbacks on h.kick ------------------------------------------------ */

static int on_kick(uvp_ctx *c, const uvp_event *ev, void *ud) {
  (void)c, (void)ev;
  hostile *h = ud;
  if (h->on_kick) h->on_kick(h);
  return h->start_rc;
}
static int kick_init(hostile *h, hook_fn fn) {
  h->on_kick = fn;
  return sub(h, h->kick, on_kick, NULL, NULL);
}

/* D4, D5: 4 x queue_capacity publishes from inside a callback. */
static void storm_hook(hostile *h) {
  int ok = 0, again = 0;
  for (int i = 0; i < 1024; i++)
    h->api->publish(h->ctx, h->in, &i, sizeof i) == 0 ? ok++ : again++;
  say(h, "ok=%d again=%d", ok, again);
}
static int init_storm_cb(hostile *h) { return kick_init(h, storm_hook); }

/* L8, D4: refused owned payloads stay the caller's (freed here). */
static void storm_owned_hook(hostile *h) {
  int ok = 0, again = 0;
  for (int i = 0; i < 1024; i++) {
    int *p = malloc(sizeof *p);
    if (p == NULL) continue;
    *p = i;
    if (h->api->publish_owned(h->ctx, h->in, p, sizeof *p, count_free, NULL) ==
        0) {
      ok++;
    } else {
      again++;
      free(p);
    }
  }
  say(h, "ok=%d again=%d", ok, again);
}
static int init_storm_owned(hostile *h) {
  return kick_init(h, storm_owned_hook);
}

static void sleep_hook(hostile *h) {
  (void)h;
  sleep_ms(150);
}
static int init_slow_event(hostile *h) { return kick_init(h, sleep_hook); }

static void panic_hook(hostile *h) { h->start_rc = UVP_EPANIC; }
static int init_epanic(hostile *h) { return kick_init(h, panic_hook); }
static void error_hook(hostile *h) { h->start_rc = -5; /* -EIO */ }
static int init_error(hostile *h) { return kick_init(h, error_hook); }

/* U6: unload_self twice from one callback. */
static void self_hook(hostile *h) {
  int a = h->api->unload_self(h->ctx);
  int b = h->api->unload_self(h->ctx);
  uvp_id id;
  int c = h->api->timer_start(h->ctx, 1, 0, nop_timer, h, NULL, &id);
  say(h, "first=%s second=%s register=%s", st(a), st(b), st(c));
}
static int init_self_event(hostile *h) { return kick_init(h, self_hook); }

static int self_timer(uvp_ctx *c, void *ud) {
  hostile *h = ud;
  say(h, "timer unload_self=%s", st(h->api->unload_self(c)));
  return 0;
}
static int init_self_timer(hostile *h) {
  uvp_id id;
  return h->api->timer_start(h->ctx, 1, 5, self_timer, h, count_destroy, &id);
}

/* S3: from a destroy (cancelled from the kick callback). */
static void self_destroy(void *ud) {
  hostile *h = ud;
  destroys++;
  say(h, "destroy unload_self=%s", st(h->api->unload_self(h->ctx)));
}
static void cancel_hook(hostile *h) {
  say(h, "cancel=%s", st(h->api->cancel(h->ctx, h->id)));
}
static int init_self_destroy(hostile *h) {
  int rc = sub(h, h->in, nop_event, self_destroy, &h->id);
  return rc < 0 ? rc : kick_init(h, cancel_hook);
}

static void stop_self(hostile *h) {
  say(h, "stop unload_self=%s", st(h->api->unload_self(h->ctx)));
}
static int init_self_stop(hostile *h) {
  h->on_stop = stop_self;
  return 0;
}

/* S3: from a payload's free_fn. */
static hostile *free_owner;
static void self_free(void *data, size_t len, void *hint) {
  (void)len, (void)hint;
  free(data);
  frees++;
  say(free_owner, "free unload_self=%s",
      st(free_owner->api->unload_self(free_owner->ctx)));
}
static void owned_hook(hostile *h) {
  free_owner = h;
  char *p = strdup("owned");
  int rc = h->api->publish_owned(h->ctx, h->in, p, 5, self_free, NULL);
  if (rc != 0) free(p);
  say(h, "owned=%s", st(rc));
}
static int init_self_free(hostile *h) { return kick_init(h, owned_hook); }

static int self_post(uvp_ctx *c, void *ud) {
  hostile *h = ud;
  say(h, "post unload_self=%s", st(h->api->unload_self(c)));
  return 0;
}
static int init_self_post(hostile *h) {
  uvp_remote *r;
  int rc = h->api->remote_new(h->ctx, &r);
  if (rc < 0) return rc;
  rc = h->api->remote_post(r, self_post, h, count_destroy, UVP_POST_NONBLOCK);
  h->api->remote_release(r);
  return rc;
}

static int self_done(uvp_ctx *c, int status, void *ud) {
  hostile *h = ud;
  say(h, "done status=%s unload_self=%s", st(status),
      st(h->api->unload_self(c)));
  return 0;
}
static int init_self_done(hostile *h) {
  uvp_id id;
  return h->api->work_queue(h->ctx, quick_work, self_done, h, count_destroy,
                            &id);
}

/* Registers from its destroys: accepted while running, UVP_ECLOSED once
 * the unload began (U1). */
static void reg_destroy(void *ud) {
  hostile *h = ud;
  destroys++;
  uvp_id id;
  int rc = h->api->subscribe(h->ctx, h->in, nop_event, h, reg_destroy, &id);
  int t = h->api->timer_start(h->ctx, 1, 0, nop_timer, h, NULL, &id);
  if (t == 0) h->api->cancel(h->ctx, id);
  say(h, "destroy subscribe=%s timer=%s", st(rc), st(t));
}
static void cancel_reg_hook(hostile *h) { h->api->cancel(h->ctx, h->id); }
static int init_reg_destroy(hostile *h) {
  int rc = sub(h, h->in, nop_event, reg_destroy, &h->id);
  return rc < 0 ? rc : kick_init(h, cancel_reg_hook);
}

/* Publishes from a destroy run by the unload. */
static void pub_destroy(void *ud) {
  hostile *h = ud;
  destroys++;
  say(h, "destroy publish=%s", st(h->api->publish(h->ctx, h->in, "bye", 3)));
}
static int init_pub_destroy(hostile *h) {
  return sub(h, h->in, nop_event, pub_destroy, NULL);
}

/* An owned payload's free_fn publishes again (re-entrant from the host). */
static void repub_free(void *data, size_t len, void *hint) {
  (void)len, (void)hint;
  free(data);
  frees++;
  if (frees == 1)
    say(free_owner, "free publish=%s",
        st(free_owner->api->publish(free_owner->ctx, free_owner->in, "re", 2)));
}
static void repub_hook(hostile *h) {
  free_owner = h;
  char *p = strdup("x");
  if (h->api->publish_owned(h->ctx, h->in, p, 1, repub_free, NULL) != 0)
    free(p);
}
static int init_free_publish(hostile *h) { return kick_init(h, repub_hook); }

/* F7: a destroy reports a panic. */
static void fault_destroy(void *ud) {
  hostile *h = ud;
  destroys++;
  const char m[] = "destroy panicked";
  say(h, "fault=%s", st(h->api->fault(h->ctx, UVP_EPANIC, m, sizeof m - 1)));
}
static void cancel_fault_hook(hostile *h) { h->api->cancel(h->ctx, h->id); }
static int init_fault_destroy(hostile *h) {
  int rc = sub(h, h->in, nop_event, fault_destroy, &h->id);
  return rc < 0 ? rc : kick_init(h, cancel_fault_hook);
}

/* A16: a long log line full of control bytes. */
static int init_log_flood(hostile *h) {
  size_t n = 100000;
  char *m = malloc(n);
  if (m == NULL) return UVP_ENOMEM;
  for (size_t i = 0; i < n; i++) m[i] = (i % 7 == 0) ? '\x01' : 'z';
  memcpy(m, "BEGIN", 5);
  memcpy(m + n - 3, "END", 3);
  int rc = h->api->log(h->ctx, UVP_LOG_WARN, m, n);
  free(m);
  say(h, "log=%s", st(rc));
  return 0;
}

/* Interns topics until the host's table is full. */
static int init_topic_exhaust(hostile *h) {
  int ok = 0, rc = 0;
  char name[32];
  for (int i = 0; i < 100 && rc == 0; i++) {
    uvp_topic t;
    snprintf(name, sizeof name, "x.%d", i);
    rc = h->api->topic(h->ctx, name, strlen(name), &t);
    if (rc == 0) ok++;
  }
  say(h, "ok=%d last=%s", ok, st(rc));
  return 0;
}

/* R2: UVP_POST_BLOCK on the loop thread could wait forever. */
static int init_block_on_loop(hostile *h) {
  uvp_remote *r;
  int rc = h->api->remote_new(h->ctx, &r);
  if (rc < 0) return rc;
  int a = h->api->remote_post(r, nop_post, h, NULL, UVP_POST_BLOCK);
  int b = h->api->remote_publish(r, h->in, "b", 1, UVP_POST_BLOCK);
  h->api->remote_release(r);
  say(h, "post=%s publish=%s", st(a), st(b));
  return 0;
}

/* R2: a thread floods the remote (remote_limit 64 in the test). */
static void *flood_thread(void *arg) {
  hostile *h = arg;
  uvp_remote *r = (uvp_remote *)leaked_remote;
  int ok = 0, again = 0;
  for (int i = 0; i < 100; i++)
    h->api->remote_post(r, nop_post, h, count_destroy, UVP_POST_NONBLOCK) == 0
        ? ok++
        : again++;
  h->n = ok * 1000 + again;
  return NULL;
}
static int init_flood(hostile *h) {
  int rc = h->api->remote_new(h->ctx, &leaked_remote);
  if (rc < 0) return rc;
  pthread_t t;
  pthread_create(&t, NULL, flood_thread, h);
  pthread_join(t, NULL);
  h->api->remote_release(leaked_remote);
  leaked_remote = NULL;
  say(h, "ok=%d again=%d", h->n / 1000, h->n % 1000);
  return 0;
}

/* U4, R5: takes a remote reference and never gives it back. */
static int init_leak_remote(hostile *h) {
  uvp_remote *r;
  int rc = h->api->remote_new(h->ctx, &r);
  if (rc < 0) return rc;
  h->api->remote_acquire(r);
  h->api->remote_release(r);
  leaked_remote = r;
  return 0;
}

/* A9 + R5: fails init while holding a remote reference. */
static int init_fail_remote(hostile *h) {
  int rc = init_leak_remote(h);
  return rc < 0 ? rc : UVP_EINVAL;
}

/* W6: a work function that only returns when the test says so. */
static void blocked_work(void *ud) {
  (void)ud;
  work_now = 1; /* started: from now on a cancel cannot stop it (W2) */
  for (int i = 0; i < 2000 && !release_work; i++) sleep_ms(5);
}
static int init_work_stuck(hostile *h) {
  uvp_id id;
  return h->api->work_queue(h->ctx, blocked_work, count_done, h, count_destroy,
                            &id);
}

/* W4: many items, at most work_concurrency at once. */
static void counted_work(void *ud) {
  (void)ud;
  uint64_t now = ++work_now, max = work_max;
  while (now > max && !atomic_compare_exchange_weak(&work_max, &max, now)) {
  }
  sleep_ms(1);
  work_now--;
}
static int init_work_flood(hostile *h) {
  for (int i = 0; i < 50; i++) {
    uvp_id id;
    int rc = h->api->work_queue(h->ctx, counted_work, count_done, h,
                                count_destroy, &id);
    if (rc < 0) return rc;
  }
  return 0;
}

/* T2: every loop-only entry, from a thread of the plugin's. */
static void *foreign_thread(void *arg) {
  hostile *h = arg;
  const uvp_api *A = h->api;
  uvp_ctx *x = h->ctx;
  uvp_id id;
  uvp_topic t;
  uint64_t ms;
  uvp_remote *r;
  const char *nm;
  int rc[14] = {
      A->topic(x, "t", 1, &t),
      A->subscribe(x, h->in, nop_event, h, count_destroy, &id),
      A->publish(x, h->in, "a", 1),
      A->publish_owned(x, h->in, "a", 1, count_free, NULL),
      A->timer_start(x, 1, 0, nop_timer, h, count_destroy, &id),
      A->fd_watch(x, 0, UVP_FD_READABLE, nop_fd, h, count_destroy, &id),
      A->cancel(x, h->id),
      A->log(x, UVP_LOG_INFO, "x", 1),
      A->now_ms(x, &ms),
      A->unload_self(x),
      A->work_queue(x, quick_work, count_done, h, count_destroy, &id),
      A->remote_new(x, &r),
      A->fault(x, UVP_EPANIC, "x", 1),
      A->instance_name(x, &nm, NULL),
  };
  int n = 0;
  for (int i = 0; i < 14; i++) n += rc[i] == UVP_EWRONGTHREAD;
  h->n = n;
  return NULL;
}
static int init_foreign(hostile *h) {
  int rc = sub(h, h->in, nop_event, count_destroy, &h->id);
  if (rc < 0) return rc;
  pthread_t t;
  pthread_create(&t, NULL, foreign_thread, h);
  pthread_join(t, NULL);
  say(h, "wrongthread=%d/14", h->n);
  return 0;
}

/* ---- more cases (issue 12, second round) ------------------------------ */

/* F3: a ctx that is not one (zeroed memory of the right size class). */
static int init_fake_ctx(hostile *h) {
  static uint64_t fake[64];
  uvp_ctx *x = (uvp_ctx *)fake;
  uvp_id id;
  uvp_topic t;
  say(h, "publish=%s subscribe=%s topic=%s cancel=%s",
      st(h->api->publish(x, h->in, "a", 1)),
      st(h->api->subscribe(x, h->in, nop_event, h, count_destroy, &id)),
      st(h->api->topic(x, "a", 1, &t)), st(h->api->cancel(x, 1)));
  return 0;
}

/* F1 + U6: asks for its unload, then panics in the same callback. */
static void self_panic_hook(hostile *h) {
  say(h, "unload_self=%s", st(h->api->unload_self(h->ctx)));
  h->start_rc = UVP_EPANIC;
}
static int init_self_panic(hostile *h) {
  int rc = sub(h, h->in, nop_event, count_destroy, NULL);
  return rc < 0 ? rc : kick_init(h, self_panic_hook);
}

/* T5: a work function calls loop-only functions with a stashed ctx. */
static hostile *work_owner;
static void loop_calls_work(void *ud) {
  (void)ud;
  hostile *h = work_owner;
  int a = h->api->publish(h->ctx, h->in, "w", 1);
  uint64_t ms;
  int b = h->api->now_ms(h->ctx, &ms);
  thread_rc = (a == UVP_EWRONGTHREAD && b == UVP_EWRONGTHREAD) ? 0 : -1;
}
static int init_work_calls_loop(hostile *h) {
  work_owner = h;
  uvp_id id;
  return h->api->work_queue(h->ctx, loop_calls_work, count_done, h,
                            count_destroy, &id);
}

/* R2, R4, U4: a thread blocks posting into a full remote (remote_limit 4)
 * while the plugin is unloaded; on_unload joins it. */
static void *block_thread(void *arg) {
  hostile *h = arg;
  uvp_remote *r = leaked_remote;
  int rc = 0;
  for (int i = 0; i < 10 && rc == 0; i++) {
    rc = h->api->remote_post(r, nop_post, h, count_destroy, UVP_POST_BLOCK);
    if (rc == 0) spins++;
  }
  h->api->remote_release(r);
  thread_rc = rc;
  return NULL;
}
static int init_block_then_unload(hostile *h) {
  int rc = h->api->remote_new(h->ctx, &leaked_remote);
  if (rc < 0) return rc;
  if (pthread_create(&h->thread, NULL, block_thread, h) != 0) {
    h->api->remote_release(leaked_remote);
    return UVP_ENOMEM;
  }
  h->has_thread = 1;
  for (int i = 0; i < 2000 && spins < 4; i++) sleep_ms(1);
  sleep_ms(20); /* let it block on the fifth */
  return 0;
}

/* L4: 100000 subscribe/cancel rounds never give an id back. */
static int init_id_churn(hostile *h) {
  uvp_id first = 0, id = 0;
  int dup = 0;
  for (int i = 0; i < 100000; i++) {
    if (sub(h, h->in, nop_event, NULL, &id) != 0) return UVP_EINVAL;
    if (i == 0)
      first = id;
    else if (id == first)
      dup++;
    h->api->cancel(h->ctx, id);
  }
  say(h, "dup=%d first=%s last=%s", dup, st(h->api->cancel(h->ctx, first)),
      st(h->api->cancel(h->ctx, id)));
  return 0;
}

/* A positive status from a callback (the ABI says 0 or negative). */
static void positive_hook(hostile *h) { h->start_rc = 7; }
static int init_positive_rc(hostile *h) { return kick_init(h, positive_hook); }

/* A9 + L8: an owned payload queued by an on_init that then fails. */
static int init_fail_owned(hostile *h) {
  char *p = strdup("orphan");
  int rc = h->api->publish_owned(h->ctx, h->in, p, 6, count_free, NULL);
  if (rc != 0) free(p);
  say(h, "owned=%s", st(rc));
  return UVP_EINVAL;
}

/* S4: a destroy run by the host's close publishes. */
static void close_pub_destroy(void *ud) {
  hostile *h = ud;
  destroys++;
  spins = (uint64_t)(int64_t)h->api->publish(h->ctx, h->in, "late", 4);
}
static int init_pub_destroy_close(hostile *h) {
  return sub(h, h->in, nop_event, close_pub_destroy, NULL);
}

/* ---- third round --------------------------------------------------------- */

/* W2, W3: cancels its own running item from a thread-free spot (the kick),
 * then the id from inside done. */
static void cancel_work_hook(hostile *h) {
  say(h, "cancel_running=%s", st(h->api->cancel(h->ctx, h->id)));
}
static int cancel_done(uvp_ctx *c, int status, void *ud) {
  hostile *h = ud;
  done_status = status;
  work_done++;
  say(h, "done status=%s cancel_in_done=%s", st(status),
      st(h->api->cancel(c, h->id)));
  return 0;
}
static int init_cancel_work(hostile *h) {
  int rc = h->api->work_queue(h->ctx, blocked_work, cancel_done, h,
                              count_destroy, &h->id);
  return rc < 0 ? rc : kick_init(h, cancel_work_hook);
}

/* remote_publish on an unknown topic (dropped, counted in errors) and
 * over max_payload (UVP_EMSGSIZE), from a thread. */
static void *remote_pub_thread(void *arg) {
  hostile *h = arg;
  static char big[4097];
  int a =
      h->api->remote_publish(leaked_remote, 99999, "x", 1, UVP_POST_NONBLOCK);
  int b = h->api->remote_publish(leaked_remote, h->in, big, sizeof big,
                                 UVP_POST_NONBLOCK);
  int c =
      h->api->remote_publish(leaked_remote, h->in, "ok", 2, UVP_POST_NONBLOCK);
  h->n = (a == 0) + 2 * (b == UVP_EMSGSIZE) + 4 * (c == 0);
  return NULL;
}
static int init_remote_pub(hostile *h) {
  int rc = h->api->remote_new(h->ctx, &leaked_remote);
  if (rc < 0) return rc;
  pthread_t t;
  pthread_create(&t, NULL, remote_pub_thread, h);
  pthread_join(t, NULL);
  h->api->remote_release(leaked_remote);
  leaked_remote = NULL;
  say(h, "results=%d", h->n);
  return 0;
}

/* O2: on_stop holds the loop 150 ms. */
static void slow_stop(hostile *h) {
  (void)h;
  sleep_ms(150);
}
static int init_slow_stop(hostile *h) {
  h->on_stop = slow_stop;
  return 0;
}

/* D7: watches a readable pipe and never reads it (level-triggered: the
 * callback runs every turn). */
static int never_read(uvp_ctx *c, int fd, int status, int events, void *ud) {
  (void)c, (void)fd, (void)status, (void)events, (void)ud;
  spins++;
  return 0;
}
static int init_fd_never_read(hostile *h) {
  uvp_id id;
  return h->api->fd_watch(h->ctx, h->fd, UVP_FD_READABLE, never_read, h,
                          count_destroy, &id);
}

/* D2, D5: every event on h.echo publishes the next one, forever. */
static int echo(uvp_ctx *c, const uvp_event *ev, void *ud) {
  hostile *h = ud;
  spins++;
  return h->api->publish(c, ev->topic, "e", 1);
}
static int init_echo_loop(hostile *h) {
  uvp_topic t;
  int rc = h->api->topic(h->ctx, "h.echo", 6, &t);
  if (rc == 0) rc = sub(h, t, echo, count_destroy, NULL);
  if (rc == 0) rc = h->api->publish(h->ctx, t, "e", 1);
  return rc;
}

/* D6: 10000 timers due at once, started from one callback. */
static int order_timer(uvp_ctx *c, void *ud) {
  (void)c;
  uint64_t i = (uint64_t)(uintptr_t)ud;
  if (i != spins) work_max = 1; /* out of order */
  spins++;
  return 0;
}
static int init_timer_flood(hostile *h) {
  for (uintptr_t i = 0; i < 10000; i++) {
    uvp_id id;
    int rc = h->api->timer_start(h->ctx, 1, 0, order_timer, (void *)i,
                                 count_destroy, &id);
    if (rc < 0) return rc;
  }
  return 0;
}

/* W1, U1: done (cancelled by the unload) queues more work and asks for
 * the unload again. */
static int requeue_done(uvp_ctx *c, int status, void *ud) {
  hostile *h = ud;
  done_status = status;
  work_done++;
  uvp_id id;
  say(h, "done status=%s requeue=%s unload_self=%s", st(status),
      st(h->api->work_queue(c, quick_work, count_done, h, NULL, &id)),
      st(h->api->unload_self(c)));
  return 0;
}
static int init_requeue(hostile *h) {
  uvp_id id;
  return h->api->work_queue(h->ctx, blocked_work, requeue_done, h,
                            count_destroy, &id);
}

/* ---- hooks and dispatch ----------------------------------------------------
 */

typedef struct hcase {
  const char *name;
  int (*init)(hostile *h);
  hook_fn on_start;
} hcase;

static const hcase cases[] = {
    {"idle", NULL, NULL},
    {"init_sleep", init_sleep, NULL},
    {"init_fail", init_fail, NULL},
    {"init_fail_work", init_fail_work, NULL},
    {"init_fail_slow", init_fail_slow, NULL},
    {"init_fail_remote", init_fail_remote, NULL},
    {"start_fail", NULL, start_fail_hook},
    {"init_panic", init_panic, NULL},
    {"init_unload_self", init_unload_self, NULL},
    {"cancel_others", init_cancel_others, NULL},
    {"cancel_garbage", init_cancel_garbage, NULL},
    {"double_cancel", init_double_cancel, NULL},
    {"init_storm", init_storm, NULL},
    {"huge_payload", init_huge, NULL},
    {"bad_topics", init_topics, NULL},
    {"bad_args", init_bad_args, NULL},
    {"fd_closed", init_fd_closed, NULL},
    {"fd_regular", init_fd_regular, NULL},
    {"fd_twice", init_fd_twice, NULL},
    {"timer_never", init_timer_never, NULL},
    {"timer_spin", init_timer_spin, NULL},
    {"timer_busy", init_timer_busy, NULL},
    {"storm_cb", init_storm_cb, NULL},
    {"storm_owned", init_storm_owned, NULL},
    {"slow_event", init_slow_event, NULL},
    {"epanic", init_epanic, NULL},
    {"error", init_error, NULL},
    {"self_event", init_self_event, NULL},
    {"self_timer", init_self_timer, NULL},
    {"self_destroy", init_self_destroy, NULL},
    {"self_stop", init_self_stop, NULL},
    {"self_free", init_self_free, NULL},
    {"self_post", init_self_post, NULL},
    {"self_done", init_self_done, NULL},
    {"reg_destroy", init_reg_destroy, NULL},
    {"pub_destroy", init_pub_destroy, NULL},
    {"free_publish", init_free_publish, NULL},
    {"fault_destroy", init_fault_destroy, NULL},
    {"log_flood", init_log_flood, NULL},
    {"topic_exhaust", init_topic_exhaust, NULL},
    {"block_on_loop", init_block_on_loop, NULL},
    {"remote_flood", init_flood, NULL},
    {"leak_remote", init_leak_remote, NULL},
    {"work_stuck", init_work_stuck, NULL},
    {"work_flood", init_work_flood, NULL},
    {"foreign", init_foreign, NULL},
    {"fake_ctx", init_fake_ctx, NULL},
    {"self_panic", init_self_panic, NULL},
    {"work_calls_loop", init_work_calls_loop, NULL},
    {"block_then_unload", init_block_then_unload, NULL},
    {"id_churn", init_id_churn, NULL},
    {"positive_rc", init_positive_rc, NULL},
    {"init_fail_owned", init_fail_owned, NULL},
    {"pub_destroy_close", init_pub_destroy_close, NULL},
    {"cancel_work", init_cancel_work, NULL},
    {"remote_pub", init_remote_pub, NULL},
    {"slow_stop", init_slow_stop, NULL},
    {"fd_never_read", init_fd_never_read, NULL},
    {"echo_loop", init_echo_loop, NULL},
    {"timer_flood", init_timer_flood, NULL},
    {"requeue", init_requeue, NULL},
};

static void config_get(const char *config, const char *key, char *buf,
                       size_t cap) {
  buf[0] = '\0';
  size_t klen = strlen(key);
  for (const char *p = config; p != NULL && *p != '\0';) {
    while (*p == ' ') p++;
    const char *end = strchr(p, ' ');
    size_t tlen = end ? (size_t)(end - p) : strlen(p);
    if (tlen > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
      size_t vlen = tlen - klen - 1 < cap - 1 ? tlen - klen - 1 : cap - 1;
      memcpy(buf, p + klen + 1, vlen);
      buf[vlen] = '\0';
      return;
    }
    p = end;
  }
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  (void)len;
  destroys = unloads = frees = spins = work_max = work_now = work_done = 0;
  release_work = 0;
  thread_rc = 1;
  done_status = 1;
  leaked_remote = NULL;
  hostile *h = calloc(1, sizeof *h);
  if (h == NULL) return UVP_ENOMEM;
  h->ctx = ctx;
  h->api = api;
  char num[32];
  config_get(config, "case", h->name, sizeof h->name);
  config_get(config, "fd", num, sizeof num);
  h->fd = num[0] ? atoi(num) : -1;
  config_get(config, "id", num, sizeof num);
  h->id = num[0] ? strtoull(num, NULL, 10) : 0;
  *out_state = h;
  int rc = api->topic(ctx, "h.in", 4, &h->in);
  if (rc == 0) rc = api->topic(ctx, "h.kick", 6, &h->kick);
  if (rc < 0) {
    free(h);
    *out_state = NULL;
    return rc;
  }
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (strcmp(cases[i].name, h->name) != 0) continue;
    h->on_start = cases[i].on_start;
    rc = cases[i].init ? cases[i].init(h) : 0;
    if (rc < 0) { /* on_unload never runs after a failed on_init (A9) */
      free(h);
      *out_state = NULL;
    }
    return rc;
  }
  say(h, "unknown case");
  free(h);
  *out_state = NULL;
  return UVP_EINVAL;
}

static int on_start(uvp_ctx *ctx, void *state) {
  (void)ctx;
  hostile *h = state;
  if (h->on_start) h->on_start(h);
  return h->start_rc;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  hostile *h = state;
  if (h->on_stop) h->on_stop(h);
}

static void on_unload(void *state) {
  hostile *h = state;
  if (h->has_thread) pthread_join(h->thread, NULL); /* U4 */
  unloads++;
  free(state);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .name = "hostile",
    .version = "1",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
