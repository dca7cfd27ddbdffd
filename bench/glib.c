/* GLib peers of the loop-thread cases: g_signal_emit and GHookList with the
 * same handler counts as fanoutN.uvplug, and GHookList for register/cancel
 * churn and bytes per idle registration. Without GLib at build time every
 * case here reports "skipped".
 *
 * g_signal_emit: a GObject type with one signal "ev" (VOID:POINTER),
 * N handlers connected with g_signal_connect. GHookList: N GHooks appended,
 * emitted with g_hook_list_invoke.
 */
#include <stdlib.h>

#include "bench.h"

#ifdef UVP_BENCH_HAVE_GLIB
#include <glib-object.h>

/* ---- fan-out peers ----------------------------------------------------- */

typedef struct BenchObj {
  GObject parent;
} BenchObj;
typedef struct BenchObjClass {
  GObjectClass parent_class;
} BenchObjClass;

static GType bench_obj_get_type(void);
G_DEFINE_TYPE(BenchObj, bench_obj, G_TYPE_OBJECT)

static guint sig_ev;

static void bench_obj_class_init(BenchObjClass *klass) {
  sig_ev = g_signal_new("ev", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                        NULL, NULL, g_cclosure_marshal_VOID__POINTER,
                        G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void bench_obj_init(BenchObj *self) { (void)self; }

static void on_signal(BenchObj *obj, gpointer ev, gpointer user_data) {
  (void)obj;
  (void)ev;
  (*(uint64_t *)user_data)++;
}

static double time_signal(uint32_t subs, uint64_t events, uint64_t *count) {
  BenchObj *obj = g_object_new(bench_obj_get_type(), NULL);
  for (uint32_t i = 0; i < subs; i++)
    g_signal_connect(obj, "ev", G_CALLBACK(on_signal), count);
  uint64_t payload = 42;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < events; i++) g_signal_emit(obj, sig_ev, 0, &payload);
  uint64_t t = bench_now_ns() - t0;
  g_object_unref(obj);
  return (double)t / (double)events;
}

static void on_hook(gpointer user_data) { (*(uint64_t *)user_data)++; }

/* g_hook_append walks the whole list (O(n)); prepending is O(1) and the
 * order does not matter here. */
static void hooks_add(GHookList *list, uint32_t n, uint64_t *count) {
  for (uint32_t i = 0; i < n; i++) {
    GHook *h = g_hook_alloc(list);
    h->func = (gpointer)on_hook;
    h->data = count;
    g_hook_prepend(list, h);
  }
}

static double time_hooks(uint32_t subs, uint64_t events, uint64_t *count) {
  GHookList list;
  g_hook_list_init(&list, sizeof(GHook));
  hooks_add(&list, subs, count);
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < events; i++) g_hook_list_invoke(&list, FALSE);
  uint64_t t = bench_now_ns() - t0;
  g_hook_list_clear(&list);
  return (double)t / (double)events;
}

typedef double (*time_fn)(uint32_t subs, uint64_t events, uint64_t *count);

static int run_with(const bench_case *c, uint64_t n, bench_sample *out,
                    time_fn fn) {
  uint32_t subs = (uint32_t)c->arg;
  uint64_t events = n / subs, count = 0;
  double pn = fn(subs, events, &count);
  if (count != events * subs)
    return bench_fail(c, "delivered %llu of %llu", (unsigned long long)count,
                      (unsigned long long)(events * subs));
  out->ns = pn / subs;
  out->x[BX_PER_PUBLISH_NS] = pn;
  if (subs > 1) {
    count = 0;
    double p1 = fn(1, events, &count);
    if (count != events)
      return bench_fail(c, "delivered %llu of %llu", (unsigned long long)count,
                        (unsigned long long)events);
    out->x[BX_MARGINAL_NS] = (pn - p1) / (subs - 1);
  }
  return 0;
}

static int run_signal(const bench_case *c, uint64_t n, bench_sample *out) {
  return run_with(c, n, out, time_signal);
}

static int run_hooks(const bench_case *c, uint64_t n, bench_sample *out) {
  return run_with(c, n, out, time_hooks);
}

/* ---- churn and idle bytes ---------------------------------------------- */

/* churn_sub.ghook: alloc + append + destroy one hook, next to one live
 * (append is O(1) here: the list holds one hook). */
static int run_hook_churn(const bench_case *c, uint64_t n, bench_sample *out) {
  GHookList list;
  uint64_t count = 0;
  g_hook_list_init(&list, sizeof(GHook));
  hooks_add(&list, 1, &count);
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    GHook *h = g_hook_alloc(&list);
    h->func = (gpointer)on_hook;
    h->data = &count;
    g_hook_append(&list, h);
    g_hook_destroy_link(&list, h);
  }
  uint64_t t = bench_now_ns() - t0;
  g_hook_list_invoke(&list, FALSE);
  g_hook_list_clear(&list);
  if (count != 1)
    return bench_fail(c, "%llu hooks left live, want 1",
                      (unsigned long long)count);
  out->ns = (double)t / (double)n;
  return 0;
}

/* subs.ghook: RSS growth of n idle hooks (forked child). */
static int run_hook_bytes(const bench_case *c, uint64_t n, bench_sample *out) {
  GHookList list;
  uint64_t count = 0;
  g_hook_list_init(&list, sizeof(GHook));
  double before = bench_rss_bytes();
  uint64_t t0 = bench_now_ns();
  hooks_add(&list, (uint32_t)n, &count);
  uint64_t t = bench_now_ns() - t0;
  double after = bench_rss_bytes();
  g_hook_list_invoke(&list, FALSE);
  if (count != n)
    return bench_fail(c, "invoked %llu of %llu hooks",
                      (unsigned long long)count, (unsigned long long)n);
  out->ns = (double)t / (double)n;
  out->x[BX_BYTES_PER_ITEM] = (after - before) / (double)n;
  out->x[BX_PEAK_RSS_MB] = bench_peak_rss_bytes() / 1048576.0;
  return 0;
}

#else /* !UVP_BENCH_HAVE_GLIB: never run, the runner skips BENCH_GLIB */

static int run_none(const bench_case *c, uint64_t n, bench_sample *out) {
  (void)n;
  (void)out;
  return bench_fail(c, "built without GLib");
}
#define run_signal run_none
#define run_hooks run_none
#define run_hook_churn run_none
#define run_hook_bytes run_none

#endif

#define GPEERS(N, NQ)                                                       \
  {.name = "fanout" #N ".ghook",                                            \
   .what = "peer: GHookList with " #N " hooks, per delivery",               \
   .target = "",                                                            \
   .run = run_hooks,                                                        \
   .n = 16000000,                                                           \
   .n_quick = NQ,                                                           \
   .arg = N,                                                                \
   .flags = BENCH_GLIB},                                                    \
  {                                                                         \
    .name = "fanout" #N ".gsignal",                                         \
    .what = "peer: g_signal_emit with " #N " handlers, per delivery",       \
    .target = "", .run = run_signal, .n = 2000000, .n_quick = NQ, .arg = N, \
    .flags = BENCH_GLIB                                                     \
  }

const bench_case bench_glib_cases[] = {
    GPEERS(1, 64000),
    GPEERS(8, 64000),
    GPEERS(64, 64000),
    {.name = "churn_sub.ghook",
     .what = "peer: GHook alloc + append + destroy_link",
     .target = "",
     .run = run_hook_churn,
     .n = 2000000,
     .n_quick = 10000,
     .flags = BENCH_GLIB},
    {.name = "subs.ghook",
     .what = "peer: RSS bytes per idle GHook (1e6 hooks)",
     .target = "",
     .run = run_hook_bytes,
     .n = 1000000,
     .n_quick = 10000,
     .flags = BENCH_GLIB | BENCH_FORK},
    {0},
};
