/* uvplug-bench: shared declarations of the runner (main.c) and the case
 * groups (one file each).
 *
 *   main.c ──► for each selected case: warm-up, N runs (forked child per run
 *              for memory cases) ──► median/min/max ──► ratios, targets
 *              ──► table | JSON lines, results.jsonl, chart (gnuplot)
 *
 * A case's run function does one complete run of n events: it sets up, times
 * the hot part, checks that every event was delivered, tears down, and fills
 * a bench_sample. A count mismatch is fatal: the run returns -1 after
 * bench_fail() printed why, and the tool exits 1 before reporting a figure.
 */
#ifndef UVP_BENCH_H
#define UVP_BENCH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "uvplug/uvplug.h"

/* Extra per-run figures; NAN when a case does not measure them. */
enum bench_extra {
  BX_BYTES_PER_ITEM, /* RSS growth / items (timers, subscriptions) */
  BX_PEAK_RSS_MB,    /* VmHWM of the (forked) process */
  BX_RSS_GROWTH_MB,  /* peak RSS minus RSS before the run */
  BX_P50_NS,         /* latency percentiles of round trips */
  BX_P99_NS,
  BX_MARGINAL_NS,    /* cost of one more subscriber (fan-out) */
  BX_PER_PUBLISH_NS, /* cost of one publish/emit with all its subscribers */
  BX_TOTAL_S,        /* wall time of the whole run */
  BX_PEER_NS,        /* the peer measured inside the same run (metrics off) */
  BX_COUNT
};

extern const char *const bench_extra_names[BX_COUNT];

typedef struct bench_sample {
  double ns; /* ns per event: the case's figure */
  double x[BX_COUNT];
} bench_sample;

enum bench_flags {
  BENCH_FORK = 1u << 0,      /* each run in a forked child (memory cases) */
  BENCH_GLIB = 1u << 1,      /* needs GLib: "skipped" without it */
  BENCH_RUST = 1u << 2,      /* needs libbench_plugin.so */
  BENCH_NO_WARMUP = 1u << 3, /* a warm-up would only repeat a fresh child */
  BENCH_SELF_PEER = 1u << 4, /* ratio_to_peer = ns / x[BX_PEER_NS] */
};

typedef struct bench_case bench_case;
typedef struct bench_result bench_result;

/* One run of n events; 0, or -1 after bench_fail(). */
typedef int (*bench_run_fn)(const bench_case *c, uint64_t n, bench_sample *out);

/* Target check: 1 met, 0 missed, -1 no target; may write a note. */
typedef int (*bench_check_fn)(const bench_result *r, char *note, size_t len);

struct bench_case {
  const char *name;   /* "group.variant"; --case matches a substring */
  const char *what;   /* one line for --list and the docs */
  const char *peer;   /* case whose ns/event ratio_to_peer divides by */
  const char *target; /* human-readable target, "" for report-only */
  bench_check_fn check;
  bench_run_fn run;
  uint64_t n, n_quick; /* events per run, full and --quick */
  uint64_t arg;        /* case parameter: subscribers, producers, bytes */
  unsigned flags;      /* enum bench_flags */
  int max_runs;        /* 0: as many as --runs */
};

enum bench_status { BENCH_OK, BENCH_SKIPPED };

struct bench_result {
  const bench_case *c;
  int status;
  char reason[96]; /* why skipped */
  int runs;
  bench_sample med;
  double min, max; /* ns/event over the runs */
  double ratio_floor, ratio_peer;
  int met; /* 1, 0, -1 (no target or not comparable) */
  char note[160];
};

/* Case groups, each terminated by an entry with name == NULL. */
extern const bench_case bench_floor_cases[];
extern const bench_case bench_dispatch_cases[];
extern const bench_case bench_glib_cases[];
extern const bench_case bench_xthread_cases[];
extern const bench_case bench_timer_cases[];
extern const bench_case bench_work_cases[];
extern const bench_case bench_load_cases[];
extern const bench_case bench_service_cases[];
extern const bench_case bench_bus_cases[];
extern const bench_case bench_workers_cases[];

/* ---- helpers (main.c) ------------------------------------------------ */

extern int bench_quick; /* --quick: small sizes */

/* Monotonic clock in ns. */
uint64_t bench_now_ns(void);

/* Prints "uvplug-bench: CASE: message" on stderr; returns -1. */
int bench_fail(const bench_case *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resident set size now, and its high-water mark, in bytes. */
double bench_rss_bytes(void);
double bench_peak_rss_bytes(void);

/* Result of another case (for target checks), or NULL if it did not run. */
const bench_result *bench_find(const char *name);

/* A fresh sample with every extra NAN. */
void bench_sample_init(bench_sample *s);

/* Path of libbench_plugin.so and of the C bench plugin; NULL if absent. */
const char *bench_rust_plugin_path(void);
const char *bench_c_plugin_path(void);
/* Path of bench_svc_c_plugin.so, the C provider of bench.add; or NULL. */
const char *bench_svc_c_plugin_path(void);
/* Path of libbench_service.so, the Rust provider of bench.add; or NULL. */
const char *bench_svc_rust_plugin_path(void);

/* Host on a fresh loop, with options (NULL: defaults). Teardown closes the
 * host, runs the loop until every handle closed and closes the loop. */
typedef struct bench_host {
  uv_loop_t loop;
  uvp_host *host;
  uvp_ctx *ctx;
  const uvp_api *api;
} bench_host;

int bench_host_open(const bench_case *c, bench_host *b,
                    const uvp_host_options *opts);
int bench_host_close(const bench_case *c, bench_host *b);

/* Runs loop until *counter reaches want (a prepare handle stops it): the
 * host keeps the loop alive while it is open, so uv_run(UV_RUN_DEFAULT)
 * alone would not return. 0, or -1 after bench_fail() if the loop ran out
 * of work first. */
int bench_run_until(const bench_case *c, uv_loop_t *loop,
                    const uint64_t *counter, uint64_t want);

/* Hides a pointer from the optimiser. */
static inline void *bench_opaque(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}

#endif /* UVP_BENCH_H */
