/* Allocation-failure injection (issue 12, contract B1-B4): every scenario
 * runs against a host whose allocator (uvp_host_options.allocator) fails its
 * Nth call, for N = 1, 2, ... until a run ends without reaching N. In every
 * run:
 *   - a call that needed the memory returns UVP_ENOMEM, or the documented
 *     outcome (a plugin's on_init that c.hits UVP_ENOMEM: UVP_EINIT, A9), and
 *     the same call made again succeeds: the failure left nothing behind;
 *   - the host stays usable: the scenario's deliveries, then a subscribe,
 *     publish and cancel on a fresh topic, all happen as without failure;
 *   - close completes and on_closed runs exactly once;
 *   - every destroy and free_fn runs exactly once (L1, L6, L8, A9);
 *   - nothing the allocator handed out is left: live blocks == 0 (and ASan
 *     or valgrind find no leak of anything else).
 * The figures go to <build>/reliability/alloc.txt (scenarios, distinct
 * allocation sites reached and failed, failures injected, UVP_ENOMEM seen,
 * leaks), read by tools/reliability-report.sh.
 * Thread: the loop thread, plus the producer threads of the remote
 * scenario (the allocator is thread-safe, as uvp_allocator requires), so
 * it runs under TSan too.
 * UVP_TEST_LABELS: tsan
 */
#define _GNU_SOURCE /* dladdr */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvp_test.h"

/* ---------------------------------------------------------------------- */
/* The failing allocator                                                  */
/* ---------------------------------------------------------------------- */

#define MAX_SITES 256

typedef struct site {
  uintptr_t offset; /* return address minus the object's base: stable */
  bool failed;      /* an injected failure landed here */
  bool silent;      /* ... and no caller saw UVP_ENOMEM (a documented
                       outcome: see docs/embedding.md) */
} site;

static struct {
  atomic_long calls;    /* malloc, calloc and realloc calls of this run */
  long fail_at;         /* the call that fails; 0: none */
  atomic_long live;     /* blocks handed out and not freed */
  atomic_int injected;  /* failures injected in this run (0 or 1) */
  pthread_mutex_t lock; /* sites */
  site sites[MAX_SITES];
  int nsites;
  int failed_site; /* index of this run's failed site */
} fa = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uintptr_t site_offset(void *ret) {
  Dl_info info;
  if (ret != NULL && dladdr(ret, &info) != 0 && info.dli_fbase != NULL)
    return (uintptr_t)ret - (uintptr_t)info.dli_fbase;
  return (uintptr_t)ret;
}

/* Counts the call at ret; true when this call is the one to fail. */
static bool fa_call(void *ret) {
  long n = atomic_fetch_add(&fa.calls, 1) + 1;
  bool fail = n == fa.fail_at;
  uintptr_t off = site_offset(ret);
  pthread_mutex_lock(&fa.lock);
  int i = 0;
  while (i < fa.nsites && fa.sites[i].offset != off) i++;
  if (i == fa.nsites && i < MAX_SITES) fa.sites[fa.nsites++].offset = off;
  if (fail && i < MAX_SITES) {
    fa.sites[i].failed = true;
    fa.failed_site = i;
  }
  pthread_mutex_unlock(&fa.lock);
  if (fail) atomic_fetch_add(&fa.injected, 1);
  return fail;
}

static void *fa_malloc(void *data, size_t size) {
  ck_assert_ptr_eq(data, &fa);
  ck_assert_uint_ne(size, 0);
  if (fa_call(__builtin_return_address(0))) return NULL;
  void *p = malloc(size);
  if (p != NULL) atomic_fetch_add(&fa.live, 1);
  return p;
}

static void *fa_calloc(void *data, size_t n, size_t size) {
  ck_assert_ptr_eq(data, &fa);
  ck_assert_uint_ne(n * size, 0);
  if (fa_call(__builtin_return_address(0))) return NULL;
  void *p = calloc(n, size);
  if (p != NULL) atomic_fetch_add(&fa.live, 1);
  return p;
}

static void *fa_realloc(void *data, void *ptr, size_t size) {
  ck_assert_ptr_eq(data, &fa);
  ck_assert_ptr_nonnull(ptr); /* uvp_allocator: never NULL */
  ck_assert_uint_ne(size, 0);
  if (fa_call(__builtin_return_address(0))) return NULL;
  return realloc(ptr, size);
}

static void fa_free(void *data, void *ptr) {
  ck_assert_ptr_eq(data, &fa);
  ck_assert_ptr_nonnull(ptr); /* uvp_allocator: never NULL */
  atomic_fetch_sub(&fa.live, 1);
  free(ptr);
}

static const uvp_allocator fa_allocator = {
    .size = sizeof(uvp_allocator),
    .malloc = fa_malloc,
    .calloc = fa_calloc,
    .realloc = fa_realloc,
    .free = fa_free,
    .data = &fa,
};

static void fa_reset(long fail_at) {
  atomic_store(&fa.calls, 0);
  atomic_store(&fa.injected, 0);
  fa.fail_at = fail_at;
}

/* ---------------------------------------------------------------------- */
/* A run: one host on one loop, with the failing allocator                */
/* ---------------------------------------------------------------------- */

typedef struct run {
  uv_loop_t loop;
  uvp_host *host;
  uvp_ctx *ctx;
  const uvp_api *api;
  int closed; /* on_closed calls */
  int enomem; /* UVP_ENOMEM (or UVP_EINIT from it) seen */
  int errors; /* log lines at error level */
  int oom;    /* of those, "out of memory" ones */
} run;

/* Runs expr; UVP_ENOMEM once means the injected failure: count it and run
 * expr again, which must now succeed (nothing half-done stays behind). */
#define STEP(r, expr)                                                      \
  do {                                                                     \
    int step_rc_ = (expr);                                                 \
    if (step_rc_ == UVP_ENOMEM) {                                          \
      (r)->enomem++;                                                       \
      step_rc_ = (expr);                                                   \
    }                                                                      \
    ck_assert_msg(step_rc_ == 0, "%s: %s", #expr, uvp_err_name(step_rc_)); \
  } while (0)

static void turn(run *r) { uv_run(&r->loop, UV_RUN_NOWAIT); }

/* Turns the loop until *counter >= want; at most ~5 s. */
static void run_until(run *r, const int *counter, int want) {
  for (int i = 0; i < 50000 && *counter < want; i++) {
    turn(r);
    if (*counter < want) usleep(100);
  }
  ck_assert_int_ge(*counter, want);
}

static void log_count(void *data, int level, const char *plugin,
                      const char *msg, size_t len) {
  (void)plugin;
  run *r = data;
  if (level != UVP_LOG_ERROR) return;
  r->errors++;
  if (memmem(msg, len, "out of memory", 13) != NULL) r->oom++;
}

static uint32_t drain_ms; /* work_drain_ms of the next run_open; 0: default */

static void run_open(run *r) {
  memset(r, 0, sizeof *r);
  ck_assert_int_eq(uv_loop_init(&r->loop), 0);
  uvp_host_options opts = UVP_HOST_OPTIONS_INIT;
  opts.allocator = &fa_allocator;
  opts.log = log_count;
  opts.log_data = r;
  opts.log_level = UVP_LOG_DEBUG; /* every log line is formatted */
  opts.queue_capacity = 256;
  opts.remote_capacity = 256;
  opts.work_drain_ms = drain_ms;
  STEP(r, uvp_host_new(&r->loop, &opts, &r->host));
  ck_assert_int_eq(uvp_host_ctx(r->host, &r->ctx, &r->api), 0);
}

static void on_closed(void *data) { ((run *)data)->closed++; }

/* What a registration's callbacks and its destroy saw. */
typedef struct tally {
  int hits, destroys;
} tally;

static int ev_count(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx, (void)ev;
  ((tally *)user_data)->hits++;
  return 0;
}

static void count_destroy(void *user_data) { ((tally *)user_data)->destroys++; }

/* The host still works: a new topic, a subscription, one delivery, and a
 * cancel that runs the destroy once. Static: a registration a failure left
 * behind half-made would be destroyed at close with this as user_data, and
 * run_close checks that nothing more ran. */
static tally usable;

static void check_usable(run *r) {
  uvp_topic t;
  uvp_id id;
  uvp_host_stats st0 = {.size = sizeof st0}, st1 = {.size = sizeof st1};
  memset(&usable, 0, sizeof usable);
  ck_assert_int_eq(uvp_host_get_stats(r->host, &st0), 0);
  STEP(r, r->api->topic(r->ctx, "alloc.check", 11, &t));
  STEP(r, r->api->subscribe(r->ctx, t, ev_count, &usable, count_destroy, &id));
  STEP(r, r->api->publish(r->ctx, t, "ok", 2));
  run_until(r, &usable.hits, 1);
  ck_assert_int_eq(r->api->cancel(r->ctx, id), 0);
  ck_assert_int_eq(usable.destroys, 1);
  ck_assert_int_eq(usable.hits, 1);
  /* L6: no failed subscribe left a slot */
  ck_assert_int_eq(uvp_host_get_stats(r->host, &st1), 0);
  ck_assert_uint_eq(st1.subscriptions, st0.subscriptions);
}

/* The host's live registrations are exactly these: none half-made by a
 * failed call (L6). */
static void expect_live(run *r, uint32_t subs, uint32_t timers, uint32_t fds) {
  uvp_host_stats st = {.size = sizeof st};
  ck_assert_int_eq(uvp_host_get_stats(r->host, &st), 0);
  ck_assert_uint_eq(st.subscriptions, subs);
  ck_assert_uint_eq(st.timers, timers);
  ck_assert_uint_eq(st.fd_watches, fds);
}

/* Closes the host: on_closed runs exactly once; the loop closes clean. */
static void run_close(run *r) {
  check_usable(r);
  ck_assert_int_eq(uvp_host_close(r->host, on_closed, r), 0);
  run_until(r, &r->closed, 1);
  for (int i = 0; i < 10; i++) turn(r);
  ck_assert_int_eq(r->closed, 1);
  ck_assert_int_eq(usable.destroys, 1);
  ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

/* ---------------------------------------------------------------------- */
/* The driver                                                             */
/* ---------------------------------------------------------------------- */

typedef void (*scenario_fn)(run *r);

static const char *reliability_dir(void) {
  const char *env = getenv("UVP_RELIABILITY_DIR");
  return env != NULL ? env : UVP_TEST_PLUGIN_DIR "/../../reliability";
}

/* Each scenario writes its figures to reliability/alloc.d/<name>.txt (it
 * runs in a forked child); main sums them into alloc.txt. */
static void write_figures(const char *name, long runs, long injected,
                          long enomem) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", reliability_dir());
  mkdir(dir, 0777);
  snprintf(dir, sizeof dir, "%s/alloc.d", reliability_dir());
  mkdir(dir, 0777);
  snprintf(path, sizeof path, "%s/%s.txt", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "runs=%ld\ninjected=%ld\nenomem=%ld\nleaks=%ld\n", runs, injected,
          enomem, atomic_load(&fa.live));
  for (int i = 0; i < fa.nsites; i++)
    fprintf(f, "site=%#lx %d %d\n", (unsigned long)fa.sites[i].offset,
            fa.sites[i].failed, fa.sites[i].silent);
  fclose(f);
}

static void drive(const char *name, scenario_fn fn) {
  long runs = 0, injected = 0, enomem = 0;
  fa.nsites = 0;
  for (long n = 1;; n++) {
    ck_assert_msg(n < 100000, "%s: no end to its allocations", name);
    fa_reset(n);
    run r;
    fn(&r);
    ck_assert_msg(atomic_load(&fa.live) == 0,
                  "%s: %ld block(s) leaked when call %ld failed", name,
                  atomic_load(&fa.live), n);
    runs++;
    enomem += r.enomem;
    if (atomic_load(&fa.injected) == 0) break; /* ran without reaching N */
    injected++;
    if (r.enomem == 0) fa.sites[fa.failed_site].silent = true;
  }
  fa_reset(0);
  write_figures(name, runs, injected, enomem);
}

/* ---------------------------------------------------------------------- */
/* Scenarios                                                              */
/* ---------------------------------------------------------------------- */

static void sc_host(run *r) {
  run_open(r);
  run_close(r);
}

/* Subscriptions on many topics and many on one topic (the tables grow),
 * a publish that reaches all, cancels that run each destroy once (L1). */
static void sc_subscribe(run *r) {
  enum { TOPICS = 40, SUBS = 12 };
  run_open(r);
  uvp_topic t[TOPICS];
  uvp_id ids[SUBS];
  tally c = {0};
  char name[32];
  for (int i = 0; i < TOPICS; i++) {
    int n = snprintf(name, sizeof name, "alloc.t%d", i);
    STEP(r, r->api->topic(r->ctx, name, (size_t)n, &t[i]));
  }
  for (int i = 0; i < SUBS; i++)
    STEP(r,
         r->api->subscribe(r->ctx, t[0], ev_count, &c, count_destroy, &ids[i]));
  expect_live(r, SUBS, 0, 0);
  STEP(r, r->api->publish(r->ctx, t[0], "x", 1));
  run_until(r, &c.hits, SUBS);
  for (int i = 0; i < SUBS; i++)
    ck_assert_int_eq(r->api->cancel(r->ctx, ids[i]), 0);
  ck_assert_int_eq(c.destroys, SUBS); /* L6: none for a failed subscribe */
  ck_assert_int_eq(c.hits, SUBS);
  run_close(r);
  ck_assert_int_eq(c.destroys, SUBS); /* L1: no second one at close */
}

/* More registrations than one chunk of the registry holds (4096 slots):
 * the chunk table grows past its first allocation. */
static void sc_many(run *r) {
  enum { SUBS = 4200 };
  run_open(r);
  static uvp_id ids[SUBS];
  uvp_topic t;
  tally c = {0};
  STEP(r, r->api->topic(r->ctx, "alloc.many", 10, &t));
  for (int i = 0; i < SUBS; i++)
    STEP(r, r->api->subscribe(r->ctx, t, ev_count, &c, count_destroy, &ids[i]));
  expect_live(r, SUBS, 0, 0);
  STEP(r, r->api->publish(r->ctx, t, "m", 1));
  run_until(r, &c.hits, SUBS);
  for (int i = 0; i < SUBS; i++)
    ck_assert_int_eq(r->api->cancel(r->ctx, ids[i]), 0);
  ck_assert_int_eq(c.destroys, SUBS);
  ck_assert_int_eq(c.hits, SUBS);
  run_close(r);
  ck_assert_int_eq(c.destroys, SUBS);
}

static int owned_freed;
static void owned_free(void *data, size_t len, void *hint) {
  (void)len, (void)hint;
  free(data);
  owned_freed++;
}

/* Inline (<= 40 bytes), copied and owned payloads; enough events for the
 * queue to grow. A failed publish_owned leaves the payload to the caller
 * (L8: free_fn never runs for it). */
static void sc_publish(run *r) {
  enum { EVENTS = 100 };
  run_open(r);
  uvp_topic t;
  uvp_id id;
  tally c = {0};
  owned_freed = 0;
  char big[200];
  memset(big, 'b', sizeof big);
  STEP(r, r->api->topic(r->ctx, "alloc.pub", 9, &t));
  STEP(r, r->api->subscribe(r->ctx, t, ev_count, &c, count_destroy, &id));
  for (int i = 0; i < EVENTS; i++) {
    STEP(r, r->api->publish(r->ctx, t, "small", 5));
    STEP(r, r->api->publish(r->ctx, t, big, sizeof big));
  }
  for (int i = 0; i < 3; i++) {
    char *p = malloc(sizeof big);
    memcpy(p, big, sizeof big);
    int rc = r->api->publish_owned(r->ctx, t, p, sizeof big, owned_free, NULL);
    if (rc == UVP_ENOMEM) {
      r->enomem++;
      rc = r->api->publish_owned(r->ctx, t, p, sizeof big, owned_free, NULL);
    }
    ck_assert_int_eq(rc, 0);
  }
  run_until(r, &c.hits, 2 * EVENTS + 3);
  ck_assert_int_eq(c.hits, 2 * EVENTS + 3);
  ck_assert_int_eq(owned_freed, 3);
  ck_assert_int_eq(r->api->cancel(r->ctx, id), 0);
  ck_assert_int_eq(c.destroys, 1);
  /* queued at close: its free_fn runs in the teardown (L8) */
  char *p = malloc(64);
  STEP(r, r->api->publish_owned(r->ctx, t, p, 64, owned_free, NULL));
  run_close(r);
  ck_assert_int_eq(owned_freed, 4);
  ck_assert_int_eq(c.destroys, 1);
}

static int on_tick(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  ((tally *)user_data)->hits++;
  return 0;
}

/* A one-shot, a repeating timer cancelled after 3 runs, and timers left
 * pending at close (their destroy runs in the teardown, S2). */
static void sc_timers(run *r) {
  enum { PENDING = 70 }; /* past the heap's first 64 entries */
  run_open(r);
  tally once = {0}, rep = {0}, pend = {0};
  uvp_id id1, id2, ids[PENDING];
  STEP(r,
       r->api->timer_start(r->ctx, 1, 0, on_tick, &once, count_destroy, &id1));
  STEP(r,
       r->api->timer_start(r->ctx, 1, 1, on_tick, &rep, count_destroy, &id2));
  for (int i = 0; i < PENDING; i++)
    STEP(r, r->api->timer_start(r->ctx, 3600000, 0, on_tick, &pend,
                                count_destroy, &ids[i]));
  expect_live(r, 0, 2 + PENDING, 0);
  run_until(r, &rep.hits, 3);
  run_until(r, &once.hits, 1);
  ck_assert_int_eq(once.hits, 1);
  ck_assert_int_eq(once.destroys, 1); /* the one-shot ended (L1) */
  ck_assert_int_eq(r->api->cancel(r->ctx, id2), 0);
  ck_assert_int_eq(rep.destroys, 1);
  run_close(r);
  ck_assert_int_eq(once.destroys, 1);
  ck_assert_int_eq(rep.destroys, 1);
  ck_assert_int_eq(pend.hits, 0);
  ck_assert_int_eq(pend.destroys, PENDING); /* S2: by the close */
}

static int on_fd(uvp_ctx *ctx, int fd, int status, int events,
                 void *user_data) {
  (void)ctx, (void)status, (void)events;
  char c;
  if (read(fd, &c, 1) == 1) ((tally *)user_data)->hits++;
  return 0;
}

static void sc_fd(run *r) {
  run_open(r);
  int fds[2];
  tally c = {0};
  uvp_id id;
  ck_assert_int_eq(pipe(fds), 0);
  STEP(r, r->api->fd_watch(r->ctx, fds[0], UVP_FD_READABLE, on_fd, &c,
                           count_destroy, &id));
  expect_live(r, 0, 0, 1);
  ck_assert_int_eq(write(fds[1], "x", 1), 1);
  run_until(r, &c.hits, 1);
  ck_assert_int_eq(r->api->cancel(r->ctx, id), 0);
  ck_assert_int_eq(c.destroys, 1);
  run_close(r);
  ck_assert_int_eq(c.destroys, 1);
  close(fds[0]);
  close(fds[1]);
}

/* Remote post and publish from a producer thread; the remote is released
 * on that thread after the host closed (R5). */
enum { POSTS = 10 };

typedef struct producer {
  uvp_remote *remote;
  const uvp_api *api;
  uvp_topic topic;
  tally *posted;
  atomic_int enomem;
  atomic_bool release_now;
} producer;

static int on_post(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  ((tally *)user_data)->hits++;
  return 0;
}

static void producer_main(void *arg) {
  producer *p = arg;
  char big[100];
  memset(big, 'r', sizeof big);
  for (int i = 0; i < POSTS; i++) {
    int rc = p->api->remote_post(p->remote, on_post, p->posted, count_destroy,
                                 UVP_POST_BLOCK);
    ck_assert_int_eq(rc, 0); /* a post copies nothing */
    while ((rc = p->api->remote_publish(p->remote, p->topic, big, sizeof big,
                                        UVP_POST_BLOCK)) == UVP_ENOMEM)
      atomic_fetch_add(&p->enomem, 1);
    ck_assert_int_eq(rc, 0);
  }
  while (!atomic_load(&p->release_now)) usleep(100);
  p->api->remote_release(p->remote); /* R5: the host is gone */
}

static void sc_remote(run *r) {
  run_open(r);
  tally posted = {0};
  tally c = {0};
  uvp_topic t;
  uvp_id id;
  producer p = {.api = r->api, .posted = &posted};
  STEP(r, r->api->topic(r->ctx, "alloc.remote", 12, &t));
  p.topic = t;
  STEP(r, r->api->subscribe(r->ctx, t, ev_count, &c, count_destroy, &id));
  STEP(r, r->api->remote_new(r->ctx, &p.remote));
  uv_thread_t th;
  ck_assert_int_eq(uv_thread_create(&th, producer_main, &p), 0);
  run_until(r, &posted.destroys, POSTS); /* R4: after each post's cb */
  run_until(r, &c.hits, POSTS);
  run_close(r);
  atomic_store(&p.release_now, true);
  ck_assert_int_eq(uv_thread_join(&th), 0);
  r->enomem += atomic_load(&p.enomem);
  ck_assert_int_eq(posted.hits, POSTS);
  ck_assert_int_eq(posted.destroys, POSTS);
  ck_assert_int_eq(c.hits, POSTS);
  ck_assert_int_eq(c.destroys, 1);
}

static void work_fn(void *user_data) { (void)user_data; }

static int work_done(uvp_ctx *ctx, int status, void *user_data) {
  (void)ctx;
  if (status == 0) ((tally *)user_data)->hits++;
  return 0;
}

static void sc_work(run *r) {
  enum { ITEMS = 5 }; /* past work_concurrency: some wait (W4) */
  run_open(r);
  tally c = {0};
  uvp_id id;
  for (int i = 0; i < ITEMS; i++)
    STEP(r, r->api->work_queue(r->ctx, work_fn, work_done, &c, count_destroy,
                               &id));
  run_until(r, &c.destroys, ITEMS);
  ck_assert_int_eq(c.hits, ITEMS);
  run_close(r);
  ck_assert_int_eq(c.destroys, ITEMS);
}

static atomic_bool work_release, work_started;

static void block_fn(void *user_data) {
  (void)user_data;
  atomic_store(&work_started, true);
  while (!atomic_load(&work_release)) usleep(1000);
}

/* A work item still running past work_drain_ms at close is abandoned (W6):
 * its record outlives the host and is freed, through the host's allocator
 * copied into it, when its work function returns. */
static void sc_abandon(run *r) {
  drain_ms = 20;
  run_open(r);
  drain_ms = 0;
  atomic_store(&work_release, false);
  atomic_store(&work_started, false);
  tally c = {0};
  uvp_id id;
  STEP(r,
       r->api->work_queue(r->ctx, block_fn, work_done, &c, count_destroy, &id));
  check_usable(r);
  /* running, so that close cannot cancel it (W2) */
  for (int i = 0; i < 50000 && !atomic_load(&work_started); i++) usleep(100);
  ck_assert(atomic_load(&work_started));
  ck_assert_int_eq(uvp_host_close(r->host, on_closed, r), 0);
  run_until(r, &r->closed, 1);
  ck_assert_int_eq(atomic_load(&fa.live), 1); /* the record alone */
  atomic_store(&work_release, true);
  uv_run(&r->loop, UV_RUN_DEFAULT); /* until libuv completed the item */
  ck_assert_int_eq(atomic_load(&fa.live), 0);
  ck_assert_int_eq(c.hits, 0);     /* W6: no done, */
  ck_assert_int_eq(c.destroys, 0); /* no destroy */
  ck_assert_int_eq(r->closed, 1);
  ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

/* ---- plugins ---------------------------------------------------------- */

/* Same layout as tests/plugins/alloc_probe.c. */
typedef struct probe_counts {
  int inits, init_failed, last_init_rc, starts, stops, unloads;
  int registered, destroys, events;
  int owned_published, owned_freed;
} probe_counts;

static const char *probe_path(void) {
  return uvt_path(UVP_TEST_PLUGIN_DIR, "alloc_probe.so");
}

/* A load or reload: UVP_ENOMEM from the host, or UVP_EINIT because the
 * plugin's own registration c.hits UVP_ENOMEM (A9), once; then it loads. */
static int load_step(run *r, probe_counts *pc, int rc) {
  if (rc == UVP_ENOMEM || (rc == UVP_EINIT && pc->last_init_rc == UVP_ENOMEM)) {
    r->enomem++;
    pc->last_init_rc = 0;
    return 1;
  }
  ck_assert_msg(rc == 0, "load: %s", uvp_err_name(rc));
  return 0;
}

/* What every load of the probe must balance to, once it is unloaded:
 * each registration c.destroys once, each init that succeeded unloaded
 * once (A9: a failed init gets no on_unload). */
static void check_probe(const probe_counts *pc) {
  ck_assert_int_eq(pc->destroys, pc->registered);
  ck_assert_int_eq(pc->unloads, pc->inits - pc->init_failed);
  ck_assert_int_eq(pc->stops, pc->starts);
}

static void probe_publish(run *r, probe_counts *pc, int want) {
  uvp_topic t;
  STEP(r, uvp_host_topic(r->host, "probe.in", &t));
  STEP(r, uvp_host_publish(r->host, t, "e", 1));
  run_until(r, &pc->events, want);
  ck_assert_int_eq(pc->events, want);
}

static void sc_load(run *r) {
  probe_counts pc = {0};
  char config[32];
  snprintf(config, sizeof config, "%lx", (unsigned long)(uintptr_t)&pc);
  run_open(r);
  while (load_step(r, &pc,
                   uvp_host_load(r->host, probe_path(), "p1", config, NULL)))
    ;
  probe_publish(r, &pc, 1);
  ck_assert_int_eq(uvp_host_unload(r->host, "p1"), 0);
  for (int i = 0; i < 10; i++) turn(r);
  check_probe(&pc);
  ck_assert_int_eq(pc.unloads, 1);
  /* and again: the name is free, the host loads it once more */
  while (load_step(r, &pc,
                   uvp_host_load(r->host, probe_path(), "p1", config, NULL)))
    ;
  run_close(r);
  check_probe(&pc);
  ck_assert_int_eq(pc.unloads, 2);
}

/* More instances than the first table of contexts holds (8). */
static void sc_instances(run *r) {
  enum { N = 10 };
  probe_counts pc = {0};
  char config[32], name[8];
  snprintf(config, sizeof config, "%lx", (unsigned long)(uintptr_t)&pc);
  run_open(r);
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof name, "p%d", i);
    while (load_step(r, &pc,
                     uvp_host_load(r->host, probe_path(), name, config, NULL)))
      ;
  }
  probe_publish(r, &pc, N);
  run_close(r);
  check_probe(&pc);
  ck_assert_int_eq(pc.unloads, N);
}

/* A reload that fails leaves the old instance serving (U5); the one that
 * succeeds replaces it: one subscriber, so one event per publish. */
static void sc_reload(run *r) {
  probe_counts pc = {0};
  char config[32];
  snprintf(config, sizeof config, "%lx", (unsigned long)(uintptr_t)&pc);
  run_open(r);
  while (load_step(r, &pc,
                   uvp_host_load(r->host, probe_path(), "p1", config, NULL)))
    ;
  int rc;
  while ((rc = uvp_host_reload(r->host, "p1", probe_path(), config, NULL)) !=
         0) {
    load_step(r, &pc, rc);
    probe_publish(r, &pc, pc.events + 1); /* the old one still serves */
  }
  for (int i = 0; i < 10; i++) turn(r);
  ck_assert_int_eq(pc.unloads, 1);
  probe_publish(r, &pc, pc.events + 1);
  run_close(r);
  check_probe(&pc);
  ck_assert_int_eq(pc.unloads, 2);
}

/* The probe publishes an owned payload and unloads itself with it still
 * queued: the host copies it so that its free_fn runs before on_unload
 * (L8). If that copy finds no memory the event is dropped, and logged at
 * error level, never silently (the regression of this battery). */
static void sc_unown(run *r) {
  probe_counts pc = {0};
  char config[32];
  snprintf(config, sizeof config, "%lx", (unsigned long)(uintptr_t)&pc);
  run_open(r);
  while (load_step(r, &pc,
                   uvp_host_load(r->host, probe_path(), "p1", config, NULL)))
    ;
  tally out = {0};
  uvp_topic tout, tcmd;
  uvp_id id;
  STEP(r, uvp_host_topic(r->host, "probe.out", &tout));
  STEP(r, r->api->subscribe(r->ctx, tout, ev_count, &out, count_destroy, &id));
  STEP(r, uvp_host_topic(r->host, "probe.cmd", &tcmd));
  STEP(r, uvp_host_publish(r->host, tcmd, "go", 2));
  run_until(r, &pc.unloads, 1);
  for (int i = 0; i < 10; i++) turn(r);
  if (pc.owned_published == 0) {
    /* its publish_owned got UVP_ENOMEM: the callback failed (F2), the
     * plugin stays; unload it from here */
    r->enomem++;
    ck_assert_int_eq(uvp_host_unload(r->host, "p1"), 0);
    for (int i = 0; i < 10; i++) turn(r);
  }
  ck_assert_int_eq(pc.owned_freed, pc.owned_published); /* L8 */
  ck_assert_int_eq(pc.unloads, 1);
  ck_assert_int_le(r->oom, 1);
  /* delivered from the copy, or dropped with its error line */
  ck_assert_int_eq(out.hits, pc.owned_published - r->oom);
  ck_assert_int_eq(r->api->cancel(r->ctx, id), 0);
  ck_assert_int_eq(out.destroys, 1);
  run_close(r);
  check_probe(&pc);
}

/* A load error whose log line is longer than the formatter's stack buffer
 * (1 KiB): it is formatted in an allocated one, or, out of memory, cut. The
 * load's status and uvp_host_load_error do not depend on it. */
static void sc_load_error(run *r) {
  char path[1400] = "/nonexistent-uvplug";
  for (int i = 0; i < 6; i++) {
    size_t n = strlen(path);
    path[n] = '/';
    memset(path + n + 1, 'd', 200);
    path[n + 201] = '\0';
  }
  strcat(path, "/p.so");
  run_open(r);
  ck_assert_int_eq(uvp_host_load(r->host, path, "px", "", NULL), UVP_ENOTFOUND);
  ck_assert_int_eq(r->errors, 1);
  int status;
  const char *msg;
  ck_assert_int_eq(uvp_host_load_error(r->host, &status, &msg), 0);
  ck_assert_int_eq(status, UVP_ENOTFOUND);
  run_close(r);
}

/* ---------------------------------------------------------------------- */

#define SCENARIO(name)                                 \
  START_TEST(test_##name) { drive(#name, sc_##name); } \
  END_TEST

SCENARIO(host)
SCENARIO(subscribe)
SCENARIO(many)
SCENARIO(publish)
SCENARIO(timers)
SCENARIO(fd)
SCENARIO(remote)
SCENARIO(work)
SCENARIO(abandon)
SCENARIO(load)
SCENARIO(reload)
SCENARIO(instances)
SCENARIO(unown)
SCENARIO(load_error)

static void count_closed(void *data) { (*(int *)data)++; }

/* The allocator is checked whole at uvp_host_new: a NULL function or a
 * short size is UVP_EINVAL, and nothing is allocated. */
START_TEST(test_allocator_invalid) {
  uv_loop_t loop;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  uvp_allocator a = fa_allocator;
  uvp_host_options opts = UVP_HOST_OPTIONS_INIT;
  opts.allocator = &a;
  uvp_host *h = NULL;
  fa_reset(0);
  a.calloc = NULL;
  ck_assert_int_eq(uvp_host_new(&loop, &opts, &h), UVP_EINVAL);
  a = fa_allocator;
  a.size = offsetof(uvp_allocator, data);
  ck_assert_int_eq(uvp_host_new(&loop, &opts, &h), UVP_EINVAL);
  ck_assert_ptr_null(h);
  ck_assert_int_eq(atomic_load(&fa.calls), 0);
  /* F3: a size ending inside the field is refused; one ending before it
   * (a caller of 0.1) gets the C library's allocator */
  opts.size = offsetof(uvp_host_options, allocator) + 4;
  ck_assert_int_eq(uvp_host_new(&loop, &opts, &h), UVP_EINVAL);
  opts.size = offsetof(uvp_host_options, allocator);
  ck_assert_int_eq(uvp_host_new(&loop, &opts, &h), 0);
  ck_assert_int_eq(atomic_load(&fa.calls), 0);
  int closed = 0;
  ck_assert_int_eq(uvp_host_close(h, count_closed, &closed), 0);
  while (closed == 0) uv_run(&loop, UV_RUN_ONCE);
  ck_assert_int_eq(atomic_load(&fa.calls), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* Sums reliability/alloc.d/ into reliability/alloc.txt. */
static void write_summary(int failed) {
  char path[4200];
  snprintf(path, sizeof path, "%s/alloc.d", reliability_dir());
  DIR *d = opendir(path);
  if (d == NULL) return;
  long scenarios = 0, runs = 0, injected = 0, enomem = 0, leaks = 0;
  static unsigned long reached[MAX_SITES * 4];
  static bool failed_at[MAX_SITES * 4], silent_at[MAX_SITES * 4];
  int nreached = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strstr(e->d_name, ".txt") == NULL) continue;
    snprintf(path, sizeof path, "%s/alloc.d/%s", reliability_dir(), e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    scenarios++;
    char line[256];
    long v;
    unsigned long off;
    int fl, sl;
    while (fgets(line, sizeof line, f) != NULL) {
      if (sscanf(line, "runs=%ld", &v) == 1) runs += v;
      if (sscanf(line, "injected=%ld", &v) == 1) injected += v;
      if (sscanf(line, "enomem=%ld", &v) == 1) enomem += v;
      if (sscanf(line, "leaks=%ld", &v) == 1) leaks += v;
      if (sscanf(line, "site=%lx %d %d", &off, &fl, &sl) == 3) {
        int i = 0;
        while (i < nreached && reached[i] != off) i++;
        if (i == nreached && i < MAX_SITES * 4) reached[nreached++] = off;
        if (i < MAX_SITES * 4 && fl) failed_at[i] = true;
        if (i < MAX_SITES * 4 && sl) silent_at[i] = true;
      }
    }
    fclose(f);
  }
  closedir(d);
  int nfailed = 0, nsilent = 0;
  for (int i = 0; i < nreached; i++) nfailed += failed_at[i];
  for (int i = 0; i < nreached; i++) nsilent += silent_at[i];
  snprintf(path, sizeof path, "%s/alloc.txt", reliability_dir());
  FILE *f = fopen(path, "w");
  if (f == NULL) return;
  fprintf(f,
          "scenarios=%ld\nruns=%ld\nalloc_sites_reached=%d\n"
          "alloc_sites_failed=%d\nalloc_sites_silent=%d\n"
          "alloc_failures_injected=%ld\n"
          "enomem_returned=%ld\nleaks=%ld\ntests_failed=%d\n",
          scenarios, runs, nreached, nfailed, nsilent, injected, enomem, leaks,
          failed);
  fclose(f);
  printf(
      "alloc_fail: %ld scenarios, %ld runs, %d sites reached, %d failed, "
      "%ld failures injected, %ld UVP_ENOMEM, %ld leaks\n",
      scenarios, runs, nreached, nfailed, injected, enomem, leaks);
}

/* Figures of an earlier run (of a scenario since renamed) must not count. */
static void clear_figures(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/alloc.d", reliability_dir());
  DIR *d = opendir(path);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strstr(e->d_name, ".txt") == NULL) continue;
    snprintf(path, sizeof path, "%s/alloc.d/%s", reliability_dir(), e->d_name);
    unlink(path);
  }
  closedir(d);
}

int main(void) {
  clear_figures();
  Suite *s = suite_create("alloc_fail");
  TCase *tc = uvt_tcase(s, "inject");
  tcase_add_test(tc, test_allocator_invalid);
  tcase_add_test(tc, test_host);
  tcase_add_test(tc, test_subscribe);
  tcase_add_test(tc, test_many);
  tcase_add_test(tc, test_publish);
  tcase_add_test(tc, test_timers);
  tcase_add_test(tc, test_fd);
  tcase_add_test(tc, test_remote);
  tcase_add_test(tc, test_work);
  tcase_add_test(tc, test_abandon);
  tcase_add_test(tc, test_load);
  tcase_add_test(tc, test_reload);
  tcase_add_test(tc, test_instances);
  tcase_add_test(tc, test_unown);
  tcase_add_test(tc, test_load_error);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  write_summary(failed);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
