/* uvplug-bench: runs every case against the floor and its peers in one
 * process and reports a table, JSON lines and a chart.
 *
 *   uvplug-bench [--quick] [--case NAME] [--json] [--runs N] [--out FILE]
 *                [--scaling] [--list] [--no-chart] [--strict]
 *
 * Each case runs once to warm up, then --runs times (5); the median run is
 * reported with the min and max. Memory cases run each run in a forked
 * child so peaks do not mix. See docs/benchmarks.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef UVP_BENCH_HAVE_GLIB
#include <glib.h>
#endif

#include "bench.h"

#ifndef UVP_BENCH_RESULTS
#define UVP_BENCH_RESULTS "results.jsonl"
#endif
#ifndef UVP_BENCH_BUILD_TYPE
#define UVP_BENCH_BUILD_TYPE "unknown"
#endif

const char *const bench_extra_names[BX_COUNT] = {
    [BX_BYTES_PER_ITEM] = "bytes_per_item",
    [BX_PEAK_RSS_MB] = "peak_rss_mb",
    [BX_RSS_GROWTH_MB] = "rss_growth_mb",
    [BX_P50_NS] = "p50_ns",
    [BX_P99_NS] = "p99_ns",
    [BX_MARGINAL_NS] = "marginal_ns",
    [BX_PER_PUBLISH_NS] = "ns_per_publish",
    [BX_TOTAL_S] = "total_s",
    [BX_PEER_NS] = "peer_ns",
};

int bench_quick;

static struct {
  int json, runs, list, scaling, no_chart, strict;
  const char *only; /* --case */
  const char *out;
} opt = {.runs = 5, .out = UVP_BENCH_RESULTS};

#define MAX_CASES 128
static const bench_case *cases[MAX_CASES];
static bench_result results[MAX_CASES];
static int ncases, nresults;

/* ---- helpers ---------------------------------------------------------- */

uint64_t bench_now_ns(void) { return uv_hrtime(); }

int bench_fail(const bench_case *c, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "uvplug-bench: %s: ", c ? c->name : "setup");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return -1;
}

double bench_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, res = 0;
  if (f != NULL) {
    if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0;
    fclose(f);
  }
  return (double)res * (double)sysconf(_SC_PAGESIZE);
}

double bench_peak_rss_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kb = strtod(line + 6, NULL);
      break;
    }
  }
  if (f != NULL) fclose(f);
  if (kb == 0) { /* no /proc: getrusage reports kB on Linux */
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) kb = (double)ru.ru_maxrss;
  }
  return kb * 1024.0;
}

void bench_sample_init(bench_sample *s) {
  s->ns = NAN;
  for (int i = 0; i < BX_COUNT; i++) s->x[i] = NAN;
}

const bench_result *bench_find(const char *name) {
  for (int i = 0; i < nresults; i++)
    if (strcmp(results[i].c->name, name) == 0)
      return results[i].status == BENCH_OK ? &results[i] : NULL;
  return NULL;
}

static const char *path_if_exists(const char *env, const char *built) {
  const char *p = getenv(env);
  if (p != NULL && *p != '\0') return access(p, R_OK) == 0 ? p : NULL;
  return built != NULL && access(built, R_OK) == 0 ? built : NULL;
}

const char *bench_rust_plugin_path(void) {
#ifdef UVP_BENCH_RUST_PLUGIN
  return path_if_exists("UVP_BENCH_RUST_PLUGIN", UVP_BENCH_RUST_PLUGIN);
#else
  return path_if_exists("UVP_BENCH_RUST_PLUGIN", NULL);
#endif
}

const char *bench_c_plugin_path(void) {
#ifdef UVP_BENCH_C_PLUGIN
  return path_if_exists("UVP_BENCH_C_PLUGIN", UVP_BENCH_C_PLUGIN);
#else
  return path_if_exists("UVP_BENCH_C_PLUGIN", NULL);
#endif
}

const char *bench_svc_c_plugin_path(void) {
#ifdef UVP_BENCH_SVC_C_PLUGIN
  return path_if_exists("UVP_BENCH_SVC_C_PLUGIN", UVP_BENCH_SVC_C_PLUGIN);
#else
  return path_if_exists("UVP_BENCH_SVC_C_PLUGIN", NULL);
#endif
}

const char *bench_svc_rust_plugin_path(void) {
#ifdef UVP_BENCH_SVC_RUST_PLUGIN
  return path_if_exists("UVP_BENCH_SVC_RUST_PLUGIN", UVP_BENCH_SVC_RUST_PLUGIN);
#else
  return path_if_exists("UVP_BENCH_SVC_RUST_PLUGIN", NULL);
#endif
}

static void quiet_log(void *data, int level, const char *plugin,
                      const char *msg, size_t len) {
  (void)data;
  if (level <= UVP_LOG_WARN)
    fprintf(stderr, "uvplug-bench: [%s] %.*s\n", plugin, (int)len, msg);
}

int bench_host_open(const bench_case *c, bench_host *b,
                    const uvp_host_options *opts) {
  uvp_host_options o = UVP_HOST_OPTIONS_INIT;
  if (opts != NULL) o = *opts;
  if (o.log == NULL) o.log = quiet_log;
  int rc = uv_loop_init(&b->loop);
  if (rc < 0) return bench_fail(c, "uv_loop_init: %s", uv_strerror(rc));
  if ((rc = uvp_host_new(&b->loop, &o, &b->host)) < 0 ||
      (rc = uvp_host_ctx(b->host, &b->ctx, &b->api)) < 0)
    return bench_fail(c, "host: %s", uvp_strerror(rc));
  return 0;
}

typedef struct until {
  uv_prepare_t prepare;
  const uint64_t *counter;
  uint64_t want;
} until;

/* Before each poll: stop the loop once the count is there. uv_stop also
 * makes that poll non-blocking, so callbacks that ran earlier in the same
 * turn (timers) do not leave the loop waiting on the host's async. */
static void until_check(uv_prepare_t *p) {
  until *u = p->data;
  if (*u->counter >= u->want) uv_stop(p->loop);
}

static void until_closed(uv_handle_t *h) { free(h->data); }

int bench_run_until(const bench_case *c, uv_loop_t *loop,
                    const uint64_t *counter, uint64_t want) {
  if (*counter >= want) return 0;
  until *u = malloc(sizeof *u);
  u->counter = counter;
  u->want = want;
  u->prepare.data = u;
  uv_prepare_init(loop, &u->prepare);
  uv_prepare_start(&u->prepare, until_check);
  while (*counter < want)
    if (uv_run(loop, UV_RUN_DEFAULT) == 0 && *counter < want) break;
  uv_close((uv_handle_t *)&u->prepare, until_closed);
  if (*counter >= want) return 0;
  return bench_fail(c, "loop idle after %llu of %llu events",
                    (unsigned long long)*counter, (unsigned long long)want);
}

int bench_host_close(const bench_case *c, bench_host *b) {
  int rc = uvp_host_close(b->host, NULL, NULL);
  if (rc < 0) return bench_fail(c, "uvp_host_close: %s", uvp_strerror(rc));
  uv_run(&b->loop, UV_RUN_DEFAULT);
  if ((rc = uv_loop_close(&b->loop)) < 0)
    return bench_fail(c, "uv_loop_close: %s (handles left open)",
                      uv_strerror(rc));
  return 0;
}

/* ---- running ---------------------------------------------------------- */

/* One run, in a fresh child process for BENCH_FORK cases: fork, then exec
 * this binary again with --child NAME N, so the child's heap starts empty
 * (a plain fork would inherit the parent's resident free lists and hide
 * the case's real growth). The child writes its sample to the pipe on
 * stdout; anything it has to say goes to stderr. */
static int run_once(const bench_case *c, uint64_t n, bench_sample *s) {
  bench_sample_init(s);
  if (!(c->flags & BENCH_FORK)) return c->run(c, n, s);
  int fds[2];
  fflush(NULL);
  if (pipe(fds) != 0) return bench_fail(c, "pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return bench_fail(c, "fork: %s", strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    if (dup2(fds[1], STDOUT_FILENO) < 0) _exit(1);
    close(fds[1]);
    char count[32];
    snprintf(count, sizeof count, "%llu", (unsigned long long)n);
    execl("/proc/self/exe", "uvplug-bench", "--child", c->name, count,
          (char *)NULL);
    fprintf(stderr, "uvplug-bench: exec /proc/self/exe: %s\n", strerror(errno));
    _exit(1);
  }
  close(fds[1]);
  ssize_t got = 0, r;
  while (got < (ssize_t)sizeof *s &&
         (r = read(fds[0], (char *)s + got, sizeof *s - (size_t)got)) > 0)
    got += r;
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      got != (ssize_t)sizeof *s)
    return -1; /* the child printed why */
  return 0;
}

/* The child side of run_once: one run of case `name`, sample to stdout. */
static int child_main(const char *name, const char *count) {
  const bench_case *c = NULL;
  for (int i = 0; i < ncases && c == NULL; i++)
    if (strcmp(cases[i]->name, name) == 0) c = cases[i];
  if (c == NULL) return bench_fail(NULL, "--child: no case %s", name), 1;
  bench_sample s;
  bench_sample_init(&s);
  if (c->run(c, strtoull(count, NULL, 10), &s) < 0) return 1;
  return write(STDOUT_FILENO, &s, sizeof s) == (ssize_t)sizeof s ? 0 : 1;
}

static int cmp_sample(const void *a, const void *b) {
  double x = ((const bench_sample *)a)->ns, y = ((const bench_sample *)b)->ns;
  return (x > y) - (x < y);
}

#ifdef UVP_BENCH_HAVE_GLIB
#define HAVE_GLIB 1
#else
#define HAVE_GLIB 0
#endif

static int run_case(const bench_case *c, bench_result *r) {
  memset(r, 0, sizeof *r);
  r->c = c;
  r->met = -1;
  r->ratio_floor = r->ratio_peer = NAN;
  bench_sample_init(&r->med);
  r->min = r->max = NAN;
  if ((c->flags & BENCH_GLIB) && !HAVE_GLIB) {
    r->status = BENCH_SKIPPED;
    snprintf(r->reason, sizeof r->reason, "GLib not found at build time");
    return 0;
  }
  if ((c->flags & BENCH_RUST) && bench_rust_plugin_path() == NULL) {
    r->status = BENCH_SKIPPED;
    snprintf(r->reason, sizeof r->reason,
             "libbench_plugin.so not built (cargo missing?)");
    return 0;
  }
  uint64_t n = bench_quick ? c->n_quick : c->n;
  int runs = bench_quick ? 1 : opt.runs;
  if (c->max_runs > 0 && runs > c->max_runs) runs = c->max_runs;
  if (!opt.json) {
    fprintf(stderr, "  %-24s", c->name);
    fflush(stderr);
  }
  bench_sample s[64];
  uint64_t t0 = bench_now_ns();
  if (!bench_quick && !(c->flags & BENCH_NO_WARMUP) &&
      run_once(c, n, &s[0]) < 0)
    return -1;
  for (int i = 0; i < runs; i++)
    if (run_once(c, n, &s[i]) < 0) return -1;
  qsort(s, (size_t)runs, sizeof s[0], cmp_sample);
  r->status = BENCH_OK;
  r->runs = runs;
  r->med = s[runs / 2];
  r->min = s[0].ns;
  r->max = s[runs - 1].ns;
  if (!opt.json)
    fprintf(stderr, "%12.2f ns  (%d runs, %.1f s)\n", r->med.ns, runs,
            (double)(bench_now_ns() - t0) / 1e9);
  return 0;
}

/* ---- reporting -------------------------------------------------------- */

static void evaluate(void) {
  const bench_result *floor = bench_find("floor.c");
  for (int i = 0; i < nresults; i++) {
    bench_result *r = &results[i];
    if (r->status != BENCH_OK) continue;
    if (floor != NULL && floor->med.ns > 0)
      r->ratio_floor = r->med.ns / floor->med.ns;
    if (r->c->flags & BENCH_SELF_PEER) {
      r->ratio_peer = r->med.ns / r->med.x[BX_PEER_NS];
    } else if (r->c->peer != NULL) {
      const bench_result *p = bench_find(r->c->peer);
      if (p != NULL) r->ratio_peer = r->med.ns / p->med.ns;
    }
    if (r->c->check != NULL) {
      r->met = r->c->check(r, r->note, sizeof r->note);
    } else if (!isnan(r->med.x[BX_BYTES_PER_ITEM])) {
      snprintf(r->note, sizeof r->note, "%.1f B/item",
               r->med.x[BX_BYTES_PER_ITEM]);
    } else if (!isnan(r->med.x[BX_P99_NS])) {
      snprintf(r->note, sizeof r->note, "p99 %.1f us",
               r->med.x[BX_P99_NS] / 1e3);
    }
  }
}

static void fmt_num(char *buf, size_t len, double v) {
  if (isnan(v))
    snprintf(buf, len, "-");
  else if (v < 10)
    snprintf(buf, len, "%.2f", v);
  else if (v < 1000)
    snprintf(buf, len, "%.1f", v);
  else
    snprintf(buf, len, "%.0f", v);
}

static void fmt_rate(char *buf, size_t len, double ns) {
  double r = 1e9 / ns;
  if (isnan(ns) || ns <= 0)
    snprintf(buf, len, "-");
  else if (r >= 1e6)
    snprintf(buf, len, "%.1fM", r / 1e6);
  else if (r >= 1e3)
    snprintf(buf, len, "%.1fk", r / 1e3);
  else
    snprintf(buf, len, "%.0f", r);
}

static void fmt_ratio(char *buf, size_t len, double v) {
  if (isnan(v))
    snprintf(buf, len, "-");
  else if (v < 10)
    snprintf(buf, len, "%.2fx", v);
  else
    snprintf(buf, len, "%.0fx", v);
}

static const char *met_word(const bench_result *r) {
  if (r->status != BENCH_OK) return "skipped";
  return r->met == 1 ? "yes" : r->met == 0 ? "NO" : "-";
}

static void print_header(FILE *f) {
  char date[64];
  time_t t = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M %Z", localtime(&t));
  struct utsname u;
  uname(&u);
  fprintf(f, "uvplug-bench %s, %s, %s %s, nproc %ld, libuv %s",
          uvp_version_string(), date, u.sysname, u.machine,
          sysconf(_SC_NPROCESSORS_ONLN), uv_version_string());
#ifdef UVP_BENCH_HAVE_GLIB
  fprintf(f, ", GLib %u.%u.%u", glib_major_version, glib_minor_version,
          glib_micro_version);
#else
  fprintf(f, ", no GLib");
#endif
  double load[1] = {-1};
  if (getloadavg(load, 1) == 1) fprintf(f, ", load %.2f", load[0]);
  fprintf(f, ", %s build, %s\n", UVP_BENCH_BUILD_TYPE,
          bench_quick ? "--quick (1 run, small sizes)" : "median of runs");
}

static void print_table(void) {
  printf("\n");
  print_header(stdout);
  printf("\n%-24s %10s %10s %8s %8s  %-18s %-32s %s\n", "case", "ns/event",
         "events/s", "x floor", "x peer", "peer", "target", "met?");
  for (int i = 0; i < nresults; i++) {
    const bench_result *r = &results[i];
    char ns[32], rate[32], rf[32], rp[32];
    const char *peer = r->c->flags & BENCH_SELF_PEER ? "(same run)"
                       : r->c->peer                  ? r->c->peer
                                                     : "";
    if (r->status != BENCH_OK) {
      printf("%-24s %10s %10s %8s %8s  %-18s %-32s skipped: %s\n", r->c->name,
             "-", "-", "-", "-", peer, r->c->target, r->reason);
      continue;
    }
    fmt_num(ns, sizeof ns, r->med.ns);
    fmt_rate(rate, sizeof rate, r->med.ns);
    fmt_ratio(rf, sizeof rf, r->ratio_floor);
    fmt_ratio(rp, sizeof rp, r->ratio_peer);
    printf("%-24s %10s %10s %8s %8s  %-18s %-32s %s", r->c->name, ns, rate, rf,
           rp, peer, r->c->target, met_word(r));
    if (r->note[0]) printf("  (%s)", r->note);
    printf("\n");
  }
  int met = 0, missed = 0;
  for (int i = 0; i < nresults; i++) {
    met += results[i].status == BENCH_OK && results[i].met == 1;
    missed += results[i].status == BENCH_OK && results[i].met == 0;
  }
  printf(
      "\nx floor = ns/event / floor.c; x peer = ns/event / the peer's "
      "(below 1: faster than the peer).\n");
  printf("targets met: %d, missed: %d%s\n", met, missed,
         bench_quick ? " (--quick sizes: figures are indicative only)" : "");
}

static void json_num(FILE *f, const char *key, double v) {
  if (isnan(v) || isinf(v))
    fprintf(f, ",\"%s\":null", key);
  else
    fprintf(f, ",\"%s\":%.6g", key, v);
}

static void json_str(FILE *f, const char *key, const char *s) {
  fprintf(f, ",\"%s\":\"", key);
  for (; s != NULL && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void json_line(FILE *f, const bench_result *r, const char *date) {
  fprintf(f, "{\"case\":\"%s\"", r->c->name);
  if (r->status != BENCH_OK) {
    json_str(f, "status", "skipped");
    json_str(f, "reason", r->reason);
    fprintf(f,
            ",\"ns_per_event\":null,\"events_per_s\":null,"
            "\"ratio_to_floor\":null,\"ratio_to_peer\":null,\"runs\":0,"
            "\"min\":null,\"max\":null");
  } else {
    json_str(f, "status", "ok");
    json_num(f, "ns_per_event", r->med.ns);
    json_num(f, "events_per_s", 1e9 / r->med.ns);
    json_num(f, "ratio_to_floor", r->ratio_floor);
    json_num(f, "ratio_to_peer", r->ratio_peer);
    fprintf(f, ",\"runs\":%d", r->runs);
    json_num(f, "min", r->min);
    json_num(f, "max", r->max);
    for (int i = 0; i < BX_COUNT; i++)
      if (!isnan(r->med.x[i])) json_num(f, bench_extra_names[i], r->med.x[i]);
  }
  json_str(f, "peer",
           r->c->flags & BENCH_SELF_PEER ? "(same run)"
           : r->c->peer                  ? r->c->peer
                                         : "");
  json_str(f, "target", r->c->target);
  json_str(f, "met",
           r->status != BENCH_OK ? "skipped"
           : r->met == 1         ? "yes"
           : r->met == 0         ? "no"
                                 : "n/a");
  if (r->note[0]) json_str(f, "note", r->note);
  fprintf(f, ",\"quick\":%s", bench_quick ? "true" : "false");
  json_str(f, "date", date);
  fprintf(f, ",\"nproc\":%ld}\n", sysconf(_SC_NPROCESSORS_ONLN));
}

static int write_json(void) {
  char date[32];
  time_t t = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", localtime(&t));
  if (opt.json)
    for (int i = 0; i < nresults; i++) json_line(stdout, &results[i], date);
  FILE *f = fopen(opt.out, "w");
  if (f == NULL) {
    fprintf(stderr, "uvplug-bench: cannot write %s: %s\n", opt.out,
            strerror(errno));
    return -1;
  }
  for (int i = 0; i < nresults; i++) json_line(f, &results[i], date);
  fclose(f);
  if (!opt.json) printf("results: %s\n", opt.out);
  return 0;
}

/* ---- scaling tables --------------------------------------------------- */

static double ns_of(const char *name) {
  const bench_result *r = bench_find(name);
  return r ? r->med.ns : NAN;
}

static double x_of(const char *name, int x) {
  const bench_result *r = bench_find(name);
  return r ? r->med.x[x] : NAN;
}

static void cell(double v) {
  char b[32];
  fmt_num(b, sizeof b, v);
  printf(" %12s", b);
}

static bool any_prefix(const char *prefix) {
  for (int i = 0; i < nresults; i++)
    if (results[i].status == BENCH_OK &&
        strncmp(results[i].c->name, prefix, strlen(prefix)) == 0)
      return true;
  return false;
}

static void print_scaling(void) {
  static const int subs[] = {1, 8, 64}, prods[] = {1, 2, 4},
                   pay[] = {8, 64, 1024};
  char name[64];
  if (!any_prefix("fanout")) goto producers;
  printf(
      "\nScaling with subscribers (ns; per publish = one event to all "
      "subscribers, per delivered = / subscribers)\n");
  printf("%6s %12s %12s %12s %12s %12s %12s\n", "subs", "uvp/publish",
         "uvp/deliv.", "uvp/extra", "array/deliv", "GHook/deliv",
         "gsignal/dlv");
  for (size_t i = 0; i < 3; i++) {
    printf("%6d", subs[i]);
    snprintf(name, sizeof name, "fanout%d.uvplug", subs[i]);
    cell(x_of(name, BX_PER_PUBLISH_NS));
    cell(ns_of(name));
    cell(x_of(name, BX_MARGINAL_NS));
    snprintf(name, sizeof name, "fanout%d.array", subs[i]);
    cell(ns_of(name));
    snprintf(name, sizeof name, "fanout%d.ghook", subs[i]);
    cell(ns_of(name));
    snprintf(name, sizeof name, "fanout%d.gsignal", subs[i]);
    cell(ns_of(name));
    printf("\n");
  }
producers:
  if (!any_prefix("xthread")) goto payload;
  printf(
      "\nScaling with producer threads (ns per event, all producers "
      "together; events counted on the loop)\n");
  printf("%6s %12s %12s %12s %12s %12s\n", "prod.", "uvplug", "mutex+async",
         "GLib invoke", "x mutex", "x GLib");
  for (size_t i = 0; i < 3; i++) {
    printf("%6d", prods[i]);
    snprintf(name, sizeof name, "xthread%d.uvplug", prods[i]);
    double u = ns_of(name);
    cell(u);
    snprintf(name, sizeof name, "xthread%d.mutexq", prods[i]);
    double m = ns_of(name);
    cell(m);
    snprintf(name, sizeof name, "xthread%d.glib", prods[i]);
    double g = ns_of(name);
    cell(g);
    cell(u / m);
    cell(u / g);
    printf("\n");
  }
payload:
  if (!any_prefix("payload")) return;
  printf(
      "\nScaling with payload size (ns per event; 1 subscriber; "
      "remote = remote_publish from 1 producer thread)\n");
  printf("%6s %12s %12s %12s %12s\n", "bytes", "publish", "remote",
         "mutex+async", "x mutex");
  for (size_t i = 0; i < 3; i++) {
    printf("%6d", pay[i]);
    snprintf(name, sizeof name, "payload%d.publish", pay[i]);
    cell(ns_of(name));
    snprintf(name, sizeof name, "payload%d.remote", pay[i]);
    double u = ns_of(name);
    cell(u);
    snprintf(name, sizeof name, "payload%d.mutexq", pay[i]);
    double m = ns_of(name);
    cell(m);
    cell(u / m);
    printf("\n");
  }
}

/* ---- chart ------------------------------------------------------------ */

static char *find_in_path(const char *prog) {
  const char *path = getenv("PATH");
  if (path == NULL) return NULL;
  char *copy = strdup(path), *save = NULL;
  for (char *d = strtok_r(copy, ":", &save); d;
       d = strtok_r(NULL, ":", &save)) {
    char *full = malloc(strlen(d) + strlen(prog) + 2);
    sprintf(full, "%s/%s", d, prog);
    if (access(full, X_OK) == 0) {
      free(copy);
      return full;
    }
    free(full);
  }
  free(copy);
  return NULL;
}

static void chart(void) {
#ifdef UVP_BENCH_CHART_GP
  const char *script = UVP_BENCH_CHART_GP;
#else
  const char *script = "chart.gp";
#endif
  char *gnuplot = find_in_path("gnuplot");
  if (gnuplot == NULL) {
    printf("chart: skipped, gnuplot not found (apt-get install gnuplot-nox)\n");
    return;
  }
  size_t len = strlen(opt.out);
  const char *dot = strrchr(opt.out, '.');
  const char *slash = strrchr(opt.out, '/');
  if (dot != NULL && (slash == NULL || dot > slash))
    len = (size_t)(dot - opt.out);
  char *dat = malloc(len + 8), *png = malloc(len + 8);
  snprintf(dat, len + 8, "%.*s.dat", (int)len, opt.out);
  snprintf(png, len + 8, "%.*s.png", (int)len, opt.out);
  FILE *f = fopen(dat, "w");
  if (f == NULL) {
    printf("chart: cannot write %s\n", dat);
    goto out;
  }
  fprintf(f, "# case\tratio_to_floor\tratio_to_peer\n");
  for (int i = 0; i < nresults; i++) {
    const bench_result *r = &results[i];
    if (r->status != BENCH_OK || isnan(r->ratio_peer)) continue;
    fprintf(f, "%s\t%.6g\t%.6g\n", r->c->name, r->ratio_floor, r->ratio_peer);
  }
  fclose(f);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    char expr[2048];
    snprintf(expr, sizeof expr, "datafile='%s'; outfile='%s'", dat, png);
    execl(gnuplot, "gnuplot", "-e", expr, script, (char *)NULL);
    _exit(127);
  }
  int status = 1;
  if (pid > 0) waitpid(pid, &status, 0);
  if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
    printf("chart: %s\n", png);
  else
    printf("chart: gnuplot failed on %s\n", script);
out:
  free(dat);
  free(png);
  free(gnuplot);
}

/* ---- main ------------------------------------------------------------- */

static void add_group(const bench_case *g) {
  for (; g->name != NULL && ncases < MAX_CASES; g++) cases[ncases++] = g;
}

static bool group_of(const char *name, char *out, size_t len) {
  const char *dot = strchr(name, '.');
  size_t n = dot ? (size_t)(dot - name) : strlen(name);
  if (n >= len) return false;
  memcpy(out, name, n);
  out[n] = '\0';
  return true;
}

/* Keeps the cases of one group together (payload8.publish comes from
 * dispatch.c, payload8.remote from xthread.c), in order of first mention. */
static void group_cases(void) {
  const bench_case *sorted[MAX_CASES];
  bool done[MAX_CASES] = {false};
  int k = 0;
  char g[64], h[64];
  for (int i = 0; i < ncases; i++) {
    if (done[i]) continue;
    group_of(cases[i]->name, g, sizeof g);
    for (int j = i; j < ncases; j++) {
      if (done[j] || !group_of(cases[j]->name, h, sizeof h) || strcmp(g, h))
        continue;
      sorted[k++] = cases[j];
      done[j] = true;
    }
  }
  memcpy(cases, sorted, sizeof cases[0] * (size_t)k);
}

/* --case NAME selects every case whose name contains NAME, the other cases
 * of their groups (the peers and what the targets compare with) and the
 * floor. --scaling selects the fan-out, producer and payload groups. */
static bool selected(const bench_case *c) {
  if (strcmp(c->name, "floor.c") == 0) return true;
  if (opt.scaling) {
    static const char *const pre[] = {"fanout", "xthread1.", "xthread2.",
                                      "xthread4.", "payload"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
      if (strncmp(c->name, pre[i], strlen(pre[i])) == 0) return true;
    return false;
  }
  if (opt.only == NULL) return true;
  char g[64], h[64];
  if (!group_of(c->name, g, sizeof g)) return false;
  for (int i = 0; i < ncases; i++) {
    if (strstr(cases[i]->name, opt.only) == NULL) continue;
    if (group_of(cases[i]->name, h, sizeof h) && strcmp(g, h) == 0) return true;
  }
  return false;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: uvplug-bench [options]\n"
          "  --quick       every case once, small sizes (smoke test)\n"
          "  --case NAME   only cases whose name contains NAME (with their\n"
          "                group's peers and the floor)\n"
          "  --json        JSON lines on stdout instead of the table\n"
          "  --runs N      measured runs per case after the warm-up (5)\n"
          "  --out FILE    JSON lines file (default %s)\n"
          "  --scaling     only the subscriber/producer/payload tables\n"
          "  --no-chart    do not call gnuplot\n"
          "  --strict      exit 2 when a target is missed\n"
          "  --list        list the cases and exit\n",
          UVP_BENCH_RESULTS);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[1], "--child") != 0; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quick") == 0) {
      bench_quick = 1;
    } else if (strcmp(a, "--json") == 0) {
      opt.json = 1;
    } else if (strcmp(a, "--list") == 0) {
      opt.list = 1;
    } else if (strcmp(a, "--scaling") == 0) {
      opt.scaling = 1;
    } else if (strcmp(a, "--no-chart") == 0) {
      opt.no_chart = 1;
    } else if (strcmp(a, "--strict") == 0) {
      opt.strict = 1;
    } else if (strcmp(a, "--case") == 0 && i + 1 < argc) {
      opt.only = argv[++i];
    } else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
      opt.out = argv[++i];
    } else if (strcmp(a, "--runs") == 0 && i + 1 < argc) {
      opt.runs = atoi(argv[++i]);
      if (opt.runs < 1 || opt.runs > 63) {
        fprintf(stderr, "uvplug-bench: --runs takes 1..63\n");
        return 64;
      }
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 64;
    }
  }
  add_group(bench_floor_cases);
  add_group(bench_dispatch_cases);
  add_group(bench_xthread_cases);
  add_group(bench_timer_cases);
  add_group(bench_glib_cases);
  add_group(bench_work_cases);
  add_group(bench_load_cases);
  add_group(bench_service_cases);
  add_group(bench_bus_cases);
  add_group(bench_workers_cases);
  group_cases();
  if (argc == 4 && strcmp(argv[1], "--child") == 0)
    return child_main(argv[2], argv[3]);

  if (opt.list) {
    for (int i = 0; i < ncases; i++)
      printf("%-24s %s\n", cases[i]->name, cases[i]->what);
    return 0;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!opt.json) {
    print_header(stderr);
    fprintf(stderr, "running (median ns/event as each case ends):\n");
  }
  uint64_t t0 = bench_now_ns();
  for (int i = 0; i < ncases; i++) {
    if (!selected(cases[i])) continue;
    if (run_case(cases[i], &results[nresults]) < 0) {
      fprintf(stderr, "uvplug-bench: %s failed; no figures reported\n",
              cases[i]->name);
      return 1;
    }
    nresults++;
  }
  if (nresults == 0) {
    fprintf(stderr, "uvplug-bench: no case matches \"%s\"\n",
            opt.only ? opt.only : "");
    return 64;
  }
  evaluate();
  if (!opt.json) {
    if (!opt.scaling) print_table();
    print_scaling();
    printf("\ntotal time: %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
  }
  if (write_json() < 0) return 1;
  if (!opt.json && !opt.no_chart && !bench_quick && !opt.scaling) chart();
  int missed = 0;
  for (int i = 0; i < nresults; i++)
    missed += results[i].status == BENCH_OK && results[i].met == 0;
  return opt.strict && missed ? 2 : 0;
}
