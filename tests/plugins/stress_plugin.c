/* The stress plugin: producer threads post through the plugin's remote
 * (R1-R6, T5). This comment is the spec; its Rust twin (crate
 * stress-plugin, libstress_plugin.so, built on the SDK's Remote) follows it
 * to the letter, and tests/integration/test_remote.c runs the same
 * scenarios against both.
 *
 * Descriptor: name "stress", flags 0 (stays mapped after unload).
 *
 * Config: space-separated key=value, every key optional:
 *   producers=P   producer threads, 1..16                  (default 4)
 *   count=N       items each producer posts, i = 1..N       (default 1000)
 *   mode=post     remote_post(cb, user_data, destroy); user_data encodes
 *                 (p, i) without allocating: (void *)(((uint64_t)p << 32) | i)
 *   mode=publish  remote_publish on topic "stress.items", 16-byte payload:
 *                 p then i, each a u64 little-endian; the plugin subscribes
 *                 to "stress.items" itself and counts what it receives
 *   block=1       flags UVP_POST_BLOCK
 *   block=0       flags UVP_POST_NONBLOCK: on UVP_EAGAIN count one retry
 *                 (retries_eagain), sched_yield(), post the same item again
 *   Anything else makes on_init fail with UVP_EINVAL.
 *
 * on_init: resets the process-wide counters below; interns "stress.items"
 *   and "stress.done"; subscribes to "stress.items" in mode=publish.
 * on_start: api->remote_new (the plugin's own reference), then for each
 *   producer p = 0..P-1: api->remote_acquire (the thread's reference, taken
 *   on the loop thread before the thread starts), then start the thread.
 * Producer thread p, for i = 1..N: attempted += 1, post item (p, i) as the
 *   mode says. On UVP_ECLOSED: refused_closed += 1 and stop posting (the
 *   item stays the thread's: nothing to free). At its end (N items posted or
 *   refused) the thread calls api->remote_release on its own reference. It
 *   calls no other uvp_api function (T5).
 * On the loop thread, per delivered item (post callback or stress.items
 *   event): if i != last_i[p] + 1 then order_errors += 1; last_i[p] = i;
 *   received += 1. When received reaches P*N, start a 0 ms one-shot timer
 *   (so that the last destroy, which runs right after its callback, has
 *   run) whose callback publishes once, on "stress.done", the text
 *   "received=<R> order_errors=<E> destroyed=<D>" (decimal, no newline).
 * Post destroy (mode=post): destroyed += 1; if the callback of that same
 *   user_data did not run (the plugin stopped while the post was queued,
 *   R4) also dropped += 1. (The host runs a destroy right after its
 *   callback, so "the last callback was for this user_data" tells them
 *   apart.)
 * on_stop: api->remote_release of the plugin's own reference. It does not
 *   wait for the producers: the remote is closed only after on_stop returns
 *   (U1), so a producer that is blocked or retrying would never see
 *   UVP_ECLOSED and a join here would deadlock.
 * on_unload: joins every producer thread (by now the remote is closed, so
 *   each ends at UVP_ECLOSED or has ended), then frees the state.
 *
 * Exports, read by the tests with dlopen(path, RTLD_NOW | RTLD_NOLOAD) +
 * dlsym after the plugin unloaded (the object stays mapped):
 *   void uvp_stress_report(uint64_t out[6]): attempted, received,
 *        destroyed, refused_closed, retries_eagain, order_errors
 *   uint64_t uvp_stress_dropped(void): destroys whose callback never ran
 * The counters are process-wide atomics, reset by on_init, so for every
 * run that ended: attempted == received + dropped + refused_closed, and in
 * mode=post destroyed == received + dropped.
 *
 * Thread: hooks, callbacks and destroys on the loop thread; producers on
 * their own threads, calling only remote_post/remote_publish/release.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvplug/plugin.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_PRODUCERS 16

static atomic_uint_fast64_t attempted, received, destroyed, refused_closed,
    retries_eagain, order_errors, dropped;
static void *last_cb_user_data; /* loop thread only */
/* The running instance: a post callback gets only its encoded (p, i), so
 * it finds the state here. One instance at a time (loop thread only). */
static struct stress *current;

EXPORT void uvp_stress_report(uint64_t out[6]) {
  out[0] = atomic_load(&attempted);
  out[1] = atomic_load(&received);
  out[2] = atomic_load(&destroyed);
  out[3] = atomic_load(&refused_closed);
  out[4] = atomic_load(&retries_eagain);
  out[5] = atomic_load(&order_errors);
}

EXPORT uint64_t uvp_stress_dropped(void) { return atomic_load(&dropped); }

typedef struct stress stress;

typedef struct producer {
  stress *s;
  uint32_t p;
  pthread_t thread;
  bool started;
} producer;

struct stress {
  uvp_ctx *ctx;
  const uvp_api *api;
  uvp_topic items, done;
  uvp_remote *remote; /* set before the threads start, then read-only */
  bool own_ref;       /* the plugin's own reference is still held */
  uint32_t producers;
  uint64_t count;
  bool publish;
  int flags;
  uint64_t last_i[MAX_PRODUCERS]; /* loop thread only */
  uint64_t received;              /* loop thread copy of the counter */
  bool done_sent;
  producer threads[MAX_PRODUCERS];
};

/* ---- producers ----------------------------------------------------------- */

static void put_u64le(unsigned char *b, uint64_t v) {
  for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_u64le(const unsigned char *b) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; k--) v = (v << 8) | b[k];
  return v;
}

static int on_post(uvp_ctx *ctx, void *user_data);
static void on_post_destroy(void *user_data);

static void *producer_main(void *arg) {
  producer *pr = arg;
  const stress *s = pr->s;
  const uvp_api *api = s->api;
  uvp_remote *r = s->remote;
  for (uint64_t i = 1; i <= s->count; i++) {
    atomic_fetch_add(&attempted, 1);
    int rc;
    for (;;) {
      if (s->publish) {
        unsigned char b[16];
        put_u64le(b, pr->p);
        put_u64le(b + 8, i);
        rc = api->remote_publish(r, s->items, b, sizeof b, s->flags);
      } else {
        void *ud = (void *)(uintptr_t)(((uint64_t)pr->p << 32) | i);
        rc = api->remote_post(r, on_post, ud, on_post_destroy, s->flags);
      }
      if (rc != UVP_EAGAIN || s->flags == UVP_POST_BLOCK) break;
      atomic_fetch_add(&retries_eagain, 1);
      sched_yield();
    }
    if (rc == UVP_ECLOSED) {
      atomic_fetch_add(&refused_closed, 1);
      break;
    }
    if (rc != 0) abort(); /* no other status is possible here */
  }
  api->remote_release(r);
  return NULL;
}

/* ---- the loop side ----------------------------------------------------- */

static int on_done_timer(uvp_ctx *ctx, void *user_data) {
  stress *s = user_data;
  char text[160];
  int n = snprintf(text, sizeof text,
                   "received=%llu order_errors=%llu destroyed=%llu",
                   (unsigned long long)atomic_load(&received),
                   (unsigned long long)atomic_load(&order_errors),
                   (unsigned long long)atomic_load(&destroyed));
  return s->api->publish(ctx, s->done, text, (size_t)n);
}

static int got(stress *s, uint64_t p, uint64_t i) {
  if (p >= s->producers || i != s->last_i[p] + 1)
    atomic_fetch_add(&order_errors, 1);
  if (p < s->producers) s->last_i[p] = i;
  atomic_fetch_add(&received, 1);
  if (++s->received == (uint64_t)s->producers * s->count && !s->done_sent) {
    s->done_sent = true;
    uvp_id id;
    return s->api->timer_start(s->ctx, 0, 0, on_done_timer, s, NULL, &id);
  }
  return 0;
}

static int on_post(uvp_ctx *ctx, void *user_data) {
  (void)ctx;
  last_cb_user_data = user_data;
  uint64_t v = (uint64_t)(uintptr_t)user_data;
  return got(current, v >> 32, v & 0xffffffffu);
}

static void on_post_destroy(void *user_data) {
  atomic_fetch_add(&destroyed, 1);
  if (user_data == last_cb_user_data)
    last_cb_user_data = NULL;
  else
    atomic_fetch_add(&dropped, 1); /* R4: queued when the plugin stopped */
}

static int on_item(uvp_ctx *ctx, const uvp_event *ev, void *user_data) {
  (void)ctx;
  if (ev->len != 16) {
    atomic_fetch_add(&order_errors, 1);
    return 0;
  }
  const unsigned char *b = ev->data;
  return got(user_data, get_u64le(b), get_u64le(b + 8));
}

/* ---- hooks -------------------------------------------------------------- */

static int parse(stress *s, const char *config, size_t len) {
  char buf[256];
  if (len >= sizeof buf) return UVP_EINVAL;
  memcpy(buf, config, len);
  buf[len] = '\0';
  s->producers = 4;
  s->count = 1000;
  s->flags = UVP_POST_BLOCK;
  char *save = NULL;
  for (char *tok = strtok_r(buf, " ", &save); tok != NULL;
       tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (eq == NULL) return UVP_EINVAL;
    *eq = '\0';
    const char *v = eq + 1;
    char *end;
    if (strcmp(tok, "producers") == 0) {
      unsigned long n = strtoul(v, &end, 10);
      if (*end != '\0' || n < 1 || n > MAX_PRODUCERS) return UVP_EINVAL;
      s->producers = (uint32_t)n;
    } else if (strcmp(tok, "count") == 0) {
      unsigned long long n = strtoull(v, &end, 10);
      if (*end != '\0' || n > UINT32_MAX) return UVP_EINVAL;
      s->count = n;
    } else if (strcmp(tok, "mode") == 0 && strcmp(v, "post") == 0) {
      s->publish = false;
    } else if (strcmp(tok, "mode") == 0 && strcmp(v, "publish") == 0) {
      s->publish = true;
    } else if (strcmp(tok, "block") == 0 && strcmp(v, "1") == 0) {
      s->flags = UVP_POST_BLOCK;
    } else if (strcmp(tok, "block") == 0 && strcmp(v, "0") == 0) {
      s->flags = UVP_POST_NONBLOCK;
    } else {
      return UVP_EINVAL;
    }
  }
  return 0;
}

static int on_init(uvp_ctx *ctx, const uvp_api *api, const char *config,
                   size_t len, void **out_state) {
  atomic_store(&attempted, 0);
  atomic_store(&received, 0);
  atomic_store(&destroyed, 0);
  atomic_store(&refused_closed, 0);
  atomic_store(&retries_eagain, 0);
  atomic_store(&order_errors, 0);
  atomic_store(&dropped, 0);
  last_cb_user_data = NULL;
  stress *s = calloc(1, sizeof *s);
  if (s == NULL) return UVP_ENOMEM;
  s->ctx = ctx;
  s->api = api;
  int rc = parse(s, config, len);
  uvp_id sub;
  if (rc == 0) rc = api->topic(ctx, "stress.items", 12, &s->items);
  if (rc == 0) rc = api->topic(ctx, "stress.done", 11, &s->done);
  if (rc == 0 && s->publish)
    rc = api->subscribe(ctx, s->items, on_item, s, NULL, &sub);
  if (rc != 0) {
    free(s);
    return rc;
  }
  current = s;
  *out_state = s;
  return 0;
}

static int on_start(uvp_ctx *ctx, void *state) {
  stress *s = state;
  int rc = s->api->remote_new(ctx, &s->remote);
  if (rc < 0) return rc;
  s->own_ref = true;
  for (uint32_t p = 0; p < s->producers; p++) {
    producer *pr = &s->threads[p];
    pr->s = s;
    pr->p = p;
    if ((rc = s->api->remote_acquire(s->remote)) < 0) return rc;
    if (pthread_create(&pr->thread, NULL, producer_main, pr) != 0) {
      s->api->remote_release(s->remote);
      return UVP_ENOMEM; /* on_unload joins the ones that started */
    }
    pr->started = true;
  }
  return 0;
}

static void on_stop(uvp_ctx *ctx, void *state) {
  (void)ctx;
  stress *s = state;
  if (s->own_ref) s->api->remote_release(s->remote);
  s->own_ref = false;
}

static void on_unload(void *state) {
  stress *s = state;
  for (uint32_t p = 0; p < s->producers; p++)
    if (s->threads[p].started) pthread_join(s->threads[p].thread, NULL);
  if (s->own_ref) s->api->remote_release(s->remote); /* on_start failed */
  if (current == s) current = NULL;
  free(s);
}

EXPORT const uvp_plugin_desc uvp_plugin_descriptor = {
    .magic = UVP_PLUGIN_MAGIC,
    .abi_major = UVP_ABI_MAJOR,
    .abi_minor = UVP_ABI_MINOR,
    .size = sizeof(uvp_plugin_desc),
    .flags = 0,
    .name = "stress",
    .version = "1.0.0",
    .on_init = on_init,
    .on_start = on_start,
    .on_stop = on_stop,
    .on_unload = on_unload,
};
