/* Callback timing and the slow-callback watchdog (O2).
 *
 *   callback of plugin P, kind K ─► span (P, K) open? ─ yes: count it
 *                                                    └ no: read the clock,
 *                                      end the open span, start (P, K)
 *   end of our libuv callback ─► read the clock, end the span:
 *      cb_ns_total += t; calls × bucket(t / calls); t > slow: watchdog
 *
 * Why spans and not a clock read around each callback: measured on the
 * development machine (x86-64, clocksource tsc), clock_gettime
 * (CLOCK_MONOTONIC, vDSO) costs 16 ns, CLOCK_MONOTONIC_COARSE 4 ns, while
 * a delivery costs 14.8 ns publish included (metrics.pub1) and 2.2 ns in
 * a fan-out of 64 (metrics.fanout64). Two reads per callback would triple
 * the first and multiply the second by 15, and even a read per run of one
 * plugin in a fan-out would cost the fan-out 20%; the budget is 5%. A
 * span ends only where the plugin charged changes, or when our libuv
 * callback (a dispatch batch of up to `batch` events, a timer round, an
 * inbox drain) returns, so a burst to one plugin costs two reads per
 * batch. The price: callbacks of one span share its mean duration in the
 * histogram, and the watchdog sees a plugin holding the loop for a whole
 * span, not each of its callbacks. Outside bursts a span is one callback,
 * and a lone slow callback among fast ones still shows: the span's mean
 * moves, and the watchdog fires when the span is over the threshold.
 * The COARSE clock's 4 ms tick is too coarse for a histogram in µs.
 * The worst case is subscribers of different plugins interleaved on a hot
 * topic: every delivery starts a span and costs one clock read
 * (metrics.mixed4: 31 ns on vs 6.4 ns off per delivery). rdtsc (8 ns
 * here) would only halve that; sampling would make the counts inexact.
 * Such a host can set no_metrics.
 *
 * A span counts its events and timers as the growth of ctx->calls, which
 * the dispatcher adds up anyway, so staying in a span costs one compare
 * and no store; posts, not in calls, are counted in the span.
 *
 * Callbacks run from inside a span's callback (on_init or on_stop reached
 * from a callback of the embedder's ctx, say) are timed on their own and
 * their time is taken out of the enclosing span.
 * Thread: loop thread only.
 */
#include <stdio.h>

#include "uvp-internal.h"

enum { SLOW_LOG_INTERVAL_NS = 1000000000 }; /* one line per plugin per s */

static const char *kind_name(int kind) {
  static const char *const names[] = {
      "event", "timer", "fd", "post", "work", "on_init", "on_start", "on_stop"};
  return (kind >= 0 && kind < (int)ARRAY_SIZE(names)) ? names[kind] : "?";
}

/* Bucket 0: < 1 µs; i in 1..14: [2^(i-1), 2^i) µs; 15: >= 16.384 ms. */
unsigned uvp__cb_bucket(uint64_t ns) {
  uint64_t us = ns / 1000;
  if (us == 0) return 0;
  unsigned b = 64u - (unsigned)__builtin_clzll(us); /* floor(log2 us) + 1 */
  return b < UVP_CB_HIST_BUCKETS - 1 ? b : UVP_CB_HIST_BUCKETS - 1;
}

/* The watchdog: counts every slow span, logs at most one line per plugin
 * per SLOW_LOG_INTERVAL_NS so that a plugin slow on every event cannot
 * flood the log; the next line says how many were not logged. */
static void slow(uvp_host *h, uvp_ctx *ctx, int kind, uint64_t ns,
                 uint32_t calls, uint64_t now) {
  ctx->slow_callbacks++;
  h->slow_callbacks++;
  if (ctx->slow_logged_ns != 0 &&
      now - ctx->slow_logged_ns < SLOW_LOG_INTERVAL_NS) {
    ctx->slow_unlogged++;
    return;
  }
  uint64_t unlogged = ctx->slow_unlogged;
  ctx->slow_logged_ns = now;
  ctx->slow_unlogged = 0;
  char span[48] = "", more[64] = "";
  if (calls > 1)
    snprintf(span, sizeof span, " in a run of %u callbacks", (unsigned)calls);
  if (unlogged != 0)
    snprintf(more, sizeof more, " (%llu more since the last line)",
             (unsigned long long)unlogged);
  uvp__log(h, ctx->name, UVP_LOG_WARN, "slow callback: %s %s %llu ms%s%s",
           ctx->name, kind_name(kind), (unsigned long long)(ns / 1000000), span,
           more);
}

static void record(uvp_host *h, uvp_ctx *ctx, int kind, uint64_t ns,
                   uint32_t calls, uint64_t now) {
  ctx->cb_ns_total += ns;
  if (calls != 0) ctx->cb_hist[uvp__cb_bucket(ns / calls)] += calls;
  if (h->slow_ns != 0 && ns > h->slow_ns) slow(h, ctx, kind, ns, calls, now);
}

static void end_at(uvp_host *h, uint64_t now) {
  uvp__span sp = h->span;
  h->span.key = 0; /* first: the watchdog's log hook may run code */
  uvp_ctx *ctx = uvp__span_ctx(&sp);
  uint64_t calls = sp.posts + (ctx->calls - sp.calls0);
  record(h, ctx, (int)(sp.key & UVP__SPAN_KIND_MASK), now - sp.start,
         calls > UINT32_MAX ? UINT32_MAX : (uint32_t)calls, now);
}

void uvp__span_close(uvp_host *h) { end_at(h, uv_hrtime()); }

STATIC_ASSERT(_Alignof(uvp_ctx) > UVP__SPAN_KIND_MASK);
STATIC_ASSERT(UVP__CB_STOP <= UVP__SPAN_KIND_MASK);

void uvp__span_switch(uvp_host *h, uvp_ctx *ctx, int kind) {
  uint64_t now = uv_hrtime();
  if (h->span.key != 0) end_at(h, now);
  h->span = (uvp__span){.key = (uintptr_t)ctx | (uintptr_t)kind,
                        .start = now,
                        .calls0 = ctx->calls};
}

/* Lone callbacks (fd, work done, on_init, on_start, on_stop): two reads. */
uint64_t uvp__time_begin(const uvp_host *h) {
  return h->metrics ? uv_hrtime() : 0;
}

void uvp__time_end(uvp_host *h, uvp_ctx *ctx, int kind, uint64_t t0) {
  if (!h->metrics) return;
  uint64_t now = uv_hrtime(), ns = now - t0;
  if (h->span.key != 0) h->span.start += ns; /* not the enclosing one's */
  record(h, ctx, kind, ns, 1, now);
}
